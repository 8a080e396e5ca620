/* run: the `qnnvm run` command (see run.h). */
#define _POSIX_C_SOURCE 200809L
#include "vm/run.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include "runtime/net/certs.h"
#include "runtime/core/kernels.h"
#include "runtime/net/net.h"
#include "runtime/io/tensorio.h"
#include "vm/bounds.h"
#include "vm/bytecode.h"
#include "vm/cost.h"
#include "vm/vm.h"

#define MAX_INPUTS 256

/* Where a process's progress goes: its own updating line (stderr is a
 * terminal), plain lines (--progress into a file or pipe: logs keep every
 * update), or the parent of --local, which owns the terminal and draws every
 * process's line (a child sends each line, marked, on its stderr: the
 * parent reads that as a pipe, so the child's messages and its progress
 * keep their order). */
typedef enum { PROG_OFF, PROG_TTY, PROG_LINES, PROG_PARENT } prog_mode;

typedef struct {
    const char *file, *protocol, *hosts, *certs, *outpath, *dump;
    const char *inputs[MAX_INPUTS];
    int ninputs, party, nparties, local, insecure, quiet, json, threads;
    int progress;     /* --progress: shown even where it would not be by default */
    prog_mode pmode;  /* this process's */
    double timeout;
} run_opts;

typedef struct {
    int party, dealer;
    double wall_s, setup_s; /* setup: the protocol's set-up, before any input is used */
    uint64_t bytes_sent, rounds, predicted_bytes, predicted_rounds, setup_bytes, setup_rounds;
    /* input-independent: the set-up and what the protocol makes without the
     * inputs during the run (pre_stats: hemi's OT extension) */
    int has_pre;
    double pre_s;
    uint64_t pre_bytes, predicted_pre_bytes;
    long peak_rss_kb;
} summary;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ----------------------------------------------------------- progress */

#define PROG_MARK '\035'   /* starts a line meant for the parent's display */
#define PROG_INTERVAL 0.1  /* seconds between updates: drawing must not slow a fast run */
#define PROG_LINE 160

typedef struct {
    prog_mode mode;
    char who[16];               /* "party 1", "dealer"; "" in clear */
    const net *nt;              /* NULL in clear: no rounds, no bytes */
    int dealer;
    uint64_t total_rounds, total_bytes; /* the cost model's, for the share done */
    double t0, last;
    int shown;                  /* PROG_TTY: a line is on screen */
} progress;

