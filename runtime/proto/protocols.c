/* protocols: the registry, the one table of protocol modules (adding a
 * protocol: its file and one line here); everything else that lists
 * protocols reads it (qnnvm protocols, qnnc --stats, the tests, bench/run). */
#include <stdlib.h>
#include <string.h>

#include "runtime/proto/proto.h"


/* Adding a protocol: runtime/proto_NAME.c defining `const protocol
 * proto_NAME`, and NAME here. */
#define PROTOCOLS(X) X(clear) X(rep3) X(semi2k) X(spdz2k) X(hemi) X(rep3a) X(rep3f) X(spdz)

#define X(name) extern const protocol proto_##name;
PROTOCOLS(X)
#undef X

static const protocol *const table[] = {
#define X(name) &proto_##name,
    PROTOCOLS(X)
#undef X
};

const char *const proto_kind_names[PROTO_NKINDS] = {
#define X(k) #k,
    PROTO_KINDS(X)
#undef X
};

void proto_input_range(int64_t *lo, uint32_t *bits)
{
    if (*bits == 32)
        *lo = -((int64_t)1 << 30), *bits = 31;
}

static uint64_t test_value(uint64_t v, const char *var)
{
#ifdef QNN_CHEAT
    const char *env = getenv(var);
    if (v && env)
        return strtoull(env, NULL, 10);
#else
    (void)var;
#endif
    return v;
}

uint64_t proto_check_every(const protocol *pr) { return test_value(pr->check_every, "QNN_CHECK_EVERY"); }
size_t proto_wave_elems(const protocol *pr) { return (size_t)test_value(pr->wave_elems, "QNN_WAVE_ELEMS"); }

const protocol *proto_find(const char *name)
{
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        if (strcmp(table[i]->name, name) == 0)
            return table[i];
    return NULL;
}

const protocol *proto_at(size_t i) { return i < sizeof table / sizeof table[0] ? table[i] : NULL; }

const char *proto_names(void)
{
    static char buf[256];
    buf[0] = 0;
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
        if (i)
            strncat(buf, ", ", sizeof buf - strlen(buf) - 1);
        strncat(buf, table[i]->name, sizeof buf - strlen(buf) - 1);
    }
    return buf;
}

void *proto_alloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        abort();
    return p;
}

void *proto_zalloc(size_t n)
{
    void *p = calloc(1, n ? n : 1);
    if (!p)
        abort();
    return p;
}

void *proto_state(pop *op, size_t size)
{
    if (!op->state)
        op->state = proto_zalloc(size);
    return op->state;
}

int proto_reqs_public_delta(const pop *op, int64_t *delta)
{
    *delta = op->kshift > 31 ? (int64_t)1 << 31 : 0;
    return op->nb == 5;
}

word proto_trunc_mult(const pop *op, size_t i, uint8_t *d)
{
    if (op->kind == PK_REQS) { /* its input holds m x + off0 already */
        *d = (uint8_t)op->kshift;
        return 1;
    }
    if (op->kind == PK_TRUNC) {
        *d = (uint8_t)op->shift[i % op->nshift];
        return (word)op->mult[i % op->nmult];
    }
    if (op->kind == PK_REQUANT || op->kind == PK_REQCLAMP || (op->kind == PK_EXACT && op->of != PK_DIVR)) {
        int64_t m0 = op->mult[i % op->nmult], sh = op->shift[i % op->nshift];
        *d = (uint8_t)(31 + (sh > 0 ? 0 : -sh));
        return (word)m0 << (sh > 0 ? sh : 0);
    }
    int64_t dv = op->divisor[i % op->ndivisor];
    *d = dv == 1 ? 0 : 32;
    return dv == 1 ? 1 : (word)((((uint64_t)1 << 32) + (uint64_t)dv / 2) / (uint64_t)dv);
}

uint8_t proto_trunc_shifts(const pop *op, uint8_t *d, word *mult)
{
    uint8_t dmin = 62;
    for (size_t i = 0; i < op->n; i++) {
        word m = proto_trunc_mult(op, i, &d[i]);
        if (mult)
            mult[i] = m;
        dmin = d[i] < dmin ? d[i] : dmin;
    }
    return dmin;
}

