/* helpers: in-process compile and clear runs for the unit tests. */
#include "helpers.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "compiler/compile.h"
#include "runtime/proto/proto.h"
#include "vm/vm.h"

int th_compile(const char *src, qbc_program *p, char *msgs, size_t msglen)
{
    return th_compile_flags(src, 0, p, msgs, msglen);
}

int th_compile_flags(const char *src, unsigned flags, qbc_program *p, char *msgs, size_t msglen)
{
    FILE *f = tmpfile();
    memset(p, 0, sizeof *p);
    int n = compile_source("test.qnn", src, strlen(src), flags, p, f);
    if (msgs) {
        rewind(f);
        size_t got = fread(msgs, 1, msglen - 1, f);
        msgs[got] = 0;
    }
    fclose(f);
    return n;
}

static uint32_t next(uint32_t *s)
{
    uint32_t x = *s;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return *s = x;
}

void th_random_inputs(th_run *r, uint32_t seed, int64_t bias_range)
{
    r->in = calloc(r->p.ninputs + 1, sizeof *r->in);
    for (uint32_t s = 0; s < r->p.ninputs; s++) {
        const qbc_input *in = &r->p.inputs[s];
        uint64_t n = shape_elems(&in->shape);
        uint32_t st = seed * 7919u + s * 104729u + 1;
        r->in[s] = malloc(n * sizeof(int64_t));
        for (uint64_t i = 0; i < n; i++) {
            uint32_t v = next(&st);
            r->in[s][i] = in->dtype == DT_U8   ? (int64_t)(v & 0xff)
                          : in->dtype == DT_I8 ? (int64_t)(int8_t)(v & 0xff)
                                               : (int64_t)(v % (uint32_t)(2 * bias_range + 1)) - bias_range;
        }
    }
}

int th_run_clear(th_run *r, char *err, size_t errlen)
{
    r->out = calloc(r->p.noutputs + 1, sizeof *r->out);
    for (uint32_t o = 0; o < r->p.noutputs; o++)
        r->out[o] = calloc(shape_elems(&r->p.outputs[o].shape), sizeof(int64_t));
    proto_env env = {0, 1, NULL};
    void *ps = proto_clear.create(&env, err, errlen);
    vm_config cfg = {&r->p, &proto_clear, ps, 0, 1, r->in, r->out, NULL, NULL, r->drop_inputs};
    int rc = vm_run(&cfg, err, errlen);
    proto_clear.destroy(ps);
    return rc;
}

void th_free(th_run *r)
{
    for (uint32_t s = 0; r->in && s < r->p.ninputs; s++)
        free(r->in[s]);
    for (uint32_t o = 0; r->out && o < r->p.noutputs; o++)
        free(r->out[o]);
    free(r->in);
    free(r->out);
    qbc_free(&r->p);
    memset(r, 0, sizeof *r);
}

int th_input(const th_run *r, const char *name)
{
    for (uint32_t s = 0; s < r->p.ninputs; s++)
        if (strcmp(r->p.inputs[s].name, name) == 0)
            return (int)s;
    return -1;
}

/* round(a*b / 2^31) with ties toward +infinity, as gemmlowp's nudge does */
static int64_t ref_high_mul(int64_t a, int64_t b)
{
    if (a == INT32_MIN && b == INT32_MIN)
        return INT32_MAX;
    __int128 p = (__int128)a * b * 2 + ((__int128)1 << 31);
    __int128 q = p >> 32; /* floor */
    return (int64_t)q;
}

static int64_t ref_div_pot(int64_t x, int e) /* round half away from zero */
{
    if (e == 0)
        return x;
    int64_t mag = x < 0 ? -x : x;
    int64_t q = (mag + ((int64_t)1 << (e - 1))) >> e;
    return x < 0 ? -q : q;
}

int64_t ref_requant(int64_t acc, int32_t m0, int shift)
{
    int64_t x = (int32_t)(uint32_t)((uint64_t)acc << (shift > 0 ? shift : 0));
    return ref_div_pot(ref_high_mul(x, m0), shift > 0 ? 0 : -shift);
}

int64_t ref_clamp(int64_t v, int64_t lo, int64_t hi) { return v < lo ? lo : v > hi ? hi : v; }

void tu_quant_params(float fmin, float fmax, int32_t qmin, int32_t qmax, float *scale, int32_t *zp)
{
    float lo = (float)qmin, hi = (float)qmax, s = (fmax - fmin) / (hi - lo);
    float from_min = lo - fmin / s, from_max = hi - fmax / s;
    float z = fabsf(lo) + fabsf(fmin / s) < fabsf(hi) + fabsf(fmax / s) ? from_min : from_max;
    *scale = s;
    *zp = z < lo ? qmin : z > hi ? qmax : (int32_t)roundf(z);
}
