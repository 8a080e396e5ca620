/* spdz_core: N >= 2 parties, active security against any N-1 colluding,
 * SPDZ-style MACs with dealer preprocessing, in either of two domains
 * (runtime/core/el128.h): spdz2k (SPDZ2k: Cramer, Damgard, Escudero,
 * Scholl, Xing, CRYPTO 2018), a value of Z_2^64 (k = 64) shared additively
 * over Z_2^128 (k + s, s = 64) with a share of its MAC alpha*x, alpha the
 * sum of the parties' 64-bit key shares; and spdz, the same over F_p with
 * p = 2^127 - 1 and alpha uniform in F_p (the paper's cowgear domain). Only
 * the dealer knows alpha in full. An element takes four words: value share
 * (2), MAC share (2). proto_spdz2k.c and proto_spdz.c are the two tables.
 *
 * Every dealt vector is authenticated (prep.h's authenticated catalog:
 * triples, truncation pairs, masks with their one-hot chunks). Every value
 * opened is masked (Z_2^128: by a uniform element, so nothing above bit 63
 * leaks; F_p: by a uniform element, or statistically by one below 2^126)
 * and is checked: each party keeps sigma = (MAC share) - alpha_i * (opened
 * value) and the batch opened in round r is combined with coefficients
 * from a coin tossed in round r+1 (committed in round r), committed in
 * round r+2 and revealed in round r+3, where a non-zero sum stops the run
 * with "MAC check failed". These messages ride on the rounds the program
 * has anyway; OUTPUT waits three rounds so that everything opened before it
 * is checked before its masked value is opened, and close() spends three
 * rounds so that the outputs themselves are checked before any is
 * released. Over F_p an element that is not below p stops its receiver
 * ("malformed element"), so that every value has one encoding.
 *
 * Operations: INPUT opens x - r for a mask r its owner knows; OUTPUT opens
 * y - r for a mask its receiver knows; MUL and convolutions use (convolution)
 * triples; truncation opens x*mult + 2^62 + r (Z_2^128: as semi2k does;
 * F_p: Catrina-Saxena with 2^63, y = floor(c / 2^d) - R - 2^(63-d)); LTZ opens
 * x + 2^L + r and runs a carry tree over 3-bit chunks of r, dealt one-hot,
 * on MACed elements (G_hi + P_hi*G_lo: the two terms exclude each other,
 * so xor is a sum; a group's two gates share the opening of P_hi), then,
 * over Z_2^128, one product for the top bit's xor (over F_p the high part
 * r >> L is dealt and the bit is a sum); CLAMP gets both of its
 * comparisons from one open and one r. docs/protocols.md has the costs. */
#include "runtime/proto/spdz_core.h"

#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/proto/additive.h"
#include "runtime/core/bits.h"
#include "runtime/net/net.h"
#include "runtime/prep/prep.h"
#include "runtime/net/prg.h"
#include "runtime/proto/proto.h"

#define V sizeof(el) /* bytes per value share on the wire */
/* A round's trailer: commitment to this round's coin, the last round's
 * coin and its nonce, commitment to a check value, a check value and its
 * nonce (docs/protocols.md, "spdz2k: the MAC check"). */
#define T_CSEED 0
#define T_SEED 32
#define T_CZ 64
#define T_Z 96
#define SEED_LEN 32 /* a coin's reveal: seed and nonce */
#define Z_LEN 32    /* a check value's reveal: value and nonce */
#define TRAILER SPDZ_TRAILER


typedef prep_avec avec; /* value shares and MAC shares (at the dealer: values) */

typedef struct {
    add_parties ap; /* ap.me == ap.n: the dealer */
    prep *pp;
    el_dom dom;
    const protocol *self; /* its table: the composites call back into it */
    el alpha; /* party: its key share; dealer: the key */
    /* the MAC check pipeline (see the header) */
    uint32_t r;                        /* online rounds so far */
    uint64_t round0;                   /* the network's round number of the first */
    add_mac_batch sigma;               /* this round's batch */
    uint8_t seed[32], seed_prev[32];   /* my coins for this and the last batch, with their nonces */
    uint8_t cseed[PROTO_MAX_PARTIES][32], cz[PROTO_MAX_PARTIES][32]; /* peers' last commitments */
    el z[3];                           /* my check values, by batch mod 3 */
    uint8_t nonce[3][16];
    const uint8_t *run_id;
    uint8_t echo[PROTO_MAX_PARTIES][32]; /* a running hash of every trailer from each party */
    const char *phase;
    int copied; /* test builds: the commitment copied last round (T_CSEED, T_CZ), or -1 */
    int malformed;  /* 1 + the first party that sent an element not below p, or 0 */
    int output_bad; /* F_p: an output decoded outside int64 (reported after the checks) */
} spdz;

/* ---------------------------------------------------------------- helpers */

static el ld(const word *p)
{
    el v;
    memcpy(&v, p, V);
    return v;
}

static void st(word *p, el v) { memcpy(p, &v, V); }

static el sx(const spdz *s, int64_t c) { return el_from_i64(s->dom, c); }
static el add(const spdz *s, el a, el b) { return el_add(s->dom, a, b); }
static el sub(const spdz *s, el a, el b) { return el_sub(s->dom, a, b); }
static el mul(const spdz *s, el a, el b) { return el_mul(s->dom, a, b); }
static int field(const spdz *s) { return s->dom == EL_FP; }

static void avec_alloc(avec *v, size_t n) { prep_avec_alloc(v, n); }
static void avec_free(avec *v) { prep_avec_free(v); }

/* element k of a register into (x, m) */
static void reg_get(const word *r, size_t k, el *x, el *m)
{
    *x = ld(r + 4 * k);
    *m = ld(r + 4 * k + 2);
}

static void reg_set(word *r, size_t k, el x, el m)
{
    st(r + 4 * k, x);
    st(r + 4 * k + 2, m);
}

static int dealer(const spdz *s) { return s->ap.me == s->ap.n; }

/* the share of public c: party 0 holds the value, everybody alpha_i * c */
static el pub_x(const spdz *s, el c) { return s->ap.me == 0 ? c : 0; }
static el pub_m(const spdz *s, el c) { return mul(s, s->alpha, c); }

/* element k of a register plus public c (value and MAC shares) */
static void reg_addc(const spdz *s, word *d, size_t k, el x, el m, el c)
{
    reg_set(d, k, add(s, x, pub_x(s, c)), add(s, m, pub_m(s, c)));
}

/* ------------------------------------------------------------- opening */

/* out = the opened values of v; each joins this round's batch for the check. */
static void open_finish(spdz *s, const avec *v, el *out)
{
    size_t n = v->n;
    int bad = add_open128_finish(&s->ap, s->dom, v->x, out, n);
    if (bad >= 0 && !s->malformed)
        s->malformed = 1 + bad;
    add_mac_push(&s->sigma, s->dom, s->alpha, v->m, out, n);
    if (n && net_cheat(s->ap.nt, "mac")) /* a MAC share off by one bit */
        s->sigma.v[s->sigma.len - n] ^= 1;
}

/* Test builds, on the first element this party just queued for every
 * peer (n elements): QNN_CHEAT kind noncanon sends it as v + p over F_p,
 * the same residue in a second encoding, which every receiver must refuse
 * rather than reduce; kind beaver (on a Beaver opening) adds 2^120, the
 * additive error of the delayed-check attack, which must stop every honest
 * party before any opening it would show through. */
static void cheat_element(spdz *s, size_t n, const char *kind)
{
    int noncanon = !strcmp(kind, "noncanon");
    if (!n || (noncanon && !field(s)) || !net_cheat(s->ap.nt, kind))
        return;
    for (int j = 0; j < s->ap.n; j++) {
        if (j == s->ap.me)
            continue;
        uint8_t *q = net_out_tail(s->ap.nt, j, n * V);
        el v;
        memcpy(&v, q, V);
        v = noncanon ? v + FP127_P : add(s, v, el_pow2(120));
        memcpy(q, &v, V);
    }
}

/* open v (n elements) to every party */
static void open_send(spdz *s, const el *v, size_t n)
{
    add_open128_send(&s->ap, v, n);
    cheat_element(s, n, "noncanon");
}

/* ---------------------------------------------------------- the MAC check */

/* A commitment bound to what it commits in (the issue of a copied
 * commitment: docs/protocols.md): H(tag || protocol || run id || round ||
 * sender || value || nonce), with the network round it was sent in. */
static void commit(const spdz *s, const char *tag, uint32_t r, int sender, const uint8_t value[16],
                   const uint8_t nonce[16], uint8_t h[32])
{
    uint8_t b[16 + 8 + 32 + 8 + 4 + 16 + 16] = {0}, *q = b;
    strncpy((char *)q, tag, 16), q += 16;
    strncpy((char *)q, s->self->name, 8), q += 8;
    memcpy(q, s->run_id, 32), q += 32;
    uint64_t round = s->round0 + r; /* the network's round: spdz_exchange is its only caller after create */
    for (int i = 0; i < 8; i++)
        *q++ = (uint8_t)(round >> (8 * i));
    for (int i = 0; i < 4; i++)
        *q++ = (uint8_t)((uint32_t)sender >> (8 * i));
    memcpy(q, value, 16), q += 16;
    memcpy(q, nonce, 16);
    SHA256(b, sizeof b, h);
}

static void coin_commitment(const spdz *s, uint32_t r, int sender, const uint8_t seed[32], uint8_t h[32])
{
    commit(s, "qnn coin", r, sender, seed, seed + 16, h);
}

