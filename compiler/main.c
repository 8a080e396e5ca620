/* qnnc: the qnn compiler.
 *   qnnc FILE.qnn [-o FILE.qbc] [--proven-bounds] [--field]
 *                                          compile a network program
 *   qnnc weights FILE.qnn --party P [--seed N] -o FILE.qw
 *                                          deterministic random inputs of a party */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <math.h>
#include <stdlib.h>
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "runtime/core/qmath.h"
#include "runtime/io/image.h"
#include "runtime/io/tensorio.h"
#include "runtime/proto/proto.h"
#include "vm/bounds.h"
#include "vm/cost.h"
#include "vm/vm.h"
#include "compiler/compile.h"
#include "compiler/tflite/tflite.h"

#define VERSION "0.1.0"

static const char usage[] =
    "usage: qnnc FILE.qnn [-o FILE.qbc] [--proven-bounds] [--field] [--late-inputs]\n"
    "                                     compile a network program to bytecode;\n"
    "                                     --proven-bounds: ignore acc_bound= and refuse a\n"
    "                                     layer needing any bound that the inputs' dtype\n"
    "                                     ranges do not imply (for actively secure protocols);\n"
    "                                     --field: refuse a layer whose values could leave\n"
    "                                     (-2^63, 2^63) for inputs in their dtype ranges (for\n"
    "                                     protocols over a prime field: fit_bits in\n"
    "                                     qnnvm protocols --json)\n"
    "                                     --late-inputs: input each value in the block just\n"
    "                                     before its first use, not all at the start: less\n"
    "                                     memory (rep3-active: MobileNet's weights), more\n"
    "                                     rounds under spdz, spdz2k and hemi\n"
    "       qnnc import MODEL.tflite -o DIR [--output softmax|logits|argmax]\n"
    "                  [--rounding exact|fast] [--secret-params] [--proven-bounds] [--field]\n"
    "                  [--fc-per-tensor] [--mean-arith float|int|int-ref]\n"
    "                                     DIR/NAME.qnn (the public program) and DIR/NAME.qw\n"
    "                                     (the model owner's weights); party 0 = model owner,\n"
    "                                     party 1 = client (input and result). Rounding:\n"
    "                                     exact (default) gives TFLite's bytes; fast rounds\n"
    "                                     probabilistically (off by a few LSB, cheaper).\n"
    "                                     --secret-params: multipliers, shifts, zero points\n"
    "                                     and clamp bounds become the owner's input; the\n"
    "                                     program keeps shapes and public bounds only.\n"
    "                                     --proven-bounds, --field: the program must also\n"
    "                                     compile with that flag. --fc-per-tensor: fully\n"
    "                                     connected layers with per-channel scales computed\n"
    "                                     per tensor with the first one, as TFLite's kernels\n"
    "                                     did before per-channel dense layers.\n"
    "                                     --mean-arith: MEAN as TFLite 2.12 and before\n"
    "                                     computed it (float, the default) or as 2.13 and\n"
    "                                     later do (int; int-ref: with the reference\n"
    "                                     resolver's kernel for keep_dims on int8)\n"
    "       qnnc image PICTURE --size WxH [--gray] [--raw WxH] -o INPUT.bin\n"
    "                  [--normalize keras|torch|MEAN,STD --quant SCALE,ZP [--int8]]\n"
    "                                     a BMP/PPM/PGM (or raw RGB/gray bytes) picture as a\n"
    "                                     model input: nearest-neighbour resize, raw uint8\n"
    "                                     pixels; with --normalize, the float input the model\n"
    "                                     was trained on (keras: p/127.5 - 1; torch: ImageNet's\n"
    "                                     mean and std; (p - MEAN)/STD), quantized with the\n"
    "                                     input's scale and zero point (u8, or i8 with --int8)\n"
    "       qnnc quantize FLOATS.bin --quant SCALE,ZP [--int8] -o INPUT.bin\n"
    "                                     raw float32 values as a model input quantized as\n"
    "                                     TFLite's QUANTIZE does (a model whose float input\n"
    "                                     is quantized first: the client's part)\n"
    "       qnnc weights FILE.qnn --party PARTY [--seed N] -o FILE.qw\n"
    "                                     deterministic pseudo-random values for every\n"
    "                                     input of PARTY (tests and benchmarks)\n"
    "       qnnc --stats FILE.qnn             rounds, bytes per party and preprocessing of\n"
    "                                     the program under every protocol\n"

    "options:\n"
    "  -o FILE      output file (default: FILE.qnn with .qbc)\n"
    "  -h, --help   this text;  --version  the version\n"
    "Errors are printed as file:line:col: error: message; the exit status is 1.\n";

