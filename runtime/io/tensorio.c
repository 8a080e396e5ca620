/* tensorio: tensor files (see tensorio.h). */
#define _POSIX_C_SOURCE 200809L
#include "runtime/io/tensorio.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define QW_MAGIC "QNNW"

uint64_t tio_mem_cap(void)
{
    const char *s = getenv("QNN_MAX_MEMORY");
    if (!s || !*s)
        return TIO_DEFAULT_MEM_CAP;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    int shift = *end == 'K' || *end == 'k' ? 10 : *end == 'M' || *end == 'm' ? 20
              : *end == 'G' || *end == 'g' ? 30 : 0;
    if (errno || end == s || (shift && end[1]) || (!shift && *end) || v > (~0ull >> shift))
        return TIO_DEFAULT_MEM_CAP; /* a typo must not lift the cap */
    return (uint64_t)v << shift;
}

uint8_t *tio_slurp(const char *path, size_t max, size_t *len, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return NULL;
    }
    size_t cap = 1 << 16, n = 0, got;
    uint8_t *buf = malloc(cap);
    while (buf && (got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n > max) {
            snprintf(err, errlen, "%s: file larger than %zu bytes", path, max);
            free(buf);
            fclose(f);
            return NULL;
        }
        if (n == cap) {
            uint8_t *q = realloc(buf, cap * 2);
            if (!q) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = q;
            cap *= 2;
        }
    }
    if (!buf || ferror(f)) {
        snprintf(err, errlen, "%s: cannot read", path);
        free(buf);
        fclose(f);
        return NULL;
    }
    fclose(f);
    *len = n;
    return buf;
}

void tio_encode(uint8_t *p, int dtype, const int64_t *v, uint64_t n)
{
    for (uint64_t i = 0; i < n; i++) {
        uint32_t u = (uint32_t)v[i];
        for (int b = 0; b < dtype_size(dtype); b++)
            *p++ = (uint8_t)(u >> (8 * b));
    }
}

static void decode(const uint8_t *p, int dtype, int64_t *v, uint64_t n)
{
    for (uint64_t i = 0; i < n; i++) {
        if (dtype == DT_U8)
            v[i] = p[i];
        else if (dtype == DT_I8)
            v[i] = (int8_t)p[i];
        else
            v[i] = (int32_t)((uint32_t)p[4 * i] | (uint32_t)p[4 * i + 1] << 8 |
                             (uint32_t)p[4 * i + 2] << 16 | (uint32_t)p[4 * i + 3] << 24);
    }
}

static int write_all(const char *path, const uint8_t *buf, size_t n, char *err, size_t errlen)
{
    FILE *f = fopen(path, "wb");
    int ok = f && fwrite(buf, 1, n, f) == n;
    if (f && fclose(f) != 0)
        ok = 0;
    if (!ok)
        snprintf(err, errlen, "%s: cannot write: %s", path, strerror(errno));
    return ok ? 0 : -1;
}

int tio_write_raw(const char *path, int dtype, const int64_t *v, uint64_t n, char *err,
                  size_t errlen)
{
    uint8_t *buf = malloc(n * (uint64_t)dtype_size(dtype) + 1);
    if (!buf) {
        snprintf(err, errlen, "%s: out of memory", path);
        return -1;
    }
    tio_encode(buf, dtype, v, n);
    int rc = write_all(path, buf, n * (uint64_t)dtype_size(dtype), err, errlen);
    free(buf);
    return rc;
}

int tio_write_qw(const char *path, const tio_tensor *t, int n, char *err, size_t errlen)
{
    size_t size = 12;
    for (int i = 0; i < n; i++)
        size += 3 + strlen(t[i].name) + 4u * t[i].shape.ndim +
                tshape_elems(&t[i].shape, TIO_MAX_ELEMS) * (uint64_t)dtype_size(t[i].dtype);
    uint8_t *buf = malloc(size), *p = buf;
    if (!buf) {
        snprintf(err, errlen, "%s: out of memory", path);
        return -1;
    }
    memcpy(p, QW_MAGIC, 4);
    uint32_t hdr[2] = {1, (uint32_t)n};
    for (int k = 0; k < 2; k++)
        for (int b = 0; b < 4; b++)
            p[4 + 4 * k + b] = (uint8_t)(hdr[k] >> (8 * b));
    p += 12;
    for (int i = 0; i < n; i++) {
        size_t len = strlen(t[i].name);
        *p++ = (uint8_t)len;
        memcpy(p, t[i].name, len);
        p += len;
        *p++ = t[i].dtype;
        *p++ = t[i].shape.ndim;
        for (int d = 0; d < t[i].shape.ndim; d++)
            for (int b = 0; b < 4; b++)
                *p++ = (uint8_t)(t[i].shape.dims[d] >> (8 * b));
        uint64_t ne = tshape_elems(&t[i].shape, TIO_MAX_ELEMS);
        tio_encode(p, t[i].dtype, t[i].data, ne);
        p += ne * (uint64_t)dtype_size(t[i].dtype);
    }
    int rc = write_all(path, buf, size, err, errlen);
    free(buf);
    return rc;
}

