/* emit: program builder and round scheduler (see emit.h). */
#include "emit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void *grow(void *p, uint32_t n, uint32_t *cap, size_t elem)
{
    if (n < *cap)
        return p;
    *cap = *cap ? *cap * 2 : 16;
    void *q = realloc(p, *cap * elem);
    if (!q) {
        fputs("qnnc: out of memory\n", stderr);
        exit(2);
    }
    return q;
}

static char *xstrdup(const char *s)
{
    char *d = strdup(s);
    if (!d) {
        fputs("qnnc: out of memory\n", stderr);
        exit(2);
    }
    return d;
}

void em_init(emitter *e)
{
    memset(e, 0, sizeof *e);
    e->p.ring_bits = 64;
}

uint32_t em_sreg(emitter *e, uint64_t len)
{
    e->p.slen = grow(e->p.slen, e->p.nsregs, &e->caps[0], sizeof(uint32_t));
    e->p.slen[e->p.nsregs] = (uint32_t)(len ? len : 1);
    return e->p.nsregs++;
}

uint32_t em_const(emitter *e, const int64_t *vals, uint32_t len)
{
    for (uint32_t i = 0; i < e->p.ncregs; i++) /* identical constants are shared */
        if (e->p.cregs[i].len == len && memcmp(e->p.cregs[i].val, vals, len * 8u) == 0)
            return i;
    e->p.cregs = grow(e->p.cregs, e->p.ncregs, &e->caps[1], sizeof(qbc_const));
    qbc_const *c = &e->p.cregs[e->p.ncregs];
    c->len = len;
    c->val = malloc(len * sizeof(int64_t));
    if (!c->val) {
        fputs("qnnc: out of memory\n", stderr);
        exit(2);
    }
    memcpy(c->val, vals, len * sizeof(int64_t));
    return e->p.ncregs++;
}

uint32_t em_const1(emitter *e, int64_t v) { return em_const(e, &v, 1); }

void em_insn(emitter *e, int op, const uint32_t *ops, int n)
{
    if ((size_t)n != strlen(op_table[op].sig)) {
        fprintf(stderr, "qnnc: internal error: %s with %d operands\n", op_table[op].name, n);
        abort();
    }
    if (e->nins == e->cap) {
        e->cap = e->cap ? e->cap * 2 : 256;
        e->ins = realloc(e->ins, e->cap * sizeof(einsn));
        if (!e->ins) {
            fputs("qnnc: out of memory\n", stderr);
            exit(2);
        }
    }
    einsn *in = &e->ins[e->nins++];
    memset(in, 0, sizeof *in);
    in->op = (uint8_t)op;
    memcpy(in->a, ops, (size_t)n * sizeof(uint32_t));
}

uint32_t em_party(emitter *e, const char *name)
{
    e->p.party_names = grow(e->p.party_names, e->p.nparties, &e->caps[2], sizeof(char *));
    e->p.party_names[e->p.nparties] = xstrdup(name);
    return e->p.nparties++;
}

uint32_t em_input(emitter *e, const qbc_input *in)
{
    e->p.inputs = grow(e->p.inputs, e->p.ninputs, &e->caps[3], sizeof(qbc_input));
    e->p.inputs[e->p.ninputs] = *in;
    e->p.inputs[e->p.ninputs].name = xstrdup(in->name);
    return e->p.ninputs++;
}

uint32_t em_output(emitter *e, const qbc_output *o)
{
    e->p.outputs = grow(e->p.outputs, e->p.noutputs, &e->caps[4], sizeof(qbc_output));
    e->p.outputs[e->p.noutputs] = *o;
    e->p.outputs[e->p.noutputs].name = xstrdup(o->name);
    return e->p.noutputs++;
}

uint32_t em_layer(emitter *e, const qbc_layer *l)
{
    e->p.layers = grow(e->p.layers, e->p.nlayers, &e->caps[5], sizeof(qbc_layer));
    qbc_layer *d = &e->p.layers[e->p.nlayers];
    *d = *l;
    d->name = xstrdup(l->name);
    d->kind = xstrdup(l->kind);
    return e->p.nlayers++;
}

/* ---- scheduling ---- */

