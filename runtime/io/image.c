/* image: picture files to input tensors (see image.h). */
#include "runtime/io/image.h"

#include <math.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/io/tensorio.h"

/* Next header number of a PNM file, skipping white space and comments. */
static long pnm_number(const uint8_t *b, size_t len, size_t *pos)
{
    while (*pos < len) {
        if (b[*pos] == '#')
            while (*pos < len && b[*pos] != '\n')
                (*pos)++;
        else if (b[*pos] == ' ' || b[*pos] == '\t' || b[*pos] == '\r' || b[*pos] == '\n')
            (*pos)++;
        else
            break;
    }
    long v = 0;
    int digits = 0;
    while (*pos < len && b[*pos] >= '0' && b[*pos] <= '9' && digits < 9) {
        v = v * 10 + (b[*pos] - '0');
        (*pos)++;
        digits++;
    }
    return digits ? v : -1;
}

static uint32_t le(const uint8_t *p, int n)
{
    uint32_t v = 0;
    for (int i = 0; i < n; i++)
        v |= (uint32_t)p[i] << (8 * i);
    return v;
}

/* Uncompressed 24-bit or 8-bit (palette) BMP, bottom-up or top-down. */
static int read_bmp(const char *path, const uint8_t *b, size_t len, image *out, char *err,
                    size_t errlen)
{
    if (len < 54) {
        snprintf(err, errlen, "%s: truncated BMP header", path);
        return -1;
    }
    uint32_t off = le(b + 10, 4), hs = le(b + 14, 4), bpp = le(b + 28, 2), comp = le(b + 30, 4);
    /* 64 bits: a height of INT32_MIN (top-down) still negates */
    int64_t w = (int32_t)le(b + 18, 4), h = (int32_t)le(b + 22, 4);
    int topdown = h < 0;
    if (topdown)
        h = -h;
    if ((bpp != 24 && bpp != 8) || comp != 0 || w < 1 || h < 1 || w > 65536 || h > 65536 ||
        hs < 40 || hs > len - 14) {
        snprintf(err, errlen, "%s: only uncompressed 8-bit and 24-bit BMP files are supported", path);
        return -1;
    }
    uint64_t stride = ((uint64_t)w * bpp / 8 + 3) / 4 * 4;
    if (off > len || stride * (uint64_t)h > len - off || (bpp == 8 && 14 + hs + 1024 > off)) {
        snprintf(err, errlen, "%s: offset %u: BMP pixel data out of bounds", path, off);
        return -1;
    }
    const uint8_t *pal = b + 14 + hs;
    if ((uint64_t)w * (uint64_t)h * 3 > tio_mem_cap()) {
        snprintf(err, errlen, "%s: offset 18: %lldx%lld pixels need more memory than the cap of "
                 "%llu bytes (QNN_MAX_MEMORY)", path, (long long)w, (long long)h,
                 (unsigned long long)tio_mem_cap());
        return -1;
    }
    out->w = (uint32_t)w;
    out->h = (uint32_t)h;
    out->channels = 3;
    out->px = malloc((size_t)w * (size_t)h * 3);
    if (!out->px) {
        snprintf(err, errlen, "%s: out of memory", path);
        return -1;
    }
    for (int64_t y = 0; y < h; y++) {
        const uint8_t *row = b + off + stride * (uint64_t)(topdown ? y : h - 1 - y);
        for (int64_t x = 0; x < w; x++) {
            const uint8_t *bgr = bpp == 24 ? row + 3 * x : pal + 4 * row[x];
            uint8_t *d = out->px + ((size_t)y * (size_t)w + (size_t)x) * 3;
            d[0] = bgr[2];
            d[1] = bgr[1];
            d[2] = bgr[0];
        }
    }
    return 0;
}

int img_read(const char *path, uint32_t raw_w, uint32_t raw_h, uint32_t channels, image *out,
             char *err, size_t errlen)
{
    size_t len;
    uint8_t *b = tio_slurp(path, (size_t)1 << 30, &len, err, errlen);
    if (!b)
        return -1;
    int rc = img_parse(path, b, len, raw_w, raw_h, channels, out, err, errlen);
    free(b);
    return rc;
}