void tio_free(tio_tensor *t, int n)
{
    for (int i = 0; t && i < n; i++) {
        free(t[i].name);
        free(t[i].data);
    }
    free(t);
}

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

#define NEED(k, what)                                                                      \
    do {                                                                                   \
        if (len - off < (size_t)(k)) {                                                     \
            snprintf(err, errlen, "%s: offset %zu: file truncated in %s", path, off, what); \
            goto fail;                                                                     \
        }                                                                                  \
    } while (0)

int tio_read_qw(const char *path, tio_tensor **out, int *count, char *err, size_t errlen)
{
    size_t len;
    uint8_t *buf = tio_slurp(path, (size_t)1 << 32, &len, err, errlen);
    if (!buf)
        return -1;
    int rc = tio_parse_qw(path, buf, len, out, count, err, errlen);
    free(buf);
    return rc;
}

int tio_parse_qw(const char *path, const uint8_t *buf, size_t len, tio_tensor **out, int *count,
                 char *err, size_t errlen)
{
    size_t off = 0;
    tio_tensor *t = NULL;
    uint32_t n = 0;
    uint64_t cap = tio_mem_cap(), used = 0;
    NEED(12, "header");
    if (memcmp(buf, QW_MAGIC, 4) != 0 || rd32(buf + 4) != 1) {
        snprintf(err, errlen, "%s: not a .qw tensor file (bad magic or version)", path);
        goto fail;
    }
    n = rd32(buf + 8);
    off = 12;
    if (n > (len - off) / 3) {
        snprintf(err, errlen, "%s: offset 8: tensor count %u exceeds the file size", path, n);
        goto fail;
    }
    t = calloc(n ? n : 1, sizeof *t);
    if (!t) {
        snprintf(err, errlen, "%s: out of memory", path);
        goto fail;
    }
    for (uint32_t i = 0; i < n; i++) {
        NEED(1, "tensor name");
        size_t nl = buf[off++];
        NEED(nl + 2, "tensor name");
        t[i].name = malloc(nl + 1);
        if (!t[i].name) {
            snprintf(err, errlen, "%s: out of memory", path);
            goto fail;
        }
        memcpy(t[i].name, buf + off, nl);
        t[i].name[nl] = 0;
        off += nl;
        t[i].dtype = buf[off++];
        t[i].shape.ndim = buf[off++];
        if (t[i].dtype >= DT__COUNT || t[i].shape.ndim < 1 || t[i].shape.ndim > MAX_DIMS) {
            snprintf(err, errlen, "%s: offset %zu: tensor %s has a bad dtype or rank", path,
                     off - 2, t[i].name);
            goto fail;
        }
        NEED(4u * t[i].shape.ndim, "tensor shape");
        for (int d = 0; d < t[i].shape.ndim; d++, off += 4)
            t[i].shape.dims[d] = rd32(buf + off);
        uint64_t ne = tshape_elems(&t[i].shape, TIO_MAX_ELEMS);
        if (ne > TIO_MAX_ELEMS || ne * (uint64_t)dtype_size(t[i].dtype) > len - off) {
            snprintf(err, errlen, "%s: offset %zu: tensor %s: data exceeds the file", path, off,
                     t[i].name);
            goto fail;
        }
        used += (ne ? ne : 1) * sizeof(int64_t);
        if (used > cap) {
            snprintf(err, errlen, "%s: offset %zu: tensor %s: %llu bytes in memory in all, more "
                     "than the cap of %llu (QNN_MAX_MEMORY)", path, off, t[i].name,
                     (unsigned long long)used, (unsigned long long)cap);
            goto fail;
        }
        t[i].data = malloc((ne ? ne : 1) * sizeof(int64_t));
        if (!t[i].data) {
            snprintf(err, errlen, "%s: out of memory", path);
            goto fail;
        }
        decode(buf + off, t[i].dtype, t[i].data, ne);
        off += ne * (uint64_t)dtype_size(t[i].dtype);
    }
    if (off != len) {
        snprintf(err, errlen, "%s: offset %zu: trailing bytes", path, off);
        goto fail;
    }
    *out = t;
    *count = (int)n;
    return 0;
fail:
    tio_free(t, (int)n);
    return -1;
}

