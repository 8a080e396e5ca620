/* flatbuf: checked FlatBuffers reading (see flatbuf.h). */
#include "compiler/tflite/flatbuf.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void fb_init(flatbuf *fb, const uint8_t *p, size_t len)
{
    fb->p = p;
    fb->len = len;
    fb->failed = 0;
    fb->err[0] = 0;
}

static void fb_fail(flatbuf *fb, uint64_t off, const char *fmt, ...)
{
    if (fb->failed)
        return;
    fb->failed = 1;
    int n = snprintf(fb->err, sizeof fb->err, "offset %llu: ", (unsigned long long)off);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(fb->err + n, sizeof fb->err - (size_t)n, fmt, ap);
    va_end(ap);
}

static int in_bounds(flatbuf *fb, uint64_t pos, uint64_t size, const char *what)
{
    if (fb->failed)
        return 0;
    if (pos > fb->len || size > fb->len - pos) {
        fb_fail(fb, pos, "%s out of bounds (file of %zu bytes)", what, fb->len);
        return 0;
    }
    return 1;
}

static uint64_t rd(const flatbuf *fb, uint64_t pos, int size)
{
    uint64_t v = 0;
    for (int i = 0; i < size; i++)
        v |= (uint64_t)fb->p[pos + (uint64_t)i] << (8 * i);
    return v;
}

uint32_t fb_u32_at(const flatbuf *fb, uint32_t pos) { return (uint32_t)rd(fb, pos, 4); }

uint32_t fb_root(flatbuf *fb)
{
    if (!in_bounds(fb, 0, 8, "root offset"))
        return 0;
    uint32_t t = (uint32_t)rd(fb, 0, 4);
    if (!in_bounds(fb, t, 4, "root table") || t == 0)
        return fb_fail(fb, 0, "bad root table offset"), 0;
    return t;
}

/* Absolute position of field id of table t, or 0 when absent. */
static uint64_t field(flatbuf *fb, uint32_t t, int id, uint64_t size)
{
    if (fb->failed || t == 0 || !in_bounds(fb, t, 4, "table"))
        return 0;
    int64_t vt = (int64_t)t - (int32_t)(uint32_t)rd(fb, t, 4);
    if (vt < 0 || !in_bounds(fb, (uint64_t)vt, 4, "vtable"))
        return fb_fail(fb, t, "vtable out of bounds"), 0;
    uint64_t vsize = rd(fb, (uint64_t)vt, 2), tsize = rd(fb, (uint64_t)vt + 2, 2);
    if (vsize < 4 || vsize % 2 || !in_bounds(fb, (uint64_t)vt, vsize, "vtable") ||
        !in_bounds(fb, t, tsize, "table"))
        return fb_fail(fb, (uint64_t)vt, "malformed vtable"), 0;
    uint64_t slot = 4 + 2 * (uint64_t)id;
    if (slot + 2 > vsize)
        return 0;
    uint64_t off = rd(fb, (uint64_t)vt + slot, 2);
    if (off == 0)
        return 0;
    if (off + size > tsize)
        return fb_fail(fb, t, "field %d lies outside its table", id), 0;
    return t + off;
}

uint32_t fb_field_pos(flatbuf *fb, uint32_t t, int id, int size)
{
    return (uint32_t)field(fb, t, id, (uint64_t)size);
}

uint64_t fb_uint(flatbuf *fb, uint32_t t, int id, int size, uint64_t def)
{
    uint64_t f = field(fb, t, id, (uint64_t)size);
    return f ? rd(fb, f, size) : def;
}

int64_t fb_int(flatbuf *fb, uint32_t t, int id, int size, int64_t def)
{
    uint64_t f = field(fb, t, id, (uint64_t)size);
    if (!f)
        return def;
    uint64_t v = rd(fb, f, size);
    if (size < 8 && (v >> (8 * size - 1)) & 1) /* sign-extend */
        v |= ~(uint64_t)0 << (8 * size);
    return (int64_t)v;
}

float fb_float(flatbuf *fb, uint32_t t, int id, float def)
{
    uint64_t f = field(fb, t, id, 4);
    if (!f)
        return def;
    uint32_t u = (uint32_t)rd(fb, f, 4);
    float x;
    memcpy(&x, &u, 4);
    return x;
}

/* Follows the uoffset stored at pos. */
static uint32_t follow(flatbuf *fb, uint64_t pos, const char *what)
{
    if (!pos || !in_bounds(fb, pos, 4, what))
        return 0;
    uint64_t target = pos + rd(fb, pos, 4);
    if (!in_bounds(fb, target, 4, what))
        return 0;
    return (uint32_t)target;
}

uint32_t fb_table(flatbuf *fb, uint32_t t, int id) { return follow(fb, field(fb, t, id, 4), "table"); }

uint32_t fb_vector(flatbuf *fb, uint32_t t, int id, int elem_size, uint32_t *count)
{
    *count = 0;
    uint32_t v = follow(fb, field(fb, t, id, 4), "vector");
    if (!v)
        return 0;
    uint64_t n = rd(fb, v, 4);
    if (!in_bounds(fb, (uint64_t)v + 4, n * (uint64_t)elem_size, "vector"))
        return 0;
    *count = (uint32_t)n;
    return v + 4;
}

uint32_t fb_vec_table(flatbuf *fb, uint32_t v, uint32_t i)
{
    return follow(fb, (uint64_t)v + 4 * (uint64_t)i, "vector element");
}

void fb_string(flatbuf *fb, uint32_t t, int id, char *out, size_t outlen)
{
    uint32_t n;
    out[0] = 0;
    uint32_t s = fb_vector(fb, t, id, 1, &n);
    if (!s)
        return;
    size_t k = n < outlen - 1 ? n : outlen - 1;
    memcpy(out, fb->p + s, k);
    out[k] = 0;
}
