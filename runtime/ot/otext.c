/* otext: SoftSpoken OT extension, IKNP at k = 1 (see otext.h). */
#include "runtime/ot/otext.h"

#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/core/kernels.h"
#include "runtime/net/prg.h"

/* Leaves of group g (OTEXT_K / k groups of 2^k): leaf[g << k | x]; the
 * sender's punctured one (x = its delta_g) is NULL. */
struct otext_sender {
    unsigned k;
    uint8_t delta[OTEXT_BLOCK]; /* Delta: bit g k + b = bit b of delta_g */
    uint8_t dg[OTEXT_K];        /* delta_g, per group */
    prg **leaf;
    uint64_t next;              /* the index of the next OT (H's tweak) */
};

struct otext_receiver {
    unsigned k;
    prg **leaf;
    uint64_t next;
};

/* ---------------------------------------------------------- transposition */

/* One step of the 64 x 64 transposition: swaps the off-diagonal j x j
 * blocks of every 2j x 2j block. Spelled with constant j and contiguous
 * halves, so that the compiler unrolls and vectorizes it (3.4 times faster
 * than one loop over all six steps). */
static inline void transpose_step(uint64_t a[64], int j, uint64_t m)
{
    for (int b = 0; b < 64; b += 2 * j)
        for (int k = b; k < b + j; k++) {
            uint64_t t = ((a[k] >> j) ^ a[k + j]) & m;
            a[k] ^= t << j;
            a[k + j] ^= t;
        }
}

/* a 64 x 64 bit matrix, a[i] bit j = entry (i, j), in place */
static void transpose64(uint64_t a[64])
{
    transpose_step(a, 32, 0x00000000FFFFFFFFull);
    transpose_step(a, 16, 0x0000FFFF0000FFFFull);
    transpose_step(a, 8, 0x00FF00FF00FF00FFull);
    transpose_step(a, 4, 0x0F0F0F0F0F0F0F0Full);
    transpose_step(a, 2, 0x3333333333333333ull);
    transpose_step(a, 1, 0x5555555555555555ull);
}

/* little-endian words (the bit order of the matrices), by memcpy where the
 * host is little-endian */
static uint64_t ld64(const uint8_t *p)
{
    uint64_t v = 0;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    memcpy(&v, p, 8);
#else
    for (int b = 7; b >= 0; b--)
        v = v << 8 | p[b];
#endif
    return v;
}

static void st64(uint8_t *p, uint64_t v)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    memcpy(p, &v, 8);
#else
    for (int b = 0; b < 8; b++)
        p[b] = (uint8_t)(v >> (8 * b));
#endif
}

/* The work of a batch is cut in chunks of OTs for the threads
 * (kern_parallel): disjoint columns, disjoint outputs. */
#define CHUNK 4096

static size_t chunks(size_t m) { return (m + CHUNK - 1) / CHUNK; }

typedef struct {
    const uint8_t *rows;
    size_t m;
    uint8_t (*cols)[OTEXT_BLOCK];
} transposing;

static void transpose_chunk(void *ctx, size_t i, int tid)
{
    (void)tid;
    const transposing *t = ctx;
    size_t rb = t->m / 8, end = (i + 1) * CHUNK < t->m ? (i + 1) * CHUNK : t->m; /* rb: bytes per row */
    uint64_t a[64];
    for (size_t c0 = i * CHUNK; c0 < end; c0 += 64)
        for (int r0 = 0; r0 < OTEXT_K; r0 += 64) {
            for (int r = 0; r < 64; r++)
                a[r] = ld64(t->rows + (size_t)(r0 + r) * rb + c0 / 8);
            transpose64(a); /* a[j] bit i = row r0 + i, column c0 + j */
            for (int j = 0; j < 64; j++)
                st64(t->cols[c0 + (size_t)j] + r0 / 8, a[j]);
        }
}

void otext_transpose(const uint8_t *rows, size_t m, uint8_t (*cols)[OTEXT_BLOCK])
{
    transposing t = {rows, m, cols};
    kern_parallel(chunks(m), kern_threads(), transpose_chunk, &t);
}

/* ------------------------------------------------------------------ hash */

/* out[j] = AES(y_j) ^ y_j, y_j = x_j ^ delta ^ tweak, tweak = first + j,
 * under a fixed public key (the hash is public: only its inputs are
 * secret); delta NULL: none (the sender's second keys take Delta) */
typedef struct {
    const uint8_t (*x)[OTEXT_BLOCK];
    const uint8_t *delta;
    size_t m;
    uint64_t first;
    uint8_t (*out)[OTEXT_BLOCK];
    _Atomic int failed;
} hashing;