/* numpy header: {'descr': '<i4', 'fortran_order': False, 'shape': (1, 10), } */
static int npy_header(const char *path, const uint8_t *buf, size_t len, int *dtype,
                      uint64_t *elems, size_t *data_off, char *err, size_t errlen)
{
    if (len < 10 || memcmp(buf, "\x93NUMPY", 6) != 0) {
        snprintf(err, errlen, "%s: not a .npy file (bad magic)", path);
        return -1;
    }
    size_t hl, start;
    if (buf[6] == 1) {
        hl = (size_t)buf[8] | (size_t)buf[9] << 8;
        start = 10;
    } else if ((buf[6] == 2 || buf[6] == 3) && len >= 12) {
        hl = rd32(buf + 8);
        start = 12;
    } else {
        snprintf(err, errlen, "%s: offset 6: unsupported .npy version %d", path, buf[6]);
        return -1;
    }
    if (hl > len - start || hl > 65536) {
        snprintf(err, errlen, "%s: offset 8: .npy header runs past the end of the file", path);
        return -1;
    }
    char h[65537];
    memcpy(h, buf + start, hl);
    h[hl] = 0;
    static const char *const descr[] = {"'|u1'", "'|i1'", "'<i4'"};
    static const char *const alt[] = {"'<u1'", "'<i1'", "'<i4'"};
    *dtype = -1;
    for (int d = 0; d < DT__COUNT; d++)
        if (strstr(h, descr[d]) || strstr(h, alt[d]))
            *dtype = d;
    if (*dtype < 0) {
        snprintf(err, errlen, "%s: .npy dtype must be uint8, int8 or little-endian int32", path);
        return -1;
    }
    if (!strstr(h, "'fortran_order': False")) {
        snprintf(err, errlen, "%s: .npy array must be in C order", path);
        return -1;
    }
    const char *s = strstr(h, "'shape': (");
    if (!s) {
        snprintf(err, errlen, "%s: .npy header has no shape", path);
        return -1;
    }
    s += 10;
    uint64_t n = 1;
    while (*s && *s != ')') {
        char *end;
        errno = 0;
        unsigned long long d = strtoull(s, &end, 10);
        if (end == s || errno || d > TIO_MAX_ELEMS) {
            snprintf(err, errlen, "%s: .npy shape is malformed", path);
            return -1;
        }
        n *= d;
        if (n > TIO_MAX_ELEMS) {
            snprintf(err, errlen, "%s: .npy array too large", path);
            return -1;
        }
        s = end;
        while (*s == ',' || *s == ' ')
            s++;
    }
    *elems = n;
    *data_off = start + hl;
    return 0;
}

int tio_read_values(const char *path, int dtype, uint64_t n, int64_t *out, char *err,
                    size_t errlen)
{
    size_t len;
    uint64_t want = n * (uint64_t)dtype_size(dtype);
    uint8_t *buf = tio_slurp(path, want + (1 << 20), &len, err, errlen);
    if (!buf)
        return -1;
    size_t dl = strlen(path);
    int npy = dl >= 4 && strcmp(path + dl - 4, ".npy") == 0;
    int rc = tio_parse_values(path, buf, len, npy, dtype, n, out, err, errlen);
    free(buf);
    return rc;
}

int tio_parse_values(const char *path, const uint8_t *buf, size_t len, int npy, int dtype,
                     uint64_t n, int64_t *out, char *err, size_t errlen)
{
    uint64_t want = n * (uint64_t)dtype_size(dtype);
    int rc = -1;
    if (npy) {
        int dt;
        uint64_t ne;
        size_t off;
        if (npy_header(path, buf, len, &dt, &ne, &off, err, errlen) == 0) {
            if (dt != dtype)
                snprintf(err, errlen, "%s: .npy dtype is %s, the input needs %s", path,
                         dtype_names[dt], dtype_names[dtype]);
            else if (ne != n)
                snprintf(err, errlen, "%s: .npy array has %llu elements, the input needs %llu",
                         path, (unsigned long long)ne, (unsigned long long)n);
            else if (len - off != want)
                snprintf(err, errlen, "%s: .npy data is %zu bytes, expected %llu", path,
                         len - off, (unsigned long long)want);
            else {
                decode(buf + off, dtype, out, n);
                rc = 0;
            }
        }
    } else if (len != want) {
        snprintf(err, errlen, "%s: %zu bytes, the input needs %llu (%llu x %s)", path, len,
                 (unsigned long long)want, (unsigned long long)n, dtype_names[dtype]);
    } else {
        decode(buf, dtype, out, n);
        rc = 0;
    }
    return rc;
}
