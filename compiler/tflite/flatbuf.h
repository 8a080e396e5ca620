/* flatbuf: a bounds-checked reader of FlatBuffers binaries, just what the
 * TFLite schema needs. Every offset, length and vtable entry is checked
 * against the buffer before it is followed; the first problem is recorded
 * (with its byte offset) and every later call returns zero / defaults, so a
 * caller checks fb->failed once after a batch of reads. Positions are byte
 * offsets into the buffer; 0 means absent (no table starts at 0). */
#ifndef FLATBUF_H
#define FLATBUF_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    const uint8_t *p;
    size_t len;
    int failed;
    char err[256];
} flatbuf;

void fb_init(flatbuf *fb, const uint8_t *p, size_t len);
uint32_t fb_root(flatbuf *fb);
/* Scalars of table t's field id, or the default when absent. */
uint64_t fb_uint(flatbuf *fb, uint32_t t, int id, int size, uint64_t def);
int64_t fb_int(flatbuf *fb, uint32_t t, int id, int size, int64_t def);
float fb_float(flatbuf *fb, uint32_t t, int id, float def);
/* Table field: the sub-table's position, or 0. */
uint32_t fb_table(flatbuf *fb, uint32_t t, int id);
/* Vector field: position of element 0 and the count (0, 0 when absent);
 * elements must be elem_size bytes and lie inside the buffer. */
uint32_t fb_vector(flatbuf *fb, uint32_t t, int id, int elem_size, uint32_t *count);
/* Element i of a vector of tables starting at v. */
uint32_t fb_vec_table(flatbuf *fb, uint32_t v, uint32_t i);
/* String field into out (truncated to outlen-1), "" when absent. */
void fb_string(flatbuf *fb, uint32_t t, int id, char *out, size_t outlen);
/* Where field id of table t is stored (0 when absent). */
uint32_t fb_field_pos(flatbuf *fb, uint32_t t, int id, int size);
/* Little-endian reads at a checked position. */
uint32_t fb_u32_at(const flatbuf *fb, uint32_t pos);

#endif