/* The register an instruction writes (or UINT32_MAX), and whether it also
 * reads it (a partial write keeps the rest). */
static uint32_t written(const einsn *in, int *partial)
{
    *partial = in->op == OP_COPY;
    if (in->op == OP_OUTPUT || in->op == OP_LAYER || op_table[in->op].sig[0] != 's')
        return UINT32_MAX;
    return in->a[0];
}

typedef struct {
    uint32_t level;  /* of the last writer */
    uint32_t rlevel; /* highest level of a reader since then */
} regstate;

static uint32_t level_of(const emitter *e, const einsn *in, regstate *rs)
{
    int comm = op_table[in->op].cls != CC_LOCAL, partial;
    uint32_t w = written(in, &partial), lv = 0;
    const char *sig = op_table[in->op].sig;
    for (int k = 0; sig[k]; k++)
        if (sig[k] == 's' && (in->a[k] != w || partial) && rs[in->a[k]].level > lv)
            lv = rs[in->a[k]].level;
    if (in->op == OP_LAYER && rs[e->p.layers[in->a[0]].reg].level > lv)
        lv = rs[e->p.layers[in->a[0]].reg].level;
    if (w != UINT32_MAX) { /* after earlier writers and readers of w */
        if (rs[w].level > lv)
            lv = rs[w].level;
        if (rs[w].rlevel > lv)
            lv = rs[w].rlevel;
    }
    lv += (uint32_t)comm;
    for (int k = 0; sig[k]; k++)
        if (sig[k] == 's' && in->a[k] != w && rs[in->a[k]].rlevel < lv)
            rs[in->a[k]].rlevel = lv;
    if (w != UINT32_MAX)
        rs[w].level = lv;
    return lv;
}

typedef struct {
    uint64_t key; /* 2 * level - comm, then original position */
    size_t idx;
} slot;

static int cmp_slot(const void *a, const void *b)
{
    const slot *x = a, *y = b;
    return x->key < y->key ? -1 : x->key > y->key ? 1 : (x->idx > y->idx) - (x->idx < y->idx);
}

void em_finish(emitter *e, qbc_program *out)
{
    regstate *rs = calloc(e->p.nsregs + 1, sizeof *rs);
    slot *order = malloc((e->nins + 1) * sizeof *order);
    uint32_t *code = malloc((e->nins * (OP_MAX_OPERANDS + 3) + 1) * sizeof(uint32_t));
    if (!rs || !order || !code) {
        fputs("qnnc: out of memory\n", stderr);
        exit(2);
    }
    for (size_t i = 0; i < e->nins; i++) {
        uint32_t lv = level_of(e, &e->ins[i], rs);
        int comm = op_table[e->ins[i].op].cls != CC_LOCAL;
        order[i].key = 2 * (uint64_t)lv - (uint64_t)comm;
        order[i].idx = i;
    }
    qsort(order, e->nins, sizeof *order, cmp_slot);
    uint32_t n = 0;
    for (size_t i = 0; i < e->nins;) {
        const einsn *in = &e->ins[order[i].idx];
        if (op_table[in->op].cls != CC_LOCAL) {
            size_t j = i;
            while (j < e->nins && order[j].key == order[i].key)
                j++;
            code[n++] = qbc_encode(OP_ROUND, 1);
            code[n++] = (uint32_t)(j - i);
            for (; i < j; i++) {
                in = &e->ins[order[i].idx];
                int k = (int)strlen(op_table[in->op].sig);
                code[n++] = qbc_encode(in->op, k);
                memcpy(code + n, in->a, (size_t)k * sizeof(uint32_t));
                n += (uint32_t)k;
            }
            continue;
        }
        int k = (int)strlen(op_table[in->op].sig);
        code[n++] = qbc_encode(in->op, k);
        memcpy(code + n, in->a, (size_t)k * sizeof(uint32_t));
        n += (uint32_t)k;
        i++;
    }
    free(rs);
    free(order);
    e->p.code = code;
    e->p.ncode = n;
    *out = e->p;
    memset(&e->p, 0, sizeof e->p);
}

void em_free(emitter *e)
{
    qbc_free(&e->p);
    free(e->ins);
    memset(e, 0, sizeof *e);
}
