/* qbc: fuzzes the bytecode loader as `qnnvm inspect` and `qnnvm run
 * --protocol clear` use it: load and validate, disassemble, cost under
 * every protocol, check its bounds (vm/bounds.h), and run in clear with inputs derived from the file, when
 * the program is small enough. A program the validator accepts must run
 * without any further check going wrong (bytecode.h), which is what the
 * run tests. Larger programs are valid too, only slow: the work limit keeps
 * the fuzzer fast, the loader's memory cap is tested on its own. */
#include <stdlib.h>
#include <string.h>

#include "runtime/proto/proto.h"
#include "vm/bounds.h"
#include "vm/cost.h"
#include "vm/disasm.h"
#include "vm/vm.h"
#include "fuzz.h"

#define MAX_WORK ((uint64_t)1 << 22) /* element operations of a clear run */

/* Element operations of a clear run, roughly: each instruction's result
 * times the taps (and input channels) that make one element. */
static uint64_t work(const qbc_program *p)
{
    uint64_t w = 0;
    for (uint32_t i = 0; i < p->nsregs; i++)
        w += p->slen[i];
    for (uint32_t i = 0; i < p->noutputs; i++) /* even one no instruction writes */
        w += shape_elems(&p->outputs[i].shape);
    for (uint32_t i = 0; i < p->ninputs; i++)
        w += shape_elems(&p->inputs[i].shape);
    for (uint32_t pc = 0; pc < p->ncode; pc += 1 + (uint32_t)qbc_nops(p->code[pc])) {
        const uint32_t *a = p->code + pc + 1;
        int op = qbc_op(p->code[pc]);
        if (op == OP_ROUND || op == OP_LAYER)
            continue;
        uint64_t n = p->slen[a[0]], per = 1;
        if (op == OP_CONV2D || op == OP_DWCONV2D)
            per = (uint64_t)a[3 + 3] * a[3 + 4] * (op == OP_CONV2D ? a[3 + 2] : 1);
        else if (op == OP_POOLSUM)
            per = (uint64_t)a[2 + 3] * a[2 + 4];
        else if (op == OP_COPY)
            n = (uint64_t)a[2] * a[3];
        w += n * per;
        if (w > MAX_WORK)
            break;
    }
    return w;
}

static void run_clear(qbc_program *p, const uint8_t *data, size_t len)
{
    int64_t **in = calloc(p->ninputs + 1, sizeof *in), **out = calloc(p->noutputs + 1, sizeof *out);
    if (!in || !out)
        abort();
    for (uint32_t s = 0; s < p->ninputs; s++) {
        const qbc_input *x = &p->inputs[s];
        uint64_t n = shape_elems(&x->shape);
        if (!(in[s] = malloc(n * sizeof(int64_t))))
            abort();
        for (uint64_t i = 0; i < n; i++) { /* the file's bytes, wrapped into the dtype's range */
            uint32_t b = data[(i * 7 + s) % len] * 0x01010101u;
            in[s][i] = x->dtype == DT_U8 ? (int64_t)(b & 0xff)
                     : x->dtype == DT_I8 ? (int64_t)(int8_t)(b & 0xff) : (int64_t)(int32_t)b;
        }
    }
    for (uint32_t k = 0; k < p->noutputs; k++)
        if (!(out[k] = calloc(shape_elems(&p->outputs[k].shape), sizeof(int64_t))))
            abort();
    char err[512];
    proto_env env = {0, 1, NULL};
    void *ps = proto_clear.create(&env, err, sizeof err);
    if (!ps)
        abort();
    vm_config cfg = {p, &proto_clear, ps, 0, 1, in, out, NULL, NULL, 0};
    int rc = vm_run(&cfg, err, sizeof err);
    if (rc != 0)
        fuzz_note("qbc run", err);
    if (rc == 0)
        for (uint32_t k = 0; k < p->noutputs; k++) {
            uint64_t n = shape_elems(&p->outputs[k].shape);
            int64_t *res = malloc(n * sizeof *res);
            if (!res)
                abort();
            vm_finish_output(&p->outputs[k], out[k], res, n);
            free(res);
        }
    proto_clear.destroy(ps);
    for (uint32_t s = 0; s < p->ninputs; s++)
        free(in[s]);
    for (uint32_t k = 0; k < p->noutputs; k++)
        free(out[k]);
    free(in);
    free(out);
}

int fuzz_one(const uint8_t *data, size_t len)
{
    qbc_program p;
    char err[512];
    if (qbc_load(data, len, &p, err, sizeof err) != 0) {
        fuzz_note("qbc", err);
        return 0;
    }
    disasm_program(fuzz_sink(), &p);
    if (work(&p) > MAX_WORK)
        fuzz_note("qbc", "valid, but too much work to run");
    else {
        const protocol *pr; /* every protocol's cost model, at its largest tested party count */
        for (size_t k = 0; (pr = proto_at(k)); k++) {
            cost_report r;
            int n = pr->configs[0];
            for (const int *c = pr->configs; *c; c++)
                n = *c > n ? *c : n;
            vm_assign_roles(&p, pr, n);
            if (cost_compute(&p, pr, n, &r) == 0)
                cost_free(&r);
        }
        if (vm_check_bounds(&p, err, sizeof err) != 0)
            fuzz_note("qbc bounds", err);
        vm_assign_roles(&p, &proto_clear, 1);
        run_clear(&p, data, len);
    }
    qbc_free(&p);
    return 0;
}
