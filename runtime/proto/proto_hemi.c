/* proto_hemi: two parties and nobody else, passive security against either:
 * additive sharing over Z_2^64 between party 0 (the model owner) and party
 * 1 (the client), with no dealer. Linear layers by RLWE homomorphic
 * encryption (rlwe.h, he_conv.h): the client encrypts its share of a
 * convolution's input, the owner multiplies by its own plaintext filters,
 * re-randomizes, masks and shrinks the result, the client decrypts its
 * share. Everything else by oblivious transfer (baseot.h, otext.h): random
 * OTs made in a first round (the preamble) and spent by one-sided products
 * (a value of one party times a bit of the other), AND triples for the
 * comparisons' carry trees, and the bit-to-arithmetic conversion.
 *
 *   INPUT      the provider's share is the value, the other's 0: no message
 *   OUTPUT     the other party sends its share
 *   MUL        the two cross terms by Gilboa's method: 64 one-sided products
 *              per element and direction (a share times each bit of the other)
 *   CONV2D     HE on the client's share in limbs (each small enough for the
 *              noise bound), the low limbs lifted from Z_2^l exactly by a
 *              known-MSB wrap (one one-sided product per output)
 *   TRUNC      the wrap of the shares' sum from their top bits (the value's
 *              own top bit is known to be 0): one one-sided product
 *   LTZ        a carry tree over the two parties' bits: generate bits by
 *              one-sided products, ANDs with triples, one level a round
 *   CLAMP, REQCLAMP, EXACT, REQS: composed from the above (proto.h)
 * docs/protocols.md "hemi" lists every message, its receiver and its mask. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "runtime/core/bits.h"
#include "runtime/core/kernels.h"
#include "runtime/he/he_conv.h"
#include "runtime/he/rlwe.h"
#include "runtime/net/net.h"
#include "runtime/net/prg.h"
#include "runtime/ot/baseot.h"
#include "runtime/ot/otext.h"
#include "runtime/proto/additive.h"
#include "runtime/proto/proto.h"

extern const protocol proto_hemi; /* defined at the end; its composites call back into it */

#define W sizeof(word)
#define HEMI_LOGN 12
#define HEMI_N (1u << HEMI_LOGN)
#define HEMI_QMAX 109  /* the HE Standard's bound for N = 4096, ternary secrets, 128 bits */
#define HEMI_WMAX 255  /* the largest |filter weight| the owner may hold */
#define HEMI_MAXLIMBS 8
#define HEMI_OTK 4     /* SoftSpoken's k: OTEXT_K / 4 = 32 bits sent per random OT */

typedef kern_u128 u128;
typedef uint8_t blk[OTEXT_BLOCK];

typedef struct {
    add_parties ap;       /* me: 0 the owner, 1 the client (first: add_word_addc) */
    int peer;
    otext_receiver *rx;   /* OTs this party receives */
    otext_sender *sx;     /* OTs it sends */
    prg *g;               /* private randomness */
    prg *common;          /* randomness both draw alike (from the public seed): trunc_split's */
    uint64_t pre_bytes;   /* OT extension: bytes of u queued (the wire's total is bytes_sent's), */
    double pre_s;         /* seconds spent (pre_stats) */
    rlwe_params rp;
    rlwe_sk sk;           /* the client's */
    uint8_t aseed[16];    /* public: the a parts of the client's ciphertexts and key */
    uint8_t eseed[16];    /* private: the client's encryption errors */
    u128 *bpk;            /* the public key's b at HEMI_QMAX bits */
    uint64_t ctr;         /* ciphertexts so far: the a parts' stream index, equal at both */
} hemi;

static word rnd_word(hemi *h)
{
    word w;
    prg_fill(h->g, &w, sizeof w);
    return w;
}

/* ---------------------------------------------------------------- set-up
 * Round 1: each party's Chou-Orlandi first message (it will be the sender
 * of the base OTs, so the receiver of the extension); the client adds the
 * public seed and its public key. Round 2: each party's base-OT choices
 * (the points B_i), for random choices s that become its extension
 * sender's secret. */

static size_t pk_bytes(void) { return 16 + ((size_t)HEMI_N * HEMI_QMAX + 7) / 8; }

static int hemi_keys(hemi *h, char *err, size_t errlen)
{
    uint8_t seed[16];
    if (prg_seed(seed) || !(h->g = prg_new(seed)) || rlwe_init(&h->rp, HEMI_LOGN) ||
        !(h->bpk = malloc(HEMI_N * sizeof *h->bpk))) {
        snprintf(err, errlen, "hemi: out of memory or entropy at set-up");
        return -1;
    }
    if (h->ap.me == 1) {
        uint8_t kseed[16];
        prg_fill(h->g, kseed, 16), prg_fill(h->g, h->aseed, 16), prg_fill(h->g, h->eseed, 16);
        uint64_t *zero = calloc(HEMI_N, sizeof *zero);
        int rc = !zero || rlwe_keygen(&h->rp, kseed, &h->sk) ||
                 rlwe_encrypt(&h->rp, &h->sk, h->aseed, 0, h->eseed, HEMI_QMAX, 1, zero, h->bpk);
        free(zero);
        if (rc) {
            snprintf(err, errlen, "hemi: out of memory at key generation");
            return -1;
        }
    }
    return 0;
}

static void *hemi_create(const proto_env *env, char *err, size_t errlen)
{
    if (env->nparties != 2 || !env->net || env->party > 1) {
        snprintf(err, errlen, "hemi runs with exactly 2 parties over the network (no dealer)");
        return NULL;
    }
    hemi *h = proto_zalloc(sizeof *h);
    h->ap = (add_parties){env->net, env->party, 2};
    h->peer = 1 - env->party;
    net *nt = h->ap.nt;
    uint8_t A[BASEOT_POINT], s[OTEXT_K / 8], sbits[OTEXT_K], (*ks)[BASEOT_KEY] = NULL, (*k0)[BASEOT_KEY] = NULL,
                              (*k1)[BASEOT_KEY] = NULL;
    baseot_sender *bs = NULL;
    if (hemi_keys(h, err, errlen) || !(bs = baseot_sender_new(A, err, errlen)))
        goto fail;
    memcpy(net_out(nt, h->peer, BASEOT_POINT), A, BASEOT_POINT);
    net_expect(nt, h->peer, BASEOT_POINT + (h->ap.me == 0 ? pk_bytes() : 0));
    if (h->ap.me == 1) {
        memcpy(net_out(nt, 0, 16), h->aseed, 16);
        rlwe_pack(h->bpk, HEMI_N, HEMI_QMAX, net_out(nt, 0, pk_bytes() - 16));
    }
    if (net_round(nt, err, errlen))
        goto fail;
    uint8_t Apeer[BASEOT_POINT];
    memcpy(Apeer, net_in(nt, h->peer, BASEOT_POINT), BASEOT_POINT);
    if (h->ap.me == 0) {
        memcpy(h->aseed, net_in(nt, 1, 16), 16);
        rlwe_unpack(net_in(nt, 1, pk_bytes() - 16), HEMI_N, HEMI_QMAX, h->bpk);
    }
    uint8_t cseed[16]; /* the public seed, another stream (rlwe's streams hash theirs) */
    for (int i = 0; i < 16; i++)
        cseed[i] = h->aseed[i] ^ 0x5c;
    if (!(h->common = prg_new(cseed))) {
        snprintf(err, errlen, "hemi: out of memory at set-up");
        goto fail;
    }
    prg_fill(h->g, s, sizeof s);
    for (int i = 0; i < OTEXT_K; i++)
        sbits[i] = (s[i / 8] >> (i % 8)) & 1;
    ks = malloc(OTEXT_K * sizeof *ks), k0 = malloc(OTEXT_K * sizeof *k0), k1 = malloc(OTEXT_K * sizeof *k1);
    if (!ks || !k0 || !k1) {
        snprintf(err, errlen, "hemi: out of memory at set-up");
        goto fail;
    }
    if (baseot_receive(Apeer, sbits, OTEXT_K, net_out(nt, h->peer, (size_t)OTEXT_K * BASEOT_POINT), ks, err, errlen))
        goto fail;
    net_expect(nt, h->peer, (size_t)OTEXT_K * BASEOT_POINT);
    if (net_round(nt, err, errlen) ||
        baseot_sender_keys(bs, net_in(nt, h->peer, (size_t)OTEXT_K * BASEOT_POINT), OTEXT_K, k0, k1, err, errlen))
        goto fail;
    /* round 3: the extension's set-up (SoftSpoken's GGM level sums) */
    size_t sb = otext_setup_bytes(HEMI_OTK);
    if (!(h->rx = otext_receiver_new(HEMI_OTK, (const uint8_t(*)[16])k0, (const uint8_t(*)[16])k1,
                                     net_out(nt, h->peer, sb)))) {
        snprintf(err, errlen, "hemi: out of memory or entropy at set-up");
        goto fail;
    }
    net_expect(nt, h->peer, sb);
    if (net_round(nt, err, errlen))
        goto fail;
    if (!(h->sx = otext_sender_new(HEMI_OTK, s, (const uint8_t(*)[16])ks, net_in(nt, h->peer, sb)))) {
        snprintf(err, errlen, "hemi: out of memory at set-up");
        goto fail;
    }
    baseot_sender_free(bs);
    free(ks), free(k0), free(k1);
    return h;
fail:
    baseot_sender_free(bs);
    free(ks), free(k0), free(k1);
    proto_hemi.destroy(h);
    return NULL;
}

static void hemi_destroy(void *ps)
{
    hemi *h = ps;
    if (!h)
        return;
    otext_receiver_free(h->rx);
    otext_sender_free(h->sx);
    prg_free(h->g);
    prg_free(h->common);
    rlwe_sk_free(&h->sk);
    rlwe_free(&h->rp);
    free(h->bpk);
    free(h);
}

static void hemi_setup_cost(int nparties, proto_cost *acc)
{
    (void)nparties;
    acc->rounds += 3;
    acc->bytes[0] += BASEOT_POINT + (uint64_t)OTEXT_K * BASEOT_POINT + otext_setup_bytes(HEMI_OTK);
    acc->bytes[1] += BASEOT_POINT + pk_bytes() + (uint64_t)OTEXT_K * BASEOT_POINT + otext_setup_bytes(HEMI_OTK);
}

/* ------------------------------------------------------- local, linear */

/* ---------------------------------------------------------- random OTs
 * An operation's first step makes all the random OTs it will spend, in two
 * pools: pool[i] holds those party i receives (choice bits drawn by party i,
 * which sends the extension matrix: 4 bytes per OT with SoftSpoken's k = 4,
 * the count padded to a multiple of 128). A party keeps, for its own pool, its choices c and keys
 * k = K_c, and for the other's, the pairs (K_0, K_1). The gadgets below take
 * their OTs from fixed positions of the pools, the same at both parties. */

typedef struct {
    size_t m[2];       /* OTs in pool 0, pool 1 */
    uint8_t *c;        /* mine: choices (0/1 per byte) */
    blk *k;            /* mine: keys */
    blk *k0, *k1;      /* the other's: pairs */
} rots;

