/* cost: static cost model (see cost.h). Instructions count toward the
 * layer whose LAYER marker follows them. */
#include "vm/cost.h"

#include <stdlib.h>
#include <string.h>

#include "vm/vm.h"

static void add_row(cost_row *d, const cost_row *s, int nparties)
{
    d->rounds += s->rounds;
    d->blocks += s->blocks;
    d->opened += s->opened;
    d->macs += s->macs;
    for (int i = 0; i < nparties; i++)
        d->bytes[i] += s->bytes[i], d->pre[i] += s->pre[i];
    for (int k = 0; k < PROTO_NKINDS; k++)
        for (int i = 0; i < nparties; i++)
            d->kind[k][i] += s->kind[k][i];
    for (int i = 0; i < CC__COUNT; i++)
        d->elems[i] += s->elems[i];
    for (int i = 0; i < QBC_MAX_PARTIES; i++)
        d->inputs[i] += s->inputs[i];
}

/* A block's rounds: the longest operation of each pass (vm_block), summed. */
static void block_cost(const qbc_program *p, const protocol *pr, int nparties, uint32_t pc, cost_row *row,
                       cost_report *r)
{
    vm_block b;
    uint64_t rounds = 0;
    if (vm_block_open(&b, p, pc, pr, NULL, NULL))
        abort(); /* a prediction must cover every operation */
    for (uint32_t i = 0; i < b.n; i++) {
        const pop *op = &b.ops[i];
        const opinfo *oi = &op_table[qbc_op(p->code[b.at[i]])];
        if (op->kind == PK_EXACT || op->kind == PK_REQUANT || op->kind == PK_DIVR || op->kind == PK_REQCLAMP ||
            op->kind == PK_REQS)
            *(op->kind == PK_EXACT || (op->kind == PK_REQS && op->exact) ? &r->exact : &r->fast) += 1;
        row->elems[oi->cls] += oi->per * op->n;
        row->elems[CC_TRUNC] += oi->trunc * op->n;
        if (op->kind == PK_INPUT)
            row->inputs[op->owner] += op->n;
    }
    for (uint32_t w = 0; w < b.waves; w++) {
        uint32_t k = vm_block_pass(&b, w);
        uint64_t longest = 0;
        for (uint32_t i = 0; i < k; i++) {
            proto_cost c;
            memset(&c, 0, sizeof c);
            pr->cost(&b.pass[i], nparties, &c);
            longest = c.rounds > longest ? c.rounds : longest;
            row->opened += c.opened;
            for (int j = 0; j < nparties; j++)
                row->bytes[j] += c.bytes[j], row->pre[j] += c.pre[j], row->kind[b.pass[i].kind][j] += c.bytes[j];
        }
        rounds += longest;
    }
    vm_block_close(&b);
    for (int k = 0; k < nparties; k++) /* what the protocol adds to every round */
        row->bytes[k] += rounds * pr->round_overhead * (uint64_t)(nparties - 1);
    row->rounds += rounds;
    row->blocks++;
}

typedef struct {
    int nparties;
    const protocol *pr;
    proto_cost *acc;
} prep_walk;

static void add_prep(void *ud, const pop *op, int step)
{
    prep_walk *w = ud;
    w->pr->prep_cost(op, step, w->nparties, w->acc);
}

int cost_compute(const qbc_program *p, const protocol *pr, int nparties, cost_report *r)
{
    memset(r, 0, sizeof *r);
    r->nlayers = p->nlayers;
    r->layer = calloc(p->nlayers + 1, sizeof(cost_row));
    if (!r->layer)
        return -1;
    cost_row cur;
    memset(&cur, 0, sizeof cur);
    for (uint32_t pc = 0; pc < p->ncode;) {
        int op = qbc_op(p->code[pc]);
        if (op == OP_ROUND) {
            block_cost(p, pr, nparties, pc, &cur, r);
            uint32_t n = p->code[pc + 1];
            pc += 2;
            for (uint32_t i = 0; i < n; i++)
                pc += 1 + (uint32_t)qbc_nops(p->code[pc]);
            continue;
        }
        if (op == OP_LAYER) {
            uint32_t l = p->code[pc + 1];
            cur.macs = p->layers[l].macs;
            add_row(&r->layer[l], &cur, nparties);
            add_row(&r->total, &cur, nparties);
            memset(&cur, 0, sizeof cur);
        }
        pc += 1 + (uint32_t)qbc_nops(p->code[pc]);
    }
    if (pr->prep_cost) { /* the dealer's material, before the online phase */
        prep_walk w = {nparties, pr, &r->prep};
        vm_walk(p, pr, add_prep, &w);
    }
    proto_cost setup; /* set-up and close, counted with what follows the last layer */
    memset(&setup, 0, sizeof setup);
    pr->setup_cost(nparties, &setup);
    r->prep.bytes[nparties] += setup.bytes[nparties];
    for (int k = 0; k < nparties; k++) /* the set-up comes before any input */
        cur.pre[k] += setup.bytes[k];
    if (pr->close_cost)
        pr->close_cost(nparties, &setup);
    cur.rounds += setup.rounds;
    for (int k = 0; k < nparties; k++)
        cur.bytes[k] += setup.bytes[k];
    add_row(&r->layer[p->nlayers], &cur, nparties);
    add_row(&r->total, &cur, nparties);
    return 0;
}

const char *cost_rounding(const cost_report *r)
{
    return r->exact && r->fast ? "mixed" : r->exact ? "exact" : r->fast ? "fast" : "none";
}

void cost_free(cost_report *r)
{
    free(r->layer);
    memset(r, 0, sizeof *r);
}
