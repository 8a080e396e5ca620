/* vm: the dispatch loop (see vm.h). */
#include "vm/vm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/core/kernels.h"
#include "runtime/core/qmath.h"
#include "runtime/io/tensorio.h"

typedef struct {
    const vm_config *cfg;
    word **reg;
    word *scratch;
    int sw;
    uint32_t *in_last; /* per input slot: its last INPUT's pc (drop_inputs) */
} vm_state;

void vm_decode(const qbc_program *p, uint32_t pc, pop *op, word *const *regs, const vm_config *cfg)
{
    const uint32_t *a = p->code + pc + 1;
    int code = qbc_op(p->code[pc]);
    memset(op, 0, sizeof *op);
    op->rot = p->rot ? p->rot[pc] : (int)(pc % 3);
    op->check = p->check ? p->check[pc] : 0;
    op->bfrom = p->bfrom ? p->bfrom[pc] : 0;
    op->lazy = (qbc_flags(p->code[pc]) & QBC_LAZY) != 0;
    const char *sig = op_table[code].sig;
    op->n = p->slen[a[0]];
    if (regs)
        op->d = regs[a[0]];
    if (sig[1] == 's') {
        op->na = p->slen[a[1]];
        if (regs)
            op->a = regs[a[1]];
    }
    if (sig[1] && sig[2] == 's') {
        op->nb = p->slen[a[2]];
        if (regs)
            op->b = regs[a[2]];
    }
    const qbc_const *c = p->cregs; /* the clear operands, where the signature has them */
    switch (code) {
    case OP_CONV2D:
    case OP_DWCONV2D:
        op->kind = code == OP_CONV2D ? PK_CONV2D : PK_DWCONV2D;
        op->g = geom_decode(a + 3);
        op->channels = a[16];
        op->accbits = a[17];
        break;
    case OP_MUL: op->kind = PK_MUL; break;
    case OP_REQUANT:
    case OP_REQCLAMP:
        op->kind = code == OP_REQUANT ? PK_REQUANT : PK_REQCLAMP;
        op->mult = c[a[2]].val, op->nmult = c[a[2]].len;
        op->shift = c[a[3]].val, op->nshift = c[a[3]].len;
        if (code == OP_REQCLAMP) /* validated: (z, lo, hi) */
            op->zp = c[a[4]].val[0], op->lo = c[a[4]].val[1], op->hi = c[a[4]].val[2], op->bound = a[5];
        break;
    case OP_DIVR:
        op->kind = PK_DIVR;
        op->divisor = c[a[2]].val, op->ndivisor = c[a[2]].len;
        break;
    case OP_LTZ:
        op->kind = PK_LTZ;
        op->bound = a[2];
        break;
    case OP_REQS: /* b: the secret parameters */
        op->kind = PK_REQS;
        op->kshift = a[3], op->bound = a[4];
        op->exact = (qbc_flags(p->code[pc]) & QBC_EXACT) != 0;
        op->relu = (qbc_flags(p->code[pc]) & QBC_RELU) != 0;
        return;
    case OP_CLAMP: /* validated: (lo, hi) */
        op->kind = PK_CLAMP;
        op->lo = c[a[2]].val[0], op->hi = c[a[2]].val[1], op->bound = a[3];
        break;
    case OP_LUT: /* validated: 256 entries */
        op->kind = PK_LUT;
        op->table = c[a[2]].val, op->lo = a[3] ? -128 : 0;
        break;
    case OP_INPUT:
        op->kind = PK_INPUT;
        op->owner = p->inputs[a[1]].party;
        op->lo = dtype_min(p->inputs[a[1]].dtype);
        op->bound = 8 * (uint32_t)dtype_size(p->inputs[a[1]].dtype);
        op->in = cfg ? cfg->inputs[a[1]] : NULL;
        break;
    case OP_OUTPUT:
        op->kind = PK_OUTPUT;
        op->owner = p->outputs[a[1]].party;
        op->a = op->d; /* OUTPUT reads its register */
        op->na = op->n;
        op->d = NULL;
        op->out = cfg ? cfg->outputs[a[1]] : NULL;
        break;
    default: /* local instructions are never decoded: the validator keeps them out of ROUND blocks */
        abort();
    }
    if (qbc_flags(p->code[pc]) & QBC_EXACT)
        op->of = op->kind, op->kind = PK_EXACT;
}