static void z_commitment(const spdz *s, uint32_t r, int sender, el z, const uint8_t nonce[16], uint8_t h[32])
{
    uint8_t v[16];
    memcpy(v, &z, 16);
    commit(s, "qnn check value", r, sender, v, nonce, h);
}

/* The echo: each party's running hash of what a party sent in its
 * trailers, the same for every receiver when the sender is honest. */
static void echo_add(spdz *s, int sender, const uint8_t *t)
{
    uint8_t b[32 + TRAILER];
    memcpy(b, s->echo[sender], 32);
    memcpy(b + 32, t, TRAILER);
    SHA256(b, sizeof b, s->echo[sender]);
}

static int check_fail(spdz *s, char *err, size_t errlen, const char *what, int party, uint32_t r)
{
    unsigned long long round = s->round0 + r;
    if (party >= 0)
        snprintf(err, errlen, "MAC check failed (%s): party %d's %s does not match its commitment (round %llu)",
                 s->phase, party, what, round);
    else
        snprintf(err, errlen, "MAC check failed (%s): the values opened in round %llu are not authentic",
                 s->phase, round);
    return -1;
}

/* An element not below p from party j: refused, as any deviation. */
static int malformed_fail(spdz *s, char *err, size_t errlen, int party)
{
    snprintf(err, errlen, "MAC check failed (%s): party %d sent a malformed element (not below p) in round %llu",
             s->phase, party, (unsigned long long)(net_rounds(s->ap.nt) - 1));
    return -1;
}

/* My part of round r's trailer to every other party: commitment to this
 * round's coin, the last round's coin, commitment to z of round r-2, z and
 * nonce of round r-3. */
static void trailer_send(spdz *s)
{
    uint32_t r = s->r;
    memcpy(s->seed_prev, s->seed, 32);
    if (prg_seed(s->seed) != 0 || prg_seed(s->seed + 16) != 0)
        abort();
    uint8_t t[TRAILER];
    coin_commitment(s, r, s->ap.me, s->seed, t + T_CSEED);
    memcpy(t + T_SEED, s->seed_prev, SEED_LEN);
    z_commitment(s, r, s->ap.me, s->z[(r + 1) % 3], s->nonce[(r + 1) % 3], t + T_CZ); /* r-2 */
    memcpy(t + T_Z, &s->z[r % 3], 16);                                            /* r-3 */
    memcpy(t + T_Z + 16, s->nonce[r % 3], 16);
    echo_add(s, s->ap.me, t);
    add_send_all(&s->ap, t, TRAILER);
}

/* The peers' trailers (the last bytes of their frames): check the coins and
 * the revealed z against the commitments of the last round, the sum of z,
 * then combine the batch of round r-1 with the coin just revealed. */
static int trailer_finish(spdz *s, char *err, size_t errlen)
{
    uint32_t r = s->r;
    uint8_t coin[16], h[32];
    memcpy(coin, s->seed_prev, 16);
    el zsum = s->z[r % 3];
    for (int j = 0; j < s->ap.n; j++) {
        if (j == s->ap.me)
            continue;
        const uint8_t *q = net_in_tail(s->ap.nt, j, TRAILER);
        echo_add(s, j, q);
        coin_commitment(s, r - 1, j, q + T_SEED, h);
        if (r >= 1 && memcmp(h, s->cseed[j], 32) != 0)
            return check_fail(s, err, errlen, "coin", j, r);
        for (int b = 0; b < 16; b++)
            coin[b] ^= q[T_SEED + b];
        el zj;
        memcpy(&zj, q + T_Z, 16);
        z_commitment(s, r - 1, j, zj, q + T_Z + 16, h);
        if (r >= 3 && memcmp(h, s->cz[j], 32) != 0)
            return check_fail(s, err, errlen, "check value", j, r);
        if (!el_canonical(s->dom, zj))
            return malformed_fail(s, err, errlen, j);
        zsum = add(s, zsum, zj);
        memcpy(s->cseed[j], q + T_CSEED, 32);
        memcpy(s->cz[j], q + T_CZ, 32);
    }
    if (r >= 3 && zsum != 0)
        return check_fail(s, err, errlen, NULL, -1, r - 3);
    s->z[(r + 2) % 3] = add_mac_combine(&s->sigma, s->dom, coin); /* batch r-1: the values opened in the last round */
    if (prg_seed(s->nonce[(r + 2) % 3]) != 0)
        abort();
    return 0;
}

/* ---- test builds: deviations that the MAC check must catch ----
 * QNN_CHEAT kinds (net.h; "round=R" names the round before the one cheated
 * in): copy-commit / copy-check: a rushing party waits for the first other
 * party's (the victim's) trailer, sends the victim's coin (check value)
 * commitment as its own, and in the next round reveals what the victim
 * reveals; one-bad-reveal: a wrong check value to one honest party only. */

static int victim(const spdz *s) { return s->ap.me == 0 ? 1 : 0; }

static void copy_bytes(spdz *s, size_t off, size_t len)
{
    const uint8_t *src = net_in_tail(s->ap.nt, victim(s), TRAILER) + off;
    for (int j = 0; j < s->ap.n; j++)
        if (j != s->ap.me)
            memcpy(net_out_tail(s->ap.nt, j, TRAILER) + off, src, len);
}

static void copy_commitment(void *ctx)
{
    spdz *s = ctx;
    copy_bytes(s, (size_t)s->copied, 32);
}

/* The reveal that opens the copied commitment; the cheater also takes it as
 * its own, so that its later messages stay consistent with it. */
static void copy_reveal(void *ctx)
{
    spdz *s = ctx;
    const uint8_t *src = net_in_tail(s->ap.nt, victim(s), TRAILER);
    if (s->copied == T_CSEED) {
        copy_bytes(s, T_SEED, SEED_LEN);
        memcpy(s->seed_prev, src + T_SEED, SEED_LEN);
    } else {
        copy_bytes(s, T_Z, Z_LEN);
        memcpy(&s->z[s->r % 3], src + T_Z, 16);
    }
    s->copied = -1;
}

static void cheat(spdz *s)
{
    if (s->copied >= 0)
        net_rush(s->ap.nt, copy_reveal, s);
    else if (net_cheat(s->ap.nt, "copy-commit") || net_cheat(s->ap.nt, "copy-check")) {
        s->copied = net_cheat(s->ap.nt, "copy-commit") ? T_CSEED : T_CZ;
        net_rush(s->ap.nt, copy_commitment, s);
    }
    if (net_cheat(s->ap.nt, "one-bad-reveal")) /* to the last other party */
        net_out_tail(s->ap.nt, s->ap.me == s->ap.n - 1 ? s->ap.n - 2 : s->ap.n - 1, TRAILER)[T_Z] ^= 1;
}

int spdz_exchange(void *ps, char *err, size_t errlen)
{
    spdz *s = ps;
    trailer_send(s);
    cheat(s);
    if (net_round(s->ap.nt, err, errlen) != 0 || trailer_finish(s, err, errlen) != 0)
        return -1;
    s->r++;
    return 0;
}

/* The echo round: every party sends every other its running hash of the
 * trailers it got from each party (its own: those it sent). Equal hashes
 * mean every honest party checked the same commitments, reveals and check
 * values, so they all decided alike; a party that stopped on a failed
 * check sends no echo, so the others stop here at the latest. */
static int echo_round(spdz *s, char *err, size_t errlen)
{
    size_t len = 32 * (size_t)s->ap.n;
    add_send_all(&s->ap, s->echo, len);
    if (net_cheat(s->ap.nt, "bad-echo")) /* test builds: a wrong echo to the last other party */
        net_out_tail(s->ap.nt, s->ap.me == s->ap.n - 1 ? s->ap.n - 2 : s->ap.n - 1, len)[0] ^= 1;
    if (net_round(s->ap.nt, err, errlen) != 0)
        return -1;
    for (int j = 0; j < s->ap.n; j++) {
        if (j == s->ap.me)
            continue;
        const uint8_t *q = net_in(s->ap.nt, j, len);
        for (int k = 0; k < s->ap.n; k++)
            if (memcmp(q + 32 * k, s->echo[k], 32) != 0) {
                snprintf(err, errlen,
                         "MAC check failed (at the end): party %d's echo says party %d's check messages "
                         "differ from those we %s (round %llu)",
                         j, k, k == s->ap.me ? "sent" : "received", (unsigned long long)(net_rounds(s->ap.nt) - 1));
                return -1;
            }
    }
    return 0;
}

/* The batch of round r-1 was taken in trailer_finish of round r; the sigma
 * recorded after it belong to round r. Three rounds check the last values
 * opened, the fourth is the echo. */
int spdz_close(void *ps, char *err, size_t errlen)
{
    spdz *s = ps;
    s->phase = "at the end";
    for (int i = 0; i < 3; i++)
        if (spdz_exchange(s, err, errlen) != 0)
            return -1;
    if (echo_round(s, err, errlen) != 0)
        return -1;
    if (s->output_bad) { /* authentic, so the program does not fit the field */
        snprintf(err, errlen, "an output is not an int64: the program does not fit the field");
        return -1;
    }
    return 0;
}

void spdz_close_cost(int nparties, proto_cost *acc)
{
    acc->rounds += 4;
    for (int k = 0; k < nparties; k++)
        acc->bytes[k] += (uint64_t)(nparties - 1) * (3 * TRAILER + 32 * (uint64_t)nparties);
}

/* ---------------------------------------------------------------- set-up */