static size_t pad128(size_t m) { return (m + 127) / 128 * 128; }
static uint64_t rots_bytes(size_t m) { return otext_u_bytes(HEMI_OTK, pad128(m)); }

/* the cost of m random OTs that `party` receives: its message, which no
 * input affects */
static uint64_t rots_cost(proto_cost *acc, int party, size_t m)
{
    acc->pre[party] += rots_bytes(m);
    return rots_bytes(m);
}

static double mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void rots_begin(hemi *h, rots *r, size_t m0, size_t m1)
{
    double t0 = mono();
    r->m[0] = m0, r->m[1] = m1;
    size_t mine = pad128(r->m[h->ap.me]), theirs = pad128(r->m[h->peer]);
    if (mine) {
        uint8_t *packed = proto_alloc(mine / 8);
        prg_fill(h->g, packed, mine / 8);
        r->c = proto_alloc(mine);
        for (size_t i = 0; i < mine; i++)
            r->c[i] = (packed[i / 8] >> (i % 8)) & 1;
        r->k = proto_alloc(mine * sizeof *r->k);
        if (otext_receive(h->rx, packed, mine, net_out(h->ap.nt, h->peer, rots_bytes(mine)), r->k))
            abort(); /* mine is a multiple of 128 and memory is there: cannot fail */
        free(packed);
        h->pre_bytes += rots_bytes(mine);
    }
    if (theirs)
        net_expect(h->ap.nt, h->peer, rots_bytes(theirs));
    h->pre_s += mono() - t0;
}

static void rots_end(hemi *h, rots *r)
{
    size_t theirs = pad128(r->m[h->peer]);
    if (!theirs)
        return;
    double t0 = mono();
    r->k0 = proto_alloc(theirs * sizeof *r->k0);
    r->k1 = proto_alloc(theirs * sizeof *r->k1);
    if (otext_send(h->sx, net_in(h->ap.nt, h->peer, rots_bytes(theirs)), theirs, r->k0, r->k1))
        abort();
    h->pre_s += mono() - t0;
}

static void hemi_pre_stats(void *ps, uint64_t *bytes, double *secs)
{
    hemi *h = ps;
    *bytes = h->pre_bytes, *secs = h->pre_s;
}

static void rots_free(rots *r)
{
    free(r->c), free(r->k), free(r->k0), free(r->k1);
    memset(r, 0, sizeof *r);
}

static word kword(const blk k)
{
    word w;
    memcpy(&w, k, sizeof w);
    return w;
}

/* ---- one-sided products: X of the sender S times a bit v of the
 * receiver R, from one random OT that R receives (choice c, key K_c; S has
 * K_0, K_1): rho = K_0 and Delta = K_1 - K_0 (as words), so R holds rho +
 * c Delta. In one round R sends d = v ^ c (one bit) and S sends f = X -
 * Delta (uniform: R lacks K_{1-c}); then
 *     S: d Delta - (1 - 2d) rho        R: v f + (1 - 2d) K_c
 * sum to v X. The bit version works in GF(2) with the keys' low bits. */

/* cnt bits into the message to the other party; the last byte's unused
 * bits random, so that every bit sent is uniform */
static uint8_t *bits_out(hemi *h, size_t cnt)
{
    uint8_t *o = net_out(h->ap.nt, h->peer, (cnt + 7) / 8);
    memset(o, 0, (cnt + 7) / 8);
    if (cnt % 8) {
        prg_fill(h->g, o + cnt / 8, 1);
        o[cnt / 8] &= (uint8_t)(0xff << (cnt % 8));
    }
    return o;
}

static void osp_send_d(hemi *h, const rots *r, size_t at, const uint8_t *v, size_t cnt)
{
    uint8_t *o = bits_out(h, cnt);
    for (size_t i = 0; i < cnt; i++)
        o[i / 8] |= (uint8_t)((v[i] ^ r->c[at + i]) << (i % 8));
}

static void osp_send_f(hemi *h, const rots *r, size_t at, const word *X, size_t cnt)
{
    uint8_t *o = net_out(h->ap.nt, h->peer, cnt * W);
    for (size_t i = 0; i < cnt; i++) {
        word f = X[i] - (kword(r->k1[at + i]) - kword(r->k0[at + i]));
        memcpy(o + i * W, &f, W);
    }
}

static void osp_send_fbits(hemi *h, const rots *r, size_t at, const uint8_t *X, size_t cnt)
{
    uint8_t *o = bits_out(h, cnt);
    for (size_t i = 0; i < cnt; i++)
        o[i / 8] |= (uint8_t)((X[i] ^ ((r->k0[at + i][0] ^ r->k1[at + i][0]) & 1)) << (i % 8));
}

static int inbit(const uint8_t *in, size_t i) { return (in[i / 8] >> (i % 8)) & 1; }

/* S's shares from R's d bits (in) */
static void osp_s(const rots *r, size_t at, const uint8_t *in, size_t cnt, word *out)
{
    for (size_t i = 0; i < cnt; i++) {
        word d = (word)inbit(in, i), rho = kword(r->k0[at + i]), delta = kword(r->k1[at + i]) - rho;
        out[i] = d * delta - (1 - 2 * d) * rho;
    }
}

static void osp_s_bits(const rots *r, size_t at, const uint8_t *in, size_t cnt, uint8_t *out)
{
    for (size_t i = 0; i < cnt; i++) {
        int rho = r->k0[at + i][0] & 1, delta = (r->k1[at + i][0] & 1) ^ rho;
        out[i] = (uint8_t)((inbit(in, i) & delta) ^ rho);
    }
}

/* R's shares from S's f words (in) */
static void osp_r(const rots *r, size_t at, const uint8_t *v, const uint8_t *in, size_t cnt, word *out)
{
    for (size_t i = 0; i < cnt; i++) {
        word f, d = (word)(v[i] ^ r->c[at + i]);
        memcpy(&f, in + i * W, W);
        out[i] = v[i] * f + (1 - 2 * d) * kword(r->k[at + i]);
    }
}

static void osp_r_bits(const rots *r, size_t at, const uint8_t *v, const uint8_t *in, size_t cnt, uint8_t *out)
{
    for (size_t i = 0; i < cnt; i++)
        out[i] = (uint8_t)((v[i] & inbit(in, i)) ^ (r->k[at + i][0] & 1));
}

/* ---- AND triples: gate g's triple from the g-th OT of each pool at `at`:
 * a party's a is the xor of its sender pair's low bits, its b its own
 * choice, and a_S b_R = K_0 ^ K_{b_R} (low bits) for each cross term; into
 * planes (cnt elements each of ngates planes of nw words). */
static void and_triples(const hemi *h, const rots *r, const size_t at[2], size_t ngates, size_t cnt, word *ta,
                        word *tb, word *tc)
{
    size_t nw = bits_words(cnt), am = at[h->ap.me], ap = at[h->peer];
    memset(ta, 0, ngates * nw * W), memset(tb, 0, ngates * nw * W), memset(tc, 0, ngates * nw * W);
    for (size_t g = 0; g < ngates; g++)
        for (size_t e = 0; e < cnt; e++) {
            size_t i = g * cnt + e, q = g * nw + e / 64;
            word s0 = r->k0[ap + i][0] & 1, a = s0 ^ (r->k1[ap + i][0] & 1), b = r->c[am + i];
            word c = (a & b) ^ s0 ^ (r->k[am + i][0] & 1);
            ta[q] |= a << (e % 64), tb[q] |= b << (e % 64), tc[q] |= c << (e % 64);
        }
}

/* ------------------------------------------------------ per-op state */

typedef struct {
    rots r;
    word *acc;            /* this party's result so far */
    word *x;              /* values kept between steps (X of the products) */
    uint8_t *v;           /* R's bits of the products */
    word *g, *p, *t;      /* LTZ: planes G, P and the top bit */
    word *ta, *tb, *tc;   /* LTZ: this level's AND triples */
    word *open;           /* LTZ: what a level sent */
    uint8_t *resp;        /* CONV2D: the owner's response */
    size_t nresp;
    struct limbs *lb;     /* CONV2D: the limbs and their plans, made once */
    int full;             /* LTZ inside REQCLAMP: the tree also yields P of all L bits */
} st;

static st *state(pop *op) { return proto_state(op, sizeof(st)); }

static void state_free(pop *op)
{
    st *s = op->state;
    if (!s)
        return;
    rots_free(&s->r);
    free(s->acc), free(s->x), free(s->v), free(s->g), free(s->p), free(s->t);
    free(s->ta), free(s->tb), free(s->tc), free(s->open), free(s->resp), free(s->lb);
    free(s);
    op->state = NULL;
}

/* ---- input and output ---- */

static void input_prepare(hemi *h, pop *op)
{
    for (size_t k = 0; k < op->n; k++)
        op->d[k] = h->ap.me == op->owner ? (word)op->in[k] : 0;
}

static void output_finish(hemi *h, pop *op)
{
    if (h->ap.me != op->owner)
        return;
    word *v = proto_alloc(op->n * W);
    add_open_finish(&h->ap, ADD_ARITH, op->a, v, op->n);
    for (size_t k = 0; k < op->n; k++)
        op->out[k] = (int64_t)v[k];
    free(v);
}

/* ---- products: a b = a0 b0 + a1 b1 + a0 b1 + a1 b0, each cross term
 * a_S b_R = sum over i of (a_S 2^i) times bit i of b_R (Gilboa): pool i is
 * party i's bits of its b, 64 per element (element k, bit i at 64 k + i).
 * When a is a selector (abit), its shares' low bits s0 ^ s1 are a, and
 * a b = s0 b0 + s1 b1 + s1 (1 - 2 s0) b0 + s0 (1 - 2 s1) b1: one product per
 * element and direction, pool i holding party i's s_i. */

static size_t mul_terms(const pop *op) { return op->abit ? 1 : 64; }

static void mul_prepare(hemi *h, pop *op, int step)
{
    st *t = state(op);
    size_t n = op->n, T = mul_terms(op), m = T * n;
    if (step == 0) {
        rots_begin(h, &t->r, m, m);
        return;
    }
    t->v = proto_alloc(m);
    t->x = proto_alloc(m * W);
    PERIODIC_LOOP(n, op->nb)
    for (size_t b = 0; b < T; b++) {
        if (op->abit) {
            t->v[i] = op->a[i] & 1;
            t->x[i] = (1 - 2 * (op->a[i] & 1)) * op->b[j];
        } else {
            t->v[T * i + b] = (op->b[j] >> b) & 1;
            t->x[T * i + b] = op->a[i] << b;
        }
    }
    osp_send_d(h, &t->r, 0, t->v, m);
    osp_send_f(h, &t->r, 0, t->x, m);
    net_expect(h->ap.nt, h->peer, (m + 7) / 8 + m * W);
}

