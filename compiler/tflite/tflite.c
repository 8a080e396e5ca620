/* tflite: .tflite model import (see tflite.h). Field numbers follow
 * TensorFlow Lite's schema.fbs. */
#define _POSIX_C_SOURCE 200809L
#include "compiler/tflite/tflite.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compiler/tflite/flatbuf.h"
#include "runtime/core/dtype.h"
#include "runtime/core/qmath.h"

/* BuiltinOperator codes (TFLite's schema.fbs) that the importer handles or
 * explains */
enum {
    OP_ADD = 0, OP_AVERAGE_POOL_2D = 1, OP_CONCATENATION = 2, OP_CONV_2D = 3,
    OP_DEPTHWISE_CONV_2D = 4, OP_DEQUANTIZE = 6, OP_FULLY_CONNECTED = 9, OP_LOGISTIC = 14,
    OP_MAX_POOL_2D = 17, OP_MUL = 18, OP_RELU = 19, OP_RELU_N1_TO_1 = 20, OP_RELU6 = 21,
    OP_RESHAPE = 22, OP_RESIZE_BILINEAR = 23, OP_SOFTMAX = 25, OP_PAD = 34, OP_MEAN = 40,
    OP_SUB = 41, OP_SQUEEZE = 43, OP_MAXIMUM = 55, OP_MINIMUM = 57, OP_EXPAND_DIMS = 70,
    OP_RESIZE_NEAREST_NEIGHBOR = 97, OP_QUANTIZE = 114, OP_HARD_SWISH = 117
};
enum { TT_FLOAT32 = 0, TT_INT32 = 2, TT_UINT8 = 3, TT_INT8 = 9 };

/* every BuiltinOperator by code, in schema.fbs's order */
static const char *const op_names[] = {
    "ADD", "AVERAGE_POOL_2D", "CONCATENATION", "CONV_2D", "DEPTHWISE_CONV_2D", "DEPTH_TO_SPACE",
    "DEQUANTIZE", "EMBEDDING_LOOKUP", "FLOOR", "FULLY_CONNECTED", "HASHTABLE_LOOKUP", "L2_NORMALIZATION",
    "L2_POOL_2D", "LOCAL_RESPONSE_NORMALIZATION", "LOGISTIC", "LSH_PROJECTION", "LSTM", "MAX_POOL_2D",
    "MUL", "RELU", "RELU_N1_TO_1", "RELU6", "RESHAPE", "RESIZE_BILINEAR", "RNN", "SOFTMAX",
    "SPACE_TO_DEPTH", "SVDF", "TANH", "CONCAT_EMBEDDINGS", "SKIP_GRAM", "CALL", "CUSTOM",
    "EMBEDDING_LOOKUP_SPARSE", "PAD", "UNIDIRECTIONAL_SEQUENCE_RNN", "GATHER", "BATCH_TO_SPACE_ND",
    "SPACE_TO_BATCH_ND", "TRANSPOSE", "MEAN", "SUB", "DIV", "SQUEEZE", "UNIDIRECTIONAL_SEQUENCE_LSTM",
    "STRIDED_SLICE", "BIDIRECTIONAL_SEQUENCE_RNN", "EXP", "TOPK_V2", "SPLIT", "LOG_SOFTMAX", "DELEGATE",
    "BIDIRECTIONAL_SEQUENCE_LSTM", "CAST", "PRELU", "MAXIMUM", "ARG_MAX", "MINIMUM", "LESS", "NEG",
    "PADV2", "GREATER", "GREATER_EQUAL", "LESS_EQUAL", "SELECT", "SLICE", "SIN", "TRANSPOSE_CONV",
    "SPARSE_TO_DENSE", "TILE", "EXPAND_DIMS", "EQUAL", "NOT_EQUAL", "LOG", "SUM", "SQRT", "RSQRT",
    "SHAPE", "POW", "ARG_MIN", "FAKE_QUANT", "REDUCE_PROD", "REDUCE_MAX", "PACK", "LOGICAL_OR",
    "ONE_HOT", "LOGICAL_AND", "LOGICAL_NOT", "UNPACK", "REDUCE_MIN", "FLOOR_DIV", "REDUCE_ANY", "SQUARE",
    "ZEROS_LIKE", "FILL", "FLOOR_MOD", "RANGE", "RESIZE_NEAREST_NEIGHBOR", "LEAKY_RELU",
    "SQUARED_DIFFERENCE", "MIRROR_PAD", "ABS", "SPLIT_V", "UNIQUE", "CEIL", "REVERSE_V2", "ADD_N",
    "GATHER_ND", "COS", "WHERE", "RANK", "ELU", "REVERSE_SEQUENCE", "MATRIX_DIAG", "QUANTIZE",
    "MATRIX_SET_DIAG", "ROUND", "HARD_SWISH", "IF", "WHILE", "NON_MAX_SUPPRESSION_V4",
    "NON_MAX_SUPPRESSION_V5", "SCATTER_ND", "SELECT_V2", "DENSIFY", "SEGMENT_SUM", "BATCH_MATMUL"};

static int op_known(int code) { return code >= 0 && (size_t)code < sizeof op_names / sizeof op_names[0]; }

static const char *op_name(int code) { return op_known(code) ? op_names[code] : "builtin operator"; }

/* what an unsupported operator is usually there for, to help the reader
 * of the error find the layer */
static const char *op_use(int code)
{
    switch (code) {
    case OP_MEAN: return "global average pooling: Keras' GlobalAveragePooling2D";
    case OP_DEQUANTIZE: return "a float output: supported only as the model's output";
    case OP_RESIZE_BILINEAR:
    case OP_RESIZE_NEAREST_NEIGHBOR: return "upsampling";
    case OP_SUB: return "an elementwise difference";
    default: return NULL;
    }
}

static int op_supported(int code)
{
    switch (code) {
    case OP_CONV_2D:
    case OP_DEPTHWISE_CONV_2D:
    case OP_AVERAGE_POOL_2D:
    case OP_MAX_POOL_2D:
    case OP_FULLY_CONNECTED:
    case OP_ADD:
    case OP_RESHAPE:
    case OP_CONCATENATION:
    case OP_PAD:
    case OP_QUANTIZE:
    case OP_MEAN:
    case OP_SQUEEZE:
    case OP_EXPAND_DIMS:
    case OP_RELU:
    case OP_RELU6:
    case OP_RELU_N1_TO_1:
    case OP_MAXIMUM:
    case OP_MINIMUM:
    case OP_MUL:
    case OP_LOGISTIC:
    case OP_HARD_SWISH:
    case OP_DEQUANTIZE:
    case OP_SOFTMAX: return 1;
    default: return 0;
    }
}

typedef struct {
    char name[128];
    int type, dtype;
    tshape shape;
    int nq, qdim;
    float *scale;
    int64_t *zp;
    const uint8_t *data; /* constant data, or NULL */
    size_t data_len;
    int declared;        /* its input statement is written */
} tensor;

typedef struct {
    int code;
    uint32_t tab; /* the Operator table */
    const int32_t *in, *out;
    uint32_t nin, nout;
} op;

typedef struct {
    char *p;
    size_t len, cap;
} sbuf;

typedef struct {
    flatbuf fb;
    tensor *t;
    uint32_t nt;
    op *ops;
    uint32_t nops;
    int32_t *ins, *outs;
    uint32_t nins, nouts;
    int32_t *ints; /* storage for op input/output index lists */
    sbuf decl, body;
    char *err;
    size_t errlen;
    int failed;
    tio_tensor *w;
    int nw;
    int fast;       /* rounding=fast on every layer */
    int secret;     /* --secret-params: quantization parameters are the owner's input */
    int fc_tensor;  /* --fc-per-tensor (TFL_FC_PER_TENSOR) */
    int mean_int;   /* --mean-arith int or int-ref (TFL_MEAN_INT) */
    int mean_ref;   /* --mean-arith int-ref (TFL_MEAN_REF) */
} imp;

static void sb_printf(sbuf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if (b->len + (size_t)n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + (size_t)n + 1)
            cap *= 2;
        char *q = realloc(b->p, cap);
        if (!q) {
            fputs("qnnc: out of memory\n", stderr);
            exit(2);
        }
        b->p = q;
        b->cap = cap;
    }
    va_start(ap, fmt);
    vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

static int fail(imp *m, const char *fmt, ...)
{
    if (m->failed)
        return -1;
    m->failed = 1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(m->err, m->errlen, fmt, ap);
    va_end(ap);
    return -1;
}

