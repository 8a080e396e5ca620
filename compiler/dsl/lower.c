/* lower: semantic checks and lowering of layers (see lower.h).
 *
 * Every layer follows TensorFlow Lite's reference kernels: inputs and weights
 * are shifted by their zero points, accumulated in 32 bits (here: in the
 * ring), requantized with MultiplyByQuantizedMultiplier, offset by the output
 * zero point and clamped to the activation range. */
#include "compiler/dsl/lower.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/core/bits.h"
#include "runtime/core/qmath.h"
#include "runtime/core/geom.h"
#include "runtime/io/tensorio.h"
#include "compiler/compile.h"
#include "compiler/diag.h"
#include "compiler/emit.h"
#include "vm/bounds.h"

typedef struct {
    const char *name;
    loc at;
    uint8_t dtype;
    qbc_shape shape;
    int nq;        /* 1: per-tensor, else per-channel along axis */
    int axis;
    float *scale;
    int32_t *zp;
    uint32_t reg;
    int party;     /* owner of an input, -1 for computed tensors */
    int bad;       /* its definition had errors: uses report nothing more */
    int raw;       /* an i32 input without quantization: a layer's secret= or weights beside it */
    int sec;       /* its quantization is the model owner's secret (a layer with secret=) */
    uint32_t zpreg; /* then its zero point, a secret register of one element */
} tensor;

typedef struct {
    emitter e;
    tensor *t;
    int nt, cap;
    const char *party_name[QBC_MAX_PARTIES];
    loc party_at[QBC_MAX_PARTIES];
    int party_set[QBC_MAX_PARTIES];
    int nparty_decl;
    int saw_network, noutputs;
    const stmt *st; /* the statement being lowered */
    int fast;       /* its rounding: 0 exact (TFLite's), 1 fast (probabilistic) */
    int64_t acc_bound; /* its acc_bound= (largest |accumulator|), 0 when not given */
    int proven;        /* --proven-bounds: every bound from the inputs' dtype ranges (vm/bounds.h) */
    int field;         /* --field: every value inside (-2^63, 2^63) (vm_check_fit) */
} lctx;

/* ---------------------------------------------------------------- helpers */

static void *xcalloc(size_t n, size_t sz)
{
    void *p = calloc(n ? n : 1, sz);
    if (!p) {
        fputs("qnnc: out of memory\n", stderr);
        exit(2);
    }
    return p;
}

static uint64_t elems(const qbc_shape *s) { return shape_elems(s); }

/* The program's size limits, checked before a statement allocates much and
 * after each one: registers within what the loader accepts (QBC_MAX_ELEMS),
 * registers and constants within the memory cap, so that a hostile program
 * is an error at its line rather than gigabytes of constants and a .qbc
 * that qnnvm refuses. more_regs and more_consts: what is about to come. */
static int over_limit(lctx *c, loc at, uint64_t more_regs, uint64_t more_consts)
{
    const qbc_program *p = &c->e.p;
    uint64_t regs = more_regs, consts = more_consts, max = more_regs, io = 0;
    for (uint32_t i = 0; i < p->nsregs; i++) {
        regs += p->slen[i];
        max = p->slen[i] > max ? p->slen[i] : max;
    }
    for (uint32_t i = 0; i < p->ncregs; i++)
        consts += p->cregs[i].len;
    for (uint32_t i = 0; i < p->ninputs; i++) /* as the loader counts a run's memory */
        io += shape_elems(&p->inputs[i].shape);
    for (uint32_t i = 0; i < p->noutputs; i++)
        io += 2 * shape_elems(&p->outputs[i].shape);
    uint64_t cap = tio_mem_cap() / sizeof(int64_t);
    if (regs <= QBC_MAX_ELEMS && regs + max + io + consts <= cap)
        return 0;
    diag_error(at, "the program is too large: %llu register and %llu constant elements (at most "
               "%llu registers, %llu in all under QNN_MAX_MEMORY)", (unsigned long long)regs,
               (unsigned long long)consts, (unsigned long long)QBC_MAX_ELEMS,
               (unsigned long long)cap);
    return -1;
}

static tensor *find_tensor(lctx *c, const char *name)
{
    for (int i = 0; i < c->nt; i++)
        if (strcmp(c->t[i].name, name) == 0)
            return &c->t[i];
    return NULL;
}

static tensor *new_tensor(lctx *c, const char *name, loc at)
{
    tensor *old = find_tensor(c, name);
    if (old) {
        diag_error(at, "'%s' is already defined (line %d)", name, old->at.line);
        return NULL;
    }
    if (c->nt == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 32;
        c->t = realloc(c->t, (size_t)c->cap * sizeof(tensor));
        if (!c->t) {
            fputs("qnnc: out of memory\n", stderr);
            exit(2);
        }
    }
    tensor *t = &c->t[c->nt++];
    memset(t, 0, sizeof *t);
    t->name = name;
    t->at = at;
    t->party = -1;
    return t;
}

static void set_quant(tensor *t, float scale, int32_t zp)
{
    t->nq = 1;
    t->axis = 0;
    t->scale = xcalloc(1, sizeof(float));
    t->zp = xcalloc(1, sizeof(int32_t));
    t->scale[0] = scale;
    t->zp[0] = zp;
}

static int party_index(lctx *c, const char *name, loc at)
{
    for (int i = 0; i < QBC_MAX_PARTIES; i++)
        if (c->party_set[i] && strcmp(c->party_name[i], name) == 0)
            return i;
    diag_error(at, "unknown party '%s'", name);
    return -1;
}

static int want_int(const value *v, long long lo, long long hi, const char *what, long long *out)
{
    if (!v || v->kind != V_INT) {
        if (v)
            diag_error(v->at, "%s must be an integer", what);
        return -1;
    }
    if (v->ival < lo || v->ival > hi) {
        diag_error(v->at, "%s %lld out of range [%lld, %lld]", what, v->ival, lo, hi);
        return -1;
    }
    *out = v->ival;
    return 0;
}

static int want_float(const value *v, const char *what, float *out)
{
    if (v->kind != V_NUM && v->kind != V_INT) {
        diag_error(v->at, "%s must be a number", what);
        return -1;
    }
    float f = strtof(v->text, NULL);
    if (!(f > 0.0f) || isinf(f)) {
        diag_error(v->at, "%s must be positive and finite", what);
        return -1;
    }
    *out = f;
    return 0;
}

/* A pair such as stride=2 or stride=[2, 1]. */
static int want_pair(const value *v, const char *what, long long lo, long long hi, uint32_t out[2])
{
    long long a, b;
    if (v->kind == V_LIST) {
        if (v->nitems != 2) {
            diag_error(v->at, "%s takes one value or a list of two", what);
            return -1;
        }
        if (want_int(v->items[0], lo, hi, what, &a) || want_int(v->items[1], lo, hi, what, &b))
            return -1;
    } else {
        if (want_int(v, lo, hi, what, &a))
            return -1;
        b = a;
    }
    out[0] = (uint32_t)a;
    out[1] = (uint32_t)b;
    return 0;
}

static int want_ident(const value *v, const char *what, const char *const *choices)
{
    if (v->kind == V_IDENT)
        for (int i = 0; choices[i]; i++)
            if (strcmp(v->text, choices[i]) == 0)
                return i;
    char list[512] = "";
    for (int i = 0; choices[i]; i++) {
        strncat(list, i ? ", " : "", sizeof list - strlen(list) - 1);
        strncat(list, choices[i], sizeof list - strlen(list) - 1);
    }
    diag_error(v->at, "%s must be one of: %s", what, list);
    return -1;
}

static int want_shape(const value *v, qbc_shape *s, int allow_minus)
{
    if (v->kind != V_LIST || v->nitems < 1 || v->nitems > QBC_MAX_DIMS) {
        diag_error(v->at, "a shape is a list of 1 to %d dimensions", QBC_MAX_DIMS);
        return -1;
    }
    s->ndim = (uint8_t)v->nitems;
    for (int i = 0; i < v->nitems; i++) {
        long long d;
        if (allow_minus && v->items[i]->kind == V_INT && v->items[i]->ival == -1) {
            s->dims[i] = 0;
            continue;
        }
        if (want_int(v->items[i], 1, 1 << 24, "dimension", &d))
            return -1;
        s->dims[i] = (uint32_t)d;
    }
    if (elems(s) > QBC_MAX_ELEMS) {
        diag_error(v->at, "tensor too large");
        return -1;
    }
    return 0;
}

static int dtype_of(const char *name, loc at)
{
    for (int i = 0; i < DT__COUNT; i++)
        if (strcmp(name, dtype_names[i]) == 0)
            return i;
    diag_error(at, "unknown dtype '%s' (expected u8, i8 or i32)", name);
    return -1;
}