static void mul_finish(hemi *h, pop *op, int step)
{
    st *t = op->state;
    size_t n = op->n, T = mul_terms(op), m = T * n;
    if (step == 0) {
        rots_end(h, &t->r);
        return;
    }
    const uint8_t *din = net_in(h->ap.nt, h->peer, (m + 7) / 8), *fin = net_in(h->ap.nt, h->peer, m * W);
    word *s = proto_alloc(m * W), *r = proto_alloc(m * W);
    osp_s(&t->r, 0, din, m, s);
    osp_r(&t->r, 0, t->v, fin, m, r);
    PERIODIC_LOOP(n, op->nb) {
        word z = (op->abit ? op->a[i] & 1 : op->a[i]) * op->b[j];
        for (size_t b = 0; b < T; b++)
            z += s[T * i + b] + r[T * i + b];
        op->d[i] = z;
    }
    free(s), free(r);
    state_free(op);
}

static void mul_cost(const pop *op, proto_cost *acc)
{
    uint64_t m = mul_terms(op) * op->n;
    acc->rounds = 2;
    for (int p = 0; p < 2; p++)
        acc->bytes[p] += rots_cost(acc, p, m) + (m + 7) / 8 + m * W;
}

/* ---- truncation by d: y = x mult >> d, |x mult| < 2^62 ----
 * The owner's share a = x0 mult + 2^62 - 1 and the client's b = x1 mult sum
 * to V - 1 = x mult + 2^62 - 1 in [0, 2^63), whose top bit is 0: so the sum
 * wraps exactly when a or b has its top bit u or v set, w = u + v - u v, and
 * y = (a >> d) + (b >> d) + 1 - 2^(64-d) w - 2^(62-d) is floor(x mult / 2^d)
 * when the low parts' carry is 1, one more otherwise: up with probability
 * (V mod 2^d) / 2^d, as proto.h asks, over a uniform split of V: the
 * parties first move a word rr, drawn alike from their common stream, from
 * the client's share to the owner's (a share of 0 after an owner's INPUT
 * would make the rounding deterministic). The product u v (scaled by
 * 2^(64-d)) is one one-sided product, the client receiving. */

static word pow2(unsigned e) { return e >= 64 ? 0 : (word)1 << e; }

/* n words of the common stream (NULL for n = 0) */
static word *common_words(hemi *h, size_t n)
{
    word *w = n ? proto_alloc(n * W) : NULL;
    if (w)
        prg_fill(h->common, w, n * W);
    return w;
}

static void trunc_split(hemi *h, const pop *op, const word *rr, size_t k, word *sh, uint8_t *d)
{
    if (op->kind == PK_EXACT) { /* the fused exact REQCLAMP: V = m x + off0 + 2^62, its own floor */
        int64_t m, kk, off0, off1;
        proto_exact_consts(op, k, &m, &kk, &off0, &off1);
        *d = (uint8_t)kk;
        *sh = op->a[k] * (word)m + (h->ap.me == 0 ? (word)off0 + pow2(62) : 0);
        return;
    }
    word mult = proto_trunc_mult(op, k, d);
    *sh = op->a[k] * mult + (h->ap.me == 0 ? pow2(62) - 1 + rr[k] : (word)0 - rr[k]);
}

/* this party's top bit of its part of element k (u or v), and 2^(64-d) times it */
static word trunc_top(hemi *h, const pop *op, const word *rr, size_t k, word *scaled)
{
    word a;
    uint8_t d;
    trunc_split(h, op, rr, k, &a, &d);
    *scaled = (a >> 63) << (63 - d) << 1; /* 0 for d = 0 */
    return a >> 63;
}

/* The wrap products' messages (pool 1 of r from 0): the client's d bits,
 * the owner's f words. */
static void trunc_send(hemi *h, const pop *op, const word *rr, const rots *r)
{
    size_t n = op->n;
    uint8_t *v = proto_alloc(n);
    word *X = proto_alloc(n * W);
    for (size_t k = 0; k < n; k++)
        v[k] = (uint8_t)trunc_top(h, op, rr, k, &X[k]);
    if (h->ap.me == 1) {
        osp_send_d(h, r, 0, v, n);
        net_expect(h->ap.nt, 0, n * W);
    } else {
        osp_send_f(h, r, 0, X, n);
        net_expect(h->ap.nt, 1, (n + 7) / 8);
    }
    free(v), free(X);
}

/* this party's share of each y into out */
static void trunc_result(hemi *h, const pop *op, const word *rr, const rots *r, word *out)
{
    size_t n = op->n;
    uint8_t *v = proto_alloc(n);
    word *X = proto_alloc(n * W), *uv = proto_alloc(n * W);
    for (size_t k = 0; k < n; k++)
        v[k] = (uint8_t)trunc_top(h, op, rr, k, &X[k]);
    if (h->ap.me == 1)
        osp_r(r, 0, v, net_in(h->ap.nt, 0, n * W), n, uv);
    else
        osp_s(r, 0, net_in(h->ap.nt, 1, (n + 7) / 8), n, uv);
    for (size_t k = 0; k < n; k++) {
        word a;
        uint8_t d;
        trunc_split(h, op, rr, k, &a, &d);
        out[k] = (a >> d) - X[k] + uv[k] + (h->ap.me == 0 ? (op->kind != PK_EXACT) - pow2(62 - d) : 0);
    }
    free(v), free(X), free(uv);
}

static void trunc_prepare(hemi *h, pop *op, int step)
{
    st *t = state(op);
    if (step == 0) {
        t->x = common_words(h, op->n);
        rots_begin(h, &t->r, 0, op->n);
    } else {
        trunc_send(h, op, t->x, &t->r);
    }
}

static void trunc_finish(hemi *h, pop *op, int step)
{
    st *t = op->state;
    if (step == 0) {
        rots_end(h, &t->r);
        return;
    }
    trunc_result(h, op, t->x, &t->r, op->d);
    state_free(op);
}

static void trunc_cost(const pop *op, proto_cost *acc)
{
    acc->rounds = 2;
    acc->bytes[0] += op->n * W;
    acc->bytes[1] += rots_cost(acc, 1, op->n) + (op->n + 7) / 8;
}

/* ---- comparison: [x < 0] for |x| < 2^L ----
 * The owner's A = (a + 2^L) mod 2^(L+1) and the client's B = b mod 2^(L+1)
 * sum to x + 2^L mod 2^(L+1), whose bit L is A_L ^ B_L ^ the carry out of
 * the low L bits: G_j = A_j B_j (one one-sided product in GF(2) each, the
 * client receiving), P_j = A_j ^ B_j (local), then the carry tree of
 * bits.h (one AND level a round, with triples) and [x < 0] = 1 ^ bit L,
 * made arithmetic by one one-sided product: beta0 + beta1 - 2 beta0 beta1.
 * Pool 1: the L n generate bits (bit j of element e at j n + e), the ANDs
 * (level by level, gate by gate), n conversions; pool 0: the ANDs. */

static size_t ltz_ands(uint32_t L, int full)
{
    size_t all = 0, nand;
    for (int k = 1; k <= bits_levels(L); k++)
        bits_level_ands(L, k, full, &nand), all += nand;
    return all;
}

static int ltz_full(const pop *op) { return op->state && ((const st *)op->state)->full; }

/* the pools' offsets of level k's triples */
static void ltz_level_at(const pop *op, int k, size_t at[2])
{
    size_t before = 0, nand;
    for (int q = 1; q < k; q++)
        bits_level_ands(op->bound, q, ltz_full(op), &nand), before += nand;
    at[0] = before * op->n;
    at[1] = ((size_t)op->bound + before) * op->n;
}

static word ltz_part(const hemi *h, const pop *op, size_t e)
{
    uint32_t L = op->bound;
    word m = ((word)2 << L) - 1;
    return (op->a[e] + (h->ap.me == 0 ? (word)1 << L : 0)) & m;
}

static void ltz_leaves_prepare(hemi *h, pop *op)
{
    st *t = op->state;
    size_t n = op->n, L = op->bound, m = L * n;
    t->v = proto_alloc(m);
    for (size_t j = 0; j < L; j++)
        for (size_t e = 0; e < n; e++)
            t->v[j * n + e] = (uint8_t)((ltz_part(h, op, e) >> j) & 1);
    if (h->ap.me == 1)
        osp_send_d(h, &t->r, 0, t->v, m);
    else
        osp_send_fbits(h, &t->r, 0, t->v, m);
    net_expect(h->ap.nt, h->peer, (m + 7) / 8);
}

static void ltz_leaves_finish(hemi *h, pop *op)
{
    st *t = op->state;
    size_t n = op->n, L = op->bound, m = L * n, nw = bits_words(n);
    uint8_t *gb = proto_alloc(m);
    const uint8_t *in = net_in(h->ap.nt, h->peer, (m + 7) / 8);
    if (h->ap.me == 1)
        osp_r_bits(&t->r, 0, t->v, in, m, gb);
    else
        osp_s_bits(&t->r, 0, in, m, gb);
    t->g = proto_zalloc(L * nw * W), t->p = proto_zalloc(L * nw * W), t->t = proto_zalloc(nw * W);
    for (size_t j = 0; j < L; j++)
        for (size_t e = 0; e < n; e++) {
            t->g[j * nw + e / 64] |= (word)gb[j * n + e] << (e % 64);
            t->p[j * nw + e / 64] |= (word)t->v[j * n + e] << (e % 64);
        }
    for (size_t e = 0; e < n; e++)
        t->t[e / 64] |= ((ltz_part(h, op, e) >> L) & 1) << (e % 64);
    free(gb);
    free(t->v), t->v = NULL;
}

static void ltz_and_prepare(hemi *h, pop *op, int level)
{
    st *t = op->state;
    size_t nw = bits_words(op->n), nand, at[2];
    bits_gate *gt = bits_level_gates(op->bound, level, ltz_full(op), &nand);
    size_t m = nand * nw;
    ltz_level_at(op, level, at);
    free(t->ta), free(t->tb), free(t->tc), free(t->open);
    t->ta = proto_alloc(m * W), t->tb = proto_alloc(m * W), t->tc = proto_alloc(m * W);
    and_triples(h, &t->r, at, nand, op->n, t->ta, t->tb, t->tc);
    t->open = proto_alloc(2 * m * W);
    bits_gate_operands(gt, nand, nw, t->g, t->p, t->open, t->open + m);
    for (size_t k = 0; k < m; k++)
        t->open[k] ^= t->ta[k], t->open[m + k] ^= t->tb[k];
    free(gt);
    if (op->n % 64) /* the planes' unused bits: random, as every bit sent */
        for (size_t k = nw - 1; k < 2 * m; k += nw)
            t->open[k] ^= rnd_word(h) << (op->n % 64);
    add_open_send(&h->ap, t->open, 2 * m);
}

