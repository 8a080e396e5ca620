/* tensorio: fuzzes the input files of `qnnvm run --input`: the bytes are
 * read as a .qw container, as a .npy array and as a raw .bin of each dtype,
 * each with the element count the file itself suggests (a program's input
 * schedule would fix it), so that the data paths run, not only the
 * refusals. */
#include <stdlib.h>

#include "runtime/io/tensorio.h"
#include "fuzz.h"

/* The element count a .npy file's data would hold: bytes after the header. */
static uint64_t npy_elems(const uint8_t *d, size_t len, int dtype)
{
    size_t start = len > 6 && d[6] == 1 ? 10 : 12;
    if (len < start)
        return 0;
    size_t hl = start == 10 ? (size_t)d[8] | (size_t)d[9] << 8
                            : (size_t)d[8] | (size_t)d[9] << 8 | (size_t)d[10] << 16;
    return hl > len - start ? 0 : (len - start - hl) / (size_t)dtype_size(dtype);
}

int fuzz_one(const uint8_t *data, size_t len)
{
    char err[512];
    tio_tensor *t;
    int n;
    if (tio_parse_qw("fuzz.qw", data, len, &t, &n, err, sizeof err) == 0)
        tio_free(t, n);
    else
        fuzz_note("qw", err);
    for (int dt = 0; dt < DT__COUNT; dt++)
        for (int npy = 0; npy < 2; npy++) {
            uint64_t ne = npy ? npy_elems(data, len, dt) : len / (size_t)dtype_size(dt);
            int64_t *v = malloc((ne ? ne : 1) * sizeof *v);
            if (!v)
                abort();
            if (tio_parse_values(npy ? "fuzz.npy" : "fuzz.bin", data, len, npy, dt, ne, v, err,
                                 sizeof err) != 0)
                fuzz_note(npy ? "npy" : "raw", err);
            free(v);
        }
    return 0;
}