void *spdz_create(const protocol *self, el_dom dom, const proto_env *env, char *err, size_t errlen)
{
    if (env->nparties < 2 || !env->net) {
        snprintf(err, errlen, "%s runs with 2 or more parties and a dealer over the network", self->name);
        return NULL;
    }
    spdz *s = proto_zalloc(sizeof *s);
    s->self = self;
    s->dom = dom;
    s->ap.me = env->party;
    s->ap.n = env->nparties;
    s->ap.nt = env->net;
    s->phase = "online";
    s->copied = -1;
    if (!(s->pp = prep_open(s->ap.nt, s->ap.me, s->ap.n, err, errlen))) {
        free(s);
        return NULL;
    }
    s->round0 = net_rounds(s->ap.nt);
    s->run_id = net_run_id(s->ap.nt);
    s->alpha = prep_mac_key(s->pp, dom);
    return s;
}

void spdz_destroy(void *ps)
{
    spdz *s = ps;
    prep_close(s->pp);
    add_mac_free(&s->sigma);
    free(s);
}

int spdz_deal_finish(void *ps, char *err, size_t errlen)
{
    spdz *s = ps;
    prep_flush(s->pp);
    return prep_error(s->pp, err, errlen);
}

void spdz_setup_cost(int nparties, proto_cost *acc)
{
    acc->rounds += 1; /* the seeds */
    acc->bytes[nparties] += 16 * (uint64_t)nparties;
}

/* ------------------------------------------------------- local, linear */

/* d = a + b or a - b elementwise, b periodic */
static void addsub(const spdz *s, word *d, const word *a, const word *b, size_t n, size_t nb, int minus)
{
    PERIODIC_LOOP(n, nb)
    {
        el x1, m1, x2, m2;
        reg_get(a, i, &x1, &m1);
        reg_get(b, j, &x2, &m2);
        if (minus)
            reg_set(d, i, sub(s, x1, x2), sub(s, m1, m2));
        else
            reg_set(d, i, add(s, x1, x2), add(s, m1, m2));
    }
}

void spdz_add(void *ps, word *d, const word *a, const word *b, size_t n, size_t nb) { addsub(ps, d, a, b, n, nb, 0); }

void spdz_sub(void *ps, word *d, const word *a, const word *b, size_t n, size_t nb) { addsub(ps, d, a, b, n, nb, 1); }

void spdz_addc(void *ps, word *d, const word *a, const int64_t *c, size_t n, size_t nc)
{
    spdz *s = ps;
    PERIODIC_LOOP(n, nc)
    {
        el x, m;
        reg_get(a, i, &x, &m);
        reg_addc(s, d, i, x, m, sx(s, c[j]));
    }
}

void spdz_mulc(void *ps, word *d, const word *a, const int64_t *c, size_t n, size_t nc)
{
    spdz *s = ps;
    PERIODIC_LOOP(n, nc)
    {
        el x, m, k = sx(s, c[j]);
        reg_get(a, i, &x, &m);
        reg_set(d, i, mul(s, x, k), mul(s, m, k));
    }
}

void spdz_fillc(void *ps, word *d, const int64_t *c, size_t n, size_t nc)
{
    spdz *s = ps;
    PERIODIC_LOOP(n, nc) reg_set(d, i, pub_x(s, sx(s, c[j])), pub_m(s, sx(s, c[j])));
}

/* ------------------------------------------------------ per-op state */

typedef struct {
    avec a, b, c;   /* triple; trunc (r, R, v); LTZ (r, one-hot chunks of r); masks in a */
    avec g, p, t;   /* LTZ: G and P planes, the top bit t */
    avec v;         /* CLAMP: the values compared, x - lo and hi - x */
    avec open;      /* what this step opens */
    uint8_t *d;     /* truncation shifts */
} st_t;

static st_t *state(pop *op) { return proto_state(op, sizeof(st_t)); }

static void state_free(pop *op)
{
    st_t *t = op->state;
    if (!t)
        return;
    avec_free(&t->a), avec_free(&t->b), avec_free(&t->c), avec_free(&t->g), avec_free(&t->p);
    avec_free(&t->t), avec_free(&t->open), avec_free(&t->v);
    free(t->d);
    free(t);
    op->state = NULL;
}

/* ---- input and output ---- */

#define CHECK_WAIT 3             /* rounds until what was opened before has been checked */
#define OUTPUT_WAIT CHECK_WAIT /* before an OUTPUT's open */

/* Over F_p a truncation's, comparison's or floor's opening is masked by
 * r < 2^126 alone: enough for an honest value of 64 bits, not for an error
 * that a party put on an earlier Beaver opening, which makes a product off
 * by that error times a secret, anywhere in F_p, and the opening would show
 * it (the delayed-check attack on SPDZ with statistical masks). So each
 * such operation first waits CHECK_WAIT rounds, until everything opened in
 * the earlier ROUND blocks, on which it depends, has passed the MAC check;
 * it depends on nothing opened in its own block. Over Z_2^128 every
 * opening is masked by a uniform element and needs no wait. */
static int bounded_open(el_dom dom, const pop *op)
{
    enum proto_kind k = op->kind;
    return dom == EL_FP && (k == PK_REQUANT || k == PK_DIVR || k == PK_TRUNC || k == PK_LTZ || k == PK_CLAMP);
}

/* whether step is one of op's waiting steps; if not, step less them */
static int waiting(el_dom dom, const pop *op, int *step)
{
    if (!bounded_open(dom, op))
        return 0;
    if (*step < CHECK_WAIT)
        return 1;
    *step -= CHECK_WAIT;
    return 0;
}

/* OUTPUT: everybody opens d = y - r for a mask r the receiver knows. Over
 * Z_2^128 it opens d = y - r + 2^64 u for a random u nobody knows, so that
 * the receiver learns y mod 2^64 and nothing of the upper half of y's
 * representation (which may depend on masks: a truncation's by a count of
 * 1, for one); over F_p, r is uniform and y the value itself. */
static void output_material(spdz *s, pop *op, st_t *t)
{
    prep_auth_owned(s->pp, &t->a, op->n, op->owner);
    if (!field(s))
        prep_auth_random(s->pp, &t->b, op->n);
}

static void output_prepare(spdz *s, pop *op)
{
    st_t *t = state(op);
    size_t n = op->n;
    output_material(s, op, t);
    avec_alloc(&t->open, n);
    for (size_t k = 0; k < n; k++) {
        el x, m;
        reg_get(op->a, k, &x, &m);
        t->open.x[k] = sub(s, x, t->a.x[k]);
        t->open.m[k] = sub(s, m, t->a.m[k]);
        if (!field(s))
            t->open.x[k] += t->b.x[k] << 64, t->open.m[k] += t->b.m[k] << 64;
    }
    open_send(s, t->open.x, n);
}

#ifdef QNN_RECORD
/* Test builds: the upper halves of what the receiver reconstructs, for
 * the test that they are uniform ($QNN_RECORD_DIR/output<me>.rec, in
 * tests/tools/uniform's format). */
static void record_upper(const spdz *s, const el *y, size_t n)
{
    const char *dir = getenv("QNN_RECORD_DIR");
    char path[4096];
    snprintf(path, sizeof path, "%s/output%d.rec", dir ? dir : ".", s->ap.me);
    FILE *f = dir ? fopen(path, "ab") : NULL;
    if (!f)
        return;
    uint64_t len = 8 * (uint64_t)n;
    uint8_t h[16] = {0};
    for (int i = 0; i < 8; i++)
        h[8 + i] = (uint8_t)(len >> (8 * i));
    fwrite(h, 1, sizeof h, f);
    for (size_t k = 0; k < n; k++) {
        uint64_t hi = (uint64_t)(y[k] >> 64);
        fwrite(&hi, 8, 1, f);
    }
    fclose(f);
}
#endif

static void output_finish(spdz *s, pop *op)
{
    st_t *t = op->state;
    el *dv = proto_alloc(op->n * V);
    open_finish(s, &t->open, dv);
    if (s->ap.me == op->owner) {
        for (size_t k = 0; k < op->n; k++)
            dv[k] = add(s, dv[k], t->a.x[k]);
#ifdef QNN_RECORD
        if (!field(s))
            record_upper(s, dv, op->n);
#endif
        for (size_t k = 0; k < op->n; k++) {
            if (!field(s))
                op->out[k] = (int64_t)(uint64_t)dv[k];
            else if (fp127_to_i64(fp127_of(dv[k]), &op->out[k]) != 0)
                s->output_bad = 1, op->out[k] = 0;
        }
    }
    free(dv);
    state_free(op);
}

/* ---- products: Beaver triples (add_beaver128_*) ----
 * An operation's own (convolution) triples here; products sharing a left
 * operand (the comparisons' trees) below. */

/* After the open of the masked operands: the products' shares into t->c. */
static void beaver_finish(spdz *s, st_t *t, const prep_shape *sh)
{
    el *ef = proto_alloc((sh->na + sh->nb) * V);
    open_finish(s, &t->open, ef);
    add_beaver128_combine(&s->ap, s->dom, sh, s->alpha, ef, &t->a, &t->b, &t->c);
    free(ef);
}

static void mul_prepare(spdz *s, pop *op)
{
    st_t *t = state(op);
    prep_shape sh = add_op_shape(op);
    prep_auth_triples(s->pp, &sh, &t->a, &t->b, &t->c);
    if (dealer(s))
        return;
    avec_alloc(&t->open, sh.na + sh.nb);
    for (size_t k = 0; k < sh.na; k++)
        reg_get(op->a, k, &t->open.x[k], &t->open.m[k]);
    PERIODIC_LOOP(sh.nb, op->nb) reg_get(op->b, j, &t->open.x[sh.na + i], &t->open.m[sh.na + i]);
    add_beaver128_send(&s->ap, s->dom, &sh, &t->a, &t->b, &t->open);
    cheat_element(s, sh.na + sh.nb, "noncanon");
    cheat_element(s, sh.na + sh.nb, "beaver");
}