static void ltz_and_finish(hemi *h, pop *op, int level)
{
    st *t = op->state;
    size_t nw = bits_words(op->n), nand;
    bits_gate *gt = bits_level_gates(op->bound, level, ltz_full(op), &nand);
    size_t m = nand * nw;
    word *de = proto_alloc(2 * m * W), *d = de, *e = de + m;
    add_open_finish(&h->ap, ADD_BOOL, t->open, de, 2 * m);
    add_and_combine(&h->ap, d, e, t->ta, t->tb, t->tc, m, d); /* z over d, read before written */
    bits_gate_results(gt, nand, nw, d, t->g, t->p);
    free(gt);
    free(de);
}

/* beta = 1 ^ top ^ carry as this party's bit of element e */
static uint8_t ltz_beta(const hemi *h, const st *t, size_t e)
{
    return (uint8_t)(bits_get(t->t, e) ^ bits_get(t->g, e) ^ (h->ap.me == 0));
}

static void ltz_b2a_prepare(hemi *h, pop *op)
{
    st *t = op->state;
    size_t n = op->n, at = ltz_ands(op->bound, 0) * n + (size_t)op->bound * n;
    t->v = proto_alloc(n);
    t->x = proto_alloc(n * W);
    for (size_t e = 0; e < n; e++)
        t->v[e] = ltz_beta(h, t, e), t->x[e] = (word)0 - 2 * (word)t->v[e];
    if (h->ap.me == 1) {
        osp_send_d(h, &t->r, at, t->v, n);
        net_expect(h->ap.nt, 0, n * W);
    } else {
        osp_send_f(h, &t->r, at, t->x, n);
        net_expect(h->ap.nt, 1, (n + 7) / 8);
    }
}

static void ltz_b2a_finish(hemi *h, pop *op)
{
    st *t = op->state;
    size_t n = op->n, at = ltz_ands(op->bound, 0) * n + (size_t)op->bound * n;
    word *pr = proto_alloc(n * W);
    if (h->ap.me == 1)
        osp_r(&t->r, at, t->v, net_in(h->ap.nt, 0, n * W), n, pr);
    else
        osp_s(&t->r, at, net_in(h->ap.nt, 1, (n + 7) / 8), n, pr);
    for (size_t e = 0; e < n; e++)
        op->d[e] = t->v[e] + pr[e];
    free(pr);
    state_free(op);
}

static void ltz_prepare(hemi *h, pop *op, int step)
{
    int K = bits_levels(op->bound);
    size_t n = op->n, A = ltz_ands(op->bound, 0);
    if (step == 0)
        rots_begin(h, &state(op)->r, A * n, ((size_t)op->bound + A + 1) * n);
    else if (step == 1)
        ltz_leaves_prepare(h, op);
    else if (step <= K + 1)
        ltz_and_prepare(h, op, step - 1);
    else
        ltz_b2a_prepare(h, op);
}

static void ltz_finish(hemi *h, pop *op, int step)
{
    int K = bits_levels(op->bound);
    if (step == 0)
        rots_end(h, &((st *)op->state)->r);
    else if (step == 1)
        ltz_leaves_finish(h, op);
    else if (step <= K + 1)
        ltz_and_finish(h, op, step - 1);
    else
        ltz_b2a_finish(h, op);
}

static void ltz_cost(const pop *op, proto_cost *acc)
{
    uint64_t n = op->n, nw = bits_words(op->n), L = op->bound, A = ltz_ands(op->bound, 0);
    acc->rounds = (uint64_t)bits_levels(op->bound) + 3;
    uint64_t common = (L * n + 7) / 8 + 2 * A * nw * W;
    acc->bytes[0] += rots_cost(acc, 0, A * n) + common + n * W;
    acc->bytes[1] += rots_cost(acc, 1, (L + A + 1) * n) + common + (n + 7) / 8;
}

/* ---- REQCLAMP, fused: the truncation's shares and the clamp's two
 * comparisons at once ----
 * With the truncation's a and b (trunc_split), y = (a >> k) + (b >> k) + cc
 * - 2^(62-k) - 2^(64-k) w, where cc is 1 (fast: floor or floor + 1, as
 * TRUNC) or, exact, the carry c of the low k bits of a + b (a then holds m x
 * + off0 + 2^62, and y is TFLite's first floor y0). Modulo 2^(L+1) the wrap
 * term vanishes when k + L + 1 <= 64 (rqc_mode), so the comparisons [y + z
 * - T < 0] for T = lo and hi + 1 are an LTZ of 2n values whose parts each
 * party forms alone (the owner's (a >> k) - 2^(62-k) + z - T, plus 1 when
 * fast; the client's b >> k), run beside the wrap's product, without LTZ's
 * conversion. Exact: c is the carry LTZ's tree over (a, b) with bound k
 * (its G), the lanes' trees also yield P over all L bits, and a join round
 * adds c as carry-in (carry = G ^ (P & c), one AND a lane value) while c is
 * made arithmetic (one one-sided product). Exact uses y0 alone, which is
 * TFLite's result when lo >= z (a ReLU's clamp: y0 <= 0 clamps to lo like
 * y1), and one k for every channel. The last round: s = b1 ^ l2 = l2 - b1
 * times t = y + z - lo, a selector product (one one-sided product a
 * direction), and D l2 = D l2_0 + D l2_1 - 2 D l2_0 l2_1 one more: y = hi +
 * s t - D l2 (the generic CLAMP's formula). Own pools: 1: n wrap products,
 * n selector products, n D l2 products, then (exact) 2n join ANDs and n
 * conversions; 0: n selector products, then (exact) 2n join ANDs. */

enum { RQC_NO, RQC_FAST, RQC_EXACT };

typedef struct {
    int mode;
    pop ltz;       /* the 2n comparisons (lanes lo, hi + 1), their state in ltz.state */
    pop carry;     /* exact: the n carries of the low k bits */
    word *lanes;   /* the lanes' inputs */
    word *y;       /* this party's share of the truncation (exact: without c) */
    word *ca;      /* exact: this party's arithmetic share of c */
    word *rr;      /* fast: the truncation's re-randomization (trunc_split) */
    word *ta, *tb, *tc, *open; /* exact: the join's triples and openings */
    rots r;        /* the pools above */
} rqc_st;

static int rqc_mode(const pop *op)
{
    int exact = op->kind == PK_EXACT && op->of == PK_REQCLAMP;
    if (op->kind != PK_REQCLAMP && !(exact && op->lo >= op->zp))
        return RQC_NO;
    int64_t k0 = 31 + (op->shift[0] > 0 ? 0 : -op->shift[0]);
    for (size_t c = 0; c < op->nshift; c++) {
        int64_t k = 31 + (op->shift[c] > 0 ? 0 : -op->shift[c]);
        if (k + (int64_t)op->bound + 1 > 64 || (exact && k != k0))
            return RQC_NO;
    }
    return exact ? RQC_EXACT : RQC_FAST;
}

/* exact: k, the same for every channel */
static uint32_t rqc_k(const pop *op) { return 31 + (uint32_t)(op->shift[0] > 0 ? 0 : -op->shift[0]); }

static int rqc_levels(const pop *op, int mode)
{
    int kl = bits_levels(op->bound), kc = mode == RQC_EXACT ? bits_levels(rqc_k(op)) : 0;
    return kl > kc ? kl : kc;
}

static int rqc_steps(const pop *op, int mode) { return rqc_levels(op, mode) + (mode == RQC_EXACT ? 4 : 3); }

static void rqc_inner(const pop *op, int mode, pop *ltz, pop *carry)
{
    memset(ltz, 0, sizeof *ltz);
    ltz->kind = PK_LTZ;
    ltz->n = ltz->na = 2 * op->n;
    ltz->bound = op->bound;
    memset(carry, 0, sizeof *carry);
    carry->kind = PK_LTZ;
    carry->n = carry->na = mode == RQC_EXACT ? op->n : 0;
    carry->bound = mode == RQC_EXACT ? rqc_k(op) : 1;
}

/* the own pools' sizes: 0, 1 */
static size_t rqc_own(const pop *op, int mode, int pool)
{
    return op->n * (pool ? 3 : 1) + (mode == RQC_EXACT ? op->n * (pool ? 3 : 2) : 0);
}

static void rqc_start(hemi *h, pop *op, int mode)
{
    size_t n = op->n;
    rqc_st *q = proto_state(op, sizeof *q);
    q->mode = mode;
    q->rr = mode == RQC_FAST ? common_words(h, n) : NULL;
    rqc_inner(op, mode, &q->ltz, &q->carry);
    q->lanes = proto_alloc(2 * n * W);
    word *parts = mode == RQC_EXACT ? proto_alloc(n * W) : NULL;
    for (size_t e = 0; e < n; e++) {
        word a;
        uint8_t d;
        trunc_split(h, op, q->rr, e, &a, &d);
        if (parts)
            parts[e] = a;
        word part = (a >> d) + (h->ap.me == 0 ? (mode == RQC_FAST) - pow2(62 - d) + (word)op->zp : 0);
        q->lanes[e] = part - (h->ap.me == 0 ? (word)op->lo : 0);
        q->lanes[n + e] = part - (h->ap.me == 0 ? (word)op->hi + 1 : 0);
    }
    q->ltz.a = q->lanes;
    int full = mode == RQC_EXACT;
    size_t A = ltz_ands(op->bound, full);
    state(&q->ltz)->full = full;
    rots_begin(h, &state(&q->ltz)->r, A * 2 * n, ((size_t)op->bound + A) * 2 * n);
    if (mode == RQC_EXACT) {
        q->carry.a = parts; /* the carry LTZ reads a's low k bits (adding 2^k at the owner changes none) */
        size_t Ac = ltz_ands(q->carry.bound, 0);
        rots_begin(h, &state(&q->carry)->r, Ac * n, ((size_t)q->carry.bound + Ac) * n);
    }
    rots_begin(h, &q->r, rqc_own(op, mode, 0), rqc_own(op, mode, 1));
}

/* this party's bit of [lane value < 0], lane element e of 2n */
static uint8_t rqc_bit(hemi *h, const rqc_st *q, size_t e) { return ltz_beta(h, q->ltz.state, e); }

/* exact's join: carry = G ^ (P & c) for both lanes, and c made arithmetic */
static void rqc_join_prepare(hemi *h, pop *op, rqc_st *q)
{
    size_t n = op->n, nw2 = bits_words(2 * n), at[2] = {n, 3 * n};
    st *lt = q->ltz.state, *ct = q->carry.state;
    q->ta = proto_alloc(nw2 * W), q->tb = proto_alloc(nw2 * W), q->tc = proto_alloc(nw2 * W);
    and_triples(h, &q->r, at, 1, 2 * n, q->ta, q->tb, q->tc);
    word *c2 = proto_zalloc(nw2 * W);
    bits_dup(ct->g, n, 1, c2, nw2);
    q->open = proto_alloc(2 * nw2 * W);
    for (size_t k = 0; k < nw2; k++)
        q->open[k] = lt->p[k] ^ q->ta[k], q->open[nw2 + k] = c2[k] ^ q->tb[k];
    if ((2 * n) % 64) /* the planes' unused bits: random, as every bit sent */
        q->open[nw2 - 1] ^= rnd_word(h) << ((2 * n) % 64), q->open[2 * nw2 - 1] ^= rnd_word(h) << ((2 * n) % 64);
    free(c2);
    add_open_send(&h->ap, q->open, 2 * nw2);
    uint8_t *cb = proto_alloc(n);
    word *X = proto_alloc(n * W);
    for (size_t e = 0; e < n; e++)
        cb[e] = (uint8_t)bits_get(ct->g, e), X[e] = (word)0 - 2 * (word)cb[e];
    if (h->ap.me == 1) {
        osp_send_d(h, &q->r, 5 * n, cb, n);
        net_expect(h->ap.nt, 0, n * W);
    } else {
        osp_send_f(h, &q->r, 5 * n, X, n);
        net_expect(h->ap.nt, 1, (n + 7) / 8);
    }
    free(cb), free(X);
}

