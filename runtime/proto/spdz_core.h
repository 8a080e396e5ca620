/* spdz_core: the SPDZ machinery over a domain of 16-byte elements
 * (runtime/core/el128.h), which proto_spdz2k.c (Z_2^128) and proto_spdz.c
 * (F_p) turn into protocols: MACed additive sharing among N >= 2 parties,
 * dealer preprocessing (prep.h's authenticated catalog), the MAC check on
 * the program's own rounds, and every operation (spdz_core.c's header and
 * docs/protocols.md, "spdz2k" and "spdz").
 *
 * A protocol's table passes itself and its domain to spdz_create and to
 * the functions that have no state (steps and costs); SPDZ_ENTRIES fills
 * the rest of the table. */
#ifndef SPDZ_CORE_H
#define SPDZ_CORE_H

#include "runtime/core/el128.h"
#include "runtime/net/net.h"
#include "runtime/proto/proto.h"

void *spdz_create(const protocol *self, el_dom dom, const proto_env *env, char *err, size_t errlen);
void spdz_destroy(void *ps);
void spdz_add(void *ps, word *d, const word *a, const word *b, size_t n, size_t nb);
void spdz_sub(void *ps, word *d, const word *a, const word *b, size_t n, size_t nb);
void spdz_addc(void *ps, word *d, const word *a, const int64_t *c, size_t n, size_t nc);
void spdz_mulc(void *ps, word *d, const word *a, const int64_t *c, size_t n, size_t nc);
void spdz_fillc(void *ps, word *d, const int64_t *c, size_t n, size_t nc);
int spdz_steps(const protocol *self, el_dom dom, const pop *op);
int spdz_prepare(void *ps, pop *op, int step, char *err, size_t errlen);
int spdz_exchange(void *ps, char *err, size_t errlen);
int spdz_finish(void *ps, pop *op, int step, char *err, size_t errlen);
void spdz_cost(const protocol *self, el_dom dom, const pop *op, int nparties, proto_cost *acc);
void spdz_setup_cost(int nparties, proto_cost *acc);
int spdz_close(void *ps, char *err, size_t errlen);
void spdz_close_cost(int nparties, proto_cost *acc);
void spdz_deal(void *ps, const pop *op, int step);
int spdz_deal_finish(void *ps, char *err, size_t errlen);
void spdz_prep_cost(const protocol *self, el_dom dom, const pop *op, int step, int nparties, proto_cost *acc);

/* The trailer of MAC-check messages each party sends every other, every round. */
#define SPDZ_TRAILER 128

/* The functions of a table whose wrappers are create, steps, cost and
 * prep_cost (each passing the table and its domain). */
#define SPDZ_ENTRIES                                                                                                 \
    .prep = "dealer", .configs = {2, 3}, .min_parties = 2, .max_parties = NET_MAX_PARTIES - 1, .share_words = 4,     \
    .create = create, .destroy = spdz_destroy, .add = spdz_add, .sub = spdz_sub, .addc = spdz_addc,                  \
    .mulc = spdz_mulc, .fillc = spdz_fillc, .steps = steps, .prepare = spdz_prepare, .exchange = spdz_exchange,      \
    .finish = spdz_finish, .cost = cost, .setup_cost = spdz_setup_cost, .close = spdz_close,                         \
    .close_cost = spdz_close_cost, .round_overhead = SPDZ_TRAILER,                                                   \
    .wave_elems = (size_t)1 << 16, /* about 1.3 GB a party in an exact REQCLAMP (spdz2k) */                         \
    .deal = spdz_deal, .deal_finish = spdz_deal_finish, .prep_cost = prep_cost

/* The four wrappers, for the table `self` over domain `dom`. */
#define SPDZ_WRAPPERS(self, dom)                                                                                     \
    extern const protocol self;                                                                                      \
    static void *create(const proto_env *env, char *err, size_t errlen)                                              \
    {                                                                                                                \
        return spdz_create(&self, dom, env, err, errlen);                                                            \
    }                                                                                                                \
    static int steps(const pop *op) { return spdz_steps(&self, dom, op); }                                           \
    static void cost(const pop *op, int N, proto_cost *acc) { spdz_cost(&self, dom, op, N, acc); }                   \
    static void prep_cost(const pop *op, int step, int N, proto_cost *acc) { spdz_prep_cost(&self, dom, op, step, N, acc); }

#endif