static void mul_finish(spdz *s, pop *op)
{
    st_t *t = op->state;
    prep_shape sh = add_op_shape(op);
    beaver_finish(s, t, &sh);
    for (size_t k = 0; k < op->n; k++)
        reg_set(op->d, k, t->c.x[k], t->c.m[k]);
    state_free(op);
}

/* ---- truncation: t = m x, |t| < 2^62 ----
 * Z_2^128: semi2k's, on MACed shares (proto_trunc_open): open c = t +
 * 2^62 + r with dealt (r, R = (r mod 2^63) >> d, v = bit 63 of r). F_p
 * (Catrina-Saxena): open c = t + 2^63 + r, r < 2^126 and R = r >> d dealt
 * (2^63, not 2^62: the fit check bounds t by 2^63 alone), c < p is that
 * integer and y = floor(c / 2^d) - R - 2^(63-d): floor(t / 2^d), or one
 * more with probability (t mod 2^d) / 2^d (the carry of r's low bits). */

/* the offset that makes a truncation's opened value nonnegative */
static unsigned trunc_offset(const spdz *s) { return field(s) ? 63 : 62; }

static void trunc_prepare(spdz *s, pop *op)
{
    st_t *t = state(op);
    size_t n = op->n;
    t->d = proto_alloc(n);
    proto_trunc_shifts(op, t->d, NULL);
    prep_auth_trunc(s->pp, n, t->d, &t->a, &t->b, &t->c);
    if (dealer(s))
        return;
    avec_alloc(&t->open, n);
    for (size_t k = 0; k < n; k++) {
        word w = proto_trunc_mult(op, k, &t->d[k]);
        el x, m, mult = field(s) ? sx(s, (int64_t)w) : w, c = el_pow2(trunc_offset(s));
        reg_get(op->a, k, &x, &m);
        t->open.x[k] = add(s, add(s, mul(s, x, mult), t->a.x[k]), pub_x(s, c));
        t->open.m[k] = add(s, add(s, mul(s, m, mult), t->a.m[k]), pub_m(s, c));
    }
    open_send(s, t->open.x, n);
}

/* proto_trunc_open's pub and coef as integers in Z_2^128: the 64-bit ones,
 * sign-extended, are off by 2^64 when d = 0 (a division by a count of 1),
 * and that error times the mask's bit v would sit in the upper half. */
static void trunc_open(el c, int d, el *pub, el *coef)
{
    word w = (word)c, u = w >> 63;
    el p = (el)1 << (63 - d);
    *coef = u ? -p : p;
    *pub = (el)proto_trunc_low(w, d) + p * u - ((el)1 << (62 - d));
}

static void trunc_finish(spdz *s, pop *op)
{
    st_t *t = op->state;
    size_t n = op->n;
    el *c = proto_alloc(n * V);
    open_finish(s, &t->open, c);
    for (size_t k = 0; k < n; k++) {
        el x, m;
        if (field(s)) {
            x = sub(s, 0, t->b.x[k]), m = sub(s, 0, t->b.m[k]);
            reg_addc(s, op->d, k, x, m, sub(s, c[k] >> t->d[k], el_pow2(63 - t->d[k])));
            continue;
        }
        el pb, cf;
        trunc_open(c[k], t->d[k], &pb, &cf);
        x = -t->b.x[k] + cf * t->c.x[k], m = -t->b.m[k] + cf * t->c.m[k];
        reg_addc(s, op->d, k, x, m, pb);
    }
    free(c);
    state_free(op);
}

/* ---- comparison: [x < 0] for |x| < 2^L ----
 * Open c = x + 2^L + r. Over Z_2^128, bit L of x + 2^L is c_L xor r_L xor
 * [c' < r'] on the low L bits, one product for the xor. Over F_p, r =
 * r' + 2^L r_hi < 2^126 and c is the integer x + 2^L + r, so [x < 0] =
 * 1 - (c >> L) + r_hi + [r' > c']: a sum, with r_hi dealt. The dealer gives
 * r's low bits in chunks of CHUNK bits as one-hot vectors (element v of
 * chunk i is [r_i == v]), so that each chunk's G_i = [r_i > c_i] and
 * P_i = [r_i == c_i] are sums of dealt elements, local; the carry tree
 * then runs over ceil(L / CHUNK) positions instead of L, a third of the
 * products and one round fewer. */

#define CHUNK 3

static uint32_t ltz_chunks(uint32_t L) { return (L + CHUNK - 1) / CHUNK; }
static uint32_t chunk_width(uint32_t L, uint32_t i) { return L - i * CHUNK < CHUNK ? L - i * CHUNK : CHUNK; }

/* elements per comparison of the one-hot vectors of all chunks, and the
 * top row (bit L, or r >> L) */
static size_t ltz_dealt(uint32_t L) { return prep_onehot_count(L, CHUNK) + 1; }

static int ltz_levels(const pop *op) { return bits_levels(ltz_chunks(op->bound)); }

/* The steps of an LTZ: the open, the tree, and over Z_2^128 the xor product */
static int ltz_steps(el_dom dom, const pop *op) { return ltz_levels(op) + (dom == EL_FP ? 1 : 2); }

/* A CLAMP's last step, its one product per element */
static int clamp_last(el_dom dom, const pop *op) { return ltz_steps(dom, op); }

/* Step 0 of a comparison of the n values x + addc (x: op->a): r and its
 * one-hot chunks, and the open of c = x + addc + r. */
static void ltz_open_prepare(spdz *s, pop *op, size_t n, el addc)
{
    st_t *t = state(op);
    prep_auth_chunks(s->pp, n, op->bound, CHUNK, NULL, 1, &t->a, &t->b); /* r; its chunks' one-hot rows, the top */
    if (dealer(s))
        return;
    avec_alloc(&t->open, n);
    for (size_t k = 0; k < n; k++) {
        el x, m;
        reg_get(op->a, k, &x, &m);
        t->open.x[k] = add(s, add(s, x, t->a.x[k]), pub_x(s, addc));
        t->open.m[k] = add(s, add(s, m, t->a.m[k]), pub_m(s, addc));
    }
    open_send(s, t->open.x, n);
}

static void ltz_step0_prepare(spdz *s, pop *op) { ltz_open_prepare(s, op, op->n, el_pow2(op->bound)); }

/* G_i = [r_i > k_i], P_i = [r_i == k_i] for chunk i of the public
 * thresholds k (m of them; element e uses one-hot column e mod n): sums of
 * dealt elements, local. The tree then gives [r mod 2^L > k]. With top,
 * the top term t from the dealt top row: over Z_2^128 t = top_e xor r_L
 * (top_e = c_L, 0 or 1); over F_p t = top_e + r_hi for e < nplus and
 * top_e - r_hi after (the comparisons of c - r, and a CLAMP's of c2 + r). */
static void ltz_local(const spdz *s, st_t *t, uint32_t L, size_t n, const uint64_t *k, const el *top, size_t nplus,
                      size_t m)
{
    uint32_t T = ltz_chunks(L);
    avec_alloc(&t->g, (size_t)T * m);
    avec_alloc(&t->p, (size_t)T * m);
    const avec *oh = &t->b;
    uint8_t *cv = proto_alloc(m);
    size_t row = 0;
    for (uint32_t i = 0; i < T; i++) { /* row by row, so that every pass is sequential */
        uint32_t w = chunk_width(L, i);
        el *gx = t->g.x + i * m, *gm = t->g.m + i * m, *px = t->p.x + i * m, *pm = t->p.m + i * m;
        for (size_t e = 0; e < m; e++)
            cv[e] = (uint8_t)((k[e] >> (i * CHUNK)) & ((1u << w) - 1));
        memset(gx, 0, m * V);
        memset(gm, 0, m * V);
        for (uint32_t v = 0; v < (1u << w); v++, row++) {
            const el *ox = oh->x + row * n, *om = oh->m + row * n;
            for (size_t e = 0; e < m; e++) {
                if (v > cv[e])
                    gx[e] = add(s, gx[e], ox[e % n]), gm[e] = add(s, gm[e], om[e % n]);
                else if (v == cv[e])
                    px[e] = ox[e % n], pm[e] = om[e % n];
            }
        }
    }
    if (top)
        avec_alloc(&t->t, m);
    for (size_t e = 0; top && e < m; e++) {
        el rx = oh->x[row * n + e % n], rm = oh->m[row * n + e % n];
        int minus = field(s) ? e >= nplus : top[e] != 0; /* Z_2^128: 1 - r_L when c_L = 1, else r_L */
        el px = pub_x(s, top[e]), pm = pub_m(s, top[e]);
        t->t.x[e] = minus ? sub(s, px, rx) : add(s, px, rx);
        t->t.m[e] = minus ? sub(s, pm, rm) : add(s, pm, rm);
    }
    free(cv);
    avec_free(&t->b);
}

/* F_p: the m comparisons' bits t + G (e < nplus) or t - G, into t->t */
static void fp_bits(const spdz *s, st_t *t, size_t nplus, size_t m)
{
    for (size_t e = 0; e < m; e++)
        if (e < nplus)
            t->t.x[e] = add(s, t->t.x[e], t->g.x[e]), t->t.m[e] = add(s, t->t.m[e], t->g.m[e]);
        else
            t->t.x[e] = sub(s, t->t.x[e], t->g.x[e]), t->t.m[e] = sub(s, t->t.m[e], t->g.m[e]);
}

