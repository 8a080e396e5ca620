/* proto_rep3a: rep3-active, three parties, security with abort against one
 * actively corrupted party (issue 14; docs/plans/rep3-active.md, and
 * docs/protocols.md "rep3-active"). It runs rep3_ops.c's operations with
 * rep3's messages. A message that a second party can recompute is
 * hash-checked (jmp.h); one that only its sender knows becomes a statement
 * of its sender's proofs, which its two verifiers check in batched
 * distributed zero-knowledge proofs: boolean relations in GF(2^64)
 * (dzkp_bool.h: AND gates, dealings' and inputs' carry chains) and ring
 * relations over F_p (dzkp_arith.h: MUL's reshares, splits, a2r). rep3's
 * three-party OTs are replaced by split + a2r (rep3_mode.no_ot), whose
 * shares no third party can make two honest parties disagree on. Every
 * ROUND block with an OUTPUT first runs a verification of everything sent
 * before it, led by the block's first OUTPUT (pop.lead), and so does every
 * operation the VM marks (pop.check: every check_every bytes, and every
 * wave of a block after its first):
 *   V1       the backups' digests (hash check) and the first challenges
 *   V1..V15  the boolean proofs of the three provers, all at once,
 *            and the ring proofs beside them
 *   V16      an all-clear from every party (before an OUTPUT block only)
 * and only then the output round, which carries the digest of the share the
 * receiver gets from the party that also holds it. No share of an output
 * leaves an honest party unless every check before passed at both others.
 *
 * Every message of every operation is checked (docs/protocols.md); REQS
 * (secret requantization parameters) is refused. */
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/net/net.h"
#include "runtime/proto/dzkp_arith.h"
#include "runtime/proto/dzkp_bool.h"
#include "runtime/proto/jmp.h"
#include "runtime/proto/rep3_ops.h"

extern const protocol proto_rep3a;
static const rep3_mode active = {&proto_rep3a, 1, 1, 1, 1};

/* the steps an OUTPUT runs before rep3's: the proofs (the digests in the
 * first; proof B ends two steps before proof A), then the all-clear */
enum { V_ALLCLEAR = DZKA_STEPS, VERIFY_STEPS };
#define DIGEST 32

typedef struct {
    rep3 r; /* first: rep3_ops' functions take the state as a rep3 */
    struct dzkb *cur[3]; /* per prover: the batch being recorded, boolean */
    struct dzkb *ver[3]; /* the batch under verification */
    struct dzka *cura[3], *vera[3]; /* the same, arithmetic */
    /* M-1 (plan §10.2): a final-exchange value leaves only after this party
     * compared the digests (V1) and read V3 from both peers, by which time an
     * honest party's failed V1 has stopped it */
    int digests_ok, heard_v3;
    unsigned verifications; /* begun so far: at most REP3A_MAX_VERIFY */
} rep3a;

/* The run's soundness error is at most this many times one verification's
 * (3 (eps_A + eps_B) < 2^-52.9, docs/protocols.md): 2^-42.9 <= 2^-40. */
enum { REP3A_MAX_VERIFY = 1024 };
/* proofs_out runs both proofs' steps up to DZKA_STEPS */
_Static_assert((int)DZKB_STEPS <= (int)DZKA_STEPS, "proof B must end with proof A");

/* this party's position in prover i's proof, and party p's */
static dzk_pos pos_of(int p, int i) { return p == i ? DZK_PROVER : p == rss_next(i) ? DZK_NEXT : DZK_PREV; }

/* A new batch, with its own check keys K^mask_k, K^chal_k for the two
 * streams held (k = me, me+1): derived from the next words of S[k], so
 * exactly S[k]'s two holders know them, and fresh for every verification
 * (the draws' contexts do not name the batch: keys kept across batches
 * would repeat every challenge and mask, and a prover that saw one
 * verification's challenges could forge the next). */
static void batch_new(rep3a *a)
{
    rss *rs = &a->r.rs;
    int me = rs->me;
    uint8_t mask[3][16], chal[3][16];
    for (int k = me, t = 0; t < 2; t++, k = rss_next(k)) {
        word seed[2];
        rss_draw(rs, k, seed, 2);
        dzk_derive_keys(net_run_id(rs->nt), k, (const uint8_t *)seed, mask[k], chal[k]);
    }
    for (int i = 0; i < 3; i++) {
        dzk_keys k = {0};
        if (i == me)
            k = (dzk_keys){mask[me], mask[rss_next(me)], NULL};
        else if (i == rss_next(me)) /* prev of P_{me+1}: K^mask_{me+1}, K^chal_me */
            k = (dzk_keys){mask[i], NULL, chal[me]};
        else /* next of P_{me-1}: K^mask_me, K^chal_{me+1} */
            k = (dzk_keys){NULL, mask[me], chal[rss_next(me)]};
        if (!(a->cur[i] = dzkb_new(pos_of(me, i), i, &k, &DZKB_PARAMS)) ||
            !(a->cura[i] = dzka_new(pos_of(me, i), i, &k, &DZKA_PARAMS)))
            abort(); /* out of memory: fatal, as proto_alloc */
        a->r.rs.pb[i] = a->cur[i];
        a->r.rs.pa[i] = a->cura[i];
    }
}