static int term_width(void)
{
    struct winsize ws;
    return ioctl(2, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 1 ? ws.ws_col : 80;
}

static const char *fmt_bytes(uint64_t b, char *s, size_t cap)
{
    static const char prefix[] = "kMGTPE";
    double v = (double)b;
    int u = -1;
    while (v >= 1000 && u < 5) {
        v /= 1000;
        u++;
    }
    if (u < 0)
        snprintf(s, cap, "%llu B", (unsigned long long)b);
    else
        snprintf(s, cap, "%.1f %cB", v, prefix[u]);
    return s;
}

static int percent(uint64_t done, uint64_t total)
{
    return !total || done >= total ? 100 : (int)(100 * done / total);
}

/* One process's line: its share of the predicted rounds (the dealer: of
 * its predicted bytes), bytes sent, elapsed time, then where it is (what,
 * the first to go when a narrow terminal cuts the line). */
static void progress_text(const progress *pg, const char *what, char *line, size_t cap)
{
    uint64_t sent = pg->nt ? net_bytes_sent(pg->nt) : 0, rounds = pg->nt ? net_rounds(pg->nt) : 0;
    char a[32], b[32];
    int k = snprintf(line, cap, "%s%s", pg->who, pg->who[0] ? "  " : "");
    if (pg->dealer)
        k += snprintf(line + k, cap - (size_t)k, "streamed %s of %s (%d%%)  ", fmt_bytes(sent, a, sizeof a),
                      fmt_bytes(pg->total_bytes, b, sizeof b), percent(sent, pg->total_bytes));
    else if (pg->nt)
        k += snprintf(line + k, cap - (size_t)k, "rounds %llu/%llu (%d%%)  %s sent  ", (unsigned long long)rounds,
                      (unsigned long long)pg->total_rounds, percent(rounds, pg->total_rounds),
                      fmt_bytes(sent, a, sizeof a));
    snprintf(line + k, cap - (size_t)k, "%.1f s%s%s", now() - pg->t0, what ? "  " : "", what ? what : "");
}

static void progress_show(progress *pg, const char *what, int force)
{
    double t = now();
    if (pg->mode == PROG_OFF || (!force && t - pg->last < PROG_INTERVAL))
        return;
    pg->last = t;
    char line[PROG_LINE];
    progress_text(pg, what, line, sizeof line);
    if (pg->mode == PROG_TTY) { /* cut to the width: a wrapped line would not be erased by \r */
        fprintf(stderr, "\r\033[2K%.*s", term_width() - 1, line);
        pg->shown = 1;
    } else if (pg->mode == PROG_LINES)
        fprintf(stderr, "%s\n", line);
    else
        fprintf(stderr, "%c%s\n", PROG_MARK, line);
}

/* Before a message on stderr: it must not land on the updating line. */
static void progress_clear(progress *pg)
{
    if (pg->shown)
        fputs("\r\033[2K", stderr);
    pg->shown = 0;
}

/* The run is over: a terminal's line goes (the summary follows), a log
 * gets the final figures. */
static void progress_done(progress *pg)
{
    if (pg->mode == PROG_TTY)
        progress_clear(pg);
    else
        progress_show(pg, "done", 1);
}

/* ------------------------------------------------------------- layers */

typedef struct {
    const char *dump_dir;
    progress *pg;
    const qbc_layer *layers;
    uint32_t nlayers, done;
    int failed;
} run_ui;

/* Names the layer running now, the one after those done. */
static void show_layer(run_ui *ui, int force)
{
    char what[96];
    if (ui->done < ui->nlayers)
        snprintf(what, sizeof what, "layer %u/%u %.40s", ui->done + 1, ui->nlayers, ui->layers[ui->done].name);
    else
        snprintf(what, sizeof what, "outputs");
    progress_show(ui->pg, what, force);
}

static void on_layer(void *ud, const qbc_layer *l, const word *data, int sw)
{
    run_ui *ui = ud;
    ui->done++;
    show_layer(ui, 0);
    if (!ui->dump_dir || ui->failed)
        return;
    uint64_t n = shape_elems(&l->shape);
    int64_t *v = malloc(n * sizeof *v);
    char path[4096], err[512];
    snprintf(path, sizeof path, "%s/%03u_%s.bin", ui->dump_dir, ui->done - 1, l->name);
    for (char *c = path + strlen(ui->dump_dir) + 1; *c; c++)
        if (*c == '/')
            *c = '_';
    if (!v) {
        ui->failed = 1;
        return;
    }
    for (uint64_t i = 0; i < n; i++)
        v[i] = (int64_t)data[i * (uint64_t)sw];
    if (tio_write_raw(path, l->dtype, v, n, err, sizeof err) != 0) {
        progress_clear(ui->pg);
        fprintf(stderr, "qnnvm: %s\n", err);
        ui->failed = 1;
    }
    free(v);
}

/* -------------------------------------------------------------- inputs */

static int party_of(const qbc_program *p, const char *s, size_t len)
{
    for (uint32_t i = 0; i < p->nparties; i++)
        if (strlen(p->party_names[i]) == len && strncmp(p->party_names[i], s, len) == 0)
            return (int)i;
    char *end;
    long v = strtol(s, &end, 10);
    if (end == s + len && len > 0 && v >= 0 && v < (long)p->nparties)
        return (int)v;
    return -1;
}

/* Reads one --input [PARTY:]FILE into the party's input slots; only inputs
 * of `only` are accepted when only >= 0. */
static int read_input(const qbc_program *p, const char *spec, int only, int64_t **vals)
{
    const char *colon = strchr(spec, ':');
    char err[512];
    int party = colon ? party_of(p, spec, (size_t)(colon - spec)) : -1;
    const char *path = party >= 0 ? colon + 1 : spec;
    if (party < 0)
        party = only;
    if (party < 0 || (only >= 0 && party != only)) {
        fprintf(stderr, "qnnvm: --input %s: expected PARTY:FILE with PARTY one of the program's "
                        "parties (a name or 0..%u)%s\n",
                spec, p->nparties - 1, only >= 0 ? ", and this party's own input" : "");
        return -1;
    }
    size_t pl = strlen(path);
    if (pl >= 3 && strcmp(path + pl - 3, ".qw") == 0) {
        tio_tensor *t;
        int n, found = 0;
        if (tio_read_qw(path, &t, &n, err, sizeof err) != 0) {
            fprintf(stderr, "qnnvm: %s\n", err);
            return -1;
        }
        for (uint32_t s = 0; s < p->ninputs; s++) {
            const qbc_input *in = &p->inputs[s];
            if (in->party != party)
                continue;
            int k = 0;
            while (k < n && strcmp(t[k].name, in->name) != 0)
                k++;
            if (k == n) {
                fprintf(stderr, "qnnvm: %s: no tensor '%s' (an input of party %s)\n", path,
                        in->name, p->party_names[party]);
                tio_free(t, n);
                return -1;
            }
            uint64_t ne = shape_elems(&in->shape);
            if (t[k].dtype != in->dtype || tshape_elems(&t[k].shape, TIO_MAX_ELEMS) != ne) {
                char a[64], b[64];
                fprintf(stderr, "qnnvm: %s: tensor '%s' is %s[%s], the program needs %s[%s]\n",
                        path, in->name, dtype_names[t[k].dtype], tshape_str(&t[k].shape, a, 64),
                        dtype_names[in->dtype], tshape_str(&in->shape, b, 64));
                tio_free(t, n);
                return -1;
            }
            free(vals[s]);
            vals[s] = t[k].data;
            t[k].data = NULL;
            found++;
        }
        tio_free(t, n);
        if (!found) {
            fprintf(stderr, "qnnvm: %s: party %s provides no input\n", path, p->party_names[party]);
            return -1;
        }
        return 0;
    }
    for (uint32_t s = 0; s < p->ninputs; s++) {
        const qbc_input *in = &p->inputs[s];
        if (in->party != party || vals[s])
            continue;
        uint64_t ne = shape_elems(&in->shape);
        vals[s] = malloc(ne * sizeof(int64_t));
        if (!vals[s] || tio_read_values(path, in->dtype, ne, vals[s], err, sizeof err) != 0) {
            fprintf(stderr, "qnnvm: %s (input '%s')\n", vals[s] ? err : "out of memory", in->name);
            return -1;
        }
        return 0;
    }
    fprintf(stderr, "qnnvm: --input %s: party %s has no further input to fill\n", spec,
            p->party_names[party]);
    return -1;
}

/* ------------------------------------------------------------- outputs */

static void print_output(FILE *f, const qbc_program *p, const qbc_output *o, const int64_t *v,
                         uint64_t n)
{
    char sh[64];
    float scale = o->kind == OUT_SOFTMAX ? 1.0f / 256 : o->scale;
    int32_t zp = o->kind == OUT_SOFTMAX ? (o->dtype == DT_I8 ? -128 : 0) : o->zp;
    qbc_shape one = {1, {1}};
    fprintf(f, "output %s (%s %s[%s]) to %s:", o->name, out_kind_names[o->kind],
            dtype_names[o->dtype], tshape_str(o->kind == OUT_ARGMAX ? &one : &o->shape, sh, sizeof sh),
            p->party_names[o->party]);
    for (uint64_t i = 0; i < n; i++)
        if (o->kind == OUT_DEQUANT)
            fprintf(f, " %.9g", (double)vm_dequantize(o, v[i]));
        else
            fprintf(f, " %lld", (long long)v[i]);
    fputc('\n', f);
    if (o->kind == OUT_ARGMAX || n < 2)
        return;
    fprintf(f, "top:");
    char *used = calloc(n, 1);
    for (int k = 0; used && k < 5 && (uint64_t)k < n; k++) {
        uint64_t best = 0;
        while (used[best])
            best++;
        for (uint64_t i = best; i < n; i++)
            if (!used[i] && v[i] > v[best])
                best = i;
        used[best] = 1;
        if (scale > 0.0f)
            fprintf(f, " %llu (%.4f)", (unsigned long long)best, (double)scale * (double)(v[best] - zp));
        else /* the quantization is the model owner's secret: the quantized value */
            fprintf(f, " %llu (q %lld)", (unsigned long long)best, (long long)v[best]);
    }
    free(used);
    fputc('\n', f);
}

static uint64_t out_len(const qbc_output *o) { return o->kind == OUT_ARGMAX ? 1 : shape_elems(&o->shape); }

/* bytes per value of an output as written: its dtype's, or float32's */
static uint64_t out_size(const qbc_output *o) { return o->kind == OUT_DEQUANT ? 4 : (uint64_t)dtype_size(o->dtype); }

/* The outputs this process received, concatenated in declaration order
 * (a dequantized one as little-endian float32). */
static int write_outputs(const qbc_program *p, int64_t **res, const char *path)
{
    uint64_t size = 0;
    for (uint32_t o = 0; o < p->noutputs; o++)
        if (res[o])
            size += out_len(&p->outputs[o]) * out_size(&p->outputs[o]);
    uint8_t *buf = malloc(size + 1), *q = buf;
    for (uint32_t o = 0; buf && o < p->noutputs; o++) {
        const qbc_output *out = &p->outputs[o];
        if (!res[o])
            continue;
        if (out->kind != OUT_DEQUANT)
            tio_encode(q, out->dtype, res[o], out_len(out));
        for (uint64_t i = 0; out->kind == OUT_DEQUANT && i < out_len(out); i++) {
            float f = vm_dequantize(out, res[o][i]);
            uint32_t u;
            memcpy(&u, &f, 4);
            for (int k = 0; k < 4; k++)
                q[4 * i + (uint64_t)k] = (uint8_t)(u >> (8 * k));
        }
        q += out_len(out) * out_size(out);
    }
    FILE *f = buf ? fopen(path, "wb") : NULL;
    int ok = f && fwrite(buf, 1, size, f) == size;
    if (f && fclose(f) != 0)
        ok = 0;
    free(buf);
    if (!ok)
        fprintf(stderr, "qnnvm: %s: cannot write: %s\n", path, strerror(errno));
    return ok ? 0 : -1;
}

/* ---------------------------------------------------------- one party */

static long peak_rss_kb(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

/* The cost model's figures for process me (me == n: the dealer, whose
 * traffic is its set-up and material), before the run: its progress is
 * measured against them. */
static void predict(const qbc_program *p, const protocol *pr, int me, int n, summary *sm)
{
    cost_report cr;
    if (cost_compute(p, pr, n, &cr) == 0) {
        sm->predicted_bytes = me == n ? cr.prep.bytes[n] : cr.total.bytes[me];
        sm->predicted_rounds = cr.total.rounds;
        sm->predicted_pre_bytes = me == n ? 0 : cr.total.pre[me];
        cost_free(&cr);
    }
    if (me == n) {
        proto_cost setup;
        memset(&setup, 0, sizeof setup);
        pr->setup_cost(n, &setup);
        sm->predicted_rounds = setup.rounds;
    }
    sm->has_pre = pr->pre_stats != NULL && me < n;
    sm->party = me;
    sm->dealer = me == n;
}

/* The set-up's share of them (nt NULL: clear, none). */
static void summarize_setup(const net *nt, double t0, summary *sm)
{
    sm->setup_s = now() - t0;
    sm->setup_bytes = nt ? net_bytes_sent(nt) : 0;
    sm->setup_rounds = nt ? net_rounds(nt) : 0;
}

/* A process's measured figures, beside predict's. */
static void summarize(const net *nt, double t0, summary *sm)
{
    sm->bytes_sent = nt ? net_bytes_sent(nt) : 0;
    sm->rounds = nt ? net_rounds(nt) : 0;
    sm->wall_s = now() - t0;
    sm->peak_rss_kb = peak_rss_kb();
}

typedef struct {
    const protocol *pr;
    void *ps;
    progress *pg;
} dealing;

static void deal_one(void *ud, const pop *op, int step)
{
    dealing *d = ud;
    d->pr->deal(d->ps, op, step);
    progress_show(d->pg, NULL, 0);
}

/* A failure of ours: the peers learn why (unless it was a peer's stop,
 * which they already know). */
static void stop_peers(net *nt, const char *err)
{
    if (!strstr(err, "stopped:"))
        net_abort(nt, err);
}

/* The dealer of a run of n parties: seeds, then every instruction's
 * material in execution order, then done. It never sees an input. */
static int run_dealer(progress *pg, const protocol *pr, int n, net_config *nc, qbc_program *p,
                      double t0, summary *sm)
{
    char err[512];
    int rc = -1;
    nc->me = n;
    nc->n = n + 1;
    nc->protocol = pr->name;
    net *nt = net_open(nc, err, sizeof err);
    void *ps = NULL;
    if (!nt) {
        fprintf(stderr, "qnnvm: dealer: %s\n", err);
        goto out;
    }
    proto_env env = {n, n, nt};
    if (!(ps = pr->create(&env, err, sizeof err))) {
        fprintf(stderr, "qnnvm: dealer: %s\n", err);
        stop_peers(nt, err);
        goto out;
    }
    summarize_setup(nt, t0, sm);
    pg->nt = nt;
    dealing d = {pr, ps, pg};
    vm_walk(p, pr, deal_one, &d);
    if (pr->deal_finish(ps, err, sizeof err) != 0) {
        progress_clear(pg);
        fprintf(stderr, "qnnvm: dealer: %s\n", err);
        stop_peers(nt, err);
        goto out;
    }
    progress_done(pg);
    summarize(nt, t0, sm);
    rc = 0;
out:
    if (ps)
        pr->destroy(ps);
    net_close(nt);
    qbc_free(p);
    return rc;
}

/* The session digest (in every hello beside the bytecode's hash): all
 * else the parties must agree on, bound under a domain-separation tag
 * with every field length-prefixed, so that no two sessions hash alike:
 * the wire format, the protocol and its parameters (its wave size,
 * inputs_whole, split_roles and check_every too), the party count, the
 * preprocessing source, the role rotations, the verification marks and
 * the filters' owners vm_assign_roles chose (from the cost model and the
 * trace, which a different build could change). */
static uint32_t cap32(uint64_t v) { return v > UINT32_MAX ? UINT32_MAX : (uint32_t)v; }

static void session_digest(const uint8_t program_hash[32], const qbc_program *p, const protocol *pr, int n,
                           uint8_t out[32])
{
    static const char tag[] = "qnn session digest v1";
    uint32_t f[] = {NET_WIRE_VERSION, (uint32_t)strlen(pr->name), (uint32_t)pr->share_words,
                    (uint32_t)pr->min_parties, (uint32_t)pr->max_parties, pr->round_overhead, pr->deal != NULL, (uint32_t)n,
                    (uint32_t)(n + (pr->deal != NULL)), p->rot ? p->ncode : 0,
                    cap32(proto_wave_elems(pr)), (uint32_t)pr->proven_bounds, pr->fit_bits,
                    (uint32_t)pr->inputs_whole, cap32(pr->split_roles), cap32(proto_check_every(pr))};
    uint8_t le[sizeof f];
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++)
        for (int b = 0; b < 4; b++)
            le[4 * i + (size_t)b] = (uint8_t)(f[i] >> (8 * b));
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    unsigned len = 0;
    if (!md || !EVP_DigestInit_ex(md, EVP_sha256(), NULL) || !EVP_DigestUpdate(md, tag, sizeof tag) ||
        !EVP_DigestUpdate(md, le, sizeof le) || !EVP_DigestUpdate(md, pr->name, strlen(pr->name)) ||
        !EVP_DigestUpdate(md, "prep=dealer", 11) || !EVP_DigestUpdate(md, program_hash, 32) ||
        (p->rot && !EVP_DigestUpdate(md, p->rot, p->ncode)) ||
        (p->check && !EVP_DigestUpdate(md, p->check, p->ncode)) ||
        (p->bfrom && !EVP_DigestUpdate(md, p->bfrom, p->ncode)) || !EVP_DigestFinal_ex(md, out, &len))
        abort(); /* the parties must agree: no silent fallback */
    EVP_MD_CTX_free(md);
}

/* Runs party `me` of `n` (n == 1: clear, all inputs here; me == n: the
 * dealer); outputs go to out. nc is NULL for clear. */
static int run_party(const run_opts *o, const protocol *pr, int me, int n, net_config *nc,
                     FILE *out, summary *sm)
{
    double t0 = now();
    char err[512];
    size_t len;
    uint8_t *bytes = tio_slurp(o->file, (size_t)1 << 31, &len, err, sizeof err);
    if (!bytes) {
        fprintf(stderr, "qnnvm: %s\n", err);
        return -1;
    }
    qbc_program p;
    if (qbc_load(bytes, len, &p, err, sizeof err) != 0) {
        fprintf(stderr, "qnnvm: %s: %s\n", o->file, err);
        free(bytes);
        return -1;
    }
    if ((pr->proven_bounds && vm_check_bounds(&p, err, sizeof err) != 0) ||
        (pr->fit_bits && vm_check_fit(&p, pr->fit_bits, NULL, err, sizeof err) != 0)) {
        fprintf(stderr, "qnnvm: %s: %s: %s\n", o->file, pr->name, err);
        qbc_free(&p);
        free(bytes);
        return -1;
    }
    vm_assign_roles(&p, pr, n == 1 ? 1 : n);
    predict(&p, pr, me, n, sm);
    progress pg = {o->pmode, "", NULL, me == n, sm->predicted_rounds, sm->predicted_bytes, t0, 0, 0};
    if (n > 1)
        snprintf(pg.who, sizeof pg.who, me == n ? "dealer" : "party %d", me);
    if (nc) {
        SHA256(bytes, len, nc->program_hash);
        session_digest(nc->program_hash, &p, pr, n, nc->session_hash);
    }
    free(bytes);
    if (n > 1 && p.nparties > (uint32_t)n) { /* the dealer too: it deals for every owner */
        fprintf(stderr, "qnnvm: %s has %u parties, the run only %d\n", o->file, p.nparties, n);
        qbc_free(&p);
        return -1;
    }
    if (me == n) /* the dealer: no inputs, no outputs */
        return run_dealer(&pg, pr, n, nc, &p, t0, sm);
    int rc = -1, only = n == 1 ? -1 : me;
    int64_t **vals = calloc(p.ninputs + 1, sizeof *vals);
    int64_t **rev = calloc(p.noutputs + 1, sizeof *rev), **res = calloc(p.noutputs + 1, sizeof *res);
    net *nt = NULL;
    void *ps = NULL;
    for (int i = 0; i < o->ninputs; i++) {
        const char *c = strchr(o->inputs[i], ':');
        int owner = c ? party_of(&p, o->inputs[i], (size_t)(c - o->inputs[i])) : -1;
        if (o->local && owner != me) /* --local hands every party the whole list */
            continue;
        if (read_input(&p, o->inputs[i], only, vals) != 0)
            goto out;
    }
    for (uint32_t s = 0; s < p.ninputs; s++)
        if (!vals[s] && (n == 1 || p.inputs[s].party == me)) {
            fprintf(stderr, "qnnvm: missing input '%s' of party %s (give --input %s:FILE)\n",
                    p.inputs[s].name, p.party_names[p.inputs[s].party],
                    p.party_names[p.inputs[s].party]);
            goto out;
        }
    for (uint32_t k = 0; k < p.noutputs; k++)
        if (n == 1 || p.outputs[k].party == me) {
            rev[k] = calloc(shape_elems(&p.outputs[k].shape), sizeof(int64_t));
            res[k] = calloc(shape_elems(&p.outputs[k].shape), sizeof(int64_t));
            if (!rev[k] || !res[k]) {
                fprintf(stderr, "qnnvm: out of memory\n");
                goto out;
            }
        }
    if (nc) {
        nc->me = me;
        nc->n = n + (pr->deal != NULL);
        nc->protocol = pr->name;
        if (!(nt = net_open(nc, err, sizeof err))) {
            fprintf(stderr, "qnnvm: party %d: %s\n", me, err);
            goto out;
        }
    }
    proto_env env = {me, n, nt};
    if (!(ps = pr->create(&env, err, sizeof err))) {
        fprintf(stderr, "qnnvm: party %d: %s\n", me, err);
        stop_peers(nt, err);
        goto out;
    }
    summarize_setup(nt, t0, sm);
    pg.nt = nt;
    run_ui ui = {o->dump, &pg, p.layers, p.nlayers, 0, 0};
    show_layer(&ui, 1);
    vm_config cfg = {&p, pr, ps, me, n, vals, rev, on_layer, &ui, 1};
    int vrc = vm_run(&cfg, err, sizeof err);
    if (vrc == 0 && !ui.failed)
        progress_done(&pg);
    else
        progress_clear(&pg);
    if (vrc != 0) {
        fprintf(stderr, "qnnvm: party %d: %s: %s\n", me, o->file, err);
        stop_peers(nt, err); /* the first to fail tells the others */
        goto out;
    }
    if (ui.failed)
        goto out;
    sm->pre_s = sm->setup_s, sm->pre_bytes = sm->setup_bytes;
    if (sm->has_pre) {
        uint64_t b;
        double s;
        pr->pre_stats(ps, &b, &s);
        sm->pre_s += s, sm->pre_bytes += b;
    }
    for (uint32_t k = 0; k < p.noutputs; k++)
        if (res[k]) {
            vm_finish_output(&p.outputs[k], rev[k], res[k], out_len(&p.outputs[k]));
            print_output(out, &p, &p.outputs[k], res[k], out_len(&p.outputs[k]));
        }
    int receives = 0;
    for (uint32_t k = 0; k < p.noutputs; k++)
        receives |= res[k] != NULL;
    if (o->outpath && receives && write_outputs(&p, res, o->outpath) != 0)
        goto out;
    summarize(nt, t0, sm);
    rc = 0;
out:
    if (ps)
        pr->destroy(ps);
    net_close(nt);
    for (uint32_t s = 0; s < p.ninputs; s++)
        free(vals[s]);
    for (uint32_t k = 0; k < p.noutputs; k++) {
        free(rev[k]);
        free(res[k]);
    }
    free(vals);
    free(rev);
    free(res);
    qbc_free(&p);
    return rc;
}

/* ------------------------------------------------------------- reports */

static void summary_json(FILE *f, const summary *s)
{
    fprintf(f, "{\"party\": %d, %s\"wall_s\": %.6f, \"bytes_sent\": %llu, \"rounds\": %llu, "
               "\"predicted_bytes_sent\": %llu, \"predicted_rounds\": %llu, \"peak_rss_kb\": %ld, "
               "\"setup_s\": %.6f, \"setup_bytes_sent\": %llu, \"setup_rounds\": %llu",
            s->party, s->dealer ? "\"dealer\": true, " : "", s->wall_s, (unsigned long long)s->bytes_sent, (unsigned long long)s->rounds,
            (unsigned long long)s->predicted_bytes, (unsigned long long)s->predicted_rounds,
            s->peak_rss_kb, s->setup_s, (unsigned long long)s->setup_bytes, (unsigned long long)s->setup_rounds);
    if (s->has_pre)
        fprintf(f, ", \"input_independent_s\": %.6f, \"input_independent_bytes_sent\": %llu, "
                   "\"predicted_input_independent_bytes_sent\": %llu",
                s->pre_s, (unsigned long long)s->pre_bytes, (unsigned long long)s->predicted_pre_bytes);
    fputc('}', f);
}

static void report(const run_opts *o, const protocol *pr, const summary *s, int n, double wall)
{
    if (o->json) { /* the dealer, if any, apart from the parties */
        printf("{\"protocol\": \"%s\", \"wall_s\": %.6f, \"parties\": [", pr->name, wall);
        for (int i = 0, first = 1; i < n; i++)
            if (!s[i].dealer) {
                printf(first ? "" : ", ");
                summary_json(stdout, &s[i]);
                first = 0;
            }
        printf("]");
        for (int i = 0; i < n; i++)
            if (s[i].dealer) {
                printf(", \"dealer\": ");
                summary_json(stdout, &s[i]);
            }
        printf("}\n");
        return;
    }
    if (o->quiet)
        return;
    for (int i = 0; i < n; i++) {
        printf("%s %d: %.3f s, %llu bytes sent (predicted %llu), %llu rounds (predicted %llu), "
               "peak %ld KB; of which the set-up %.3f s, %llu bytes, %llu rounds",
               s[i].dealer ? "dealer" : "party", s[i].party, s[i].wall_s, (unsigned long long)s[i].bytes_sent,
               (unsigned long long)s[i].predicted_bytes, (unsigned long long)s[i].rounds,
               (unsigned long long)s[i].predicted_rounds, s[i].peak_rss_kb, s[i].setup_s,
               (unsigned long long)s[i].setup_bytes, (unsigned long long)s[i].setup_rounds);
        if (s[i].has_pre)
            printf("; input-independent (set-up and OT extension) %.3f s, %llu bytes (predicted %llu)", s[i].pre_s,
                   (unsigned long long)s[i].pre_bytes, (unsigned long long)s[i].predicted_pre_bytes);
        putchar('\n');
    }
}

/* ------------------------------------------------------------- --local */

/* port, or 0 for any: the port bound on loopback, -1 if it would not bind */
static int bind_port(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0), got = -1;
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons((uint16_t)port);
    socklen_t l = sizeof a;
    if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &l) == 0)
        got = ntohs(a.sin_port);
    if (fd >= 0)
        close(fd);
    return got;
}