static void hash_chunk(void *ctx, size_t i, int tid)
{
    (void)tid;
    static const uint8_t key[16] = "qnn otext hash 1";
    hashing *h = ctx;
    size_t j0 = i * CHUNK, n = h->m - j0 < CHUNK ? h->m - j0 : CHUNK;
    uint64_t d0 = h->delta ? ld64(h->delta) : 0, d1 = h->delta ? ld64(h->delta + 8) : 0;
    uint8_t (*y)[OTEXT_BLOCK] = malloc(n * OTEXT_BLOCK), (*out)[OTEXT_BLOCK] = h->out + j0;
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    int len = 0, ok = y && c && EVP_EncryptInit_ex(c, EVP_aes_128_ecb(), NULL, key, NULL) == 1 &&
                      EVP_CIPHER_CTX_set_padding(c, 0) == 1;
    for (size_t j = 0; ok && j < n; j++)
        st64(y[j], ld64(h->x[j0 + j]) ^ d0 ^ (h->first + j0 + j)), st64(y[j] + 8, ld64(h->x[j0 + j] + 8) ^ d1);
    ok = ok && EVP_EncryptUpdate(c, out[0], &len, y[0], (int)(n * OTEXT_BLOCK)) == 1;
    for (size_t j = 0; ok && j < n; j++)
        st64(out[j], ld64(out[j]) ^ ld64(y[j])), st64(out[j] + 8, ld64(out[j] + 8) ^ ld64(y[j] + 8));
    EVP_CIPHER_CTX_free(c);
    free(y);
    if (!ok)
        h->failed = 1;
}

static int hash_blocks(const uint8_t (*x)[OTEXT_BLOCK], const uint8_t *delta, size_t m, uint64_t first,
                       uint8_t (*out)[OTEXT_BLOCK])
{
    hashing h = {x, delta, m, first, out, 0};
    kern_parallel(chunks(m), kern_threads(), hash_chunk, &h);
    return h.failed ? -1 : 0;
}

/* ------------------------------------------------------- correlated OT */

void otext_cot_send(const uint8_t (*o0)[OTEXT_BLOCK], const uint8_t (*o1)[OTEXT_BLOCK], const uint64_t *delta,
                    size_t m, uint64_t *x, uint64_t *msg)
{
    for (size_t j = 0; j < m; j++) {
        x[j] = ld64(o0[j]);
        msg[j] = x[j] + delta[j] - ld64(o1[j]);
    }
}

void otext_cot_receive(const uint8_t (*out)[OTEXT_BLOCK], const uint8_t *choices, const uint64_t *msg, size_t m,
                       uint64_t *y)
{
    for (size_t j = 0; j < m; j++)
        y[j] = ld64(out[j]) + (((choices[j / 8] >> (j % 8)) & 1) ? msg[j] : 0);
}

/* --------------------------------------------------------------- parties */

static int k_ok(unsigned k) { return k == 1 || k == 2 || k == 4 || k == 8; }

size_t otext_setup_bytes(unsigned k) { return k > 1 ? (size_t)OTEXT_K * 2 * OTEXT_BLOCK : 0; }

size_t otext_u_bytes(unsigned k, size_t m) { return (size_t)OTEXT_K / k * (m / 8); }

static void leaves_free(prg **leaf, size_t n)
{
    for (size_t i = 0; leaf && i < n; i++)
        prg_free(leaf[i]);
    free(leaf);
}

static size_t nleaves(unsigned k) { return (size_t)OTEXT_K / k << k; }

/* a GGM node's two children */
static void children(const uint8_t node[OTEXT_BLOCK], uint8_t (*kid)[OTEXT_BLOCK])
{
    prg *g = prg_new(node);
    if (!g)
        abort(); /* both parties must expand alike: no fallback */
    prg_fill(g, kid, 2 * OTEXT_BLOCK);
    prg_free(g);
}

/* d ^= a over n bytes, n a multiple of 16 (the rows of a batch), by words */
static void xor_rows(uint8_t *d, const uint8_t *a, size_t n)
{
    for (size_t b = 0; b < n; b += 8) {
        uint64_t x, y;
        memcpy(&x, d + b, 8), memcpy(&y, a + b, 8);
        x ^= y;
        memcpy(d + b, &x, 8);
    }
}