int img_parse(const char *path, const uint8_t *b, size_t len, uint32_t raw_w, uint32_t raw_h,
              uint32_t channels, image *out, char *err, size_t errlen)
{
    size_t pos = 0;
    memset(out, 0, sizeof *out);
    if (raw_w) {
        out->w = raw_w;
        out->h = raw_h;
        out->channels = channels;
    } else if (len >= 2 && b[0] == 'B' && b[1] == 'M') {
        return read_bmp(path, b, len, out, err, errlen);
    } else {
        if (len < 2 || b[0] != 'P' || (b[1] != '5' && b[1] != '6')) {
            snprintf(err, errlen, "%s: not a BMP, binary PPM (P6) or PGM (P5) file; give raw "
                                  "bytes with --raw WxH", path);
            return -1;
        }
        out->channels = b[1] == '6' ? 3 : 1;
        pos = 2;
        long w = pnm_number(b, len, &pos), h = pnm_number(b, len, &pos);
        long maxv = pnm_number(b, len, &pos);
        if (w < 1 || h < 1 || w > 65536 || h > 65536 || maxv != 255 || pos >= len) {
            snprintf(err, errlen, "%s: offset %zu: unsupported PNM header (8-bit only)", path, pos);
            return -1;
        }
        pos++; /* the single white space after maxval */
        out->w = (uint32_t)w;
        out->h = (uint32_t)h;
    }
    size_t need = (size_t)out->w * out->h * out->channels;
    if (len - pos != need) {
        snprintf(err, errlen, "%s: %zu bytes of pixels, expected %zu (%ux%ux%u)", path, len - pos,
                 need, out->w, out->h, out->channels);
        return -1;
    }
    if (need > tio_mem_cap()) {
        snprintf(err, errlen, "%s: %ux%ux%u pixels need more memory than the cap of %llu bytes "
                 "(QNN_MAX_MEMORY)", path, out->w, out->h, out->channels,
                 (unsigned long long)tio_mem_cap());
        return -1;
    }
    out->px = malloc(need);
    if (!out->px) {
        snprintf(err, errlen, "%s: out of memory", path);
        return -1;
    }
    memcpy(out->px, b + pos, need);
    return 0;
}

/* Source coordinates as PIL's ImagingScaleAffine computes them: a running
 * double sum from half a step, truncated (exact arithmetic differs where
 * (2x+1)*in/(2*out) is an integer and the sum falls just short of it). */
static uint32_t *nearest_table(uint32_t in, uint32_t out)
{
    uint32_t *t = malloc((size_t)out * sizeof *t);
    double step = (double)in / out, pos = step * 0.5;
    for (uint32_t i = 0; t && i < out; i++, pos += step)
        t[i] = pos < in ? (uint32_t)pos : in - 1;
    return t;
}

int img_resize(const image *in, uint32_t w, uint32_t h, uint32_t channels, image *out)
{
    out->w = w;
    out->h = h;
    out->channels = channels;
    out->px = malloc((size_t)w * h * channels);
    uint32_t *xs = nearest_table(in->w, w), *ys = nearest_table(in->h, h);
    if (!out->px || !xs || !ys) {
        free(xs);
        free(ys);
        return -1;
    }
    for (uint32_t y = 0; y < h; y++)
        for (uint32_t x = 0; x < w; x++) {
            const uint8_t *s = in->px + ((size_t)ys[y] * in->w + xs[x]) * in->channels;
            uint8_t *d = out->px + ((size_t)y * w + x) * channels;
            if (channels == in->channels)
                memcpy(d, s, channels);
            else if (channels == 3)
                d[0] = d[1] = d[2] = s[0];
            else /* L = R * 299/1000 + G * 587/1000 + B * 114/1000, rounded */
                d[0] = (uint8_t)((s[0] * 19595u + s[1] * 38470u + s[2] * 7471u + 0x8000u) >> 16);
        }
    free(xs);
    free(ys);
    return 0;
}

void img_free(image *im)
{
    free(im->px);
    im->px = NULL;
}

int img_norm_parse(const char *s, img_norm *n)
{
    if (!strcmp(s, "keras")) {
        *n = (img_norm){127.5, {1, 1, 1}, {1, 1, 1}};
        return 0;
    }
    if (!strcmp(s, "torch")) {
        *n = (img_norm){255, {0.485, 0.456, 0.406}, {0.229, 0.224, 0.225}};
        return 0;
    }
    char *end;
    double mean = strtod(s, &end), sd;
    if (end == s || *end != ',')
        return -1;
    const char *t = end + 1;
    sd = strtod(t, &end);
    if (end == t || *end || !(sd > 0) || !isfinite(mean) || !isfinite(sd))
        return -1;
    *n = (img_norm){1, {mean, mean, mean}, {sd, sd, sd}};
    return 0;
}

void img_quantize(const image *im, const img_norm *n, double scale, int32_t zp, int int8, uint8_t *out)
{
    double lo = int8 ? -128 : 0, hi = int8 ? 127 : 255;
    size_t len = (size_t)im->w * im->h * im->channels;
    for (size_t i = 0; i < len; i++) {
        uint32_t c = im->channels == 3 ? (uint32_t)(i % 3) : 0;
        double x = ((double)im->px[i] / n->range - n->mean[c]) / n->std[c], q = round(x / scale) + zp;
        q = q < lo ? lo : q > hi ? hi : q;
        out[i] = (uint8_t)(int)q; /* int8: the byte of its two's complement */
    }
}