/* A loopback port free now, for a party to listen on. Random ports below
 * the usual ephemeral range (32768 and up) come first: a port that bind(0)
 * hands out is ephemeral, and any process's outgoing connection may take it
 * before the party listens ("Address already in use", seen when other runs
 * share the machine). Not one of the n ports taken already for this run:
 * random picks can repeat where bind(0)'s never do. */
static int free_port(const int *taken, int n)
{
    for (int tries = 0; tries < 64; tries++) {
        uint8_t r[2];
        if (RAND_bytes(r, sizeof r) != 1)
            break;
        int port = 10000 + (r[0] << 8 | r[1]) % 20000, dup = 0;
        for (int i = 0; i < n; i++)
            dup |= taken[i] == port;
        if (!dup && bind_port(port) > 0)
            return port;
    }
    return bind_port(0);
}

/* The parent's display of --local, one line per process. On a terminal
 * the lines are a block redrawn in place (cursor up, clear below) and a
 * child's message is printed above the block, where no redraw reaches it;
 * each redraw is one write, so the block does not flicker. Elsewhere
 * (--progress into a log) every update is one plain line. */
typedef struct {
    int ansi, procs, drawn, dirty;
    char line[NET_MAX_PARTIES][PROG_LINE];
    FILE *f; /* the frame being composed, NULL between redraws */
    char *frame;
    size_t flen;
} board;

