/* validate: checks every instruction of a loaded program before it runs:
 * opcode, operand count and kinds, register indices, vector lengths,
 * geometry, constant ranges and the ROUND block structure. After this the VM
 * and the protocols index registers without further checks. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vm/bytecode.h"
#include "runtime/core/geom.h"

typedef struct {
    const qbc_program *p;
    size_t base; /* byte offset of code word 0 in the file */
    char *err;
    size_t errlen;
} vctx;

static int bad(vctx *v, uint32_t pc, const char *fmt, ...)
{
    int n = snprintf(v->err, v->errlen, "offset %zu: instruction %u: ", v->base + (size_t)pc * 4,
                     pc);
    va_list ap;
    va_start(ap, fmt);
    if (n >= 0 && (size_t)n < v->errlen)
        vsnprintf(v->err + n, v->errlen - (size_t)n, fmt, ap);
    va_end(ap);
    return -1;
}

static uint64_t slen(vctx *v, uint32_t r) { return v->p->slen[r]; }

static int periodic(uint64_t n, uint64_t m) { return m >= 1 && n % m == 0; }

static int check_consts(vctx *v, uint32_t pc, uint32_t c, int64_t lo, int64_t hi, const char *what)
{
    const qbc_const *k = &v->p->cregs[c];
    for (uint32_t i = 0; i < k->len; i++)
        if (k->val[i] < lo || k->val[i] > hi)
            return bad(v, pc, "%s %lld out of range", what, (long long)k->val[i]);
    return 0;
}

/* REQUANT's operands, also the first four of REQCLAMP */
static int check_requant(vctx *v, uint32_t pc, const uint32_t *a)
{
    const qbc_program *p = v->p;
    if (slen(v, a[0]) != slen(v, a[1]) || !periodic(slen(v, a[0]), p->cregs[a[2]].len) ||
        !periodic(slen(v, a[0]), p->cregs[a[3]].len))
        return bad(v, pc, "operand lengths do not match");
    if (check_consts(v, pc, a[2], 0, INT32_MAX, "multiplier") || check_consts(v, pc, a[3], -31, 30, "shift"))
        return -1;
    return 0;
}

/* a clamp's constants: (lo, hi), or with zp first (z, lo, hi); lo <= hi, int32 */
static int check_bounds(vctx *v, uint32_t pc, uint32_t c, int with_zp)
{
    const qbc_const *k = &v->p->cregs[c];
    if (k->len != 2u + (uint32_t)with_zp || k->val[with_zp] > k->val[with_zp + 1])
        return bad(v, pc, with_zp ? "REQCLAMP wants (zero point, lo, hi) with lo <= hi"
                                  : "CLAMP wants two bounds lo <= hi");
    return check_consts(v, pc, c, INT32_MIN, INT32_MAX, "clamp bound");
}

static int check_geom(vctx *v, uint32_t pc, const geom *g, int need_nonempty)
{
    if (!g->h || !g->w || !g->c || !g->kh || !g->kw || !g->oh || !g->ow || !g->sh || !g->sw ||
        !g->dh || !g->dw)
        return bad(v, pc, "zero in window geometry");
    if ((uint64_t)g->h * g->w * g->c > QBC_MAX_ELEMS || (uint64_t)g->kh * g->kw > QBC_MAX_ELEMS ||
        (uint64_t)g->oh * g->ow * g->c > QBC_MAX_ELEMS)
        return bad(v, pc, "window geometry too large");
    if ((uint64_t)g->pt > (uint64_t)(g->kh - 1) * g->dh ||
        (uint64_t)g->pl > (uint64_t)(g->kw - 1) * g->dw)
        return bad(v, pc, "padding larger than the window");
    if (geom_in(g->oh - 1, g->sh, g->pt, 0, g->dh) >= g->h ||
        geom_in(g->ow - 1, g->sw, g->pl, 0, g->dw) >= g->w)
        return bad(v, pc, "output size larger than the input allows");
    if (need_nonempty) /* every window must hold an in-bounds element */
        for (int axis = 0; axis < 2; axis++) {
            uint32_t on = axis ? g->ow : g->oh, st = axis ? g->sw : g->sh;
            uint32_t pad = axis ? g->pl : g->pt, k = axis ? g->kw : g->kh;
            uint32_t dil = axis ? g->dw : g->dh, n = axis ? g->w : g->h;
            for (uint32_t o = 0; o < on; o++) {
                /* the first tap at or past the input's start, found without
                 * walking the taps (a file may claim 2^27 of them) */
                int64_t base = geom_in(o, st, pad, 0, dil);
                int64_t t = base >= 0 ? 0 : (-base + dil - 1) / dil;
                if (t >= k || base + t * dil >= n)
                    return bad(v, pc, "window %u lies entirely in the padding", o);
            }
        }
    return 0;
}