/* ------------------------------------------------------------ waves */

static int elementwise(const pop *op)
{
    switch (op->kind) {
    case PK_INPUT: return 1; /* its provider's values slice with it */
    case PK_MUL:
    case PK_REQUANT:
    case PK_DIVR:
    case PK_LTZ:
    case PK_CLAMP:
    case PK_REQCLAMP:
    case PK_TRUNC:
    case PK_EXACT:
    case PK_LUT:
    case PK_REQS: return op->na == op->n;
    case PK_OUTPUT:
    case PK_CONV2D:
    case PK_DWCONV2D: return 0;
    }
    return 0;
}

static uint64_t gcd(uint64_t a, uint64_t b)
{
    while (b) {
        uint64_t t = a % b;
        a = b, b = t;
    }
    return a;
}

/* a slice's start is a multiple of this, so that periodic operands keep
 * their indices (at most n: then the operation is one slice); an operand
 * as long as the operation is sliced with it instead (slice) */
static uint64_t period(const pop *op)
{
    uint64_t per = 1, len[4] = {op->nmult, op->nshift, op->ndivisor,
                                op->kind == PK_MUL ? op->nb : op->kind == PK_REQS ? op->nb - 4 : 0};
    for (int i = 0; i < 4 && per < op->n; i++)
        if (len[i] && (len[i] < op->n || (i == 3 && op->kind == PK_REQS)))
            per = per / gcd(per, len[i]) * len[i];
    return per < op->n ? per : op->n;
}

/* whether op is sliced into a block's waves (else it runs whole in pass 0) */
static int waved(const protocol *pr, const pop *op)
{
    return elementwise(op) && !(op->kind == PK_INPUT && pr->inputs_whole);
}

/* the waves of a block: its largest sliceable operation's share of
 * wave_elems (that operation then has a slice in wave 1: its period is at
 * most half of it; later waves may be empty where the slices round up) */
static uint32_t waves_of(const protocol *pr, const pop *ops, uint32_t n)
{
    uint64_t waves = 1;
    size_t elems = proto_wave_elems(pr);
    for (uint32_t i = 0; elems && i < n; i++)
        if (waved(pr, &ops[i]) && ops[i].n > elems && period(&ops[i]) < ops[i].n) {
            uint64_t w = (ops[i].n + elems - 1) / elems;
            waves = w > waves ? w : waves;
        }
    return (uint32_t)waves;
}

/* Whether op (an operation, or its slice in a wave) runs as three slices
 * whose roles turn (protocol.split_roles) */
static int split(const protocol *pr, const pop *op)
{
    return pr->split_roles && op->kind != PK_INPUT && elementwise(op) &&
           op->n >= pr->split_roles && op->n >= 3 * period(op);
}

int vm_block_open(vm_block *b, const qbc_program *p, uint32_t pc, const protocol *pr, word *const *regs,
                  const vm_config *cfg)
{
    uint32_t n = p->code[pc + 1], m = n ? n : 1, mp = pr->split_roles ? 3 * m : m;
    *b = (vm_block){pr, n, 1, mp, calloc(m, sizeof(pop)), calloc(m, sizeof(uint32_t)), calloc(mp, sizeof(pop)),
                    calloc(mp, sizeof(uint32_t))};
    if (!b->ops || !b->at || !b->pass || !b->idx) {
        vm_block_close(b);
        return -1;
    }
    for (uint32_t i = 0, q = pc + 2; i < n; i++, q += 1 + (uint32_t)qbc_nops(p->code[q])) {
        b->at[i] = q;
        vm_decode(p, q, &b->ops[i], regs, cfg);
        b->ops[i].lead = 1;
        for (uint32_t e = 0; e < i; e++)
            b->ops[i].lead &= b->ops[e].kind != b->ops[i].kind;
    }
    b->waves = waves_of(pr, b->ops, n);
    return 0;
}