/* The frame, begun by lifting the cursor over the block and clearing it. */
static FILE *board_frame(board *b)
{
    if (b->f)
        return b->f;
    if (!(b->f = open_memstream(&b->frame, &b->flen)))
        b->f = stderr; /* the same text, only written piecemeal */
    if (b->drawn)
        fprintf(b->f, "\033[%dA\033[J", b->drawn);
    b->drawn = 0;
    return b->f;
}

/* Writes the frame, ending with the block (lines) or without it. */
static void board_flush(board *b, int lines)
{
    if (!b->ansi || (!b->f && !b->dirty))
        return;
    FILE *f = board_frame(b);
    if (lines) {
        int w = term_width() - 1; /* a wrapped line would throw the cursor-up count off */
        for (int i = 0; i < b->procs; i++)
            fprintf(f, "%.*s\n", w, b->line[i]);
        b->drawn = b->procs;
    }
    if (f != stderr) {
        fclose(f);
        fwrite(b->frame, 1, b->flen, stderr);
        free(b->frame);
        b->frame = NULL;
    }
    b->f = NULL;
    b->dirty = 0;
}

static void board_message(board *b, const char *text, size_t len)
{
    fwrite(text, 1, len, b->ansi ? board_frame(b) : stderr);
    b->dirty = 1;
}

