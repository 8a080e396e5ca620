/* mpc: N parties of a protocol in threads over socketpairs (see mpc.h). */
#define _POSIX_C_SOURCE 200809L
#include "mpc.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "vm/cost.h"
#include "vm/vm.h"

/* Long enough for a sanitizer build on a loaded machine; a process that
 * fails tells the others (net_abort), so a failure never waits it out. */
#define MPC_TIMEOUT_S 60.0

int mpc_build(emitter *e, qbc_program *p, char *err, size_t errlen)
{
    qbc_program raw;
    em_finish(e, &raw);
    em_free(e);
    size_t len;
    uint8_t *bytes = qbc_write(&raw, &len);
    qbc_free(&raw);
    if (!bytes) {
        snprintf(err, errlen, "qbc_write failed");
        return -1;
    }
    int rc = qbc_load(bytes, len, p, err, errlen);
    free(bytes);
    return rc;
}

/* One process of a run: a party (me < n) or the dealer (me == n). */
typedef struct {
    const qbc_program *p;
    const protocol *pr;
    int me, n, procs;
    int fds[NET_MAX_PARTIES]; /* to every other process (procs > 1) */
    int64_t *const *inputs;   /* every slot's values; a party takes its own */
    int64_t **out;            /* every slot's room; a party fills its own */
    uint64_t bytes, rounds;
    int rc;
    char err[512];
    void *ps;                 /* the protocol's state, for the dealer's walk */
} process;

static void deal_one(void *ud, const pop *op, int step)
{
    process *pc = ud;
    pc->pr->deal(pc->ps, op, step);
}

/* A party's own slots: its inputs, and room for the outputs it receives
 * (with one process, all of them). */
static int party_run(process *pc)
{
    const qbc_program *p = pc->p;
    int64_t **in = calloc(p->ninputs + 1, sizeof *in), **out = calloc(p->noutputs + 1, sizeof *out);
    int rc = -1;
    if (!in || !out) {
        snprintf(pc->err, sizeof pc->err, "out of memory");
        goto done;
    }
    for (uint32_t s = 0; s < p->ninputs; s++)
        if (pc->procs == 1 || p->inputs[s].party == pc->me)
            in[s] = pc->inputs[s];
    for (uint32_t s = 0; s < p->noutputs; s++)
        if (pc->procs == 1 || p->outputs[s].party == pc->me)
            out[s] = pc->out[s];
    vm_config cfg = {p, pc->pr, pc->ps, pc->me, pc->n, in, out, NULL, NULL, 0};
    rc = vm_run(&cfg, pc->err, sizeof pc->err);
done:
    free(in);
    free(out);
    return rc;
}

static void *process_main(void *arg)
{
    process *pc = arg;
    net *nt = NULL;
    pc->rc = -1;
    if (pc->procs > 1) {
        net_config nc;
        memset(&nc, 0, sizeof nc);
        nc.me = pc->me;
        nc.n = pc->procs;
        nc.timeout_s = MPC_TIMEOUT_S;
        nc.protocol = pc->pr->name;
        nc.quiet = 1;
        if (!(nt = net_open_fds(&nc, pc->fds, pc->err, sizeof pc->err)))
            return NULL;
    }
    proto_env env = {pc->me, pc->n, nt};
    if (!(pc->ps = pc->pr->create(&env, pc->err, sizeof pc->err)))
        goto out;
    if (pc->me == pc->n) {
        vm_walk(pc->p, pc->pr, deal_one, pc);
        pc->rc = pc->pr->deal_finish(pc->ps, pc->err, sizeof pc->err);
    } else {
        pc->rc = party_run(pc);
    }
out:
    /* the first to fail tells the others (a peer's stop they know already) */
    if (pc->rc != 0 && nt && !strstr(pc->err, "stopped:"))
        net_abort(nt, pc->err);
    if (pc->ps)
        pc->pr->destroy(pc->ps);
    if (nt) {
        pc->bytes = net_bytes_sent(nt);
        pc->rounds = net_rounds(nt);
    }
    net_close(nt);
    return NULL;
}

/* A socketpair for every pair of processes: fds[j] of process i is its end
 * towards j. On failure every end made so far is closed. */