/* F_p: the LTZ's result, once the tree has its root */
static void ltz_fp_result(const spdz *s, pop *op)
{
    st_t *t = op->state;
    fp_bits(s, t, op->n, op->n);
    for (size_t k = 0; k < op->n; k++)
        reg_set(op->d, k, t->t.x[k], t->t.m[k]);
    state_free(op);
}

/* the top term's public part for the comparison of c - r: c_L, or over
 * F_p 1 - (c >> L) */
static el top_minus(const spdz *s, el c, uint32_t L) { return field(s) ? sub(s, 1, c >> L) : (c >> L) & 1; }

/* LTZ: the threshold is c' = c mod 2^L (the borrow of c' - r') */
static void ltz_step0_finish(spdz *s, pop *op)
{
    st_t *t = op->state;
    size_t n = op->n;
    uint32_t L = op->bound;
    el *c = proto_alloc(n * V), *top = proto_alloc(n * V);
    uint64_t *k = proto_alloc(n * sizeof *k);
    open_finish(s, &t->open, c);
    for (size_t e = 0; e < n; e++)
        k[e] = (uint64_t)c[e] & ((1ull << L) - 1), top[e] = top_minus(s, c[e], L);
    ltz_local(s, t, L, n, k, top, n, n);
    free(c), free(k), free(top);
    if (field(s) && ltz_levels(op) == 0)
        ltz_fp_result(s, op);
}

/* Products x_{xi[k]} * y_k, k < my, of n elements each, over mx distinct
 * left operands: a left operand is opened once (x_i - a_i) whatever the
 * number of its products, each product opens y_k - b_k; the triples
 * (a_{xi[k]}, b_k, c_k) share their a. xs[2i], xs[2i+1]: x_i's value and
 * MAC shares (ys likewise; unused at the dealer). */
typedef struct {
    size_t mx, my, n;
    const uint32_t *xi;
} prodshape;

static prep_shape grouped_shape(const prodshape *ps)
{
    size_t n = ps->n;
    return (prep_shape){PREP_GROUPED, ps->mx * n, ps->my * n, ps->my * n, {0}, 0, ps->xi, n};
}

static void products_prepare(spdz *s, st_t *t, const prodshape *ps, const el *const *xs, const el *const *ys)
{
    size_t n = ps->n;
    prep_shape sh = grouped_shape(ps);
    avec_free(&t->a), avec_free(&t->b), avec_free(&t->c), avec_free(&t->open);
    prep_auth_triples(s->pp, &sh, &t->a, &t->b, &t->c);
    if (dealer(s))
        return;
    avec_alloc(&t->open, sh.na + sh.nb);
    for (size_t i = 0; i < ps->mx; i++) {
        memcpy(t->open.x + i * n, xs[2 * i], n * V);
        memcpy(t->open.m + i * n, xs[2 * i + 1], n * V);
    }
    for (size_t k = 0; k < ps->my; k++) {
        memcpy(t->open.x + sh.na + k * n, ys[2 * k], n * V);
        memcpy(t->open.m + sh.na + k * n, ys[2 * k + 1], n * V);
    }
    add_beaver128_send(&s->ap, s->dom, &sh, &t->a, &t->b, &t->open);
    cheat_element(s, sh.na + sh.nb, "noncanon");
    cheat_element(s, sh.na + sh.nb, "beaver");
}

/* The products' shares into t->c (value and MAC). */
static void products_finish(spdz *s, st_t *t, const prodshape *ps)
{
    prep_shape sh = grouped_shape(ps);
    beaver_finish(s, t, &sh);
}

/* one product per element: x * y */
static const uint32_t one_x[1] = {0};

/* A tree level's gates: those of a group share P_hi, so the group's first
 * gate starts a new left operand. Returns the gates; xi[k] = group of gate k. */
static bits_gate *level_shape(const pop *op, int level, prodshape *ps, uint32_t **xi)
{
    size_t nand;
    bits_gate *gt = bits_level_gates(ltz_chunks(op->bound), level, 0, &nand);
    *xi = proto_alloc((nand ? nand : 1) * sizeof **xi);
    size_t g = 0;
    for (size_t k = 0; k < nand; k++) {
        if (!gt[k].second && k)
            g++;
        (*xi)[k] = (uint32_t)g;
    }
    *ps = (prodshape){nand ? g + 1 : 0, nand, op->n, *xi};
    return gt;
}

static void ltz_and_prepare(spdz *s, pop *op, int level)
{
    st_t *t = state(op);
    size_t n = op->n;
    prodshape ps;
    uint32_t *xi;
    bits_gate *gt = level_shape(op, level, &ps, &xi);
    const el **xs = proto_alloc((2 * ps.mx + 1) * sizeof *xs), **ys = proto_alloc((2 * ps.my + 1) * sizeof *ys);
    for (size_t k = 0; k < ps.my && !dealer(s); k++) {
        const avec *y = gt[k].second ? &t->p : &t->g;
        xs[2 * xi[k]] = t->p.x + gt[k].hi * n, xs[2 * xi[k] + 1] = t->p.m + gt[k].hi * n;
        ys[2 * k] = y->x + gt[k].lo * n, ys[2 * k + 1] = y->m + gt[k].lo * n;
    }
    products_prepare(s, t, &ps, xs, ys);
    free(xs), free(ys), free(gt), free(xi);
}

static void ltz_and_finish(spdz *s, pop *op, int level)
{
    st_t *t = op->state;
    size_t n = op->n;
    prodshape ps;
    uint32_t *xi;
    bits_gate *gt = level_shape(op, level, &ps, &xi);
    products_finish(s, t, &ps);
    for (size_t i = 0; i < ps.my; i++)
        for (size_t k = 0; k < n; k++) {
            size_t q = i * n + k, lo = gt[i].lo * n + k, hi = gt[i].hi * n + k;
            if (!gt[i].second) {
                t->g.x[lo] = add(s, t->g.x[hi], t->c.x[q]);
                t->g.m[lo] = add(s, t->g.m[hi], t->c.m[q]);
            } else {
                t->p.x[lo] = t->c.x[q];
                t->p.m[lo] = t->c.m[q];
            }
        }
    free(gt), free(xi);
}

/* Z_2^128: the result 1 - (t xor g) = 1 - t - g + 2tg: one product */
static void ltz_last_prepare(spdz *s, pop *op)
{
    st_t *t = state(op);
    const el *xs[2] = {t->t.x, t->t.m}, *ys[2] = {t->g.x, t->g.m};
    prodshape ps = {1, 1, op->n, one_x};
    products_prepare(s, t, &ps, xs, ys);
}

static void ltz_last_finish(spdz *s, pop *op)
{
    st_t *t = op->state;
    prodshape ps = {1, 1, op->n, one_x};
    products_finish(s, t, &ps);
    for (size_t k = 0; k < op->n; k++)
        reg_set(op->d, k, pub_x(s, 1) - t->t.x[k] - t->g.x[k] + 2 * t->c.x[k],
                pub_m(s, 1) - t->t.m[k] - t->g.m[k] + 2 * t->c.m[k]);
    state_free(op);
}

/* INPUT, of values of a dtype [lo, lo + 2^b) (b = op->bound, lo = op->lo): the
 * owner opens d = x - r for a mask r it knows. Taking [x] = [r] + d would
 * let a corrupted owner input any element, beyond the bounds the
 * truncations and comparisons rely on; so the value taken is
 *     x' = lo + ((d - lo + R) mod 2^b) = lo + c' + R - 2^b [R > 2^b - 1 - c'],
 * R = r mod 2^b, c' = (d - lo) mod 2^b public (over F_p, of d - lo as a
 * centered integer: r < 2^126 keeps an honest d - lo inside +-p/2): x
 * itself when x is in range, and in range whatever the owner sends. R is
 * authenticated through its dealt one-hot chunks (which the owner knows),
 * the comparison is LTZ's carry tree on them: K rounds after the open. */
/* INPUT's range: over F_p, whose programs run with proven bounds, an int32
 * is taken in 31 bits, as vm_check_bounds assumes (proto_input_range), so
 * that an owner cannot input past the bounds the comparisons rely on */
static pop input_view(el_dom dom, const pop *op)
{
    pop v = *op;
    if (dom == EL_FP && op->kind == PK_INPUT)
        proto_input_range(&v.lo, &v.bound);
    return v;
}

static void input_material(spdz *s, pop *op, st_t *t)
{
    size_t n = op->n;
    el *r = s->ap.me == op->owner ? proto_alloc(n * V) : NULL;
    prep_auth_input_chunks(s->pp, n, op->bound, CHUNK, op->owner, r, &t->b);
    if (s->ap.me == op->owner) { /* d = x - r, kept for the finish */
        avec_alloc(&t->open, n);
        for (size_t k = 0; k < n; k++)
            t->open.x[k] = sub(s, sx(s, op->in[k]), r[k]);
    }
    free(r);
}

static void input_prepare(spdz *s, pop *op)
{
    st_t *t = state(op);
    size_t n = op->n;
    input_material(s, op, t);
    if (dealer(s))
        return;
    if (s->ap.me != op->owner) {
        net_expect(s->ap.nt, op->owner, n * V);
        return;
    }
    if (net_cheat(s->ap.nt, "big-input")) /* test builds: an input 2^40 off, out of its dtype */
        for (size_t k = 0; k < n; k++)
            t->open.x[k] = add(s, t->open.x[k], el_pow2(40));
    for (int j = 0; j < s->ap.n; j++)
        if (j != s->ap.me)
            memcpy(net_out(s->ap.nt, j, n * V), t->open.x, n * V);
    cheat_element(s, n, "noncanon");
}

