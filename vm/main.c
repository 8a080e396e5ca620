/* qnnvm: runs and inspects qnn bytecode.
 *   qnnvm run [--protocol P] --input PARTY:FILE ... [--output FILE]
 *             [--dump-layers DIR] FILE.qbc
 *   qnnvm inspect [--protocol P] [--parties N] [--json] [--no-code] [--check-bounds] FILE.qbc
 *   qnnvm keygen -p I -o DIR */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "runtime/net/certs.h"
#include "runtime/io/tensorio.h"
#include "vm/bytecode.h"
#include "vm/cost.h"
#include "vm/bounds.h"
#include "vm/disasm.h"
#include "vm/run.h"
#include "vm/vm.h"

#define VERSION "0.1.0"

static const char usage[] =
    "usage: qnnvm run [options] FILE.qbc     evaluate a program\n"
    "       qnnvm inspect [options] FILE.qbc disassemble it and print its cost\n"
    "       qnnvm keygen -p I -o DIR         make party I's own key and certificate\n"
    "       qnnvm protocols [--json|--configs] the protocols: parties, security, domain,\n"
    "                                        preprocessing; --configs: NAME:N to test\n"
    "\n"
    "run options:\n"
    "  --protocol P         protocol (default clear; available: %s)\n"
    "  --input PARTY:FILE   a party's input: .qw (tensors by name), .npy or raw .bin\n"
    "                       (.npy/.bin fill the party's inputs in declaration order);\n"
    "                       with -p, --input FILE gives this party's input\n"
    "  --output FILE        also write the received outputs as raw bytes in their dtype\n"
    "  --dump-layers DIR    write every layer's output as raw bytes (clear only)\n"
    "  --local N            start N parties on loopback (free ports, fresh certificates)\n"
    "  -p I -N N --hosts F  run as party I of N; line i of F is host:port of party i\n"
    "                       (with a dealer, -p N runs the dealer)\n"
    "  --certs DIR          TLS 1.3: my DIR/party<I>.key and DIR/party<I>.pem (qnnvm\n"
    "                       keygen) and every peer's DIR/party<J>.pem, pinned: a peer\n"
    "                       must present exactly that certificate. With DIR/ca.pem\n"
    "                       instead, peers' certificates signed by that CA (one\n"
    "                       operator running every party: scripts/make-certs.sh)\n"
    "  --insecure           plain TCP instead, only when every host is on loopback\n"
    "  --timeout S          seconds to wait for peers (default 60)\n"
    "  --threads T          threads per party for the convolutions (default 1)\n"
    "  --prep dealer        preprocessing from a dealer process, for the protocols\n"
    "                       with preprocessing (qnnvm protocols; the default)\n"
    "  --json               the run summary as one JSON object on the last line\n"
    "  --quiet              print only the outputs\n"
    "  --progress           one line per party process on stderr: current layer, share\n"
    "                       of the predicted rounds, bytes sent, elapsed time. Shown by\n"
    "                       default when stderr is a terminal, unless --quiet or --json;\n"
    "                       --progress shows it regardless (as plain lines if stderr is\n"
    "                       not a terminal)\n"
    "inspect options:\n"
    "  --protocol P         cost under protocol P (default clear)\n"
    "  --parties N          number of parties (default: the protocol's minimum)\n"
    "  --json               one JSON object instead of the listing\n"
    "  --no-code            cost tables only\n"
    "  --check-bounds       first check that every bound the secure operations assume\n"
    "                       follows from the inputs' dtype ranges (vm/bounds.h); exit\n"
    "                       status 1 with the first one that does not\n"
    "keygen options (on party I's own machine; exchange the .pem files, compare\n"
    "the fingerprints with `openssl x509 -noout -fingerprint -sha256 -in F`):\n"
    "  -p I                 the party (its certificate names party<I>)\n"
    "  -o DIR               writes DIR/party<I>.key (0600, never overwritten) and\n"
    "                       DIR/party<I>.pem; prints the certificate's fingerprint\n"
    "  -h, --help           this text;  --version  the version\n";