static int mesh(process *pcs, int procs, char *err, size_t errlen)
{
    for (int i = 0; i < procs; i++)
        for (int j = 0; j < procs; j++)
            pcs[i].fds[j] = -1;
    for (int i = 0; i < procs; i++)
        for (int j = i + 1; j < procs; j++) {
            int sv[2];
            if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) {
                snprintf(err, errlen, "socketpair failed");
                for (int a = 0; a < procs; a++)
                    for (int b = 0; b < procs; b++)
                        if (pcs[a].fds[b] >= 0)
                            close(pcs[a].fds[b]);
                return -1;
            }
            pcs[i].fds[j] = sv[0];
            pcs[j].fds[i] = sv[1];
        }
    return 0;
}

/* The cost model's figures for every process, as `qnnvm run` reports them:
 * a party's bytes and the rounds of the whole run; the dealer's material
 * and set-up bytes, and the set-up's rounds. */
static int predict(const qbc_program *p, const protocol *pr, int n, mpc_result *r)
{
    cost_report cr;
    if (cost_compute(p, pr, n, &cr) != 0)
        return -1;
    for (int i = 0; i < n; i++) {
        r->predicted_bytes[i] = cr.total.bytes[i];
        r->predicted_rounds[i] = cr.total.rounds;
    }
    if (r->procs > n) {
        proto_cost setup;
        memset(&setup, 0, sizeof setup);
        pr->setup_cost(n, &setup);
        r->predicted_bytes[n] = cr.prep.bytes[n];
        r->predicted_rounds[n] = setup.rounds;
    }
    cost_free(&cr);
    return 0;
}

int mpc_run(qbc_program *p, const protocol *pr, int nparties, int64_t *const *inputs, mpc_result *r,
            char *err, size_t errlen)
{
    memset(r, 0, sizeof *r);
    /* what qnnvm run refuses before any process starts (a protocol, or its
     * dealer, may rely on it); one process plays every party */
    if (nparties < pr->min_parties || nparties > pr->max_parties ||
        (nparties > 1 && p->nparties > (uint32_t)nparties)) {
        snprintf(err, errlen, "%s runs with %d to %d parties, the program has %u: not with %d", pr->name,
                 pr->min_parties, pr->max_parties, p->nparties, nparties);
        return -1;
    }
    r->procs = nparties + (pr->deal != NULL);
    r->out = calloc(p->noutputs + 1, sizeof *r->out);
    if (!r->out || r->procs > NET_MAX_PARTIES) {
        snprintf(err, errlen, "%s", r->out ? "too many parties" : "out of memory");
        return -1;
    }
    for (uint32_t s = 0; s < p->noutputs; s++)
        if (!(r->out[s] = calloc(shape_elems(&p->outputs[s].shape), sizeof(int64_t)))) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
    vm_assign_roles(p, pr, nparties);
    if (predict(p, pr, nparties, r) != 0) {
        snprintf(err, errlen, "the cost model failed");
        return -1;
    }
    process pcs[NET_MAX_PARTIES];
    memset(pcs, 0, sizeof pcs);
    for (int i = 0; i < r->procs; i++)
        pcs[i] = (process){.p = p, .pr = pr, .me = i, .n = nparties, .procs = r->procs, .inputs = inputs,
                           .out = r->out};
    if (r->procs == 1) {
        process_main(&pcs[0]);
    } else {
        pthread_t th[NET_MAX_PARTIES];
        if (mesh(pcs, r->procs, err, errlen) != 0)
            return -1;
        for (int i = 0; i < r->procs; i++)
            if (pthread_create(&th[i], NULL, process_main, &pcs[i]) != 0)
                abort(); /* its peers would wait for it: nothing sensible to go on with */
        for (int i = 0; i < r->procs; i++)
            pthread_join(th[i], NULL);
    }
    /* the cause: the first failure that is not a peer's stop, else the first */
    int first = -1;
    for (int i = 0; i < r->procs; i++) {
        r->bytes[i] = pcs[i].bytes;
        r->rounds[i] = pcs[i].rounds;
        int cause = pcs[i].rc != 0 && !strstr(pcs[i].err, "stopped:");
        if (pcs[i].rc != 0 && (first < 0 || (cause && strstr(pcs[first].err, "stopped:"))))
            first = i;
    }
    if (first >= 0)
        snprintf(err, errlen, "%s %d: %s", first == nparties ? "dealer" : "party", first, pcs[first].err);
    return first >= 0 ? -1 : 0;
}

void mpc_result_free(const qbc_program *p, mpc_result *r)
{
    for (uint32_t s = 0; r->out && s < p->noutputs; s++)
        free(r->out[s]);
    free(r->out);
    memset(r, 0, sizeof *r);
}