static void rqc_join_finish(hemi *h, pop *op, rqc_st *q)
{
    size_t n = op->n, nw2 = bits_words(2 * n);
    st *lt = q->ltz.state, *ct = q->carry.state;
    word *de = proto_alloc(2 * nw2 * W), *d = de, *e = de + nw2;
    add_open_finish(&h->ap, ADD_BOOL, q->open, de, 2 * nw2);
    add_and_combine(&h->ap, d, e, q->ta, q->tb, q->tc, nw2, d);
    for (size_t k = 0; k < nw2; k++)
        lt->g[k] ^= d[k];
    free(de);
    uint8_t *cb = proto_alloc(n);
    word *pr = proto_alloc(n * W);
    for (size_t i = 0; i < n; i++)
        cb[i] = (uint8_t)bits_get(ct->g, i);
    if (h->ap.me == 1)
        osp_r(&q->r, 5 * n, cb, net_in(h->ap.nt, 0, n * W), n, pr);
    else
        osp_s(&q->r, 5 * n, net_in(h->ap.nt, 1, (n + 7) / 8), n, pr);
    q->ca = proto_alloc(n * W);
    for (size_t i = 0; i < n; i++)
        q->ca[i] = cb[i] + pr[i];
    free(cb), free(pr);
}

static void rqc_prepare(hemi *h, pop *op, int step)
{
    size_t n = op->n;
    if (step == 0) {
        rqc_start(h, op, rqc_mode(op));
        return;
    }
    rqc_st *q = op->state;
    int K = rqc_levels(op, q->mode), exact = q->mode == RQC_EXACT;
    if (step == 1) {
        trunc_send(h, op, q->rr, &q->r);
        ltz_leaves_prepare(h, &q->ltz);
        if (exact)
            ltz_leaves_prepare(h, &q->carry);
        return;
    }
    if (step <= K + 1) {
        if (step - 1 <= bits_levels(q->ltz.bound))
            ltz_and_prepare(h, &q->ltz, step - 1);
        if (exact && step - 1 <= bits_levels(q->carry.bound))
            ltz_and_prepare(h, &q->carry, step - 1);
        return;
    }
    if (exact && step == K + 2) {
        rqc_join_prepare(h, op, q);
        return;
    }
    /* the last round: the selector's products and D l2's */
    uint8_t *s = proto_alloc(n), *l2 = proto_alloc(n);
    word *X = proto_alloc(2 * n * W);
    for (size_t e = 0; e < n; e++) {
        uint8_t b1 = rqc_bit(h, q, e);
        l2[e] = rqc_bit(h, q, n + e);
        s[e] = b1 ^ l2[e];
        word tt = q->y[e] + (exact ? q->ca[e] : 0) + (h->ap.me == 0 ? (word)op->zp - (word)op->lo : 0);
        X[e] = (1 - 2 * (word)s[e]) * tt;
        X[n + e] = (word)0 - 2 * (word)(op->hi - op->lo) * l2[e];
    }
    if (h->ap.me == 0) {
        osp_send_d(h, &q->r, 0, s, n);         /* pool 0: the selector, owner receiving */
        osp_send_f(h, &q->r, n, X, n);         /* pool 1 at n: the selector */
        osp_send_f(h, &q->r, 2 * n, X + n, n); /* pool 1 at 2n: D l2 */
        net_expect(h->ap.nt, 1, 2 * ((n + 7) / 8) + n * W);
    } else {
        osp_send_d(h, &q->r, n, s, n);
        osp_send_d(h, &q->r, 2 * n, l2, n);
        osp_send_f(h, &q->r, 0, X, n);
        net_expect(h->ap.nt, 0, (n + 7) / 8 + 2 * n * W);
    }
    free(s), free(l2), free(X);
}

static void rqc_free(pop *op)
{
    rqc_st *q = op->state;
    state_free(&q->ltz);
    state_free(&q->carry);
    rots_free(&q->r);
    free(q->lanes), free(q->y), free(q->ca), free(q->rr), free(q->ta), free(q->tb), free(q->tc), free(q->open);
    free((void *)q->carry.a);
    free(q);
    op->state = NULL;
}

static void rqc_finish(hemi *h, pop *op, int step)
{
    rqc_st *q = op->state;
    size_t n = op->n;
    int K = rqc_levels(op, q->mode), exact = q->mode == RQC_EXACT;
    if (step == 0) {
        rots_end(h, &((st *)q->ltz.state)->r);
        if (exact)
            rots_end(h, &((st *)q->carry.state)->r);
        rots_end(h, &q->r);
        return;
    }
    if (step == 1) {
        q->y = proto_alloc(n * W);
        trunc_result(h, op, q->rr, &q->r, q->y);
        ltz_leaves_finish(h, &q->ltz);
        if (exact)
            ltz_leaves_finish(h, &q->carry);
        return;
    }
    if (step <= K + 1) {
        if (step - 1 <= bits_levels(q->ltz.bound))
            ltz_and_finish(h, &q->ltz, step - 1);
        if (exact && step - 1 <= bits_levels(q->carry.bound))
            ltz_and_finish(h, &q->carry, step - 1);
        return;
    }
    if (exact && step == K + 2) {
        rqc_join_finish(h, op, q);
        return;
    }
    uint8_t *s = proto_alloc(n), *l2 = proto_alloc(n);
    word *ms = proto_alloc(n * W), *mr = proto_alloc(n * W), *dl = proto_alloc(n * W);
    for (size_t e = 0; e < n; e++)
        l2[e] = rqc_bit(h, q, n + e), s[e] = rqc_bit(h, q, e) ^ l2[e];
    if (h->ap.me == 0) {
        const uint8_t *dm = net_in(h->ap.nt, 1, (n + 7) / 8), *dd = net_in(h->ap.nt, 1, (n + 7) / 8);
        osp_s(&q->r, n, dm, n, ms);
        osp_s(&q->r, 2 * n, dd, n, dl);
        osp_r(&q->r, 0, s, net_in(h->ap.nt, 1, n * W), n, mr);
    } else {
        const uint8_t *dm = net_in(h->ap.nt, 0, (n + 7) / 8), *fm = net_in(h->ap.nt, 0, n * W),
                      *fd = net_in(h->ap.nt, 0, n * W);
        osp_s(&q->r, 0, dm, n, ms);
        osp_r(&q->r, n, s, fm, n, mr);
        osp_r(&q->r, 2 * n, l2, fd, n, dl);
    }
    word D = (word)(op->hi - op->lo);
    for (size_t e = 0; e < n; e++) {
        word tt = q->y[e] + (exact ? q->ca[e] : 0) + (h->ap.me == 0 ? (word)op->zp - (word)op->lo : 0);
        op->d[e] = s[e] * tt + ms[e] + mr[e] - D * l2[e] - dl[e] + (h->ap.me == 0 ? (word)op->hi : 0);
    }
    free(s), free(l2), free(ms), free(mr), free(dl);
    rqc_free(op);
}

/* an LTZ's trees without its conversion: rounds aside, bytes of the
 * owner and the client */
static void rqc_tree_cost(uint64_t n, uint32_t L, int full, proto_cost *acc)
{
    uint64_t A = ltz_ands(L, full), common = (L * n + 7) / 8 + 2 * A * bits_words(n) * W; /* leaves, openings */
    acc->bytes[0] += rots_cost(acc, 0, A * n) + common;
    acc->bytes[1] += rots_cost(acc, 1, (L + A) * n) + common;
}

static void rqc_cost(const pop *op, int mode, proto_cost *acc)
{
    uint64_t n = op->n, bits = (n + 7) / 8;
    acc->rounds = (uint64_t)rqc_steps(op, mode);
    rqc_tree_cost(2 * n, op->bound, mode == RQC_EXACT, acc);
    acc->bytes[0] += rots_cost(acc, 0, rqc_own(op, mode, 0)) + n * W + bits + 2 * n * W; /* wrap, last round */
    acc->bytes[1] += rots_cost(acc, 1, rqc_own(op, mode, 1)) + bits + 2 * bits + n * W;
    if (mode == RQC_EXACT) { /* the carries; the join's openings and conversion */
        rqc_tree_cost(n, rqc_k(op), 0, acc);
        acc->bytes[0] += 2 * bits_words(2 * n) * W + n * W;
        acc->bytes[1] += 2 * bits_words(2 * n) * W + bits;
    }
}

/* ---- convolutions: conv(x0 + x1, W) = conv(x0, W) at the owner plus
 * conv(x1, W) by HE on the client's share x1, in limbs x1 = sum of 2^s
 * limb_s. A limb is encrypted with plaintext modulus 2^l; the owner returns
 * conv(limb, W) - R mod 2^l for its uniform R. The top limb has l = 64 - s,
 * so 2^s times its shares is exact mod 2^64. A lower limb of b bits has
 * |conv(limb, W)| < 2^(b + beta) <= 2^(l-2) (beta bounds the weights' sum
 * 255 C KH KW), and its shares lift exactly: with alpha' = R + 2^(l-2)
 * (mod 2^l) and the client's beta, whose top bits are u and v,
 *     conv = alpha' - 2^(l-2) - 2^l u + beta - 2^l v + 2^l u v  (mod 2^64)
 * and u v is one one-sided product (pool 1). l is the largest the noise
 * bound and the exact NTT products allow (he_plan_layer's conditions). */

typedef struct {
    uint32_t s, l, width; /* from bit s, width bits of the share, plaintext modulus 2^l */
    int lift;
    he_plan pl;
} limb;

typedef struct limbs {
    int n, nlift;
    int whole; /* one limb: the whole share mod 2^l, the owner's part lifted with it */
    limb v[HEMI_MAXLIMBS];
} limbs;


static int conv_dw(const pop *op) { return op->kind == PK_DWCONV2D; }