static void board_set(board *b, int i, const char *text)
{
    if (!b->ansi) {
        fprintf(stderr, "%s\n", text);
        return;
    }
    snprintf(b->line[i], sizeof b->line[i], "%s", text);
    b->dirty = 1;
}

/* A child of --local: its pid, and the read ends of its pipes (-1 once
 * closed): its report (the outputs' text, then RS and its summary struct),
 * and its stderr when the parent draws the progress. */
typedef struct {
    pid_t pid;
    int out, err;
    char *rep;
    size_t len, cap;
    int lost;      /* out of memory for the report */
    char msg[4096]; /* stderr's unfinished line */
    size_t mlen;
} child;

static void child_report(child *c)
{
    if (c->cap - c->len < 4096) {
        size_t cap = c->cap ? 2 * c->cap : 1 << 16;
        char *q = c->lost ? NULL : realloc(c->rep, cap);
        if (!q) { /* drained all the same, or the child would block on a full pipe */
            c->lost = 1;
            c->len = 0;
        } else {
            c->rep = q;
            c->cap = cap;
        }
    }
    char sink[4096];
    char *at = c->lost ? sink : c->rep + c->len;
    ssize_t r = read(c->out, at, c->lost ? sizeof sink : c->cap - c->len);
    if (r > 0 && !c->lost)
        c->len += (size_t)r;
    else if (r == 0 || (r < 0 && errno != EINTR)) {
        close(c->out);
        c->out = -1;
    }
}

