/* he_conv: coefficient encodings of convolutions (see he_conv.h). */
#include "runtime/he/he_conv.h"

#include <string.h>

static uint32_t ekh(const geom *g) { return (g->kh - 1) * g->dh + 1; }
static uint32_t ekw(const geom *g) { return (g->kw - 1) * g->dw + 1; }

uint32_t he_tile_hb(const geom *g, const he_tile *t) { return t->ho + ekh(g) - 1; }
uint32_t he_tile_wb(const geom *g, const he_tile *t) { return t->wo + ekw(g) - 1; }

static uint64_t block(const geom *g, const he_tile *t) { return (uint64_t)he_tile_hb(g, t) * he_tile_wb(g, t); }

int he_conv_fits(const geom *g, const he_tile *t, uint32_t n)
{
    return t->ho && t->wo && t->cn && t->mn && (uint64_t)t->mn * t->cn * block(g, t) <= n;
}

int he_dw_fits(const geom *g, const he_tile *t, uint32_t n)
{
    return t->ho && t->wo && t->cn && (uint64_t)t->cn * t->cn * block(g, t) <= n;
}

/* input channel c's block of the tile, placed from coefficient base */
static void put_block(const geom *g, const he_tile *t, const he_at *at, const uint64_t *x, uint32_t c,
                      uint64_t base, uint64_t *poly)
{
    uint32_t hb = he_tile_hb(g, t), wb = he_tile_wb(g, t);
    for (uint32_t i = 0; i < hb; i++) {
        int64_t r = (int64_t)at->r0 + i - g->pt;
        for (uint32_t j = 0; j < wb && r >= 0 && r < g->h; j++) {
            int64_t col = (int64_t)at->c0 + j - g->pl;
            if (col >= 0 && col < g->w)
                poly[base + (uint64_t)i * wb + j] = x[((size_t)r * g->w + (size_t)col) * g->c + c];
        }
    }
}

void he_conv_input(const geom *g, const he_tile *t, const he_at *at, uint32_t n, const uint64_t *x, uint64_t *poly)
{
    memset(poly, 0, n * sizeof *poly);
    for (uint32_t c = 0; c < t->cn && at->ch0 + c < g->c; c++)
        put_block(g, t, at, x, at->ch0 + c, (uint64_t)c * block(g, t), poly);
}

void he_conv_filter(const geom *g, const he_tile *t, const he_at *at, uint32_t n, const int64_t *w, uint32_t oc,
                    int64_t *poly)
{
    uint32_t wb = he_tile_wb(g, t);
    uint64_t G = block(g, t), S = t->cn * G, O = (t->cn - 1) * G + (uint64_t)(ekh(g) - 1) * wb + (ekw(g) - 1);
    memset(poly, 0, n * sizeof *poly);
    for (uint32_t mu = 0; mu < t->mn && at->m0 + mu < oc; mu++)
        for (uint32_t c = 0; c < t->cn && at->ch0 + c < g->c; c++)
            for (uint32_t u = 0; u < g->kh; u++)
                for (uint32_t v = 0; v < g->kw; v++) {
                    size_t k = (((size_t)(at->m0 + mu) * g->kh + u) * g->kw + v) * g->c + at->ch0 + c;
                    poly[O - c * G - (uint64_t)u * g->dh * wb - (uint64_t)v * g->dw + mu * S] = w[k];
                }
}

uint32_t he_conv_coef(const geom *g, const he_tile *t, uint32_t mu, uint32_t i, uint32_t j)
{
    uint32_t wb = he_tile_wb(g, t);
    uint64_t G = block(g, t), O = (t->cn - 1) * G + (uint64_t)(ekh(g) - 1) * wb + (ekw(g) - 1);
    return (uint32_t)(O + mu * t->cn * G + (uint64_t)i * wb + j);
}

void he_dw_input(const geom *g, const he_tile *t, const he_at *at, uint32_t n, const uint64_t *x, uint64_t *poly)
{
    he_conv_input(g, t, at, n, x, poly); /* the same layout: channel c at (c - ch0) G */
}

void he_dw_filter(const geom *g, const he_tile *t, const he_at *at, uint32_t n, const int64_t *w, uint32_t m,
                  int64_t *poly)
{
    uint32_t wb = he_tile_wb(g, t);
    uint64_t G = block(g, t), O1 = (uint64_t)(ekh(g) - 1) * wb + (ekw(g) - 1);
    memset(poly, 0, n * sizeof *poly);
    for (uint32_t c = 0; c < t->cn && at->ch0 + c < g->c; c++)
        for (uint32_t u = 0; u < g->kh; u++)
            for (uint32_t v = 0; v < g->kw; v++) {
                size_t k = (((size_t)u * g->kw + v) * g->c + at->ch0 + c) * m + at->m0;
                poly[(uint64_t)c * t->cn * G + O1 - (uint64_t)u * g->dh * wb - (uint64_t)v * g->dw] = w[k];
            }
}

uint32_t he_dw_coef(const geom *g, const he_tile *t, uint32_t c, uint32_t i, uint32_t j)
{
    uint32_t wb = he_tile_wb(g, t);
    uint64_t G = block(g, t), O1 = (uint64_t)(ekh(g) - 1) * wb + (ekw(g) - 1);
    return (uint32_t)((uint64_t)c * (t->cn + 1) * G + O1 + (uint64_t)i * wb + j);
}