static void die(const char *fmt, const char *a, const char *b)
{
    fprintf(stderr, "qnnvm: ");
    fprintf(stderr, fmt, a, b);
    fputc('\n', stderr);
    exit(1);
}

static int load(const char *path, qbc_program *p)
{
    char err[512];
    if (qbc_load_file(path, p, err, sizeof err) != 0) {
        fprintf(stderr, "qnnvm: %s\n", err);
        return -1;
    }
    return 0;
}

static const protocol *get_protocol(const char *name)
{
    const protocol *pr = proto_find(name);
    if (!pr)
        die("unknown protocol '%s' (available: %s)", name, proto_names());
    return pr;
}

/* ------------------------------------------------------------- inspect */

static void json_bytes(const uint64_t *b, int n)
{
    putchar('[');
    for (int i = 0; i < n; i++)
        printf("%s%llu", i ? ", " : "", (unsigned long long)b[i]);
    putchar(']');
}

/* The convolution triples a dealer prepares, by shape (X * W -> Y). */
typedef struct {
    int depthwise;
    uint32_t x[3], w[4], y[3];
    uint64_t count;
} triple_shape;

typedef struct {
    triple_shape *v;
    size_t n, cap;
} shape_list;

static void add_shape(void *ud, const pop *op, int step)
{
    shape_list *l = ud;
    if (step || (op->kind != PK_CONV2D && op->kind != PK_DWCONV2D))
        return;
    const geom *g = &op->g;
    int dw = op->kind == PK_DWCONV2D;
    triple_shape t = {dw, {g->h, g->w, g->c}, {dw ? g->kh : op->channels, dw ? g->kw : g->kh, dw ? g->c : g->kw,
                      dw ? op->channels : g->c}, {g->oh, g->ow, dw ? g->c * op->channels : op->channels}, 1};
    for (size_t i = 0; i < l->n; i++)
        if (l->v[i].depthwise == dw && !memcmp(l->v[i].x, t.x, sizeof t.x) && !memcmp(l->v[i].w, t.w, sizeof t.w) &&
            !memcmp(l->v[i].y, t.y, sizeof t.y)) {
            l->v[i].count++;
            return;
        }
    if (l->n == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 16;
        if (!(l->v = realloc(l->v, l->cap * sizeof *l->v)))
            die("out of memory%s%s", "", "");
    }
    l->v[l->n++] = t;
}

static void print_shapes(const shape_list *l, int json)
{
    for (size_t i = 0; i < l->n; i++) {
        const triple_shape *t = &l->v[i];
        const char *kind = t->depthwise ? "depthwise_conv2d" : "conv2d";
        if (json)
            printf("%s{\"op\": \"%s\", \"x\": [%u, %u, %u], \"w\": [%u, %u, %u, %u], \"y\": [%u, %u, %u], "
                   "\"count\": %llu}",
                   i ? ", " : "", kind, t->x[0], t->x[1], t->x[2], t->w[0], t->w[1], t->w[2], t->w[3], t->y[0],
                   t->y[1], t->y[2], (unsigned long long)t->count);
        else
            printf("  %-16s X %ux%ux%u * W %ux%ux%ux%u -> Y %ux%ux%u: %llu\n", kind, t->x[0], t->x[1], t->x[2],
                   t->w[0], t->w[1], t->w[2], t->w[3], t->y[0], t->y[1], t->y[2], (unsigned long long)t->count);
    }
}

static int kind_used(const cost_row *x, int k, int n)
{
    for (int i = 0; i < n; i++)
        if (x->kind[k][i])
            return 1;
    return 0;
}

/* "bytes_by_operation": {"KIND": [per party], ...} of the kinds that send */
static void json_kinds(const cost_row *x, int n)
{
    printf("\"bytes_by_operation\": {");
    for (int k = 0, first = 1; k < PROTO_NKINDS; k++)
        if (kind_used(x, k, n)) {
            printf("%s\"%s\": ", first ? "" : ", ", proto_kind_names[k]);
            json_bytes(x->kind[k], n);
            first = 0;
        }
    putchar('}');
}

