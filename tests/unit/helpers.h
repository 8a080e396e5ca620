/* helpers: compile a DSL source in-process, make deterministic inputs, run
 * the clear protocol and hand back the outputs, for the unit tests. */
#ifndef HELPERS_H
#define HELPERS_H

#include <stdint.h>
#include <stdio.h>

#include "vm/bytecode.h"

typedef struct {
    qbc_program p;
    int64_t **in;  /* per input slot */
    int64_t **out; /* per output slot: revealed values (before softmax) */
    int drop_inputs; /* vm_config's: in[s] freed after its INPUT */
} th_run;

/* Compiles src; returns the error count, with messages in msgs (if not NULL). */
int th_compile(const char *src, qbc_program *p, char *msgs, size_t msglen);
/* The same with compile.h's flags. */
int th_compile_flags(const char *src, unsigned flags, qbc_program *p, char *msgs, size_t msglen);
/* Fills every input with pseudo-random values of its dtype (seed per slot);
 * i32 inputs lie in [-bias_range, bias_range]. */
void th_random_inputs(th_run *r, uint32_t seed, int64_t bias_range);
/* Runs r->p in clear with r->in; 0 on success, else err holds the message. */
int th_run_clear(th_run *r, char *err, size_t errlen);
void th_free(th_run *r);
/* Index of an input slot by name, or -1. */
int th_input(const th_run *r, const char *name);

/* Reference TFLite arithmetic written independently of runtime/core/qmath.c. */
int64_t ref_requant(int64_t acc, int32_t m0, int shift);
int64_t ref_clamp(int64_t v, int64_t lo, int64_t hi);
/* The quantization TFLite's kernel tests give a tensor declared by its
 * float range [fmin, fmax] (fmin <= 0 <= fmax): test_util.h's
 * QuantizationParams<T>, in float: scale (fmax - fmin) / (qmax - qmin), the
 * zero point from the end with the smaller error, rounded, within [qmin, qmax]. */
void tu_quant_params(float fmin, float fmax, int32_t qmin, int32_t qmax, float *scale, int32_t *zp);

#endif