/* a public periodic operand v of *len values: where it is as long as the
 * operation (n), its values [at, at + sn) go with the slice (period) */
static void slice_along(const int64_t **v, size_t *len, size_t n, uint64_t at, size_t sn)
{
    if (*len != n)
        return;
    *v = *v ? *v + at : NULL;
    *len = sn;
}

/* op's elements [at, at + len) (len cut at its end) as a pass entry */
static pop *slice(const protocol *pr, pop *s, const pop *op, uint64_t at, uint64_t len)
{
    uint64_t sw = (uint64_t)pr->share_words;
    *s = *op;
    s->n = (size_t)(op->n - at < len ? op->n - at : len);
    s->na = op->na ? s->n : 0;
    if (op->in)
        s->in = op->in + at;
    if (op->kind == PK_MUL && op->nb == op->n) /* a product of two vectors */
        s->b = op->b ? op->b + at * sw : NULL, s->nb = s->n;
    slice_along(&s->mult, &s->nmult, op->n, at, s->n);
    slice_along(&s->shift, &s->nshift, op->n, at, s->n);
    slice_along(&s->divisor, &s->ndivisor, op->n, at, s->n);
    if (op->a)
        s->a = op->a + at * sw;
    if (op->d)
        s->d = op->d + at * sw;
    return s;
}

/* op as its three slices into out, slice t with the roles turned by t; the
 * first alone leads and carries the mark, so that a verification runs
 * once. Returns how many (fewer where the thirds round up to the end). */
static uint32_t thirds(const protocol *pr, const pop *op, pop out[3])
{
    uint64_t per = period(op), len = (op->n + 3 * per - 1) / (3 * per) * per;
    uint32_t t = 0;
    for (; t < 3 && t * len < op->n; t++) {
        pop *s = slice(pr, &out[t], op, t * len, len);
        s->rot = (op->rot + (int)t) % 3;
        s->lead &= t == 0, s->check &= t == 0;
    }
    return t;
}

uint32_t vm_block_pass(vm_block *b, uint32_t w)
{
    uint32_t k = 0;
    for (uint32_t i = 0; i < b->n; i++) {
        const pop *op = &b->ops[i];
        pop s = *op;
        if (b->waves > 1 && waved(b->pr, op)) {
            uint64_t per = period(op), len = ((op->n + b->waves - 1) / b->waves + per - 1) / per * per, at = w * len;
            if (at >= op->n)
                continue;
            slice(b->pr, &s, op, at, len);
            /* a protocol that checks in batches verifies before each wave
             * after the first: a batch then holds one wave of a large block */
            if (w > 0)
                s.check = k == 0 && proto_check_every(b->pr);
        } else if (w > 0)
            continue;
        if (split(b->pr, &s)) {
            for (uint32_t t = thirds(b->pr, &s, &b->pass[k]); t > 0; t--)
                b->idx[k++] = i;
            continue;
        }
        b->pass[k] = s, b->idx[k++] = i;
    }
    return k;
}

void vm_block_close(vm_block *b)
{
    free(b->ops), free(b->at), free(b->pass), free(b->idx);
    b->ops = b->pass = NULL, b->at = b->idx = NULL;
}

static int vm_error(const vm_config *cfg, uint32_t pc, char *err, size_t errlen, const char *why)
{
    snprintf(err, errlen, "instruction at offset %zu (%s): %s",
             cfg->p->code_offset + (size_t)pc * 4, op_table[qbc_op(cfg->p->code[pc])].name, why);
    return -1;
}