/* After the open: c', the tree's thresholds and R (into t->v), then G, P. */
static void input_open_finish(spdz *s, pop *op)
{
    st_t *t = op->state;
    size_t n = op->n;
    uint32_t b = op->bound;
    const uint8_t *in = s->ap.me == op->owner ? NULL : net_in(s->ap.nt, op->owner, n * V);
    uint64_t *k = proto_alloc(n * sizeof *k), mask = (1ull << b) - 1;
    avec_alloc(&t->v, n);
    for (size_t e = 0; e < n; e++) {
        el d;
        if (in)
            memcpy(&d, in + e * V, V);
        else
            d = t->open.x[e];
        if (!el_canonical(s->dom, d) && !s->malformed)
            s->malformed = 1 + op->owner;
        uint64_t c = (uint64_t)el_signed(s->dom, sub(s, d, sx(s, op->lo))) & mask;
        k[e] = mask - c;
        el v = add(s, sx(s, op->lo), c);
        t->v.x[e] = pub_x(s, v);
        t->v.m[e] = pub_m(s, v);
    }
    size_t row = 0; /* + R = sum over chunks of 2^(3i) v [chunk i == v] */
    for (uint32_t i = 0; i < ltz_chunks(b); i++)
        for (uint32_t v = 0; v < (1u << chunk_width(b, i)); v++, row++) {
            el w = (el)v << (i * CHUNK);
            for (size_t e = 0; e < n; e++) {
                t->v.x[e] = add(s, t->v.x[e], mul(s, w, t->b.x[row * n + e]));
                t->v.m[e] = add(s, t->v.m[e], mul(s, w, t->b.m[row * n + e]));
            }
        }
    ltz_local(s, t, b, n, k, NULL, 0, n);
    free(k);
}

/* x' = (lo + c' + R) - 2^b carry, the carry the tree's root G */
static void input_result(const spdz *s, pop *op)
{
    st_t *t = op->state;
    el w = el_pow2(op->bound);
    for (size_t k = 0; k < op->n; k++)
        reg_set(op->d, k, sub(s, t->v.x[k], mul(s, w, t->g.x[k])), sub(s, t->v.m[k], mul(s, w, t->g.m[k])));
    state_free(op);
}

static void input_finish(spdz *s, pop *op, int step)
{
    if (step == 0)
        input_open_finish(s, op);
    else
        ltz_and_finish(s, op, step);
    if (step == ltz_levels(op))
        input_result(s, op);
}

/* ---- CLAMP: both comparisons from one open ----
 * t1 = x - lo, t2 = hi - x. Open c = t1 + 2^L + r once: t2 + 2^L = c2 + r
 * with public c2 = hi - lo + 2^(L+1) - c. Over Z_2^128 bit L of c2 + r is
 * c2_L xor r_L xor [r' > 2^L - 1 - c2'] (the carry into bit L); over F_p
 * (c2 a negative integer) [t2 < 0] = 1 - floor(c2 / 2^L) - r_hi -
 * [r' > 2^L - 1 - c2']. So one set of dealt chunks serves both comparisons
 * (thresholds c' and 2^L - 1 - c2'); the tree (and over Z_2^128 the xor
 * product) run on 2n. With b1 = [t1 < 0], b2 = [t2 < 0] (never both),
 * y = lo + (1 - b1 - b2) t1 + (hi - lo) b2: one product per element. Half
 * the dealt material of two LTZs and one open less. */

/* the tree's view of a CLAMP: an LTZ of 2n sharing the CLAMP's state */
static pop clamp_tree(const pop *op)
{
    pop in;
    proto_clamp_ltz(op, &in);
    in.state = op->state;
    return in;
}

static void clamp_prepare(spdz *s, pop *op, int step)
{
    size_t n = op->n;
    int K = ltz_levels(op);
    el lo = sx(s, op->lo), hi = sx(s, op->hi);
    if (step == 0) {
        ltz_open_prepare(s, op, n, sub(s, el_pow2(op->bound), lo));
        if (dealer(s))
            return;
        st_t *t = op->state;
        avec_alloc(&t->v, 2 * n);
        for (size_t k = 0; k < n; k++) {
            el x, m;
            reg_get(op->a, k, &x, &m);
            t->v.x[k] = sub(s, x, pub_x(s, lo)), t->v.m[k] = sub(s, m, pub_m(s, lo));
            t->v.x[n + k] = sub(s, pub_x(s, hi), x), t->v.m[n + k] = sub(s, pub_m(s, hi), m);
        }
        return;
    }
    pop in = clamp_tree(op);
    st_t *t = state(&in);
    if (step <= K) {
        ltz_and_prepare(s, &in, step);
    } else if (step < clamp_last(s->dom, op)) { /* Z_2^128: t xor g */
        const el *xs[2] = {t->t.x, t->t.m}, *ys[2] = {t->g.x, t->g.m};
        prodshape ps = {1, 1, 2 * n, one_x};
        products_prepare(s, t, &ps, xs, ys);
    } else { /* 1 - b1 - b2 (into v's second half, t2 is no longer needed) times t1 */
        const el *xs[2] = {NULL, NULL}, *vs[2] = {t->v.x, t->v.m}; /* the dealer has none */
        if (!dealer(s)) {
            if (field(s))
                fp_bits(s, t, n, 2 * n);
            for (size_t k = 0; k < n; k++) {
                t->v.x[n + k] = sub(s, sub(s, pub_x(s, 1), t->t.x[k]), t->t.x[n + k]);
                t->v.m[n + k] = sub(s, sub(s, pub_m(s, 1), t->t.m[k]), t->t.m[n + k]);
            }
            xs[0] = t->v.x + n, xs[1] = t->v.m + n;
        }
        prodshape ps = {1, 1, n, one_x};
        products_prepare(s, t, &ps, xs, vs);
    }
    op->state = in.state;
}

/* step 0's thresholds and top terms for both comparisons (2n) */
static void clamp_thresholds(const spdz *s, const pop *op, const el *c, uint64_t *k, el *top)
{
    size_t n = op->n;
    uint32_t L = op->bound;
    uint64_t mask = (1ull << L) - 1;
    for (size_t e = 0; e < n; e++) {
        k[e] = (uint64_t)c[e] & mask, top[e] = top_minus(s, c[e], L);
        if (field(s)) { /* c2 as an integer, and 1 - floor(c2 / 2^L) */
            el_i128 c2 = (el_i128)(op->hi - op->lo) + ((el_i128)1 << (L + 1)) - (el_i128)c[e];
            el_i128 lowbits = c2 & (el_i128)mask;
            k[n + e] = mask - (uint64_t)lowbits;
            top[n + e] = sub(s, 1, el_from_i128(s->dom, (c2 - lowbits) / ((el_i128)1 << L)));
        } else {
            el c2 = sx(s, op->hi - op->lo) + ((el)1 << (L + 1)) - c[e];
            k[n + e] = mask - ((uint64_t)c2 & mask), top[n + e] = (c2 >> L) & 1;
        }
    }
}

static void clamp_finish(spdz *s, pop *op, int step)
{
    size_t n = op->n, m2 = 2 * n;
    int K = ltz_levels(op);
    st_t *t = op->state;
    if (step == 0) {
        el *c = proto_alloc(n * V), *top = proto_alloc(m2 * V);
        uint64_t *k = proto_alloc(m2 * sizeof *k);
        open_finish(s, &t->open, c);
        clamp_thresholds(s, op, c, k, top);
        ltz_local(s, t, op->bound, n, k, top, n, m2);
        free(c), free(k), free(top);
    } else if (step <= K) {
        pop in = clamp_tree(op);
        ltz_and_finish(s, &in, step);
    } else if (step < clamp_last(s->dom, op)) {
        prodshape ps = {1, 1, m2, one_x};
        products_finish(s, t, &ps);
        for (size_t e = 0; e < m2; e++) { /* beta = 1 - (t xor g) = 1 - t - g + 2tg */
            t->t.x[e] = pub_x(s, 1) - t->t.x[e] - t->g.x[e] + 2 * t->c.x[e];
            t->t.m[e] = pub_m(s, 1) - t->t.m[e] - t->g.m[e] + 2 * t->c.m[e];
        }
    } else {
        prodshape ps = {1, 1, n, one_x};
        el lo = sx(s, op->lo), D = sx(s, op->hi - op->lo);
        products_finish(s, t, &ps);
        for (size_t k = 0; k < n; k++)
            reg_set(op->d, k, add(s, add(s, pub_x(s, lo), t->c.x[k]), mul(s, D, t->t.x[n + k])),
                    add(s, add(s, pub_m(s, lo), t->c.m[k]), mul(s, D, t->t.m[n + k])));
        state_free(op);
    }
}

/* ---- exact REQCLAMP over F_p with lo >= zp (a ReLU's clamp) ----
 * TFLite's y is y0 = floor(W0 / 2^k) when y0 >= 1, else y1 <= y0 (exact.c,
 * W0 = m x + off0); with lo >= zp both clamp to lo when y0 <= 0, so
 * out = CLAMP(y0 + zp, lo, hi). Over F_p the floor itself is exact: open
 * c = W0 + 2^63 + r, r = r' + 2^k R < 2^126 (k per element; r' dealt
 * one-hot in chunks over kmax bits, R as the top row), and
 *     y0 = (c >> k) - 2^(63-k) - R - [r' > c mod 2^k],
 * the last term the carry tree's root: 1 + K rounds and no product, then
 * the CLAMP. exact.c's composition pays two truncation openings, two LTZs
 * of k + 1 bits, four lanes and a product for the same result. */