static int op_fail(imp *m, uint32_t i, const char *fmt, ...)
{
    char msg[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return fail(m, "operator %u (%s): %s", i, op_name(m->ops[i].code), msg);
}

/* ------------------------------------------------------------ parsing */

/* "A/B/C/D;alias" -> "B_C_D": the first alias, its last three components. */
static void make_name(imp *m, const char *raw, uint32_t idx, char *out, size_t outlen)
{
    char first[256];
    size_t n = strcspn(raw, ";");
    if (n >= sizeof first)
        n = sizeof first - 1;
    memcpy(first, raw, n);
    first[n] = 0;
    const char *s = first;
    for (int comps = 0, i = (int)n - 1; i >= 0; i--)
        if (first[i] == '/' && ++comps == 3) {
            s = first + i + 1;
            break;
        }
    size_t k = 0;
    if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || *s == '_'))
        k = (size_t)snprintf(out, outlen, "t%u_", idx);
    for (; *s && k + 12 < outlen && k < 100; s++) {
        char c = *s;
        int ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                 c == '_';
        out[k++] = ok ? c : '_';
    }
    out[k] = 0;
    static const char *const reserved[] = {"network", "party", "input", "output", "from", "to"};
    int clash = k == 0;
    for (size_t r = 0; r < sizeof reserved / sizeof *reserved; r++)
        clash |= strcmp(out, reserved[r]) == 0;
    for (uint32_t j = 0; j < idx && !clash; j++)
        clash = strcmp(m->t[j].name, out) == 0;
    if (clash)
        snprintf(out + k, outlen - k, "_%u", idx);
}

static int dtype_of_type(int type)
{
    return type == TT_UINT8 ? DT_U8 : type == TT_INT8 ? DT_I8 : type == TT_INT32 ? DT_I32 : -1;
}

static void parse_tensor(imp *m, uint32_t tab, uint32_t i, uint32_t buffers, uint32_t nbuf)
{
    flatbuf *fb = &m->fb;
    tensor *t = &m->t[i];
    uint32_t n;
    uint32_t sv = fb_vector(fb, tab, 0, 4, &n);
    if (n > MAX_DIMS) {
        fail(m, "tensor %u has %u dimensions (at most %d supported)", i, n, MAX_DIMS);
        return;
    }
    t->shape.ndim = (uint8_t)n;
    for (uint32_t d = 0; d < n; d++) {
        int32_t v = (int32_t)fb_u32_at(fb, sv + 4 * d);
        if (v <= 0 || v > (1 << 24)) {
            fail(m, "tensor %u: dimension %d is not supported", i, v);
            return;
        }
        t->shape.dims[d] = (uint32_t)v;
    }
    if (n == 0) { /* a scalar */
        t->shape.ndim = 1;
        t->shape.dims[0] = 1;
    }
    t->type = (int)fb_uint(fb, tab, 1, 1, 0);
    t->dtype = dtype_of_type(t->type);
    uint32_t buf = (uint32_t)fb_uint(fb, tab, 2, 4, 0);
    char raw[512];
    fb_string(fb, tab, 3, raw, sizeof raw);
    make_name(m, raw, i, t->name, sizeof t->name);
    uint32_t q = fb_table(fb, tab, 4);
    uint32_t ns = 0, nz = 0;
    uint32_t scales = q ? fb_vector(fb, q, 2, 4, &ns) : 0;
    uint32_t zps = q ? fb_vector(fb, q, 3, 8, &nz) : 0;
    t->qdim = q ? (int)fb_int(fb, q, 6, 4, 0) : 0;
    if (ns && nz && nz != ns && nz != 1) {
        fail(m, "tensor %u (%s): %u scales but %u zero points", i, t->name, ns, nz);
        return;
    }
    t->nq = (int)ns;
    t->scale = calloc(ns + 1, sizeof(float));
    t->zp = calloc(ns + 1, sizeof(int64_t));
    if (!t->scale || !t->zp) {
        fail(m, "out of memory");
        return;
    }
    for (uint32_t k = 0; k < ns && !fb->failed; k++) {
        uint32_t u = fb_u32_at(fb, scales + 4 * k);
        memcpy(&t->scale[k], &u, 4);
        if (nz) /* an empty vector is present (zps != 0) but holds nothing */
            t->zp[k] = (int64_t)((uint64_t)fb_u32_at(fb, zps + 8 * (nz == 1 ? 0 : k)) |
                                 (uint64_t)fb_u32_at(fb, zps + 8 * (nz == 1 ? 0 : k) + 4) << 32);
    }
    if (buf >= nbuf && buf != 0) {
        fail(m, "tensor %u (%s): buffer %u does not exist", i, t->name, buf);
        return;
    }
    if (buf) {
        uint32_t b = fb_vec_table(fb, buffers, buf), len;
        uint32_t data = fb_vector(fb, b, 0, 1, &len);
        if (!len && fb_uint(fb, b, 1, 8, 0))
            fail(m, "tensor %u (%s): data outside the flatbuffer is not supported", i, t->name);
        if (len) {
            t->data = fb->p + data;
            t->data_len = len;
        }
    }
}

static int32_t *read_ints(imp *m, uint32_t tab, int id, uint32_t *n)
{
    uint32_t v = fb_vector(&m->fb, tab, id, 4, n);
    if (!*n)
        return NULL;
    int32_t *a = malloc(*n * sizeof *a);
    if (!a) {
        fail(m, "out of memory");
        *n = 0;
        return NULL;
    }
    for (uint32_t i = 0; i < *n; i++) {
        a[i] = (int32_t)fb_u32_at(&m->fb, v + 4 * i);
        if (a[i] < -1 || a[i] >= (int32_t)m->nt) {
            fail(m, "tensor index %d out of range (%u tensors)", a[i], m->nt);
            *n = 0;
        }
    }
    return a;
}

static int parse_model(imp *m, const uint8_t *buf, size_t len)
{
    flatbuf *fb = &m->fb;
    fb_init(fb, buf, len);
    if (len < 8 || memcmp(buf + 4, "TFL3", 4) != 0)
        return fail(m, "not a TensorFlow Lite model (no TFL3 identifier)");
    uint32_t root = fb_root(fb), ncodes, nsub, nbuf;
    uint32_t codes = fb_vector(fb, root, 1, 4, &ncodes);
    uint32_t subs = fb_vector(fb, root, 2, 4, &nsub);
    uint32_t buffers = fb_vector(fb, root, 4, 4, &nbuf);
    if (fb->failed)
        return fail(m, "%s", fb->err);
    if (nsub != 1)
        return fail(m, "models with %u subgraphs are not supported (one expected)", nsub);
    uint32_t sg = fb_vec_table(fb, subs, 0), ntens, nops;
    uint32_t tens = fb_vector(fb, sg, 0, 4, &ntens);
    uint32_t opv = fb_vector(fb, sg, 3, 4, &nops);
    if (fb->failed)
        return fail(m, "%s", fb->err);
    m->nt = ntens;
    m->t = calloc(ntens + 1, sizeof(tensor));
    m->ops = calloc(nops + 1, sizeof(op));
    if (!m->t || !m->ops)
        return fail(m, "out of memory");
    for (uint32_t i = 0; i < ntens && !m->failed && !fb->failed; i++)
        parse_tensor(m, fb_vec_table(fb, tens, i), i, buffers, nbuf);
    m->ins = read_ints(m, sg, 1, &m->nins);
    m->outs = read_ints(m, sg, 2, &m->nouts);
    m->nops = nops;
    for (uint32_t i = 0; i < nops && !m->failed && !fb->failed; i++) {
        op *o = &m->ops[i];
        o->tab = fb_vec_table(fb, opv, i);
        uint32_t ci = (uint32_t)fb_uint(fb, o->tab, 0, 4, 0);
        if (ci >= ncodes) {
            fail(m, "operator %u: opcode index %u out of range", i, ci);
            break;
        }
        uint32_t oc = fb_vec_table(fb, codes, ci);
        int64_t dep = fb_int(fb, oc, 0, 1, 0), code = fb_int(fb, oc, 3, 4, 0);
        o->code = (int)(code > dep ? code : dep);
        o->in = read_ints(m, o->tab, 1, &o->nin);
        o->out = read_ints(m, o->tab, 2, &o->nout);
        if (o->nout != 1 && !m->failed)
            op_fail(m, i, "%u outputs (one expected)", o->nout);
    }
    if (fb->failed)
        return fail(m, "%s", fb->err);
    return m->failed ? -1 : 0;
}

