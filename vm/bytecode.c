/* bytecode: writer and validating loader for .qbc files (see bytecode.h). */
#include "vm/bytecode.h"

#include "runtime/core/qmath.h"
#include "runtime/io/tensorio.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define X(name, sig, cls, writes, per, trunc, doc) {#name, sig, CC_##cls, writes, per, trunc, doc},
const opinfo op_table[OP__COUNT] = {OPCODES(X)};
#undef X

const char *const cost_class_names[CC__COUNT] = {"local", "input", "reveal", "mul",
                                                 "dot",   "trunc", "cmp"};
const char *const out_kind_names[OUT__COUNT] = {"raw", "softmax", "argmax", "dequantize"};


/* ---------------------------------------------------------------- writer */

typedef struct {
    uint8_t *p;
    size_t len, cap;
    int oom;
} wbuf;

static void put(wbuf *b, const void *src, size_t n)
{
    if (b->oom)
        return;
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 4096;
        while (cap < b->len + n)
            cap *= 2;
        uint8_t *q = realloc(b->p, cap);
        if (!q) {
            b->oom = 1;
            return;
        }
        b->p = q;
        b->cap = cap;
    }
    memcpy(b->p + b->len, src, n);
    b->len += n;
}

static void put_u(wbuf *b, uint64_t v, int bytes)
{
    uint8_t t[8];
    for (int i = 0; i < bytes; i++)
        t[i] = (uint8_t)(v >> (8 * i));
    put(b, t, (size_t)bytes);
}

static void put_f32(wbuf *b, float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    put_u(b, u, 4);
}

static void put_str(wbuf *b, const char *s)
{
    size_t n = strlen(s);
    put_u(b, n, 1);
    put(b, s, n);
}

static void put_shape(wbuf *b, const qbc_shape *s)
{
    put_u(b, s->ndim, 1);
    for (int i = 0; i < s->ndim; i++)
        put_u(b, s->dims[i], 4);
}

/* whether the (valid) code holds a LUT, new in version 7 */
static int uses_lut(const qbc_program *p)
{
    for (uint32_t pc = 0; pc < p->ncode; pc += 1 + (uint32_t)qbc_nops(p->code[pc]))
        if (qbc_op(p->code[pc]) == OP_LUT)
            return 1;
    return 0;
}

uint8_t *qbc_write(const qbc_program *p, size_t *len)
{
    wbuf b = {0};
    int version = uses_lut(p) ? 7 : QBC_VERSION_MIN;
    for (uint32_t i = 0; i < p->noutputs && version < 6; i++)
        version = p->outputs[i].kind == OUT_DEQUANT ? 6 : version;
    put(&b, QBC_MAGIC, 4);
    put_u(&b, (uint64_t)version, 2);
    put_u(&b, p->ring_bits, 2);
    put_u(&b, p->nparties, 1);
    for (uint32_t i = 0; i < p->nparties; i++)
        put_str(&b, p->party_names[i]);
    put_u(&b, p->ninputs, 4);
    for (uint32_t i = 0; i < p->ninputs; i++) {
        const qbc_input *in = &p->inputs[i];
        put_str(&b, in->name);
        put_u(&b, in->party, 1);
        put_u(&b, in->dtype, 1);
        put_shape(&b, &in->shape);
    }
    put_u(&b, p->noutputs, 4);
    for (uint32_t i = 0; i < p->noutputs; i++) {
        const qbc_output *o = &p->outputs[i];
        put_str(&b, o->name);
        put_u(&b, o->party, 1);
        put_u(&b, o->dtype, 1);
        put_u(&b, o->kind, 1);
        put_shape(&b, &o->shape);
        put_f32(&b, o->scale);
        put_u(&b, (uint32_t)o->zp, 4);
        put_u(&b, (uint32_t)o->sm_multiplier, 4);
        put_u(&b, (uint32_t)o->sm_shift, 4);
        put_u(&b, (uint32_t)o->sm_diff_min, 4);
    }
    put_u(&b, p->nlayers, 4);
    for (uint32_t i = 0; i < p->nlayers; i++) {
        const qbc_layer *l = &p->layers[i];
        put_str(&b, l->name);
        put_str(&b, l->kind);
        put_u(&b, l->dtype, 1);
        put_shape(&b, &l->shape);
        put_f32(&b, l->scale);
        put_u(&b, (uint32_t)l->zp, 4);
        put_u(&b, l->macs, 8);
        put_u(&b, l->reg, 4);
    }
    put_u(&b, p->nsregs, 4);
    for (uint32_t i = 0; i < p->nsregs; i++)
        put_u(&b, p->slen[i], 4);
    put_u(&b, p->ncregs, 4);
    for (uint32_t i = 0; i < p->ncregs; i++) {
        put_u(&b, p->cregs[i].len, 4);
        for (uint32_t j = 0; j < p->cregs[i].len; j++)
            put_u(&b, (uint64_t)p->cregs[i].val[j], 8);
    }
    put_u(&b, p->ncode, 4);
    for (uint32_t i = 0; i < p->ncode; i++)
        put_u(&b, p->code[i], 4);
    if (b.oom) {
        free(b.p);
        return NULL;
    }
    *len = b.len;
    return b.p;
}

