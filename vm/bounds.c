/* bounds: interval propagation from the inputs' ranges, and the secure
 * operations' preconditions checked on it (see bounds.h). */
#include "vm/bounds.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/proto/proto.h"
#include "vm/vm.h"

__extension__ typedef __int128 i128;


typedef struct {
    int64_t lo, hi;
} ival;

/* a register's intervals: element j lies in v[j mod p] */
typedef struct {
    uint64_t p;
    ival *v;
} areg;

/* A register's last writer. Intervals lose that a - [a < b] (a - b), max
 * pooling's and argmax's select, is a or b; chained, the bound would grow
 * by 2^8 a level. The select is recognised from its writers instead. */
typedef struct {
    uint32_t ver;             /* writes so far */
    int op;                   /* the last writer's opcode */
    uint32_t src[2], sver[2]; /* SUB, MUL: its operands and their versions then */
    ival was[2];              /* and their hulls then */
} adef;

typedef struct {
    const qbc_program *p;
    areg *reg, *con; /* secret registers; constant registers as exact intervals */
    adef *def;       /* per secret register */
    uint32_t pc, layer; /* the instruction checked; a refused one's layer */
    uint32_t fit;       /* vm_check_fit's bits; 0: vm_check_bounds */
    char *err;
    size_t errlen;
} bctx;

/* ---------------------------------------------------------- intervals */

static const ival ANY = {INT64_MIN, INT64_MAX};

/* [lo, hi], or any value once a bound leaves int64: the ring wraps there */
static ival iv(i128 lo, i128 hi)
{
    return lo < INT64_MIN || hi > INT64_MAX ? ANY : (ival){(int64_t)lo, (int64_t)hi};
}
static ival iv1(int64_t c) { return (ival){c, c}; }
static i128 min128(i128 a, i128 b) { return a < b ? a : b; }
static i128 max128(i128 a, i128 b) { return a > b ? a : b; }
static ival iv_add(ival a, ival b) { return iv((i128)a.lo + b.lo, (i128)a.hi + b.hi); }
static ival iv_sub(ival a, ival b) { return iv((i128)a.lo - b.hi, (i128)a.hi - b.lo); }
static ival iv_hull(ival a, ival b) { return (ival){a.lo < b.lo ? a.lo : b.lo, a.hi > b.hi ? a.hi : b.hi}; }

static ival iv_mul(ival a, ival b)
{
    i128 c[4] = {(i128)a.lo * b.lo, (i128)a.lo * b.hi, (i128)a.hi * b.lo, (i128)a.hi * b.hi};
    i128 lo = c[0], hi = c[0];
    for (int k = 1; k < 4; k++)
        lo = min128(lo, c[k]), hi = max128(hi, c[k]);
    return iv(lo, hi);
}

/* the largest |value| */
static i128 iv_mag(ival a) { return max128(-(i128)a.lo, (i128)a.hi); }

static i128 floor_pow2(i128 x, int d)
{
    i128 q = (x < 0 ? -x : x) >> d;
    return x < 0 && (q << d) != -x ? -q - 1 : x < 0 ? -q : q;
}

/* min(max(x, lo), hi) for lo <= hi */
static ival iv_clamp(ival x, int64_t lo, int64_t hi)
{
    ival r = {x.lo < lo ? lo : x.lo > hi ? hi : x.lo, x.hi > hi ? hi : x.hi < lo ? lo : x.hi};
    return r;
}

static double lg(i128 m) { return m > 0 ? log2((double)m) : 0.0; }

/* ---------------------------------------------------------- registers */

static ival at(const areg *r, uint64_t j) { return r->v[j % r->p]; }

static ival hull(const areg *r)
{
    ival h = r->v[0];
    for (uint64_t j = 1; j < r->p; j++)
        h = iv_hull(h, r->v[j]);
    return h;
}

static uint64_t lcm(uint64_t a, uint64_t b)
{
    uint64_t x = a, y = b;
    while (y) {
        uint64_t t = x % y;
        x = y, y = t;
    }
    return a / x * b;
}

