/* cost: the static cost model. Walks the bytecode once and asks the
 * protocol module what each communicating instruction costs, so the figures
 * are computable from the program alone and must equal the run's measures. */
#ifndef COST_H
#define COST_H

#include "runtime/proto/proto.h"
#include "vm/bytecode.h"

typedef struct {
    uint64_t rounds, blocks, opened;
    uint64_t bytes[PROTO_MAX_PARTIES];
    uint64_t pre[PROTO_MAX_PARTIES]; /* of bytes, those no input affects: the set-up's and proto_cost.pre */
    /* of bytes, those of each kind of operation; the rest is the set-up, the
     * close and the protocol's per-round overhead */
    uint64_t kind[PROTO_NKINDS][PROTO_MAX_PARTIES];
    uint64_t elems[CC__COUNT]; /* elements per cost class */
    uint64_t inputs[QBC_MAX_PARTIES];
    uint64_t macs;
} cost_row;

typedef struct {
    cost_row total;
    cost_row *layer; /* per layer; index nlayers holds what follows the last layer */
    uint32_t nlayers;
    proto_cost prep; /* dealt material and the dealer's bytes (prep.bytes[nparties]) */
    uint64_t exact, fast; /* rounding instructions (REQUANT, DIVR, REQCLAMP) of each mode */
} cost_report;

/* "exact", "fast", "mixed" or "none": the program's rounding */
const char *cost_rounding(const cost_report *r);

int cost_compute(const qbc_program *p, const protocol *pr, int nparties, cost_report *r);
void cost_free(cost_report *r);

#endif