/* the steps of pass w of block b */
static int run_pass(vm_state *s, uint32_t pc, vm_block *b, uint32_t w, int *steps, char *err, size_t errlen)
{
    const vm_config *cfg = s->cfg;
    const protocol *pr = cfg->pr;
    uint32_t k = vm_block_pass(b, w);
    pop *ops = b->pass;
    int rc = 0, max = 0;
    char why[256];
    for (uint32_t i = 0; i < k; i++) {
        steps[i] = pr->steps(&ops[i]);
        max = steps[i] > max ? steps[i] : max;
    }
    for (int st = 0; st < max && rc == 0; st++) {
        for (uint32_t i = 0; i < k && rc == 0; i++)
            if (st < steps[i] && pr->prepare(cfg->ps, &ops[i], st, why, sizeof why))
                rc = vm_error(cfg, b->at[b->idx[i]], err, errlen, why);
        if (rc == 0 && pr->exchange(cfg->ps, why, sizeof why))
            rc = vm_error(cfg, pc, err, errlen, why);
        for (uint32_t i = 0; i < k && rc == 0; i++)
            if (st < steps[i] && pr->finish(cfg->ps, &ops[i], st, why, sizeof why))
                rc = vm_error(cfg, b->at[b->idx[i]], err, errlen, why);
    }
    return rc;
}

static int run_block(vm_state *s, uint32_t pc, char *err, size_t errlen)
{
    const vm_config *cfg = s->cfg;
    vm_block b;
    int *steps = NULL, rc = 0;
    if (vm_block_open(&b, cfg->p, pc, cfg->pr, s->reg, cfg) || !(steps = calloc(b.cap, sizeof *steps)))
        rc = vm_error(cfg, pc, err, errlen, "out of memory");
    for (uint32_t w = 0; rc == 0 && w < b.waves; w++)
        rc = run_pass(s, pc, &b, w, steps, err, errlen);
    vm_block_close(&b);
    free(steps);
    return rc;
}

static void run_local(vm_state *s, int op, const uint32_t *a)
{
    const vm_config *cfg = s->cfg;
    const qbc_program *p = cfg->p;
    const protocol *pr = cfg->pr;
    void *ps = cfg->ps;
    word **r = s->reg;
    size_t sw = (size_t)s->sw;
    switch (op) {
    case OP_LAYER:
        if (cfg->on_layer)
            cfg->on_layer(cfg->ud, &p->layers[a[0]], r[p->layers[a[0]].reg], s->sw);
        break;
    case OP_ADD: pr->add(ps, r[a[0]], r[a[1]], r[a[2]], p->slen[a[0]], p->slen[a[2]]); break;
    case OP_SUB: pr->sub(ps, r[a[0]], r[a[1]], r[a[2]], p->slen[a[0]], p->slen[a[2]]); break;
    case OP_ADDC:
    case OP_MULC: {
        const qbc_const *c = &p->cregs[a[2]];
        (op == OP_ADDC ? pr->addc : pr->mulc)(ps, r[a[0]], r[a[1]], c->val, p->slen[a[0]], c->len);
        break;
    }
    case OP_FILLC: pr->fillc(ps, r[a[0]], p->cregs[a[1]].val, p->slen[a[0]], p->cregs[a[1]].len); break;
    case OP_COPY:
        for (uint64_t k = 0; k < a[2]; k++)
            memmove(r[a[0]] + (k * a[4] + a[5]) * sw, r[a[1]] + (k * a[6] + a[7]) * sw,
                    (size_t)a[3] * sw * sizeof(word));
        break;
    case OP_WINDOW: {
        geom g = geom_decode(a + 2);
        kern_window(r[a[0]], r[a[1]], &g, a[15], s->sw, 1);
        break;
    }
    case OP_POOLSUM: { /* tap by tap; out-of-bounds taps add zero shares */
        geom g = geom_decode(a + 2);
        size_t n = p->slen[a[0]];
        kern_window(r[a[0]], r[a[1]], &g, 0, s->sw, 0);
        for (uint32_t k = 1; k < g.kh * g.kw; k++) {
            kern_window(s->scratch, r[a[1]], &g, k, s->sw, 0);
            pr->add(ps, r[a[0]], r[a[0]], s->scratch, n, n);
        }
        break;
    }
    default:
        break;
    }
}

/* The unit (a ROUND block, or a local instruction outside one) of every
 * register's first and last use, by the unit's code position: a register
 * lives from the start of its first unit to the end of its last, so that
 * memory follows what is live rather than the whole program. A layer's
 * register is used where its LAYER stands (the --dump-layers callback);
 * registers no instruction names are never allocated. */