/* the limbs of a layer (without plans); -1 when the layer is too large */
static int conv_split(const pop *op, limbs *lb)
{
    const geom *g = &op->g;
    uint64_t bsum = (uint64_t)HEMI_WMAX * g->kh * g->kw * (conv_dw(op) ? 1 : g->c);
    uint32_t beta = bits_len(bsum), c21 = bits_ceil_log2(21 * bsum), cb = bits_ceil_log2(bsum);
    int lmax = 67 - (int)c21 < 79 - (int)c21 - (int)cb ? 67 - (int)c21 : 79 - (int)c21 - (int)cb;
    memset(lb, 0, sizeof *lb);
    if (op->accbits && (int)op->accbits + 2 <= lmax) { /* the compiler's bound: one limb */
        lb->v[0] = (limb){0, op->accbits + 2, op->accbits + 2, 1, {{0, 0, 0, 0}, 0, 0, 0, 0, 0, 0, 0}};
        lb->n = lb->nlift = lb->whole = 1;
        return 0;
    }
    uint32_t s = 0;
    while (64 - (int)s > lmax) {
        int b = lmax - (int)beta - 2;
        if (b < 1 || lb->n == HEMI_MAXLIMBS - 1)
            return -1;
        lb->v[lb->n++] = (limb){s, (uint32_t)lmax, (uint32_t)b, 1, {{0, 0, 0, 0}, 0, 0, 0, 0, 0, 0, 0}};
        lb->nlift++;
        s += (uint32_t)b;
    }
    lb->v[lb->n++] = (limb){s, 64 - s, 64 - s, 0, {{0, 0, 0, 0}, 0, 0, 0, 0, 0, 0, 0}};
    return 0;
}

/* the limbs and their HE plans (the planner's search: an operation makes
 * them once, in its state) */
static int conv_limbs(const pop *op, limbs *lb)
{
    if (conv_split(op, lb))
        return -1;
    for (int i = 0; i < lb->n; i++)
        if (he_plan_layer(&op->g, op->channels, conv_dw(op), lb->v[i].l, HEMI_WMAX, HEMI_N, &lb->v[i].pl))
            return -1;
    return 0;
}

static int conv_steps(const pop *op)
{
    limbs lb;
    return conv_split(op, &lb) == 0 && lb.nlift ? 3 : 2;
}

/* The tiles of a plan, and in each the output groups: a convolution's
 * blocks of output channels, a depthwise one's (channel block, multiplier
 * index) pairs. The used coefficients of a group and the outputs they hold
 * (NHWC index), in the order both parties walk them. */
typedef struct {
    const pop *op;
    const he_tile *t;
    uint32_t rs, cs, cblocks, groups; /* stride-1 spans; blocks; groups per tile */
} walk;

static walk walk_of(const pop *op, const he_plan *pl)
{
    const geom *g = &op->g;
    walk w = {op, &pl->t, (g->oh - 1) * g->sh + 1, (g->ow - 1) * g->sw + 1, (g->c + pl->t.cn - 1) / pl->t.cn, 0};
    w.groups = conv_dw(op) ? w.cblocks * op->channels : (op->channels + pl->t.mn - 1) / pl->t.mn;
    return w;
}

static he_at group_at(const walk *w, uint32_t r0, uint32_t c0, uint32_t grp)
{
    if (conv_dw(w->op))
        return (he_at){r0, c0, grp / w->op->channels * w->t->cn, grp % w->op->channels};
    return (he_at){r0, c0, 0, grp * w->t->mn};
}

static size_t group_used(const walk *w, const he_at *at, uint32_t *coef, size_t *idx)
{
    const geom *g = &w->op->g;
    int dw = conv_dw(w->op);
    uint32_t M = w->op->channels, lanes = dw ? w->t->cn : w->t->mn, limit = dw ? g->c - at->ch0 : M - at->m0;
    size_t k = 0;
    for (uint32_t c = 0; c < lanes && c < limit; c++)
        for (uint32_t i = 0; i < w->t->ho; i++)
            for (uint32_t j = 0; j < w->t->wo; j++) {
                uint32_t r = at->r0 + i, col = at->c0 + j;
                if (r % g->sh || col % g->sw || r / g->sh >= g->oh || col / g->sw >= g->ow)
                    continue;
                size_t pos = (size_t)(r / g->sh) * g->ow + col / g->sw;
                coef[k] = dw ? he_dw_coef(g, w->t, c, i, j) : he_conv_coef(g, w->t, c, i, j);
                idx[k++] = dw ? pos * g->c * M + (size_t)(at->ch0 + c) * M + at->m0 : pos * M + at->m0 + c;
            }
    return k;
}

/* A limb's filters in NTT form, per (group, channel block) of its tile,
 * kept across the tiles while they fit HEMI_FCACHE bytes (else each
 * product transforms its filter again). */
#define HEMI_FCACHE ((size_t)64 << 20)
typedef struct {
    uint64_t **f;
    size_t n;
} fcache;

static void fcache_open(fcache *c, const pop *op, const he_plan *pl)
{
    walk w = walk_of(op, pl);
    c->n = (size_t)w.groups * w.cblocks;
    c->f = c->n * 4 * HEMI_N * W <= HEMI_FCACHE ? proto_zalloc(c->n * sizeof *c->f) : NULL;
}

static void fcache_close(fcache *c)
{
    for (size_t i = 0; c->f && i < c->n; i++)
        free(c->f[i]);
    free(c->f);
}

static uint64_t ct_bytes(uint32_t bits) { return ((uint64_t)HEMI_N * bits + 7) / 8; }

/* The tiles of a walk, row-major, and the one at index i */
static size_t walk_tiles(const walk *w)
{
    return (size_t)((w->rs + w->t->ho - 1) / w->t->ho) * ((w->cs + w->t->wo - 1) / w->t->wo);
}

static void tile_at(const walk *w, size_t i, uint32_t *r0, uint32_t *c0)
{
    size_t nc = (w->cs + w->t->wo - 1) / w->t->wo;
    *r0 = (uint32_t)(i / nc) * w->t->ho, *c0 = (uint32_t)(i % nc) * w->t->wo;
}

/* Per thread: the scratch of one group's or one ciphertext's work */
typedef struct {
    uint64_t *accb, *acca, *w4, *m;
    int64_t *wp;
    u128 *c0, *c1, *t;
    uint32_t *coef;
    size_t *idx;
} scratch;

static scratch *scratch_new(int n)
{
    scratch *s = proto_alloc((size_t)n * sizeof *s);
    for (int i = 0; i < n; i++) {
        s[i] = (scratch){proto_alloc(2 * HEMI_N * W), proto_alloc(2 * HEMI_N * W), proto_alloc(4 * HEMI_N * W),
                         proto_alloc(HEMI_N * W), proto_alloc(HEMI_N * sizeof(int64_t)),
                         proto_alloc(HEMI_N * sizeof(u128)), proto_alloc(HEMI_N * sizeof(u128)),
                         proto_alloc(HEMI_N * sizeof(u128)), proto_alloc(HEMI_N * sizeof(uint32_t)),
                         proto_alloc(HEMI_N * sizeof(size_t))};
    }
    return s;
}

static void scratch_free(scratch *s, int n)
{
    for (int i = 0; i < n; i++)
        free(s[i].accb), free(s[i].acca), free(s[i].w4), free(s[i].m), free(s[i].wp), free(s[i].c0), free(s[i].c1),
            free(s[i].t), free(s[i].coef), free(s[i].idx);
    free(s);
}

/* One limb's HE work as the threads share it. Every item writes its own
 * ciphertext slot, its own outputs (acc, X, v at the NHWC indices of its
 * group: disjoint) and its own filter cache slots; the counters and the
 * private randomness are fixed per item before the threads start, so the
 * bytes sent do not depend on the number of threads. */
typedef struct {
    hemi *h;
    const pop *op;
    const limb *L;
    walk w;
    int lift_at, whole, fold;
    word *acc, *X;
    uint8_t *v;
    fcache fc;
    const int64_t *wts;
    const u128 *bpk, *apk;
    const uint64_t *pkb, *pka, *xl;
    uint64_t *xb, *xa;  /* the tile's inputs in NTT form, per channel block */
    const uint8_t *in;  /* the tile's (or limb's) ciphertexts */
    uint8_t *out;       /* the tile's (or limb's) ciphertexts to send */
    uint64_t ctr0;      /* the counter before the tile's (limb's) first ciphertext */
    uint32_t r0, c0;    /* the tile */
    u128 *c0used;       /* the limb's used c0 coefficients */
    size_t *first;      /* per group of the tile: its first index in c0used */
    uint8_t (*seed)[16];/* per group of the tile: its private randomness */
    scratch *s;
} hework;

/* Numbers the tile's groups' used coefficients from *nout on. */
static void tile_used(hework *k, size_t *nout)
{
    for (uint32_t grp = 0; grp < k->w.groups; grp++) {
        he_at at = group_at(&k->w, k->r0, k->c0, grp);
        k->first[grp] = *nout;
        *nout += group_used(&k->w, &at, k->s[0].coef, k->s[0].idx);
    }
}

/* The client, item i = (tile, channel block): one input ciphertext */
static void upload_ct(void *ctx, size_t i, int tid)
{
    hework *k = ctx;
    const he_plan *pl = &k->L->pl;
    scratch *s = &k->s[tid];
    he_at at = {0, 0, (uint32_t)(i % k->w.cblocks) * pl->t.cn, 0};
    tile_at(&k->w, i / k->w.cblocks, &at.r0, &at.c0);
    he_conv_input(&k->op->g, &pl->t, &at, HEMI_N, k->xl, s->m);
    if (rlwe_encrypt(&k->h->rp, &k->h->sk, k->h->aseed, k->ctr0 + i + 1, k->h->eseed, pl->q, k->L->l, s->m, s->c0))
        abort();
    rlwe_pack(s->c0, HEMI_N, pl->q, k->out + i * ct_bytes(pl->q));
}

/* The client: each limb's input ciphertexts (their b parts), tile by tile
 * and block by block. */
static void conv_upload(hemi *h, const pop *op, const limbs *lb)
{
    const geom *g = &op->g;
    size_t nx = (size_t)g->h * g->w * g->c;
    uint64_t *xl = proto_alloc(nx * sizeof *xl);
    int T = kern_threads();
    hework k = {.h = h, .op = op, .xl = xl, .s = scratch_new(T)};
    for (int li = 0; li < lb->n; li++) {
        const limb *L = &lb->v[li];
        for (size_t i = 0; i < nx; i++)
            xl[i] = (op->a[i] >> L->s) & (((word)1 << L->width) - 1); /* width < 64: l <= lmax < 64 */
        k.L = L, k.w = walk_of(op, &L->pl), k.ctr0 = h->ctr;
        size_t n = walk_tiles(&k.w) * k.w.cblocks;
        k.out = net_out(h->ap.nt, 0, n * ct_bytes(L->pl.q));
        kern_parallel(n, T, upload_ct, &k);
        h->ctr += n;
    }
    free(xl);
    scratch_free(k.s, T);
}

/* The owner, item cb: the tile's input ciphertext of channel block cb in
 * NTT form */