/* what each kind of operation sends, and the rest (set-up, close, per-round
 * overhead), which sum to the total */
static void print_kinds(const cost_report *r, int n)
{
    const cost_row *t = &r->total;
    uint64_t rest[PROTO_MAX_PARTIES];
    memcpy(rest, t->bytes, sizeof rest);
    printf("bytes sent by kind of operation:\n");
    for (int k = 0; k < PROTO_NKINDS; k++) {
        if (!kind_used(t, k, n))
            continue;
        printf("  %-10s", proto_kind_names[k]);
        for (int i = 0; i < n; i++)
            printf(" p%d=%llu", i, (unsigned long long)t->kind[k][i]), rest[i] -= t->kind[k][i];
        putchar('\n');
    }
    printf("  %-10s", "other");
    for (int i = 0; i < n; i++)
        printf(" p%d=%llu", i, (unsigned long long)rest[i]);
    printf(" (set-up, close, per-round overhead)\n");
}

static void print_json(const qbc_program *p, const protocol *pr, int n, const cost_report *r,
                       const shape_list *sl)
{
    const cost_row *t = &r->total;
    printf("{\"protocol\": \"%s\", \"parties\": %d, \"rounds\": %llu, \"bytes_sent\": ", pr->name, n,
           (unsigned long long)t->rounds);
    json_bytes(t->bytes, n);
    printf(", \"blocks\": %llu, \"opened\": %llu, \"macs\": %llu, \"ops\": {",
           (unsigned long long)t->blocks, (unsigned long long)t->opened,
           (unsigned long long)t->macs);
    for (int c = 1; c < CC__COUNT; c++)
        printf("%s\"%s\": %llu", c > 1 ? ", " : "", cost_class_names[c],
               (unsigned long long)t->elems[c]);
    printf("}, \"rounding\": \"%s\", \"rounding_ops\": {\"exact\": %llu, \"fast\": %llu}",
           cost_rounding(r), (unsigned long long)r->exact, (unsigned long long)r->fast);
    printf(", \"preprocessing\": {\"triples\": %llu, \"dot_product_triples\": %llu, \"bits\": %llu, "
           "\"truncation_pairs\": %llu, \"dealer_bytes_sent\": %llu}",
           (unsigned long long)r->prep.triples, (unsigned long long)r->prep.dot_triples,
           (unsigned long long)r->prep.bits, (unsigned long long)r->prep.trunc_pairs,
           (unsigned long long)r->prep.bytes[n]);
    printf(", \"conv_triple_shapes\": [");
    print_shapes(sl, 1);
    printf("], \"inputs_per_party\": ");
    json_bytes(t->inputs, (int)p->nparties);
    if (pr->pre_stats) { /* a protocol that makes input-independent material during the run */
        printf(", \"input_independent_bytes_sent\": ");
        json_bytes(t->pre, n);
    }
    printf(", ");
    json_kinds(t, n);
    printf(", \"layers\": [");
    for (uint32_t l = 0; l < r->nlayers; l++) {
        const cost_row *x = &r->layer[l];
        printf("%s{\"name\": \"%s\", \"kind\": \"%s\", \"macs\": %llu, \"rounds\": %llu, "
               "\"bytes_sent\": ",
               l ? ", " : "", p->layers[l].name, p->layers[l].kind, (unsigned long long)x->macs,
               (unsigned long long)x->rounds);
        json_bytes(x->bytes, n);
        printf(", ");
        json_kinds(x, n);
        putchar('}');
    }
    printf("]}\n");
}