static void lifetimes(const qbc_program *p, uint32_t *first, uint32_t *last)
{
    for (uint32_t i = 0; i < p->nsregs; i++)
        first[i] = UINT32_MAX, last[i] = 0;
    for (uint32_t pc = 0, unit = 0, left = 0; pc < p->ncode; pc += 1 + (uint32_t)qbc_nops(p->code[pc])) {
        int op = qbc_op(p->code[pc]);
        if (op == OP_ROUND) {
            unit = pc, left = p->code[pc + 1];
            continue;
        }
        if (left)
            left--;
        else
            unit = pc;
        const char *sig = op_table[op].sig;
        for (int k = 0; sig[k]; k++) {
            uint32_t r = sig[k] == 's' ? p->code[pc + 1 + k] : sig[k] == 'l' ? p->layers[p->code[pc + 1 + k]].reg
                                                                             : UINT32_MAX;
            if (r == UINT32_MAX)
                continue;
            first[r] = first[r] < unit ? first[r] : unit;
            last[r] = unit;
        }
    }
}

/* allocates (zeroed) the registers whose life starts at unit; -1 out of memory */
static int live_from(vm_state *s, const uint32_t *first, uint32_t unit)
{
    const qbc_program *p = s->cfg->p;
    for (uint32_t i = 0; i < p->nsregs; i++)
        if (first[i] == unit && !(s->reg[i] = calloc(p->slen[i], (size_t)s->sw * sizeof(word))))
            return -1;
    return 0;
}

static void dead_after(vm_state *s, const uint32_t *last, uint32_t unit)
{
    for (uint32_t i = 0; i < s->cfg->p->nsregs; i++)
        if (last[i] == unit && s->reg[i]) {
            free(s->reg[i]);
            s->reg[i] = NULL;
        }
}

/* per input slot, the pc of its last INPUT (UINT32_MAX: none); NULL out of memory */
static uint32_t *input_uses(const qbc_program *p)
{
    uint32_t *at = malloc((p->ninputs + 1) * sizeof *at);
    for (uint32_t i = 0; at && i < p->ninputs; i++)
        at[i] = UINT32_MAX;
    for (uint32_t pc = 0; at && pc < p->ncode; pc += 1 + (uint32_t)qbc_nops(p->code[pc]))
        if (qbc_op(p->code[pc]) == OP_INPUT)
            at[p->code[pc + 2]] = pc;
    return at;
}

/* With drop_inputs, the values of each input slot whose last INPUT stands
 * in unit: the model's weights would otherwise stay beside their shares
 * for the whole run. */
static void inputs_done(vm_state *s, uint32_t unit, uint32_t next)
{
    const qbc_program *p = s->cfg->p;
    if (!s->cfg->drop_inputs || !s->cfg->inputs)
        return;
    for (uint32_t pc = unit; pc < next; pc += 1 + (uint32_t)qbc_nops(p->code[pc])) {
        if (qbc_op(p->code[pc]) != OP_INPUT)
            continue;
        uint32_t slot = p->code[pc + 2];
        if (s->in_last[slot] == pc) {
            free(s->cfg->inputs[slot]);
            s->cfg->inputs[slot] = NULL;
        }
    }
}

