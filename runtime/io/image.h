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

/* A model's own input from pixels p (0..255): x = (p / range - mean[c]) /
 * std[c] (Keras' MobileNet: range 127.5, mean 1, std 1; torchvision: range
 * 255 and ImageNet's means and deviations), then TFLite's quantization q =
 * round(x / scale) + zp, half away from zero, in double, saturated to u8 or
 * i8 (int8: two's complement bytes). */
typedef struct {
    double range, mean[3], std[3];
} img_norm;
/* "keras", "torch" or "MEAN,STD" (pixel units: x = (p - MEAN) / STD); 0,
 * or -1 when the text is none of them */
int img_norm_parse(const char *s, img_norm *n);
void img_quantize(const image *im, const img_norm *n, double scale, int32_t zp, int int8, uint8_t *out);

#endif
