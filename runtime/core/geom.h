/* geom: the window geometry operands (H W C KH KW OH OW SH SW PT PL DH DW)
 * shared by convolutions and pooling, decoded from an instruction. */
#ifndef GEOM_H
#define GEOM_H

#include <stdint.h>

typedef struct {
    uint32_t h, w, c, kh, kw, oh, ow, sh, sw, pt, pl, dh, dw;
} geom;

static inline geom geom_decode(const uint32_t *g)
{
    geom r = {g[0], g[1], g[2], g[3], g[4], g[5], g[6], g[7], g[8], g[9], g[10], g[11], g[12]};
    return r;
}

static inline void geom_encode(const geom *g, uint32_t *out)
{
    const uint32_t v[13] = {g->h,  g->w,  g->c,  g->kh, g->kw, g->oh, g->ow,
                            g->sh, g->sw, g->pt, g->pl, g->dh, g->dw};
    for (int i = 0; i < 13; i++)
        out[i] = v[i];
}

/* Input coordinate of kernel tap k along one axis for output position o;
 * negative or >= size means padding. */
static inline int64_t geom_in(uint32_t o, uint32_t stride, uint32_t pad, uint32_t k, uint32_t dil)
{
    return (int64_t)o * stride - pad + (int64_t)k * dil;
}

#endif
