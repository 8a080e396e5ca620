/* emit: program builder and round scheduler (see emit.h). */
#include "compiler/emit.h"

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

void em_flag(emitter *e, size_t i, uint32_t flags) { e->ins[i].flags |= (uint8_t)flags; }

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
    if (!op_table[in->op].writes)
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

/* Sinks the instructions that only depend on inputs (INPUT, and the local
 * instructions computing on nothing else, such as a filter's zero-point
 * ADDC) as late as their readers allow, an INPUT to the latest level at or
 * before that whose block holds a comparison: a layer's weights then join
 * the previous layer's REQCLAMP instead of the first block, so they are not
 * all held as shares from the start (a party's memory at its peak, and the
 * page faults that cost). No block is added; a block gets more rounds only
 * where an input takes more than a comparison (spdz and spdz2k's i32 inputs)
 * or slices into more waves (hemi), hence opt-in. Only values with one
 * writer move. */
static void sink_inputs(const emitter *e, uint32_t *lv)
{
    uint32_t nr = e->p.nsregs + 1, *writers = calloc(nr, sizeof *writers), *need = malloc(nr * sizeof *need);
    uint32_t top = 0;
    for (size_t i = 0; i < e->nins; i++)
        top = lv[i] > top ? lv[i] : top;
    uint8_t *cone = calloc(nr, 1), *cmp_at = calloc((size_t)top + 1, 1);
    if (!writers || !need || !cone || !cmp_at) {
        fputs("qnnc: out of memory\n", stderr);
        exit(2);
    }
    for (size_t i = 0; i < e->nins; i++)
        cmp_at[lv[i]] |= op_table[e->ins[i].op].cls == CC_CMP;
    for (size_t i = 0; i < e->nins; i++) {
        int partial;
        uint32_t w = written(&e->ins[i], &partial);
        if (w != UINT32_MAX)
            writers[w]++;
    }
    for (size_t i = 0; i < e->nins; i++) { /* the values computed from inputs alone */
        const einsn *in = &e->ins[i];
        const char *sig = op_table[in->op].sig;
        int partial, from_inputs = in->op == OP_INPUT, other = 0;
        uint32_t w = written(in, &partial);
        for (int k = 0; sig[k]; k++)
            if (sig[k] == 's' && in->a[k] != w) {
                from_inputs |= cone[in->a[k]];
                other |= !cone[in->a[k]];
            }
        if (w != UINT32_MAX && writers[w] == 1 && !partial && from_inputs && !other &&
            (in->op == OP_INPUT || op_table[in->op].cls == CC_LOCAL))
            cone[w] = 1;
    }
    for (uint32_t r = 0; r < nr; r++)
        need[r] = UINT32_MAX;
    for (size_t i = e->nins; i-- > 0;) {
        const einsn *in = &e->ins[i];
        const char *sig = op_table[in->op].sig;
        int partial, comm = op_table[in->op].cls != CC_LOCAL;
        uint32_t w = written(in, &partial);
        uint32_t to = w != UINT32_MAX && cone[w] && need[w] != UINT32_MAX ? need[w] : lv[i];
        while (comm && to > lv[i] && !cmp_at[to])
            to--;
        lv[i] = to > lv[i] ? to : lv[i];
        for (int k = 0; sig[k]; k++)
            if (sig[k] == 's' && in->a[k] != w && lv[i] - (uint32_t)comm < need[in->a[k]])
                need[in->a[k]] = lv[i] - (uint32_t)comm;
        if (in->op == OP_LAYER && lv[i] < need[e->p.layers[in->a[0]].reg])
            need[e->p.layers[in->a[0]].reg] = lv[i];
    }
    free(writers), free(need), free(cone), free(cmp_at);
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

/* Calls fn on every register operand of an instruction (and the register of
 * a LAYER's layer). */
static void each_reg(const emitter *e, einsn *in, void (*fn)(void *, uint32_t *), void *ud)
{
    const char *sig = op_table[in->op].sig;
    for (int k = 0; sig[k]; k++)
        if (sig[k] == 's')
            fn(ud, &in->a[k]);
    if (in->op == OP_LAYER)
        fn(ud, &e->p.layers[in->a[0]].reg);
}

typedef struct {
    uint32_t *first, *last, now;
} live;

static void note_use(void *ud, uint32_t *r)
{
    live *l = ud;
    if (l->first[*r] == UINT32_MAX)
        l->first[*r] = l->now;
    l->last[*r] = l->now;
}

static void rename_reg(void *ud, uint32_t *r) { *r = ((const uint32_t *)ud)[*r]; }

/* Linear-scan register allocation over the scheduled order: a register is
 * reused, once its value is dead, for a later value of the same length. The
 * instructions of one ROUND block count as one point in time, so registers
 * of a block never alias. Cuts memory (and page faults) several-fold. */
static void allocate_registers(emitter *e, const slot *order, const uint32_t *time, uint32_t ntimes)
{
    uint32_t nv = e->p.nsregs;
    live l = {malloc((nv + 1) * sizeof(uint32_t)), malloc((nv + 1) * sizeof(uint32_t)), 0};
    uint32_t *map = malloc((nv + 1) * sizeof(uint32_t)), *plen = malloc((nv + 1) * sizeof(uint32_t));
    uint32_t *free_list = malloc((nv + 1) * sizeof(uint32_t));
    uint32_t *by_first = calloc(ntimes + 2, sizeof(uint32_t)), *by_last = calloc(ntimes + 2, sizeof(uint32_t));
    uint32_t *sorted_f = malloc((nv + 1) * sizeof(uint32_t)), *sorted_l = malloc((nv + 1) * sizeof(uint32_t));
    if (!l.first || !l.last || !map || !plen || !free_list || !by_first || !by_last || !sorted_f || !sorted_l) {
        fputs("qnnc: out of memory\n", stderr);
        exit(2);
    }
    for (uint32_t r = 0; r < nv; r++)
        l.first[r] = UINT32_MAX, l.last[r] = 0;
    for (size_t i = 0; i < e->nins; i++) {
        l.now = time[i];
        each_reg(e, &e->ins[order[i].idx], note_use, &l);
    }
    /* bucket the registers by first and last use (counting sort) */
    for (uint32_t r = 0; r < nv; r++)
        if (l.first[r] != UINT32_MAX)
            by_first[l.first[r] + 1]++, by_last[l.last[r] + 1]++;
    for (uint32_t t = 0; t <= ntimes; t++)
        by_first[t + 1] += by_first[t], by_last[t + 1] += by_last[t];
    for (uint32_t r = 0; r < nv; r++)
        if (l.first[r] != UINT32_MAX)
            sorted_f[by_first[l.first[r]]++] = r, sorted_l[by_last[l.last[r]]++] = r;
    uint32_t nphys = 0, nfree = 0, fi = 0, li = 0, nused = by_first[ntimes];
    for (uint32_t t = 0; t < ntimes; t++) {
        for (; fi < nused && l.first[sorted_f[fi]] == t; fi++) {
            uint32_t r = sorted_f[fi], k = 0;
            while (k < nfree && plen[free_list[k]] != e->p.slen[r])
                k++;
            if (k < nfree) {
                map[r] = free_list[k];
                free_list[k] = free_list[--nfree];
            } else {
                map[r] = nphys;
                plen[nphys++] = e->p.slen[r];
            }
        }
        for (; li < nused && l.last[sorted_l[li]] == t; li++)
            free_list[nfree++] = map[sorted_l[li]];
    }
    for (size_t i = 0; i < e->nins; i++)
        each_reg(e, &e->ins[i], rename_reg, map);
    for (uint32_t k = 0; k < e->p.nlayers; k++) /* layers without a LAYER marker keep a valid index */
        if (e->p.layers[k].reg >= nphys)
            e->p.layers[k].reg = 0;
    memcpy(e->p.slen, plen, nphys * sizeof(uint32_t));
    e->p.nsregs = nphys;
    free(l.first);
    free(l.last);
    free(map);
    free(plen);
    free(free_list);
    free(by_first);
    free(by_last);
    free(sorted_f);
    free(sorted_l);
}

static uint32_t put_insn(uint32_t *code, uint32_t n, const einsn *in)
{
    int k = (int)strlen(op_table[in->op].sig);
    code[n++] = qbc_encode(in->op, k) | (uint32_t)in->flags << 16;
    memcpy(code + n, in->a, (size_t)k * sizeof(uint32_t));
    return n + (uint32_t)k;
}

void em_finish(emitter *e, qbc_program *out)
{
    regstate *rs = calloc(e->p.nsregs + 1, sizeof *rs);
    slot *order = malloc((e->nins + 1) * sizeof *order);
    uint32_t *time = malloc((e->nins + 1) * sizeof *time);
    uint32_t *code = malloc((e->nins * (OP_MAX_OPERANDS + 3) + 1) * sizeof(uint32_t));
    if (!rs || !order || !time || !code) {
        fputs("qnnc: out of memory\n", stderr);
        exit(2);
    }
    for (size_t i = 0; i < e->nins; i++)
        time[i] = level_of(e, &e->ins[i], rs);
    if (e->late_inputs)
        sink_inputs(e, time);
    for (size_t i = 0; i < e->nins; i++) {
        int comm = op_table[e->ins[i].op].cls != CC_LOCAL;
        order[i].key = 2 * (uint64_t)time[i] - (uint64_t)comm;
        order[i].idx = i;
    }
    qsort(order, e->nins, sizeof *order, cmp_slot);
    uint32_t t = 0; /* a block's instructions share one time */
    for (size_t i = 0; i < e->nins; i++) {
        int comm = op_table[e->ins[order[i].idx].op].cls != CC_LOCAL;
        if (i > 0 && !(comm && order[i].key == order[i - 1].key))
            t++;
        time[i] = t;
    }
    allocate_registers(e, order, time, e->nins ? t + 1 : 0);
    uint32_t n = 0;
    for (size_t i = 0; i < e->nins;) {
        if (op_table[e->ins[order[i].idx].op].cls == CC_LOCAL) {
            n = put_insn(code, n, &e->ins[order[i++].idx]);
            continue;
        }
        size_t j = i;
        while (j < e->nins && order[j].key == order[i].key)
            j++;
        code[n++] = qbc_encode(OP_ROUND, 1);
        code[n++] = (uint32_t)(j - i);
        for (; i < j; i++)
            n = put_insn(code, n, &e->ins[order[i].idx]);
    }
    free(rs);
    free(order);
    free(time);
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
