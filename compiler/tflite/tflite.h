/* tflite: imports a TensorFlow Lite flatbuffer model as a DSL program (the
 * public architecture, shapes and quantization) and its constant tensors
 * (the model owner's private weights and biases). Party 0 is the model owner,
 * party 1 the client, who provides the model's input and receives the result.
 * Unsupported operators, types or quantization are errors naming the
 * operator and its index; nothing is approximated. */
#ifndef TFLITE_H
#define TFLITE_H

#include <stddef.h>
#include <stdint.h>

#include "runtime/io/tensorio.h"

enum tfl_output { TFL_OUT_MODEL, TFL_OUT_LOGITS, TFL_OUT_ARGMAX };

typedef struct {
    char *qnn;           /* the program text */
    tio_tensor *weights; /* the constant tensors, by their names in the program */
    int nweights;
} tfl_result;

/* flags: TFL_FAST, every layer statement says rounding=fast (probabilistic
 * rounding; else TFLite's); TFL_SECRET, the layers' quantization
 * parameters become owner inputs (docs/dsl.md, secret=). */
/* TFL_FC_PER_TENSOR, a fully connected layer with per-channel weight
 * scales is computed per tensor with the first one, as TFLite's kernels did
 * before they took per-channel dense layers (the shared Keras reference). */
/* TFL_MEAN_INT, MEAN in TFLite 2.13 and later's integer arithmetic (the
 * DSL's arith=int; with keep_dims on int8, arith=opt, the default
 * resolver's kernel, or with TFL_MEAN_REF too arith=int, the reference
 * resolver's); else in 2.12 and before's float one (arith=float). */
enum { TFL_FAST = 1, TFL_SECRET = 2, TFL_FC_PER_TENSOR = 4, TFL_MEAN_INT = 8, TFL_MEAN_REF = 16 };
/* Returns 0, or -1 with a one-line message in err. */
int tfl_import(const uint8_t *buf, size_t len, const char *name, enum tfl_output mode, unsigned flags,
               tfl_result *out, char *err, size_t errlen);
void tfl_free(tfl_result *r);

#endif
