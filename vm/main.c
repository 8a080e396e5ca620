/* qnnvm: runs and inspects qnn bytecode.
 *   qnnvm run [--protocol P] --input PARTY:FILE ... [--output FILE]
 *             [--dump-layers DIR] FILE.qbc
 *   qnnvm inspect [--protocol P] [--parties N] [--json] [--no-code] FILE.qbc */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../runtime/tensorio.h"
#include "bytecode.h"
#include "cost.h"
#include "disasm.h"
#include "vm.h"

#define VERSION "0.1.0"

static const char usage[] =
    "usage: qnnvm run [options] FILE.qbc     evaluate a program\n"
    "       qnnvm inspect [options] FILE.qbc disassemble it and print its cost\n"
    "\n"
    "run options:\n"
    "  --protocol P         protocol (default clear; available: %s)\n"
    "  --input PARTY:FILE   a party's input: .qw (tensors by name), .npy or raw .bin\n"
    "                       (.npy/.bin fill the party's inputs in declaration order)\n"
    "  --output FILE        also write the received outputs as raw bytes in their dtype\n"
    "  --dump-layers DIR    write every layer's output as raw bytes (clear only)\n"
    "  --quiet              print only the outputs\n"
    "inspect options:\n"
    "  --protocol P         cost under protocol P (default clear)\n"
    "  --parties N          number of parties (default: the protocol's minimum)\n"
    "  --json               one JSON object instead of the listing\n"
    "  --no-code            cost tables only\n"
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

static void print_json(const qbc_program *p, const protocol *pr, int n, const cost_report *r)
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
    printf("}, \"inputs_per_party\": ");
    json_bytes(t->inputs, (int)p->nparties);
    printf(", \"layers\": [");
    for (uint32_t l = 0; l < r->nlayers; l++) {
        const cost_row *x = &r->layer[l];
        printf("%s{\"name\": \"%s\", \"kind\": \"%s\", \"macs\": %llu, \"rounds\": %llu, "
               "\"bytes_sent\": ",
               l ? ", " : "", p->layers[l].name, p->layers[l].kind, (unsigned long long)x->macs,
               (unsigned long long)x->rounds);
        json_bytes(x->bytes, n);
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

static void print_costs(const qbc_program *p, const protocol *pr, int n, const cost_report *r)
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
    printf("comparisons: %llu\n", (unsigned long long)t->elems[CC_CMP]);
    printf("inputs per party:");
    for (uint32_t i = 0; i < p->nparties; i++)
        printf(" %s=%llu", p->party_names[i], (unsigned long long)t->inputs[i]);
    printf("\nbytes sent per party:");
    for (int i = 0; i < n; i++)
        printf(" p%d=%llu", i, (unsigned long long)t->bytes[i]);
    putchar('\n');
}

static int cmd_inspect(int argc, char **argv)
{
    const char *file = NULL, *pname = "clear";
    int json = 0, code = 1, n = 0;
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--protocol") && i + 1 < argc)
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
    cost_report r;
    if (cost_compute(&p, pr, n, &r)) {
        qbc_free(&p);
        die("out of memory%s%s", "", "");
    }
    if (json) {
        print_json(&p, pr, n, &r);
    } else {
        if (code)
            disasm_program(stdout, &p);
        print_costs(&p, pr, n, &r);
    }
    cost_free(&r);
    qbc_free(&p);
    return 0;
}

/* ----------------------------------------------------------------- run */

typedef struct {
    const char *dump_dir;
    int progress;
    uint32_t nlayers, done;
    int failed;
} run_ui;

static void on_layer(void *ud, const qbc_layer *l, const word *data, int sw)
{
    run_ui *ui = ud;
    ui->done++;
    if (ui->progress)
        fprintf(stderr, "\r  layer %u/%u %-32.32s", ui->done, ui->nlayers, l->name);
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
        fprintf(stderr, "qnnvm: %s\n", err);
        ui->failed = 1;
    }
    free(v);
}

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