int vm_run(const vm_config *cfg, char *err, size_t errlen)
{
    const qbc_program *p = cfg->p;
    vm_state s = {cfg, calloc(p->nsregs + 1, sizeof(word *)), NULL, cfg->pr->share_words, NULL};
    uint32_t *first = calloc(p->nsregs + 1, sizeof *first), *last = calloc(p->nsregs + 1, sizeof *last);
    uint64_t maxlen = 1, total = 0;
    int rc = 0;
    /* every input's provider and output's receiver must take part (one
     * process evaluating in clear plays every party) */
    if (cfg->nparties > 1 && p->nparties > (uint32_t)cfg->nparties) {
        snprintf(err, errlen, "the program has %u parties, the run only %d", p->nparties, cfg->nparties);
        free(s.reg), free(first), free(last);
        return -1;
    }
    for (uint32_t i = 0; i < p->nsregs; i++) {
        total += p->slen[i];
        maxlen = p->slen[i] > maxlen ? p->slen[i] : maxlen;
    }
    /* the loader checked one word per element; a protocol's shares may be wider */
    uint64_t need = (total + maxlen) * (uint64_t)s.sw * sizeof(word);
    if (need > tio_mem_cap()) {
        snprintf(err, errlen, "the registers need %llu bytes under %s, more than the memory cap "
                 "of %llu (QNN_MAX_MEMORY)", (unsigned long long)need, cfg->pr->name,
                 (unsigned long long)tio_mem_cap());
        free(s.reg), free(first), free(last);
        return -1;
    }
    s.scratch = calloc(maxlen, (size_t)s.sw * sizeof(word));
    if (!s.reg || !s.scratch || !first || !last) {
        snprintf(err, errlen, "out of memory");
        rc = -1;
    } else {
        lifetimes(p, first, last);
    }
    if (rc == 0 && cfg->drop_inputs && !(s.in_last = input_uses(p))) {
        snprintf(err, errlen, "out of memory");
        rc = -1;
    }
    for (uint32_t pc = 0; rc == 0 && pc < p->ncode;) {
        int op = qbc_op(p->code[pc]);
        uint32_t unit = pc;
        if (live_from(&s, first, unit) != 0) {
            rc = vm_error(cfg, pc, err, errlen, "out of memory for its registers");
            break;
        }
        if (op == OP_ROUND) {
            uint32_t n = p->code[pc + 1];
            rc = run_block(&s, pc, err, errlen);
            pc += 2;
            for (uint32_t i = 0; i < n; i++)
                pc += 1 + (uint32_t)qbc_nops(p->code[pc]);
            inputs_done(&s, unit, pc);
        } else {
            run_local(&s, op, p->code + pc + 1);
            pc += 1 + (uint32_t)qbc_nops(p->code[pc]);
        }
        dead_after(&s, last, unit);
    }
    if (rc == 0 && cfg->pr->close && cfg->pr->close(cfg->ps, err, errlen) != 0)
        rc = -1;
    for (uint32_t i = 0; s.reg && i < p->nsregs; i++)
        free(s.reg[i]);
    free(s.reg), free(first), free(last);
    free(s.scratch), free(s.in_last);
    return rc;
}

/* the predicted bytes of each party for instruction pc under rotation rot */
static void rotated_cost(qbc_program *p, const protocol *pr, int nparties, uint32_t pc, int rot,
                         proto_cost *c)
{
    pop op, part[3];
    p->rot[pc] = (uint8_t)rot;
    vm_decode(p, pc, &op, NULL, NULL);
    memset(c, 0, sizeof *c);
    if (!split(pr, &op)) {
        pr->cost(&op, nparties, c);
        return;
    }
    /* as vm_block_pass runs a whole operation (a wave's slice is split
     * alike: this only balances the roles) */
    for (uint32_t t = 0, n = thirds(pr, &op, part); t < n; t++) {
        proto_cost d;
        memset(&d, 0, sizeof d);
        pr->cost(&part[t], nparties, &d);
        for (int j = 0; j < nparties; j++)
            c->bytes[j] += d.bytes[j];
    }
}

/* The busiest party's predicted bytes with the rotations in p->rot; with
 * greedy set, each instruction first takes the rotation that keeps the sum
 * of squared loads lowest (ties keep pc mod 3). */