static int check_copy(vctx *v, uint32_t pc, const uint32_t *a)
{
    uint64_t cnt = a[2], n = a[3];
    if (cnt == 0 || n == 0)
        return bad(v, pc, "empty copy");
    if (cnt > 1 && a[4] < n) /* disjoint blocks: the work is bounded by the destination */
        return bad(v, pc, "copy blocks overlap in the destination");
    uint64_t dend = (cnt - 1) * a[4] + a[5] + n, send = (cnt - 1) * a[6] + a[7] + n;
    if (dend > slen(v, a[0]) || send > slen(v, a[1]))
        return bad(v, pc, "copy out of the registers' bounds");
    return 0;
}

/* Checks the semantics of one instruction whose operand kinds are valid. */
static int check_insn(vctx *v, uint32_t pc, int op, const uint32_t *a)
{
    const qbc_program *p = v->p;
    switch (op) {
    case OP_ROUND:
        return a[0] == 0 ? bad(v, pc, "empty ROUND block") : 0;
    case OP_LAYER:
        return 0;
    case OP_INPUT:
        if (slen(v, a[0]) != shape_elems(&p->inputs[a[1]].shape))
            return bad(v, pc, "INPUT register length differs from input %s", p->inputs[a[1]].name);
        return 0;
    case OP_OUTPUT:
        if (slen(v, a[0]) != shape_elems(&p->outputs[a[1]].shape))
            return bad(v, pc, "OUTPUT register length differs from output %s",
                       p->outputs[a[1]].name);
        return 0;
    case OP_ADD:
    case OP_SUB:
    case OP_MUL:
        if (slen(v, a[0]) != slen(v, a[1]) || !periodic(slen(v, a[0]), slen(v, a[2])))
            return bad(v, pc, "operand lengths do not match");
        return 0;
    case OP_ADDC:
    case OP_MULC:
    case OP_DIVR:
        if (slen(v, a[0]) != slen(v, a[1]) || !periodic(slen(v, a[0]), p->cregs[a[2]].len))
            return bad(v, pc, "operand lengths do not match");
        return op == OP_DIVR ? check_consts(v, pc, a[2], 1, INT32_MAX, "divisor") : 0;
    case OP_FILLC:
        return periodic(slen(v, a[0]), p->cregs[a[1]].len) ? 0
                                                            : bad(v, pc, "lengths do not match");
    case OP_COPY:
        return check_copy(v, pc, a);
    case OP_LTZ:
    case OP_CLAMP: {
        uint32_t bits = a[op == OP_LTZ ? 2 : 3];
        if (bits < 1 || bits > 62)
            return bad(v, pc, "comparison bound 2^%u out of range [2^1, 2^62]", bits);
        if (slen(v, a[0]) != slen(v, a[1]))
            return bad(v, pc, "operand lengths do not match");
        return op == OP_CLAMP ? check_bounds(v, pc, a[2], 0) : 0;
    }
    case OP_LUT: {
        const qbc_const *t = &p->cregs[a[2]];
        if (slen(v, a[0]) != slen(v, a[1]))
            return bad(v, pc, "operand lengths do not match");
        if (t->len != 256 || a[3] > 1)
            return bad(v, pc, "LUT takes a table of 256 values and a first code of 0 or -128 (d = 0 or 1)");
        int changes = 0;
        for (int k = 1; k < 256; k++)
            changes |= t->val[k] != t->val[0];
        if (!changes) /* the step sum needs a change point; a constant is a FILLC */
            return bad(v, pc, "LUT table is constant");
        return check_consts(v, pc, a[2], INT32_MIN, INT32_MAX, "table value");
    }
    case OP_REQUANT:
        return check_requant(v, pc, a);
    case OP_REQCLAMP: {
        if (check_requant(v, pc, a) || check_bounds(v, pc, a[4], 1))
            return -1;
        /* the fused truncation works modulo 2^(64 - d), d = 31 + right shift:
         * bound + d <= 63 for the smallest d; a channel with a larger d is
         * compared scaled by 2^(d - dmin), which must leave it some bits */
        const qbc_const *sh = &p->cregs[a[3]];
        int64_t dmin = 62, dmax = 31;
        for (uint32_t i = 0; i < sh->len; i++) {
            int64_t d = 31 + (sh->val[i] < 0 ? -sh->val[i] : 0);
            dmin = d < dmin ? d : dmin;
            dmax = d > dmax ? d : dmax;
        }
        if (a[5] < 1 || a[5] + dmin > 63 || dmax - dmin >= a[5])
            return bad(v, pc, "REQCLAMP bound 2^%u out of range for right shifts %lld..%lld (bound + 31 + the smallest <= 63, their spread below the bound)",
                       a[5], (long long)(dmin - 31), (long long)(dmax - 31));
        return 0;
    }
    case OP_REQS: { /* secret parameters: (Delta per channel, z, lo, hi, t3) */
        uint64_t np = slen(v, a[2]);
        if (slen(v, a[0]) != slen(v, a[1]) || np < 5 || slen(v, a[1]) % (np - 4))
            return bad(v, pc, "REQS wants equal lengths and parameters of (channels + 4) values, the channels dividing the length");
        if (a[3] < 1 || a[3] > 61 || a[4] < 1 || a[4] > 62)
            return bad(v, pc, "REQS shift %u or bound 2^%u out of range (1..61, 1..62)", a[3], a[4]);
        return 0;
    }
    default:
        break;
    }
    /* window operations */
    geom g = geom_decode(a + (op == OP_CONV2D || op == OP_DWCONV2D ? 3 : 2));
    if (check_geom(v, pc, &g, op == OP_WINDOW))
        return -1;
    uint64_t in = (uint64_t)g.h * g.w * g.c, out = (uint64_t)g.oh * g.ow * g.c;
    uint64_t taps = (uint64_t)g.kh * g.kw;
    if (slen(v, a[1]) != in)
        return bad(v, pc, "input register length %llu, geometry needs %llu",
                   (unsigned long long)slen(v, a[1]), (unsigned long long)in);
    if (op == OP_POOLSUM || op == OP_WINDOW) {
        if (slen(v, a[0]) != out)
            return bad(v, pc, "output register length does not match the geometry");
        return op == OP_WINDOW && a[15] >= taps ? bad(v, pc, "window tap out of range") : 0;
    }
    uint64_t m = a[16]; /* output channels, or depth multiplier */
    if (m == 0 || m > QBC_MAX_ELEMS)
        return bad(v, pc, "bad channel count");
    if (a[17] > 62)
        return bad(v, pc, "output bound 2^%u out of range (0, or 1..62)", a[17]);
    uint64_t wlen = op == OP_CONV2D ? m * taps * g.c : taps * g.c * m;
    uint64_t olen = op == OP_CONV2D ? (uint64_t)g.oh * g.ow * m : out * m;
    if (slen(v, a[2]) != wlen || slen(v, a[0]) != olen)
        return bad(v, pc, "filter or output register length does not match the geometry");
    return 0;
}