/* With u = msb c, C = (c mod 2^63) >> d: y = C - R + 2^(63-d)(u xor v) - 2^(62-d),
 * and u xor v = u + (1 - 2u) v. */
void proto_trunc_open(word c, int d, word *pub, word *coef)
{
    word u = c >> 63, C = proto_trunc_low(c, d);
    *coef = ((word)1 << (63 - d)) * (1 - 2 * u);
    *pub = C + ((word)1 << (63 - d)) * u - ((word)1 << (62 - d));
}

/* ------------------------------------------------ CLAMP from LTZ and MUL */

/* With t = x - lo, D = hi - lo, b1 = [t < 0] and l2 = [t - D - 1 < 0]
 * (b1 implies l2): min(max(x, lo), hi) = hi + (l2 - b1) t - D l2, one
 * product per element (docs/protocols.md). */
typedef struct {
    pop ltz, mul;
    word *t, *b; /* 2n elements: (t, t - D - 1) and their bits (b1, l2) */
    word *s, *p; /* n elements: l2 - b1 and its product with t */
} clamp_state;

void proto_clamp_ltz(const pop *op, pop *ltz)
{
    memset(ltz, 0, sizeof *ltz);
    ltz->kind = PK_LTZ;
    ltz->n = ltz->na = 2 * op->n;
    ltz->bound = op->bound;
    ltz->rot = op->rot;
}

/* The inner operations of a CLAMP of n elements (registers unset). */
static void clamp_inner(const pop *op, pop *ltz, pop *mul)
{
    proto_clamp_ltz(op, ltz);
    *mul = *ltz;
    mul->kind = PK_MUL;
    mul->abit = 1; /* b[n..2n) - b[0..n): [x <= hi] - [x < lo] */
    mul->bound = 0;
    mul->n = mul->na = mul->nb = op->n;
}

int proto_clamp_prepare(const protocol *pr, void *ps, pop *op, int step, char *err, size_t errlen)
{
    size_t n = op->n, sw = (size_t)pr->share_words;
    if (step == 0) {
        clamp_state *c = proto_zalloc(sizeof *c);
        op->state = c;
        clamp_inner(op, &c->ltz, &c->mul);
        c->t = proto_alloc(2 * n * sw * sizeof(word));
        c->b = proto_alloc(2 * n * sw * sizeof(word));
        c->s = proto_alloc(n * sw * sizeof(word));
        c->p = proto_alloc(n * sw * sizeof(word));
        int64_t neg_lo = -op->lo, neg_hi1 = -op->hi - 1;
        pr->addc(ps, c->t, op->a, &neg_lo, n, 1);
        pr->addc(ps, c->t + n * sw, op->a, &neg_hi1, n, 1);
        c->ltz.a = c->t, c->ltz.d = c->b;
        c->mul.a = c->s, c->mul.b = c->t, c->mul.d = c->p;
    }
    clamp_state *c = op->state;
    int k = pr->steps(&c->ltz);
    return step < k ? pr->prepare(ps, &c->ltz, step, err, errlen) : pr->prepare(ps, &c->mul, step - k, err, errlen);
}

int proto_clamp_finish(const protocol *pr, void *ps, pop *op, int step, char *err, size_t errlen)
{
    clamp_state *c = op->state;
    size_t n = op->n, sw = (size_t)pr->share_words;
    int k = pr->steps(&c->ltz);
    if (step < k) {
        if (pr->finish(ps, &c->ltz, step, err, errlen) != 0)
            return -1;
        if (step + 1 == k)
            pr->sub(ps, c->s, c->b + n * sw, c->b, n, n);
        return 0;
    }
    if (pr->finish(ps, &c->mul, step - k, err, errlen) != 0)
        return -1;
    if (step - k + 1 < pr->steps(&c->mul))
        return 0;
    int64_t neg_d = op->lo - op->hi, hi = op->hi;
    pr->mulc(ps, op->d, c->b + n * sw, &neg_d, n, 1);
    pr->add(ps, op->d, op->d, c->p, n, n);
    pr->addc(ps, op->d, op->d, &hi, n, 1);
    free(c->t), free(c->b), free(c->s), free(c->p);
    free(c);
    op->state = NULL;
    return 0;
}