static uint64_t assign(qbc_program *p, const protocol *pr, int nparties, int greedy)
{
    double load[PROTO_MAX_PARTIES] = {0};
    for (uint32_t pc = 0; pc < p->ncode; pc += 1 + (uint32_t)qbc_nops(p->code[pc])) {
        int code = qbc_op(p->code[pc]), rot = (int)(pc % 3);
        if (code == OP_ROUND || op_table[code].cls == CC_LOCAL) {
            p->rot[pc] = (uint8_t)rot;
            continue;
        }
        proto_cost c;
        if (greedy) {
            double best = -1;
            for (int k = 0; k < 3; k++) {
                int cand = (int)((pc + (uint32_t)k) % 3);
                rotated_cost(p, pr, nparties, pc, cand, &c);
                double sq = 0;
                for (int j = 0; j < nparties; j++)
                    sq += (load[j] + (double)c.bytes[j]) * (load[j] + (double)c.bytes[j]);
                if (best < 0 || sq < best)
                    best = sq, rot = cand;
            }
        }
        rotated_cost(p, pr, nparties, pc, rot, &c);
        for (int j = 0; j < nparties; j++)
            load[j] += (double)c.bytes[j];
    }
    double max = 0;
    for (int j = 0; j < nparties; j++)
        max = load[j] > max ? load[j] : max;
    return (uint64_t)max;
}

/* A ROUND block's bytes (cost(), all parties; INPUTs' not counted, so that
 * weights spread over the program by qnnc --late-inputs add no
 * verification), its longest operation's rounds, its waves, and whether it
 * holds an OUTPUT. */
typedef struct {
    uint32_t pc;
    uint64_t bytes, rounds;
    uint32_t waves;
    int out;
} block_cost;

static block_cost block_at(const qbc_program *p, const protocol *pr, int nparties, uint32_t pc)
{
    block_cost b = {pc, 0, 0, 1, 0};
    for (uint32_t i = 0, q = pc + 2; i < p->code[pc + 1]; i++, q += 1 + (uint32_t)qbc_nops(p->code[q])) {
        pop op;
        proto_cost c = {0};
        vm_decode(p, q, &op, NULL, NULL);
        op.check = 0;
        pr->cost(&op, nparties, &c);
        for (int j = 0; j < nparties && op.kind != PK_INPUT; j++)
            b.bytes += c.bytes[j];
        b.rounds = c.rounds > b.rounds ? c.rounds : b.rounds;
        uint32_t w = waves_of(pr, &op, 1);
        b.waves = w > b.waves ? w : b.waves;
        b.out |= op.kind == PK_OUTPUT;
    }
    return b;
}

/* the next ROUND block with operations from pc on (pc = ncode: none) */
static uint32_t next_block(const qbc_program *p, uint32_t pc)
{
    for (; pc < p->ncode; pc += 1 + (uint32_t)qbc_nops(p->code[pc]))
        if (qbc_op(p->code[pc]) == OP_ROUND && p->code[pc + 1])
            return pc;
    return p->ncode;
}

/* pop.check for protocols with check_every: the first operation of the
 * block where the blocks since the last mark or OUTPUT block have sent that
 * much, or of the block before it when that one is longer and at least
 * half of it is in (a protocol may run the check beside the block's own
 * rounds, which then hide more of it; earlier, so the batch stays within
 * check_every). */
static void assign_checks(qbc_program *p, const protocol *pr, int nparties)
{
    uint64_t every = proto_check_every(pr), sent = 0;
    free(p->check);
    p->check = NULL;
    if (!every)
        return;
    if (!(p->check = calloc(p->ncode ? p->ncode : 1, 1)))
        abort(); /* the parties must agree: no silent fallback */
    uint32_t pc = next_block(p, 0);
    block_cost b = {0}, n = pc < p->ncode ? block_at(p, pr, nparties, pc) : b;
    while (pc < p->ncode) {
        b = n;
        pc = next_block(p, pc + 1 + (uint32_t)qbc_nops(p->code[pc]));
        n = pc < p->ncode ? block_at(p, pr, nparties, pc) : (block_cost){0};
        int early = pc < p->ncode && !n.out && 2 * sent >= every && sent + b.bytes >= every && b.rounds > n.rounds;
        if (b.out)
            sent = 0;
        else if (sent >= every || early)
            p->check[b.pc + 2] = 1, sent = 0;
        if (b.waves > 1) /* vm_block_pass marks every wave after the first */
            sent = 0;
        sent += b.bytes / b.waves;
    }
}

