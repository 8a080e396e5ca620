/* proto_rep3: three parties, passive security with an honest majority:
 * replicated secret sharing over Z_2^64, rep3_ops.c's operations as they
 * are (docs/protocols.md "rep3"). */
#include "runtime/proto/rep3_ops.h"

extern const protocol proto_rep3;
static const rep3_mode passive = {&proto_rep3, 0, 0, 0, 0};

static void *create(const proto_env *env, char *err, size_t errlen) { return rep3_new(env, &passive, sizeof(rep3), err, errlen); }
static int steps(const pop *op) { return rep3_steps(&passive, op); }

static void cost(const pop *op, int nparties, proto_cost *acc)
{
    (void)nparties;
    rep3_cost(&passive, op, acc);
}

const protocol proto_rep3 = {
    .name = "rep3",
    .security = "passive, honest majority: replicated secret sharing over Z_2^64, 3 parties",
    REP3_ENTRIES,
    .create = create,
    .destroy = rep3_destroy,
    .steps = steps,
    .prepare = rep3_prepare,
    .finish = rep3_finish,
    .cost = cost,
};
