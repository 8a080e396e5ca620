/* he_conv: coefficient encodings of convolutions (see he_conv.h). */
#include "runtime/he/he_conv.h"

#include <string.h>

#include "runtime/core/bits.h"

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

static uint64_t ceil_div(uint64_t a, uint64_t b) { return (a + b - 1) / b; }

/* a candidate's cost into p; 0 if it meets the bounds */
static int plan_of(const geom *g, uint32_t oc_or_m, int dw, uint32_t l, uint32_t wmax, uint32_t n,
                   const he_tile *t, he_plan *p)
{
    uint32_t Rs = (g->oh - 1) * g->sh + 1, Cs = (g->ow - 1) * g->sw + 1;
    uint64_t nsp = ceil_div(Rs, t->ho) * ceil_div(Cs, t->wo), taps = (uint64_t)g->kh * g->kw;
    uint64_t bw = dw ? t->cn * taps * wmax : (uint64_t)t->mn * g->c * taps * wmax;
    if (!bw || bw > (uint64_t)1 << 24)
        return -1;
    uint32_t q = bits_ceil_log2(21 * bw) + l + 42;
    if (q > 109 || q + bits_ceil_log2(bw) > 121)
        return -1;
    uint64_t cblocks = ceil_div(g->c, t->cn), outputs = (uint64_t)g->oh * g->ow * (dw ? (uint64_t)g->c * oc_or_m : oc_or_m);
    p->t = *t, p->q = q, p->bw = bw;
    p->in_ct = cblocks * nsp;
    p->out_ct = dw ? cblocks * nsp * oc_or_m : ceil_div(oc_or_m, t->mn) * nsp;
    p->products = dw ? p->out_ct : p->out_ct * cblocks;
    p->up = p->in_ct * ceil_div((uint64_t)n * q, 8);
    p->down = p->out_ct * ceil_div((uint64_t)n * (l + 13), 8) + ceil_div(outputs * (l + 2), 8);
    return 0;
}

static int plan_search(const geom *g, uint32_t oc_or_m, int dw, uint32_t l, uint32_t wmax, uint32_t n, he_plan *p);

/* The search's results, remembered per thread (a run plans each layer at
 * both parties' cost predictions and again when it runs it). */
#define PLAN_MEMO 64
typedef struct {
    geom g;
    uint32_t oc_or_m, l, wmax, n;
    int dw, rc;
    he_plan p;
} plan_memo;
static _Thread_local plan_memo memo[PLAN_MEMO];
static _Thread_local unsigned memo_len, memo_next;

int he_plan_layer(const geom *g, uint32_t oc_or_m, int dw, uint32_t l, uint32_t wmax, uint32_t n, he_plan *p)
{
    for (unsigned i = 0; i < memo_len; i++) {
        const plan_memo *m = &memo[i];
        if (!memcmp(&m->g, g, sizeof *g) && m->oc_or_m == oc_or_m && m->dw == dw && m->l == l && m->wmax == wmax &&
            m->n == n) {
            *p = m->p;
            return m->rc;
        }
    }
    plan_memo *m = &memo[memo_next];
    memo_next = (memo_next + 1) % PLAN_MEMO;
    memo_len += memo_len < PLAN_MEMO;
    *m = (plan_memo){*g, oc_or_m, l, wmax, n, dw, 0, {{0, 0, 0, 0}, 0, 0, 0, 0, 0, 0, 0}};
    m->rc = plan_search(g, oc_or_m, dw, l, wmax, n, &m->p);
    *p = m->p;
    return m->rc;
}

static int plan_search(const geom *g, uint32_t oc_or_m, int dw, uint32_t l, uint32_t wmax, uint32_t n, he_plan *p)
{
    uint32_t Rs = (g->oh - 1) * g->sh + 1, Cs = (g->ow - 1) * g->sw + 1;
    int found = 0;
    for (uint32_t ho = 1; ho <= Rs; ho++)
        for (uint32_t wo = 1; wo <= Cs; wo++) {
            he_tile t = {ho, wo, 1, 1};
            uint64_t G = (uint64_t)he_tile_hb(g, &t) * he_tile_wb(g, &t);
            if (G > n)
                break; /* wider tiles only grow */
            for (t.cn = 1; t.cn <= g->c && (uint64_t)t.cn * G <= n; t.cn++)
                for (t.mn = 1; t.mn <= (dw ? 1 : oc_or_m); t.mn++) {
                    he_plan c;
                    if (!(dw ? he_dw_fits(g, &t, n) : he_conv_fits(g, &t, n)))
                        break;
                    if (plan_of(g, oc_or_m, dw, l, wmax, n, &t, &c))
                        continue;
                    if (!found || c.up + c.down < p->up + p->down ||
                        (c.up + c.down == p->up + p->down && c.products < p->products))
                        *p = c, found = 1;
                }
        }
    return found ? 0 : -1;
}

uint32_t he_dw_coef(const geom *g, const he_tile *t, uint32_t c, uint32_t i, uint32_t j)
{
    uint32_t wb = he_tile_wb(g, t);
    uint64_t G = block(g, t), O1 = (uint64_t)(ekh(g) - 1) * wb + (ekw(g) - 1);
    return (uint32_t)((uint64_t)c * (t->cn + 1) * G + O1 + (uint64_t)i * wb + j);
}