/* Compiles a file, reporting errors and their count on stderr. */
static int compile(const char *path, unsigned flags, qbc_program *out)
{
    int n = compile_file(path, flags, out, stderr);
    if (n)
        fprintf(stderr, "%d error%s\n", n, n == 1 ? "" : "s");
    return n ? 1 : 0;
}

static char *default_output(const char *in, const char *ext)
{
    size_t n = strlen(in);
    char *o = malloc(n + strlen(ext) + 1);
    if (!o)
        exit(2);
    strcpy(o, in);
    if (n > 4 && strcmp(o + n - 4, ".qnn") == 0)
        o[n - 4] = 0;
    strcat(o, ext);
    return o;
}

static uint32_t xorshift(uint32_t *s)
{
    uint32_t x = *s;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return *s = x;
}

/* Weights uniform over the dtype; i32 (biases) within +-2^12, a typical
 * magnitude that keeps accumulators far from overflow. */
static int cmd_weights(int argc, char **argv)
{
    const char *file = NULL, *party = NULL, *out = NULL;
    unsigned long seed = 1;
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--party") && i + 1 < argc)
            party = argv[++i];
        else if (!strcmp(argv[i], "--seed") && i + 1 < argc)
            seed = strtoul(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "-o") && i + 1 < argc)
            out = argv[++i];
        else if (argv[i][0] == '-') {
            fprintf(stderr, "qnnc: weights: unknown or incomplete option '%s'\n", argv[i]);
            return 1;
        } else
            file = argv[i];
    }
    if (!file || !party || !out) {
        fprintf(stderr, "qnnc: weights needs FILE.qnn, --party PARTY and -o FILE.qw\n");
        return 1;
    }
    qbc_program p;
    if (compile(file, 0, &p))
        return 1;
    int pid = -1;
    for (uint32_t i = 0; i < p.nparties; i++)
        if (!strcmp(p.party_names[i], party) ||
            (party[0] >= '0' && party[0] <= '9' && strtoul(party, NULL, 10) == i))
            pid = (int)i;
    if (pid < 0) {
        fprintf(stderr, "qnnc: %s has no party '%s'\n", file, party);
        qbc_free(&p);
        return 1;
    }
    tio_tensor *t = calloc(p.ninputs + 1, sizeof *t);
    int n = 0;
    uint32_t state = (uint32_t)seed * 2654435761u + 1;
    for (uint32_t i = 0; t && i < p.ninputs; i++) {
        const qbc_input *in = &p.inputs[i];
        if (in->party != pid)
            continue;
        uint64_t ne = shape_elems(&in->shape);
        t[n].name = in->name;
        t[n].dtype = in->dtype;
        t[n].shape = in->shape;
        t[n].data = malloc(ne * sizeof(int64_t));
        for (uint64_t k = 0; t[n].data && k < ne; k++) {
            uint32_t r = xorshift(&state);
            t[n].data[k] = in->dtype == DT_U8 ? (int64_t)(r & 0xff)
                         : in->dtype == DT_I8 ? (int64_t)(int8_t)(r & 0xff)
                                              : (int64_t)(r % 8193) - 4096;
        }
        n++;
    }
    char err[512];
    int rc = tio_write_qw(out, t, n, err, sizeof err) != 0;
    if (rc)
        fprintf(stderr, "qnnc: %s\n", err);
    for (int i = 0; i < n; i++)
        free(t[i].data);
    free(t);
    qbc_free(&p);
    return rc;
}