/* Reads q(scales, zero_points[, axis=A]) into t. */
static int parse_quant(const quant *q, tensor *t)
{
    int ns = q->scales->kind == V_LIST ? q->scales->nitems : 1;
    int nz = q->zps->kind == V_LIST ? q->zps->nitems : 1;
    if (ns < 1 || (nz != 1 && nz != ns)) {
        diag_error(q->at, "quantization needs one zero point or one per scale");
        return -1;
    }
    t->nq = ns;
    t->scale = xcalloc((size_t)ns, sizeof(float));
    t->zp = xcalloc((size_t)ns, sizeof(int32_t));
    long long lo = dtype_min(t->dtype), hi = dtype_max(t->dtype);
    for (int i = 0; i < ns; i++) {
        const value *sv = q->scales->kind == V_LIST ? q->scales->items[i] : q->scales;
        const value *zv = q->zps->kind == V_LIST ? q->zps->items[nz == 1 ? 0 : i] : q->zps;
        long long z;
        if (want_float(sv, "scale", &t->scale[i]) || want_int(zv, lo, hi, "zero point", &z))
            return -1;
        t->zp[i] = (int32_t)z;
    }
    long long axis = 0;
    if (q->axis && want_int(q->axis, 0, t->shape.ndim - 1, "quantization axis", &axis))
        return -1;
    t->axis = (int)axis;
    if (ns > 1 && (t->axis >= t->shape.ndim || t->shape.dims[t->axis] != (uint32_t)ns)) {
        diag_error(q->at, "%d scales, but dimension %d of '%s' has %u entries", ns, t->axis,
                   t->name, t->axis < t->shape.ndim ? t->shape.dims[t->axis] : 0);
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------ argument handling */

typedef struct {
    const stmt *st;
    const char *layer;
} args;

static const value *kwarg(const args *a, const char *key)
{
    for (int i = 0; i < a->st->fn.nargs; i++)
        if (a->st->fn.args[i].key && strcmp(a->st->fn.args[i].key, key) == 0)
            return a->st->fn.args[i].val;
    return NULL;
}

/* Checks positional count and keyword names; allowed is NULL-terminated. */
static int check_args(const args *a, int min_pos, int max_pos, const char *const *allowed)
{
    int npos = 0, bad = 0;
    for (int i = 0; i < a->st->fn.nargs; i++) {
        const arg *g = &a->st->fn.args[i];
        if (!g->key) {
            if (npos++ == max_pos) {
                diag_error(g->val->at, "%s takes at most %d tensor argument%s", a->layer, max_pos,
                           max_pos == 1 ? "" : "s");
                bad = 1;
            }
            continue;
        }
        int ok = strcmp(g->key, "rounding") == 0; /* every layer's (lower_layer) */
        for (int k = 0; allowed && allowed[k]; k++)
            ok |= strcmp(g->key, allowed[k]) == 0;
        for (int j = 0; j < i; j++)
            if (a->st->fn.args[j].key && strcmp(a->st->fn.args[j].key, g->key) == 0) {
                diag_error(g->key_at, "%s: argument '%s' given twice", a->layer, g->key);
                bad = 1;
            }
        if (!ok) {
            diag_error(g->key_at, "%s has no argument '%s'", a->layer, g->key);
            bad = 1;
        }
    }
    if (npos < min_pos) {
        diag_error(a->st->fn.at, "%s needs %d tensor argument%s, got %d", a->layer, min_pos,
                   min_pos == 1 ? "" : "s", npos);
        bad = 1;
    }
    return bad ? -1 : 0;
}

static tensor *pos_tensor(lctx *c, const args *a, int k)
{
    for (int i = 0, n = 0; i < a->st->fn.nargs; i++) {
        const arg *g = &a->st->fn.args[i];
        if (g->key || n++ != k)
            continue;
        if (g->val->kind != V_IDENT) {
            diag_error(g->val->at, "%s: argument %d must be a tensor name", a->layer, k + 1);
            return NULL;
        }
        tensor *t = find_tensor(c, g->val->text);
        if (!t)
            diag_error(g->val->at, "unknown tensor '%s'", g->val->text);
        else if (a->st->kind == S_LAYER && strcmp(t->name, a->st->name) == 0) {
            diag_error(g->val->at, "%s: '%s' is used in its own definition", a->layer, t->name);
            return NULL;
        }
        return t && !t->bad ? t : NULL;
    }
    return NULL;
}

static int npos_args(const args *a)
{
    int n = 0;
    for (int i = 0; i < a->st->fn.nargs; i++)
        n += a->st->fn.args[i].key == NULL;
    return n;
}

/* ------------------------------------------------------- emitted patterns */

static uint32_t addc(lctx *c, uint32_t x, uint64_t len, int64_t k)
{
    if (k == 0)
        return x;
    uint32_t d = em_sreg(&c->e, len);
    EMIT(&c->e, OP_ADDC, d, x, em_const1(&c->e, k));
    return d;
}

static uint32_t binop(lctx *c, int op, uint32_t a, uint32_t b, uint64_t len)
{
    uint32_t d = em_sreg(&c->e, len);
    EMIT(&c->e, op, d, a, b);
    return d;
}

/* [x < 0] for |x| < 2^bits; secure protocols pay in proportion to bits. */
static uint32_t ltz(lctx *c, uint32_t x, uint64_t len, uint32_t bits)
{
    uint32_t d = em_sreg(&c->e, len);
    EMIT(&c->e, OP_LTZ, d, x, bits);
    return d;
}

/* Bounds for comparisons. A requantized value y = t / 2^(31 + right) with
 * |t| < 2^62 (int32 accumulators, docs/protocols.md) has |y| < 2^(31 - right);
 * a clamp compares y + zp - bound, below 2^(32 - right) for right <= 22.
 * Differences of two values of an 8-bit dtype lie in [-255, 255]: below 2^8. */
static uint32_t requant_bits(int min_right)
{
    return min_right <= 0 ? 33 : min_right >= 22 ? 10 : (uint32_t)(32 - min_right);
}
static uint32_t diff_bits(int dtype) { return dtype == DT_I32 ? 33 : 8; }

/* min(max(x, lo), hi): one CLAMP, whose protocols compare x - lo and hi - x
 * together (both must stay below 2^bits) and take the products
 * [x < lo](x - lo) and [x > hi](hi - x) as they see fit. */
static uint32_t clamp(lctx *c, uint32_t x, uint64_t len, int64_t lo, int64_t hi, uint32_t bits)
{
    uint32_t d = em_sreg(&c->e, len);
    int64_t b[2] = {lo, hi};
    EMIT(&c->e, OP_CLAMP, d, x, em_const(&c->e, b, 2), bits);
    return d;
}

/* max(a, b) = a - [a < b](a - b), for values of an 8-bit dtype */
static uint32_t smax(lctx *c, uint32_t a, uint32_t b, uint64_t len)
{
    uint32_t d = binop(c, OP_SUB, a, b, len);
    uint32_t bit = ltz(c, d, len, diff_bits(DT_U8));
    return binop(c, OP_SUB, a, binop(c, OP_MUL, bit, d, len), len);
}

/* Activation range as CalculateActivationRangeQuantized (rounding in float). */
static void act_range(int act, int dtype, float scale, int32_t zp, int64_t *lo, int64_t *hi)
{
    qm_act_range(act, (int)dtype_min(dtype), (int)dtype_max(dtype), scale, zp, lo, hi);
}

static const char *const act_names[] = {"none", "relu", "relu6", NULL};

/* ------------------------------------------------------------- geometry */

typedef struct {
    uint32_t stride[2], dil[2], size[2];
    int same;
    int act;
} winargs;

static int parse_window(const args *a, winargs *w, int has_size, int has_dil)
{
    static const char *const pads[] = {"same", "valid", NULL};
    const value *v;
    w->stride[0] = w->stride[1] = w->dil[0] = w->dil[1] = 1;
    w->same = 0;
    w->act = 0;
    int bad = 0;
    if ((v = kwarg(a, "stride")))
        bad |= want_pair(v, "stride", 1, 1 << 16, w->stride);
    if (has_dil && (v = kwarg(a, "dilation")))
        bad |= want_pair(v, "dilation", 1, 1 << 16, w->dil);
    if ((v = kwarg(a, "padding"))) {
        int p = want_ident(v, "padding", pads);
        bad |= p < 0;
        w->same = p == 0;
    }
    if ((v = kwarg(a, "activation"))) {
        w->act = want_ident(v, "activation", act_names);
        bad |= w->act < 0;
    }
    if (has_size) {
        if (!(v = kwarg(a, "size"))) {
            diag_error(a->st->fn.at, "%s needs size=", a->layer);
            return -1;
        }
        bad |= want_pair(v, "size", 1, 1 << 16, w->size);
    }
    return bad ? -1 : 0;
}

/* Output size and leading padding as TFLite's ComputePaddingHeightWidth. */
static int out_dim(const args *a, uint32_t in, uint32_t k, uint32_t stride, uint32_t dil, int same,
                   uint32_t *out, uint32_t *pad)
{
    uint64_t eff = (uint64_t)(k - 1) * dil + 1;
    if (same) {
        *out = (in + stride - 1) / stride;
    } else {
        if (eff > in) {
            diag_error(a->st->fn.at, "%s: window of %llu does not fit the input of %u (padding=valid)",
                       a->layer, (unsigned long long)eff, in);
            return -1;
        }
        *out = (uint32_t)((in - eff + stride) / stride);
    }
    int64_t total = ((int64_t)*out - 1) * stride + (int64_t)eff - in;
    *pad = total > 0 ? (uint32_t)(total / 2) : 0;
    return 0;
}

static int make_geom(const args *a, const tensor *x, const winargs *w, uint32_t kh, uint32_t kw,
                     geom *g)
{
    if (x->shape.ndim != 4 || x->shape.dims[0] != 1) {
        diag_error(a->st->fn.at, "%s: input '%s' must have shape [1, H, W, C]", a->layer, x->name);
        return -1;
    }
    g->h = x->shape.dims[1];
    g->w = x->shape.dims[2];
    g->c = x->shape.dims[3];
    g->kh = kh;
    g->kw = kw;
    g->sh = w->stride[0];
    g->sw = w->stride[1];
    g->dh = w->dil[0];
    g->dw = w->dil[1];
    if (out_dim(a, g->h, kh, g->sh, g->dh, w->same, &g->oh, &g->pt) ||
        out_dim(a, g->w, kw, g->sw, g->dw, w->same, &g->ow, &g->pl))
        return -1;
    return 0;
}

/* ---------------------------------------------------- output declaration */

/* The result's dtype (default: that of x) and quantization from "-> ...". */
static int result_quant(const stmt *st, const args *a, const tensor *x, tensor *y, int required)
{
    y->dtype = x->dtype;
    if (st->dtype) {
        int dt = dtype_of(st->dtype, st->dtype_at);
        if (dt < 0)
            return -1;
        if (dt != x->dtype) {
            diag_error(st->dtype_at, "%s: result dtype %s differs from input dtype %s", a->layer,
                       st->dtype, dtype_names[x->dtype]);
            return -1;
        }
    }
    if (x->sec && st->q.present) {
        diag_error(st->q.at, "%s: the quantization of '%s' is the model owner's secret; write no q(...)",
                   a->layer, x->name);
        return -1;
    }
    if (!st->q.present) {
        if (required) {
            diag_error(st->fn.at, "%s needs the result's quantization: -> q(scale, zero_point)",
                       a->layer);
            return -1;
        }
        set_quant(y, x->scale[0], x->zp[0]);
        y->sec = x->sec, y->zpreg = x->zpreg;
        return 0;
    }
    if (parse_quant(&st->q, y))
        return -1;
    if (y->nq != 1) {
        diag_error(st->q.at, "%s: the result must be quantized per tensor", a->layer);
        return -1;
    }
    if (!required && (y->scale[0] != x->scale[0] || y->zp[0] != x->zp[0])) {
        diag_error(st->q.at, "%s: quantization mismatch: result must keep the input's q(%g, %d)",
                   a->layer, (double)x->scale[0], x->zp[0]);
        return -1;
    }
    return 0;
}

static int need_act_dtype(const args *a, const tensor *x)
{
    if (x->dtype == DT_I32) {
        diag_error(a->st->fn.at, "%s: input '%s' must be u8 or i8, not i32", a->layer, x->name);
        return -1;
    }
    if (x->nq != 1) {
        diag_error(a->st->fn.at, "%s: input '%s' must be quantized per tensor", a->layer, x->name);
        return -1;
    }
    return 0;
}

/* ------------------------------------------------ convolution-like layers */

typedef struct {
    int kind; /* 0 conv, 1 depthwise, 2 fully connected */
    uint32_t oc, m;
} convinfo;

/* Weights w and bias b against input x; per-channel along axis. */
static int check_weights(const args *a, const tensor *x, const tensor *w, const tensor *b,
                         uint32_t oc, int axis)
{
    int bad = 0;
    if (w->dtype != x->dtype) {
        diag_error(a->st->fn.at, "%s: dtype mismatch: weights '%s' are %s, input '%s' is %s",
                   a->layer, w->name, dtype_names[w->dtype], x->name, dtype_names[x->dtype]);
        bad = 1;
    }
    if (w->nq != 1 && (w->axis != axis || (uint32_t)w->nq != oc)) {
        diag_error(a->st->fn.at, "%s: per-channel weights '%s' need %u scales along axis %d",
                   a->layer, w->name, oc, axis);
        bad = 1;
    }
    for (int i = 1; i < w->nq && !bad; i++)
        if (w->zp[i] != w->zp[0]) {
            diag_error(a->st->fn.at, "%s: per-channel weights '%s' need one zero point",
                       a->layer, w->name);
            bad = 1;
        }
    if (!b)
        return bad ? -1 : 0;
    if (b->dtype != DT_I32 || b->shape.ndim != 1 || b->shape.dims[0] != oc) {
        diag_error(a->st->fn.at, "%s: bias '%s' must be i32[%u]", a->layer, b->name, oc);
        return -1;
    }
    for (int i = 0; i < b->nq; i++)
        if (b->zp[i] != 0) {
            diag_error(a->st->fn.at, "%s: quantization mismatch: bias '%s' zero point must be 0",
                       a->layer, b->name);
            return -1;
        }
    if (b->nq != 1 && b->nq != w->nq) {
        diag_error(a->st->fn.at, "%s: quantization mismatch: bias '%s' has %d scales, weights %d",
                   a->layer, b->name, b->nq, w->nq);
        return -1;
    }
    for (uint32_t ch = 0; ch < (uint32_t)w->nq && !bad; ch++) {
        float want = x->scale[0] * w->scale[ch];
        float have = b->scale[b->nq == 1 ? 0 : ch];
        if (fabs((double)want - (double)have) > 1e-6 * fmin((double)want, (double)have)) {
            diag_error(a->st->fn.at,
                       "%s: quantization mismatch: bias '%s' scale %g, expected input scale x "
                       "weight scale = %g",
                       a->layer, b->name, (double)have, (double)want);
            bad = 1;
        }
    }
    return bad ? -1 : 0;
}

/* The statement's rounding on the instruction just emitted (a REQUANT,
 * DIVR or REQCLAMP); exact rounding has limits (vm/validate.c), past which
 * the layer is refused with the way out. */
static int rounding(lctx *c, const int64_t *sh, uint32_t nsh, int64_t divisor)
{
    if (c->fast)
        return 0;
    for (uint32_t i = 0; i < nsh; i++)
        if (sh[i] < -30) {
            diag_error(c->st->fn.at, "%s: a right shift of %lld is past exact rounding's 30; "
                       "write rounding=fast on this layer", c->st->name, (long long)-sh[i]);
            return -1;
        }
    if (divisor > (1 << 20)) {
        diag_error(c->st->fn.at, "%s: a pooling window of %lld values is past exact rounding's 2^20; "
                   "write rounding=fast on this layer", c->st->name, (long long)divisor);
        return -1;
    }
    em_flag(&c->e, c->e.nins - 1, QBC_EXACT);
    return 0;
}

/* With the statement's acc_bound A (the largest |accumulator| any input
 * gives), |y| <= A M0 2^left / 2^k + 1 per channel, and a clamp compares y
 * + zp - T with T within 257 of zp: the comparison bound, channel ch
 * scaled by 2^(right - min_right) as REQCLAMP compares it. 0 without a
 * bound (or a left shift too large to bound cheaply); UINT32_MAX, with an
 * error, when exact rounding's |A M0 2^left| + offsets < 2^62 fails. */
static uint32_t acc_bits(lctx *c, const int64_t *m0, const int64_t *sh, uint32_t nq, int min_right)
{
    uint32_t bits = 0;
    for (uint32_t ch = 0; ch < nq && c->acc_bound; ch++) {
        int64_t left = sh[ch] > 0 ? sh[ch] : 0, right = sh[ch] > 0 ? 0 : -sh[ch];
        if (left > 16 || right > 30) /* no cheap bound; exact's own limits are checked apart */
            return 0;
        uint64_t m = (uint64_t)m0[ch] << left, a = (uint64_t)c->acc_bound;
        uint64_t off0 = ((uint64_t)1 << 30) + (right ? (uint64_t)1 << (30 + right) : 0);
        if (!c->fast && m && a > ((((uint64_t)1 << 62) - off0) - 1) / m) {
            diag_error(c->st->fn.at, "%s: accumulators up to %lld (acc_bound) times the multiplier pass exact "
                       "rounding's 2^62; write rounding=fast on this layer", c->st->name, (long long)c->acc_bound);
            return UINT32_MAX;
        }
        uint32_t own = qm_requant_bits(a, (int32_t)m0[ch], (int)sh[ch]) + (uint32_t)(right - min_right);
        bits = own > bits ? own : bits;
    }
    return bits;
}

/* min(max(REQUANT(acc, m0, sh) + z, lo, hi), zlh = (z, lo, hi), with nq
 * channels innermost: one REQCLAMP when the shifts allow it (bound + 31 +
 * right shift <= 63, docs/bytecode.md), which also lets instruction dot (a
 * convolution whose result and bias make acc; SIZE_MAX: none) stay lazy;
 * else REQUANT, ADDC, CLAMP. */
static uint32_t requant_clamp(lctx *c, uint32_t acc, uint64_t len, const int64_t *m0, const int64_t *sh,
                              uint32_t nq, const int64_t zlh[3], size_t dot)
{
    int min_right = 31;
    for (uint32_t ch = 0; ch < nq; ch++)
        min_right = -sh[ch] < min_right ? (int)-sh[ch] : min_right;
    /* REQCLAMP compares channel ch scaled by 2^e, e = its right shift - the
     * smallest (docs/bytecode.md): its own bound must fit in bits - e */
    uint32_t bits = requant_bits(min_right), tight = acc_bits(c, m0, sh, nq, min_right);
    if (tight == UINT32_MAX)
        return UINT32_MAX;
    uint32_t fused = 1;
    for (uint32_t ch = 0; ch < nq && !tight; ch++)
        fused = fused && requant_bits((int)-sh[ch]) + (uint32_t)(-sh[ch] - min_right) <= bits;
    bits = tight && tight < bits ? tight : bits;
    fused = fused && min_right > 0 && bits + 31 + (uint32_t)min_right <= 63;
    uint32_t mc = em_const(&c->e, m0, nq), sc = em_const(&c->e, sh, nq), r = em_sreg(&c->e, len);
    if (fused) {
        EMIT(&c->e, OP_REQCLAMP, r, acc, mc, sc, em_const(&c->e, zlh, 3), bits);
        rounding(c, sh, nq, 0);
        if (dot != SIZE_MAX) {
            em_flag(&c->e, c->e.nins - 1, QBC_LAZY);
            em_flag(&c->e, dot, QBC_LAZY);
        }
        return r;
    }
    EMIT(&c->e, OP_REQUANT, r, acc, mc, sc);
    rounding(c, sh, nq, 0);
    return clamp(c, addc(c, r, len, zlh[0]), len, zlh[1], zlh[2], bits);
}

/* Requantizes an accumulator of len elements (oc channels innermost), adds
 * the output zero point and clamps to the activation range. The accumulator
 * comes from instruction dot (a convolution) and the bias alone, so a fused
 * REQCLAMP lets that instruction's result stay an unfinished sum. */
static uint32_t requantize(lctx *c, uint32_t acc, uint64_t len, const tensor *x, const tensor *w,
                           const tensor *y, uint32_t oc, int float_product, int act, size_t dot)
{
    uint32_t nq = w->nq == 1 ? 1 : oc;
    int64_t *m0 = xcalloc(nq, sizeof(int64_t)), *sh = xcalloc(nq, sizeof(int64_t));
    for (uint32_t ch = 0; ch < nq; ch++) {
        int32_t q;
        int s;
        qm_layer_multiplier(x->scale[0], w->scale[w->nq == 1 ? 0 : ch], y->scale[0], float_product, &q, &s);
        m0[ch] = q;
        sh[ch] = s;
    }
    int64_t lo, hi;
    act_range(act, y->dtype, y->scale[0], y->zp[0], &lo, &hi);
    uint32_t r = requant_clamp(c, acc, len, m0, sh, nq, (int64_t[3]){y->zp[0], lo, hi}, dot);
    free(m0);
    free(sh);
    return r;
}

/* A layer whose quantization is the model owner's secret (docs/dsl.md):
 * secret=P names an i32 owner input of blocks of 4 nq + 4 values (one
 * block per requantization: 1, add 3), per channel M0, 2^(left + s), 2^s +
 * (right shift ? 2^(shift - 31) : 0) and (right shift ? 2^s : 0), s =
 * shift - 31 - right shift, then the
 * output's zero point, lo, hi and min(hi, max(lo, zp)); shift= is the
 * public k of the block's largest right shift (31 + it; add: a list of
 * three), bits= the public comparison bound. */
typedef struct {
    const tensor *p;
    uint32_t nq, blocks, shift[3], bits;
    int relu; /* activation=relu or relu6: lo >= zp (QBC_RELU on the last block) */
} secret_layer;

/* 1 with secret=, 0 without, -1 on error */
static int secret_args(lctx *c, const args *a, secret_layer *sl, uint32_t blocks)
{
    const value *pv = kwarg(a, "secret"), *kv = kwarg(a, "shift"), *bv = kwarg(a, "bits");
    memset(sl, 0, sizeof *sl);
    if (!pv) {
        if (kv || bv) {
            diag_error((kv ? kv : bv)->at, "%s: shift= and bits= go with secret=", a->layer);
            return -1;
        }
        return 0;
    }
    if (c->proven) {
        diag_error(pv->at, "%s: secret= under --proven-bounds: its parameters are i32 inputs, whose range bounds "
                   "neither the multiplier nor the comparisons (each class's range would have to be proven)", a->layer);
        return -1;
    }
    if (c->field) {
        diag_error(pv->at, "%s: secret= under --field: an i32 multiplier times the accumulators can pass 2^63, "
                   "where the field would not wrap as Z_2^64 does", a->layer);
        return -1;
    }
    long long k, b;
    if (pv->kind != V_IDENT || !(sl->p = find_tensor(c, pv->text)) || sl->p->bad) {
        diag_error(pv->at, "%s: secret= names a model input", a->layer);
        return -1;
    }
    if (!kv || !bv) {
        diag_error(a->st->fn.at, "%s: secret= needs shift= and bits=", a->layer);
        return -1;
    }
    if ((blocks == 1) != (kv->kind != V_LIST) || (blocks > 1 && (uint32_t)kv->nitems != blocks)) {
        diag_error(kv->at, blocks == 1 ? "%s: shift= takes one integer" : "%s: shift= takes a list of %u integers",
                   a->layer, blocks);
        return -1;
    }
    for (uint32_t i = 0; i < blocks; i++) {
        if (want_int(blocks == 1 ? kv : kv->items[i], 31, 61, "shift", &k))
            return -1;
        sl->shift[i] = (uint32_t)k;
    }
    if (want_int(bv, 1, 62, "bits", &b))
        return -1;
    const tensor *p = sl->p;
    uint32_t n = p->shape.ndim == 1 ? p->shape.dims[0] : 0;
    if (!p->raw || n % blocks || n / blocks < 8 || n / blocks % 4 || (blocks > 1 && n != 8 * blocks)) {
        diag_error(pv->at, blocks == 1 ? "%s: secret parameters '%s' must be an i32[4 * channels + 4] input without q(...)"
                                       : "%s: secret parameters '%s' must be an i32[%u] input without q(...)",
                   a->layer, p->name, 8 * blocks);
        return -1;
    }
    sl->nq = n / blocks / 4 - 1, sl->blocks = blocks, sl->bits = (uint32_t)b;
    const value *av = kwarg(a, "acc_bound"), *act = kwarg(a, "activation");
    if (av) {
        diag_error(av->at, "%s: with secret= bits= bounds the comparisons; write no acc_bound=", a->layer);
        return -1;
    }
    /* the activation's kind is architecture (public); its range stays in P */
    sl->relu = act && act->kind == V_IDENT && (!strcmp(act->text, "relu") || !strcmp(act->text, "relu6"));
    return 1;
}

/* the result of a secret layer: -> u8 or -> i8, no q(...); w its weights
 * (NULL for add) */
static int secret_result(const args *a, const tensor *x, const tensor *w, tensor *y)
{
    const stmt *st = a->st;
    if (st->q.present) {
        diag_error(st->q.at, "%s: with secret= the result's quantization is the owner's; write -> %s",
                   a->layer, dtype_names[x->dtype]);
        return -1;
    }
    if (w && !w->raw) {
        diag_error(st->fn.at, "%s: with secret= the weights '%s' are i32, centred by the owner, without q(...)",
                   a->layer, w->name);
        return -1;
    }
    y->dtype = x->dtype;
    if (st->dtype && dtype_of(st->dtype, st->dtype_at) != x->dtype) {
        diag_error(st->dtype_at, "%s: result dtype %s differs from input dtype %s", a->layer, st->dtype,
                   dtype_names[x->dtype]);
        return -1;
    }
    set_quant(y, 0.0f, 0);
    y->sec = 1;
    return 0;
}

static int secret_weights(const args *a, const tensor *b, const secret_layer *sl, uint32_t oc)
{
    if (sl->nq != 1 && sl->nq != oc) {
        diag_error(a->st->fn.at, "%s: secret parameters for %u channels, the layer has %u", a->layer, sl->nq, oc);
        return -1;
    }
    if (b && (!b->raw || b->shape.ndim != 1 || b->shape.dims[0] != oc)) {
        diag_error(a->st->fn.at, "%s: with secret= the bias '%s' is i32[%u] without q(...)", a->layer,
                   b ? b->name : "", oc);
        return -1;
    }
    return 0;
}

/* len elements of register r from element off (a strided COPY) */
static uint32_t slice(lctx *c, uint32_t r, uint32_t off, uint32_t len)
{
    uint32_t d = em_sreg(&c->e, len);
    EMIT(&c->e, OP_COPY, d, r, 1, len, 0, 0, 0, off);
    return d;
}

/* block blk's multiplier m' = M0 2^(left + s), nq elements */
static uint32_t secret_m(lctx *c, const secret_layer *sl, uint32_t blk)
{
    uint32_t nq = sl->nq, p = sl->p->reg, base = blk * (4 * nq + 4), m = em_sreg(&c->e, nq);
    EMIT(&c->e, OP_MUL, m, slice(c, p, base, nq), slice(c, p, base + nq, nq));
    return m;
}

/* A secret convolution-like layer may fold m' into its weights and bias
 * (one MUL of the weights instead of the accumulators) and then stay lazy
 * when rep3 fuses its REQS: one channel and the comparisons' room beside
 * the dropped bits (the validator's condition). */
static int secret_fold(const secret_layer *sl)
{
    return sl->nq == 1 && sl->bits + sl->shift[0] <= 63;
}

/* W0 = acc M0 2^(left + s) + 2^30 o and REQS (docs/dsl.md), o the block's
 * third value: 2^s, plus 2^(shift - 31) with a right shift (TFLite's second
 * rounding offset, which only a right shift has)
 * with the parameters of block blk; *zpreg gets the result's zero point.
 * folded: acc holds acc m' already, and instruction dot (its convolution;
 * SIZE_MAX: none) and the REQS stay lazy. */
static uint32_t secret_requant(lctx *c, uint32_t acc, uint64_t len, const secret_layer *sl, uint32_t blk,
                               uint32_t *zpreg, int folded, size_t dot)
{
    uint32_t nq = sl->nq, p = sl->p->reg, base = blk * (4 * nq + 4), k = sl->shift[blk];
    uint32_t w = acc, off = em_sreg(&c->e, nq), dl = em_sreg(&c->e, nq);
    uint32_t prm = em_sreg(&c->e, nq + 4), r = em_sreg(&c->e, len);
    if (!folded) {
        w = em_sreg(&c->e, len);
        EMIT(&c->e, OP_MUL, w, acc, secret_m(c, sl, blk));
    }
    EMIT(&c->e, OP_MULC, off, slice(c, p, base + 2 * nq, nq), em_const1(&c->e, (int64_t)1 << 30));
    w = binop(c, OP_ADD, w, off, len);
    if (nq == 1) /* per tensor: k is the exact shift and Delta public (REQS reads no other) */
        EMIT(&c->e, OP_FILLC, dl, em_const1(&c->e, k > 31 ? (int64_t)1 << 31 : 0));
    else
        EMIT(&c->e, OP_MULC, dl, slice(c, p, base + 3 * nq, nq), em_const1(&c->e, (int64_t)1 << 31));
    EMIT(&c->e, OP_COPY, prm, dl, 1, nq, 0, 0, 0, 0);
    EMIT(&c->e, OP_COPY, prm, p, 1, 4, 0, nq, 0, base + 4 * nq);
    EMIT(&c->e, OP_REQS, r, w, prm, k, sl->bits);
    if (!c->fast)
        em_flag(&c->e, c->e.nins - 1, QBC_EXACT);
    if (sl->relu && blk + 1 == sl->blocks)
        em_flag(&c->e, c->e.nins - 1, QBC_RELU);
    if (folded && dot != SIZE_MAX) {
        em_flag(&c->e, c->e.nins - 1, QBC_LAZY);
        em_flag(&c->e, dot, QBC_LAZY);
    }
    *zpreg = slice(c, p, base + 4 * nq, 1);
    return r;
}

/* x minus its zero point (secret or public) */
static uint32_t centred(lctx *c, const tensor *x)
{
    uint64_t n = elems(&x->shape);
    return x->sec ? binop(c, OP_SUB, x->reg, x->zpreg, n) : addc(c, x->reg, n, -x->zp[0]);
}

static int lower_convlike(lctx *c, const stmt *st, tensor *y, int kind)
{
    static const char *const conv_kw[] = {"stride", "padding",   "dilation", "activation", "acc_bound",
                                          "secret", "shift",     "bits",     NULL};
    static const char *const dw_kw[] = {"stride",    "padding", "dilation", "activation", "multiplier",
                                        "acc_bound", "secret",  "shift",    "bits",       NULL};
    static const char *const fc_kw[] = {"activation", "acc_bound", "secret", "shift", "bits", NULL};
    static const char *const names[] = {"conv2d", "depthwise_conv2d", "fully_connected"};
    args a = {st, names[kind]};
    if (check_args(&a, 2, 3, kind == 0 ? conv_kw : kind == 1 ? dw_kw : fc_kw))
        return -1;
    tensor *x = pos_tensor(c, &a, 0), *w = pos_tensor(c, &a, 1);
    tensor *b = npos_args(&a) > 2 ? pos_tensor(c, &a, 2) : NULL;
    winargs wa;
    if (!x || !w || (npos_args(&a) > 2 && !b) || parse_window(&a, &wa, 0, kind != 2) ||
        need_act_dtype(&a, x))
        return -1;
    secret_layer sl;
    int sec = secret_args(c, &a, &sl, 1);
    if (sec < 0 || (sec ? secret_result(&a, x, w, y) : result_quant(st, &a, x, y, 1)))
        return -1;
    const value *bv = kwarg(&a, "acc_bound");
    long long ab = 0;
    if (bv && want_int(bv, 1, INT32_MAX, "acc_bound", &ab))
        return -1;
    c->acc_bound = c->proven ? 0 : ab; /* the owner's promise, which its inputs need not keep */
    geom g;
    uint32_t oc, m = 1;
    int axis;
    if (kind == 2) { /* [B, I] x [O, I]: a 1x1 convolution over B positions */
        if (w->shape.ndim != 2 || elems(&x->shape) % w->shape.dims[1] != 0) {
            diag_error(st->fn.at, "fully_connected: shape mismatch: weights '%s' must be [O, I] "
                                  "with I dividing the %llu input elements",
                       w->name, (unsigned long long)elems(&x->shape));
            return -1;
        }
        oc = w->shape.dims[0];
        axis = 0;
        geom fg = {1, (uint32_t)(elems(&x->shape) / w->shape.dims[1]), w->shape.dims[1], 1, 1, 1,
                   0, 1, 1, 0, 0, 1, 1};
        fg.ow = fg.w;
        g = fg;
        y->shape.ndim = 2;
        y->shape.dims[0] = g.w;
        y->shape.dims[1] = oc;
    } else {
        if (w->shape.ndim != 4) {
            diag_error(st->fn.at, "%s: weights '%s' must be 4-D", a.layer, w->name);
            return -1;
        }
        if (make_geom(&a, x, &wa, w->shape.dims[1], w->shape.dims[2], &g))
            return -1;
        if (kind == 0) {
            oc = w->shape.dims[0];
            axis = 0;
            if (w->shape.dims[3] != g.c) {
                diag_error(st->fn.at, "conv2d: shape mismatch: weights '%s' have %u input "
                                      "channels, input '%s' has %u",
                           w->name, w->shape.dims[3], x->name, g.c);
                return -1;
            }
        } else {
            oc = w->shape.dims[3];
            axis = 3;
            if (w->shape.dims[0] != 1 || oc % g.c != 0) {
                diag_error(st->fn.at, "depthwise_conv2d: shape mismatch: weights '%s' must be "
                                      "[1, KH, KW, C*M] with C = %u",
                           w->name, g.c);
                return -1;
            }
            m = oc / g.c;
            const value *mv = kwarg(&a, "multiplier");
            long long mm;
            if (mv && (want_int(mv, 1, 1 << 16, "multiplier", &mm) || (uint32_t)mm != m)) {
                if (mv->kind == V_INT && (uint32_t)mv->ival != m)
                    diag_error(mv->at, "depthwise_conv2d: multiplier %lld, but weights give %u",
                               mv->ival, m);
                return -1;
            }
        }
        y->shape.ndim = 4;
        y->shape.dims[0] = 1;
        y->shape.dims[1] = g.oh;
        y->shape.dims[2] = g.ow;
        y->shape.dims[3] = oc;
    }
    if (sec ? secret_weights(&a, b, &sl, oc) : check_weights(&a, x, w, b, oc, axis))
        return -1;
    uint64_t olen = elems(&y->shape);
    uint32_t xs = centred(c, x);
    /* folding pays when the weights are fewer than twice the outputs (their
     * MUL against the accumulators' MUL and resharing) */
    int fold = sec && secret_fold(&sl) && elems(&w->shape) <= 2 * olen;
    uint32_t mp = fold ? secret_m(c, &sl, 0) : 0, ws = w->reg;
    if (fold)
        ws = binop(c, OP_MUL, w->reg, mp, elems(&w->shape));
    else if (!sec)
        ws = addc(c, w->reg, elems(&w->shape), -w->zp[0]);
    uint32_t acc = em_sreg(&c->e, olen);
    uint32_t gw[13];
    geom_encode(&g, gw);
    size_t dot = c->e.nins;
    uint32_t accbits = 0; /* acc_bound bounds the sums without the bias too (it adds |bias|) */
    while (accbits < 62 && (uint64_t)c->acc_bound >> accbits)
        accbits++;
    EMIT(&c->e, kind == 1 ? OP_DWCONV2D : OP_CONV2D, acc, xs, ws, gw[0], gw[1], gw[2], gw[3],
         gw[4], gw[5], gw[6], gw[7], gw[8], gw[9], gw[10], gw[11], gw[12], kind == 1 ? m : oc, accbits);
    if (b)
        acc = binop(c, OP_ADD, acc, fold ? binop(c, OP_MUL, b->reg, mp, oc) : b->reg, olen);
    int float_product = kind == 2 || (w->nq == 1 && x->dtype == DT_U8);
    y->reg = sec ? secret_requant(c, acc, olen, &sl, 0, &y->zpreg, fold, dot) : requantize(c, acc, olen, x, w, y, oc, float_product, wa.act, dot);
    if (y->reg == UINT32_MAX)
        return -1;
    uint64_t taps = (uint64_t)g.kh * g.kw;
    em_layer(&c->e, &(qbc_layer){(char *)y->name, (char *)a.layer, y->dtype, y->shape,
                                 y->scale[0], y->zp[0], olen * taps * (kind == 1 ? 1 : g.c),
                                 y->reg});
    return 0;
}

/* ------------------------------------------------------------- pooling */

static int lower_pool(lctx *c, const stmt *st, tensor *y, int is_max)
{
    static const char *const kw[] = {"size", "stride", "padding", "activation", NULL};
    args a = {st, is_max ? "max_pool2d" : "avg_pool2d"};
    if (check_args(&a, 1, 1, kw))
        return -1;
    tensor *x = pos_tensor(c, &a, 0);
    winargs wa;
    geom g;
    if (!x || parse_window(&a, &wa, 1, 0) || need_act_dtype(&a, x) ||
        result_quant(st, &a, x, y, 0) || make_geom(&a, x, &wa, wa.size[0], wa.size[1], &g))
        return -1;
    y->shape = x->shape;
    y->shape.dims[1] = g.oh;
    y->shape.dims[2] = g.ow;
    uint64_t olen = elems(&y->shape), taps = (uint64_t)g.kh * g.kw;
    uint32_t gw[13];
    geom_encode(&g, gw);
    uint32_t r;
    /* max: a register per tap and as many in the tree; average: two and the counts */
    if (over_limit(c, st->fn.at, is_max ? 2 * taps * olen : 2 * olen, is_max ? 0 : olen))
        return -1;
    if (is_max) {
        uint32_t *win = xcalloc(taps, sizeof(uint32_t));
        for (uint32_t k = 0; k < taps; k++) {
            win[k] = em_sreg(&c->e, olen);
            EMIT(&c->e, OP_WINDOW, win[k], x->reg, gw[0], gw[1], gw[2], gw[3], gw[4], gw[5],
                 gw[6], gw[7], gw[8], gw[9], gw[10], gw[11], gw[12], k);
        }
        for (uint64_t n = taps; n > 1;) { /* a tree: ceil(log2(taps)) levels */
            uint64_t h = n / 2;
            for (uint64_t k = 0; k < h; k++)
                win[k] = smax(c, win[2 * k], win[2 * k + 1], olen);
            if (n % 2)
                win[h] = win[n - 1];
            n = h + n % 2;
        }
        r = win[0];
        free(win);
    } else {
        /* a window's in-bounds taps: rows in bounds times columns in bounds,
         * counted per axis (a 2^16-square window over 2^24 outputs must not
         * be walked tap by tap) */
        int64_t *cnt = xcalloc(olen, sizeof(int64_t)), *ny = xcalloc(g.oh, sizeof(int64_t));
        int64_t *nx = xcalloc(g.ow, sizeof(int64_t));
        for (int axis = 0; axis < 2; axis++) {
            uint32_t on = axis ? g.ow : g.oh, st_ = axis ? g.sw : g.sh, pad = axis ? g.pl : g.pt;
            uint32_t k = axis ? g.kw : g.kh, n = axis ? g.w : g.h;
            for (uint32_t o = 0; o < on; o++) { /* taps t with 0 <= base + t < n */
                int64_t base = geom_in(o, st_, pad, 0, 1), lo = base < 0 ? -base : 0;
                int64_t hi = (int64_t)n - base < (int64_t)k ? (int64_t)n - base : (int64_t)k;
                (axis ? nx : ny)[o] = hi > lo ? hi - lo : 0;
            }
        }
        int uniform = 1;
        for (uint32_t oy = 0; oy < g.oh; oy++)
            for (uint32_t ox = 0; ox < g.ow; ox++) {
                int64_t n = ny[oy] * nx[ox];
                for (uint32_t ch = 0; ch < g.c; ch++)
                    cnt[((uint64_t)oy * g.ow + ox) * g.c + ch] = n;
                uniform &= n == cnt[0];
            }
        free(ny);
        free(nx);
        uint32_t sum = em_sreg(&c->e, olen);
        EMIT(&c->e, OP_POOLSUM, sum, x->reg, gw[0], gw[1], gw[2], gw[3], gw[4], gw[5], gw[6], gw[7],
             gw[8], gw[9], gw[10], gw[11], gw[12]);
        r = em_sreg(&c->e, olen);
        EMIT(&c->e, OP_DIVR, r, sum, em_const(&c->e, cnt, uniform ? 1 : (uint32_t)olen));
        int64_t most = 0;
        for (uint64_t i = 0; i < (uniform ? 1 : olen); i++)
            most = cnt[i] > most ? cnt[i] : most;
        if (rounding(c, NULL, 0, most)) {
            free(cnt);
            return -1;
        }
        free(cnt);
    }
    int64_t lo, hi;
    if (x->sec && wa.act) {
        diag_error(st->fn.at, "%s: the quantization of '%s' is secret: an activation here needs it", a.layer, x->name);
        return -1;
    }
    act_range(wa.act, y->dtype, y->scale[0], y->zp[0], &lo, &hi);
    if (lo > dtype_min(y->dtype) || hi < dtype_max(y->dtype)) /* else the values stay in range */
        r = clamp(c, r, olen, lo, hi, 10); /* averages of an 8-bit dtype */
    y->reg = r;
    em_layer(&c->e, &(qbc_layer){(char *)y->name, (char *)a.layer, y->dtype, y->shape, y->scale[0],
                                 y->zp[0], is_max ? 0 : olen * taps, y->reg});
    return 0;
}

/* ------------------------------------------- activations, maximum, minimum */

/* relu(x), relu6(x), relu_n1_to_1(x) [-> q(s, z)]: TFLite's standalone
 * activations (QuantizedReluX, qm_relu_params): with the input's
 * quantization one CLAMP; else the input centred, requantized and clamped
 * (one REQCLAMP). */
static int lower_relu(lctx *c, const stmt *st, tensor *y, int act)
{
    static const char *const names[] = {"relu", "relu6", "relu_n1_to_1"};
    args a = {st, names[act]};
    if (check_args(&a, 1, 1, NULL))
        return -1;
    tensor *x = pos_tensor(c, &a, 0);
    if (!x || need_act_dtype(&a, x))
        return -1;
    y->dtype = x->dtype;
    if (st->q.present ? parse_quant(&st->q, y) : (set_quant(y, x->scale[0], x->zp[0]), 0))
        return -1;
    if (y->nq != 1 || (st->dtype && dtype_of(st->dtype, st->dtype_at) != x->dtype)) {
        diag_error(st->fn.at, "%s: the result keeps the input's dtype, quantized per tensor", a.layer);
        return -1;
    }
    int32_t m0, lo, hi;
    int sh;
    qm_relu_params(act, x->scale[0], y->scale[0], y->zp[0], (int32_t)dtype_min(y->dtype), (int32_t)dtype_max(y->dtype),
                   &m0, &sh, &lo, &hi);
    uint64_t len = elems(&x->shape);
    y->shape = x->shape;
    if (x->scale[0] == y->scale[0] && x->zp[0] == y->zp[0]) { /* the multiplier is then the identity */
        y->reg = clamp(c, x->reg, len, lo, hi, diff_bits(x->dtype));
    } else {
        int64_t m = m0, s = sh, zlh[3] = {y->zp[0], lo, hi};
        c->acc_bound = 255; /* |x - zp_in| */
        y->reg = requant_clamp(c, addc(c, x->reg, len, -(int64_t)x->zp[0]), len, &m, &s, 1, zlh, SIZE_MAX);
        if (y->reg == UINT32_MAX)
            return -1;
    }
    em_layer(&c->e, &(qbc_layer){(char *)y->name, (char *)a.layer, y->dtype, y->shape, y->scale[0], y->zp[0], 0,
                                 y->reg});
    return 0;
}

/* maximum(a, b), minimum(a, b): TFLite's MAXIMUM and MINIMUM, on the raw
 * codes of two tensors of one shape and quantization: smax, and
 * min = b + [a < b](a - b) */
static int lower_maxmin(lctx *c, const stmt *st, tensor *y, int is_max)
{
    args a = {st, is_max ? "maximum" : "minimum"};
    if (check_args(&a, 2, 2, NULL))
        return -1;
    tensor *x0 = pos_tensor(c, &a, 0), *x1 = pos_tensor(c, &a, 1);
    if (!x0 || !x1 || need_act_dtype(&a, x0) || need_act_dtype(&a, x1) || result_quant(st, &a, x0, y, 0))
        return -1;
    if (x0->dtype != x1->dtype || x0->scale[0] != x1->scale[0] || x0->zp[0] != x1->zp[0] ||
        elems(&x0->shape) != elems(&x1->shape)) {
        diag_error(st->fn.at, "%s: '%s' and '%s' must have one shape, dtype and quantization (TFLite compares "
                   "their codes)", a.layer, x0->name, x1->name);
        return -1;
    }
    uint64_t len = elems(&x0->shape);
    y->shape = x0->shape;
    if (is_max) {
        y->reg = smax(c, x0->reg, x1->reg, len);
    } else {
        uint32_t d = binop(c, OP_SUB, x0->reg, x1->reg, len);
        y->reg = binop(c, OP_ADD, x1->reg, binop(c, OP_MUL, ltz(c, d, len, diff_bits(x0->dtype)), d, len), len);
    }
    em_layer(&c->e, &(qbc_layer){(char *)y->name, (char *)a.layer, y->dtype, y->shape, y->scale[0], y->zp[0], 0,
                                 y->reg});
    return 0;
}

/* mul(a, b, activation=...) -> q(s, z): TFLite's MUL, out = clamp(zp +
 * MBQM((a - za)(b - zb), M0, shift)) with the multiplier of
 * (float)(s_a s_b) / s_y (qm_mul_multiplier); b may be smaller when it
 * repeats along a (channels innermost: a [1, 1, 1, C] scale for a [1, H, W,
 * C] tensor, as squeeze-and-excite has, a vector of C, or one value): one
 * MUL with a periodic operand, then one REQCLAMP. */
static int lower_mul(lctx *c, const stmt *st, tensor *y)
{
    static const char *const kw[] = {"activation", NULL};
    args a = {st, "mul"};
    if (check_args(&a, 2, 2, kw))
        return -1;
    tensor *x1 = pos_tensor(c, &a, 0), *x2 = pos_tensor(c, &a, 1);
    const value *av = kwarg(&a, "activation");
    int act = av ? want_ident(av, "activation", act_names) : 0;
    if (!x1 || !x2 || act < 0 || need_act_dtype(&a, x1) || need_act_dtype(&a, x2) || result_quant(st, &a, x1, y, 1))
        return -1;
    if (elems(&x2->shape) > elems(&x1->shape)) { /* the product commutes: the repeated one second */
        tensor *t = x1;
        x1 = x2, x2 = t;
    }
    uint64_t len = elems(&x1->shape), nb = elems(&x2->shape);
    uint32_t last1 = x1->shape.dims[x1->shape.ndim - 1], last2 = x2->shape.dims[x2->shape.ndim - 1];
    if (x1->dtype != x2->dtype || len % nb || (nb > 1 && (last1 != last2 || nb != last2) && nb != len)) {
        diag_error(st->fn.at, "mul: '%s' must match '%s' in dtype and be of its shape, its last dimension or one "
                   "value", x2->name, x1->name);
        return -1;
    }
    y->shape = x1->shape;
    int32_t m0;
    int shift;
    qm_mul_multiplier(x1->scale[0], x2->scale[0], y->scale[0], &m0, &shift);
    int64_t m = m0, sh = shift, zlh[3] = {y->zp[0], 0, 0};
    act_range(act, y->dtype, y->scale[0], y->zp[0], &zlh[1], &zlh[2]);
    uint32_t d1 = addc(c, x1->reg, len, -(int64_t)x1->zp[0]), d2 = addc(c, x2->reg, nb, -(int64_t)x2->zp[0]);
    c->acc_bound = 255 * 255; /* |(a - za)(b - zb)| */
    y->reg = requant_clamp(c, binop(c, OP_MUL, d1, d2, len), len, &m, &sh, 1, zlh, SIZE_MAX);
    if (y->reg == UINT32_MAX)
        return -1;
    em_layer(&c->e, &(qbc_layer){(char *)y->name, "mul", y->dtype, y->shape, y->scale[0], y->zp[0], len, y->reg});
    return 0;
}

/* ------------------------------------------------- tables: mean, activations */

/* A table f over the integers [xmin, xmin + n) applied to x (len elements)
 * by its change points: f(x) = f(xmin) + sum_t d_t [x >= t], d_t = f(t) -
 * f(t - 1), one comparison per change point and element ([len][points],
 * the points innermost, so that every constant is periodic), weighed and
 * summed by a POOLSUM over each element's row. A table over the 256 codes
 * of an 8-bit type is one LUT instead: each protocol takes the cheaper of
 * its own lookup and this step sum (docs/protocols.md "Table lookup"). */
static uint32_t table_steps(lctx *c, uint32_t x, uint64_t len, const int32_t *f, int64_t xmin, int64_t n)
{
    if (n == 256 && (xmin == 0 || xmin == -128)) {
        int64_t t[256];
        int constant = 1; /* a FILLC below: LUT takes a table that changes */
        for (int i = 0; i < 256; i++)
            t[i] = f[i], constant &= f[i] == f[0];
        if (!constant) {
            uint32_t r = em_sreg(&c->e, len);
            EMIT(&c->e, OP_LUT, r, x, em_const(&c->e, t, 256), (uint32_t)(xmin < 0));
            return r;
        }
    }
    int64_t m = 0, total = 0, *negt = xcalloc((size_t)n, sizeof(int64_t)), *negd = xcalloc((size_t)n, sizeof(int64_t));
    for (int64_t i = 1; i < n; i++)
        if (f[i] != f[i - 1])
            negt[m] = -(xmin + i), negd[m++] = -(int64_t)(f[i] - f[i - 1]), total += f[i] - f[i - 1];
    uint32_t r;
    if (m == 0) {
        r = em_sreg(&c->e, len);
        EMIT(&c->e, OP_FILLC, r, em_const1(&c->e, f[0]));
    } else {
        uint64_t lanes_len = len * (uint64_t)m;
        uint32_t lanes = em_sreg(&c->e, lanes_len);
        for (int64_t j = 0; j < m; j++)
            EMIT(&c->e, OP_COPY, lanes, x, (uint32_t)len, 1, (uint32_t)m, (uint32_t)j, 1, 0);
        uint32_t d = em_sreg(&c->e, lanes_len), w = em_sreg(&c->e, lanes_len);
        EMIT(&c->e, OP_ADDC, d, lanes, em_const(&c->e, negt, (uint32_t)m));
        EMIT(&c->e, OP_MULC, w, ltz(c, d, lanes_len, bits_len((uint64_t)n)), em_const(&c->e, negd, (uint32_t)m));
        geom g = {(uint32_t)len, (uint32_t)m, 1, 1, (uint32_t)m, (uint32_t)len, 1, 1, 1, 0, 0, 1, 1};
        uint32_t gw[13], sum = em_sreg(&c->e, len);
        geom_encode(&g, gw);
        EMIT(&c->e, OP_POOLSUM, sum, w, gw[0], gw[1], gw[2], gw[3], gw[4], gw[5], gw[6], gw[7], gw[8], gw[9],
             gw[10], gw[11], gw[12]);
        r = addc(c, sum, len, f[0] + total); /* f(xmin) + every step - the steps not reached */
    }
    free(negt), free(negd);
    return r;
}

/* A table f over [xmin, xmin + n), values in [qmin, qmax], applied to x
 * exactly: one exact REQCLAMP of x + c when f is non-decreasing and a
 * requantization line reproduces it over the whole domain
 * (qm_fit_requant), else the step sum of f. UINT32_MAX after an error.
 * (A line's slope is below 1/2 here, MultiplyByQuantizedMultiplier with a
 * right shift: hard-swish's tail above +3, often steeper, is table_tail's.) */
static uint32_t table_apply(lctx *c, uint32_t x, uint64_t len, const int32_t *f, int64_t xmin, int64_t n,
                            int32_t qmin, int32_t qmax)
{
    qm_fit fit;
    if (qm_fit_requant(f, xmin, xmin + n - 1, qmin, qmax, &fit) || fit.bits + 32 + (uint32_t)fit.e > 63)
        return table_steps(c, x, len, f, xmin, n);
    fit.bits++; /* the fit's bound is exact; vm_check_bounds (--proven-bounds) bounds the requantized
                 * value from x's range and the multiplier, a little above it */
    int64_t m0 = fit.m0, sh = -fit.e, zlh[3] = {fit.z, qmin, qmax};
    uint32_t r = em_sreg(&c->e, len);
    EMIT(&c->e, OP_REQCLAMP, r, addc(c, x, len, fit.c), em_const(&c->e, &m0, 1), em_const(&c->e, &sh, 1),
         em_const(&c->e, zlh, 3), fit.bits);
    return rounding(c, &sh, 1, 0) ? UINT32_MAX : r;
}

/* The fewest change points a tail line must take over from the steps to
 * pay: under rep3 its REQCLAMP costs about what five 8-bit comparisons do
 * (docs/protocols.md) */
#define TAIL_MIN_STEPS 5

/* A table t over the 256 codes from qmin whose top agrees with a line
 * floor((m x + b) / 2^k) + z clamped to [qmin, qmax], 2 <= k <= 31
 * (hard-swish above +3: qm_hard_swish_line). MultiplyByQuantizedMultiplier
 * (v, 2^30, 1 - k) is floor((v + 1 + 2^(k-1)) / 2^k) for v >= 0, so from
 * the first code s of that agreement on, t is one exact REQCLAMP of v = m x
 * + b - 1 - 2^(k-1) (public MULC and ADDC) clamped to [t(s), qmax]; below
 * s the REQCLAMP, non-decreasing, gives t(s). What is left, t minus the
 * REQCLAMP's map (computed here through TFLite's own function), is a step
 * sum. UINT32_MAX when the tail spares fewer than TAIL_MIN_STEPS
 * comparisons: the caller then sums the steps of the whole table. */
static uint32_t table_tail(lctx *c, uint32_t x, uint64_t len, const int32_t *t, int32_t qmin, int32_t qmax,
                           int64_t m, int64_t b, int k, int32_t z)
{
    if (k < 2 || k > 31 || m <= 0 || m > 65535 || llabs(b) > INT32_MAX)
        return UINT32_MAX;
    int64_t off = b - 1 - ((int64_t)1 << (k - 1)), h[256];
    /* v = m x + off must be an int32 on every code, as TFLite's function takes it */
    if (off + m * qmin < INT32_MIN || off + m * (qmin + 255) > INT32_MAX)
        return UINT32_MAX;
    for (int i = 0; i < 256; i++)
        h[i] = (int64_t)qm_mul_by_qmult((int32_t)(m * (qmin + i) + off), 1 << 30, 1 - k) + z;
    int start = 256, steps = 0;
    while (start > 0 && m * (qmin + start - 1) + off >= 0 &&
           t[start - 1] == (h[start - 1] < qmin ? qmin : h[start - 1] > qmax ? qmax : h[start - 1]))
        start--;
    for (int i = start + 1; i < 256; i++)
        steps += t[i] != t[i - 1];
    if (steps < TAIL_MIN_STEPS)
        return UINT32_MAX;
    int64_t lo = t[start], d = 0, m0 = 1 << 30, sh = 1 - k, zlh[3] = {z, lo, qmax};
    int32_t g[256];
    for (int i = 0; i < 256; i++) {
        g[i] = t[i] - (int32_t)(h[i] < lo ? lo : h[i] > qmax ? qmax : h[i]);
        int64_t e = llabs(h[i] - lo) > llabs(h[i] - qmax - 1) ? llabs(h[i] - lo) : llabs(h[i] - qmax - 1);
        d = e > d ? e : d; /* |y + z - T| for the clamp's thresholds T */
    }
    /* one bit above the exact bound: vm_check_bounds (--proven-bounds)
     * bounds the requantized value from x's range, a little above it */
    uint32_t bits = bits_len((uint64_t)d) + 1;
    if (bits + 31 + (uint32_t)(k - 1) > 63)
        return UINT32_MAX;
    uint32_t v = em_sreg(&c->e, len), r = em_sreg(&c->e, len);
    EMIT(&c->e, OP_MULC, v, x, em_const1(&c->e, m));
    EMIT(&c->e, OP_REQCLAMP, r, addc(c, v, len, off), em_const(&c->e, &m0, 1), em_const(&c->e, &sh, 1),
         em_const(&c->e, zlh, 3), bits);
    if (rounding(c, &sh, 1, 0))
        return UINT32_MAX;
    return binop(c, OP_ADD, r, table_steps(c, x, len, g, qmin, 256), len);
}

/* The one tensor argument of a layer f(x, kw...) -> q(s, z) on an 8-bit x,
 * y's dtype and quantization set; NULL after an error. */
static tensor *unary_quantized(lctx *c, const args *a, tensor *y, const char *const *kw)
{
    if (check_args(a, 1, 1, kw))
        return NULL;
    tensor *x = pos_tensor(c, a, 0);
    return !x || need_act_dtype(a, x) || result_quant(a->st, a, x, y, 1) ? NULL : x;
}

/* logistic(x) -> q(0.00390625, -128): TFLite's LOGISTIC for int8, its
 * table (qm_logistic_table), by table_apply; hard_swish(x) -> q(s, z):
 * TFLite's HARD_SWISH on u8 or i8, its int16 kernel tabulated
 * (qm_hard_swish_table), by table_tail (its line above +3 and the steps
 * below), else table_apply. */
static int lower_table_act(lctx *c, const stmt *st, tensor *y, int hard_swish)
{
    args a = {st, hard_swish ? "hard_swish" : "logistic"};
    tensor *x = unary_quantized(c, &a, y, NULL);
    if (!x)
        return -1;
    int32_t t[256], qmin = (int32_t)dtype_min(x->dtype), qmax = (int32_t)dtype_max(x->dtype);
    if (!hard_swish && (x->dtype != DT_I8 || y->scale[0] != 1.0f / 256 || y->zp[0] != -128)) {
        diag_error(st->fn.at, "logistic: an i8 input to q(0.00390625, -128) (TFLite's int8 kernel)");
        return -1;
    }
    if (hard_swish && qm_hard_swish_table(x->scale[0], x->zp[0], y->scale[0], y->zp[0], qmin, qmax, t)) {
        diag_error(st->fn.at, "hard_swish: the output scale %g is below the input's %g / 128, which TFLite's "
                   "HardSwishPrepare refuses", (double)y->scale[0], (double)x->scale[0]);
        return -1;
    }
    if (!hard_swish)
        qm_logistic_table(x->scale[0], x->zp[0], y->scale[0], y->zp[0], t);
    uint64_t len = elems(&x->shape);
    if (over_limit(c, st->fn.at, len * 4 * 256 + 2 * len, 512))
        return -1;
    y->shape = x->shape;
    int32_t m;
    int64_t b;
    int k;
    y->reg = hard_swish && qm_hard_swish_line(x->scale[0], x->zp[0], y->scale[0], &m, &b, &k) == 0
                 ? table_tail(c, x->reg, len, t, qmin, qmax, m, b, k, y->zp[0])
                 : UINT32_MAX;
    if (y->reg == UINT32_MAX)
        y->reg = table_apply(c, x->reg, len, t, qmin, 256, qmin, qmax);
    if (y->reg == UINT32_MAX)
        return -1;
    em_layer(&c->e, &(qbc_layer){(char *)y->name, (char *)a.layer, y->dtype, y->shape, y->scale[0], y->zp[0], 0,
                                 y->reg});
    return 0;
}

/* mean(x, keep_dims=false|true, arith=float|int|int_div|trunc|opt) -> q(s, z):
 * TFLite's MEAN over H and W of [1, H, W, C], the result [1, C] or, with
 * keep_dims, [1, 1, 1, C]; the window sums S by a POOLSUM, then
 *  - arith=int: the integer QuantizedMeanOrSum of TFLite 2.13 and later,
 *    S - zp_in n requantized by its own multiplier (qm_mean_int_multiplier)
 *    in one exact REQCLAMP;
 *  - arith=opt: the int8 keep_dims kernel of 2.13 and later's default
 *    resolver, S requantized with its multiplier and bias
 *    (qm_mean_opt_params) in one exact REQCLAMP;
 *  - else TFLite 2.12's kernels, tabulated over every sum and applied by
 *    table_apply (one exact REQCLAMP of S + c when a line fits the whole
 *    sum domain, else comparisons): float (the default), its float32
 *    QuantizedMeanOrSum (qm_mean_float); int_div, its int8 keep_dims
 *    kernel reference_integer_ops::Mean (qm_mean_int_div); trunc, its
 *    kernel for an output quantized as the input, S / n truncated. */
static int lower_mean(lctx *c, const stmt *st, tensor *y)
{
    static const char *const kw[] = {"keep_dims", "arith", NULL}, *const bools[] = {"false", "true", NULL},
                             *const ariths[] = {"float", "int", "int_div", "trunc", "opt", NULL};
    args a = {st, "mean"};
    tensor *x = unary_quantized(c, &a, y, kw);
    const value *kv = kwarg(&a, "keep_dims"), *av = kwarg(&a, "arith");
    int keep = kv ? want_ident(kv, "keep_dims", bools) : 0, arith = av ? want_ident(av, "arith", ariths) : 0;
    if (!x || keep < 0 || arith < 0)
        return -1;
    if (x->shape.ndim != 4 || x->shape.dims[0] != 1 || (uint64_t)x->shape.dims[1] * x->shape.dims[2] > 4096) {
        diag_error(st->fn.at, "mean needs a [1, H, W, C] input with H W at most 4096 (its sums' domain is tabulated)");
        return -1;
    }
    if (((arith == 2 || arith == 4) && (x->dtype != DT_I8 || y->dtype != DT_I8)) ||
        (arith == 3 && (x->scale[0] != y->scale[0] || x->zp[0] != y->zp[0]))) {
        diag_error(st->fn.at, arith == 3 ? "mean: arith=trunc is TFLite's kernel for an output quantized as the input"
                                         : "mean: arith=%s is TFLite's int8 kernel: an i8 input and output",
                   ariths[arith]);
        return -1;
    }
    uint32_t h = x->shape.dims[1], w = x->shape.dims[2], ch = x->shape.dims[3];
    int64_t n = (int64_t)h * w, qmin = dtype_min(x->dtype), qmax = dtype_max(x->dtype);
    int64_t smin = qmin * n, len = (qmax - qmin) * n + 1;
    if (over_limit(c, st->fn.at, (uint64_t)ch * 2 * (uint64_t)(qmax - qmin + 2), (uint64_t)(qmax - qmin + 1)))
        return -1;
    geom g = {h, w, ch, h, w, 1, 1, 1, 1, 0, 0, 1, 1};
    uint32_t gw[13], sum = em_sreg(&c->e, ch);
    geom_encode(&g, gw);
    EMIT(&c->e, OP_POOLSUM, sum, x->reg, gw[0], gw[1], gw[2], gw[3], gw[4], gw[5], gw[6], gw[7], gw[8], gw[9],
         gw[10], gw[11], gw[12]);
    if (arith == 1 || arith == 4) {
        int32_t m0, bias = y->zp[0];
        int shift;
        if (arith == 1)
            qm_mean_int_multiplier(n, x->scale[0], y->scale[0], &m0, &shift);
        else
            qm_mean_opt_params(n, x->scale[0], y->scale[0], x->zp[0], y->zp[0], &m0, &shift, &bias);
        int64_t m = m0, sh = shift, zlh[3] = {bias, dtype_min(y->dtype), dtype_max(y->dtype)};
        c->acc_bound = arith == 1 ? (qmax - qmin) * n : -qmin * n; /* |S - zp_in n|, |S| */
        y->reg = requant_clamp(c, arith == 1 ? addc(c, sum, ch, -(int64_t)x->zp[0] * n) : sum, ch, &m, &sh, 1, zlh,
                               SIZE_MAX);
    } else {
        int32_t *f = xcalloc((size_t)len, sizeof(int32_t));
        int32_t lo = (int32_t)dtype_min(y->dtype), hi = (int32_t)dtype_max(y->dtype);
        for (int64_t i = 0; i < len; i++)
            f[i] = arith == 0 ? qm_mean_float(smin + i, n, x->scale[0], y->scale[0], x->zp[0], y->zp[0], lo, hi)
                   : arith == 2 ? qm_mean_int_div(smin + i, n, x->scale[0], y->scale[0], x->zp[0], y->zp[0], lo, hi)
                                : (int32_t)((smin + i) / n);
        y->reg = table_apply(c, sum, ch, f, smin, len, (int32_t)dtype_min(y->dtype), (int32_t)dtype_max(y->dtype));
        free(f);
    }
    if (y->reg == UINT32_MAX)
        return -1;
    y->shape = keep ? (qbc_shape){4, {1, 1, 1, ch}} : (qbc_shape){2, {1, ch}};
    em_layer(&c->e, &(qbc_layer){(char *)y->name, "mean", y->dtype, y->shape, y->scale[0], y->zp[0],
                                 (uint64_t)ch * (uint64_t)n, y->reg});
    return 0;
}

/* ------------------------------------------------------------------ add */

/* TFLite's general quantized add: each input centred, shifted left by 20
 * and requantized by a multiplier below one, the sum requantized and
 * clamped; with secret= the three requantizations are REQS blocks. */
static int lower_add(lctx *c, const stmt *st, tensor *y)
{
    static const char *const kw[] = {"activation", "secret", "shift", "bits", NULL};
    args a = {st, "add"};
    if (check_args(&a, 2, 2, kw))
        return -1;
    tensor *x1 = pos_tensor(c, &a, 0), *x2 = pos_tensor(c, &a, 1);
    const value *av = kwarg(&a, "activation");
    int act = av ? want_ident(av, "activation", act_names) : 0;
    secret_layer sl;
    int sec = x1 && x2 && act >= 0 ? secret_args(c, &a, &sl, 3) : -1;
    if (sec < 0 || need_act_dtype(&a, x1) || need_act_dtype(&a, x2) ||
        (sec ? secret_result(&a, x1, NULL, y) : result_quant(st, &a, x1, y, 1)))
        return -1;
    if (x1->dtype != x2->dtype) {
        diag_error(st->fn.at, "add: dtype mismatch: '%s' is %s, '%s' is %s", x1->name,
                   dtype_names[x1->dtype], x2->name, dtype_names[x2->dtype]);
        return -1;
    }
    if (x1->shape.ndim != x2->shape.ndim ||
        memcmp(x1->shape.dims, x2->shape.dims, x1->shape.ndim * sizeof(uint32_t)) != 0) {
        diag_error(st->fn.at, "add: shape mismatch between '%s' and '%s'", x1->name, x2->name);
        return -1;
    }
    y->shape = x1->shape;
    uint64_t len = elems(&y->shape);
    uint32_t in[2], zp;
    int32_t q[3];
    int qs[3];
    if (!sec && qm_add_multipliers(x1->scale[0], x2->scale[0], y->scale[0], q, qs)) {
        diag_error(st->fn.at, "add: output scale too small for the inputs' scales");
        return -1;
    }
    int64_t m0[3], sh[3];
    for (int i = 0; i < 3; i++)
        m0[i] = sec ? 0 : q[i], sh[i] = sec ? 0 : qs[i];
    for (int i = 0; i < 2; i++) {
        uint32_t s = em_sreg(&c->e, len);
        EMIT(&c->e, OP_MULC, s, centred(c, i ? x2 : x1), em_const1(&c->e, 1 << 20));
        if (sec) {
            in[i] = secret_requant(c, s, len, &sl, (uint32_t)i, &zp, 0, SIZE_MAX);
            continue;
        }
        in[i] = em_sreg(&c->e, len);
        EMIT(&c->e, OP_REQUANT, in[i], s, em_const1(&c->e, m0[i]), em_const1(&c->e, sh[i]));
        if (rounding(c, &sh[i], 1, 0))
            return -1;
    }
    uint32_t sum = binop(c, OP_ADD, in[0], in[1], len);
    if (sec) {
        y->reg = secret_requant(c, sum, len, &sl, 2, &y->zpreg, 0, SIZE_MAX);
    } else {
        int64_t zlh[3] = {y->zp[0], 0, 0};
        act_range(act, y->dtype, y->scale[0], y->zp[0], &zlh[1], &zlh[2]);
        y->reg = requant_clamp(c, sum, len, &m0[2], &sh[2], 1, zlh, SIZE_MAX);
    }
    em_layer(&c->e, &(qbc_layer){(char *)y->name, "add", y->dtype, y->shape, y->scale[0],
                                 y->zp[0], 0, y->reg});
    return 0;
}

/* ------------------------------------------------- shape-only layers */

static int lower_reshape(lctx *c, const stmt *st, tensor *y, int flatten)
{
    static const char *const kw[] = {"shape", NULL};
    args a = {st, flatten ? "flatten" : "reshape"};
    if (check_args(&a, 1, 1, flatten ? NULL : kw))
        return -1;
    tensor *x = pos_tensor(c, &a, 0);
    if (!x || result_quant(st, &a, x, y, 0))
        return -1;
    uint64_t n = elems(&x->shape);
    if (flatten) {
        y->shape.ndim = 2;
        y->shape.dims[0] = 1;
        y->shape.dims[1] = (uint32_t)n;
    } else {
        const value *sv = kwarg(&a, "shape");
        if (!sv) {
            diag_error(st->fn.at, "reshape needs shape=[...]");
            return -1;
        }
        if (want_shape(sv, &y->shape, 1))
            return -1;
        int unknown = -1;
        uint64_t known = 1;
        for (int i = 0; i < y->shape.ndim; i++) {
            if (y->shape.dims[i] == 0) {
                if (unknown >= 0) {
                    diag_error(sv->at, "reshape: at most one dimension may be -1");
                    return -1;
                }
                unknown = i;
            } else {
                known *= y->shape.dims[i];
            }
        }
        if (unknown >= 0 && known && n % known == 0)
            y->shape.dims[unknown] = (uint32_t)(n / known);
        if (elems(&y->shape) != n || (unknown >= 0 && y->shape.dims[unknown] == 0)) {
            diag_error(sv->at, "reshape: shape mismatch: '%s' has %llu elements", x->name,
                       (unsigned long long)n);
            return -1;
        }
    }
    y->reg = x->reg; /* same data, new shape */
    em_layer(&c->e, &(qbc_layer){(char *)y->name, (char *)a.layer, y->dtype, y->shape, y->scale[0],
                                 y->zp[0], 0, y->reg});
    return 0;
}

static int lower_concat(lctx *c, const stmt *st, tensor *y)
{
    static const char *const kw[] = {"axis", NULL};
    args a = {st, "concat"};
    if (check_args(&a, 1, 64, kw))
        return -1;
    int n = npos_args(&a);
    tensor *xs[64] = {NULL}; /* check_args: 1 to 64 of them */
    for (int i = 0; i < n; i++)
        if (!(xs[i] = pos_tensor(c, &a, i)))
            return -1;
    int nd = xs[0]->shape.ndim;
    long long axis = nd - 1;
    const value *av = kwarg(&a, "axis");
    if (av && want_int(av, -nd, nd - 1, "axis", &axis))
        return -1;
    if (axis < 0)
        axis += nd;
    if (result_quant(st, &a, xs[0], y, 0))
        return -1;
    y->shape = xs[0]->shape;
    y->shape.dims[axis] = 0;
    for (int i = 0; i < n; i++) {
        const tensor *x = xs[i];
        int same = x->shape.ndim == nd && x->dtype == xs[0]->dtype && x->nq == 1 &&
                   x->scale[0] == xs[0]->scale[0] && x->zp[0] == xs[0]->zp[0];
        for (int d = 0; same && d < nd; d++)
            same = d == axis || x->shape.dims[d] == xs[0]->shape.dims[d];
        if (!same) {
            diag_error(st->fn.at, "concat: '%s' differs from '%s' in dtype, quantization or a "
                                  "dimension other than axis %lld",
                       x->name, xs[0]->name, axis);
            return -1;
        }
        y->shape.dims[axis] += x->shape.dims[axis];
    }
    uint64_t outer = 1, inner = 1;
    for (int d = 0; d < axis; d++)
        outer *= y->shape.dims[d];
    for (int d = (int)axis + 1; d < nd; d++)
        inner *= y->shape.dims[d];
    y->reg = em_sreg(&c->e, elems(&y->shape));
    uint64_t off = 0, row = inner * y->shape.dims[axis];
    for (int i = 0; i < n; i++) {
        uint64_t blk = inner * xs[i]->shape.dims[axis];
        EMIT(&c->e, OP_COPY, y->reg, xs[i]->reg, (uint32_t)outer, (uint32_t)blk, (uint32_t)row,
             (uint32_t)off, (uint32_t)blk, 0);
        off += blk;
    }
    em_layer(&c->e, &(qbc_layer){(char *)y->name, "concat", y->dtype, y->shape, y->scale[0],
                                 y->zp[0], 0, y->reg});
    return 0;
}

/* pad(x, [[0,0],[t,b],[l,r],[0,0]]) on [1,H,W,C] with the zero point. */
static int lower_pad(lctx *c, const stmt *st, tensor *y)
{
    static const char *const kw[] = {"paddings", NULL};
    args a = {st, "pad"};
    if (check_args(&a, 1, 1, kw))
        return -1;
    tensor *x = pos_tensor(c, &a, 0);
    const value *pv = kwarg(&a, "paddings");
    if (!x || result_quant(st, &a, x, y, 0))
        return -1;
    if (!pv || pv->kind != V_LIST || pv->nitems != 4 || x->shape.ndim != 4 ||
        x->shape.dims[0] != 1) {
        diag_error(st->fn.at, "pad needs a [1, H, W, C] input and paddings=[[0,0],[t,b],[l,r],[0,0]]");
        return -1;
    }
    uint32_t p[4][2];
    for (int d = 0; d < 4; d++)
        if (want_pair(pv->items[d], "padding", 0, 1 << 16, p[d]) || pv->items[d]->kind != V_LIST)
            return -1;
    if (p[0][0] || p[0][1]) {
        diag_error(pv->at, "pad: the batch dimension cannot be padded");
        return -1;
    }
    y->shape = x->shape;
    for (int d = 1; d < 4; d++)
        y->shape.dims[d] += p[d][0] + p[d][1];
    uint32_t h = x->shape.dims[1], w = x->shape.dims[2], ch = x->shape.dims[3];
    uint32_t ow = y->shape.dims[2], oc = y->shape.dims[3];
    y->reg = em_sreg(&c->e, elems(&y->shape));
    EMIT(&c->e, OP_FILLC, y->reg, em_const1(&c->e, x->zp[0]));
    for (uint32_t r = 0; r < h; r++)
        EMIT(&c->e, OP_COPY, y->reg, x->reg, w, ch, oc,
             ((r + p[1][0]) * ow + p[2][0]) * oc + p[3][0], ch, r * w * ch);
    em_layer(&c->e, &(qbc_layer){(char *)y->name, "pad", y->dtype, y->shape, y->scale[0], y->zp[0],
                                 0, y->reg});
    return 0;
}

/* quantize(x) -> DTYPE q(s, z): TFLite's QUANTIZE between integer types,
 * y = MultiplyByQuantizedMultiplier(x - zx, s_x / s_y) + zy, saturated. */
static int lower_quantize(lctx *c, const stmt *st, tensor *y)
{
    args a = {st, "quantize"};
    if (check_args(&a, 1, 1, NULL))
        return -1;
    tensor *x = pos_tensor(c, &a, 0);
    if (!x || need_act_dtype(&a, x))
        return -1;
    int dt = st->dtype ? dtype_of(st->dtype, st->dtype_at) : x->dtype;
    if (dt < 0)
        return -1;
    if (dt == DT_I32 || !st->q.present) {
        diag_error(st->fn.at, "quantize needs its result as -> u8|i8 q(scale, zero_point)");
        return -1;
    }
    y->dtype = (uint8_t)dt;
    if (parse_quant(&st->q, y))
        return -1;
    if (y->nq != 1) {
        diag_error(st->q.at, "quantize: the result must be quantized per tensor");
        return -1;
    }
    y->shape = x->shape;
    uint64_t len = elems(&y->shape);
    int32_t m0;
    int sh;
    qm_quantize_multiplier((double)x->scale[0] / (double)y->scale[0], &m0, &sh);
    int64_t m = m0, s = sh, zlh[3] = {y->zp[0], dtype_min(dt), dtype_max(dt)};
    int64_t lo = dtype_min(x->dtype) - x->zp[0] + y->zp[0], hi = dtype_max(x->dtype) - x->zp[0] + y->zp[0];
    if (m0 == 1 << 30 && sh == 1) { /* equal scales (as Keras' uint8 edges): the multiplier is the
                                     * identity on |x - zx| < 2^30, so the codes only move, and are
                                     * clamped where the result's range does not hold them all */
        y->reg = addc(c, x->reg, len, (int64_t)y->zp[0] - x->zp[0]);
        if (lo < dtype_min(dt) || hi > dtype_max(dt))
            y->reg = clamp(c, y->reg, len, dtype_min(dt), dtype_max(dt), 10);
    } else {
        y->reg = requant_clamp(c, addc(c, x->reg, len, -x->zp[0]), len, &m, &s, 1, zlh, SIZE_MAX);
    }
    em_layer(&c->e, &(qbc_layer){(char *)y->name, "quantize", y->dtype, y->shape, y->scale[0],
                                 y->zp[0], 0, y->reg});
    return 0;
}

/* --------------------------------------------------------------- outputs */

/* Index of the first maximum, by a tree over adjacent pairs so that ties
 * keep the lower index (TFLite's ArgMax). */
static uint32_t argmax(lctx *c, uint32_t v, uint64_t n, int dtype)
{
    int64_t *idx = xcalloc(n, sizeof(int64_t)); /* n is within the limits: see lower_output */
    for (uint64_t i = 0; i < n; i++)
        idx[i] = (int64_t)i;
    uint32_t id = em_sreg(&c->e, n);
    EMIT(&c->e, OP_FILLC, id, em_const(&c->e, idx, (uint32_t)n));
    free(idx);
    while (n > 1) {
        uint64_t h = n / 2;
        uint32_t r[2][2]; /* [value/index][even/odd] */
        for (int k = 0; k < 2; k++)
            for (int j = 0; j < 2; j++) {
                r[k][j] = em_sreg(&c->e, h);
                EMIT(&c->e, OP_COPY, r[k][j], k ? id : v, (uint32_t)h, 1, 1, 0, 2, (uint32_t)j);
            }
        uint32_t d = binop(c, OP_SUB, r[0][0], r[0][1], h);
        uint32_t bit = ltz(c, d, h, diff_bits(dtype));
        uint32_t di = binop(c, OP_SUB, r[1][0], r[1][1], h);
        uint32_t nv = binop(c, OP_SUB, r[0][0], binop(c, OP_MUL, bit, d, h), h);
        uint32_t ni = binop(c, OP_SUB, r[1][0], binop(c, OP_MUL, bit, di, h), h);
        if (n % 2) { /* the odd one out moves on unchanged, last */
            uint32_t v2 = em_sreg(&c->e, h + 1), i2 = em_sreg(&c->e, h + 1);
            EMIT(&c->e, OP_COPY, v2, nv, 1, (uint32_t)h, 0, 0, 0, 0);
            EMIT(&c->e, OP_COPY, v2, v, 1, 1, 0, (uint32_t)h, 0, (uint32_t)(n - 1));
            EMIT(&c->e, OP_COPY, i2, ni, 1, (uint32_t)h, 0, 0, 0, 0);
            EMIT(&c->e, OP_COPY, i2, id, 1, 1, 0, (uint32_t)h, 0, (uint32_t)(n - 1));
            nv = v2;
            ni = i2;
        }
        v = nv;
        id = ni;
        n = (n + 1) / 2;
    }
    return id;
}

static void lower_output(lctx *c, const stmt *st)
{
    static const char *const kinds[] = {"raw", "softmax", "argmax", "dequantize", NULL};
    const char *tname = st->name;
    loc tat = st->name_at;
    int kind = OUT_RAW;
    double beta = 1.0;
    if (st->fn.name) {
        value fv = {V_IDENT, st->fn.at, st->fn.name, 0, NULL, 0};
        kind = want_ident(&fv, "output function", kinds + 1) + 1;
        if (kind == 0)
            return;
        static const char *const sm_kw[] = {"beta", NULL};
        args a = {st, kinds[kind]};
        if (check_args(&a, 1, 1, kind == OUT_SOFTMAX ? sm_kw : NULL))
            return;
        const value *bv = kwarg(&a, "beta");
        float bf;
        if (bv) {
            if (want_float(bv, "beta", &bf))
                return;
            beta = bf;
        }
        const value *tv = NULL;
        for (int i = 0; i < st->fn.nargs && !tv; i++)
            if (!st->fn.args[i].key)
                tv = st->fn.args[i].val;
        if (!tv || tv->kind != V_IDENT) {
            diag_error(st->fn.at, "%s needs a tensor name", kinds[kind]);
            return;
        }
        tname = tv->text;
        tat = tv->at;
    }
    tensor *x = find_tensor(c, tname);
    if (!x)
        diag_error(tat, "unknown tensor '%s'", tname);
    int party = party_index(c, st->to, st->to_at);
    if (!x || x->bad || party < 0)
        return;
    if (x->nq != 1 && kind != OUT_RAW) {
        diag_error(tat, "%s: '%s' must be quantized per tensor", kinds[kind], x->name);
        return;
    }
    if ((kind == OUT_SOFTMAX || kind == OUT_DEQUANT) && (x->sec || x->raw)) {
        diag_error(tat, "%s: the quantization of '%s' is secret (or absent)", kinds[kind], x->name);
        return;
    }
    if ((kind == OUT_SOFTMAX || kind == OUT_DEQUANT) && x->dtype == DT_I32) {
        diag_error(tat, "%s: '%s' must be u8 or i8", kinds[kind], x->name);
        return;
    }
    if (kind == OUT_SOFTMAX && x->shape.dims[x->shape.ndim - 1] > QM_SOFTMAX_MAX) {
        diag_error(tat, "softmax: '%s' has %u values in its last dimension, at most %d (the sum of their "
                   "exponentials would overflow TFLite's Q12.19)", x->name, x->shape.dims[x->shape.ndim - 1],
                   QM_SOFTMAX_MAX);
        return;
    }
    /* TFLite's softmax scales the differences by a multiplier greater than
     * one (QuantizeMultiplierGreaterThanOne): beta * scale * 2^26 > 1 */
    if (kind == OUT_SOFTMAX && !(beta * (double)x->scale[0] * (double)(1 << 26) > 1.0)) {
        diag_error(tat, "softmax: beta %g times the scale %g of '%s' is below 2^-26, which TFLite's softmax cannot take",
                   beta, (double)x->scale[0], x->name);
        return;
    }
    qbc_output o = {(char *)x->name, (uint8_t)party, x->dtype, (uint8_t)kind, x->shape,
                    x->scale[0], x->zp[0], 0, 0, 0};
    uint32_t reg = x->reg;
    if (kind == OUT_SOFTMAX) {
        qm_softmax_params sp;
        qm_softmax_prepare(beta, (double)x->scale[0], &sp);
        o.sm_multiplier = sp.multiplier;
        o.sm_shift = sp.left_shift;
        o.sm_diff_min = sp.diff_min;
    } else if (kind == OUT_ARGMAX) {
        if (over_limit(c, st->at, 4 * elems(&x->shape), elems(&x->shape)))
            return; /* the index constant, and a tree of values and indices */
        reg = argmax(c, x->reg, elems(&x->shape), x->dtype);
        o.dtype = DT_I32;
        o.shape.ndim = 1;
        o.shape.dims[0] = 1;
        o.scale = 1.0f;
        o.zp = 0;
    }
    EMIT(&c->e, OP_OUTPUT, reg, em_output(&c->e, &o));
    c->noutputs++;
}

/* ------------------------------------------------------------ statements */

static void lower_party(lctx *c, const stmt *st)
{
    if (st->party_id < 0 || st->party_id >= QBC_MAX_PARTIES) {
        diag_error(st->name_at, "party number %lld out of range [0, %d]", st->party_id,
                   QBC_MAX_PARTIES - 1);
        return;
    }
    for (int i = 0; i < QBC_MAX_PARTIES; i++)
        if (c->party_set[i] && strcmp(c->party_name[i], st->name) == 0) {
            diag_error(st->name_at, "party '%s' is already defined", st->name);
            return;
        }
    int id = (int)st->party_id;
    if (c->party_set[id]) {
        diag_error(st->name_at, "party %d is already '%s'", id, c->party_name[id]);
        return;
    }
    c->party_set[id] = 1;
    c->party_name[id] = st->name;
    c->party_at[id] = st->name_at;
    c->nparty_decl++;
}

static void lower_input(lctx *c, const stmt *st)
{
    int dt = dtype_of(st->dtype, st->dtype_at);
    int party = party_index(c, st->from, st->from_at);
    tensor *t = new_tensor(c, st->name, st->name_at);
    if (!t)
        return;
    t->bad = 1; /* until fully checked */
    if (dt < 0)
        return;
    t->dtype = (uint8_t)dt;
    if (want_shape(st->shape, &t->shape, 0))
        return;
    if (!st->q.present && dt != DT_I32) {
        diag_error(st->name_at, "input '%s' needs its quantization: q(scale, zero_point)",
                   st->name);
        return;
    }
    if (!st->q.present)
        set_quant(t, 0.0f, 0), t->raw = 1;
    else if (parse_quant(&st->q, t))
        return;
    if (party < 0)
        return;
    t->party = party;
    t->bad = 0;
    t->reg = em_sreg(&c->e, elems(&t->shape));
    qbc_input in = {(char *)t->name, (uint8_t)party, t->dtype, t->shape};
    EMIT(&c->e, OP_INPUT, t->reg, em_input(&c->e, &in));
}

/* Raw i32 inputs serve only layers with secret=, and a tensor whose
 * quantization is secret feeds only what needs no quantization of its own:
 * such layers, pools without activation, reshape and flatten. */
static int secret_misuse(lctx *c, const stmt *st, int f)
{
    int takes_sec = f <= 4 || f == 6 || f == 7, takes_raw = f <= 2;
    for (int i = 0; i < st->fn.nargs; i++)
        if (f == 5 && st->fn.args[i].key && !strcmp(st->fn.args[i].key, "secret"))
            takes_sec = 1; /* add with secret= */
    for (int i = 0; i < st->fn.nargs; i++) {
        const arg *g = &st->fn.args[i];
        if (g->key || g->val->kind != V_IDENT)
            continue;
        const tensor *t = find_tensor(c, g->val->text);
        if (t && t->raw && !takes_raw) {
            diag_error(g->val->at, "%s: '%s' has no quantization (an i32 input without q): only a layer with secret= takes it",
                       st->fn.name, t->name);
            return -1;
        }
        if (t && t->sec && !takes_sec) {
            diag_error(g->val->at, "%s: the quantization of '%s' is the model owner's secret; %s cannot take it yet",
                       st->fn.name, t->name, st->fn.name);
            return -1;
        }
    }
    return 0;
}

static void lower_layer(lctx *c, const stmt *st)
{
    static const char *const fns[] = {"conv2d",   "depthwise_conv2d", "fully_connected",
                                      "avg_pool2d", "max_pool2d",    "add",
                                      "reshape",  "flatten",          "concat",
                                      "pad",      "quantize",         "mean",
                                      "relu",     "relu6",            "relu_n1_to_1",
                                      "maximum",  "minimum",          "mul",
                                      "logistic", "hard_swish", NULL};
    value fv = {V_IDENT, st->fn.at, st->fn.name, 0, NULL, 0};
    int f = want_ident(&fv, "layer", fns);
    tensor *y = new_tensor(c, st->name, st->name_at);
    if (!y)
        return;
    y->bad = 1; /* defined, so that uses do not cascade, but unusable until lowered */
    if (f < 0)
        return;
    static const char *const modes[] = {"exact", "fast", NULL};
    c->st = st;
    c->fast = 0;
    c->acc_bound = 0;
    for (int i = 0; i < st->fn.nargs; i++)
        if (st->fn.args[i].key && strcmp(st->fn.args[i].key, "rounding") == 0 &&
            (c->fast = want_ident(st->fn.args[i].val, "rounding", modes)) < 0)
            return;
    if (secret_misuse(c, st, f))
        return;
    int rc;
    switch (f) {
    case 0:
    case 1:
    case 2: rc = lower_convlike(c, st, y, f); break;
    case 3:
    case 4: rc = lower_pool(c, st, y, f == 4); break;
    case 5: rc = lower_add(c, st, y); break;
    case 6:
    case 7: rc = lower_reshape(c, st, y, f == 7); break;
    case 8: rc = lower_concat(c, st, y); break;
    case 9: rc = lower_pad(c, st, y); break;
    case 10: rc = lower_quantize(c, st, y); break;
    case 11: rc = lower_mean(c, st, y); break;
    case 12:
    case 13:
    case 14: rc = lower_relu(c, st, y, f - 12); break;
    case 15:
    case 16: rc = lower_maxmin(c, st, y, f == 15); break;
    case 17: rc = lower_mul(c, st, y); break;
    default: rc = lower_table_act(c, st, y, f == 19); break;
    }
    if (rc != 0)
        return;
    y->bad = 0;
    EMIT(&c->e, OP_LAYER, c->e.p.nlayers - 1);
}

/* --proven-bounds: out must need no bound that its inputs' ranges do not
 * imply; --field: no value may leave (-2^63, 2^63). A refusal goes to its
 * layer's statement. */
static int check_program(lctx *c, qbc_program *out)
{
    char err[512];
    uint32_t layer;
    const char *flag = NULL;
    if (c->proven && vm_check_bounds_at(out, &layer, err, sizeof err) != 0)
        flag = "--proven-bounds";
    else if (c->field && vm_check_fit(out, 63, &layer, err, sizeof err) != 0)
        flag = "--field";
    if (!flag)
        return 0;
    const tensor *t = layer < out->nlayers ? find_tensor(c, out->layers[layer].name) : NULL;
    loc start = {1, 1};
    diag_error(t ? t->at : start, "%s: %s", flag, err);
    qbc_free(out);
    return -1;
}

int lower_program(const program_ast *ast, unsigned flags, qbc_program *out)
{
    lctx c;
    memset(&c, 0, sizeof c);
    c.proven = (flags & COMPILE_PROVEN_BOUNDS) != 0;
    c.field = (flags & COMPILE_FIELD) != 0;
    em_init(&c.e);
    int start_errors = diag_count();
    for (int i = 0; i < ast->nstmts; i++) {
        const stmt *st = &ast->stmts[i];
        switch (st->kind) {
        case S_NETWORK:
            if (c.saw_network++ || i != 0)
                diag_error(st->at, "'network' must be the first statement, once");
            break;
        case S_PARTY: lower_party(&c, st); break;
        case S_INPUT: lower_input(&c, st); break;
        case S_LAYER: lower_layer(&c, st); break;
        case S_OUTPUT: lower_output(&c, st); break;
        }
        if (over_limit(&c, st->at, 0, 0))
            break; /* the rest would only allocate more */
    }
    loc start = {1, 1};
    if (!c.saw_network)
        diag_error(start, "the program must start with 'network NAME'");
    for (int i = 0; i < c.nparty_decl; i++)
        if (!c.party_set[i])
            diag_error(start, "parties must be numbered 0 to %d: party %d is missing",
                       c.nparty_decl - 1, i);
    if (diag_count() == start_errors && c.noutputs == 0)
        diag_error(start, "the program has no output");
    int ok = diag_count() == start_errors;
    if (ok) {
        for (int i = 0; i < c.nparty_decl; i++)
            em_party(&c.e, c.party_name[i]);
        c.e.late_inputs = (flags & COMPILE_LATE_INPUTS) != 0;
        em_finish(&c.e, out);
        ok = check_program(&c, out) == 0;
    }
    for (int i = 0; i < c.nt; i++) {
        free(c.t[i].scale);
        free(c.t[i].zp);
    }
    free(c.t);
    em_free(&c.e);
    return ok ? 0 : -1;
}
