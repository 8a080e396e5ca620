/* bench-kernels: multiply-accumulate rate of the Z_2^64 convolution kernels
 * (runtime/core/kernels.c, as every protocol calls them) against a plain int32
 * convolution of the same shape and loop order, on MobileNet-like layers; and
 * the F_(2^127 - 1) kernels' against Z_2^64's (the prime-field protocols'). */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "runtime/core/kernels.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* The baseline: the same loops over int32. */
static void conv_i32(int32_t *d, const int32_t *x, const int32_t *w, const geom *g, uint32_t oc)
{
    for (uint32_t oy = 0; oy < g->oh; oy++)
        for (uint32_t ox = 0; ox < g->ow; ox++) {
            int32_t *out = d + ((uint64_t)oy * g->ow + ox) * oc;
            memset(out, 0, oc * sizeof *out);
            for (uint32_t ky = 0; ky < g->kh; ky++) {
                int64_t iy = geom_in(oy, g->sh, g->pt, ky, g->dh);
                if (iy < 0 || iy >= g->h)
                    continue;
                for (uint32_t kx = 0; kx < g->kw; kx++) {
                    int64_t ix = geom_in(ox, g->sw, g->pl, kx, g->dw);
                    if (ix < 0 || ix >= g->w)
                        continue;
                    const int32_t *xr = x + ((uint64_t)iy * g->w + (uint64_t)ix) * g->c;
                    for (uint32_t o = 0; o < oc; o++) {
                        const int32_t *wr = w + (((uint64_t)o * g->kh + ky) * g->kw + kx) * g->c;
                        int32_t acc = 0;
                        for (uint32_t c = 0; c < g->c; c++)
                            acc += xr[c] * wr[c];
                        out[o] += acc;
                    }
                }
            }
        }
}

static void dw_i32(int32_t *d, const int32_t *x, const int32_t *w, const geom *g)
{
    for (uint32_t oy = 0; oy < g->oh; oy++)
        for (uint32_t ox = 0; ox < g->ow; ox++) {
            int32_t *out = d + ((uint64_t)oy * g->ow + ox) * g->c;
            memset(out, 0, g->c * sizeof *out);
            for (uint32_t ky = 0; ky < g->kh; ky++) {
                int64_t iy = geom_in(oy, g->sh, g->pt, ky, g->dh);
                if (iy < 0 || iy >= g->h)
                    continue;
                for (uint32_t kx = 0; kx < g->kw; kx++) {
                    int64_t ix = geom_in(ox, g->sw, g->pl, kx, g->dw);
                    if (ix < 0 || ix >= g->w)
                        continue;
                    const int32_t *xr = x + ((uint64_t)iy * g->w + (uint64_t)ix) * g->c;
                    const int32_t *wr = w + ((uint64_t)ky * g->kw + kx) * g->c;
                    for (uint32_t c = 0; c < g->c; c++)
                        out[c] += xr[c] * wr[c];
                }
            }
        }
}

typedef struct {
    const char *name;
    geom g;
    uint32_t oc; /* 0: depthwise */
} shape;

int main(void)
{
    static const shape shapes[] = {
        {"pointwise 1x1, 32x32x64 -> 64", {32, 32, 64, 1, 1, 32, 32, 1, 1, 0, 0, 1, 1}, 64},
        {"pointwise 1x1, 8x8x256 -> 256", {8, 8, 256, 1, 1, 8, 8, 1, 1, 0, 0, 1, 1}, 256},
        {"conv 3x3 s2, 128x128x3 -> 8", {128, 128, 3, 3, 3, 64, 64, 2, 2, 0, 0, 1, 1}, 8},
        {"depthwise 3x3, 32x32x64", {32, 32, 64, 3, 3, 32, 32, 1, 1, 1, 1, 1, 1}, 0},
    };
    printf("%-34s %12s %12s %8s %12s %8s\n", "kernel", "Z_2^64 MAC/s", "int32 MAC/s", "ratio", "F_p MAC/s",
           "Z/F_p");
    for (size_t k = 0; k < sizeof shapes / sizeof shapes[0]; k++) {
        const shape *s = &shapes[k];
        const geom *g = &s->g;
        uint64_t in = (uint64_t)g->h * g->w * g->c, oc = s->oc ? s->oc : g->c;
        uint64_t wn = s->oc ? oc * g->kh * g->kw * g->c : (uint64_t)g->kh * g->kw * g->c;
        uint64_t out = (uint64_t)g->oh * g->ow * oc;
        uint64_t macs = out * g->kh * g->kw * (s->oc ? g->c : 1);
        uint64_t *x = malloc(in * 8), *w = malloc(wn * 8), *d = malloc(out * 8);
        int32_t *x32 = malloc(in * 4), *w32 = malloc(wn * 4), *d32 = malloc(out * 4);
        fp127 *xf = malloc(in * sizeof *xf), *wf = malloc(wn * sizeof *wf), *df = malloc(out * sizeof *df);
        for (uint64_t i = 0; i < in; i++)
            x[i] = (uint64_t)(x32[i] = (int32_t)(i * 7 % 255) - 128), xf[i] = fp127_from_i64(x32[i]);
        for (uint64_t i = 0; i < wn; i++)
            w[i] = (uint64_t)(w32[i] = (int32_t)(i * 13 % 255) - 128), wf[i] = fp127_from_i64(w32[i]);
        double rate[3];
        for (int v = 0; v < 3; v++) {
            int reps = 0;
            double t0 = now(), t;
            do {
                if (v == 0 && s->oc)
                    kern_conv2d(d, x, w, g, s->oc);
                else if (v == 0)
                    kern_dwconv2d(d, x, w, g, 1);
                else if (v == 1 && s->oc)
                    conv_i32(d32, x32, w32, g, s->oc);
                else if (v == 1)
                    dw_i32(d32, x32, w32, g);
                else if (s->oc)
                    kern_conv2d_fp(df, xf, wf, g, s->oc);
                else
                    kern_dwconv2d_fp(df, xf, wf, g, 1);
                reps++;
            } while ((t = now() - t0) < 0.3);
            rate[v] = (double)macs * reps / t;
        }
        for (uint64_t i = 0; i < out; i++) { /* the same arithmetic, checked */
            int64_t f;
            if ((int32_t)(uint32_t)d[i] != d32[i] || fp127_to_i64(df[i], &f) || f != d32[i]) {
                printf("MISMATCH in %s at %llu\n", s->name, (unsigned long long)i);
                return 1;
            }
        }
        printf("%-34s %12.3g %12.3g %8.2f %12.3g %8.2f\n", s->name, rate[0], rate[1], rate[0] / rate[1], rate[2],
               rate[0] / rate[2]);
        free(x), free(w), free(d), free(x32), free(w32), free(d32), free(xf), free(wf), free(df);
    }
    return 0;
}