static int cmd_import(int argc, char **argv)
{
    const char *model = NULL, *dir = NULL, *mode_s = "softmax", *rounding = "exact", *mean = "float";
    unsigned tflags = 0, flags = 0;
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "-o") && i + 1 < argc)
            dir = argv[++i];
        else if (!strcmp(argv[i], "--proven-bounds"))
            flags |= COMPILE_PROVEN_BOUNDS;
        else if (!strcmp(argv[i], "--field"))
            flags |= COMPILE_FIELD;
        else if (!strcmp(argv[i], "--secret-params"))
            tflags |= TFL_SECRET;
        else if (!strcmp(argv[i], "--fc-per-tensor"))
            tflags |= TFL_FC_PER_TENSOR;
        else if (!strcmp(argv[i], "--rounding") && i + 1 < argc)
            rounding = argv[++i];
        else if (!strcmp(argv[i], "--mean-arith") && i + 1 < argc)
            mean = argv[++i];
        else if (!strcmp(argv[i], "--output") && i + 1 < argc)
            mode_s = argv[++i];
        else if (argv[i][0] == '-') {
            fprintf(stderr, "qnnc: import: unknown or incomplete option '%s'\n", argv[i]);
            return 1;
        } else
            model = argv[i];
    }
    enum tfl_output mode = !strcmp(mode_s, "softmax") ? TFL_OUT_MODEL
                           : !strcmp(mode_s, "logits") ? TFL_OUT_LOGITS
                           : !strcmp(mode_s, "argmax") ? TFL_OUT_ARGMAX : (enum tfl_output)-1;
    if (!model || !dir || (int)mode < 0) {
        fprintf(stderr, "qnnc: import needs MODEL.tflite, -o DIR and --output softmax|logits|argmax\n");
        return 1;
    }
    if (strcmp(rounding, "exact") != 0 && strcmp(rounding, "fast") != 0) {
        fprintf(stderr, "qnnc: import: --rounding is exact (TFLite's results, the default) or fast\n");
        return 1;
    }
    if (strcmp(mean, "float") != 0 && strcmp(mean, "int") != 0 && strcmp(mean, "int-ref") != 0) {
        fprintf(stderr, "qnnc: import: --mean-arith is float (TFLite 2.12 and before, the default), int (2.13 and "
                        "later) or int-ref (2.13 and later's reference resolver)\n");
        return 1;
    }
    tflags |= strcmp(mean, "float") != 0 ? TFL_MEAN_INT : 0;
    tflags |= strcmp(mean, "int-ref") == 0 ? TFL_MEAN_REF : 0;
    char name[256], err[512];
    const char *base = strrchr(model, '/') ? strrchr(model, '/') + 1 : model;
    snprintf(name, sizeof name, "%s", base);
    size_t nl = strlen(name);
    if (nl > 7 && !strcmp(name + nl - 7, ".tflite"))
        name[nl - 7] = 0;
    size_t len;
    uint8_t *buf = tio_slurp(model, (size_t)1 << 30, &len, err, sizeof err);
    if (!buf) {
        fprintf(stderr, "qnnc: %s\n", err);
        return 1;
    }
    tfl_result r;
    int rc = tfl_import(buf, len, name, mode, (!strcmp(rounding, "fast") ? TFL_FAST : 0) | tflags, &r, err, sizeof err);
    free(buf);
    if (rc) {
        fprintf(stderr, "qnnc: %s: %s\n", model, err);
        return 1;
    }
    char qpath[4096], wpath[4096];
    snprintf(qpath, sizeof qpath, "%s/%s.qnn", dir, name);
    snprintf(wpath, sizeof wpath, "%s/%s.qw", dir, name);
    qbc_program p; /* the generated program must compile (with --proven-bounds, as that compiles it) */
    if (compile_source(qpath, r.qnn, strlen(r.qnn), flags, &p, stderr) != 0) {
        if (flags)
            fprintf(stderr, "qnnc: %s: the imported program does not compile with%s%s (errors above)\n", model,
                    flags & COMPILE_PROVEN_BOUNDS ? " --proven-bounds" : "", flags & COMPILE_FIELD ? " --field" : "");
        else
            fprintf(stderr, "qnnc: %s: the imported program does not compile: the model's tensors "
                            "do not fit together (errors above)\n", model);
        tfl_free(&r);
        return 1;
    }
    qbc_free(&p);
    if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "qnnc: %s: %s\n", dir, strerror(errno));
        tfl_free(&r);
        return 1;
    }
    FILE *f = fopen(qpath, "w");
    int ok = f && fputs(r.qnn, f) >= 0;
    if (f && fclose(f) != 0)
        ok = 0;
    if (!ok)
        fprintf(stderr, "qnnc: %s: cannot write: %s\n", qpath, strerror(errno));
    else if (tio_write_qw(wpath, r.weights, r.nweights, err, sizeof err) != 0) {
        fprintf(stderr, "qnnc: %s\n", err);
        ok = 0;
    }
    tfl_free(&r);
    return ok ? 0 : 1;
}

