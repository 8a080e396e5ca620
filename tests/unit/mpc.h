/* mpc: runs a program on N parties of a protocol inside one test process.
 *
 * The transport is net.h over socketpairs (net_open_fds, plain framing):
 * one socketpair for every pair of processes, one thread per process (the
 * N parties, and the dealer as process N when the protocol has one). Each
 * party runs the real VM (vm_run) on the same validated program, the dealer
 * walks it (vm_walk + deal), exactly as `qnnvm run` drives them, so what is
 * tested is the protocol behind its interface, not a re-implementation of
 * the VM's calling convention. A party sees only its own inputs and
 * receives only its own outputs; the result gathers what every receiver
 * got, with every process's measured bytes and rounds beside the cost
 * model's prediction (cost_compute, as `qnnvm run` reports it).
 *
 * The clear reference runs the same way with one process and no network. */
#ifndef MPC_H
#define MPC_H

#include <stddef.h>
#include <stdint.h>

#include "compiler/emit.h"
#include "runtime/net/net.h"
#include "runtime/proto/proto.h"
#include "vm/bytecode.h"

typedef struct {
    int procs;                             /* parties, then the dealer if any */
    int64_t **out;                         /* per output slot: what its receiver got */
    uint64_t bytes[NET_MAX_PARTIES];       /* measured payload bytes sent, per process */
    uint64_t rounds[NET_MAX_PARTIES];
    uint64_t predicted_bytes[NET_MAX_PARTIES];
    uint64_t predicted_rounds[NET_MAX_PARTIES];
} mpc_result;

/* Hands over the emitter's program after a round trip through the writer
 * and the validating loader, so that a test runs only what qnnvm would
 * accept; 0, or -1 with the loader's message. e is freed either way. */
int mpc_build(emitter *e, qbc_program *p, char *err, size_t errlen);

/* Runs p under pr with nparties parties (within pr's range and, unless 1,
 * at least p's parties, as qnnvm run demands); inputs[s] holds input
 * slot s's values (handed to its owner only). Sets p's role
 * rotations for (pr, nparties) first, as every party does. 0, or -1 with
 * the first failing process's message in err; r is filled either way and
 * freed by mpc_result_free. */
int mpc_run(qbc_program *p, const protocol *pr, int nparties, int64_t *const *inputs, mpc_result *r,
            char *err, size_t errlen);
void mpc_result_free(const qbc_program *p, mpc_result *r);

#endif