/* ----------------------------------------------------------- emission */

static void put_shape(sbuf *b, const tshape *s)
{
    sb_printf(b, "[");
    for (int i = 0; i < s->ndim; i++)
        sb_printf(b, i ? ",%u" : "%u", s->dims[i]);
    sb_printf(b, "]");
}

static void put_quant(sbuf *b, const tensor *t)
{
    if (t->nq == 1) {
        sb_printf(b, "q(%.9g, %lld)", (double)t->scale[0], (long long)t->zp[0]);
        return;
    }
    int same = 1;
    for (int i = 1; i < t->nq; i++)
        same &= t->zp[i] == t->zp[0];
    sb_printf(b, "q([");
    for (int i = 0; i < t->nq; i++)
        sb_printf(b, i ? ", %.9g" : "%.9g", (double)t->scale[i]);
    sb_printf(b, "], ");
    if (same) {
        sb_printf(b, "%lld", (long long)t->zp[0]);
    } else {
        sb_printf(b, "[");
        for (int i = 0; i < t->nq; i++)
            sb_printf(b, i ? ", %lld" : "%lld", (long long)t->zp[i]);
        sb_printf(b, "]");
    }
    /* a quantized dimension past the rank (seen on 1-D biases) means axis 0 */
    int axis = t->qdim < t->shape.ndim ? t->qdim : 0;
    sb_printf(b, ", axis=%d)", axis);
}

/* The first scale of t that is not positive and finite (the program
 * could not even spell it: nan, inf), or -1. */
static int bad_scale(const tensor *t)
{
    for (int q = 0; q < t->nq; q++)
        if (!(t->scale[q] > 0.0f) || isinf(t->scale[q]))
            return q;
    return -1;
}

/* Checks that tensor k is a usable quantized tensor of operator i. */
static int usable(imp *m, uint32_t i, int32_t k, const char *role)
{
    if (k < 0)
        return op_fail(m, i, "missing %s tensor", role);
    tensor *t = &m->t[k];
    if (t->dtype < 0)
        return op_fail(m, i, "%s '%s' has type %d; only uint8, int8 and int32 are supported", role,
                       t->name, t->type);
    if (t->nq < 1)
        return op_fail(m, i, "%s '%s' is not quantized", role, t->name);
    int q = bad_scale(t);
    if (q >= 0)
        return op_fail(m, i, "%s '%s' has scale %g (positive and finite expected)", role, t->name,
                       (double)t->scale[q]);
    return 0;
}