static void print_row(const char *name, const char *kind, const cost_row *x, int n)
{
    printf("  %-24s %-17s %12llu %7llu %10llu %9llu %9llu %9llu", name, kind,
           (unsigned long long)x->macs, (unsigned long long)x->rounds,
           (unsigned long long)x->elems[CC_DOT], (unsigned long long)x->elems[CC_MUL],
           (unsigned long long)x->elems[CC_TRUNC], (unsigned long long)x->elems[CC_CMP]);
    for (int i = 0; i < n; i++)
        printf(" %12llu", (unsigned long long)x->bytes[i]);
    putchar('\n');
}

static void print_costs(const qbc_program *p, const protocol *pr, int n, const cost_report *r,
                        const shape_list *sl)
{
    const cost_row *t = &r->total;
    printf("cost under %s with %d part%s:\n", pr->name, n, n == 1 ? "y" : "ies");
    printf("  %-24s %-17s %12s %7s %10s %9s %9s %9s", "layer", "kind", "MACs", "rounds", "dot-outs",
           "mults", "truncs", "cmps");
    for (int i = 0; i < n; i++)
        printf("  bytes(p%d)%s", i, i < 10 ? " " : "");
    putchar('\n');
    for (uint32_t l = 0; l < r->nlayers; l++)
        print_row(p->layers[l].name, p->layers[l].kind, &r->layer[l], n);
    print_row("(outputs)", "", &r->layer[r->nlayers], n);
    print_row("total", "", t, n);
    printf("rounds: %llu (communication blocks: %llu)\n", (unsigned long long)t->rounds,
           (unsigned long long)t->blocks);
    printf("values opened: %llu\n", (unsigned long long)t->opened);
    printf("multiplications: %llu\n", (unsigned long long)t->elems[CC_MUL]);
    printf("dot-product outputs: %llu (MACs: %llu)\n", (unsigned long long)t->elems[CC_DOT],
           (unsigned long long)t->macs);
    printf("truncations: %llu\n", (unsigned long long)t->elems[CC_TRUNC]);
    printf("rounding: %s (%llu operations exact: TFLite's results; %llu fast: probabilistic)\n", cost_rounding(r),
           (unsigned long long)r->exact, (unsigned long long)r->fast);
    printf("comparisons: %llu\n", (unsigned long long)t->elems[CC_CMP]);
    printf("inputs per party:");
    for (uint32_t i = 0; i < p->nparties; i++)
        printf(" %s=%llu", p->party_names[i], (unsigned long long)t->inputs[i]);
    printf("\nbytes sent per party:");
    for (int i = 0; i < n; i++)
        printf(" p%d=%llu", i, (unsigned long long)t->bytes[i]);
    proto_cost setup;
    memset(&setup, 0, sizeof setup);
    pr->setup_cost(n, &setup);
    printf("\nof which the set-up, before any input (seeds, keys, base OTs): %llu rounds, bytes",
           (unsigned long long)setup.rounds);
    for (int i = 0; i < n; i++)
        printf(" p%d=%llu", i, (unsigned long long)setup.bytes[i]);
    putchar('\n');
    if (pr->pre_stats) {
        printf("input-independent, the set-up and the OT extension made in the operations' rounds: bytes");
        for (int i = 0; i < n; i++)
            printf(" p%d=%llu", i, (unsigned long long)t->pre[i]);
        putchar('\n');
    }
    print_kinds(r, n);
    if (pr->prep_cost)
        printf("preprocessing (dealer): %llu triples, %llu dot-product triples, %llu bits, %llu "
               "truncation pairs; the dealer sends %llu bytes\n",
               (unsigned long long)r->prep.triples, (unsigned long long)r->prep.dot_triples,
               (unsigned long long)r->prep.bits, (unsigned long long)r->prep.trunc_pairs,
               (unsigned long long)r->prep.bytes[n]);
    if (pr->prep_cost && sl->n) {
        printf("convolution triples by shape (count):\n");
        print_shapes(sl, 0);
    }
}

