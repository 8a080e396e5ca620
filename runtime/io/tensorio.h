/* tensorio: reading and writing tensors in files.
 *   .qw   the project's container of named tensors: "QNNW" u32 version u32 count,
 *         then per tensor: u8 name length, name, u8 dtype, u8 ndim, u32 dims[ndim],
 *         raw little-endian data (1 byte for u8/i8, 4 for i32)
 *   .npy  numpy arrays of uint8 / int8 / int32, C order
 *   .bin  raw little-endian data, size checked against what is expected
 * Every length and value is validated; errors are one line naming the file. */
#ifndef TENSORIO_H
#define TENSORIO_H

#include <stddef.h>
#include <stdint.h>

#include "runtime/core/dtype.h"

typedef struct {
    char *name;
    uint8_t dtype;
    tshape shape;
    int64_t *data;
} tio_tensor;

#define TIO_MAX_ELEMS ((uint64_t)1 << 28)

/* The memory cap: what one file may make the loaders (tensor files, images,
 * bytecode registers and their inputs and outputs) allocate, so that a file
 * claiming a huge tensor is refused with a message rather than ending in the
 * OOM killer. QNN_MAX_MEMORY=N[K|M|G] in the environment, default 4G. */
#define TIO_DEFAULT_MEM_CAP ((uint64_t)4 << 30)
uint64_t tio_mem_cap(void);

int tio_write_qw(const char *path, const tio_tensor *t, int n, char *err, size_t errlen);
/* Reads every tensor of a .qw file; free with tio_free. */
int tio_read_qw(const char *path, tio_tensor **out, int *n, char *err, size_t errlen);
/* The same for the file's bytes in memory (path only names it in messages). */
int tio_parse_qw(const char *path, const uint8_t *buf, size_t len, tio_tensor **out, int *n,
                 char *err, size_t errlen);
void tio_free(tio_tensor *t, int n);
/* Reads exactly n values of dtype from a .bin or .npy file (by extension). */
int tio_read_values(const char *path, int dtype, uint64_t n, int64_t *out, char *err,
                    size_t errlen);
/* The same for the file's bytes in memory; npy chooses the format. */
int tio_parse_values(const char *path, const uint8_t *buf, size_t len, int npy, int dtype,
                     uint64_t n, int64_t *out, char *err, size_t errlen);
int tio_write_raw(const char *path, int dtype, const int64_t *v, uint64_t n, char *err,
                  size_t errlen);
/* Writes n values as raw little-endian bytes of dtype (n * dtype_size bytes). */
void tio_encode(uint8_t *dst, int dtype, const int64_t *v, uint64_t n);
/* Reads a whole file (at most max bytes). */
uint8_t *tio_slurp(const char *path, size_t max, size_t *len, char *err, size_t errlen);

#endif
