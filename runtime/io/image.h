/* image: turns a picture into a model's input tensor. Reads uncompressed
 * BMP (8-bit palette or 24-bit), binary PPM (P6) and PGM (P5) files, or raw interleaved RGB / gray bytes of a given size,
 * resizes with nearest neighbour (pixel centres, as PIL's NEAREST, which the
 * reference inputs were made with) and writes raw bytes, row-major, channels
 * innermost. */
#ifndef IMAGE_H
#define IMAGE_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint32_t w, h, channels; /* channels 1 or 3 */
    uint8_t *px;
} image;

/* raw_w/raw_h > 0: the file is raw bytes of that size with `channels`. */
int img_read(const char *path, uint32_t raw_w, uint32_t raw_h, uint32_t channels, image *out,
             char *err, size_t errlen);
/* The same for the file's bytes in memory (path only names it in messages). */
int img_parse(const char *path, const uint8_t *b, size_t len, uint32_t raw_w, uint32_t raw_h,
              uint32_t channels, image *out, char *err, size_t errlen);
/* Resizes to w x h and converts to `channels` (RGB <-> gray by copying or
 * by the ITU-R 601 luma, as PIL's convert("L")). */
int img_resize(const image *in, uint32_t w, uint32_t h, uint32_t channels, image *out);
void img_free(image *im);

#endif