static int cmd_inspect(int argc, char **argv)
{
    const char *file = NULL, *pname = "clear";
    int json = 0, code = 1, n = 0, bounds = 0;
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--check-bounds"))
            bounds = 1;
        else if (!strcmp(argv[i], "--protocol") && i + 1 < argc)
            pname = argv[++i];
        else if (!strcmp(argv[i], "--parties") && i + 1 < argc)
            n = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--json"))
            json = 1;
        else if (!strcmp(argv[i], "--no-code"))
            code = 0;
        else if (argv[i][0] == '-')
            die("inspect: unknown or incomplete option '%s'%s", argv[i], "");
        else if (!file)
            file = argv[i];
        else
            die("inspect: more than one file ('%s', '%s')", file, argv[i]);
    }
    if (!file)
        die("inspect: no bytecode file given%s%s", "", "");
    const protocol *pr = get_protocol(pname);
    if (n == 0)
        n = pr->min_parties;
    if (n < pr->min_parties || n > pr->max_parties) {
        fprintf(stderr, "qnnvm: protocol %s runs with %d to %d parties\n", pr->name,
                pr->min_parties, pr->max_parties);
        return 1;
    }
    qbc_program p;
    if (load(file, &p))
        return 1;
    char err[512];
    if (bounds && vm_check_bounds(&p, err, sizeof err)) {
        fprintf(stderr, "qnnvm: %s: %s\n", file, err);
        qbc_free(&p);
        return 1;
    }
    vm_assign_roles(&p, pr, n);
    cost_report r;
    if (cost_compute(&p, pr, n, &r)) {
        qbc_free(&p);
        die("out of memory%s%s", "", "");
    }
    shape_list sl = {NULL, 0, 0};
    if (pr->prep_cost)
        vm_walk(&p, pr, add_shape, &sl);
    if (json) {
        print_json(&p, pr, n, &r, &sl);
    } else {
        if (code)
            disasm_program(stdout, &p);
        print_costs(&p, pr, n, &r, &sl);
    }
    free(sl.v);
    cost_free(&r);
    qbc_free(&p);
    return 0;
}

/* ------------------------------------------------------------- keygen */

/* ----------------------------------------------------------- protocols */

static void json_str(const char *s)
{
    putchar('"');
    for (; *s; s++)
        printf(*s == '"' || *s == '\\' ? "\\%c" : "%c", *s);
    putchar('"');
}

/* The registry as a table, as JSON, or as the NAME:N configurations the
 * tests and benchmarks run (tests/secure.sh, bench/run read it). */
static int cmd_protocols(int argc, char **argv)
{
    int json = argc == 1 && !strcmp(argv[0], "--json"), configs = argc == 1 && !strcmp(argv[0], "--configs");
    if (argc > 1 || (argc == 1 && !json && !configs))
        die("protocols: unknown option %s (try --json or --configs)", argc ? argv[0] : "", NULL);
    const protocol *pr;
    if (json)
        putchar('[');
    else if (!configs)
        printf("%-12s %-9s %-12s %-32s %s\n", "name", "parties", "prep", "domain", "security");
    for (size_t i = 0; (pr = proto_at(i)); i++) {
        if (configs) {
            for (const int *n = pr->configs; *n; n++)
                printf("%s%s:%d", i || n != pr->configs ? " " : "", pr->name, *n);
            continue;
        }
        if (!json) {
            char parties[24];
            snprintf(parties, sizeof parties, pr->min_parties == pr->max_parties ? "%d" : "%d-%d",
                     pr->min_parties, pr->max_parties);
            printf("%-12s %-9s %-12s %-32s %s\n", pr->name, parties, pr->prep ? pr->prep : "none",
                   pr->domain, pr->security);
            continue;
        }
        printf("%s{\"name\": ", i ? ", " : "");
        json_str(pr->name);
        printf(", \"parties\": {\"min\": %d, \"max\": %d}, \"security\": ", pr->min_parties, pr->max_parties);
        json_str(pr->security);
        printf(", \"domain\": ");
        json_str(pr->domain);
        printf(", \"preprocessing\": [");
        if (pr->prep)
            json_str(pr->prep);
        printf("], \"configs\": [");
        for (const int *n = pr->configs; *n; n++)
            printf("%s%d", n != pr->configs ? ", " : "", *n);
        printf("], \"proven_bounds\": %s, \"fit_bits\": %u}", pr->proven_bounds ? "true" : "false", pr->fit_bits);
    }
    if (json || configs)
        puts(json ? "]" : "");
    return 0;
}