/* Composite operations run two inner operations one after the other: the
 * step of the composite is a step of one of them, and their costs add. */
static const pop *seq_at(const protocol *pr, const pop *first, const pop *second, int *step)
{
    int k = pr->steps(first);
    if (*step < k)
        return first;
    *step -= k;
    return second;
}

void proto_seq_cost(const protocol *pr, const pop *first, const pop *second, int nparties, proto_cost *acc)
{
    proto_cost a, b;
    memset(&a, 0, sizeof a);
    memset(&b, 0, sizeof b);
    pr->cost(first, nparties, &a);
    pr->cost(second, nparties, &b);
    proto_cost_add(acc, &a), proto_cost_add(acc, &b);
    acc->rounds = a.rounds + b.rounds;
}

/* ------------------------------------ REQCLAMP from REQUANT and CLAMP */

typedef struct {
    pop rq, cl;
    word *mid; /* the requantized values, then + z */
} reqclamp_state;

static void reqclamp_inner(const pop *op, pop *rq, pop *cl)
{
    memset(rq, 0, sizeof *rq);
    rq->kind = PK_REQUANT;
    rq->n = rq->na = op->n;
    rq->mult = op->mult, rq->nmult = op->nmult;
    rq->shift = op->shift, rq->nshift = op->nshift;
    rq->rot = op->rot;
    *cl = *rq;
    cl->kind = PK_CLAMP;
    cl->mult = cl->shift = NULL, cl->nmult = cl->nshift = 0;
    cl->lo = op->lo, cl->hi = op->hi, cl->bound = op->bound;
}


int proto_reqclamp_prepare(const protocol *pr, void *ps, pop *op, int step, char *err, size_t errlen)
{
    if (step == 0) {
        reqclamp_state *q = proto_zalloc(sizeof *q);
        op->state = q;
        reqclamp_inner(op, &q->rq, &q->cl);
        q->mid = proto_alloc(op->n * (size_t)pr->share_words * sizeof(word));
        q->rq.a = op->a, q->rq.d = q->mid;
        q->cl.a = q->mid, q->cl.d = op->d;
    }
    reqclamp_state *q = op->state;
    const pop *in = seq_at(pr, &q->rq, &q->cl, &step);
    return pr->prepare(ps, in == &q->rq ? &q->rq : &q->cl, step, err, errlen);
}

int proto_reqclamp_finish(const protocol *pr, void *ps, pop *op, int step, char *err, size_t errlen)
{
    reqclamp_state *q = op->state;
    const pop *in = seq_at(pr, &q->rq, &q->cl, &step);
    pop *cur = in == &q->rq ? &q->rq : &q->cl;
    if (pr->finish(ps, cur, step, err, errlen) != 0)
        return -1;
    if (step + 1 < pr->steps(cur))
        return 0;
    if (cur == &q->rq) {
        pr->addc(ps, q->mid, q->mid, &op->zp, op->n, 1);
        return 0;
    }
    free(q->mid);
    free(q);
    op->state = NULL;
    return 0;
}

/* the two inner operations of a composite (registers unset) */
static void composite_inner(const pop *op, pop *first, pop *second)
{
    if (op->kind == PK_CLAMP)
        clamp_inner(op, first, second);
    else
        reqclamp_inner(op, first, second);
}

int proto_composite_steps(const protocol *pr, const pop *op)
{
    pop a, b;
    composite_inner(op, &a, &b);
    return pr->steps(&a) + pr->steps(&b);
}

void proto_composite_cost(const protocol *pr, const pop *op, int nparties, proto_cost *acc)
{
    pop a, b;
    composite_inner(op, &a, &b);
    proto_seq_cost(pr, &a, &b, nparties, acc);
}

void proto_composite_deal(const protocol *pr, void *ps, const pop *op, int step)
{
    pop a, b;
    composite_inner(op, &a, &b);
    const pop *in = seq_at(pr, &a, &b, &step);
    pr->deal(ps, in, step);
}