otext_receiver *otext_receiver_new(unsigned k, const uint8_t (*k0)[16], const uint8_t (*k1)[16], uint8_t *setup)
{
    otext_receiver *o = k_ok(k) ? calloc(1, sizeof *o) : NULL;
    uint8_t (*node)[OTEXT_BLOCK] = malloc(((size_t)2 << k) * OTEXT_BLOCK);
    if (!o || !node || !(o->leaf = calloc(nleaves(k), sizeof *o->leaf))) {
        free(node), free(o);
        return NULL;
    }
    o->k = k;
    int ok = 1;
    for (unsigned g = 0; ok && g < OTEXT_K / k; g++) {
        if (k == 1) { /* IKNP: the base OTs' keys are the leaves */
            ok = (o->leaf[2 * g] = prg_new(k0[g])) && (o->leaf[2 * g + 1] = prg_new(k1[g]));
            continue;
        }
        /* a GGM tree from a fresh root; level j's left and right sums go out
         * under base OT g k + j - 1's keys */
        ok = prg_seed(node[0]) == 0;
        for (unsigned j = 1; ok && j <= k; j++) {
            size_t w = (size_t)1 << j;
            for (size_t i = w / 2; i-- > 0;)
                children(node[i], node + 2 * i);
            uint8_t *msg = setup + ((size_t)g * k + j - 1) * 2 * OTEXT_BLOCK;
            memcpy(msg, k0[g * k + j - 1], OTEXT_BLOCK);
            memcpy(msg + OTEXT_BLOCK, k1[g * k + j - 1], OTEXT_BLOCK);
            for (size_t i = 0; i < w; i++)
                xor_rows(msg + (i & 1) * OTEXT_BLOCK, node[i], OTEXT_BLOCK);
        }
        for (size_t x = 0; ok && x < ((size_t)1 << k); x++)
            ok = (o->leaf[(size_t)g << k | x] = prg_new(node[x])) != NULL;
    }
    free(node);
    if (!ok) {
        otext_receiver_free(o);
        return NULL;
    }
    return o;
}

otext_sender *otext_sender_new(unsigned k, const uint8_t s[OTEXT_K / 8], const uint8_t (*ks)[16],
                               const uint8_t *setup)
{
    otext_sender *o = k_ok(k) ? calloc(1, sizeof *o) : NULL;
    uint8_t (*node)[OTEXT_BLOCK] = malloc(((size_t)2 << k) * OTEXT_BLOCK);
    if (!o || !node || !(o->leaf = calloc(nleaves(k), sizeof *o->leaf))) {
        free(node), free(o);
        return NULL;
    }
    o->k = k;
    int ok = 1;
    for (unsigned g = 0; ok && g < OTEXT_K / k; g++) {
        /* delta_g's bits from the top (level 1 first) are the complements of
         * the base choices: at each level this party learns the other side */
        unsigned d = 0;
        for (unsigned j = 1; j <= k; j++)
            d = d << 1 | (1u ^ ((s[(g * k + j - 1) / 8] >> ((g * k + j - 1) % 8)) & 1));
        o->dg[g] = (uint8_t)d;
        for (unsigned b = 0; b < k; b++)
            o->delta[(g * k + b) / 8] |= (uint8_t)(((d >> b) & 1) << ((g * k + b) % 8));
        if (k == 1) {
            ok = (o->leaf[2 * g + (1 - d)] = prg_new(ks[g])) != NULL;
            continue;
        }
        /* level j: every node but the path's from its parent; the path's
         * sibling from the received side sum */
        size_t path = 0;
        for (unsigned j = 1; j <= k; j++) {
            size_t w = (size_t)1 << j;
            unsigned dj = (d >> (k - j)) & 1;
            for (size_t i = w / 2; i-- > 0;)
                if (i != path) /* the path's node is the one unknown */
                    children(node[i], node + 2 * i);
            const uint8_t *msg = setup + ((size_t)g * k + j - 1) * 2 * OTEXT_BLOCK + (1 - dj) * OTEXT_BLOCK;
            size_t sib = 2 * path + (1 - dj);
            memcpy(node[sib], msg, OTEXT_BLOCK);
            xor_rows(node[sib], ks[g * k + j - 1], OTEXT_BLOCK);
            for (size_t i = 1 - dj; i < w; i += 2)
                if (i != sib)
                    xor_rows(node[sib], node[i], OTEXT_BLOCK);
            path = 2 * path + dj;
        }
        for (size_t x = 0; ok && x < ((size_t)1 << k); x++)
            ok = x == path || (o->leaf[(size_t)g << k | x] = prg_new(node[x])) != NULL;
    }
    free(node);
    if (!ok) {
        otext_sender_free(o);
        return NULL;
    }
    return o;
}

void otext_sender_free(otext_sender *s)
{
    if (s)
        leaves_free(s->leaf, nleaves(s->k));
    free(s);
}