static void respond_input(void *ctx, size_t cb, int tid)
{
    hework *k = ctx;
    uint32_t q = k->L->pl.q;
    scratch *s = &k->s[tid];
    rlwe_unpack(k->in + cb * ct_bytes(q), HEMI_N, q, s->c0);
    rlwe_expand(k->h->aseed, k->ctr0 + cb + 1, q, HEMI_N, s->c1);
    rlwe_fwd_big(&k->h->rp, s->c0, q, k->xb + cb * 2 * HEMI_N);
    rlwe_fwd_big(&k->h->rp, s->c1, q, k->xa + cb * 2 * HEMI_N);
}

/* The owner, item grp: the tile's output group grp, re-randomized, masked
 * by R (whose lifted or scaled value enters acc, and X for the lift's
 * product), shrunk; its c1 packed into its slot, its used c0 coefficients
 * kept for the limb's end */
static void respond_group(void *ctx, size_t grp, int tid)
{
    hework *k = ctx;
    const pop *op = k->op;
    const limb *L = k->L;
    const he_plan *pl = &L->pl;
    const rlwe_params *rp = &k->h->rp;
    scratch *s = &k->s[tid];
    uint32_t N = HEMI_N, q = pl->q, l = L->l, cblocks = k->w.cblocks;
    he_at at = group_at(&k->w, k->r0, k->c0, (uint32_t)grp);
    memset(s->accb, 0, 2 * N * W), memset(s->acca, 0, 2 * N * W);
    uint32_t first = conv_dw(op) ? (uint32_t)grp / op->channels : 0, last = conv_dw(op) ? first + 1 : cblocks;
    for (uint32_t cb = first; cb < last; cb++) {
        uint64_t **slot = k->fc.f ? &k->fc.f[grp * cblocks + cb] : NULL, *f = slot ? *slot : NULL;
        if (!f) {
            he_at fa = at;
            fa.ch0 = cb * pl->t.cn;
            if (conv_dw(op))
                he_dw_filter(&op->g, &pl->t, &fa, N, k->wts, op->channels, s->wp);
            else
                he_conv_filter(&op->g, &pl->t, &fa, N, k->wts, op->channels, s->wp);
            f = slot ? (*slot = proto_alloc(4 * N * W)) : s->w4;
            rlwe_fwd_small(rp, s->wp, f);
        }
        rlwe_mac(rp, s->accb, k->xb + (size_t)cb * 2 * N, f);
        rlwe_mac(rp, s->acca, k->xa + (size_t)cb * 2 * N, f);
    }
    prg *g = prg_new(k->seed[grp]);
    if (!g)
        abort();
    uint8_t zs[16], ds[16];
    prg_fill(g, zs, 16), prg_fill(g, ds, 16);
    if (k->fold) {
        rlwe_ternary(zs, 0, N, s->wp);
        rlwe_fwd_small(rp, s->wp, s->w4);
        rlwe_mac(rp, s->accb, k->pkb, s->w4);
        rlwe_mac(rp, s->acca, k->pka, s->w4);
    }
    u128 *c0 = s->c0, *c1 = s->c1;
    rlwe_back(rp, s->accb, q, c0);
    rlwe_back(rp, s->acca, q, c1);
    if (k->fold ? rlwe_add_errors(rp, q, zs, 0, c0, c1) : rlwe_add_zero(rp, k->bpk, k->apk, q, zs, 0, c0, c1))
        abort();
    size_t n = group_used(&k->w, &at, s->coef, s->idx);
    for (size_t u = 0; u < n; u++) {
        word R;
        prg_fill(g, &R, sizeof R);
        R &= ((word)1 << l) - 1;
        size_t j = s->idx[u];
        c0[s->coef[u]] = (c0[s->coef[u]] - ((u128)R << (q - l))) & (((u128)1 << q) - 1);
        if (!L->lift) {
            k->acc[j] += R << L->s;
            continue;
        }
        /* whole: alpha is the owner's own sum and R, and replaces it */
        word ap = ((k->whole ? k->acc[j] : 0) + R + ((word)1 << (l - 2))) & (((word)1 << l) - 1);
        word bit = ap >> (l - 1), part = (ap - ((word)1 << (l - 2)) - (bit << l)) << L->s;
        k->acc[j] = k->whole ? part : k->acc[j] + part;
        k->X[(size_t)k->lift_at * op->n + j] = bit << (l + L->s);
    }
    prg_free(g);
    rlwe_shrink(c1, N, q, l + 13, NULL, s->t);
    rlwe_pack(s->t, N, l + 13, k->out + grp * ct_bytes(l + 13));
    rlwe_shrink(c0, N, q, l + 2, ds, s->t);
    for (size_t u = 0; u < n; u++)
        k->c0used[k->first[grp] + u] = s->t[s->coef[u]];
}

/* The owner: one limb's responses (pl.down bytes into out) */
static void conv_limb_respond(hemi *h, const pop *op, const limb *L, int lift_at, int whole, const uint8_t *in,
                              word *acc, word *X, uint8_t *out)
{
    const he_plan *pl = &L->pl;
    uint32_t N = HEMI_N, q = pl->q, l = L->l;
    int T = kern_threads();
    hework k = {.h = h, .op = op, .L = L, .w = walk_of(op, pl), .lift_at = lift_at, .whole = whole, .acc = acc,
                .X = X, .s = scratch_new(T)};
    fcache_open(&k.fc, op, pl);
    k.xb = proto_alloc((size_t)k.w.cblocks * 2 * N * W), k.xa = proto_alloc((size_t)k.w.cblocks * 2 * N * W);
    /* the public key at q; its products with the re-randomization's u go
     * into the sums when they keep Garner's range (p1 p2 / 2 > 2^(q-1) (B_W
     * + N)), else after them (rlwe_add_zero) */
    u128 *bpk = proto_alloc(N * sizeof *bpk), *apk = proto_alloc(N * sizeof *apk);
    uint64_t *pkb = proto_alloc(2 * N * W), *pka = proto_alloc(2 * N * W);
    k.fold = q + bits_ceil_log2(pl->bw + N) <= 121;
    for (uint32_t j = 0; j < N; j++)
        bpk[j] = h->bpk[j] & (((u128)1 << q) - 1);
    rlwe_expand(h->aseed, 0, q, N, apk);
    if (k.fold)
        rlwe_fwd_big(&h->rp, bpk, q, pkb), rlwe_fwd_big(&h->rp, apk, q, pka);
    k.bpk = bpk, k.apk = apk, k.pkb = pkb, k.pka = pka;
    int64_t *wts = proto_alloc(op->nb * sizeof *wts);
    for (size_t i = 0; i < op->nb; i++)
        wts[i] = (int64_t)op->b[i];
    k.wts = wts;
    k.c0used = proto_alloc(op->n * sizeof *k.c0used);
    k.first = proto_alloc(k.w.groups * sizeof *k.first);
    k.seed = proto_alloc(k.w.groups * sizeof *k.seed);
    size_t nout = 0, tiles = walk_tiles(&k.w);
    for (size_t ti = 0; ti < tiles; ti++) {
        tile_at(&k.w, ti, &k.r0, &k.c0);
        k.in = in, k.ctr0 = h->ctr;
        kern_parallel(k.w.cblocks, T, respond_input, &k);
        in += k.w.cblocks * ct_bytes(q), h->ctr += k.w.cblocks;
        tile_used(&k, &nout);
        prg_fill(h->g, k.seed, k.w.groups * sizeof *k.seed);
        k.out = out;
        kern_parallel(k.w.groups, T, respond_group, &k);
        out += k.w.groups * ct_bytes(l + 13);
    }
    rlwe_pack(k.c0used, nout, l + 2, out);
    size_t bits = nout * (l + 2);
    if (bits % 8) { /* the last byte's unused bits: random, as every bit sent */
        uint8_t r;
        prg_fill(h->g, &r, 1);
        out[bits / 8] |= (uint8_t)(r << (bits % 8));
    }
    free(k.xb), free(k.xa), free(wts), free(bpk), free(apk), free(pkb), free(pka);
    free(k.c0used), free(k.first), free(k.seed);
    fcache_close(&k.fc);
    scratch_free(k.s, T);
}

/* The client, item grp: the tile's group grp decrypted into its share
 * (acc) and the lift's bits v */
static void decrypt_group(void *ctx, size_t grp, int tid)
{
    hework *k = ctx;
    const limb *L = k->L;
    scratch *s = &k->s[tid];
    uint32_t N = HEMI_N, l = L->l;
    he_at at = group_at(&k->w, k->r0, k->c0, (uint32_t)grp);
    rlwe_unpack(k->in + grp * ct_bytes(l + 13), N, l + 13, s->c1);
    memset(s->c0, 0, N * sizeof *s->c0);
    size_t n = group_used(&k->w, &at, s->coef, s->idx);
    for (size_t u = 0; u < n; u++)
        s->c0[s->coef[u]] = k->c0used[k->first[grp] + u];
    if (rlwe_decrypt(&k->h->rp, &k->h->sk, s->c0, l + 2, s->c1, l + 13, l, s->m))
        abort();
    for (size_t u = 0; u < n; u++) {
        word beta = s->m[s->coef[u]];
        size_t j = s->idx[u];
        if (!L->lift) {
            k->acc[j] += beta << L->s;
            continue;
        }
        word bit = beta >> (l - 1);
        k->acc[j] += (beta - (bit << l)) << L->s;
        k->v[(size_t)k->lift_at * k->op->n + j] = (uint8_t)bit;
    }
}

/* The client: one limb's response into its share (acc) and the lift's
 * bits v. */
static void conv_limb_decrypt(hemi *h, const pop *op, const limb *L, int lift_at, const uint8_t *in, word *acc,
                              uint8_t *v)
{
    const he_plan *pl = &L->pl;
    int T = kern_threads();
    hework k = {.h = h, .op = op, .L = L, .w = walk_of(op, pl), .lift_at = lift_at, .acc = acc, .v = v,
                .s = scratch_new(T)};
    k.c0used = proto_alloc(op->n * sizeof *k.c0used);
    k.first = proto_alloc(k.w.groups * sizeof *k.first);
    rlwe_unpack(in + (size_t)pl->out_ct * ct_bytes(L->l + 13), op->n, L->l + 2, k.c0used);
    size_t nout = 0, tiles = walk_tiles(&k.w);
    for (size_t ti = 0; ti < tiles; ti++) {
        tile_at(&k.w, ti, &k.r0, &k.c0);
        k.in = in;
        tile_used(&k, &nout);
        kern_parallel(k.w.groups, T, decrypt_group, &k);
        in += k.w.groups * ct_bytes(L->l + 13);
    }
    free(k.c0used), free(k.first);
    scratch_free(k.s, T);
}

static uint64_t limbs_up(const limbs *lb)
{
    uint64_t b = 0;
    for (int i = 0; i < lb->n; i++)
        b += lb->v[i].pl.up;
    return b;
}

static uint64_t limbs_down(const limbs *lb)
{
    uint64_t b = 0;
    for (int i = 0; i < lb->n; i++)
        b += lb->v[i].pl.down;
    return b;
}