/* element e of a constant tensor */
static int64_t const_value(const tensor *t, uint64_t e)
{
    const uint8_t *p = t->data + e * (uint64_t)dtype_size(t->dtype);
    return t->dtype == DT_U8 ? p[0]
           : t->dtype == DT_I8 ? (int8_t)p[0]
           : (int32_t)((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24);
}

/* Constant tensor k of operator i, usable and with data for every element. */
static int check_const(imp *m, uint32_t i, int32_t k, const char *role)
{
    if (usable(m, i, k, role))
        return -1;
    tensor *t = &m->t[k];
    if (!t->data)
        return op_fail(m, i, "%s '%s' must be a constant of the model", role, t->name);
    uint64_t n = tshape_elems(&t->shape, TIO_MAX_ELEMS);
    if (n > TIO_MAX_ELEMS || n * (uint64_t)dtype_size(t->dtype) != t->data_len)
        return op_fail(m, i, "%s '%s': %zu bytes of data for %llu elements", role, t->name,
                       t->data_len, (unsigned long long)n);
    return 0;
}

/* Declares constant tensor k as an input of the model owner, once. */
static int declare_const(imp *m, uint32_t i, int32_t k, const char *role)
{
    if (check_const(m, i, k, role))
        return -1;
    tensor *t = &m->t[k];
    if (t->declared)
        return 0;
    uint64_t n = tshape_elems(&t->shape, TIO_MAX_ELEMS);
    sb_printf(&m->decl, "input %s : %s", t->name, dtype_names[t->dtype]);
    put_shape(&m->decl, &t->shape);
    sb_printf(&m->decl, " ");
    put_quant(&m->decl, t);
    sb_printf(&m->decl, " from model\n");
    tio_tensor *w = &m->w[m->nw++];
    w->name = strdup(t->name);
    w->dtype = (uint8_t)t->dtype;
    w->shape = t->shape;
    w->data = malloc(n * sizeof(int64_t));
    if (!w->name || !w->data)
        return fail(m, "out of memory");
    for (uint64_t e = 0; e < n; e++)
        w->data[e] = const_value(t, e);
    t->declared = 1;
    return 0;
}

/* Exact rounding needs |W| < 2^62 for W = acc M0 2^left + off0 (docs/
 * protocols.md, "Exact requantization"); TFLite only promises int32
 * accumulators. The worst accumulator of output channel c over every input
 * is sum |w - zw| max|x - zx| + |bias|, known here from the constants; a
 * layer past the limit is refused by name. The weights' output channel is
 * their first dimension, the last for a depthwise filter. */
/* acc_bound=: the compiler bounds the layer's comparisons by it (a public
 * figure: the largest accumulator, a property of the weights' magnitudes) */
static void put_acc_bound(imp *m, int64_t maxacc)
{
    if (maxacc > 0 && maxacc <= INT32_MAX)
        sb_printf(&m->body, ", acc_bound=%lld", (long long)maxacc);
}

/* a + b and a b, saturating at 2^62 (the inputs come from a file) */
#define ACC_CAP ((uint64_t)1 << 62)
static uint64_t sat_add(uint64_t a, uint64_t b) { return a >= ACC_CAP || b >= ACC_CAP - a ? ACC_CAP : a + b; }
static uint64_t sat_mul(uint64_t a, uint64_t b) { return a && b > ACC_CAP / a ? ACC_CAP : a * b; }
static uint64_t sat_dist(int64_t a, int64_t b)
{
    uint64_t d = a > b ? (uint64_t)a - (uint64_t)b : (uint64_t)b - (uint64_t)a;
    return d > ACC_CAP ? ACC_CAP : d;
}

/* A convolution-like layer's tensors (b NULL without a bias) and the
 * largest accumulator its constants allow (0 when unknown). */
typedef struct {
    const tensor *x;
    tensor *w, *b, *y;
    int dw, fc;
    int64_t maxacc;
} wlayer;

/* output channel c's multiplier and shift, as the compiler computes them
 * (lower.c's requantize) */
static void layer_multiplier(const wlayer *l, uint32_t c, int32_t *m0, int *sh)
{
    const tensor *w = l->w;
    qm_layer_multiplier(l->x->scale[0], w->scale[w->nq == 1 ? 0 : c], l->y->scale[0],
                        l->fc || (w->nq == 1 && l->x->dtype == DT_U8), m0, sh);
}

/* the clamp of output y's fused activation (TFLite's code: 0 none, 1 relu,
 * 3 relu6) */
static void act_range(const tensor *y, int64_t tfl_act, int64_t *lo, int64_t *hi)
{
    qm_act_range(tfl_act == 3 ? 2 : (int)tfl_act, (int)dtype_min(y->dtype), (int)dtype_max(y->dtype), y->scale[0],
                 (int32_t)y->zp[0], lo, hi);
}

/* how many operators read tensor k */
static unsigned readers(const imp *m, int32_t k)
{
    unsigned n = 0;
    for (uint32_t j = 0; j < m->nops; j++)
        for (uint32_t a = 0; a < m->ops[j].nin; a++)
            n += m->ops[j].in[a] == k;
    return n;
}

/* TFLite's converter saturates the bias of a dead channel (a tiny weight
 * scale) at +-2^30, and the protocols with proven bounds take an int32
 * input in [-2^30, 2^30) (proto_input_range): +2^30 is one past. Such a
 * bias b becomes 2^30 - 1 where that provably changes no output byte:
 * without a left shift TFLite's requantize-and-clamp f is monotone in the
 * accumulator, so f(b - R) = f(b + R) = f(b' - R) = f(b' + R), R the
 * channel's largest |conv| over every input, means both biases give that
 * one byte for every input. Otherwise the bias stays (and those protocols
 * refuse it with a message naming the value). */
static void fit_bias(imp *m, const wlayer *l, uint32_t c, uint64_t R, int64_t tfl_act, int32_t m0, int sh)
{
    const int64_t top = (int64_t)1 << 30;
    if (const_value(l->b, c) != top || m->secret || sh > 0 || m0 <= 0 || R >= (uint64_t)top ||
        readers(m, (int32_t)(l->b - m->t)) != 1)
        return;
    int64_t lo, hi, r = (int64_t)R, first = 0;
    act_range(l->y, tfl_act, &lo, &hi);
    const int64_t acc[4] = {top - r, top + r, top - 1 - r, top - 1 + r}; /* below 2^31: r < 2^30 */
    for (int k = 0; k < 4; k++) {
        int64_t v = (int64_t)qm_mul_by_qmult((int32_t)acc[k], m0, sh) + l->y->zp[0];
        v = v < lo ? lo : v > hi ? hi : v;
        if (k && v != first)
            return;
        first = v;
    }
    for (int k = 0; k < m->nw; k++)
        if (!strcmp(m->w[k].name, l->b->name))
            m->w[k].data[c] = top - 1;
}

static int check_acc(imp *m, uint32_t i, const wlayer *l, int64_t tfl_act, int64_t *maxacc)
{
    const tensor *x = l->x, *w = l->w, *b = l->b;
    int dw = l->dw;
    *maxacc = 0;
    uint64_t n = w->shape.ndim ? tshape_elems(&w->shape, TIO_MAX_ELEMS) : 0;
    uint32_t oc = w->shape.ndim ? w->shape.dims[dw ? w->shape.ndim - 1 : 0] : 0;
    /* shapes and quantization the compiler refuses with its own message */
    if (!oc || n < oc || n % oc || (w->nq != 1 && (uint32_t)w->nq != oc) ||
        (b && b->data_len < (size_t)oc * (size_t)dtype_size(b->dtype)))
        return 0;
    uint64_t xr = sat_dist(dtype_max(x->dtype), x->zp[0]), xl = sat_dist(x->zp[0], dtype_min(x->dtype));
    xr = xr > xl ? xr : xl;
    uint64_t *sum = calloc(oc, sizeof *sum);
    if (!sum)
        return fail(m, "out of memory");
    for (uint64_t e = 0; e < n; e++) {
        uint32_t c = (uint32_t)(dw ? e % oc : e / (n / oc));
        sum[c] = sat_add(sum[c], sat_dist(const_value(w, e), w->zp[w->nq == 1 ? 0 : c]));
    }
    int rc = 0;
    for (uint32_t c = 0; c < oc && !rc; c++) {
        int64_t bc = b ? const_value(b, c) : 0;
        int32_t m0;
        int sh;
        layer_multiplier(l, c, &m0, &sh);
        if (b)
            fit_bias(m, l, c, sat_mul(sum[c], xr), tfl_act, m0, sh);
        uint64_t acc = sat_add(sat_mul(sum[c], xr), sat_dist(bc, 0));
        *maxacc = (int64_t)acc > *maxacc ? (int64_t)acc : *maxacc;
        if (m->fast || m0 <= 0 || sh > 30 || sh < -30)
            continue;
        uint64_t right = sh < 0 ? (uint64_t)-sh : 0, off0 = ((uint64_t)1 << 30) + (right ? (uint64_t)1 << (30 + right) : 0);
        if (sat_add(sat_mul(acc, (uint64_t)m0 << (sh > 0 ? sh : 0)), off0) >= ACC_CAP)
            rc = op_fail(m, i, "output channel %u: accumulators reach %llu (bias %lld), past exact rounding's 2^62 "
                         "once multiplied; import with --rounding fast", c, (unsigned long long)acc, (long long)bc);
    }
    free(sum);
    return rc;
}

/* The input activation tensor k of operator i: produced earlier, or a model input. */
static int activation(imp *m, uint32_t i, int32_t k)
{
    if (usable(m, i, k, "input"))
        return -1;
    if (m->t[k].data)
        return declare_const(m, i, k, "input");
    if (!m->t[k].declared)
        return op_fail(m, i, "input '%s' is not computed before it is used", m->t[k].name);
    return 0;
}

static const char *activation_name(imp *m, uint32_t i, int64_t code)
{
    if (code == 0 || code == 1 || code == 3)
        return code == 0 ? "none" : code == 1 ? "relu" : "relu6";
    op_fail(m, i, "fused activation %lld is not supported", (long long)code);
    return NULL;
}

static void begin_layer(imp *m, uint32_t i, const tensor *y)
{
    sb_printf(&m->body, "\n# op %u: %s\n%s = ", i, op_name(m->ops[i].code), y->name);
}

/* the end of a layer's arguments */
static void close_call(imp *m) { sb_printf(&m->body, m->fast ? ", rounding=fast)" : ")"); }

/* a call's result: its quantization, or with --secret-params nothing (it
 * keeps its input's, secret) or, after a layer with secret=, its dtype */
static void put_result(imp *m, const tensor *y, int secret_layer)
{
    close_call(m);
    if (secret_layer)
        sb_printf(&m->body, " -> %s", dtype_names[y->dtype]);
    else if (!m->secret) {
        sb_printf(&m->body, " -> ");
        put_quant(&m->body, y);
    }
}

static void end_layer(imp *m, tensor *y, int secret_layer)
{
    put_result(m, y, secret_layer);
    sb_printf(&m->body, "\n");
    y->declared = 1;
}

/* The weights and bias of operator i (a constant filter in o->in[1], an
 * optional bias in o->in[2]) as owner inputs (--secret-params: checked
 * only; secret_layer declares them its own way), and the accumulator
 * check. */
static int layer_weights(imp *m, uint32_t i, const op *o, int dw, int fc, int64_t tfl_act, wlayer *l)
{
    int has_bias = o->nin > 2 && o->in[2] >= 0;
    int (*take)(imp *, uint32_t, int32_t, const char *) = m->secret ? check_const : declare_const;
    if (take(m, i, o->in[1], fc ? "weights" : "filter") || (has_bias && take(m, i, o->in[2], "bias")))
        return -1;
    *l = (wlayer){&m->t[o->in[0]], &m->t[o->in[1]], has_bias ? &m->t[o->in[2]] : NULL, &m->t[o->out[0]], dw, fc, 0};
    return check_acc(m, i, l, tfl_act, &l->maxacc);
}

/* Declares an owner input of n i32 values (raw: no q), taking vals. */
static int declare_raw(imp *m, const char *name, const tshape *shape, int64_t *vals)
{
    sb_printf(&m->decl, "input %s : i32", name);
    put_shape(&m->decl, shape);
    sb_printf(&m->decl, " from model\n");
    tio_tensor *w = &m->w[m->nw++];
    w->name = strdup(name), w->dtype = DT_I32, w->shape = *shape, w->data = vals;
    return w->name ? 0 : fail(m, "out of memory");
}

/* A secret layer's activation kind, which is architecture (its range
 * stays the owner's): ReLU and ReLU6 clamp at or above the zero point, so
 * the protocols may skip TFLite's second floor (QBC_RELU). */
static const char *secret_act(int64_t tfl_act)
{
    return tfl_act == 1 ? ", activation=relu" : tfl_act == 3 ? ", activation=relu6" : "";
}

/* a secret block's zp, lo, hi, min(hi, max(lo, zp)) for output y and
 * TFLite's activation code (0 none, 1 relu, 3 relu6) */
static void secret_clamp(const tensor *y, int64_t tfl_act, int64_t out[4])
{
    int64_t lo, hi, zp = y->zp[0];
    act_range(y, tfl_act, &lo, &hi);
    int64_t t3 = zp > lo ? zp : lo;
    out[0] = zp, out[1] = lo, out[2] = hi, out[3] = t3 < hi ? t3 : hi;
}

/* --secret-params for ADD (lower.c's add with secret=): three blocks of
 * [M0, 1, 1 + (right ? 2^right : 0), right ? 1 : 0, zp, lo, hi, T3], the inputs' rescaling (no
 * zero point; a clamp at +-2^28 that |x - zx| 2^20 / 2 < 2^27 never
 * reaches) then the output's, each at its exact public shift; bits=30
 * bounds every comparison (|z - T| < 2^29). */
static int secret_add(imp *m, uint32_t i, const tensor *x1, const tensor *x2, const tensor *y, int64_t tfl_act)
{
    int32_t m0[3];
    int sh[3];
    if (qm_add_multipliers(x1->scale[0], x2->scale[0], y->scale[0], m0, sh))
        return op_fail(m, i, "the output scale is too small for the inputs' scales");
    int64_t *pv = calloc(24, sizeof *pv);
    if (!pv)
        return fail(m, "out of memory");
    for (int b = 0; b < 3; b++) {
        int64_t *blk = pv + 8 * b;
        blk[0] = m0[b], blk[1] = 1, blk[2] = 1 + (sh[b] < 0 ? (int64_t)1 << -sh[b] : 0), blk[3] = sh[b] < 0;
        if (b < 2)
            blk[5] = -((int64_t)1 << 28), blk[6] = (int64_t)1 << 28;
        else
            secret_clamp(y, tfl_act, blk + 4);
    }
    char pname[300];
    snprintf(pname, sizeof pname, "%s_secret", y->name);
    tshape ps = {1, {24}};
    if (declare_raw(m, pname, &ps, pv))
        return -1;
    sb_printf(&m->body, "%s, secret=%s, shift=[%d,%d,%d], bits=30", secret_act(tfl_act), pname, 31 - sh[0], 31 - sh[1],
              31 - sh[2]);
    return 0;
}

/* --secret-params for a convolution-like layer (lower.c's secret=): its
 * weights centred (w - zw, i32), its bias and the parameter vector
 * NAME_secret = [M0, 2^(left + s), 2^s + (right ? 2^(kpub - 31) : 0), right ? 2^s : 0 per channel; zp, lo,
 * hi, min(hi, max(lo, zp))], s = kpub - 31 - right, as owner inputs; writes
 * the call's secret=, shift= and bits= (the call's text before is the
 * caller's). TFLite's code for the activation: 0 none, 1 relu, 3 relu6. */
static int secret_layer(imp *m, uint32_t i, const wlayer *l, int64_t tfl_act)
{
    tensor *w = l->w, *b = l->b, *y = l->y;
    int dw = l->dw;
    int64_t maxacc = l->maxacc;
    uint64_t n = tshape_elems(&w->shape, TIO_MAX_ELEMS);
    uint32_t oc = w->shape.ndim ? w->shape.dims[dw ? w->shape.ndim - 1 : 0] : 0;
    uint32_t nq = w->nq == 1 ? 1 : oc;
    if (!oc || n % oc || (w->nq != 1 && (uint32_t)w->nq != oc) || maxacc <= 0)
        return op_fail(m, i, "--secret-params: weights and their quantization must be per tensor or per output channel");
    int32_t *m0 = calloc(nq, sizeof *m0);
    int *sh = calloc(nq, sizeof *sh);
    int64_t *pv = calloc(4 * (size_t)nq + 4, sizeof *pv), *wv = malloc(n * sizeof *wv), *bv = NULL;
    if (!m0 || !sh || !pv || !wv) {
        free(m0), free(sh), free(pv), free(wv);
        return fail(m, "out of memory");
    }
    int kpub = 31, rc = 0;
    uint32_t bits = 0;
    for (uint32_t c = 0; c < nq; c++) {
        layer_multiplier(l, c, &m0[c], &sh[c]);
        kpub = 31 - sh[c] > kpub ? 31 - sh[c] : kpub;
        uint32_t bc = qm_requant_bits((uint64_t)maxacc, m0[c], sh[c]);
        bits = bc > bits ? bc : bits;
    }
    for (uint32_t c = 0; c < nq && !rc; c++) {
        int left = sh[c] > 0 ? sh[c] : 0, right = sh[c] < 0 ? -sh[c] : 0, sc = kpub - 31 - right;
        if (!bits || kpub > 61 || left + sc > 30 ||
            sat_add(sat_add(sat_mul((uint64_t)maxacc, (uint64_t)m0[c] << (left + sc)), (uint64_t)1 << (30 + sc)),
                    (uint64_t)1 << (kpub - 1)) >= ACC_CAP) {
            rc = op_fail(m, i, "--secret-params: output channel %u's multiplier and shifts leave no room to fold "
                         "them into the weights (left shift %d, spread %d, accumulators up to %lld)", c, left, sc,
                         (long long)maxacc);
            break;
        }
        pv[c] = m0[c], pv[nq + c] = (int64_t)1 << (left + sc);
        pv[2 * nq + c] = ((int64_t)1 << sc) + (right ? (int64_t)1 << (kpub - 31) : 0); /* below 2^31: sc < kpub - 31 */
        pv[3 * nq + c] = right ? (int64_t)1 << sc : 0;
    }
    secret_clamp(y, tfl_act, pv + 4 * nq);
    for (uint64_t e = 0; e < n && !rc; e++) /* wrapping: a file's values may be anything */
        wv[e] = (int64_t)((uint64_t)const_value(w, e) - (uint64_t)w->zp[w->nq == 1 ? 0 : (dw ? e % oc : e / (n / oc))]);
    if (b && !rc && (bv = malloc(oc * sizeof *bv)))
        for (uint32_t c = 0; c < oc; c++)
            bv[c] = const_value(b, c);
    char pname[300];
    snprintf(pname, sizeof pname, "%s_secret", y->name);
    tshape ps = {1, {4 * nq + 4}}, bs = {1, {oc}};
    if (!rc && b && !bv)
        rc = fail(m, "out of memory");
    if (!rc)
        rc = declare_raw(m, w->name, &w->shape, wv) || (b && declare_raw(m, b->name, &bs, bv)) ||
             declare_raw(m, pname, &ps, pv);
    else
        free(wv), free(bv), free(pv);
    w->declared = 1;
    if (b)
        b->declared = 1;
    if (!rc)
        sb_printf(&m->body, "%s, secret=%s, shift=%d, bits=%u", secret_act(tfl_act), pname, kpub, bits);
    free(m0), free(sh);
    return rc ? -1 : 0;
}

static int emit_window_op(imp *m, uint32_t i)
{
    flatbuf *fb = &m->fb;
    op *o = &m->ops[i];
    uint32_t opt = fb_table(fb, o->tab, 4);
    int dw = o->code == OP_DEPTHWISE_CONV_2D, pool = o->code == OP_AVERAGE_POOL_2D ||
                                                      o->code == OP_MAX_POOL_2D;
    int64_t padding = fb_int(fb, opt, 0, 1, 0), sw = fb_int(fb, opt, 1, 4, 0),
            sh = fb_int(fb, opt, 2, 4, 0);
    int64_t act = fb_int(fb, opt, pool ? 5 : dw ? 4 : 3, 1, 0);
    int64_t dilw = pool ? 1 : fb_int(fb, opt, dw ? 5 : 4, 4, 1);
    int64_t dilh = pool ? 1 : fb_int(fb, opt, dw ? 6 : 5, 4, 1);
    if (fb->failed)
        return fail(m, "%s", fb->err);
    const char *a = activation_name(m, i, act);
    if (!a)
        return -1;
    if (sw < 1 || sh < 1 || dilw < 1 || dilh < 1 || sw > 65536 || sh > 65536 || dilw > 65536 ||
        dilh > 65536 || padding < 0 || padding > 1)
        return op_fail(m, i, "bad stride, dilation or padding");
    if (o->nin < (pool ? 1u : 2u))
        return op_fail(m, i, "too few inputs");
    if (activation(m, i, o->in[0]))
        return -1;
    tensor *y = &m->t[o->out[0]];
    if (usable(m, i, o->out[0], "output"))
        return -1;
    begin_layer(m, i, y);
    wlayer l;
    if (pool) {
        int64_t fw = fb_int(fb, opt, 3, 4, 0), fh = fb_int(fb, opt, 4, 4, 0);
        if (fw < 1 || fh < 1 || fw > 65536 || fh > 65536)
            return op_fail(m, i, "bad filter size");
        sb_printf(&m->body, "%s(%s, size=[%lld,%lld]", o->code == OP_MAX_POOL_2D ? "max_pool2d" : "avg_pool2d",
                  m->t[o->in[0]].name, (long long)fh, (long long)fw);
    } else {
        if (layer_weights(m, i, o, dw, 0, act, &l))
            return -1;
        sb_printf(&m->body, "%s(%s, %s%s%s", dw ? "depthwise_conv2d" : "conv2d", l.x->name, l.w->name,
                  l.b ? ", " : "", l.b ? l.b->name : "");
        if (dilw != 1 || dilh != 1)
            sb_printf(&m->body, ", dilation=[%lld,%lld]", (long long)dilh, (long long)dilw);
        if (!m->secret)
            put_acc_bound(m, l.maxacc);
    }
    sb_printf(&m->body, ", stride=[%lld,%lld], padding=%s", (long long)sh, (long long)sw, padding == 0 ? "same" : "valid");
    if (!m->secret || pool) {
        if (m->secret && act)
            return op_fail(m, i, "--secret-params: a fused activation on a pool needs the quantization in the clear");
        sb_printf(&m->body, ", activation=%s", a);
        end_layer(m, y, 0);
        return 0;
    }
    if (secret_layer(m, i, &l, act))
        return -1;
    end_layer(m, y, 1);
    return 0;
}

static int emit_fc(imp *m, uint32_t i)
{
    flatbuf *fb = &m->fb;
    op *o = &m->ops[i];
    uint32_t opt = fb_table(fb, o->tab, 4);
    int64_t act = fb_int(fb, opt, 0, 1, 0), fmt = fb_int(fb, opt, 1, 1, 0);
    const char *a = activation_name(m, i, act);
    if (!a)
        return -1;
    if (fmt != 0)
        return op_fail(m, i, "weights format %lld is not supported", (long long)fmt);
    for (uint32_t k = 1; m->fc_tensor && k < o->nin && k < 3; k++) /* weights, bias: their first scale */
        if (o->in[k] >= 0 && m->t[o->in[k]].nq > 1)
            m->t[o->in[k]].nq = 1;
    wlayer l;
    if (o->nin < 2 || activation(m, i, o->in[0]) || usable(m, i, o->out[0], "output") ||
        layer_weights(m, i, o, 0, 1, act, &l))
        return -1;
    tensor *y = l.y;
    int direct = y->shape.ndim == 2; /* else reshape [B, O] to the model's shape */
    if (!direct) {
        sb_printf(&m->body, "\n# op %u: FULLY_CONNECTED (then its output shape)\n%s_2d = ", i, y->name);
    } else {
        begin_layer(m, i, y);
    }
    sb_printf(&m->body, "fully_connected(%s, %s%s%s", l.x->name, l.w->name, l.b ? ", " : "", l.b ? l.b->name : "");
    if (m->secret) {
        if (secret_layer(m, i, &l, act))
            return -1;
    } else {
        sb_printf(&m->body, ", activation=%s", a);
        put_acc_bound(m, l.maxacc);
    }
    if (direct) {
        end_layer(m, y, m->secret);
        return 0;
    }
    put_result(m, y, m->secret);
    sb_printf(&m->body, "\n%s = reshape(%s_2d, shape=", y->name, y->name);
    put_shape(&m->body, &y->shape);
    end_layer(m, y, 0);
    return 0;
}

static int emit_simple(imp *m, uint32_t i)
{
    flatbuf *fb = &m->fb;
    op *o = &m->ops[i];
    uint32_t opt = fb_table(fb, o->tab, 4);
    tensor *y = &m->t[o->out[0]];
    if (usable(m, i, o->out[0], "output"))
        return -1;
    if (m->secret && o->code != OP_RESHAPE && o->code != OP_ADD)
        return op_fail(m, i, "--secret-params: this operator needs its inputs' quantization in the clear; "
                             "not supported yet");
    if (o->code == OP_ADD) {
        const char *a = activation_name(m, i, fb_int(fb, opt, 0, 1, 0));
        if (!a || o->nin != 2 || activation(m, i, o->in[0]) || activation(m, i, o->in[1]))
            return a && o->nin != 2 ? op_fail(m, i, "two inputs expected") : -1;
        begin_layer(m, i, y);
        sb_printf(&m->body, "add(%s, %s", m->t[o->in[0]].name, m->t[o->in[1]].name);
        if (m->secret) {
            if (secret_add(m, i, &m->t[o->in[0]], &m->t[o->in[1]], y, fb_int(fb, opt, 0, 1, 0)))
                return -1;
            end_layer(m, y, 1);
            return 0;
        }
        sb_printf(&m->body, ", activation=%s", a);
    } else if (o->code == OP_RESHAPE || o->code == OP_SQUEEZE || o->code == OP_EXPAND_DIMS) {
        /* a change of shape alone: the output tensor's shape, whatever the
         * axes (EXPAND_DIMS' second input, SQUEEZE's options) */
        if (o->nin < 1 || activation(m, i, o->in[0]))
            return -1;
        begin_layer(m, i, y);
        sb_printf(&m->body, "reshape(%s, shape=", m->t[o->in[0]].name);
        put_shape(&m->body, &y->shape);
    } else if (o->code == OP_RELU || o->code == OP_RELU6 || o->code == OP_RELU_N1_TO_1 || o->code == OP_LOGISTIC ||
               o->code == OP_HARD_SWISH) {
        if (o->nin != 1 || activation(m, i, o->in[0]))
            return o->nin != 1 ? op_fail(m, i, "one input expected") : -1;
        begin_layer(m, i, y);
        sb_printf(&m->body, "%s(%s",
                  o->code == OP_RELU       ? "relu"
                  : o->code == OP_RELU6    ? "relu6"
                  : o->code == OP_LOGISTIC ? "logistic"
                  : o->code == OP_HARD_SWISH ? "hard_swish" : "relu_n1_to_1",
                  m->t[o->in[0]].name);
    } else if (o->code == OP_MUL) {
        const char *a = activation_name(m, i, fb_int(fb, opt, 0, 1, 0));
        if (!a || o->nin != 2 || activation(m, i, o->in[0]) || activation(m, i, o->in[1]))
            return a && o->nin != 2 ? op_fail(m, i, "two inputs expected") : -1;
        begin_layer(m, i, y);
        sb_printf(&m->body, "mul(%s, %s, activation=%s", m->t[o->in[0]].name, m->t[o->in[1]].name, a);
    } else if (o->code == OP_MAXIMUM || o->code == OP_MINIMUM) {
        if (o->nin != 2 || activation(m, i, o->in[0]) || activation(m, i, o->in[1]))
            return o->nin != 2 ? op_fail(m, i, "two inputs expected") : -1;
        begin_layer(m, i, y);
        sb_printf(&m->body, "%s(%s, %s", o->code == OP_MAXIMUM ? "maximum" : "minimum", m->t[o->in[0]].name,
                  m->t[o->in[1]].name);
    } else if (o->code == OP_CONCATENATION) {
        const char *a = activation_name(m, i, fb_int(fb, opt, 1, 1, 0));
        if (!a)
            return -1;
        if (strcmp(a, "none") != 0)
            return op_fail(m, i, "a fused activation on concatenation is not supported");
        for (uint32_t k = 0; k < o->nin; k++)
            if (activation(m, i, o->in[k]))
                return -1;
        if (o->nin < 1 || o->nin > 64)
            return op_fail(m, i, "%u inputs (1 to 64 supported)", o->nin);
        begin_layer(m, i, y);
        sb_printf(&m->body, "concat(");
        for (uint32_t k = 0; k < o->nin; k++)
            sb_printf(&m->body, "%s, ", m->t[o->in[k]].name);
        sb_printf(&m->body, "axis=%lld", (long long)fb_int(fb, opt, 0, 4, 0));
    } else if (o->code == OP_QUANTIZE) {
        if (o->nin != 1 || activation(m, i, o->in[0]))
            return o->nin != 1 ? op_fail(m, i, "one input expected") : -1;
        if (y->dtype == DT_I32)
            return op_fail(m, i, "quantizing to int32 is not supported");
        begin_layer(m, i, y);
        sb_printf(&m->body, "quantize(%s", m->t[o->in[0]].name);
        close_call(m);
        sb_printf(&m->body, " -> %s ", dtype_names[y->dtype]);
        put_quant(&m->body, y);
        sb_printf(&m->body, "\n");
        y->declared = 1;
        return 0;
    } else { /* PAD */
        if (o->nin != 2 || activation(m, i, o->in[0]))
            return o->nin != 2 ? op_fail(m, i, "two inputs expected") : -1;
        if (o->in[1] < 0)
            return op_fail(m, i, "missing paddings tensor");
        tensor *pt = &m->t[o->in[1]];
        if (!pt->data || pt->type != TT_INT32 || pt->data_len != 4u * 2 * m->t[o->in[0]].shape.ndim)
            return op_fail(m, i, "paddings must be a constant int32 [rank, 2] tensor");
        begin_layer(m, i, y);
        sb_printf(&m->body, "pad(%s, paddings=[", m->t[o->in[0]].name);
        for (int d = 0; d < m->t[o->in[0]].shape.ndim; d++) {
            const uint8_t *p = pt->data + 8 * d;
            int32_t lo = (int32_t)((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24);
            int32_t hi = (int32_t)((uint32_t)p[4] | (uint32_t)p[5] << 8 | (uint32_t)p[6] << 16 | (uint32_t)p[7] << 24);
            sb_printf(&m->body, "%s[%d,%d]", d ? "," : "", lo, hi);
        }
        sb_printf(&m->body, "]");
    }
    if (fb->failed)
        return fail(m, "%s", fb->err);
    end_layer(m, y, 0);
    return 0;
}

static int is_model_output(const imp *m, int32_t k)
{
    for (uint32_t j = 0; j < m->nouts; j++)
        if (m->outs[j] == k)
            return 1;
    return 0;
}

/* A QUANTIZE of a SOFTMAX's output to the model's output, as Keras'
 * uint8-output models end (int8 probabilities moved to uint8, the same
 * scale): the receiver's softmax, as a final SOFTMAX is. */
static const op *softmax_requant(const imp *m, const op *q)
{
    if (q->code != OP_QUANTIZE || q->nin != 1 || q->nout < 1 || !is_model_output(m, q->out[0]))
        return NULL;
    for (uint32_t i = 0; i < m->nops; i++)
        if (m->ops[i].code == OP_SOFTMAX && m->ops[i].nout >= 1 && m->ops[i].out[0] == q->in[0])
            return &m->ops[i];
    return NULL;
}

/* the final QUANTIZE after SOFTMAX s, if any */
static const op *requant_of(const imp *m, const op *s)
{
    for (uint32_t i = 0; i < m->nops; i++)
        if (softmax_requant(m, &m->ops[i]) == s)
            return &m->ops[i];
    return NULL;
}

/* The QUANTIZE that reads float model input k, when it is the input's only
 * reader: the model's edge, which the client computes itself. */
static const op *input_quantize(const imp *m, int32_t k)
{
    const op *q = NULL;
    for (uint32_t i = 0; i < m->nops; i++)
        for (uint32_t j = 0; j < m->ops[i].nin; j++)
            if (m->ops[i].in[j] == k) {
                if (q || m->ops[i].code != OP_QUANTIZE || m->ops[i].nout < 1)
                    return NULL;
                q = &m->ops[i];
            }
    return q;
}

/* The DEQUANTIZE that makes model output k, if any: the receiver's. */
static const op *output_dequantize(const imp *m, int32_t k)
{
    for (uint32_t i = 0; i < m->nops; i++)
        if (m->ops[i].code == OP_DEQUANTIZE && m->ops[i].nin == 1 && m->ops[i].nout >= 1 && m->ops[i].out[0] == k)
            return &m->ops[i];
    return NULL;
}

/* MEAN over H and W (Keras' GlobalAveragePooling2D): the DSL's mean, in
 * the arithmetic --mean-arith names. */
static int emit_mean(imp *m, uint32_t i)
{
    flatbuf *fb = &m->fb;
    op *o = &m->ops[i];
    int64_t keep = fb_int(fb, fb_table(fb, o->tab, 4), 0, 1, 0);
    if (fb->failed)
        return fail(m, "%s", fb->err);
    if (o->nin != 2 || o->in[1] < 0)
        return op_fail(m, i, "an input and a constant axis tensor expected");
    if (activation(m, i, o->in[0]) || usable(m, i, o->out[0], "output"))
        return -1;
    const tensor *x = &m->t[o->in[0]], *ax = &m->t[o->in[1]];
    tensor *y = &m->t[o->out[0]];
    int32_t a[2] = {0, 0};
    for (int k = 0; ax->data && ax->type == TT_INT32 && ax->data_len == 8 && k < 2; k++)
        a[k] = (int32_t)((uint32_t)ax->data[4 * k] | (uint32_t)ax->data[4 * k + 1] << 8 |
                         (uint32_t)ax->data[4 * k + 2] << 16 | (uint32_t)ax->data[4 * k + 3] << 24);
    if (x->shape.ndim != 4 || !((a[0] == 1 && a[1] == 2) || (a[0] == 2 && a[1] == 1)))
        return op_fail(m, i, "only the mean of a [1, H, W, C] tensor over axes 1 and 2 is supported");
    /* TFLite 2.12 and before (reduce.cc's EvalMean) took, for keep_dims,
     * reference_integer_ops::Mean on int8 and a uint8 kernel of its own
     * (not reproduced); else, for an output quantized as the input, a
     * truncating division; else the float QuantizedMeanOrSum */
    if (keep && !m->mean_int && x->dtype != DT_I8)
        return op_fail(m, i, "keep_dims=true on uint8 in TFLite 2.12 and before (reference_ops::Mean's uint8 kernel) "
                             "is not supported; --mean-arith int imports it as 2.13 and later compute it");
    if (m->secret)
        return op_fail(m, i, "--secret-params: mean needs its input's quantization in the clear; not supported yet");
    int same = x->nq == 1 && y->nq == 1 && x->scale[0] == y->scale[0] && x->zp[0] == y->zp[0];
    /* 2.13 and later: the integer QuantizedMeanOrSum, but for keep_dims
     * on int8 the default resolver's optimized_integer_ops::Mean */
    const char *arith = m->mean_int ? (keep && x->dtype == DT_I8 && !m->mean_ref ? ", arith=opt" : ", arith=int")
                        : keep      ? ", arith=int_div"
                        : same      ? ", arith=trunc"
                                    : "";
    begin_layer(m, i, y);
    sb_printf(&m->body, "mean(%s%s%s", x->name, keep ? ", keep_dims=true" : "", arith);
    end_layer(m, y, 0);
    return 0;
}

/* Every unsupported operator at once, grouped by kind in the order they
 * first appear: "unsupported operators: SUB at operator 63 (an
 * elementwise difference); RESIZE_BILINEAR at operators 5, 9, 12, 15 and
 * 26 more (upsampling)". One pass over the operators (a file may hold very many). */
#define KINDS_LISTED 12
#define INDICES_LISTED 4
static int check_supported(imp *m)
{
    struct {
        int code;
        uint32_t n, at[INDICES_LISTED];
    } k[KINDS_LISTED];
    int nk = 0, more_kinds = 0;
    for (uint32_t i = 0; i < m->nops; i++) {
        int code = m->ops[i].code, j = 0;
        if (op_supported(code))
            continue;
        while (j < nk && k[j].code != code)
            j++;
        if (j == nk && nk == KINDS_LISTED) {
            more_kinds = 1;
            continue;
        }
        if (j == nk)
            k[nk++].code = code, k[j].n = 0;
        if (k[j].n < INDICES_LISTED)
            k[j].at[k[j].n] = i;
        k[j].n++;
    }
    if (!nk)
        return 0;
    sbuf s = {NULL, 0, 0}, item = {NULL, 0, 0};
    for (int j = 0; j < nk; j++) {
        item.len = 0;
        if (op_known(k[j].code))
            sb_printf(&item, "%s%s at operator%s", j ? "; " : "", op_name(k[j].code), k[j].n > 1 ? "s" : "");
        else
            sb_printf(&item, "%soperator code %d at operator%s", j ? "; " : "", k[j].code, k[j].n > 1 ? "s" : "");
        for (uint32_t u = 0; u < k[j].n && u < INDICES_LISTED; u++)
            sb_printf(&item, "%s %u", u ? "," : "", k[j].at[u]);
        if (k[j].n > INDICES_LISTED)
            sb_printf(&item, " and %u more", k[j].n - INDICES_LISTED);
        if (op_use(k[j].code))
            sb_printf(&item, " (%s)", op_use(k[j].code));
        if (s.len + item.len + 64 > m->errlen) { /* whole kinds only, within the caller's buffer */
            more_kinds = 1;
            break;
        }
        sb_printf(&s, "%s", item.p);
    }
    if (more_kinds)
        sb_printf(&s, "; and more kinds");
    fail(m, "unsupported operators: %s", s.p);
    free(s.p), free(item.p);
    return -1;
}

static int emit_ops(imp *m)
{
    for (uint32_t i = 0; i < m->nops && !m->failed; i++) {
        op *o = &m->ops[i];
        switch (o->code) {
        case OP_CONV_2D:
        case OP_DEPTHWISE_CONV_2D:
        case OP_AVERAGE_POOL_2D:
        case OP_MAX_POOL_2D: emit_window_op(m, i); break;
        case OP_FULLY_CONNECTED: emit_fc(m, i); break;
        case OP_MEAN: emit_mean(m, i); break;
        case OP_ADD:
        case OP_RESHAPE:
        case OP_SQUEEZE:
        case OP_EXPAND_DIMS:
        case OP_RELU:
        case OP_RELU6:
        case OP_RELU_N1_TO_1:
        case OP_MAXIMUM:
        case OP_MINIMUM:
        case OP_MUL:
        case OP_LOGISTIC:
        case OP_HARD_SWISH:
        case OP_CONCATENATION:
        case OP_PAD: emit_simple(m, i); break;
        case OP_QUANTIZE:
            if (!softmax_requant(m, o) && !(o->nin == 1 && o->in[0] >= 0 && m->t[o->in[0]].type == TT_FLOAT32))
                emit_simple(m, i);
            break; /* else part of the receiver's softmax, or the client's quantization of its input */
        case OP_DEQUANTIZE:
            if (o->nout < 1 || !is_model_output(m, o->out[0]) || o->nin != 1)
                return op_fail(m, i, "only a DEQUANTIZE producing the model's output is supported (the receiver's)");
            if (usable(m, i, o->in[0], "input") || m->t[o->in[0]].dtype == DT_I32 || m->t[o->in[0]].nq != 1)
                return m->failed ? -1 : op_fail(m, i, "a uint8 or int8 input quantized per tensor expected");
            break; /* computed by the receiver: see emit_outputs */
        case OP_SOFTMAX:
            if ((!is_model_output(m, o->out[0]) && !requant_of(m, o)) || o->nin != 1)
                return op_fail(m, i, "only a final SOFTMAX producing the model's output is supported");
            if (usable(m, i, o->in[0], "input")) /* emit_outputs reads it */
                return -1;
            break; /* computed by the receiver: see emit_outputs */
        default: return op_fail(m, i, "operator %d is not supported", o->code); /* check_supported's */
        }
    }
    return m->failed ? -1 : 0;
}

static int emit_outputs(imp *m, enum tfl_output mode)
{
    flatbuf *fb = &m->fb;
    sb_printf(&m->body, "\n");
    for (uint32_t j = 0; j < m->nouts; j++) {
        int32_t k = m->outs[j];
        if (k < 0)
            return fail(m, "model output %u is not a tensor", j);
        const op *sm = NULL, *rq = NULL;
        for (uint32_t i = 0; i < m->nops; i++) {
            if (m->ops[i].code == OP_SOFTMAX && m->ops[i].out[0] == k)
                sm = &m->ops[i];
            if (softmax_requant(m, &m->ops[i]) && m->ops[i].out[0] == k)
                rq = &m->ops[i], sm = softmax_requant(m, rq);
        }
        if (rq && mode == TFL_OUT_MODEL)
            return fail(m, "the model's SOFTMAX is followed by a QUANTIZE to %s (operator %u); the receiver's "
                           "softmax does not take that yet: use --output logits or --output argmax",
                        dtype_names[m->t[k].dtype], (uint32_t)(rq - m->ops));
        if (sm) {
            const tensor *x = &m->t[sm->in[0]], *y = &m->t[sm->out[0]];
            float beta = fb_float(fb, fb_table(fb, sm->tab, 4), 0, 1.0f);
            int32_t want_zp = x->dtype == DT_I8 ? -128 : 0;
            if (!x->declared || y->nq != 1 || y->scale[0] != 1.0f / 256 || y->zp[0] != want_zp ||
                y->dtype != x->dtype || !(beta > 0.0f))
                return fail(m, "the final SOFTMAX must map %s to scale 1/256, zero point %d, "
                               "with beta > 0", x->declared ? x->name : "a computed tensor", want_zp);
            if (mode == TFL_OUT_MODEL && m->secret)
                return fail(m, "the model ends in SOFTMAX, which the client computes from the logits' "
                               "scale, and --secret-params keeps that scale secret: use --output "
                               "argmax or --output logits");
            if (mode == TFL_OUT_MODEL && beta != 1.0f)
                sb_printf(&m->body, "output softmax(%s, beta=%.9g) to client\n", x->name, (double)beta);
            else
                sb_printf(&m->body, mode == TFL_OUT_MODEL    ? "output softmax(%s) to client\n"
                                    : mode == TFL_OUT_ARGMAX ? "output argmax(%s) to client\n"
                                                             : "output %s to client\n",
                          x->name);
        } else {
            const op *dq = output_dequantize(m, k);
            const tensor *x = dq ? &m->t[dq->in[0]] : &m->t[k];
            if (!x->declared)
                return fail(m, "model output %s is not computed", x->name);
            sb_printf(&m->body, mode == TFL_OUT_ARGMAX ? "output argmax(%s) to client\n"
                                : dq && mode == TFL_OUT_MODEL ? "output dequantize(%s) to client\n"
                                                              : "output %s to client\n",
                      x->name);
        }
    }
    return m->failed ? -1 : 0;
}

static int emit_inputs(imp *m)
{
    for (uint32_t j = 0; j < m->nins; j++) {
        int32_t k = m->ins[j];
        if (k < 0)
            return fail(m, "model input %u is not a tensor", j);
        tensor *t = &m->t[k];
        const op *q = t->type == TT_FLOAT32 ? input_quantize(m, k) : NULL;
        if (t->type == TT_FLOAT32 && !q)
            return fail(m, "model input %s is float32 and read by other operators than one QUANTIZE: only a "
                           "float input that is quantized at once (the client's part) is supported", t->name);
        if (q) { /* the client quantizes its float input: the program's input is the QUANTIZE's output */
            t = &m->t[q->out[0]];
            sb_printf(&m->decl, "# the model's float32 input %s, quantized by the client (qnnc quantize)\n",
                      m->t[k].name);
        }
        if (t->dtype < 0 || t->dtype == DT_I32 || t->nq != 1 || bad_scale(t) >= 0)
            return fail(m, "model input %s must be a uint8 or int8 tensor quantized per tensor",
                        t->name);
        sb_printf(&m->decl, "input %s : %s", t->name, dtype_names[t->dtype]);
        put_shape(&m->decl, &t->shape);
        sb_printf(&m->decl, " ");
        put_quant(&m->decl, t);
        sb_printf(&m->decl, " from client\n");
        t->declared = 1;
    }
    return 0;
}

static void imp_free(imp *m)
{
    for (uint32_t i = 0; m->t && i < m->nt; i++) {
        free(m->t[i].scale);
        free(m->t[i].zp);
    }
    for (uint32_t i = 0; m->ops && i < m->nops; i++) {
        free((void *)m->ops[i].in);
        free((void *)m->ops[i].out);
    }
    free(m->t);
    free(m->ops);
    free(m->ins);
    free(m->outs);
    free(m->decl.p);
    free(m->body.p);
}

int tfl_import(const uint8_t *buf, size_t len, const char *name, enum tfl_output mode, unsigned flags,
               tfl_result *out, char *err, size_t errlen)
{
    imp m;
    memset(&m, 0, sizeof m);
    m.fast = (flags & TFL_FAST) != 0;
    m.secret = (flags & TFL_SECRET) != 0;
    m.fc_tensor = (flags & TFL_FC_PER_TENSOR) != 0;
    m.mean_int = (flags & TFL_MEAN_INT) != 0;
    m.mean_ref = (flags & TFL_MEAN_REF) != 0;
    memset(out, 0, sizeof *out);
    m.err = err;
    m.errlen = errlen;
    if (parse_model(&m, buf, len) == 0) {
        m.w = calloc(m.nt + 1, sizeof(tio_tensor));
        if (!m.w)
            fail(&m, "out of memory");
    }
    if (!m.failed) {
        char net[128];
        size_t k = 0;
        for (const char *s = name; *s && k < sizeof net - 1; s++)
            net[k++] = ((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
                        (*s >= '0' && *s <= '9') || *s == '_' || *s == '.') ? *s : '_';
        net[k] = 0;
        sb_printf(&m.decl, "# %s: imported from %s.tflite by qnnc import\n"
                           "network %s%s\n\nparty model  = 0   # weights and biases (private)\n"
                           "party client = 1   # the input (private); receives the output\n\n",
                  name, name, (net[0] >= '0' && net[0] <= '9') || !net[0] ? "m_" : "", net);
        if (check_supported(&m) == 0 && emit_inputs(&m) == 0 && emit_ops(&m) == 0)
            emit_outputs(&m, mode);
    }
    if (m.failed) {
        tio_free(m.w, m.nw);
        imp_free(&m);
        return -1;
    }
    sb_printf(&m.decl, "%s", m.body.p ? m.body.p : "");
    out->qnn = m.decl.p;
    m.decl.p = NULL;
    out->weights = m.w;
    out->nweights = m.nw;
    imp_free(&m);
    return 0;
}

void tfl_free(tfl_result *r)
{
    free(r->qnn);
    tio_free(r->weights, r->nweights);
    memset(r, 0, sizeof *r);
}
