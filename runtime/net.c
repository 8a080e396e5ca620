/* net: TCP/TLS full mesh with framed rounds (see net.h). */
#define _POSIX_C_SOURCE 200809L
#include "net.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#define HELLO_MAGIC 0x514e4e48u /* "QNNH" */
#define FRAME_MAGIC 0x514e4e46u /* "QNNF" */
#define ABORT_MAGIC 0x514e4e41u /* "QNNA": the sender stops; the payload says why */
#define ABORT_MAX 400
#define HDR 16
#define WIRE_VERSION 2u /* 2: hellos carry the version and a run nonce */

typedef struct {
    uint8_t *p;
    size_t len, cap, pos;
} buf;

typedef struct {
    int fd;
    SSL *ssl;
    buf out, in;
    size_t expect;
    uint64_t sent, received;
} peer;

struct net {
    int me, n;
    double timeout_s;
    SSL_CTX *ctx;
    peer p[NET_MAX_PARTIES];
    uint64_t rounds;
    uint8_t nonce[NET_MAX_PARTIES][32]; /* every party's hello nonce */
    uint8_t run_id[32];
#ifdef QNN_CHEAT
    void (*rush)(void *ctx); /* the next round is a rushing one (net_round_rush) */
    void *rush_ctx;
#endif
};

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int reserve(buf *b, size_t n)
{
    if (b->len + n <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 1 << 16;
    while (cap < b->len + n)
        cap *= 2;
    uint8_t *q = realloc(b->p, cap);
    if (!q)
        return -1;
    b->p = q;
    b->cap = cap;
    return 0;
}

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* ------------------------------------------------------------ transport */

/* Bytes moved (> 0), 0 when it would block, -1 on error or close. */
static long tr_write(peer *pp, const uint8_t *b, size_t n)
{
    if (pp->ssl) {
        size_t w = 0;
        int r = SSL_write_ex(pp->ssl, b, n, &w);
        if (r > 0)
            return (long)w;
        int e = SSL_get_error(pp->ssl, r);
        return e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE ? 0 : -1;
    }
    ssize_t w = send(pp->fd, b, n, MSG_NOSIGNAL);
    if (w >= 0)
        return (long)w;
    return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? 0 : -1;
}

static long tr_read(peer *pp, uint8_t *b, size_t n)
{
    if (pp->ssl) {
        size_t got = 0;
        int r = SSL_read_ex(pp->ssl, b, n, &got);
        if (r > 0)
            return (long)got;
        int e = SSL_get_error(pp->ssl, r);
        return e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE ? 0 : -1;
    }
    ssize_t g = recv(pp->fd, b, n, 0);
    if (g > 0)
        return (long)g;
    if (g == 0)
        return -1;
    return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? 0 : -1;
}

/* Blocking exchange of small messages during set-up (sockets still blocking). */
static int write_all(peer *pp, const uint8_t *b, size_t n)
{
    while (n) {
        long w = tr_write(pp, b, n);
        if (w <= 0)
            return -1;
        b += w;
        n -= (size_t)w;
    }
    return 0;
}

static int read_all(peer *pp, uint8_t *b, size_t n)
{
    while (n) {
        long r = tr_read(pp, b, n);
        if (r <= 0)
            return -1;
        b += r;
        n -= (size_t)r;
    }
    return 0;
}

/* --------------------------------------------------------------- set-up */

static int resolve(const char *host, int port, struct addrinfo **res)
{
    char ps[16];
    snprintf(ps, sizeof ps, "%d", port);
    struct addrinfo hints;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    return getaddrinfo(host, ps, &hints, res);
}

static void set_timeouts(int fd, double t)
{
    struct timeval tv = {(time_t)t, (suseconds_t)((t - (double)(time_t)t) * 1e6)};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

static int listen_on(const net_config *c, char *err, size_t errlen)
{
    struct addrinfo *res;
    if (resolve(c->host[c->me], c->port[c->me], &res) != 0)
        return fail(err, errlen, "cannot resolve my address %s", c->host[c->me]);
    int fd = socket(res->ai_family, SOCK_STREAM, 0), one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (fd < 0 || bind(fd, res->ai_addr, res->ai_addrlen) != 0 || listen(fd, NET_MAX_PARTIES) != 0) {
        int e = errno;
        freeaddrinfo(res);
        if (fd >= 0)
            close(fd);
        return fail(err, errlen, "cannot listen on %s:%d: %s", c->host[c->me], c->port[c->me],
                    strerror(e));
    }
    freeaddrinfo(res);
    return fd;
}

static int connect_to(const net_config *c, int j, double deadline, char *err, size_t errlen)
{
    for (;;) {
        struct addrinfo *res;
        if (resolve(c->host[j], c->port[j], &res) == 0) {
            int fd = socket(res->ai_family, SOCK_STREAM, 0);
            if (fd >= 0 && connect(fd, res->ai_addr, res->ai_addrlen) == 0) {
                freeaddrinfo(res);
                return fd;
            }
            if (fd >= 0)
                close(fd);
            freeaddrinfo(res);
        }
        if (now() > deadline)
            return fail(err, errlen, "cannot connect to party %d at %s:%d within %.0f s", j,
                        c->host[j], c->port[j], c->timeout_s);
        struct timespec ts = {0, 50 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
}

static SSL_CTX *tls_context(const net_config *c, char *err, size_t errlen)
{
    char ca[4096], crt[4096], key[4096];
    snprintf(ca, sizeof ca, "%s/ca.pem", c->certs);
    snprintf(crt, sizeof crt, "%s/party%d.pem", c->certs, c->me);
    snprintf(key, sizeof key, "%s/party%d.key", c->certs, c->me);
    SSL_CTX *ctx = SSL_CTX_new(TLS_method());
    if (!ctx || !SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) ||
        SSL_CTX_load_verify_locations(ctx, ca, NULL) != 1 ||
        SSL_CTX_use_certificate_file(ctx, crt, SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(ctx) != 1) {
        SSL_CTX_free(ctx);
        fail(err, errlen, "TLS set-up with %s, %s, %s failed: %s", ca, crt, key,
             ERR_reason_error_string(ERR_get_error()));
        return NULL;
    }
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    return ctx;
}

/* The peer's certificate must name party j. */
static int check_peer_cert(peer *pp, int j, char *err, size_t errlen)
{
    X509 *cert = SSL_get1_peer_certificate(pp->ssl);
    char cn[64] = "", want[32];
    if (cert)
        X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, cn, sizeof cn);
    X509_free(cert);
    snprintf(want, sizeof want, "party%d", j);
    if (strcmp(cn, want) != 0)
        return fail(err, errlen, "peer claiming to be party %d presents a certificate for '%s'", j, cn);
    return 0;
}

/* A hello: magic, wire version, party, party count, protocol name (16),
 * program hash (32), the sender's run nonce (32). */
#define HELLO_LEN 96

static void hello_encode(const net_config *c, const uint8_t nonce[32], uint8_t *b)
{
    put32(b, HELLO_MAGIC);
    put32(b + 4, WIRE_VERSION);
    put32(b + 8, (uint32_t)c->me);
    put32(b + 12, (uint32_t)c->n);
    memset(b + 16, 0, 16);
    strncpy((char *)b + 16, c->protocol, 15);
    memcpy(b + 32, c->program_hash, 32);
    memcpy(b + 64, nonce, 32);
}

/* Exchanges hellos on a fresh connection; returns the peer's party number
 * and keeps its nonce. */
static int greet(const net_config *c, net *nt, peer *pp, int expect_party, char *err, size_t errlen)
{
    uint8_t b[HELLO_LEN], r[HELLO_LEN];
    hello_encode(c, nt->nonce[c->me], b);
    if (write_all(pp, b, sizeof b) || read_all(pp, r, sizeof r))
        return fail(err, errlen, "no hello from %s (not a qnnvm party, or TLS mismatch)",
                    expect_party >= 0 ? "the party we connected to" : "a connecting peer");
    uint32_t j = get32(r + 8);
    char proto[17];
    memcpy(proto, r + 16, 16);
    proto[16] = 0;
    for (int k = 0; proto[k]; k++)
        if (proto[k] < 32 || proto[k] > 126)
            proto[k] = '?';
    if (get32(r) != HELLO_MAGIC)
        return fail(err, errlen, "a peer that is not a qnnvm party connected");
    if (get32(r + 4) != WIRE_VERSION)
        return fail(err, errlen, "peer speaks wire format %u, we speak %u (different qnnvm versions)",
                    get32(r + 4), WIRE_VERSION);
    if (j >= (uint32_t)c->n || (int)j == c->me || (expect_party >= 0 && (int)j != expect_party))
        return fail(err, errlen, "peer says it is party %u, expected %s", j,
                    expect_party >= 0 ? "another" : "a higher-numbered party");
    if (get32(r + 12) != (uint32_t)c->n)
        return fail(err, errlen, "party %u runs with %u parties, we run with %d", j, get32(r + 12), c->n);
    if (strncmp(proto, (const char *)b + 16, 16) != 0)
        return fail(err, errlen, "party %u runs protocol %s, we run %s", j, proto, c->protocol);
    if (memcmp(r + 32, c->program_hash, 32) != 0)
        return fail(err, errlen, "party %u runs a different program (bytecode hash differs)", j);
    if (pp->ssl && check_peer_cert(pp, (int)j, err, errlen))
        return -1;
    memcpy(nt->nonce[j], r + 64, 32);
    return (int)j;
}

/* The run id: a hash of every party's fresh nonce, in party order. A party
 * that sends different nonces to different peers makes their run ids differ,
 * which the protocols' bound commitments then catch. */
static void run_id(net *nt)
{
    uint8_t b[10 + NET_MAX_PARTIES * 32];
    memcpy(b, "qnn run id", 10);
    memcpy(b + 10, nt->nonce, (size_t)nt->n * 32);
    SHA256(b, 10 + (size_t)nt->n * 32, nt->run_id);
}

const uint8_t *net_run_id(const net *nt) { return nt->run_id; }

static int tls_wrap(net *nt, peer *pp, int server, char *err, size_t errlen)
{
    if (!nt->ctx)
        return 0;
    pp->ssl = SSL_new(nt->ctx);
    if (!pp->ssl || SSL_set_fd(pp->ssl, pp->fd) != 1)
        return fail(err, errlen, "TLS: out of memory");
    int r = server ? SSL_accept(pp->ssl) : SSL_connect(pp->ssl);
    if (r != 1)
        return fail(err, errlen, "TLS handshake failed: %s",
                    ERR_reason_error_string(ERR_get_error()) ? ERR_reason_error_string(ERR_get_error())
                                                             : "peer closed or timed out");
    return 0;
}

net *net_open(const net_config *c, char *err, size_t errlen)
{
    signal(SIGPIPE, SIG_IGN);
    net *nt = calloc(1, sizeof *nt);
    if (!nt) {
        fail(err, errlen, "out of memory");
        return NULL;
    }
    nt->me = c->me;
    nt->n = c->n;
    nt->timeout_s = c->timeout_s;
    for (int j = 0; j < NET_MAX_PARTIES; j++)
        nt->p[j].fd = -1;
    if (RAND_bytes(nt->nonce[c->me], 32) != 1) {
        fail(err, errlen, "no randomness for the run nonce");
        free(nt);
        return NULL;
    }
    if (c->certs && !(nt->ctx = tls_context(c, err, errlen))) {
        free(nt);
        return NULL;
    }
    double deadline = now() + c->timeout_s;
    int lfd = c->me < c->n - 1 ? listen_on(c, err, errlen) : -2;
    if (lfd == -1)
        goto bad;
    char why[256];
    for (int j = 0; j < c->me; j++) { /* connect down */
        peer *pp = &nt->p[j];
        pp->fd = connect_to(c, j, deadline, err, errlen);
        if (pp->fd < 0)
            goto bad;
        set_timeouts(pp->fd, c->timeout_s);
        if (tls_wrap(nt, pp, 0, why, sizeof why) || greet(c, nt, pp, j, why, sizeof why) < 0) {
            fail(err, errlen, "party %d: %s", j, why);
            goto bad;
        }
    }
    for (int k = c->me + 1; k < c->n; k++) { /* accept up */
        struct pollfd pf = {lfd, POLLIN, 0};
        int left = (int)((deadline - now()) * 1000);
        if (left <= 0 || poll(&pf, 1, left) <= 0) {
            fail(err, errlen, "parties %d..%d did not connect within %.0f s", c->me + 1, c->n - 1,
                 c->timeout_s);
            goto bad;
        }
        peer tmp;
        memset(&tmp, 0, sizeof tmp);
        tmp.fd = accept(lfd, NULL, NULL);
        if (tmp.fd < 0) {
            fail(err, errlen, "accept: %s", strerror(errno));
            goto bad;
        }
        set_timeouts(tmp.fd, c->timeout_s);
        int j;
        if (tls_wrap(nt, &tmp, 1, why, sizeof why) || (j = greet(c, nt, &tmp, -1, why, sizeof why)) < 0 ||
            nt->p[j].fd >= 0) {
            if (tmp.ssl)
                SSL_free(tmp.ssl);
            close(tmp.fd);
            fail(err, errlen, "a connecting peer: %s", why);
            goto bad;
        }
        nt->p[j] = tmp;
    }
    if (lfd >= 0)
        close(lfd);
    for (int j = 0; j < c->n; j++)
        if (j != c->me)
            fcntl(nt->p[j].fd, F_SETFL, fcntl(nt->p[j].fd, F_GETFL) | O_NONBLOCK);
    run_id(nt);
    return nt;
bad:
    if (lfd >= 0)
        close(lfd);
    net_close(nt);
    return NULL;
}

void net_close(net *nt)
{
    if (!nt)
        return;
    for (int j = 0; j < NET_MAX_PARTIES; j++) {
        peer *pp = &nt->p[j];
        if (pp->ssl) {
            SSL_shutdown(pp->ssl);
            SSL_free(pp->ssl);
        }
        if (pp->fd >= 0)
            close(pp->fd);
        free(pp->out.p);
        free(pp->in.p);
    }
    SSL_CTX_free(nt->ctx);
    free(nt);
}

/* --------------------------------------------------------------- rounds */

uint8_t *net_out(net *nt, int j, size_t n)
{
    buf *b = &nt->p[j].out;
    if (b->len == 0)
        b->len = HDR; /* room for the frame header */
    if (reserve(b, n))
        return NULL;
    uint8_t *q = b->p + b->len;
    b->len += n;
    return q;
}

void net_expect(net *nt, int j, size_t n) { nt->p[j].expect += n; }

const uint8_t *net_in(net *nt, int j, size_t n)
{
    buf *b = &nt->p[j].in;
    const uint8_t *q = b->p + HDR + b->pos;
    b->pos += n;
    return q;
}

int net_cheat(const net *nt, const char *kind)
{
#ifdef QNN_CHEAT
    const char *spec = getenv("QNN_CHEAT");
    int party = -1;
    unsigned r = 0;
    char k[16] = "";
    if (spec && sscanf(spec, "party=%d,kind=%15[a-z-],round=%u", &party, k, &r) == 3 && party == nt->me &&
        !strcmp(k, kind) && r + 1 == nt->rounds) {
        fprintf(stderr, "qnnvm: party %d CHEATS (%s) in round %u\n", nt->me, kind, r);
        return 1;
    }
#else
    (void)nt;
    (void)kind;
#endif
    return 0;
}

uint8_t *net_out_tail(net *nt, int j, size_t n)
{
    buf *b = &nt->p[j].out;
    return b->p + b->len - n;
}

void net_rush(net *nt, void (*edit)(void *ctx), void *ctx)
{
#ifdef QNN_CHEAT
    nt->rush = edit;
    nt->rush_ctx = ctx;
#else
    (void)nt;
    (void)edit;
    (void)ctx;
#endif
}

const uint8_t *net_in_tail(net *nt, int j, size_t n)
{
    buf *b = &nt->p[j].in;
    return b->p + b->len - n;
}

#ifdef QNN_RECORD
/* Test builds only: every received payload is appended to
 * $QNN_RECORD_DIR/party<me>.rec (u32 peer, u32 round, u64 length, bytes)
 * for the leakage test, which checks that all of it looks uniform. */
static void record(const net *nt, int j, uint32_t round, const uint8_t *b, size_t n)
{
    const char *dir = getenv("QNN_RECORD_DIR");
    if (!dir)
        return;
    char path[4096];
    snprintf(path, sizeof path, "%s/party%d.rec", dir, nt->me);
    FILE *f = fopen(path, "ab");
    if (!f)
        return;
    uint8_t h[16];
    put32(h, (uint32_t)j);
    put32(h + 4, round);
    put32(h + 8, (uint32_t)n);
    put32(h + 12, (uint32_t)((uint64_t)n >> 32));
    fwrite(h, 1, sizeof h, f);
    fwrite(b, 1, n, f);
    fclose(f);
}

static void record_round(const net *nt, uint32_t round)
{
    for (int j = 0; j < nt->n; j++)
        if (j != nt->me && nt->p[j].expect)
            record(nt, j, round, nt->p[j].in.p + HDR, nt->p[j].expect);
}
#endif

#ifdef QNN_CHEAT
/* Test builds only: QNN_CHEAT="party=P,kind=flip|drop,round=R[,byte=K]"
 * makes party P deviate in round R: flip the lowest bit of byte K (default
 * 0; negative: from the end) of what it sends to its first peer, or not
 * send that message at all. The cheating tests use it to show what each
 * protocol detects. */
static void cheat(net *nt, uint32_t round)
{
    const char *spec = getenv("QNN_CHEAT");
    int party = -1, byte = 0;
    unsigned r = 0;
    char kind[16] = "";
    if (!spec || sscanf(spec, "party=%d,kind=%15[a-z-],round=%u,byte=%d", &party, kind, &r, &byte) < 3 ||
        party != nt->me || r != round || (strcmp(kind, "flip") && strcmp(kind, "drop")))
        return;
    for (int j = 0; j < nt->n; j++) {
        peer *pp = &nt->p[j];
        size_t len = pp->out.len - HDR;
        if (j == nt->me || pp->out.len <= HDR || (byte < 0 && (size_t)-byte > len))
            continue;
        if (!strcmp(kind, "flip"))
            pp->out.p[HDR + (byte >= 0 ? (size_t)byte % len : len - (size_t)-byte)] ^= 1;
        else if (!strcmp(kind, "drop"))
            pp->out.len = 0;
        fprintf(stderr, "qnnvm: party %d CHEATS (%s) in round %u toward party %d\n", nt->me, kind, round, j);
        return;
    }
}
#endif

/* ------------------------------------------------------------- streams */

/* Moves up to n bytes to or from peer j outside the rounds, waiting (up to
 * timeout_s without progress) while the socket is full or empty; returns
 * how many moved, with the reason in err when fewer than n. Counted with
 * the rounds' bytes. */
static size_t stream_io(net *nt, int j, uint8_t *b, size_t n, int writing, double timeout_s, char *err,
                        size_t errlen)
{
    peer *pp = &nt->p[j];
    double last = now();
    size_t done = 0;
    while (done < n) {
        long r = writing ? tr_write(pp, b + done, n - done) : tr_read(pp, b + done, n - done);
        if (r < 0) {
            fail(err, errlen, "party %d closed the connection (%s its stream)", j, writing ? "writing to" : "reading");
            break;
        }
        if (r > 0) {
            done += (size_t)r;
            last = now();
            continue;
        }
        if (!writing && pp->ssl && SSL_pending(pp->ssl) > 0)
            continue;
        int left = (int)((last + timeout_s - now()) * 1000);
        if (left <= 0) {
            fail(err, errlen, "timed out after %.0f s waiting for party %d's stream", timeout_s, j);
            break;
        }
        struct pollfd pf = {pp->fd, (short)(writing ? POLLOUT | (pp->ssl ? POLLIN : 0) : POLLIN), 0};
        poll(&pf, 1, left < 100 ? left : 100);
    }
    if (writing)
        pp->sent += done;
    else
        pp->received += done;
    return done;
}

/* Peer j's abort frame: its reason (n bytes, bounded) into err. */
static int read_abort(net *nt, int j, uint32_t n, char *err, size_t errlen)
{
    char why[ABORT_MAX + 1];
    buf *b = &nt->p[j].in; /* the start may have come with the header */
    n = n > ABORT_MAX ? ABORT_MAX : n;
    size_t got = b->len - HDR < n ? b->len - HDR : n;
    memcpy(why, b->p + HDR, got);
    char ignored[128];
    got += stream_io(nt, j, (uint8_t *)why + got, n - got, 0, 2, ignored, sizeof ignored);
    for (size_t i = 0; i < got; i++)
        if (why[i] < 32 || why[i] > 126)
            why[i] = '?';
    why[got] = 0;
    return fail(err, errlen, "party %d stopped: %s", j, got ? why : "(no reason given)");
}

void net_abort(net *nt, const char *why)
{
    if (!nt)
        return;
    size_t n = strlen(why) > ABORT_MAX ? ABORT_MAX : strlen(why);
    uint8_t f[HDR + ABORT_MAX];
    put32(f, (uint32_t)n);
    put32(f + 4, 0);
    put32(f + 8, (uint32_t)nt->rounds);
    put32(f + 12, ABORT_MAGIC);
    memcpy(f + HDR, why, n);
    char ignored[128];
    for (int j = 0; j < nt->n; j++) /* best effort: a peer that does not read misses it */
        if (j != nt->me && nt->p[j].fd >= 0)
            stream_io(nt, j, f, HDR + n, 1, 1, ignored, sizeof ignored);
}

/* Moves this round's frames until every expected one is in (and, with
 * sending, every queued one is out), waiting up to the timeout without
 * progress. */
static int pump(net *nt, uint32_t round, int sending, char *err, size_t errlen)
{
    double last = now();
    for (;;) {
        struct pollfd pf[NET_MAX_PARTIES];
        int idx[NET_MAX_PARTIES], np = 0, busy = 0;
        for (int j = 0; j < nt->n; j++) {
            if (j == nt->me)
                continue;
            peer *pp = &nt->p[j];
            int want_out = sending && pp->out.pos < pp->out.len;
            int want_in = pp->expect > 0 && pp->in.len < HDR + pp->expect;
            if (!want_out && !want_in)
                continue;
            busy = 1;
            int moved = 0;
            if (want_out) {
                long w = tr_write(pp, pp->out.p + pp->out.pos, pp->out.len - pp->out.pos);
                if (w < 0)
                    return fail(err, errlen, "party %d closed the connection (round %u)", j, round);
                pp->out.pos += (size_t)w;
                moved |= w > 0;
            }
            while (want_in && pp->in.len < HDR + pp->expect) {
                long r = tr_read(pp, pp->in.p + pp->in.len, HDR + pp->expect - pp->in.len);
                if (r < 0)
                    return fail(err, errlen, "party %d closed the connection (round %u)", j, round);
                if (r == 0)
                    break;
                size_t before = pp->in.len;
                pp->in.len += (size_t)r;
                moved = 1;
                if (before < HDR && pp->in.len >= HDR) { /* check the frame header */
                    uint64_t got = get32(pp->in.p) | (uint64_t)get32(pp->in.p + 4) << 32;
                    if (get32(pp->in.p + 12) == ABORT_MAGIC)
                        return read_abort(nt, j, get32(pp->in.p), err, errlen);
                    if (get32(pp->in.p + 12) != FRAME_MAGIC || get32(pp->in.p + 8) != round)
                        return fail(err, errlen, "party %d is out of step (round %u, it sent round %u)",
                                    j, round, get32(pp->in.p + 8));
                    if (got != pp->expect)
                        return fail(err, errlen, "party %d sent %llu bytes in round %u, expected %zu",
                                    j, (unsigned long long)got, round, pp->expect);
                }
            }
            if (moved)
                last = now();
            short ev = (short)((want_out && pp->out.pos < pp->out.len ? POLLOUT : 0) |
                               (pp->expect > 0 && pp->in.len < HDR + pp->expect ? POLLIN : 0));
            if (!ev)
                continue;
            pf[np].fd = pp->fd;
            pf[np].events = (short)(ev | (pp->ssl ? POLLIN : 0));
            pf[np].revents = 0;
            idx[np++] = j;
        }
        if (!busy)
            break;
        int pending = 0; /* TLS may hold decrypted bytes that poll cannot see */
        for (int k = 0; k < np; k++)
            pending |= nt->p[idx[k]].ssl && SSL_pending(nt->p[idx[k]].ssl) > 0;
        if (np && !pending) {
            int left = (int)((last + nt->timeout_s - now()) * 1000);
            if (left <= 0)
                return fail(err, errlen, "timed out after %.0f s waiting for party %d (round %u)",
                            nt->timeout_s, idx[0], round);
            poll(pf, (nfds_t)np, left < 100 ? left : 100);
        }
    }
    return 0;
}

int net_round(net *nt, char *err, size_t errlen)
{
    uint32_t round = (uint32_t)nt->rounds;
    for (int j = 0; j < nt->n; j++) {
        if (j == nt->me)
            continue;
        peer *pp = &nt->p[j];
        if (reserve(&pp->in, HDR + pp->expect))
            return fail(err, errlen, "out of memory for round %u", round);
        pp->out.pos = 0;
        pp->in.len = 0;
        pp->in.pos = 0;
        if (pp->out.len == 0) /* nothing for this peer: no frame at all */
            continue;
        uint64_t len = pp->out.len - HDR;
        put32(pp->out.p, (uint32_t)len);
        put32(pp->out.p + 4, (uint32_t)(len >> 32));
        put32(pp->out.p + 8, round);
        put32(pp->out.p + 12, FRAME_MAGIC);
    }
#ifdef QNN_CHEAT
    cheat(nt, round);
    if (nt->rush) { /* everything in first, then the cheater's edit, then out */
        void (*edit)(void *) = nt->rush;
        nt->rush = NULL;
        if (pump(nt, round, 0, err, errlen) != 0)
            return -1;
        edit(nt->rush_ctx);
    }
#endif
    if (pump(nt, round, 1, err, errlen) != 0)
        return -1;
#ifdef QNN_RECORD
    record_round(nt, round);
#endif
    for (int j = 0; j < nt->n; j++) {
        if (j == nt->me)
            continue;
        peer *pp = &nt->p[j];
        pp->sent += pp->out.len ? pp->out.len - HDR : 0;
        pp->received += pp->expect;
        pp->expect = 0;
        pp->out.len = 0;
    }
    nt->rounds++;
    return 0;
}

int net_send(net *nt, int j, const void *p, size_t n, char *err, size_t errlen)
{
    return stream_io(nt, j, (uint8_t *)(uintptr_t)p, n, 1, nt->timeout_s, err, errlen) == n ? 0 : -1;
}

int net_recv(net *nt, int j, void *p, size_t n, char *err, size_t errlen)
{
    if (stream_io(nt, j, p, n, 0, nt->timeout_s, err, errlen) != n)
        return -1;
#ifdef QNN_RECORD
    record(nt, j, 0xffffffffu, p, n);
#endif
    return 0;
}

uint64_t net_bytes_sent(const net *nt)
{
    uint64_t s = 0;
    for (int j = 0; j < nt->n; j++)
        s += nt->p[j].sent;
    return s;
}

uint64_t net_bytes_received(const net *nt)
{
    uint64_t s = 0;
    for (int j = 0; j < nt->n; j++)
        s += nt->p[j].received;
    return s;
}

uint64_t net_rounds(const net *nt) { return nt->rounds; }

int net_read_hosts(const char *path, net_config *c, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return fail(err, errlen, "%s: %s", path, strerror(errno));
    char line[512];
    int n = 0, lineno = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        char *s = line;
        while (*s == ' ' || *s == '\t')
            s++;
        if (*s == '#' || *s == '\n' || *s == 0)
            continue;
        char *colon = strrchr(s, ':');
        char *end;
        long port = colon ? strtol(colon + 1, &end, 10) : 0;
        if (!colon || port < 1 || port > 65535 || (size_t)(colon - s) >= sizeof c->host[0] ||
            n >= NET_MAX_PARTIES) {
            fclose(f);
            return fail(err, errlen, "%s:%d: expected host:port (at most %d lines)", path, lineno,
                        NET_MAX_PARTIES);
        }
        memcpy(c->host[n], s, (size_t)(colon - s));
        c->host[n][colon - s] = 0;
        c->port[n++] = (int)port;
    }
    fclose(f);
    if (n < c->n)
        return fail(err, errlen, "%s: %d hosts for %d parties", path, n, c->n);
    return 0;
}