void proto_composite_prep_cost(const protocol *pr, const pop *op, int step, int nparties, proto_cost *acc)
{
    pop a, b;
    composite_inner(op, &a, &b);
    const pop *in = seq_at(pr, &a, &b, &step);
    pr->prep_cost(in, step, nparties, acc);
}

/* ------------------------------------------------ LUT by the step sum */

typedef struct {
    pop ltz;
    size_t m;
    int64_t t[255], d[255]; /* the change points and their steps */
    word *x, *b;            /* m n elements: x - t_j in block j, then LTZ of each */
} lut_state;

size_t proto_lut_points(const pop *op, int64_t *t, int64_t *d)
{
    size_t m = 0;
    for (int k = 1; k < 256; k++)
        if (op->table[k] != op->table[k - 1]) {
            if (t)
                t[m] = op->lo + k, d[m] = op->table[k] - op->table[k - 1];
            m++;
        }
    return m;
}

static void lut_inner(const pop *op, pop *ltz)
{
    memset(ltz, 0, sizeof *ltz);
    ltz->kind = PK_LTZ;
    ltz->n = ltz->na = proto_lut_points(op, NULL, NULL) * op->n;
    ltz->bound = 9; /* |x - t| <= 255 for x and t among the 256 codes */
    ltz->rot = op->rot;
}

int proto_lut_steps(const protocol *pr, const pop *op)
{
    pop ltz;
    lut_inner(op, &ltz);
    return pr->steps(&ltz);
}

int proto_lut_prepare(const protocol *pr, void *ps, pop *op, int step, char *err, size_t errlen)
{
    size_t n = op->n, sw = (size_t)pr->share_words;
    if (step == 0) {
        lut_state *l = proto_zalloc(sizeof *l);
        op->state = l;
        lut_inner(op, &l->ltz);
        l->m = proto_lut_points(op, l->t, l->d);
        l->x = proto_alloc(l->m * n * sw * sizeof(word));
        l->b = proto_alloc(l->m * n * sw * sizeof(word));
        for (size_t j = 0; j < l->m; j++) {
            int64_t neg = -l->t[j];
            pr->addc(ps, l->x + j * n * sw, op->a, &neg, n, 1);
        }
        l->ltz.a = l->x, l->ltz.d = l->b;
    }
    lut_state *l = op->state;
    return pr->prepare(ps, &l->ltz, step, err, errlen);
}

/* T(x) = T(lo + 255) - sum_t d_t [x < t] */
int proto_lut_finish(const protocol *pr, void *ps, pop *op, int step, char *err, size_t errlen)
{
    lut_state *l = op->state;
    size_t n = op->n, sw = (size_t)pr->share_words;
    if (pr->finish(ps, &l->ltz, step, err, errlen) != 0)
        return -1;
    if (step + 1 < pr->steps(&l->ltz))
        return 0;
    for (size_t j = 0; j < l->m; j++) {
        int64_t neg = -l->d[j];
        word *bj = l->b + j * n * sw;
        pr->mulc(ps, j ? bj : op->d, bj, &neg, n, 1);
        if (j)
            pr->add(ps, op->d, op->d, bj, n, n);
    }
    pr->addc(ps, op->d, op->d, &op->table[255], n, 1);
    free(l->x), free(l->b);
    free(l);
    op->state = NULL;
    return 0;
}

void proto_lut_cost(const protocol *pr, const pop *op, int nparties, proto_cost *acc)
{
    pop ltz;
    lut_inner(op, &ltz);
    pr->cost(&ltz, nparties, acc);
}

void proto_lut_deal(const protocol *pr, void *ps, const pop *op, int step)
{
    pop ltz;
    lut_inner(op, &ltz);
    pr->deal(ps, &ltz, step);
}

void proto_lut_prep_cost(const protocol *pr, const pop *op, int step, int nparties, proto_cost *acc)
{
    pop ltz;
    lut_inner(op, &ltz);
    pr->prep_cost(&ltz, step, nparties, acc);
}