/* register r's new intervals (period p), kept as one when they all agree */
static void put(bctx *b, uint32_t r, uint64_t p, ival *v)
{
    uint64_t j = 1;
    while (j < p && v[j].lo == v[0].lo && v[j].hi == v[0].hi)
        j++;
    free(b->reg[r].v);
    b->reg[r] = (areg){j == p ? 1 : p, v};
}

static ival *alloc_iv(uint64_t n) { return proto_alloc((size_t)n * sizeof(ival)); }

/* one interval for every element of register r */
static void put1(bctx *b, uint32_t r, ival x)
{
    ival *v = alloc_iv(1);
    v[0] = x;
    put(b, r, 1, v);
}

/* register r element by element (a COPY writes part of it) */
static ival *expand(bctx *b, uint32_t r)
{
    uint64_t n = b->p->slen[r];
    areg *a = &b->reg[r];
    if (a->p != n) {
        ival *v = alloc_iv(n);
        for (uint64_t j = 0; j < n; j++)
            v[j] = at(a, j);
        free(a->v);
        *a = (areg){n, v};
    }
    return a->v;
}

static void map2(bctx *b, uint32_t d, const areg *x, const areg *y, ival (*f)(ival, ival))
{
    uint64_t n = lcm(x->p, y->p);
    ival *v = alloc_iv(n);
    for (uint64_t j = 0; j < n; j++)
        v[j] = f(at(x, j), at(y, j));
    put(b, d, n, v);
}

/* ------------------------------------------------------------ refusals */

/* The layer an instruction belongs to: the first whose output depends on
 * its result (the scheduler interleaves independent layers, so the next
 * LAYER marker may be another's); p->nlayers when none does. */
static uint32_t layer_of(const qbc_program *p, uint32_t pc)
{
    uint8_t *dep = proto_zalloc(p->nsregs + 1);
    uint32_t layer = p->nlayers;
    if (op_table[qbc_op(p->code[pc])].writes)
        dep[p->code[pc + 1]] = 1;
    for (pc += 1 + (uint32_t)qbc_nops(p->code[pc]); pc < p->ncode && layer == p->nlayers;
         pc += 1 + (uint32_t)qbc_nops(p->code[pc])) {
        int op = qbc_op(p->code[pc]), writes = op_table[op].writes, in = op == OP_COPY && dep[p->code[pc + 1]];
        const char *sig = op_table[op].sig;
        for (int k = writes; sig[k]; k++)
            in |= sig[k] == 's' && dep[p->code[pc + 1 + k]];
        if (op == OP_LAYER && dep[p->layers[p->code[pc + 1]].reg])
            layer = p->code[pc + 1];
        else if (writes)
            dep[p->code[pc + 1]] = (uint8_t)in;
    }
    free(dep);
    return layer;
}