static int parse_size(const char *s, uint32_t *w, uint32_t *h)
{
    unsigned a, b;
    char x;
    if (sscanf(s, "%u%c%u", &a, &x, &b) == 3 && (x == 'x' || x == 'X') && a && b && a <= 65536 &&
        b <= 65536) {
        *w = a;
        *h = b;
        return 0;
    }
    if (sscanf(s, "%u", &a) == 1 && a && a <= 65536) {
        *w = *h = a;
        return 0;
    }
    return -1;
}

/* --quant SCALE,ZERO_POINT: the scale as the float32 a tensor holds, the
 * zero point within u8 (or, int8, i8); 0 or -1 */
static int parse_quant_arg(const char *quant, int int8, float *scale, int32_t *zp)
{
    char *end = NULL;
    long long z;
    double s = quant ? strtod(quant, &end) : 0;
    if (!quant || end == quant || *end != ',' || !(s > 0) || !isfinite(s) || sscanf(end + 1, "%lld", &z) != 1 ||
        z < (int8 ? -128 : 0) || z > (int8 ? 127 : 255) || !((float)s > 0.0f) || isinf((float)s))
        return -1;
    *scale = (float)s;
    *zp = (int32_t)z;
    return 0;
}

/* The options qnnc image and qnnc quantize share (--quant, --int8, -o),
 * an unknown option, or the input file at argv[*i]; -1 after an error. */
static int quant_opt(const char *cmd, int argc, char **argv, int *i, const char **in, const char **out,
                     const char **quant, int *int8)
{
    if (!strcmp(argv[*i], "--quant") && *i + 1 < argc)
        *quant = argv[++*i];
    else if (!strcmp(argv[*i], "--int8"))
        *int8 = 1;
    else if (!strcmp(argv[*i], "-o") && *i + 1 < argc)
        *out = argv[++*i];
    else if (argv[*i][0] == '-') {
        fprintf(stderr, "qnnc: %s: unknown or incomplete option '%s'\n", cmd, argv[*i]);
        return -1;
    } else
        *in = argv[*i];
    return 0;
}

/* qnnc quantize: float32 values (raw little-endian) as a model's quantized
 * input, as TFLite's QUANTIZE computes them (AffineQuantize: round(f /
 * scale) in float, plus the zero point, clamped): the client's side of a
 * model whose input is float and then quantized */