/* Complete lines of a child's stderr: marked ones are its progress, the
 * rest its messages; at the end, or when a line outgrows the buffer, what
 * is left goes out as it is. */
static void child_stderr(board *b, int i, child *c)
{
    ssize_t r = read(c->err, c->msg + c->mlen, sizeof c->msg - c->mlen);
    if (r < 0 && errno == EINTR)
        return;
    int eof = r <= 0;
    if (eof) {
        close(c->err);
        c->err = -1;
    } else
        c->mlen += (size_t)r;
    size_t start = 0;
    char *nl;
    while ((nl = memchr(c->msg + start, '\n', c->mlen - start))) {
        size_t end = (size_t)(nl - c->msg);
        if (c->msg[start] == PROG_MARK) {
            *nl = 0;
            board_set(b, i, c->msg + start + 1);
        } else
            board_message(b, c->msg + start, end + 1 - start);
        start = end + 1;
    }
    if (start < c->mlen && (eof || (start == 0 && c->mlen == sizeof c->msg))) {
        board_message(b, c->msg + start, c->mlen - start);
        board_message(b, "\n", 1);
        start = c->mlen;
    }
    memmove(c->msg, c->msg + start, c->mlen - start);
    c->mlen -= start;
}

/* Reads every child's pipes at once until all are closed (one read at a
 * time would leave the others' pipes full and their writers blocked). */