static int refuse(bctx *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int refuse(bctx *b, const char *fmt, ...)
{
    const qbc_program *p = b->p;
    b->layer = layer_of(p, b->pc);
    const char *name = b->layer < p->nlayers ? p->layers[b->layer].name : NULL;
    int n = snprintf(b->err, b->errlen, "instruction at offset %zu (%s%s%s): ", p->code_offset + (size_t)b->pc * 4,
                     op_table[qbc_op(p->code[b->pc])].name, name ? ", layer " : "", name ? name : "");
    va_list ap;
    va_start(ap, fmt);
    if (n >= 0 && (size_t)n < b->errlen)
        vsnprintf(b->err + n, b->errlen - (size_t)n, fmt, ap);
    va_end(ap);
    return -1;
}

#define PROMISE "(acc_bound is a promise; compile with qnnc --proven-bounds)"

/* |each of the compared values| < 2^bits (a promise in vm_check_fit: a
 * broken one gives a wrong result, over F_p not even a bit; the active
 * field protocol therefore also has proven_bounds, where it is checked) */
static int compared(bctx *b, ival x, uint32_t bits)
{
    i128 m = iv_mag(x);
    return b->fit || m < ((i128)1 << bits) ? 0
                                 : refuse(b, "bound 2^%u is not implied by the inputs' ranges (|compared| reaches 2^%.2f) " PROMISE,
                                          bits, lg(m));
}

/* ---------------------------------------------------------- truncations */

/* element j of a truncation: y ~ (m x + off) / 2^d, off one of two offsets */
typedef struct {
    int64_t m, off0, off1;
    int d;
} trunc_k;

/* the probabilistic form (fast), or TFLite's rounding's W0 and W1 (exact) */
static trunc_k trunc_of(const pop *op, uint64_t j, int exact)
{
    trunc_k t = {0, 0, 0, 0};
    if (exact) {
        int64_t k;
        proto_exact_consts(op, (size_t)j, &t.m, &k, &t.off0, &t.off1);
        t.d = (int)k;
    } else {
        uint8_t d;
        t.m = (int64_t)proto_trunc_mult(op, (size_t)j, &d);
        t.d = d;
    }
    return t;
}

/* the largest |m x + off| over x and both offsets */
static i128 trunc_reach(ival x, const trunc_k *t)
{
    ival mx = iv_mul(x, iv1(t->m));
    return max128(iv_mag(iv_add(mx, iv1(t->off0))), iv_mag(iv_add(mx, iv1(t->off1))));
}

/* the bits a truncation's |m x + off| must stay below: the ring's masked
 * opening needs 62, the field's value fit */
static uint32_t trunc_bits(const bctx *b) { return b->fit ? b->fit : 62; }

/* Every truncation opens m x + off masked, which needs |m x + off| < 2^62.
 * The refusal gives |x| against what would fit: how far an input's range
 * (an i32 bias's, say) would have to shrink. */
static int trunc_check(bctx *b, const pop *op, uint64_t j, ival x, int exact)
{
    trunc_k t = trunc_of(op, j, exact), fast = trunc_of(op, j, 0);
    i128 lim = (i128)1 << trunc_bits(b);
    if (trunc_reach(x, &t) < lim)
        return 0;
    i128 off = max128(iv_mag(iv1(t.off0)), iv_mag(iv1(t.off1))), fits = (lim - 1 - off) / t.m;
    return refuse(b, "truncation needs |m x + offsets| < 2^%u with m = %lld: |x| reaches %llu from the inputs' ranges, at most %llu fits%s",
                  trunc_bits(b), (long long)t.m, (unsigned long long)iv_mag(x), (unsigned long long)fits,
                  exact && trunc_reach(x, &fast) < lim ? " (rounding=fast on this layer would fit)" : "");
}

/* The result of truncating x: either rounding lies within 1 of floor(m x /
 * 2^d) for REQUANT, within 2 for a division (m = round(2^32 / divisor)). */
static ival trunc_result(const pop *op, uint64_t j, ival x)
{
    trunc_k t = trunc_of(op, j, 0);
    ival mx = iv_mul(x, iv1(t.m));
    return iv(floor_pow2(mx.lo, t.d) - 2, floor_pow2(mx.hi, t.d) + 2);
}

/* the period over which an instruction's elements repeat: its input's and
 * its constants' (every one divides the register's length) */
static uint64_t period(const areg *x, const pop *op)
{
    uint64_t n = x->p;
    size_t c[3] = {op->nmult, op->nshift, op->ndivisor};
    for (int k = 0; k < 3; k++)
        n = c[k] ? lcm(n, c[k]) : n;
    return n;
}

/* REQUANT, DIVR: an exact division also needs |x| <= 256 divisor (its
 * input is a sum of divisor values of an 8-bit dtype, exact.c) */
static int requant(bctx *b, const uint32_t *a, const pop *op)
{
    const areg *x = &b->reg[a[1]];
    int exact = op->kind == PK_EXACT;
    uint64_t n = period(x, op);
    ival *v = alloc_iv(n);
    for (uint64_t j = 0; j < n; j++) {
        ival xj = at(x, j);
        int64_t dv = op->divisor ? op->divisor[j % op->ndivisor] : 0;
        if (trunc_check(b, op, j, xj, exact) ||
            (exact && dv && iv_mag(xj) > (i128)256 * dv &&
             refuse(b, "exact division by %lld needs |x| <= %lld, and the inputs' ranges give %llu", (long long)dv,
                    (long long)(256 * dv), (unsigned long long)iv_mag(xj)))) {
            free(v);
            return -1;
        }
        v[j] = trunc_result(op, j, xj);
    }
    put(b, a[0], n, v);
    return 0;
}

/* REQCLAMP: channel j's t = y + z is compared as 2^e t, e its d less the
 * smallest, so |t - lo| and |hi - t| stay below 2^(bound - e) */
static int reqclamp(bctx *b, const uint32_t *a, const pop *op)
{
    const areg *x = &b->reg[a[1]];
    uint64_t n = period(x, op);
    int dmin = 62;
    for (uint64_t j = 0; j < n; j++) {
        int d = trunc_of(op, j, 0).d;
        dmin = d < dmin ? d : dmin;
    }
    ival *v = alloc_iv(n);
    for (uint64_t j = 0; j < n; j++) {
        ival t = iv_add(trunc_result(op, j, at(x, j)), iv1(op->zp));
        uint32_t own = op->bound - (uint32_t)(trunc_of(op, j, 0).d - dmin);
        if (trunc_check(b, op, j, at(x, j), op->kind == PK_EXACT) || compared(b, iv_sub(t, iv1(op->lo)), own) ||
            compared(b, iv_sub(iv1(op->hi), t), own)) {
            free(v);
            return -1;
        }
        v[j] = iv_clamp(t, op->lo, op->hi);
    }
    put(b, a[0], n, v);
    return 0;
}

/* REQS: x holds m x + off0; the parameters (Delta per channel, z, lo, hi,
 * t3) are secret values with intervals of their own. Fast rounding
 * truncates x - 2^(shift - 1), exact x and x - Delta and, unless QBC_RELU,
 * compares lanes t3 and t3 + 1 too (t3 is an input, not derived). */
static int reqs(bctx *b, const uint32_t *a, const pop *op)
{
    const areg *x = &b->reg[a[1]], *prm = &b->reg[a[2]];
    uint64_t nq = op->nb - 4, n = lcm(x->p, nq);
    ival z = at(prm, nq), lo = at(prm, nq + 1), hi = at(prm, nq + 2), t3 = at(prm, nq + 3);
    int64_t pub;
    ival *v = alloc_iv(n);
    for (uint64_t j = 0; j < n; j++) {
        ival xj = at(x, j), delta = proto_reqs_public_delta(op, &pub) ? iv1(pub) : at(prm, j % nq);
        ival w1 = !op->exact ? iv_sub(xj, iv1((int64_t)1 << (op->kshift - 1))) : op->relu ? xj : iv_sub(xj, delta);
        ival w = iv_hull(xj, w1);
        i128 r = iv_mag(w);
        ival t = iv_add(iv(floor_pow2(w.lo, (int)op->kshift) - 1, floor_pow2(w.hi, (int)op->kshift) + 1), z);
        int rc = r >= (i128)1 << trunc_bits(b)
                     ? refuse(b, "truncation needs |x| < 2^%u, and the inputs' ranges give 2^%.2f", trunc_bits(b), lg(r))
                     : 0;
        rc = rc ? rc : compared(b, iv_sub(t, lo), op->bound);
        rc = rc ? rc : compared(b, iv_sub(hi, t), op->bound);
        rc = rc || !op->exact || op->relu ? rc : compared(b, iv_sub(t, iv_add(t3, (ival){0, 1})), op->bound);
        if (rc) {
            free(v);
            return -1;
        }
        v[j] = iv_add(iv_hull(iv_hull(lo, hi), t), (ival){-1, 1}); /* TFLite's tie correction: one either way */
    }
    put(b, a[0], n, v);
    return 0;
}

/* --------------------------------------------------- other instructions */

/* in-bounds taps of output position o along one axis of n inputs */
static uint64_t taps_in(uint32_t o, uint32_t st, uint32_t pad, uint32_t k, uint32_t dil, uint32_t n)
{
    int64_t base = geom_in(o, st, pad, 0, dil), first = base >= 0 ? 0 : (-base + dil - 1) / dil;
    int64_t last = (int64_t)n - 1 - base;
    if (last < 0)
        return 0;
    last = last / dil < (int64_t)k - 1 ? last / dil : (int64_t)k - 1;
    return last >= first ? (uint64_t)(last - first + 1) : 0;
}

/* each output sums its window's in-bounds taps: as many values of x */
static void poolsum(bctx *b, const uint32_t *a)
{
    geom g = geom_decode(a + 2);
    ival x = hull(&b->reg[a[1]]);
    uint64_t n = b->p->slen[a[0]];
    ival *v = alloc_iv(n);
    for (uint32_t oy = 0; oy < g.oh; oy++) {
        uint64_t ny = taps_in(oy, g.sh, g.pt, g.kh, g.dh, g.h);
        for (uint32_t ox = 0; ox < g.ow; ox++) {
            i128 cnt = (i128)ny * taps_in(ox, g.sw, g.pl, g.kw, g.dw, g.w);
            for (uint32_t ch = 0; ch < g.c; ch++)
                v[((uint64_t)oy * g.ow + ox) * g.c + ch] = iv(cnt * x.lo, cnt * x.hi);
        }
    }
    put(b, a[0], n, v);
}

/* a sum of at most taps products (padding adds none) */
static int conv(bctx *b, const uint32_t *a, int op)
{
    geom g = geom_decode(a + 3);
    ival prod = iv_mul(hull(&b->reg[a[1]]), hull(&b->reg[a[2]]));
    i128 taps = (i128)g.kh * g.kw * (op == OP_CONV2D ? g.c : 1);
    ival y = iv(taps * min128(prod.lo, 0), taps * max128(prod.hi, 0));
    if (a[17] && !b->fit && iv_mag(y) >= ((i128)1 << a[17]))
        return refuse(b, "output bound 2^%u is not implied by the inputs' ranges (|output| reaches 2^%.2f) " PROMISE,
                      a[17], lg(iv_mag(y)));
    put1(b, a[0], y);
    return 0;
}

/* every copied element lies in the source's hull (source and destination
 * may be one register) */
static void copy(bctx *b, const uint32_t *a)
{
    ival s = hull(&b->reg[a[1]]);
    ival *v = expand(b, a[0]);
    for (uint64_t k = 0; k < a[2]; k++)
        for (uint64_t i = 0; i < a[3]; i++)
            v[k * a[4] + a[5] + i] = s;
}

static void fillc(bctx *b, uint32_t r, const areg *c)
{
    put(b, r, c->p, memcpy(alloc_iv(c->p), c->v, c->p * sizeof(ival)));
}

/* a softmax's receiver runs TFLite's kernel on values of its dtype */
static int output(bctx *b, const uint32_t *a)
{
    const qbc_output *o = &b->p->outputs[a[1]];
    ival x = hull(&b->reg[a[0]]);
    if (b->fit || o->kind != OUT_SOFTMAX || (x.lo >= dtype_min(o->dtype) && x.hi <= dtype_max(o->dtype)))
        return 0;
    return refuse(b, "softmax needs values of %s, and the inputs' ranges give [%lld, %lld]", dtype_names[o->dtype],
                  (long long)x.lo, (long long)x.hi);
}

static int ltz(bctx *b, const uint32_t *a)
{
    if (compared(b, hull(&b->reg[a[1]]), a[2]))
        return -1;
    put1(b, a[0], (ival){0, 1});
    return 0;
}

static int clamp(bctx *b, const uint32_t *a, const pop *op)
{
    ival x = hull(&b->reg[a[1]]);
    if (compared(b, iv_sub(x, iv1(op->lo)), op->bound) || compared(b, iv_sub(iv1(op->hi), x), op->bound))
        return -1;
    put1(b, a[0], iv_clamp(x, op->lo, op->hi));
    return 0;
}

/* the step sum compares x with the table's codes: x must be one of them */
static int lut(bctx *b, const uint32_t *a, const pop *op)
{
    ival x = hull(&b->reg[a[1]]);
    if (x.lo < op->lo || x.hi > op->lo + 255)
        return refuse(b, "a table lookup's index may leave the table's codes [%lld, %lld]", (long long)op->lo,
                      (long long)op->lo + 255);
    int64_t lo = op->table[0], hi = op->table[0];
    for (int k = 1; k < 256; k++)
        lo = op->table[k] < lo ? op->table[k] : lo, hi = op->table[k] > hi ? op->table[k] : hi;
    put1(b, a[0], iv(lo, hi));
    return 0;
}

/* r = a - e, e = [bit] d written by MUL, d = a - b by SUB with this a
 * unchanged since and bit in [0, 1] then: r is a or b, element by element */
static int select_of(const bctx *b, uint32_t ra, uint32_t re, ival *r)
{
    const adef *e = &b->def[re];
    for (int k = 0; e->op == OP_MUL && k < 2; k++) {
        const adef *d = &b->def[e->src[1 - k]];
        if (e->was[k].lo >= 0 && e->was[k].hi <= 1 && d->ver == e->sver[1 - k] && d->op == OP_SUB &&
            d->src[0] == ra && d->sver[0] == b->def[ra].ver) {
            *r = iv_hull(d->was[0], d->was[1]);
            return 1;
        }
    }
    return 0;
}

static void sub(bctx *b, const uint32_t *a)
{
    ival r;
    if (select_of(b, a[1], a[2], &r))
        put1(b, a[0], r);
    else
        map2(b, a[0], &b->reg[a[1]], &b->reg[a[2]], iv_sub);
}

/* Every opcode has its case and there is no default, so that a new one
 * fails to compile (-Wswitch) until it is handled here. The communicating
 * ones are decoded as the protocols see them. */
static int exec(bctx *b, enum opcode code, const uint32_t *a)
{
    areg *r = b->reg, *c = b->con;
    pop op;
    if (code < OP__COUNT && op_table[code].cls != CC_LOCAL)
        vm_decode(b->p, b->pc, &op, NULL, NULL);
    switch (code) {
    case OP_ROUND:
    case OP_LAYER:
    case OP__COUNT: return 0;
    case OP_ADD: map2(b, a[0], &r[a[1]], &r[a[2]], iv_add); return 0;
    case OP_SUB: sub(b, a); return 0;
    case OP_ADDC: map2(b, a[0], &r[a[1]], &c[a[2]], iv_add); return 0;
    case OP_MULC:
    case OP_MUL: map2(b, a[0], &r[a[1]], code == OP_MUL ? &r[a[2]] : &c[a[2]], iv_mul); return 0;
    case OP_FILLC: fillc(b, a[0], &c[a[1]]); return 0;
    case OP_COPY: copy(b, a); return 0;
    case OP_POOLSUM: poolsum(b, a); return 0;
    case OP_WINDOW: put1(b, a[0], hull(&r[a[1]])); return 0; /* a tap out of bounds takes an in-bounds one */
    case OP_INPUT: {
        int64_t lo = op.lo;
        uint32_t bits = op.bound;
        if (!b->fit) /* a field protocol takes the dtype's whole range */
            proto_input_range(&lo, &bits);
        put1(b, a[0], iv(lo, (i128)lo + ((i128)1 << bits) - 1));
        return 0;
    }
    case OP_OUTPUT: return output(b, a);
    case OP_CONV2D:
    case OP_DWCONV2D: return conv(b, a, code);
    case OP_REQUANT:
    case OP_DIVR: return requant(b, a, &op);
    case OP_LTZ: return ltz(b, a);
    case OP_CLAMP: return clamp(b, a, &op);
    case OP_REQCLAMP: return reqclamp(b, a, &op);
    case OP_REQS: return reqs(b, a, &op);
    case OP_LUT: return lut(b, a, &op);
    }
    return 0;
}

/* vm_check_fit: register r's values stay inside int64 (an interval that
 * left it became ANY), and so below 2^fit */
static int fits(bctx *b, uint32_t r)
{
    const areg *x = &b->reg[r];
    for (uint64_t j = 0; j < x->p; j++)
        if ((x->v[j].lo == INT64_MIN && x->v[j].hi == INT64_MAX) || iv_mag(x->v[j]) >> b->fit)
            return refuse(b, "a value leaves (-2^%u, 2^%u) for inputs in their dtype ranges: over F_p it would not "
                          "wrap as it does in Z_2^64", b->fit, b->fit);
    return 0;
}

/* one instruction, and its writer's record (its operands as they were) */
static int step(bctx *b, enum opcode code, const uint32_t *a)
{
    adef nd = {0, code, {0, 0}, {0, 0}, {ANY, ANY}};
    for (int k = 0; (code == OP_SUB || code == OP_MUL) && k < 2; k++)
        nd.src[k] = a[1 + k], nd.sver[k] = b->def[a[1 + k]].ver, nd.was[k] = hull(&b->reg[a[1 + k]]);
    int rc = exec(b, code, a);
    if (rc == 0 && op_table[code].writes)
        nd.ver = b->def[a[0]].ver + 1, b->def[a[0]] = nd;
    return rc || !b->fit || !op_table[code].writes ? rc : fits(b, a[0]);
}

/* -------------------------------------------------------------- driver */

static areg *const_regs(const qbc_program *p)
{
    areg *c = proto_zalloc((p->ncregs + 1) * sizeof(areg));
    for (uint32_t i = 0; i < p->ncregs; i++) {
        c[i] = (areg){p->cregs[i].len, alloc_iv(p->cregs[i].len)};
        for (uint32_t j = 0; j < p->cregs[i].len; j++)
            c[i].v[j] = iv1(p->cregs[i].val[j]);
    }
    return c;
}

static void free_regs(areg *r, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        free(r[i].v);
    free(r);
}

static int check(const qbc_program *p, uint32_t fit, uint32_t *layer, char *err, size_t errlen)
{
    bctx b = {p, proto_zalloc((p->nsregs + 1) * sizeof(areg)), const_regs(p), proto_zalloc((p->nsregs + 1) * sizeof(adef)),
              0, 0, fit, err, errlen};
    for (uint32_t i = 0; i < p->nsregs; i++) /* the VM starts every register at zero */
        put1(&b, i, iv1(0));
    int rc = 0;
    for (; rc == 0 && b.pc < p->ncode; b.pc += rc ? 0 : 1 + (uint32_t)qbc_nops(p->code[b.pc]))
        rc = step(&b, (enum opcode)qbc_op(p->code[b.pc]), p->code + b.pc + 1);
    if (rc && layer)
        *layer = b.layer;
    free_regs(b.reg, p->nsregs);
    free_regs(b.con, p->ncregs);
    free(b.def);
    return rc;
}

int vm_check_bounds_at(const qbc_program *p, uint32_t *layer, char *err, size_t errlen)
{
    return check(p, 0, layer, err, errlen);
}

int vm_check_bounds(const qbc_program *p, char *err, size_t errlen)
{
    return check(p, 0, NULL, err, errlen);
}

int vm_check_fit(const qbc_program *p, uint32_t bits, uint32_t *layer, char *err, size_t errlen)
{
    if (bits >= 1 && bits <= 63)
        return check(p, bits, layer, err, errlen);
    snprintf(err, errlen, "vm_check_fit: %u bits, not 1 to 63", bits);
    return -1;
}