static int cmd_keygen(int argc, char **argv)
{
    const char *dir = NULL;
    int party = -1;
    for (int i = 0; i < argc; i++) {
        char *end;
        if (!strcmp(argv[i], "-p") && i + 1 < argc) {
            long v = strtol(argv[++i], &end, 10);
            if (*end || end == argv[i] || v < 0 || v >= 16)
                die("keygen: -p takes a party number from 0 to 15, not '%s'%s", argv[i], "");
            party = (int)v;
        } else if (!strcmp(argv[i], "-o") && i + 1 < argc)
            dir = argv[++i];
        else
            die("keygen: unknown or incomplete option '%s'%s", argv[i], "");
    }
    if (party < 0 || !dir)
        die("keygen: give -p I and -o DIR%s%s", "", "");
    if (mkdir(dir, 0700) != 0 && errno != EEXIST)
        die("keygen: cannot create %s: %s", dir, strerror(errno));
    char fp[CERTS_FP_LEN], err[512];
    if (certs_keygen(dir, party, fp, err, sizeof err) != 0)
        die("keygen: %s%s", err, "");
    printf("party %d: key %s/party%d.key (stays on this machine), certificate %s/party%d.pem (give it to "
           "every other party)\ncertificate sha256 fingerprint: %s\n",
           party, dir, party, dir, party, fp);
    return 0;
}

/* glibc backs the heap with transparent huge pages when its tunable says
 * so, which a process can only set before it starts: with QNN_HUGEPAGES=1
 * qnnvm re-executes itself once with it. Opt-in (README, "Notes on
 * running"): fewer page faults where a first touch is cheap, but slower
 * where the host makes each first touch of a 2 MB page expensive.
 * QNN_NO_HUGEPAGES wins. Other C libraries ignore the variable. */
static void use_huge_pages(char **argv)
{
    const char *t = getenv("GLIBC_TUNABLES"), *on = getenv("QNN_HUGEPAGES");
    if (!on || strcmp(on, "1") || getenv("QNN_NO_HUGEPAGES") || (t && strstr(t, "glibc.malloc.hugetlb")))
        return;
    char v[1024];
    snprintf(v, sizeof v, "%s%sglibc.malloc.hugetlb=1", t ? t : "", t ? ":" : "");
    if (setenv("GLIBC_TUNABLES", v, 1) == 0)
        execv("/proc/self/exe", argv); /* returns only on failure: run as we are */
}

int main(int argc, char **argv)
{
    use_huge_pages(argv);
    /* Protocols allocate large temporaries per round: keep freed memory in
     * the heap instead of unmapping it (glibc caps M_MMAP_THRESHOLD at 32 MB,
     * so larger blocks would be mapped afresh, and zeroed, every round). */
    mallopt(M_MMAP_MAX, 0);
    mallopt(M_TRIM_THRESHOLD, 1 << 30);
    if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") ||
        !strcmp(argv[1], "help")) {
        printf(usage, proto_names());
        return argc < 2 ? 1 : 0;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("qnnvm %s\n", VERSION);
        return 0;
    }
    if (!strcmp(argv[1], "run"))
        return run_command(argc - 2, argv + 2);
    if (!strcmp(argv[1], "inspect"))
        return cmd_inspect(argc - 2, argv + 2);
    if (!strcmp(argv[1], "keygen"))
        return cmd_keygen(argc - 2, argv + 2);
    if (!strcmp(argv[1], "protocols"))
        return cmd_protocols(argc - 2, argv + 2);
    fprintf(stderr, "qnnvm: unknown command '%s' (try qnnvm --help)\n", argv[1]);
    return 1;
}