static void gather(child *c, int procs, board *b)
{
    for (;;) {
        struct pollfd pf[2 * NET_MAX_PARTIES];
        int at[2 * NET_MAX_PARTIES], k = 0;
        for (int i = 0; i < procs; i++) {
            if (c[i].out >= 0) {
                pf[k] = (struct pollfd){c[i].out, POLLIN, 0};
                at[k++] = i;
            }
            if (c[i].err >= 0) {
                pf[k] = (struct pollfd){c[i].err, POLLIN, 0};
                at[k++] = i;
            }
        }
        if (!k)
            return;
        if (poll(pf, (nfds_t)k, -1) < 0) {
            if (errno == EINTR)
                continue;
            fprintf(stderr, "qnnvm: poll: %s\n", strerror(errno));
            for (int i = 0; i < procs; i++) { /* the children fail on their next write */
                if (c[i].out >= 0)
                    close(c[i].out);
                if (c[i].err >= 0)
                    close(c[i].err);
                c[i].out = c[i].err = -1;
                c[i].lost = 1;
            }
            return;
        }
        for (int j = 0; j < k; j++)
            if (pf[j].revents) {
                if (pf[j].fd == c[at[j]].out)
                    child_report(&c[at[j]]);
                else
                    child_stderr(b, at[j], &c[at[j]]);
            }
        board_flush(b, 1);
    }
}

static int run_local(const run_opts *o, const protocol *pr)
{
    int n = o->local, procs = n + (pr->deal != NULL); /* the dealer is process n */
    double t0 = now();
    net_config nc;
    memset(&nc, 0, sizeof nc);
    nc.timeout_s = o->timeout;
    nc.quiet = 1; /* throw-away certificates: their fingerprints mean nothing to anyone */
    char dir[] = "/tmp/qnn-local-XXXXXX", err[512];
    if (!o->insecure) {
        if (!mkdtemp(dir) || certs_make(dir, procs, err, sizeof err) != 0) {
            fprintf(stderr, "qnnvm: %s\n", !dir[0] ? strerror(errno) : err);
            return 1;
        }
        nc.certs = dir;
    }
    for (int i = 0; i < procs; i++) {
        strcpy(nc.host[i], "127.0.0.1");
        nc.port[i] = free_port(nc.port, i);
    }
    int shown = o->pmode != PROG_OFF;
    board b;
    memset(&b, 0, sizeof b);
    b.ansi = o->pmode == PROG_TTY;
    b.procs = procs;
    child c[NET_MAX_PARTIES];
    memset(c, 0, sizeof c);
    fflush(stdout);
    for (int i = 0; i < procs; i++) {
        int pfd[2], efd[2] = {-1, -1};
        if (pipe(pfd) != 0 || (shown && pipe(efd) != 0)) {
            fprintf(stderr, "qnnvm: pipe: %s\n", strerror(errno));
            return 1;
        }
        snprintf(b.line[i], sizeof b.line[i], i == n ? "dealer  connecting" : "party %d  connecting", i);
        c[i].pid = fork();
        if (c[i].pid < 0) {
            fprintf(stderr, "qnnvm: fork: %s\n", strerror(errno));
            return 1;
        }
        if (c[i].pid == 0) {
            close(pfd[0]);
            if (shown) { /* the parent owns the terminal: it shows what this child writes */
                close(efd[0]);
                dup2(efd[1], 2);
                close(efd[1]);
            }
            run_opts co = *o;
            co.pmode = shown ? PROG_PARENT : PROG_OFF;
            FILE *f = fdopen(pfd[1], "w");
            summary s;
            memset(&s, 0, sizeof s);
            int rc = run_party(&co, pr, i, n, &nc, f, &s);
            if (rc == 0) { /* the same binary reads it: the struct as it is */
                fputc('\036', f);
                fwrite(&s, sizeof s, 1, f);
            }
            fclose(f);
            _exit(rc == 0 ? 0 : 1);
        }
        close(pfd[1]);
        if (shown)
            close(efd[1]);
        c[i].out = pfd[0];
        c[i].err = efd[0];
    }
    b.dirty = 1;
    board_flush(&b, 1);
    gather(c, procs, &b);
    summary s[NET_MAX_PARTIES];
    int ok[NET_MAX_PARTIES], failed = 0;
    size_t tail = sizeof(summary) + 1;
    for (int i = 0; i < procs; i++) {
        int status = 0;
        waitpid(c[i].pid, &status, 0);
        ok[i] = WIFEXITED(status) && WEXITSTATUS(status) == 0 && !c[i].lost && c[i].len >= tail &&
                c[i].rep[c[i].len - tail] == '\036';
        if (!ok[i] && b.ansi) { /* the block stays: where each process stopped */
            size_t l = strlen(b.line[i]);
            snprintf(b.line[i] + l, sizeof b.line[i] - l, "  (failed)");
        }
        failed |= !ok[i];
    }
    b.dirty = 1;
    board_flush(&b, failed);
    for (int i = 0; i < procs; i++) {
        if (ok[i]) {
            memcpy(&s[i], c[i].rep + c[i].len - tail + 1, sizeof(summary));
            c[i].rep[c[i].len - tail] = 0;
            fputs(c[i].rep, stdout);
        }
        free(c[i].rep);
    }
    if (!o->insecure) {
        char path[4096];
        for (int i = 0; i < procs; i++) {
            snprintf(path, sizeof path, "%s/party%d.pem", dir, i);
            remove(path);
            snprintf(path, sizeof path, "%s/party%d.key", dir, i);
            remove(path);
        }
        snprintf(path, sizeof path, "%s/ca.pem", dir);
        remove(path);
        rmdir(dir);
    }
    if (failed) {
        fprintf(stderr, "qnnvm: the run failed (see the parties' messages above)\n");
        return 1;
    }
    report(o, pr, s, procs, now() - t0);
    return 0;
}