static void batches_free(struct dzkb *b[3], struct dzka *z[3])
{
    for (int i = 0; i < 3; i++) {
        dzkb_free(b[i]);
        dzka_free(z[i]);
        b[i] = NULL, z[i] = NULL;
    }
}

static void destroy(void *ps)
{
    rep3a *a = ps;
    batches_free(a->cur, a->cura);
    batches_free(a->ver, a->vera);
    rep3_destroy(ps);
}

static void *create(const proto_env *env, char *err, size_t errlen)
{
    rep3a *a = rep3_new(env, &active, sizeof(rep3a), err, errlen);
    if (!a)
        return NULL;
    rss *rs = &a->r.rs;
    if (!(rs->j = jmp_new(env->party, net_run_id(env->net)))) {
        rep3_destroy(a);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    batch_new(a);
    return a;
}

/* The verification runs before every OUTPUT block's outputs (the other
 * OUTPUTs of the block wait its steps) and before the operations the VM
 * marked (pop.check: check_every), which keeps the batches, and the
 * memory they take, bounded. */
/* A verification inside the program (pop.check, a mark) has no all-clear:
 * no output follows it, and an honest party that failed it is missing from
 * the next verification's first round, where the other honest party stops.
 * Nothing waits for it either, so it runs beside the marked operation's own
 * steps (steps V1.. and 0.. in the same rounds), whose statements go into
 * the next batch as those of the block's other operations do. An OUTPUT
 * block's verification comes first: its shares leave only after it. */
static int marked(const pop *op) { return op->check && op->kind != PK_OUTPUT; }
static int vsteps(const pop *op) { return op->kind == PK_OUTPUT ? VERIFY_STEPS : 0; }
static int verifies(const pop *op) { return op->kind == PK_OUTPUT ? op->lead : op->check; }

static int steps(const pop *op)
{
    int s = rep3_steps(&active, op) + vsteps(op);
    return marked(op) && s < V_ALLCLEAR ? V_ALLCLEAR : s;
}

/* The output link rc+1 -> rc carries x_{rc+2}, which party rc+2 holds as its
 * first word: the digest it sends lets rc check what arrived. */
static void out_digest(const pop *op, int receiver, const word *shares, uint8_t h[DIGEST])
{
    word *x = proto_alloc(op->n * sizeof(word));
    for (size_t i = 0; i < op->n; i++)
        x[i] = receiver ? (word)op->out[i] - op->a[2 * i] - op->a[2 * i + 1] : shares[2 * i];
    SHA256((const uint8_t *)x, op->n * sizeof(word), h);
    free(x);
}

/* ---- the verification, run by the lead OUTPUT ---- */

/* a step's messages from party `from` to `to` in prover i's proofs: B's, then A's */
static size_t len_b(int step, int from, int to, int i)
{
    return step <= DZKB_STEPS ? dzkb_len(step, pos_of(from, i), pos_of(to, i)) : 0;
}
static size_t len_a(int step, int from, int to, int i) { return dzka_len(step, pos_of(from, i), pos_of(to, i)); }
static size_t proof_len(int step, int from, int to, int i) { return len_b(step, from, to, i) + len_a(step, from, to, i); }

/* V1: the batch recorded so far is closed (a new one takes what follows) */
static int close_batch(rep3a *a, char *err, size_t errlen)
{
    char why[256];
    for (int i = 0; i < 3; i++) {
        a->ver[i] = a->cur[i], a->vera[i] = a->cura[i];
        if (dzkb_close(a->ver[i], why, sizeof why) != 0 || dzka_close(a->vera[i], why, sizeof why) != 0) {
            snprintf(err, errlen, "rep3-active: %s", why);
            return -1;
        }
    }
    batch_new(a);
    a->digests_ok = a->heard_v3 = 0;
    return 0;
}

static void proofs_out(rep3a *a, int step)
{
    int me = a->r.rs.me;
    net *nt = a->r.rs.nt;
    if ((step == DZKB_STEPS || step == DZKA_STEPS) && !(a->digests_ok && a->heard_v3))
        abort(); /* a bug: the schedule puts V1's check and V3 before the exchanges */
    for (int i = 0; i < 3; i++)
        for (int p = 0; p < 3; p++) {
            if (p == me)
                continue;
            size_t ob = len_b(step, me, p, i), oa = len_a(step, me, p, i), in = proof_len(step, p, me, i);
            uint8_t *buf = ob + oa ? net_out(nt, p, ob + oa) : NULL;
            if (ob) {
                dzkb_out(a->ver[i], step, pos_of(p, i), buf);
                buf[0] ^= (uint8_t)net_cheat(nt, "proof-bool");
            }
            dzka_out(a->vera[i], step, pos_of(p, i), oa ? buf + ob : NULL); /* at V1 too: it derives sigma_1 */
            if (oa)
                buf[ob] ^= (uint8_t)net_cheat(nt, "proof-arith");
            if (in)
                net_expect(nt, p, in);
        }
}

static int proofs_in(rep3a *a, int step, char *err, size_t errlen)
{
    int me = a->r.rs.me;
    net *nt = a->r.rs.nt;
    char why[256];
    for (int i = 0; i < 3; i++)
        for (int p = 0; p < 3; p++) {
            size_t ib = p == me ? 0 : len_b(step, p, me, i), ia = p == me ? 0 : len_a(step, p, me, i);
            const uint8_t *buf = ib + ia ? net_in(nt, p, ib + ia) : NULL;
            dzk_pos from = pos_of(p, i);
            if ((ib && dzkb_in(a->ver[i], step, from, buf, ib, why, sizeof why) != 0) ||
                (step == 1 && i == me && p != me && dzka_sigma1(a->vera[i], from, buf, ib, why, sizeof why) != 0) ||
                (ia && dzka_in(a->vera[i], step, from, buf + ib, ia, why, sizeof why) != 0)) {
                snprintf(err, errlen, "rep3-active: %s", why);
                return -1;
            }
        }
    a->heard_v3 |= step == 3;
    if (step == DZKA_STEPS)
        batches_free(a->ver, a->vera);
    return 0;
}

static int verify_prepare(rep3a *a, int step, char *err, size_t errlen)
{
    net *nt = a->r.rs.nt;
    int me = a->r.rs.me;
    if (step == V_ALLCLEAR) {
        for (int p = 0; p < 3; p++)
            if (p != me) {
                *net_out(nt, p, 1) = net_cheat(nt, "all-clear") ? 0 : 1;
                net_expect(nt, p, 1);
            }
        return 0;
    }
    if (step == 0) {
        if (++a->verifications > REP3A_MAX_VERIFY) {
            snprintf(err, errlen, "rep3-active: more than %d verifications in one run, beyond which its soundness "
                     "bound of 2^-40 does not hold; split the program into several runs", REP3A_MAX_VERIFY);
            return -1;
        }
        if (close_batch(a, err, errlen) != 0)
            return -1;
        jmp_send(a->r.rs.j, nt);
    }
    proofs_out(a, step + 1);
    return 0;
}

static int verify_finish(rep3a *a, int step, char *err, size_t errlen)
{
    net *nt = a->r.rs.nt;
    int me = a->r.rs.me;
    if (step == V_ALLCLEAR) {
        for (int p = 0; p < 3; p++)
            if (p != me && *net_in(nt, p, 1) != 1) {
                snprintf(err, errlen, "rep3-active: party %d's all-clear is malformed", p);
                return -1;
            }
        return 0;
    }
    /* M-1: the digests are compared before any proof message is read, so an
     * inconsistency a cheater caused stops everyone before a final exchange */
    if (step == 0 && jmp_check(a->r.rs.j, nt, err, errlen) != 0)
        return -1;
    a->digests_ok |= step == 0;
    return proofs_in(a, step + 1, err, errlen);
}

/* ---- the interface ---- */

/* The owner's values must lie in the range the protocol's bounds assume
 * (proto_input_range: int32 inputs in 31 bits); it refuses before sharing. */
static int input_in_range(const rep3a *a, const pop *op, char *err, size_t errlen)
{
    int64_t lo = op->lo;
    uint32_t bits = op->bound;
    proto_input_range(&lo, &bits);
    for (size_t i = 0; a->r.rs.me == op->owner && i < op->n; i++)
        if (op->in[i] < lo || (op->in[i] - lo) >> bits) {
            snprintf(err, errlen, "rep3-active: input value %lld at index %zu is outside [%lld, %lld], the range the "
                     "protocol's bounds assume", (long long)op->in[i], i, (long long)lo,
                     (long long)(lo + ((int64_t)1 << bits) - 1));
            return -1;
        }
    return 0;
}

static int prepare(void *ps, pop *op, int step, char *err, size_t errlen)
{
    rep3a *a = ps;
    net *nt = a->r.rs.nt;
    int me = a->r.rs.me, rc = op->owner % 3;
    if (marked(op) && step < V_ALLCLEAR) {
        a->r.comm = 1;
        if (verify_prepare(a, step, err, errlen) != 0)
            return -1;
    }
    if (step < vsteps(op)) {
        a->r.comm = 1;
        return verifies(op) ? verify_prepare(a, step, err, errlen) : 0;
    }
    step -= vsteps(op);
    if (step >= rep3_steps(&active, op)) /* a mark's verification goes on alone */
        return 0;
    if (op->kind == PK_INPUT && input_in_range(a, op, err, errlen) != 0)
        return -1;
    if (op->kind == PK_REQS) { /* its parameters' ranges and exact dealing are not proven */
        snprintf(err, errlen, "rep3-active: secret requantization parameters (REQS, qnnc --secret-params) are not "
                 "supported; compile with public parameters");
        return -1;
    }
    if (op->kind != PK_OUTPUT)
        return rep3_prepare(ps, op, step, err, errlen);
    a->r.comm = 1;
    if (me == rss_prev(rc)) {
        uint8_t *h = net_out(nt, rc, DIGEST);
        out_digest(op, 0, op->a, h);
        h[0] ^= (uint8_t)net_cheat(nt, "bad-digest");
    } else if (me == rc) {
        net_expect(nt, rss_prev(rc), DIGEST);
    }
    return rep3_prepare(ps, op, step, err, errlen);
}

static int finish(void *ps, pop *op, int step, char *err, size_t errlen)
{
    rep3a *a = ps;
    int me = a->r.rs.me, rc = op->owner % 3;
    if (marked(op) && step < V_ALLCLEAR && verify_finish(a, step, err, errlen) != 0)
        return -1;
    if (step < vsteps(op))
        return verifies(op) ? verify_finish(a, step, err, errlen) : 0;
    step -= vsteps(op);
    if (step >= rep3_steps(&active, op))
        return 0;
    if (op->kind != PK_OUTPUT)
        return rep3_finish(ps, op, step, err, errlen);
    if (rep3_finish(ps, op, step, err, errlen) != 0)
        return -1;
    if (me != rc)
        return 0;
    uint8_t h[DIGEST];
    out_digest(op, 1, NULL, h);
    if (memcmp(h, net_in(a->r.rs.nt, rss_prev(rc), DIGEST), DIGEST) != 0) {
        snprintf(err, errlen, "rep3-active: party %d's output share differs from backup party %d's", rss_next(rc),
                 rss_prev(rc));
        return -1;
    }
    return 0;
}

/* the verification's bytes from party k: digests, proofs, all-clear (before an output) */
static uint64_t verify_bytes(const pop *op, int k)
{
    uint64_t b = JMP_BYTES + (op->kind == PK_OUTPUT ? 2 : 0);
    for (int step = 1; step <= DZKA_STEPS; step++)
        for (int i = 0; i < 3; i++)
            for (int p = 0; p < 3; p++)
                b += p == k ? 0 : proof_len(step, k, p, i);
    return b;
}

static void cost(const pop *op, int nparties, proto_cost *acc)
{
    (void)nparties;
    rep3_cost(&active, op, acc);
    acc->rounds += (uint64_t)vsteps(op);
    if (marked(op) && acc->rounds < V_ALLCLEAR)
        acc->rounds = V_ALLCLEAR;
    for (int k = 0; k < 3 && verifies(op); k++)
        acc->bytes[k] += verify_bytes(op, k);
    if (op->kind == PK_OUTPUT)
        acc->bytes[(op->owner + 2) % 3] += DIGEST;
}

const protocol proto_rep3a = {
    .name = "rep3-active",
    .security = "active with abort, honest majority: replicated sharing over Z_2^64, 3 parties; messages a "
                "second party can recompute hash-checked, the others proven by distributed ZK proofs (soundness "
                "error at most 2^-40 a run); secret parameters (REQS) refused",
    REP3_ENTRIES,
    .create = create,
    .destroy = destroy,
    .steps = steps,
    .prepare = prepare,
    .finish = finish,
    .cost = cost,
    .proven_bounds = 1,
    .check_every = 15 << 20,
    /* a block's large REQCLAMPs (802K values at MobileNet V1 1.0_224, about
     * 600 bytes a value of temporaries and statements until verified) in
     * waves, each verified at the next: 1.0_224 peaks at 408 MB a party,
     * not 729, for 120 more rounds (760) */
    .wave_elems = (size_t)1 << 18,
    .inputs_whole = 1,
    .split_roles = 3 << 10, /* below, a slice's fixed costs outweigh the balance */
};