static int cmd_quantize(int argc, char **argv)
{
    const char *in = NULL, *out = NULL, *quant = NULL;
    int int8 = 0;
    for (int i = 0; i < argc; i++)
        if (quant_opt("quantize", argc, argv, &i, &in, &out, &quant, &int8))
            return 1;
    float scale;
    int32_t zp;
    if (!in || !out || parse_quant_arg(quant, int8, &scale, &zp)) {
        fprintf(stderr, "qnnc: quantize needs FLOATS.bin (raw float32), --quant SCALE,ZERO_POINT (the model "
                        "input's q(...)), -o FILE and --int8 for an i8 input\n");
        return 1;
    }
    char err[512];
    size_t len;
    uint8_t *b = tio_slurp(in, (size_t)1 << 30, &len, err, sizeof err);
    if (!b || len % 4) {
        fprintf(stderr, "qnnc: %s\n", b ? "quantize: the input is not a whole number of float32 values" : err);
        free(b);
        return 1;
    }
    int64_t *v = malloc((len / 4 + 1) * sizeof *v);
    int32_t lo = int8 ? -128 : 0, hi = int8 ? 127 : 255;
    for (size_t i = 0; v && i < len / 4; i++) {
        uint32_t u = (uint32_t)b[4 * i] | (uint32_t)b[4 * i + 1] << 8 | (uint32_t)b[4 * i + 2] << 16 |
                     (uint32_t)b[4 * i + 3] << 24;
        float f;
        memcpy(&f, &u, 4);
        int32_t q = qm_quantize_float(f, scale, zp);
        v[i] = q < lo ? lo : q > hi ? hi : q;
    }
    int rc = v ? tio_write_raw(out, int8 ? DT_I8 : DT_U8, v, len / 4, err, sizeof err) : -1;
    if (rc)
        fprintf(stderr, "qnnc: %s\n", v ? err : "out of memory");
    free(v);
    free(b);
    return rc ? 1 : 0;
}

static int cmd_image(int argc, char **argv)
{
    const char *in = NULL, *out = NULL, *norm = NULL, *quant = NULL;
    uint32_t w = 0, h = 0, rw = 0, rh = 0, ch = 3;
    int int8 = 0;
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--size") && i + 1 < argc) {
            if (parse_size(argv[++i], &w, &h)) {
                fprintf(stderr, "qnnc: image: --size takes WxH or N, not '%s'\n", argv[i]);
                return 1;
            }
        } else if (!strcmp(argv[i], "--raw") && i + 1 < argc) {
            if (parse_size(argv[++i], &rw, &rh)) {
                fprintf(stderr, "qnnc: image: --raw takes WxH, not '%s'\n", argv[i]);
                return 1;
            }
        } else if (!strcmp(argv[i], "--gray"))
            ch = 1;
        else if (!strcmp(argv[i], "--normalize") && i + 1 < argc)
            norm = argv[++i];
        else if (quant_opt("image", argc, argv, &i, &in, &out, &quant, &int8))
            return 1;
    }
    if (!in || !out || !w) {
        fprintf(stderr, "qnnc: image needs PICTURE, --size WxH and -o FILE\n");
        return 1;
    }
    img_norm nm;
    float scale = 0;
    int32_t zp = 0;
    if (norm && img_norm_parse(norm, &nm) != 0) {
        fprintf(stderr, "qnnc: image: --normalize takes keras, torch or MEAN,STD, not '%s'\n", norm);
        return 1;
    }
    if ((norm || quant || int8) && (!norm || parse_quant_arg(quant, int8, &scale, &zp))) {
        fprintf(stderr, "qnnc: image: --normalize keras|torch|MEAN,STD goes with --quant SCALE,ZERO_POINT (the "
                        "model input's, as its q(...) in the imported program) and --int8 for an i8 input\n");
        return 1;
    }
    image src, dst;
    char err[512];
    if (img_read(in, rw, rh, rw ? ch : 0, &src, err, sizeof err) != 0) {
        fprintf(stderr, "qnnc: %s\n", err);
        return 1;
    }
    int rc = img_resize(&src, w, h, ch, &dst);
    img_free(&src);
    FILE *f = rc == 0 ? fopen(out, "wb") : NULL;
    size_t n = (size_t)w * h * ch;
    if (rc == 0 && norm) /* a tensor's scale is a float32, however it is written */
        img_quantize(&dst, &nm, (double)scale, zp, int8, dst.px);
    int ok = f && fwrite(dst.px, 1, n, f) == n;
    if (f && fclose(f) != 0)
        ok = 0;
    img_free(&dst);
    if (!ok)
        fprintf(stderr, "qnnc: %s: cannot write\n", out);
    return ok ? 0 : 1;
}