static int fused_exact(el_dom dom, const pop *op)
{
    return dom == EL_FP && op->kind == PK_EXACT && op->of == PK_REQCLAMP && op->lo >= op->zp;
}

typedef struct {
    pop fl, cl; /* the floor (an LTZ's tree over kmax bits, its state) and the clamp */
    word *mid;  /* y0 + zp */
} xq_t;

/* the shift k of element i */
static uint8_t xq_shift(const pop *op, size_t i)
{
    int64_t m, k, off0, off1;
    proto_exact_consts(op, i, &m, &k, &off0, &off1);
    return (uint8_t)k;
}

static void xq_inner(const pop *op, pop *fl, pop *cl)
{
    uint32_t kmax = 0;
    for (size_t i = 0; i < op->nshift; i++) {
        uint8_t k = xq_shift(op, i);
        kmax = k > kmax ? k : kmax;
    }
    memset(fl, 0, sizeof *fl);
    fl->kind = PK_LTZ;
    fl->n = fl->na = op->n;
    fl->bound = kmax;
    fl->rot = op->rot;
    *cl = *fl;
    cl->kind = PK_CLAMP;
    cl->lo = op->lo, cl->hi = op->hi, cl->bound = op->bound;
}

/* the floor's steps: its wait, the open, the tree */
static int xq_floor_steps(const pop *op)
{
    pop fl, cl;
    xq_inner(op, &fl, &cl);
    return CHECK_WAIT + ltz_levels(&fl) + 1;
}

/* step 0: the dealt r (split at each element's k) and the open of c */
static void xq_open_prepare(spdz *s, const pop *op, pop *fl)
{
    st_t *t = state(fl);
    size_t n = op->n;
    t->d = proto_alloc(n ? n : 1);
    for (size_t k = 0; k < n; k++)
        t->d[k] = xq_shift(op, k);
    prep_auth_chunks(s->pp, n, fl->bound, CHUNK, t->d, 1, &t->a, &t->b);
    if (dealer(s))
        return;
    avec_alloc(&t->open, n);
    for (size_t k = 0; k < n; k++) {
        int64_t m, sh, off0, off1;
        proto_exact_consts(op, k, &m, &sh, &off0, &off1);
        el x, mm, c = add(s, sx(s, off0), el_pow2(63));
        reg_get(op->a, k, &x, &mm);
        t->open.x[k] = add(s, add(s, mul(s, x, sx(s, m)), t->a.x[k]), pub_x(s, c));
        t->open.m[k] = add(s, add(s, mul(s, mm, sx(s, m)), t->a.m[k]), pub_m(s, c));
    }
    open_send(s, t->open.x, n);
}

/* the thresholds c mod 2^k and the top terms (c >> k) - 2^(63-k) - R */
static void xq_open_finish(spdz *s, pop *fl)
{
    st_t *t = fl->state;
    size_t n = fl->n;
    el *c = proto_alloc(n * V), *top = proto_alloc(n * V);
    uint64_t *k = proto_alloc(n * sizeof *k);
    open_finish(s, &t->open, c);
    for (size_t e = 0; e < n; e++) {
        uint8_t d = t->d[e];
        k[e] = (uint64_t)c[e] & (((uint64_t)1 << d) - 1);
        top[e] = sub(s, c[e] >> d, el_pow2(63 - d));
    }
    ltz_local(s, t, fl->bound, n, k, top, 0, n);
    free(c), free(k), free(top);
}

/* y0 = t - G, plus zp, into mid */
static void xq_floor_result(spdz *s, const pop *op, xq_t *q)
{
    st_t *t = q->fl.state;
    fp_bits(s, t, 0, op->n);
    el zp = sx(s, op->zp);
    for (size_t k = 0; k < op->n; k++)
        reg_addc(s, q->mid, k, t->t.x[k], t->t.m[k], zp);
    state_free(&q->fl);
}

/* step's part (the floor's or the clamp's) and its step there; 1 while
 * that part waits for the check (waiting) */
static int xq_part(const spdz *s, const pop *op, pop *fl, pop *cl, pop **part, int *step)
{
    int nf = xq_floor_steps(op);
    *part = *step < nf ? fl : cl;
    if (*step >= nf)
        *step -= nf;
    return waiting(s->dom, *part, step);
}

static void xq_step_prepare(spdz *s, const pop *op, pop *fl, pop *cl, int step)
{
    pop *part;
    if (xq_part(s, op, fl, cl, &part, &step))
        return;
    if (part == cl)
        clamp_prepare(s, cl, step);
    else if (step == 0)
        xq_open_prepare(s, op, fl);
    else
        ltz_and_prepare(s, fl, step);
}

static void xq_prepare(spdz *s, pop *op, int step)
{
    if (dealer(s)) { /* the material of this step alone */
        pop fl, cl;
        xq_inner(op, &fl, &cl);
        xq_step_prepare(s, op, &fl, &cl, step);
        state_free(&fl), state_free(&cl);
        return;
    }
    if (step == 0) {
        xq_t *q = proto_zalloc(sizeof *q);
        op->state = q;
        xq_inner(op, &q->fl, &q->cl);
        q->mid = proto_alloc(op->n * 4 * sizeof(word));
        q->cl.a = q->mid, q->cl.d = op->d;
    }
    xq_t *q = op->state;
    xq_step_prepare(s, op, &q->fl, &q->cl, step);
}

static void xq_finish(spdz *s, pop *op, int step)
{
    xq_t *q = op->state;
    pop *part;
    if (xq_part(s, op, &q->fl, &q->cl, &part, &step))
        return;
    if (part == &q->fl) {
        if (step == 0)
            xq_open_finish(s, &q->fl);
        else
            ltz_and_finish(s, &q->fl, step);
        if (step == ltz_levels(&q->fl))
            xq_floor_result(s, op, q);
        return;
    }
    clamp_finish(s, &q->cl, step);
    if (step == clamp_last(s->dom, &q->cl)) {
        free(q->mid);
        free(q);
        op->state = NULL;
    }
}

/* ------------------------------------------------------------ dispatch */

static int own_steps(const protocol *self, el_dom dom, const pop *op)
{
    switch (op->kind) {
    case PK_CLAMP: return clamp_last(dom, op) + 1;
    case PK_REQCLAMP: return proto_composite_steps(self, op);
    case PK_LUT: return proto_lut_steps(self, op);
    case PK_REQS:
    case PK_EXACT: {
        if (!fused_exact(dom, op))
            return proto_exact_steps(self, op);
        pop fl, cl;
        xq_inner(op, &fl, &cl);
        return xq_floor_steps(op) + CHECK_WAIT + clamp_last(dom, &cl) + 1;
    }
    case PK_LTZ: return ltz_steps(dom, op);
    case PK_OUTPUT: return OUTPUT_WAIT + 1;
    case PK_INPUT: {
        pop v = input_view(dom, op);
        return ltz_levels(&v) + 1;
    }
    case PK_MUL:
    case PK_CONV2D:
    case PK_DWCONV2D:
    case PK_REQUANT:
    case PK_DIVR:
    case PK_TRUNC: return 1;
    }
    return 1;
}

int spdz_steps(const protocol *self, el_dom dom, const pop *op)
{
    return own_steps(self, dom, op) + (bounded_open(dom, op) ? CHECK_WAIT : 0);
}

/* The work of (op, step) up to sending; the dealer runs the same code for
 * the material alone (its op has no registers). */
static void step_prepare(spdz *s, pop *op, int step)
{
    switch (op->kind) {
    case PK_INPUT: {
        pop v = input_view(s->dom, op);
        if (step == 0)
            input_prepare(s, &v);
        else
            ltz_and_prepare(s, &v, step);
        op->state = v.state;
        break;
    }
    case PK_OUTPUT:
        if (step < OUTPUT_WAIT)
            s->phase = "before an output";
        else if (dealer(s))
            output_material(s, op, state(op));
        else
            output_prepare(s, op);
        break;
    case PK_MUL:
    case PK_CONV2D:
    case PK_DWCONV2D: mul_prepare(s, op); break;
    case PK_REQUANT:
    case PK_DIVR:
    case PK_TRUNC: trunc_prepare(s, op); break;
    case PK_CLAMP: clamp_prepare(s, op, step); break;
    case PK_EXACT:
        if (fused_exact(s->dom, op)) {
            xq_prepare(s, op, step);
            break;
        }
        abort();
    case PK_REQCLAMP: /* spdz_prepare and spdz_deal hand these to proto_reqclamp_*, proto_exact_* and proto_lut_* */
    case PK_REQS:
    case PK_LUT: abort();
    case PK_LTZ:
        if (step == 0)
            ltz_step0_prepare(s, op);
        else if (step <= ltz_levels(op))
            ltz_and_prepare(s, op, step);
        else
            ltz_last_prepare(s, op);
        break;
    }
}