static int conv_check(hemi *h, const pop *op, limbs *lb, char *err, size_t errlen)
{
    if (conv_limbs(op, lb)) {
        snprintf(err, errlen, "hemi: a %s of %u input channels and a %ux%u kernel is too large for the HE parameters",
                 conv_dw(op) ? "depthwise convolution" : "convolution", op->g.c, op->g.kh, op->g.kw);
        return -1;
    }
    for (size_t i = 0; i < op->nb; i++) {
        if (h->ap.me == 1 && op->b[i]) {
            snprintf(err, errlen, "hemi: a convolution's filters must be the model owner's own values (party 1 holds "
                                  "a share of them: secret parameters folded into the weights are not supported)");
            return -1;
        }
        int64_t v = (int64_t)op->b[i];
        if (h->ap.me == 0 && (v > HEMI_WMAX || v < -HEMI_WMAX)) {
            snprintf(err, errlen, "hemi: filter weight %lld exceeds %d in magnitude (the HE noise bound; the filters "
                     "must be the model owner's own values)", (long long)v, HEMI_WMAX);
            return -1;
        }
    }
    return 0;
}

static int conv_prepare(hemi *h, pop *op, int step, char *err, size_t errlen)
{
    st *t = state(op);
    if (step == 0 && conv_check(h, op, t->lb = proto_alloc(sizeof *t->lb), err, errlen))
        return -1;
    const limbs lb = *t->lb;
    size_t m = (size_t)lb.nlift * op->n;
    if (step == 0) {
        rots_begin(h, &t->r, 0, m);
        if (h->ap.me == 1)
            conv_upload(h, op, &lb);
        else
            net_expect(h->ap.nt, 1, limbs_up(&lb));
    } else if (step == 1) {
        if (h->ap.me == 0) {
            memcpy(net_out(h->ap.nt, 1, t->nresp), t->resp, t->nresp);
            if (m)
                osp_send_f(h, &t->r, 0, t->x, m);
        } else {
            net_expect(h->ap.nt, 0, limbs_down(&lb) + m * W);
        }
    } else {
        if (h->ap.me == 1)
            osp_send_d(h, &t->r, 0, t->v, m);
        else
            net_expect(h->ap.nt, 1, (m + 7) / 8);
    }
    return 0;
}

static void conv_finish(hemi *h, pop *op, int step)
{
    st *t = op->state;
    const limbs lb = *t->lb;
    size_t n = op->n, m = (size_t)lb.nlift * n;
    if (step == 0) {
        rots_end(h, &t->r);
        t->acc = proto_zalloc(n * W);
        if (h->ap.me == 1)
            return;
        if (op->kind == PK_CONV2D)
            kern_conv2d(t->acc, op->a, op->b, &op->g, op->channels);
        else
            kern_dwconv2d(t->acc, op->a, op->b, &op->g, op->channels);
        t->x = proto_zalloc((m ? m : 1) * W);
        t->nresp = limbs_down(&lb);
        t->resp = proto_alloc(t->nresp);
        const uint8_t *in = net_in(h->ap.nt, 1, limbs_up(&lb));
        uint8_t *out = t->resp;
        for (int i = 0, li = 0; i < lb.n; i++) {
            conv_limb_respond(h, op, &lb.v[i], li, lb.whole, in, t->acc, t->x, out);
            in += lb.v[i].pl.up, out += lb.v[i].pl.down;
            li += lb.v[i].lift;
        }
    } else if (step == 1 && h->ap.me == 1) {
        const uint8_t *in = net_in(h->ap.nt, 0, limbs_down(&lb));
        t->v = proto_zalloc(m ? m : 1);
        for (int i = 0, li = 0; i < lb.n; i++) {
            conv_limb_decrypt(h, op, &lb.v[i], li, in, t->acc, t->v);
            in += lb.v[i].pl.down;
            li += lb.v[i].lift;
        }
        if (m) {
            word *pr = proto_alloc(m * W);
            osp_r(&t->r, 0, t->v, net_in(h->ap.nt, 0, m * W), m, pr);
            for (size_t k = 0; k < m; k++)
                t->acc[k % n] += pr[k];
            free(pr);
        }
    } else if (step == 2 && h->ap.me == 0) {
        word *pr = proto_alloc(m * W);
        osp_s(&t->r, 0, net_in(h->ap.nt, 1, (m + 7) / 8), m, pr);
        for (size_t k = 0; k < m; k++)
            t->acc[k % n] += pr[k];
        free(pr);
    }
    if (step == (lb.nlift ? 2 : 1)) {
        memcpy(op->d, t->acc, n * W);
        state_free(op);
    }
}

static void conv_cost(const pop *op, proto_cost *acc)
{
    limbs lb;
    if (conv_limbs(op, &lb)) { /* refused when it runs: no traffic predicted */
        acc->rounds = 1;
        return;
    }
    uint64_t m = (uint64_t)lb.nlift * op->n;
    acc->rounds = m ? 3 : 2;
    acc->bytes[0] += limbs_down(&lb) + m * W;
    acc->bytes[1] += limbs_up(&lb) + rots_cost(acc, 1, m) + (m + 7) / 8;
}

/* ------------------------------------------------------------ dispatch */

static int hemi_steps(const pop *op)
{
    switch (op->kind) {
    case PK_CLAMP: return proto_composite_steps(&proto_hemi, op);
    case PK_LUT: return proto_lut_steps(&proto_hemi, op);
    case PK_REQCLAMP: return rqc_mode(op) ? rqc_steps(op, rqc_mode(op)) : proto_composite_steps(&proto_hemi, op);
    case PK_EXACT: return rqc_mode(op) ? rqc_steps(op, rqc_mode(op)) : proto_exact_steps(&proto_hemi, op);
    case PK_REQS: return proto_exact_steps(&proto_hemi, op);
    case PK_LTZ: return bits_levels(op->bound) + 3;
    case PK_CONV2D:
    case PK_DWCONV2D: return conv_steps(op);
    case PK_MUL:
    case PK_REQUANT:
    case PK_DIVR:
    case PK_TRUNC: return 2;
    case PK_INPUT:
    case PK_OUTPUT: return 1;
    }
    return 1;
}

static int hemi_prepare(void *ps, pop *op, int step, char *err, size_t errlen)
{
    hemi *h = ps;
    switch (op->kind) {
    case PK_CLAMP: return proto_clamp_prepare(&proto_hemi, ps, op, step, err, errlen);
    case PK_LUT: return proto_lut_prepare(&proto_hemi, ps, op, step, err, errlen);
    case PK_REQCLAMP:
    case PK_EXACT:
        if (rqc_mode(op)) {
            rqc_prepare(h, op, step);
            break;
        }
        return op->kind == PK_REQCLAMP ? proto_reqclamp_prepare(&proto_hemi, ps, op, step, err, errlen)
                                       : proto_exact_prepare(&proto_hemi, ps, op, step, err, errlen);
    case PK_REQS: return proto_exact_prepare(&proto_hemi, ps, op, step, err, errlen);
    case PK_INPUT: input_prepare(h, op); break;
    case PK_OUTPUT: add_open_to_send(&h->ap, op->owner, op->a, op->n); break;
    case PK_MUL: mul_prepare(h, op, step); break;
    case PK_CONV2D:
    case PK_DWCONV2D: return conv_prepare(h, op, step, err, errlen);
    case PK_REQUANT:
    case PK_DIVR:
    case PK_TRUNC: trunc_prepare(h, op, step); break;
    case PK_LTZ: ltz_prepare(h, op, step); break;
    }
    return 0;
}

static int hemi_exchange(void *ps, char *err, size_t errlen)
{
    hemi *h = ps;
    return net_round(h->ap.nt, err, errlen);
}

static int hemi_finish(void *ps, pop *op, int step, char *err, size_t errlen)
{
    hemi *h = ps;
    switch (op->kind) {
    case PK_CLAMP: return proto_clamp_finish(&proto_hemi, ps, op, step, err, errlen);
    case PK_LUT: return proto_lut_finish(&proto_hemi, ps, op, step, err, errlen);
    case PK_REQCLAMP:
    case PK_EXACT:
        if (rqc_mode(op)) {
            rqc_finish(h, op, step);
            break;
        }
        return op->kind == PK_REQCLAMP ? proto_reqclamp_finish(&proto_hemi, ps, op, step, err, errlen)
                                       : proto_exact_finish(&proto_hemi, ps, op, step, err, errlen);
    case PK_REQS: return proto_exact_finish(&proto_hemi, ps, op, step, err, errlen);
    case PK_INPUT: break;
    case PK_OUTPUT: output_finish(h, op); break;
    case PK_MUL: mul_finish(h, op, step); break;
    case PK_CONV2D:
    case PK_DWCONV2D: conv_finish(h, op, step); break;
    case PK_REQUANT:
    case PK_DIVR:
    case PK_TRUNC: trunc_finish(h, op, step); break;
    case PK_LTZ: ltz_finish(h, op, step); break;
    }
    return 0;
}

static void hemi_cost(const pop *op, int N, proto_cost *acc)
{
    switch (op->kind) {
    case PK_CLAMP: proto_composite_cost(&proto_hemi, op, N, acc); break;
    case PK_LUT: proto_lut_cost(&proto_hemi, op, N, acc); break;
    case PK_REQCLAMP:
    case PK_EXACT:
        if (rqc_mode(op))
            rqc_cost(op, rqc_mode(op), acc);
        else if (op->kind == PK_REQCLAMP)
            proto_composite_cost(&proto_hemi, op, N, acc);
        else
            proto_exact_cost(&proto_hemi, op, N, acc);
        break;
    case PK_REQS: proto_exact_cost(&proto_hemi, op, N, acc); break;
    case PK_INPUT: acc->rounds = 1; break;
    case PK_OUTPUT:
        acc->rounds = add_open_to_cost(N, op->owner, op->n, W, acc);
        acc->opened += op->n;
        break;
    case PK_MUL: mul_cost(op, acc); break;
    case PK_CONV2D:
    case PK_DWCONV2D: conv_cost(op, acc); break;
    case PK_REQUANT:
    case PK_DIVR:
    case PK_TRUNC: trunc_cost(op, acc); break;
    case PK_LTZ: ltz_cost(op, acc); break;
    }
}

const protocol proto_hemi = {
    .name = "hemi",
    .security = "passive, two parties, no dealer: additive sharing over Z_2^64, linear layers by RLWE HE, the rest by OT",
    .domain = "Z_2^64",
    .configs = {2},
    .min_parties = 2,
    .max_parties = 2,
    .share_words = 1,
    .create = hemi_create,
    .destroy = hemi_destroy,
    .add = proto_word_add,
    .sub = proto_word_sub,
    .addc = add_word_addc,
    .mulc = proto_word_mulc,
    .fillc = add_word_fillc,
    .steps = hemi_steps,
    .prepare = hemi_prepare,
    .exchange = hemi_exchange,
    .finish = hemi_finish,
    .cost = hemi_cost,
    .setup_cost = hemi_setup_cost,
    .wave_elems = (size_t)1 << 14,
    .owner_filters = HEMI_WMAX,
    .pre_stats = hemi_pre_stats,
};
