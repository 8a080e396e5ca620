/* proto_clear: one party evaluates the program on plaintext values.
 *
 * The reference for every secure protocol: a "share" is the value itself, so
 * the same bytecode computes exactly what TensorFlow Lite's reference kernels
 * compute (requantization and rounding bit for bit). Nothing is sent. */
#include "runtime/proto/proto.h"

#include "runtime/core/kernels.h"
#include "runtime/core/qmath.h"

static void *clear_create(const proto_env *env, char *err, size_t errlen)
{
    (void)env;
    (void)err;
    (void)errlen;
    static int token;
    return &token;
}

static void clear_destroy(void *ps) { (void)ps; }

void proto_word_add(void *ps, word *d, const word *a, const word *b, size_t n, size_t nb)
{
    (void)ps;
    PERIODIC_LOOP(n, nb) d[i] = a[i] + b[j];
}

void proto_word_sub(void *ps, word *d, const word *a, const word *b, size_t n, size_t nb)
{
    (void)ps;
    PERIODIC_LOOP(n, nb) d[i] = a[i] - b[j];
}

static void clear_addc(void *ps, word *d, const word *a, const int64_t *c, size_t n, size_t nc)
{
    (void)ps;
    PERIODIC_LOOP(n, nc) d[i] = a[i] + (word)c[j];
}

void proto_word_mulc(void *ps, word *d, const word *a, const int64_t *c, size_t n, size_t nc)
{
    (void)ps;
    PERIODIC_LOOP(n, nc) d[i] = a[i] * (word)c[j];
}

static void clear_fillc(void *ps, word *d, const int64_t *c, size_t n, size_t nc)
{
    (void)ps;
    PERIODIC_LOOP(n, nc) d[i] = (word)c[j];
}

static int clear_steps(const pop *op)
{
    (void)op;
    return 1;
}

static int32_t as_i32(word v) { return (int32_t)(uint32_t)v; }

/* REQUANT of element i of a (TFLite's MultiplyByQuantizedMultiplier) */
static int64_t requant(const pop *op, size_t i)
{
    return qm_mul_by_qmult(as_i32(op->a[i]), (int32_t)op->mult[i % op->nmult], (int)op->shift[i % op->nshift]);
}

static word clamp(int64_t x, int64_t lo, int64_t hi) { return (word)(x < lo ? lo : x > hi ? hi : x); }

/* element i of REQUANT, DIVR or REQCLAMP: TFLite's result, exactly */
static word rounded(const pop *op, enum proto_kind kind, size_t i)
{
    if (kind == PK_DIVR)
        return (word)qm_div_round((int64_t)op->a[i], op->divisor[i % op->ndivisor]);
    return kind == PK_REQCLAMP ? clamp(requant(op, i) + op->zp, op->lo, op->hi) : (word)requant(op, i);
}

/* floor(v / 2^d) */
static word floor_shift(word v, int d) { return (word)(((int64_t)v - (int64_t)(v & (((word)1 << d) - 1))) / ((int64_t)1 << d)); }

/* REQS of element i (proto.h): exactly, whatever the flag */
static word reqs(const pop *op, size_t i)
{
    size_t nq = op->nb - 4;
    const word *q = op->b + nq;
    int64_t y = (int64_t)floor_shift(op->a[i], (int)op->kshift), delta;
    if (y < 1 && !op->relu)
        y = (int64_t)floor_shift(op->a[i] - (proto_reqs_public_delta(op, &delta) ? (word)delta : op->b[i % nq]),
                                 (int)op->kshift);
    return clamp(y + (int64_t)q[0], (int64_t)q[1], (int64_t)q[2]);
}

static int clear_prepare(void *ps, pop *op, int step, char *err, size_t errlen)
{
    (void)ps;
    (void)step;
    (void)err;
    (void)errlen;
    size_t n = op->n;
    switch (op->kind) {
    case PK_INPUT:
        for (size_t i = 0; i < n; i++)
            op->d[i] = (word)op->in[i];
        break;
    case PK_OUTPUT:
        for (size_t i = 0; i < n; i++)
            op->out[i] = (int64_t)op->a[i];
        break;
    case PK_MUL:
        PERIODIC_LOOP(n, op->nb) op->d[i] = op->a[i] * op->b[j];
        break;
    case PK_CONV2D: kern_conv2d(op->d, op->a, op->b, &op->g, op->channels); break;
    case PK_DWCONV2D: kern_dwconv2d(op->d, op->a, op->b, &op->g, op->channels); break;
    case PK_REQUANT:
    case PK_REQCLAMP:
    case PK_DIVR:
    case PK_EXACT: /* both roundings are TFLite's here */
        for (size_t i = 0; i < n; i++)
            op->d[i] = rounded(op, op->kind == PK_EXACT ? op->of : op->kind, i);
        break;
    case PK_TRUNC:
        for (size_t i = 0; i < n; i++) {
            uint8_t d;
            word m = proto_trunc_mult(op, i, &d);
            op->d[i] = floor_shift(op->a[i] * m, d);
        }
        break;
    case PK_REQS:
        for (size_t i = 0; i < n; i++)
            op->d[i] = reqs(op, i);
        break;
    case PK_LTZ:
        for (size_t i = 0; i < n; i++)
            op->d[i] = (int64_t)op->a[i] < 0;
        break;
    case PK_CLAMP:
        for (size_t i = 0; i < n; i++)
            op->d[i] = clamp((int64_t)op->a[i], op->lo, op->hi);
        break;
    case PK_LUT:
        for (size_t i = 0; i < n; i++)
            op->d[i] = (word)op->table[(op->a[i] - (word)op->lo) & 255];
        break;
    }
    return 0;
}

static int clear_exchange(void *ps, char *err, size_t errlen)
{
    (void)ps;
    (void)err;
    (void)errlen;
    return 0;
}

static int clear_finish(void *ps, pop *op, int step, char *err, size_t errlen)
{
    (void)ps;
    (void)op;
    (void)step;
    (void)err;
    (void)errlen;
    return 0;
}

static void clear_cost(const pop *op, int nparties, proto_cost *acc)
{
    (void)nparties;
    if (op->kind == PK_OUTPUT)
        acc->opened += op->n;
}

static void clear_setup_cost(int nparties, proto_cost *acc)
{
    (void)nparties;
    (void)acc;
}

const protocol proto_clear = {
    .name = "clear",
    .security = "none: one process evaluates the plaintext (the reference)",
    .domain = "int64 (plaintext)",
    .configs = {1},
    .min_parties = 1,
    .max_parties = 1,
    .share_words = 1,
    .create = clear_create,
    .destroy = clear_destroy,
    .add = proto_word_add,
    .sub = proto_word_sub,
    .addc = clear_addc,
    .mulc = proto_word_mulc,
    .fillc = clear_fillc,
    .steps = clear_steps,
    .prepare = clear_prepare,
    .exchange = clear_exchange,
    .finish = clear_finish,
    .cost = clear_cost,
    .setup_cost = clear_setup_cost,
};