static int check_operands(vctx *v, uint32_t pc, int op, const uint32_t *a)
{
    const qbc_program *p = v->p;
    const char *sig = op_table[op].sig;
    for (int k = 0; sig[k]; k++) {
        uint32_t x = a[k], lim;
        switch (sig[k]) {
        case 's': lim = p->nsregs; break;
        case 'c': lim = p->ncregs; break;
        case 'i': lim = p->ninputs; break;
        case 'o': lim = p->noutputs; break;
        case 'l': lim = p->nlayers; break;
        default: lim = UINT32_MAX; break;
        }
        if (sig[k] != 'n' && x >= lim)
            return bad(v, pc, "%s operand %d: index %u out of range (%u)", op_table[op].name,
                       k + 1, x, lim);
    }
    return check_insn(v, pc, op, a);
}

/* The register an instruction writes, or -1 (OUTPUT writes none). */
static int64_t dest_of(const uint32_t *w)
{
    return op_table[qbc_op(*w)].writes ? (int64_t)w[1] : -1;
}

static int touches(const uint32_t *w, int64_t reg)
{
    const char *sig = op_table[qbc_op(*w)].sig;
    for (int k = 0; sig[k]; k++)
        if (sig[k] == 's' && (int64_t)w[1 + k] == reg)
            return 1;
    return 0;
}

/* Within a ROUND block the instructions run in lockstep: none may touch a
 * register that another one in the block writes. Runs on checked code. */
static int check_block(vctx *v, uint32_t pc)
{
    const uint32_t *code = v->p->code, *first = code + pc + 2;
    uint32_t n = code[pc + 1];
    const uint32_t *w = first;
    for (uint32_t i = 0; i < n; i++, w += 1 + qbc_nops(*w))
        for (const uint32_t *u = first; u < w; u += 1 + qbc_nops(*u))
            if ((dest_of(u) >= 0 && touches(w, dest_of(u))) ||
                (dest_of(w) >= 0 && touches(u, dest_of(w))))
                return bad(v, (uint32_t)(w - code), "instructions of one ROUND block depend on each other");
    return 0;
}

/* Exact rounding (runtime/proto/exact.c) floors values below 2^62 by
 * 2^k and compares the excess, below 2^(k+1), so k <= 61: a right shift of
 * at most 30; a division's constants stay small for divisors up to 2^20. */
