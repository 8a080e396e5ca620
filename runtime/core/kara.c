/* kara: Karatsuba's plan for the fold polynomials (see kara.h). */
#include "runtime/core/kara.h"

#include <string.h>

/* The product of the n coefficients in slots in[] splits as lo (the first
 * half), hi (the second) and mid (their sums, new slots): lo hi =
 * L + X^h (M - L - H) + X^2h H for the products L, H, M of the halves. The
 * leaves, in the join's order, are lo's, then hi's, then mid's. */
static void split(kara_plan *p, const uint16_t *in, unsigned n, unsigned *nleaf)
{
    if (n == 1) {
        p->leaf[(*nleaf)++] = in[0];
        return;
    }
    unsigned h = n / 2;
    uint16_t mid[KARA_MAX_K / 2];
    for (unsigned i = 0; i < h; i++) {
        mid[i] = (uint16_t)p->nslot;
        p->add[p->nslot - p->k] = (kara_add){(uint16_t)p->nslot, in[i], in[h + i]};
        p->nslot++;
    }
    split(p, in, h, nleaf);
    split(p, in + h, h, nleaf);
    split(p, mid, h, nleaf);
}

int kara_plan_for(kara_plan *p, unsigned k)
{
    if (k < 2 || k > KARA_MAX_K || (k & (k - 1)))
        return 0;
    uint16_t in[KARA_MAX_K];
    for (unsigned i = 0; i < k; i++)
        in[i] = (uint16_t)i;
    p->k = p->nslot = k;
    unsigned nleaf = 0;
    split(p, in, k, &nleaf);
    return 1;
}

typedef struct {
    const kara_plan *p;
    size_t w; /* words an element */
    kara_op *add, *sub;
    const uint64_t *P;
    unsigned next; /* the next leaf */
} joiner;

/* the 2n - 1 coefficients of the subtree whose leaves come next into H:
 * L into H[0, 2h - 1), H into H[2h, 4h - 1), then (M - L - H) X^h added */
static void join(joiner *j, unsigned n, uint64_t *H)
{
    size_t w = j->w;
    if (n == 1) {
        memcpy(H, j->P + j->p->leaf[j->next++] * w, w * sizeof *H);
        return;
    }
    unsigned h = n / 2, m = 2 * h - 1;
    uint64_t M[(KARA_MAX_K - 1) * KARA_MAX_WORDS];
    memset(H + m * w, 0, w * sizeof *H); /* H[2h - 1]: no half reaches it */
    join(j, h, H);
    join(j, h, H + 2 * h * w);
    join(j, h, M);
    for (unsigned i = 0; i < m; i++) {
        uint64_t *d = M + i * w;
        j->sub(d, d, H + i * w);
        j->sub(d, d, H + (2 * h + i) * w);
    }
    for (unsigned i = 0; i < m; i++)
        j->add(H + (h + i) * w, H + (h + i) * w, M + i * w);
}

void kara_join(const kara_plan *p, unsigned words, kara_op *add, kara_op *sub, const uint64_t *P, uint64_t *H)
{
    joiner j = {p, words, add, sub, P, 0};
    join(&j, p->k, H);
}