/* ------------------------------------------------------------- command */

static void die(const char *msg, const char *arg)
{
    fprintf(stderr, "qnnvm: run: %s%s\n", msg, arg ? arg : "");
    exit(1);
}

int run_command(int argc, char **argv)
{
    run_opts o;
    memset(&o, 0, sizeof o);
    o.protocol = "clear";
    o.party = -1;
    o.timeout = 60;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        int more = i + 1 < argc;
        if (!strcmp(a, "--protocol") && more)
            o.protocol = argv[++i];
        else if (!strcmp(a, "--input") && more) {
            if (o.ninputs == MAX_INPUTS)
                die("too many --input options", NULL);
            o.inputs[o.ninputs++] = argv[++i];
        } else if (!strcmp(a, "--output") && more)
            o.outpath = argv[++i];
        else if (!strcmp(a, "--dump-layers") && more)
            o.dump = argv[++i];
        else if (!strcmp(a, "--local") && more)
            o.local = atoi(argv[++i]);
        else if (!strcmp(a, "-p") && more)
            o.party = atoi(argv[++i]);
        else if (!strcmp(a, "-N") && more)
            o.nparties = atoi(argv[++i]);
        else if (!strcmp(a, "--hosts") && more)
            o.hosts = argv[++i];
        else if (!strcmp(a, "--certs") && more)
            o.certs = argv[++i];
        else if (!strcmp(a, "--timeout") && more)
            o.timeout = atof(argv[++i]);
        else if (!strcmp(a, "--prep") && more) {
            if (strcmp(argv[++i], "dealer") != 0)
                die("--prep: the only preprocessing source so far is 'dealer', not ", argv[i]);
        } else if (!strcmp(a, "--threads") && more)
            o.threads = atoi(argv[++i]);
        else if (!strcmp(a, "--insecure"))
            o.insecure = 1;
        else if (!strcmp(a, "--json"))
            o.json = 1;
        else if (!strcmp(a, "--quiet"))
            o.quiet = 1;
        else if (!strcmp(a, "--progress"))
            o.progress = 1;
        else if (a[0] == '-')
            die("unknown or incomplete option ", a);
        else if (!o.file)
            o.file = a;
        else
            die("more than one file: ", a);
    }
    if (!o.file)
        die("no bytecode file given", NULL);
    const protocol *pr = proto_find(o.protocol);
    if (!pr) {
        fprintf(stderr, "qnnvm: unknown protocol '%s' (available: %s)\n", o.protocol, proto_names());
        return 1;
    }
    if (!(o.timeout > 0))
        die("--timeout must be positive", NULL);
    if (o.threads < 0 || o.threads > 64)
        die("--threads takes 1 to 64", NULL);
    kern_set_threads(o.threads ? o.threads : 1);
    int n = o.local ? o.local : o.nparties ? o.nparties : 1;
    if (n < pr->min_parties || n > pr->max_parties) {
        fprintf(stderr, "qnnvm: protocol %s runs with %d to %d parties, not %d%s\n", pr->name,
                pr->min_parties, pr->max_parties, n,
                n == 1 ? " (use --local N, or -p I -N N --hosts FILE)" : "");
        return 1;
    }
    if (o.dump && pr != &proto_clear)
        die("--dump-layers works with --protocol clear only (parties hold shares)", NULL);
    if (o.dump && mkdir(o.dump, 0777) != 0 && errno != EEXIST)
        die("cannot create the --dump-layers directory ", o.dump);
    /* --quiet and --json leave stderr to errors, unless --progress insists */
    if (o.progress || (!o.quiet && !o.json && isatty(2)))
        o.pmode = isatty(2) ? PROG_TTY : PROG_LINES;
    if (o.local)
        return run_local(&o, pr);
    summary s;
    memset(&s, 0, sizeof s);
    double t0 = now();
    if (n == 1) {
        if (run_party(&o, pr, 0, 1, NULL, stdout, &s) != 0)
            return 1;
    } else {
        int procs = n + (pr->deal != NULL);
        if (o.party < 0 || o.party >= procs || !o.hosts)
            die("a networked party needs -p I, -N N and --hosts FILE (or use --local N); "
                "with a dealer, -p N runs the dealer", NULL);
        if (!o.certs == !o.insecure)
            die("give either --certs DIR (each party's own key from `qnnvm keygen`, every peer's "
                "certificate; see README) or --insecure for plain TCP on loopback", NULL);
        net_config nc;
        memset(&nc, 0, sizeof nc);
        nc.n = procs;
        nc.timeout_s = o.timeout;
        nc.certs = o.insecure ? NULL : o.certs;
        nc.quiet = o.quiet;
        char err[512];
        if (net_read_hosts(o.hosts, &nc, err, sizeof err) != 0) {
            fprintf(stderr, "qnnvm: %s\n", err);
            return 1;
        }
        if (run_party(&o, pr, o.party, n, &nc, stdout, &s) != 0)
            return 1;
    }
    fflush(stdout);
    report(&o, pr, &s, 1, now() - t0);
    return 0;
}