static int check_exact(vctx *v, uint32_t pc, int op, const uint32_t *a)
{
    if (op == OP_REQS) /* its shift is an immediate, checked with the instruction */
        return 0;
    if (op == OP_DIVR)
        return check_consts(v, pc, a[2], 1, 1 << 20, "exact divisor");
    return check_consts(v, pc, a[3], -30, 30, "exact shift");
}

/* Unfinished sums (QBC_LAZY results, bytecode.h) flow only through ADD,
 * SUB, ADDC and MULC into a QBC_LAZY REQCLAMP. The code is straight-line,
 * so one pass in program order sees every register's state. Runs on
 * checked code. */
static int check_sums(vctx *v)
{
    const qbc_program *p = v->p;
    uint8_t *sum = calloc(p->nsregs + 1, 1);
    int rc = sum ? 0 : bad(v, 0, "out of memory");
    for (uint32_t pc = 0; rc == 0 && pc < p->ncode; pc += 1 + (uint32_t)qbc_nops(p->code[pc])) {
        int op = qbc_op(p->code[pc]), lazy = (qbc_flags(p->code[pc]) & QBC_LAZY) != 0, in = 0;
        const uint32_t *a = p->code + pc + 1;
        const char *sig = op_table[op].sig;
        for (int k = 0; sig[k]; k++)
            in |= sig[k] == 's' && (k > 0 || !op_table[op].writes) && sum[a[k]];
        in |= op == OP_LAYER && sum[p->layers[a[0]].reg];
        int linear = op == OP_ADD || op == OP_SUB || op == OP_ADDC || op == OP_MULC;
        if (in && !linear && !((op == OP_REQCLAMP || op == OP_REQS) && lazy))
            rc = bad(v, pc, "%s reads an unfinished sum (a lazy result)", op_table[op].name);
        else if (op_table[op].writes) /* a COPY's register is reused, not patched */
            sum[a[0]] = (uint8_t)((lazy && op != OP_REQCLAMP && op != OP_REQS) || (linear && in));
    }
    free(sum);
    return rc;
}

int qbc_validate_code(const qbc_program *p, size_t code_off, char *err, size_t errlen)
{
    vctx v = {p, code_off, err, errlen};
    uint32_t pc = 0, block_left = 0;
    while (pc < p->ncode) {
        uint32_t w = p->code[pc];
        int op = qbc_op(w), nops = qbc_nops(w);
        uint32_t fl = qbc_flags(w);
        if ((fl & ~(QBC_LAZY | QBC_EXACT | QBC_RELU)) || ((fl & QBC_RELU) && op != OP_REQS) ||
            ((fl & QBC_LAZY) && op != OP_CONV2D && op != OP_DWCONV2D && op != OP_REQCLAMP && op != OP_REQS) ||
            ((fl & QBC_EXACT) && op != OP_REQUANT && op != OP_DIVR && op != OP_REQCLAMP && op != OP_REQS))
            return bad(&v, pc, "reserved bits set");
        if (op >= OP__COUNT)
            return bad(&v, pc, "unknown opcode %d", op);
        if ((size_t)nops != strlen(op_table[op].sig))
            return bad(&v, pc, "%s takes %zu operands, not %d", op_table[op].name,
                       strlen(op_table[op].sig), nops);
        if ((uint64_t)pc + 1 + (uint32_t)nops > p->ncode)
            return bad(&v, pc, "operands run past the end of the code");
        if (check_operands(&v, pc, op, p->code + pc + 1) ||
            ((fl & QBC_EXACT) && check_exact(&v, pc, op, p->code + pc + 1)))
            return -1;
        if (op == OP_REQS && (fl & QBC_LAZY) && (slen(&v, p->code[pc + 3]) != 5 || p->code[pc + 4] + p->code[pc + 5] > 63))
            return bad(&v, pc, "a lazy REQS must have one channel and shift + bound <= 63 (rep3 fuses it)");
        if (op == OP_ROUND) {
            if (block_left)
                return bad(&v, pc, "ROUND inside a ROUND block");
            block_left = p->code[pc + 1];
        } else if (op_table[op].cls != CC_LOCAL) {
            if (!block_left)
                return bad(&v, pc, "%s outside a ROUND block", op_table[op].name);
            block_left--;
        } else if (block_left) {
            return bad(&v, pc, "ROUND block holds the local instruction %s", op_table[op].name);
        }
        pc += 1 + (uint32_t)nops;
    }
    if (block_left)
        return bad(&v, pc, "ROUND block runs past the end of the code");
    for (pc = 0; pc < p->ncode; pc += 1 + (uint32_t)qbc_nops(p->code[pc]))
        if (qbc_op(p->code[pc]) == OP_ROUND && check_block(&v, pc))
            return -1;
    return check_sums(&v);
}