int qbc_write_file(const qbc_program *p, const char *path, char *err, size_t errlen)
{
    size_t n;
    uint8_t *buf = qbc_write(p, &n);
    if (!buf) {
        snprintf(err, errlen, "%s: out of memory", path);
        return -1;
    }
    FILE *f = fopen(path, "wb");
    int ok = f && fwrite(buf, 1, n, f) == n;
    if (f && fclose(f) != 0)
        ok = 0;
    free(buf);
    if (!ok) {
        snprintf(err, errlen, "%s: cannot write: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

/* ---------------------------------------------------------------- loader */

typedef struct {
    const uint8_t *p;
    size_t len, off;
    char *err;
    size_t errlen;
    int failed;
    int version; /* the file's format version */
} rbuf;

static void fail(rbuf *r, size_t off, const char *fmt, ...)
{
    if (r->failed)
        return;
    r->failed = 1;
    int n = snprintf(r->err, r->errlen, "offset %zu: ", off);
    va_list ap;
    va_start(ap, fmt);
    if (n >= 0 && (size_t)n < r->errlen)
        vsnprintf(r->err + n, r->errlen - (size_t)n, fmt, ap);
    va_end(ap);
}

static uint64_t get_u(rbuf *r, int bytes, const char *what)
{
    if (r->failed)
        return 0;
    if (r->len - r->off < (size_t)bytes) {
        fail(r, r->off, "file truncated in %s", what);
        return 0;
    }
    uint64_t v = 0;
    for (int i = 0; i < bytes; i++)
        v |= (uint64_t)r->p[r->off + (size_t)i] << (8 * i);
    r->off += (size_t)bytes;
    return v;
}

static uint64_t get_range(rbuf *r, int bytes, uint64_t lo, uint64_t hi, const char *what)
{
    size_t off = r->off;
    uint64_t v = get_u(r, bytes, what);
    if (!r->failed && (v < lo || v > hi))
        fail(r, off, "%s %llu out of range [%llu, %llu]", what, (unsigned long long)v,
             (unsigned long long)lo, (unsigned long long)hi);
    return v;
}

/* a scale: positive and finite, or 0 for a tensor whose quantization is
 * the model owner's secret (a layer with secret=, docs/dsl.md) */
static float get_f32(rbuf *r, const char *what)
{
    size_t off = r->off;
    uint32_t u = (uint32_t)get_u(r, 4, what);
    float f;
    memcpy(&f, &u, 4);
    if (!r->failed && !(f >= 0.0f && f < 1e30f))
        fail(r, off, "%s is not a finite scale (positive, or 0: secret)", what);
    return f;
}

static char *get_str(rbuf *r, const char *what)
{
    size_t n = (size_t)get_u(r, 1, what);
    if (r->failed)
        return NULL;
    if (r->len - r->off < n) {
        fail(r, r->off, "file truncated in %s", what);
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        uint8_t c = r->p[r->off + i];
        if (c < 0x21 || c > 0x7e) {
            fail(r, r->off + i, "%s contains a non-printable byte", what);
            return NULL;
        }
    }
    char *s = malloc(n + 1);
    if (!s) {
        fail(r, r->off, "out of memory");
        return NULL;
    }
    memcpy(s, r->p + r->off, n);
    s[n] = 0;
    r->off += n;
    return s;
}

static void get_shape(rbuf *r, qbc_shape *s, const char *what)
{
    s->ndim = (uint8_t)get_range(r, 1, 1, QBC_MAX_DIMS, what);
    for (int i = 0; i < s->ndim && !r->failed; i++)
        s->dims[i] = (uint32_t)get_range(r, 4, 1, QBC_MAX_ELEMS, what);
    if (!r->failed && shape_elems(s) > QBC_MAX_ELEMS)
        fail(r, r->off, "%s has too many elements", what);
}

/* Allocates an array of n elements after checking that the file can hold
 * them (min_bytes each), so that a corrupt count never allocates much. */
static void *get_array(rbuf *r, uint32_t n, size_t elem, size_t min_bytes, const char *what)
{
    if (r->failed)
        return NULL;
    if ((uint64_t)n * min_bytes > r->len - r->off) {
        fail(r, r->off, "%s count %u exceeds the file size", what, n);
        return NULL;
    }
    void *a = calloc(n ? n : 1, elem);
    if (!a)
        fail(r, r->off, "out of memory");
    return a;
}

static void load_header(rbuf *r, qbc_program *p)
{
    if (r->len < 4 || memcmp(r->p, QBC_MAGIC, 4) != 0) {
        fail(r, 0, "not a qnn bytecode file (bad magic)");
        return;
    }
    r->off = 4;
    r->version = (int)get_range(r, 2, QBC_VERSION_MIN, QBC_VERSION, "format version");
    p->ring_bits = (uint16_t)get_range(r, 2, 64, 64, "ring bits");
    p->nparties = (uint32_t)get_range(r, 1, 1, QBC_MAX_PARTIES, "party count");
    p->party_names = get_array(r, p->nparties, sizeof(char *), 1, "party");
    for (uint32_t i = 0; i < p->nparties && !r->failed; i++)
        p->party_names[i] = get_str(r, "party name");

    p->ninputs = (uint32_t)get_u(r, 4, "input count");
    p->inputs = get_array(r, p->ninputs, sizeof(qbc_input), 8, "input");
    for (uint32_t i = 0; i < p->ninputs && !r->failed; i++) {
        qbc_input *in = &p->inputs[i];
        in->name = get_str(r, "input name");
        in->party = (uint8_t)get_range(r, 1, 0, p->nparties - 1, "input party");
        in->dtype = (uint8_t)get_range(r, 1, 0, DT__COUNT - 1, "input dtype");
        get_shape(r, &in->shape, "input shape");
    }
    p->noutputs = (uint32_t)get_u(r, 4, "output count");
    p->outputs = get_array(r, p->noutputs, sizeof(qbc_output), 28, "output");
    for (uint32_t i = 0; i < p->noutputs && !r->failed; i++) {
        qbc_output *o = &p->outputs[i];
        o->name = get_str(r, "output name");
        o->party = (uint8_t)get_range(r, 1, 0, p->nparties - 1, "output party");
        o->dtype = (uint8_t)get_range(r, 1, 0, DT__COUNT - 1, "output dtype");
        o->kind = (uint8_t)get_range(r, 1, 0, r->version < 6 ? OUT_ARGMAX : OUT__COUNT - 1, "output kind");
        get_shape(r, &o->shape, "output shape");
        o->scale = get_f32(r, "output scale");
        o->zp = (int32_t)get_u(r, 4, "output zero point");
        o->sm_multiplier = (int32_t)get_range(r, 4, 0, INT32_MAX, "softmax multiplier");
        o->sm_shift = (int32_t)get_range(r, 4, 0, 31, "softmax shift");
        /* at most 0, as qm_softmax_prepare makes it: the largest logit
         * always counts, so (with at most QM_SOFTMAX_MAX values, below)
         * the softmax's sum is never zero */
        size_t dm_at = r->off;
        o->sm_diff_min = (int32_t)get_u(r, 4, "softmax diff_min");
        if (!r->failed && o->sm_diff_min > 0)
            fail(r, dm_at, "softmax diff_min %d is positive", o->sm_diff_min);
        if (!r->failed && o->kind == OUT_SOFTMAX && o->dtype == DT_I32)
            fail(r, r->off, "softmax output must be u8 or i8");
        if (!r->failed && o->kind == OUT_DEQUANT && !(o->scale > 0.0f))
            fail(r, r->off, "a dequantized output needs its scale (positive)");
        if (!r->failed && o->kind == OUT_SOFTMAX && o->shape.dims[o->shape.ndim - 1] > QM_SOFTMAX_MAX)
            fail(r, r->off, "softmax over %u values: at most %d (its sum of exponentials would overflow)",
                 o->shape.dims[o->shape.ndim - 1], QM_SOFTMAX_MAX);
    }
    p->nlayers = (uint32_t)get_u(r, 4, "layer count");
    p->layers = get_array(r, p->nlayers, sizeof(qbc_layer), 28, "layer");
    for (uint32_t i = 0; i < p->nlayers && !r->failed; i++) {
        qbc_layer *l = &p->layers[i];
        l->name = get_str(r, "layer name");
        l->kind = get_str(r, "layer kind");
        l->dtype = (uint8_t)get_range(r, 1, 0, DT__COUNT - 1, "layer dtype");
        get_shape(r, &l->shape, "layer shape");
        l->scale = get_f32(r, "layer scale");
        l->zp = (int32_t)get_u(r, 4, "layer zero point");
        l->macs = get_u(r, 8, "layer MAC count");
        l->reg = (uint32_t)get_u(r, 4, "layer register");
    }
}

/* What a clear run of p allocates besides its constants (in the file
 * already): registers and the VM's scratch register (vm.c), every input's
 * values and every output twice (revealed, finished; vm/run.c), 8 bytes an
 * element. Protocols with more words per share check again (vm_run). */
static uint64_t run_bytes(const qbc_program *p)
{
    uint64_t n = 0, max = 0;
    for (uint32_t i = 0; i < p->nsregs; i++) {
        n += p->slen[i];
        max = p->slen[i] > max ? p->slen[i] : max;
    }
    for (uint32_t i = 0; i < p->ninputs; i++)
        n += shape_elems(&p->inputs[i].shape);
    for (uint32_t i = 0; i < p->noutputs; i++)
        n += 2 * shape_elems(&p->outputs[i].shape);
    return (n + max) * sizeof(int64_t);
}

static void load_registers(rbuf *r, qbc_program *p)
{
    size_t regs_at = r->off;
    p->nsregs = (uint32_t)get_u(r, 4, "register count");
    p->slen = get_array(r, p->nsregs, sizeof(uint32_t), 4, "register");
    uint64_t total = 0;
    for (uint32_t i = 0; i < p->nsregs && !r->failed; i++) {
        p->slen[i] = (uint32_t)get_range(r, 4, 1, QBC_MAX_ELEMS, "register length");
        total += p->slen[i];
        if (total > QBC_MAX_ELEMS)
            fail(r, r->off - 4, "registers exceed %llu elements in total",
                 (unsigned long long)QBC_MAX_ELEMS);
    }
    uint64_t need = r->failed ? 0 : run_bytes(p), cap = tio_mem_cap();
    if (need > cap)
        fail(r, regs_at, "registers, inputs and outputs need %llu bytes, more than the memory "
             "cap of %llu (QNN_MAX_MEMORY)", (unsigned long long)need, (unsigned long long)cap);
    p->ncregs = (uint32_t)get_u(r, 4, "constant count");
    p->cregs = get_array(r, p->ncregs, sizeof(qbc_const), 12, "constant");
    for (uint32_t i = 0; i < p->ncregs && !r->failed; i++) {
        qbc_const *c = &p->cregs[i];
        c->len = (uint32_t)get_range(r, 4, 1, QBC_MAX_ELEMS, "constant length");
        c->val = get_array(r, c->len, sizeof(int64_t), 8, "constant value");
        for (uint32_t j = 0; j < c->len && !r->failed; j++)
            c->val[j] = (int64_t)get_u(r, 8, "constant value");
    }
    p->ncode = (uint32_t)get_u(r, 4, "code length");
    p->code = get_array(r, p->ncode, sizeof(uint32_t), 4, "code word");
    for (uint32_t i = 0; i < p->ncode && !r->failed; i++)
        p->code[i] = (uint32_t)get_u(r, 4, "code");
    if (!r->failed && r->off != r->len)
        fail(r, r->off, "%zu trailing bytes after the code", r->len - r->off);
}

int qbc_validate_code(const qbc_program *p, size_t code_off, char *err, size_t errlen);

int qbc_load(const uint8_t *buf, size_t len, qbc_program *p, char *err, size_t errlen)
{
    rbuf r = {buf, len, 0, err, errlen, 0, 0};
    memset(p, 0, sizeof *p);
    load_header(&r, p);
    load_registers(&r, p);
    for (uint32_t i = 0; i < p->nlayers && !r.failed; i++) {
        qbc_layer *l = &p->layers[i];
        if (l->reg >= p->nsregs || p->slen[l->reg] != shape_elems(&l->shape))
            fail(&r, 0, "layer %s: register %u does not hold its shape", l->name, l->reg);
    }
    p->code_offset = len - (size_t)p->ncode * 4;
    if (!r.failed && qbc_validate_code(p, p->code_offset, err, errlen) != 0)
        r.failed = 1;
    if (!r.failed && r.version < 7 && uses_lut(p))
        fail(&r, 4, "a LUT instruction in a version %d file (LUT is new in version 7)", r.version);
    if (r.failed) {
        qbc_free(p);
        return -1;
    }
    return 0;
}

int qbc_load_file(const char *path, qbc_program *p, char *err, size_t errlen)
{
    size_t n;
    uint8_t *buf = tio_slurp(path, (size_t)1 << 31, &n, err, errlen);
    if (!buf)
        return -1;
    char msg[400];
    int rc = qbc_load(buf, n, p, msg, sizeof msg);
    free(buf);
    if (rc != 0)
        snprintf(err, errlen, "%s: %s", path, msg);
    return rc;
}

void qbc_free(qbc_program *p)
{
    for (uint32_t i = 0; p->party_names && i < p->nparties; i++)
        free(p->party_names[i]);
    for (uint32_t i = 0; p->inputs && i < p->ninputs; i++)
        free(p->inputs[i].name);
    for (uint32_t i = 0; p->outputs && i < p->noutputs; i++)
        free(p->outputs[i].name);
    for (uint32_t i = 0; p->layers && i < p->nlayers; i++) {
        free(p->layers[i].name);
        free(p->layers[i].kind);
    }
    for (uint32_t i = 0; p->cregs && i < p->ncregs; i++)
        free(p->cregs[i].val);
    free(p->party_names);
    free(p->inputs);
    free(p->outputs);
    free(p->layers);
    free(p->slen);
    free(p->cregs);
    free(p->code);
    free(p->rot);
    free(p->check);
    free(p->bfrom);
    memset(p, 0, sizeof *p);
}