void otext_receiver_free(otext_receiver *r)
{
    if (r)
        leaves_free(r->leaf, nleaves(r->k));
    free(r);
}

/* One batch's rows, group by group on the threads: each group has its own
 * leaves and rows (and, at the receiver, its own part of u). */
typedef struct {
    prg **leaf;
    unsigned k;
    size_t rb;
    const uint8_t *dg, *u, *choices; /* sender: delta_g and u; receiver: r */
    uint8_t *rows, *uout;
    _Atomic int failed;
} grouping;

static void receive_group(void *ctx, size_t g, int tid)
{
    (void)tid;
    grouping *w = ctx;
    size_t rb = w->rb;
    uint8_t *ug = w->uout + g * rb, *v = malloc(rb);
    if (!v) {
        w->failed = 1;
        return;
    }
    memcpy(ug, w->choices, rb);
    for (size_t x = 0; x < ((size_t)1 << w->k); x++) {
        prg_fill(w->leaf[g << w->k | x], v, rb);
        xor_rows(ug, v, rb);
        for (unsigned bit = 0; bit < w->k; bit++)
            if ((x >> bit) & 1)
                xor_rows(w->rows + (g * w->k + bit) * rb, v, rb);
    }
    free(v);
}

static void send_group(void *ctx, size_t g, int tid)
{
    (void)tid;
    grouping *w = ctx;
    size_t rb = w->rb;
    uint8_t *v = malloc(rb);
    if (!v) {
        w->failed = 1;
        return;
    }
    for (size_t x = 0; x < ((size_t)1 << w->k); x++) {
        if (x == w->dg[g])
            continue;
        prg_fill(w->leaf[g << w->k | x], v, rb);
        for (unsigned bit = 0; bit < w->k; bit++)
            if (((x ^ w->dg[g]) >> bit) & 1)
                xor_rows(w->rows + (g * w->k + bit) * rb, v, rb);
    }
    for (unsigned bit = 0; bit < w->k; bit++)
        if ((w->dg[g] >> bit) & 1)
            xor_rows(w->rows + (g * w->k + bit) * rb, w->u + g * rb, rb);
    free(v);
}

/* A batch's m columns T_j or Q_j (NULL: out of memory): the rows, group by
 * group (fn) on the threads, then transposed. */
static uint8_t (*batch_columns(grouping *w, kern_item_fn *fn, size_t m))[OTEXT_BLOCK]
{
    uint8_t (*cols)[OTEXT_BLOCK] = malloc(m * OTEXT_BLOCK);
    w->rows = calloc(OTEXT_K, w->rb);
    if (cols && w->rows)
        kern_parallel(OTEXT_K / w->k, kern_threads(), fn, w);
    if (cols && w->rows && !w->failed)
        otext_transpose(w->rows, m, cols);
    else
        free(cols), cols = NULL;
    free(w->rows);
    return cols;
}

/* Per group, the leaves' next rb bytes: the receiver's u = xor of all and
 * v_b = xor of those whose index has bit b (its rows t); the sender's w_b =
 * xor over x of bit b of x ^ delta_g (the punctured leaf has none), which
 * is v_b ^ delta_g[b] u. */
int otext_receive(otext_receiver *r, const uint8_t *choices, size_t m, uint8_t *u, uint8_t (*out)[OTEXT_BLOCK])
{
    if (m % 128)
        return -1;
    grouping w = {r->leaf, r->k, m / 8, NULL, NULL, choices, NULL, u, 0};
    const uint8_t (*t)[OTEXT_BLOCK] = (const uint8_t (*)[OTEXT_BLOCK])batch_columns(&w, receive_group, m);
    int rc = t ? hash_blocks(t, NULL, m, r->next, out) : -1;
    r->next += t ? m : 0;
    free((void *)t);
    return rc;
}

int otext_send(otext_sender *s, const uint8_t *u, size_t m, uint8_t (*out0)[OTEXT_BLOCK],
               uint8_t (*out1)[OTEXT_BLOCK])
{
    if (m % 128)
        return -1;
    grouping w = {s->leaf, s->k, m / 8, s->dg, u, NULL, NULL, NULL, 0};
    const uint8_t (*q)[OTEXT_BLOCK] = (const uint8_t (*)[OTEXT_BLOCK])batch_columns(&w, send_group, m);
    int rc = q ? hash_blocks(q, NULL, m, s->next, out0) || hash_blocks(q, s->delta, m, s->next, out1) : -1;
    s->next += q ? m : 0;
    free((void *)q);
    return rc ? -1 : 0;
}
