/* disasm: human-readable listing of a program (see disasm.h). */
#include "vm/disasm.h"

#include <string.h>

static const char *const geom_names[13] = {"H",  "W",  "C",  "KH", "KW", "OH", "OW",
                                           "SH", "SW", "PT", "PL", "DH", "DW"};

static void operand(FILE *out, const qbc_program *p, int op, int k, uint32_t x)
{
    const char *sig = op_table[op].sig;
    int geo_start = (op == OP_CONV2D || op == OP_DWCONV2D) ? 3 : 2;
    int has_geo = op == OP_CONV2D || op == OP_DWCONV2D || op == OP_POOLSUM || op == OP_WINDOW;
    switch (sig[k]) {
    case 's': fprintf(out, "s%u[%u]", x, p->slen[x]); return;
    case 'c':
        if (p->cregs[x].len == 1)
            fprintf(out, "c%u(=%lld)", x, (long long)p->cregs[x].val[0]);
        else
            fprintf(out, "c%u[%u]", x, p->cregs[x].len);
        return;
    case 'i': fprintf(out, "%s", p->inputs[x].name); return;
    case 'o': fprintf(out, "%s", p->outputs[x].name); return;
    case 'l': fprintf(out, "%s", p->layers[x].name); return;
    default: break;
    }
    if (has_geo && k >= geo_start && k < geo_start + 13)
        fprintf(out, "%s=%u", geom_names[k - geo_start], x);
    else if ((op == OP_CONV2D || op == OP_DWCONV2D) && k == geo_start + 14)
        fprintf(out, "acc_bits=%u", x);
    else if (op == OP_CONV2D)
        fprintf(out, "OC=%u", x);
    else if (op == OP_DWCONV2D)
        fprintf(out, "M=%u", x);
    else if (op == OP_WINDOW)
        fprintf(out, "tap=%u", x);
    else if (op == OP_LUT)
        fprintf(out, "from=%d", x ? -128 : 0);
    else if (op == OP_REQS && k == 3)
        fprintf(out, "shift=%u", x);
    else if (op == OP_LTZ || op == OP_CLAMP || op == OP_REQCLAMP || op == OP_REQS)
        fprintf(out, "bits=%u", x);
    else
        fprintf(out, "%u", x);
}

void disasm_program(FILE *out, const qbc_program *p)
{
    char sh[64];
    fprintf(out, "ring Z_2^%u, %u part%s:", p->ring_bits, p->nparties, p->nparties == 1 ? "y" : "ies");
    for (uint32_t i = 0; i < p->nparties; i++)
        fprintf(out, " %u=%s", i, p->party_names[i]);
    fprintf(out, "\ninputs:\n");
    for (uint32_t i = 0; i < p->ninputs; i++)
        fprintf(out, "  %-20s %s[%s] from %s\n", p->inputs[i].name, dtype_names[p->inputs[i].dtype],
                tshape_str(&p->inputs[i].shape, sh, sizeof sh),
                p->party_names[p->inputs[i].party]);
    fprintf(out, "outputs:\n");
    for (uint32_t i = 0; i < p->noutputs; i++)
        fprintf(out, "  %-20s %s %s[%s] to %s\n", p->outputs[i].name,
                out_kind_names[p->outputs[i].kind], dtype_names[p->outputs[i].dtype],
                tshape_str(&p->outputs[i].shape, sh, sizeof sh),
                p->party_names[p->outputs[i].party]);
    fprintf(out, "code (%u words, %u registers, %u constants):\n", p->ncode, p->nsregs, p->ncregs);
    uint32_t in_block = 0;
    for (uint32_t pc = 0; pc < p->ncode;) {
        int op = qbc_op(p->code[pc]);
        fprintf(out, "  %6u  %s%-9s", pc, in_block ? "  " : "", op_table[op].name);
        if (qbc_flags(p->code[pc]) & QBC_LAZY)
            fputs(" lazy", out);
        if (qbc_flags(p->code[pc]) & QBC_EXACT)
            fputs(" exact", out);
        if (qbc_flags(p->code[pc]) & QBC_RELU)
            fputs(" relu", out);
        for (int k = 0; op_table[op].sig[k]; k++) {
            fputs(k ? ", " : " ", out);
            operand(out, p, op, k, p->code[pc + 1 + (uint32_t)k]);
        }
        fputc('\n', out);
        if (in_block)
            in_block--;
        if (op == OP_ROUND)
            in_block = p->code[pc + 1];
        pc += 1 + (uint32_t)qbc_nops(p->code[pc]);
    }
}