/* Reads one --input PARTY:FILE into the party's input slots. */
static int read_input(const qbc_program *p, const char *spec, int64_t **vals)
{
    const char *colon = strchr(spec, ':');
    char err[512];
    int party = colon ? party_of(p, spec, (size_t)(colon - spec)) : -1;
    if (party < 0) {
        fprintf(stderr, "qnnvm: --input %s: expected PARTY:FILE with PARTY one of the program's "
                        "parties (a name or 0..%u)\n",
                spec, p->nparties - 1);
        return -1;
    }
    const char *path = colon + 1;
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

static void print_output(const qbc_program *p, const qbc_output *o, const int64_t *v, uint64_t n)
{
    char sh[64];
    float scale = o->kind == OUT_SOFTMAX ? 1.0f / 256 : o->scale;
    int32_t zp = o->kind == OUT_SOFTMAX ? (o->dtype == DT_I8 ? -128 : 0) : o->zp;
    printf("output %s (%s %s[%s]) to %s:", o->name, out_kind_names[o->kind], dtype_names[o->dtype],
           tshape_str(o->kind == OUT_ARGMAX ? &(qbc_shape){1, {1}} : &o->shape, sh, sizeof sh),
           p->party_names[o->party]);
    for (uint64_t i = 0; i < n; i++)
        printf(" %lld", (long long)v[i]);
    putchar('\n');
    if (o->kind == OUT_ARGMAX || n < 2)
        return;
    printf("top:");
    char *used = calloc(n, 1);
    for (int k = 0; used && k < 5 && (uint64_t)k < n; k++) {
        uint64_t best = 0;
        while (used[best])
            best++;
        for (uint64_t i = best; i < n; i++)
            if (!used[i] && v[i] > v[best])
                best = i;
        used[best] = 1;
        printf(" %llu (%.4f)", (unsigned long long)best, (double)scale * (double)(v[best] - zp));
    }
    free(used);
    putchar('\n');
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* All outputs, concatenated in declaration order, raw in their dtypes. */
static int write_outputs(const qbc_program *p, int64_t **res, const char *path)
{
    uint64_t size = 0;
    for (uint32_t o = 0; o < p->noutputs; o++)
        size += (p->outputs[o].kind == OUT_ARGMAX ? 1 : shape_elems(&p->outputs[o].shape)) *
                (uint64_t)dtype_size(p->outputs[o].dtype);
    uint8_t *buf = malloc(size + 1), *q = buf;
    for (uint32_t o = 0; buf && o < p->noutputs; o++) {
        const qbc_output *out = &p->outputs[o];
        uint64_t n = out->kind == OUT_ARGMAX ? 1 : shape_elems(&out->shape);
        tio_encode(q, out->dtype, res[o], n);
        q += n * (uint64_t)dtype_size(out->dtype);
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

static int cmd_run(int argc, char **argv)
{
    const char *file = NULL, *pname = "clear", *outpath = NULL, *dump = NULL;
    const char *inputs[256];
    int ninputs = 0, quiet = 0;
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--protocol") && i + 1 < argc)
            pname = argv[++i];
        else if (!strcmp(argv[i], "--input") && i + 1 < argc) {
            if (ninputs == 256)
                die("run: too many --input options%s%s", "", "");
            inputs[ninputs++] = argv[++i];
        } else if (!strcmp(argv[i], "--output") && i + 1 < argc)
            outpath = argv[++i];
        else if (!strcmp(argv[i], "--dump-layers") && i + 1 < argc)
            dump = argv[++i];
        else if (!strcmp(argv[i], "--quiet"))
            quiet = 1;
        else if (argv[i][0] == '-')
            die("run: unknown or incomplete option '%s'%s", argv[i], "");
        else if (!file)
            file = argv[i];
        else
            die("run: more than one file ('%s', '%s')", file, argv[i]);
    }
    if (!file)
        die("run: no bytecode file given%s%s", "", "");
    const protocol *pr = get_protocol(pname);
    if (pr != &proto_clear)
        die("run: protocol %s needs parties (-p, -N, --hosts or --local)%s", pr->name, "");
    if (dump && mkdir(dump, 0777) != 0 && errno != EEXIST)
        die("--dump-layers %s: %s", dump, strerror(errno));
    qbc_program p;
    if (load(file, &p))
        return 1;
    int rc = 1;
    int64_t **vals = calloc(p.ninputs + 1, sizeof *vals);
    int64_t **rev = calloc(p.noutputs + 1, sizeof *rev), **res = calloc(p.noutputs + 1, sizeof *res);
    for (int i = 0; i < ninputs; i++)
        if (read_input(&p, inputs[i], vals) != 0)
            goto out;
    for (uint32_t s = 0; s < p.ninputs; s++)
        if (!vals[s]) {
            fprintf(stderr, "qnnvm: missing input '%s' of party %s (give --input %s:FILE)\n",
                    p.inputs[s].name, p.party_names[p.inputs[s].party],
                    p.party_names[p.inputs[s].party]);
            goto out;
        }
    for (uint32_t o = 0; o < p.noutputs; o++) {
        uint64_t n = shape_elems(&p.outputs[o].shape);
        rev[o] = calloc(n, sizeof(int64_t));
        res[o] = calloc(n, sizeof(int64_t));
        if (!rev[o] || !res[o])
            die("out of memory%s%s", "", "");
    }
    run_ui ui = {dump, isatty(2) && !quiet, p.nlayers, 0, 0};
    char err[512];
    proto_env env = {0, 1};
    void *ps = pr->create(&env, err, sizeof err);
    if (!ps) {
        fprintf(stderr, "qnnvm: %s\n", err);
        goto out;
    }
    vm_config cfg = {&p, pr, ps, 0, 1, vals, rev, on_layer, &ui};
    double t0 = now();
    int vrc = vm_run(&cfg, err, sizeof err);
    double t1 = now();
    pr->destroy(ps);
    if (ui.progress)
        fprintf(stderr, "\r%60s\r", "");
    if (vrc != 0) {
        fprintf(stderr, "qnnvm: %s: %s\n", file, err);
        goto out;
    }
    if (ui.failed)
        goto out;
    for (uint32_t o = 0; o < p.noutputs; o++) {
        const qbc_output *out = &p.outputs[o];
        uint64_t n = out->kind == OUT_ARGMAX ? 1 : shape_elems(&out->shape);
        vm_finish_output(out, rev[o], res[o], n);
        print_output(&p, out, res[o], n);
    }
    fflush(stdout);
    if (!quiet)
        fprintf(stderr, "qnnvm: %s in %.3f s\n", pr->name, t1 - t0);
    if (outpath && write_outputs(&p, res, outpath) != 0)
        goto out;
    rc = 0;
out:
    for (uint32_t s = 0; s < p.ninputs; s++)
        free(vals[s]);
    for (uint32_t o = 0; o < p.noutputs; o++) {
        free(rev[o]);
        free(res[o]);
    }
    free(vals);
    free(rev);
    free(res);
    qbc_free(&p);
    return rc;
}

int main(int argc, char **argv)
{
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
        return cmd_run(argc - 2, argv + 2);
    if (!strcmp(argv[1], "inspect"))
        return cmd_inspect(argc - 2, argv + 2);
    fprintf(stderr, "qnnvm: unknown command '%s' (try qnnvm --help)\n", argv[1]);
    return 1;
}
