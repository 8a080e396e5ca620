/* proto_rep3: three parties, passive security with an honest majority:
 * replicated secret sharing over Z_2^64, rep3_ops.c's operations as they
 * are (docs/protocols.md "rep3"). */
#include "runtime/proto/rep3_ops.h"

extern const protocol proto_rep3;
static const rep3_mode passive = {&proto_rep3};

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
    .domain = "Z_2^64",
    .configs = {3},
    .min_parties = 3,
    .max_parties = 3,
    .share_words = 2,
    .create = create,
    .destroy = rep3_destroy,
    .add = rep3_add,
    .sub = rep3_sub,
    .addc = rep3_addc,
    .mulc = rep3_mulc,
    .fillc = rep3_fillc,
    .steps = steps,
    .prepare = rep3_prepare,
    .exchange = rep3_exchange,
    .finish = rep3_finish,
    .cost = cost,
    .setup_cost = rep3_setup_cost,
};