/* pop.bfrom of every convolution: 1 + the party whose INPUT its filters
 * hold, if every instruction since that wrote their register was ADDC or
 * MULC from it, which keep a share that INPUT left zero (public
 * constants; no other writer is assumed to); else 0. */
static void trace_inputs(qbc_program *p)
{
    uint8_t *from = calloc(p->nsregs ? p->nsregs : 1, 1); /* per register, as bfrom */
    free(p->bfrom);
    if (!from || !(p->bfrom = calloc(p->ncode ? p->ncode : 1, 1)))
        abort(); /* the parties must agree: no silent fallback */
    for (uint32_t pc = 0; pc < p->ncode; pc += 1 + (uint32_t)qbc_nops(p->code[pc])) {
        int code = qbc_op(p->code[pc]);
        const uint32_t *a = p->code + pc + 1;
        if (code == OP_CONV2D || code == OP_DWCONV2D)
            p->bfrom[pc] = from[a[2]];
        if (code == OP_INPUT)
            from[a[0]] = (uint8_t)(1 + p->inputs[a[1]].party);
        else if (code == OP_ADDC || code == OP_MULC)
            from[a[0]] = from[a[1]];
        else if (op_table[code].writes)
            from[a[0]] = 0;
    }
    free(from);
}

void vm_assign_roles(qbc_program *p, const protocol *pr, int nparties)
{
    trace_inputs(p);
    free(p->rot);
    if (!(p->rot = calloc(p->ncode ? p->ncode : 1, 1)))
        abort(); /* the parties must agree: no silent fallback */
    uint64_t fixed = assign(p, pr, nparties, 0);
    if (assign(p, pr, nparties, 1) > fixed) /* never worse than pc mod 3 */
        assign(p, pr, nparties, 0);
    assign_checks(p, pr, nparties);
}

void vm_walk(const qbc_program *p, const protocol *pr, void (*fn)(void *ud, const pop *op, int step),
             void *ud)
{
    for (uint32_t pc = 0; pc < p->ncode; pc += 1 + (uint32_t)qbc_nops(p->code[pc])) {
        if (qbc_op(p->code[pc]) != OP_ROUND)
            continue;
        vm_block b;
        int *steps = NULL;
        if (vm_block_open(&b, p, pc, pr, NULL, NULL) || !(steps = calloc(b.cap, sizeof *steps)))
            abort(); /* the dealer and the cost model must see every operation */
        for (uint32_t w = 0; w < b.waves; w++) {
            uint32_t k = vm_block_pass(&b, w);
            int max = 0;
            for (uint32_t i = 0; i < k; i++) {
                steps[i] = pr->steps(&b.pass[i]);
                max = steps[i] > max ? steps[i] : max;
            }
            for (int st = 0; st < max; st++)
                for (uint32_t i = 0; i < k; i++)
                    if (st < steps[i])
                        fn(ud, &b.pass[i], st);
        }
        vm_block_close(&b);
        free(steps);
    }
}

float vm_dequantize(const qbc_output *o, int64_t q) { return (float)((double)o->scale * (double)(q - o->zp)); }

void vm_finish_output(const qbc_output *o, const int64_t *rev, int64_t *res, uint64_t n)
{
    if (o->kind != OUT_SOFTMAX) {
        memcpy(res, rev, n * sizeof *res);
        return;
    }
    qm_softmax_params sp = {o->sm_multiplier, o->sm_shift, o->sm_diff_min};
    uint64_t depth = o->shape.dims[o->shape.ndim - 1];
    int32_t *in = malloc(depth * sizeof *in), *out = malloc(depth * sizeof *out);
    for (uint64_t r = 0; in && out && r < n / depth; r++) {
        for (uint64_t i = 0; i < depth; i++)
            in[i] = (int32_t)rev[r * depth + i];
        qm_softmax(&sp, in, out, (int)depth, o->dtype == DT_I8 ? -128 : 0);
        for (uint64_t i = 0; i < depth; i++)
            res[r * depth + i] = out[i];
    }
    free(in);
    free(out);
}