int spdz_prepare(void *ps, pop *op, int step, char *err, size_t errlen)
{
    spdz *s = ps;
    if (op->kind == PK_REQS && field(s)) {
        snprintf(err, errlen, "%s: secret requantization parameters (REQS) are not supported over F_p "
                 "(an i32 multiplier times the accumulators can pass 2^63; qnnc --field refuses them)", s->self->name);
        return -1;
    }
    if (op->kind == PK_REQCLAMP)
        return proto_reqclamp_prepare(s->self, ps, op, step, err, errlen);
    if (op->kind == PK_LUT)
        return proto_lut_prepare(s->self, ps, op, step, err, errlen);
    if ((op->kind == PK_EXACT && !fused_exact(s->dom, op)) || op->kind == PK_REQS)
        return proto_exact_prepare(s->self, ps, op, step, err, errlen);
    if (op->kind == PK_INPUT && step == 0 && s->ap.me == op->owner) {
        pop v = input_view(s->dom, op);
        for (size_t k = 0; k < op->n; k++)
            if (op->in[k] < v.lo || op->in[k] - v.lo >= (int64_t)1 << v.bound) {
                snprintf(err, errlen, "%s: input value %lld at index %zu is outside [%lld, %lld] (int32 inputs are "
                         "taken in 31 bits)", s->self->name, (long long)op->in[k], k, (long long)v.lo,
                         (long long)(v.lo + ((int64_t)1 << v.bound) - 1));
                return -1;
            }
    }
    if (waiting(s->dom, op, &step)) {
        s->phase = "before a masked opening";
        return 0;
    }
    if (bounded_open(s->dom, op))
        s->phase = "online";
    step_prepare(s, op, step);
    return prep_error(s->pp, err, errlen);
}

int spdz_finish(void *ps, pop *op, int step, char *err, size_t errlen)
{
    spdz *s = ps;
    if (waiting(s->dom, op, &step))
        return 0;
    switch (op->kind) {
    case PK_REQCLAMP: return proto_reqclamp_finish(s->self, ps, op, step, err, errlen);
    case PK_LUT: return proto_lut_finish(s->self, ps, op, step, err, errlen);
    case PK_REQS: return proto_exact_finish(s->self, ps, op, step, err, errlen);
    case PK_EXACT:
        if (!fused_exact(s->dom, op))
            return proto_exact_finish(s->self, ps, op, step, err, errlen);
        xq_finish(s, op, step);
        break;
    case PK_CLAMP: clamp_finish(s, op, step); break;
    case PK_INPUT: {
        pop v = input_view(s->dom, op);
        input_finish(s, &v, step);
        op->state = v.state;
        break;
    }
    case PK_OUTPUT:
        if (step == OUTPUT_WAIT) {
            output_finish(s, op);
            s->phase = "online";
        }
        break;
    case PK_MUL:
    case PK_CONV2D:
    case PK_DWCONV2D: mul_finish(s, op); break;
    case PK_REQUANT:
    case PK_DIVR:
    case PK_TRUNC: trunc_finish(s, op); break;
    case PK_LTZ:
        if (step == 0) {
            ltz_step0_finish(s, op);
        } else if (step <= ltz_levels(op)) {
            ltz_and_finish(s, op, step);
            if (field(s) && step == ltz_levels(op))
                ltz_fp_result(s, op);
        } else {
            ltz_last_finish(s, op);
        }
        break;
    }
    return s->malformed ? malformed_fail(s, err, errlen, s->malformed - 1) : 0;
}

void spdz_deal(void *ps, const pop *op, int step)
{
    spdz *s = ps;
    if (op->kind == PK_REQCLAMP || (op->kind == PK_EXACT && !fused_exact(s->dom, op)) || op->kind == PK_REQS) {
        (op->kind == PK_REQCLAMP ? proto_composite_deal : proto_exact_deal)(s->self, ps, op, step);
        return;
    }
    if (op->kind == PK_LUT) {
        proto_lut_deal(s->self, ps, op, step);
        return;
    }
    if (waiting(s->dom, op, &step))
        return;
    pop copy = *op; /* the dealer's state lives for one step of one op */
    copy.state = NULL;
    step_prepare(ps, &copy, step);
    state_free(&copy);
}

/* ------------------------------------------------------------- costs */

/* a tree level's left operands (its groups) and products */
static size_t level_groups(const pop *op, int level, size_t *nand)
{
    prodshape ps;
    uint32_t *xi;
    free(level_shape(op, level, &ps, &xi));
    free(xi);
    *nand = ps.my;
    return ps.mx;
}

/* the values a carry tree opens per comparison, over all its levels */
static uint64_t tree_opens(const pop *op)
{
    uint64_t o = 0;
    for (int k = 1; k <= ltz_levels(op); k++) {
        size_t nand, groups = level_groups(op, k, &nand);
        o += groups + nand;
    }
    return o;
}

/* LTZ: c, the tree over n, (Z_2^128) the xor product; CLAMP: c, the tree
 * over 2n, (Z_2^128) the xor product, and one product per element */
static void ltz_opens(el_dom dom, const pop *op, uint64_t *opens, int *rounds)
{
    int clamp = op->kind == PK_CLAMP;
    uint64_t n = op->n, m = clamp ? 2 * n : n;
    *opens = n + (dom == EL_FP ? 0 : 2 * m) + (clamp ? 2 * n : 0) + tree_opens(op) * m;
    *rounds = clamp ? clamp_last(dom, op) + 1 : ltz_steps(dom, op);
}

void spdz_cost(const protocol *self, el_dom dom, const pop *op, int N, proto_cost *acc)
{
    pop v = input_view(dom, op); /* INPUT's range; the rest as op */
    op = &v;
    uint64_t o = (uint64_t)(N - 1) * V, n = op->n, opens = 0;
    int rounds = 1;
    switch (op->kind) {
    case PK_REQCLAMP: proto_composite_cost(self, op, N, acc); return;
    case PK_LUT: proto_lut_cost(self, op, N, acc); return;
    case PK_REQS: proto_exact_cost(self, op, N, acc); return;
    case PK_EXACT: {
        if (!fused_exact(dom, op)) {
            proto_exact_cost(self, op, N, acc);
            return;
        }
        pop fl, cl;
        xq_inner(op, &fl, &cl);
        proto_seq_cost(self, &fl, &cl, N, acc);
        return;
    }
    case PK_INPUT: /* the owner's open, then the tree on R */
        acc->bytes[op->owner] += o * n;
        opens = tree_opens(op) * n, rounds = ltz_levels(op) + 1;
        break;
    case PK_OUTPUT: opens = n, rounds = OUTPUT_WAIT + 1; break;
    case PK_MUL:
    case PK_CONV2D:
    case PK_DWCONV2D: {
        prep_shape sh = add_op_shape(op);
        opens = sh.na + sh.nb;
        break;
    }
    case PK_REQUANT:
    case PK_DIVR:
    case PK_TRUNC: opens = n; break;
    case PK_LTZ:
    case PK_CLAMP: ltz_opens(dom, op, &opens, &rounds); break;
    }
    acc->rounds = (uint64_t)rounds + (bounded_open(dom, op) ? CHECK_WAIT : 0);
    acc->opened += opens;
    add_open_cost(N, opens, V, acc);
}

/* The dealer's corrections (to party N-1): a MAC share per dealt element,
 * and the value share of derived ones (over F_p the bounded masks r are
 * derived: the dealer draws them). */
void spdz_prep_cost(const protocol *self, el_dom dom, const pop *op, int step, int N, proto_cost *acc)
{
    pop v = input_view(dom, op);
    op = &v;
    if (waiting(dom, op, &step))
        return;
    uint64_t n = op->n, e = 0, r = dom == EL_FP ? 2 * n : n; /* a mask r: derived, or random */
    switch (op->kind) {
    case PK_REQCLAMP: proto_composite_prep_cost(self, op, step, N, acc); return;
    case PK_LUT: proto_lut_prep_cost(self, op, step, N, acc); return;
    case PK_REQS: proto_exact_prep_cost(self, op, step, N, acc); return;
    case PK_EXACT: {
        if (!fused_exact(dom, op)) {
            proto_exact_prep_cost(self, op, step, N, acc);
            return;
        }
        pop fl, cl;
        xq_inner(op, &fl, &cl);
        int nf = xq_floor_steps(op);
        spdz_prep_cost(self, dom, step < nf ? &fl : &cl, step < nf ? step : step - nf, N, acc);
        return;
    }
    case PK_INPUT: /* the MACs of R's chunks, then the tree's products */
        if (step == 0) {
            e = (ltz_dealt(op->bound) - 1) * n;
            acc->bits += e;
        } else {
            size_t nand, groups = level_groups(op, step, &nand);
            e = (groups + 3 * nand) * n;
            acc->triples += nand * n;
        }
        break;
    case PK_OUTPUT: e = step == OUTPUT_WAIT ? (dom == EL_FP ? n : 2 * n) : 0; break;
    case PK_MUL:
    case PK_CONV2D:
    case PK_DWCONV2D: {
        prep_shape sh = add_op_shape(op);
        e = sh.na + sh.nb + 2 * n;
        if (op->kind == PK_MUL)
            acc->triples += n;
        else
            acc->dot_triples += n;
        break;
    }
    case PK_REQUANT:
    case PK_DIVR:
    case PK_TRUNC: /* r; R (and over Z_2^128 v), derived */
        e = r + 2 * (dom == EL_FP ? 1 : 2) * n;
        acc->trunc_pairs += n;
        break;
    case PK_LTZ:
    case PK_CLAMP: { /* r and its chunks for n; products for n or 2n comparisons, then n */
        uint64_t m = op->kind == PK_CLAMP && step < clamp_last(dom, op) ? 2 * n : n;
        if (step == 0) {
            e = r + 2 * ltz_dealt(op->bound) * n;
            acc->bits += ltz_dealt(op->bound) * n;
        } else { /* a per left operand, b and c per product */
            size_t nand = 1, groups = 1;
            if (step <= ltz_levels(op))
                groups = level_groups(op, step, &nand);
            e = (groups + 3 * nand) * m;
            acc->triples += nand * m;
        }
        break;
    }
    }
    acc->bytes[N] += e * V;
}
