/* kernels: the hot loops over Z_2^64 (uint64_t arithmetic wraps mod 2^64),
 * Z_2^128 and F_(2^127 - 1).
 * Used by every protocol for the local part of convolutions: clear on values,
 * replicated and additive sharing on (combinations of) shares. */
#ifndef KERNELS_H
#define KERNELS_H

#include <stddef.h>
#include <stdint.h>

#include "runtime/core/fp127.h"
#include "runtime/core/geom.h"

/* Threads for the convolutions (default 1); each party process has its own. */
void kern_set_threads(int n);
int kern_threads(void);
/* fn(ctx, i, tid) for every i < n, on up to `threads` threads (tid < threads
 * names the thread, for per-thread scratch); the items must write disjoint
 * memory. Returns when all are done. */
typedef void kern_item_fn(void *ctx, size_t i, int tid);
void kern_parallel(size_t n, int threads, kern_item_fn *fn, void *ctx);
/* d[OH*OW*OC] = conv of x[H*W*C] with w[OC*KH*KW*C]; padding contributes 0. */
void kern_conv2d(uint64_t *d, const uint64_t *x, const uint64_t *w, const geom *g, uint32_t oc);
/* d[OH*OW*C*M] = depthwise conv of x[H*W*C] with w[KH*KW*C*M]. */
void kern_dwconv2d(uint64_t *d, const uint64_t *x, const uint64_t *w, const geom *g, uint32_t m);
/* The same over Z_2^128 (spdz2k's shares; GCC and Clang's 128-bit integers). */
__extension__ typedef unsigned __int128 kern_u128;
void kern_conv2d_128(kern_u128 *d, const kern_u128 *x, const kern_u128 *w, const geom *g, uint32_t oc);
void kern_dwconv2d_128(kern_u128 *d, const kern_u128 *x, const kern_u128 *w, const geom *g, uint32_t m);
/* The same over F_(2^127 - 1) (the prime-field protocols' shares): a
 * convolution's dot products reduce once a tap (fp127_acc). */
void kern_conv2d_fp(fp127 *d, const fp127 *x, const fp127 *w, const geom *g, uint32_t oc);
void kern_dwconv2d_fp(fp127 *d, const fp127 *x, const fp127 *w, const geom *g, uint32_t m);
/* d[OH*OW*C] = tap k of every window of x, elements of `words` words each;
 * a tap in the padding takes the window's first in-bounds element when
 * first_inbounds is set, else zero. */
void kern_window(uint64_t *d, const uint64_t *x, const geom *g, uint32_t k, int words,
                 int first_inbounds);

#endif
