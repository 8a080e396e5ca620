/* vm: runs a validated program on one party against a protocol module.
 * The VM owns the registers (share_words words per element), executes local
 * instructions by calling the protocol's linear operations, and runs each
 * ROUND block as one batch of prepare / exchange / finish steps. It never
 * looks inside a share. Errors name the instruction's byte offset. */
#ifndef VM_H
#define VM_H

#include "runtime/proto/proto.h"
#include "vm/bytecode.h"

typedef void (*vm_layer_fn)(void *ud, const qbc_layer *l, const word *data, int share_words);

typedef struct {
    const qbc_program *p;
    const protocol *pr;
    void *ps;               /* the protocol's state, from pr->create */
    int party, nparties;
    int64_t **inputs;       /* per input slot: the values this process provides, or NULL */
    int64_t *const *outputs;/* per output slot: room for what this process receives, or NULL */
    vm_layer_fn on_layer;   /* optional, after each layer */
    void *ud;
    int drop_inputs;        /* free each slot's values (and set it NULL) after its last INPUT */
} vm_config;

int vm_run(const vm_config *cfg, char *err, size_t errlen);

/* Decodes a communicating instruction at code word pc into the protocol
 * layer's operation (its kind and named constants); with regs NULL only the
 * sizes are filled in (for the cost model). */
void vm_decode(const qbc_program *p, uint32_t pc, pop *op, word *const *regs,
               const vm_config *cfg);

/* Chooses, for every communicating instruction, the rotation of the
 * protocol's roles (op->rot, used by rep3) that balances the parties'
 * predicted bytes (greedy in program order on the sum of squared loads,
 * kept only if its busiest party beats rot = pc mod 3). Every party and the
 * cost model compute the same from the program alone; call it after
 * loading, before running or costing (without it rot = pc mod 3). */
void vm_assign_roles(qbc_program *p, const protocol *pr, int nparties);

/* A ROUND block, decoded, and the passes it runs in: one unless an
 * elementwise operation has more elements than the protocol's wave_elems.
 * A pass holds the elementwise operations as their slice w (starting at a
 * multiple of their periodic operands' lengths so that those keep their
 * indices; inputs are sliced too, with their provider's values, unless the
 * protocol sets inputs_whole) and the others, convolutions and outputs,
 * whole in pass 0. With the protocol's split_roles, a large elementwise
 * operation (or its slice in a wave) other than an input is three entries
 * instead, its thirds with the roles turned by 0, 1, 2; vm_assign_roles
 * costs it so. A protocol with check_every has every nonempty pass after
 * the first marked (pop.check on its first entry), so a batch holds a
 * pass's slices, not the whole block's. Parties, the dealer and the cost
 * model all go through it, so they take the same passes. */
typedef struct {
    const protocol *pr;
    uint32_t n, waves, cap; /* cap: most operations a pass can hold */
    pop *ops;           /* the block's operations */
    uint32_t *at;       /* their code offsets */
    pop *pass;          /* the current pass's operations (slices) */
    uint32_t *idx;      /* pass[i] comes from ops[idx[i]] */
} vm_block;

/* Decodes the ROUND block at pc (regs and cfg as for vm_decode: NULL for a
 * cost query, whose pointers stay NULL); 0, or -1 when out of memory. */
int vm_block_open(vm_block *b, const qbc_program *p, uint32_t pc, const protocol *pr, word *const *regs,
                  const vm_config *cfg);
/* Pass w's operations into b->pass; returns how many. */
uint32_t vm_block_pass(vm_block *b, uint32_t w);
void vm_block_close(vm_block *b);

/* Calls fn for every (communicating instruction, step) in the order a run
 * executes them: block by block, wave by wave, steps outer, instructions
 * inner. */
void vm_walk(const qbc_program *p, const protocol *pr, void (*fn)(void *ud, const pop *op, int step),
             void *ud);

/* What the receiver makes of a revealed tensor of n values: the tensor
 * itself, or its softmax (TFLite's reference kernel, row by row); a
 * dequantized output stays codes here, turned into floats as it is
 * printed or written (vm_dequantize). */
void vm_finish_output(const qbc_output *o, const int64_t *revealed, int64_t *result, uint64_t n);
/* A code of a dequantized output as TFLite's DEQUANTIZE makes it
 * (reference/dequantize.h): (float)((double)scale (q - zero point)). */
float vm_dequantize(const qbc_output *o, int64_t q);

#endif