/* The cost of a program under each protocol, as qnnvm inspect gives it. */
static int cmd_stats(const char *file)
{
    qbc_program p;
    if (compile(file, 0, &p))
        return 1;
    int header = 0;
    const protocol *pr;
    for (size_t k = 0; (pr = proto_at(k)); k++)
        for (const int *n = pr->configs; *n; n++) {
            cost_report r;
            char err[512];
            uint32_t layer;
            if (pr->fit_bits && vm_check_fit(&p, pr->fit_bits, &layer, err, sizeof err) != 0) {
                printf("%-8s %7d refused: layer %s\n", pr->name, *n,
                       layer < p.nlayers ? p.layers[layer].name : "(none)");
                continue;
            }
            vm_assign_roles(&p, pr, *n);
            if (cost_compute(&p, pr, *n, &r) != 0)
                continue;
            if (!header++)
                printf("rounding: %s (%llu exact, %llu fast)\n%-8s %7s %12s %16s %16s\n", cost_rounding(&r),
                       (unsigned long long)r.exact, (unsigned long long)r.fast, "protocol", "parties", "rounds",
                       "bytes, busiest", "dealer bytes");
            uint64_t max = 0;
            for (int i = 0; i < *n; i++)
                max = r.total.bytes[i] > max ? r.total.bytes[i] : max;
            printf("%-8s %7d %12llu %16llu %16llu\n", pr->name, *n, (unsigned long long)r.total.rounds,
                   (unsigned long long)max, (unsigned long long)r.prep.bytes[*n]);
            cost_free(&r);
        }
    qbc_free(&p);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
        fputs(usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? 1 : 0;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("qnnc %s\n", VERSION);
        return 0;
    }
    if (!strcmp(argv[1], "weights"))
        return cmd_weights(argc - 2, argv + 2);
    if (!strcmp(argv[1], "--stats") && argc == 3)
        return cmd_stats(argv[2]);
    if (!strcmp(argv[1], "import"))
        return cmd_import(argc - 2, argv + 2);
    if (!strcmp(argv[1], "image"))
        return cmd_image(argc - 2, argv + 2);
    if (!strcmp(argv[1], "quantize"))
        return cmd_quantize(argc - 2, argv + 2);
    const char *in = NULL, *out = NULL;
    unsigned flags = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-o") && i + 1 < argc)
            out = argv[++i];
        else if (!strcmp(argv[i], "--proven-bounds"))
            flags |= COMPILE_PROVEN_BOUNDS;
        else if (!strcmp(argv[i], "--field"))
            flags |= COMPILE_FIELD;
        else if (!strcmp(argv[i], "--late-inputs"))
            flags |= COMPILE_LATE_INPUTS;
        else if (argv[i][0] == '-') {
            fprintf(stderr, "qnnc: unknown or incomplete option '%s' (try qnnc --help)\n", argv[i]);
            return 1;
        } else if (!in)
            in = argv[i];
        else {
            fprintf(stderr, "qnnc: more than one input file ('%s', '%s')\n", in, argv[i]);
            return 1;
        }
    }
    if (!in) {
        fprintf(stderr, "qnnc: no input file\n");
        return 1;
    }
    qbc_program p;
    if (compile(in, flags, &p))
        return 1;
    char *def = out ? NULL : default_output(in, ".qbc");
    char err[512];
    int rc = qbc_write_file(&p, out ? out : def, err, sizeof err) != 0;
    if (rc)
        fprintf(stderr, "qnnc: %s\n", err);
    free(def);
    qbc_free(&p);
    return rc;
}
