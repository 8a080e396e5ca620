/* net: TCP/TLS full mesh with framed rounds (see net.h). */
#define _POSIX_C_SOURCE 200809L
#include "runtime/net/net.h"

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
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "runtime/net/certs.h"

#define HELLO_MAGIC 0x514e4e48u /* "QNNH" */
#define FRAME_MAGIC 0x514e4e46u /* "QNNF" */
#define ABORT_MAGIC 0x514e4e41u /* "QNNA": the sender stops; the payload says why */
#define ABORT_MAX 400
#define HDR 16

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
    int sending; /* this round's frame is (partly) on its way: out.p[out.pos..] */
    int cut;     /* a stream write stopped midway: an abort would land inside it */
} peer;

struct net {
    int me, n;
    double timeout_s;
    SSL_CTX *ctx;
    peer p[NET_MAX_PARTIES];
    uint64_t rounds;
    uint8_t nonce[NET_MAX_PARTIES][32]; /* every party's hello nonce */
    uint8_t run_id[32];
    int pinned;                  /* peers' certificates pinned (else: a shared CA) */
    uint8_t pin[NET_MAX_PARTIES][32]; /* SHA-256 of each peer's pinned certificate */
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

/* A buffer far larger than the round needs gives its memory back to the
 * heap, where the round's own work can reuse it (one large round early,
 * the model's input, would otherwise hold it for the whole run). */
static void trim(buf *b, size_t need)
{
    if (b->cap > ((size_t)8 << 20) && b->cap > 4 * need) {
        free(b->p);
        b->p = NULL;
        b->cap = 0;
    }
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
        ERR_clear_error(); /* SSL_get_error reads the queue: a stale entry would fake a failure */
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
        ERR_clear_error();
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

/* A small message during set-up, on a blocking socket. */
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

/* --------------------------------------------------------------- set-up */

#define HANDSHAKE_S 5.0 /* a connection's TLS handshake and hello, at most */
#define PENDING_MAX 32  /* unauthenticated connections handled at once */
#define DROP_LOG_MAX 10 /* dropped connections logged one by one */

static FILE *log_to(const net_config *c) { return c->log ? c->log : stderr; }

/* The peer's address as "host:port", for messages. */
static void peer_addr(int fd, char *s, size_t n)
{
    struct sockaddr_storage a;
    socklen_t l = sizeof a;
    char h[64], p[16];
    if (getpeername(fd, (struct sockaddr *)&a, &l) != 0 || (a.ss_family != AF_INET && a.ss_family != AF_INET6) ||
        getnameinfo((struct sockaddr *)&a, l, h, sizeof h, p, sizeof p, NI_NUMERICHOST | NI_NUMERICSERV) != 0)
        snprintf(s, n, "a local socket");
    else
        snprintf(s, n, a.ss_family == AF_INET6 ? "[%s]:%s" : "%s:%s", h, p);
}

/* OpenSSL's reason for the last failure, never NULL. */
static const char *tls_reason(void)
{
    unsigned long e = ERR_peek_last_error();
    const char *s = e ? ERR_reason_error_string(e) : NULL;
    return s ? s : "connection closed";
}

/* Whether the last TLS failure (SSL_get_error's e) is the peer closing
 * without a word, as a busy listener does, rather than an answer. */
static int tls_closed(int e)
{
    unsigned long r = ERR_peek_last_error();
    return e == SSL_ERROR_ZERO_RETURN || (e == SSL_ERROR_SYSCALL && !r) ||
           (r && ERR_GET_REASON(r) == SSL_R_UNEXPECTED_EOF_WHILE_READING);
}

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

/* Plain TCP would carry the set-up seeds and the dealer's material in the
 * clear: only when every party's host resolves to loopback addresses. */
static int loopback_only(const net_config *c, char *err, size_t errlen)
{
    for (int i = 0; i < c->n; i++) {
        struct addrinfo *res;
        if (resolve(c->host[i], c->port[i], &res) != 0)
            return fail(err, errlen, "cannot resolve party %d's host %s", i, c->host[i]);
        int lo = 1;
        for (struct addrinfo *a = res; a; a = a->ai_next) {
            if (a->ai_family == AF_INET) {
                uint32_t v = ntohl(((struct sockaddr_in *)(void *)a->ai_addr)->sin_addr.s_addr);
                lo &= v >> 24 == 127;
            } else if (a->ai_family == AF_INET6) {
                const struct in6_addr *v = &((struct sockaddr_in6 *)(void *)a->ai_addr)->sin6_addr;
                lo &= IN6_IS_ADDR_LOOPBACK(v) || (IN6_IS_ADDR_V4MAPPED(v) && v->s6_addr[12] == 127);
            } else
                lo = 0;
        }
        freeaddrinfo(res);
        if (!lo)
            return fail(err, errlen,
                        "plain TCP (--insecure) refused: party %d's host %s is not on loopback; without TLS "
                        "the set-up seeds and the dealer's material travel in the clear (use --certs DIR)",
                        i, c->host[i]);
    }
    return 0;
}

static void set_timeouts(int fd, double t)
{
    struct timeval tv = {(time_t)t, (suseconds_t)((t - (double)(time_t)t) * 1e6)};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

static void set_nonblocking(int fd) { fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK); }

static int listen_on(const net_config *c, char *err, size_t errlen)
{
    struct addrinfo *res;
    if (resolve(c->host[c->me], c->port[c->me], &res) != 0)
        return fail(err, errlen, "cannot resolve my address %s", c->host[c->me]);
    int fd = socket(res->ai_family, SOCK_STREAM, 0), one = 1;
    if (fd >= 0)
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    /* a deep backlog: a storm of strangers must not crowd the peers out */
    if (fd < 0 || bind(fd, res->ai_addr, res->ai_addrlen) != 0 || listen(fd, 256) != 0) {
        int e = errno;
        freeaddrinfo(res);
        if (fd >= 0)
            close(fd);
        return fail(err, errlen, "cannot listen on %s:%d: %s", c->host[c->me], c->port[c->me], strerror(e));
    }
    freeaddrinfo(res);
    set_nonblocking(fd);
    return fd;
}

/* What the verify callback learns about one connection's peer. */
typedef struct {
    const net *nt;
    int expect;    /* the party dialled; -1 when accepting */
    int party;     /* the party its certificate proves, or -1 */
    char why[200]; /* why the certificate was refused */
} tls_check;

/* OpenSSL's verify callback: the leaf certificate must be exactly the one
 * pinned for some peer, or (shared CA) be signed by the CA and name a peer
 * (CN=party<j>); when dialling, that peer must be the one dialled. The
 * refusal happens inside the handshake, so the peer gets an alert. */
static int verify_peer(int ok, X509_STORE_CTX *st)
{
    SSL *ssl = X509_STORE_CTX_get_ex_data(st, SSL_get_ex_data_X509_STORE_CTX_idx());
    tls_check *chk = ssl ? SSL_get_app_data(ssl) : NULL;
    if (!chk)
        return 0;
    const net *nt = chk->nt;
    X509 *cert = X509_STORE_CTX_get_current_cert(st);
    int depth = X509_STORE_CTX_get_error_depth(st), j = -1;
    if (nt->pinned) {
        if (depth > 0) /* only the leaf counts, and only as it is */
            return 1;
        uint8_t md[32];
        unsigned len = 0;
        if (!cert || !X509_digest(cert, EVP_sha256(), md, &len) || len != 32) {
            snprintf(chk->why, sizeof chk->why, "no certificate");
            return 0;
        }
        for (int k = 0; k < nt->n && j < 0; k++)
            if (k != nt->me && !memcmp(nt->pin[k], md, 32))
                j = k;
        if (j < 0) {
            char fp[CERTS_FP_LEN];
            certs_fingerprint(md, fp);
            snprintf(chk->why, sizeof chk->why, "its certificate (sha256 %s) is not a pinned peer's", fp);
            return 0;
        }
    } else {
        if (!ok) {
            snprintf(chk->why, sizeof chk->why, "its certificate is not from our CA: %s",
                     X509_verify_cert_error_string(X509_STORE_CTX_get_error(st)));
            return 0;
        }
        if (depth > 0)
            return 1;
        char cn[64] = "";
        int end = 0;
        X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, cn, sizeof cn);
        if (sscanf(cn, "party%d%n", &j, &end) != 1 || cn[end] || j < 0 || j >= nt->n || j == nt->me) {
            snprintf(chk->why, sizeof chk->why, "its certificate names '%.40s', not one of our peers", cn);
            return 0;
        }
    }
    if (chk->expect >= 0 && j != chk->expect) {
        snprintf(chk->why, sizeof chk->why, "its certificate is party %d's, not party %d's", j, chk->expect);
        return 0;
    }
    chk->party = j;
    return 1;
}

/* Party me's certificate and key from dir, and the peers' pins (or the CA). */
static SSL_CTX *tls_context(net *nt, const net_config *c, char *err, size_t errlen)
{
    char ca[4096], crt[4096], key[4096];
    snprintf(ca, sizeof ca, "%s/ca.pem", c->certs);
    snprintf(crt, sizeof crt, "%s/party%d.pem", c->certs, c->me);
    snprintf(key, sizeof key, "%s/party%d.key", c->certs, c->me);
    nt->pinned = access(ca, F_OK) != 0;
    SSL_CTX *ctx = SSL_CTX_new(TLS_method());
    if (!ctx || !SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) ||
        SSL_CTX_use_certificate_file(ctx, crt, SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1 || SSL_CTX_check_private_key(ctx) != 1 ||
        (!nt->pinned && SSL_CTX_load_verify_locations(ctx, ca, NULL) != 1)) {
        fail(err, errlen, "TLS set-up with %s, %s%s%s failed: %s", crt, key, nt->pinned ? "" : ", ",
             nt->pinned ? "" : ca, tls_reason());
        SSL_CTX_free(ctx);
        return NULL;
    }
    uint8_t mine[32];
    unsigned len = 0;
    X509_digest(SSL_CTX_get0_certificate(ctx), EVP_sha256(), mine, &len);
    for (int j = 0; nt->pinned && j < c->n; j++) {
        if (j == c->me)
            continue;
        char path[4096], cn[64] = "", want[32];
        snprintf(path, sizeof path, "%s/party%d.pem", c->certs, j);
        snprintf(want, sizeof want, "party%d", j);
        FILE *f = fopen(path, "r");
        X509 *x = f ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;
        if (f)
            fclose(f);
        if (x)
            X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, cn, sizeof cn);
        int bad = !x || !X509_digest(x, EVP_sha256(), nt->pin[j], &len) || strcmp(cn, want) != 0 ||
                  !memcmp(nt->pin[j], mine, 32);
        X509_free(x);
        if (bad) {
            fail(err, errlen, "%s: %s (without %s/ca.pem every peer's certificate is pinned: party %d's own, "
                              "made by `qnnvm keygen -p %d`, its fingerprint checked with party %d)",
                 path, !f ? strerror(errno) : !x ? "not a PEM certificate" : strcmp(cn, want) ? "names another party" : "is my own certificate",
                 c->certs, j, j, j);
            SSL_CTX_free(ctx);
            return NULL;
        }
    }
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, verify_peer);
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    SSL_CTX_set_num_tickets(ctx, 0); /* no resumption: every connection proves itself */
    return ctx;
}

/* A hello: magic, wire version, party, party count, protocol name (16),
 * bytecode hash (32), session digest (32), the sender's run nonce (32). */
#define HELLO_LEN 128

static void hello_encode(const net_config *c, const uint8_t nonce[32], uint8_t *b)
{
    put32(b, HELLO_MAGIC);
    put32(b + 4, NET_WIRE_VERSION);
    put32(b + 8, (uint32_t)c->me);
    put32(b + 12, (uint32_t)c->n);
    memset(b + 16, 0, 16);
    strncpy((char *)b + 16, c->protocol, 15);
    memcpy(b + 32, c->program_hash, 32);
    memcpy(b + 64, c->session_hash, 32);
    memcpy(b + 96, nonce, 32);
}

/* Checks a peer's hello r against ours: returns its party (expect, when
 * >= 0; else one above us), or -1 with why; *qnn tells whether it was a
 * qnnvm hello at all (then the peer deserves ours back, to learn why). */
static int hello_check(const net_config *c, const uint8_t *r, int expect, int *qnn, char *why, size_t wl)
{
    uint32_t j = get32(r + 8);
    char proto[17], mine[17] = "";
    memcpy(proto, r + 16, 16);
    proto[16] = 0;
    for (int k = 0; proto[k]; k++)
        if (proto[k] < 32 || proto[k] > 126)
            proto[k] = '?';
    strncpy(mine, c->protocol, 15);
    *qnn = 0;
    if (get32(r) != HELLO_MAGIC)
        return fail(why, wl, "sent no qnnvm hello (it began %02x %02x %02x%s)", r[0], r[1], r[2],
                    r[0] == 0x16 && r[1] == 3 ? ": a TLS client, while we run --insecure" : "");
    if (get32(r + 4) != NET_WIRE_VERSION)
        return fail(why, wl, "speaks wire format %u, we speak %u (a different qnnvm version)", get32(r + 4),
                    NET_WIRE_VERSION);
    *qnn = 1;
    if (expect >= 0 ? j != (uint32_t)expect : j >= (uint32_t)c->n || (int)j <= c->me) {
        if (expect >= 0)
            return fail(why, wl, "says it is party %u, expected party %d", j, expect);
        return fail(why, wl, "says it is party %u, expected one of parties %d..%d", j, c->me + 1, c->n - 1);
    }
    if (get32(r + 12) != (uint32_t)c->n)
        return fail(why, wl, "party %u runs with %u parties, we run with %d", j, get32(r + 12), c->n);
    if (strcmp(proto, mine) != 0)
        return fail(why, wl, "party %u runs protocol %s, we run %s", j, proto, mine);
    if (memcmp(r + 32, c->program_hash, 32) != 0)
        return fail(why, wl, "party %u runs a different program (bytecode hash differs)", j);
    if (memcmp(r + 64, c->session_hash, 32) != 0)
        return fail(why, wl, "party %u runs the same program and protocol but another session digest "
                             "(protocol parameters or role rotations differ: another qnnvm build?)", j);
    return (int)j;
}

/* One line for a peer proven by its certificate: its fingerprint, for a
 * person to compare with the one its owner read out. */
static void log_verified(const net *nt, const net_config *c, const peer *pp, int j, const char *addr)
{
    X509 *x = pp->ssl && !c->quiet ? SSL_get1_peer_certificate(pp->ssl) : NULL;
    uint8_t md[32];
    unsigned len = 0;
    if (x && X509_digest(x, EVP_sha256(), md, &len) && len == 32) {
        char fp[CERTS_FP_LEN];
        certs_fingerprint(md, fp);
        fprintf(log_to(c), "qnnvm: party %d: party %d at %s verified (%s, certificate sha256 %s)\n", c->me, j, addr,
                nt->pinned ? "pinned" : "signed by the CA", fp);
    }
    X509_free(x);
}

/* Dialled party j on fd: TLS, then hellos (ours first). Returns 0, 1 when
 * j closed without a word (try again), or -1 with why when it answered but
 * is not the genuine party j or does not agree with us. */
static int dial_greet(net *nt, const net_config *c, peer *pp, int j, double deadline, char *why, size_t wl)
{
    tls_check chk = {nt, j, -1, ""};
    double left = deadline - now();
    set_timeouts(pp->fd, left > 0.001 ? left : 0.001);
    ERR_clear_error();
    if (nt->ctx) {
        if (!(pp->ssl = SSL_new(nt->ctx)) || SSL_set_fd(pp->ssl, pp->fd) != 1)
            return fail(why, wl, "TLS: out of memory");
        SSL_set_app_data(pp->ssl, &chk);
        int r = SSL_connect(pp->ssl);
        SSL_set_app_data(pp->ssl, NULL);
        if (r != 1) {
            if (chk.why[0])
                return fail(why, wl, "not the genuine party %d: %s", j, chk.why);
            if (tls_closed(SSL_get_error(pp->ssl, r)))
                return 1;
            return fail(why, wl, "TLS handshake failed: %s", tls_reason());
        }
    }
    uint8_t b[HELLO_LEN], r[HELLO_LEN];
    size_t got = 0;
    hello_encode(c, nt->nonce[c->me], b);
    if (write_all(pp, b, sizeof b) == 0)
        while (got < sizeof r) {
            long k = tr_read(pp, r + got, sizeof r - got);
            if (k <= 0)
                break;
            got += (size_t)k;
        }
    if (got < sizeof r) {
        /* TLS 1.3: a refused certificate comes back as an alert here */
        if (ERR_peek_last_error())
            return fail(why, wl, "refused us: %s", tls_reason());
        if (got == 0 && now() < deadline)
            return 1;
        return fail(why, wl, "no hello (%s)", now() >= deadline ? "timed out" : "connection closed mid-hello");
    }
    int qnn;
    if (hello_check(c, r, j, &qnn, why, wl) < 0)
        return -1;
    memcpy(nt->nonce[j], r + 96, 32);
    char addr[80];
    peer_addr(pp->fd, addr, sizeof addr);
    log_verified(nt, c, pp, j, addr);
    return 0;
}

/* Connects to party j, retrying until the deadline while it is not there;
 * fd >= 0: an already-connected socket (no retry). */
static int dial(net *nt, const net_config *c, int j, int fd, double deadline, char *err, size_t errlen)
{
    char why[400] = "";
    int given = fd >= 0;
    for (;;) {
        struct addrinfo *res;
        if (!given && resolve(c->host[j], c->port[j], &res) == 0) {
            fd = socket(res->ai_family, SOCK_STREAM, 0);
            if (fd >= 0 && connect(fd, res->ai_addr, res->ai_addrlen) != 0) {
                snprintf(why, sizeof why, "%s", strerror(errno));
                close(fd);
                fd = -1;
            }
            freeaddrinfo(res);
        }
        if (fd >= 0) {
            peer *pp = &nt->p[j];
            pp->fd = fd;
            int r = dial_greet(nt, c, pp, j, deadline, why, sizeof why);
            if (r == 0)
                return 0;
            SSL_free(pp->ssl);
            pp->ssl = NULL;
            close(fd);
            pp->fd = fd = -1;
            if (r < 0 || given)
                return fail(err, errlen, "party %d at %s:%d: %s", j, c->host[j], c->port[j],
                            r < 0 ? why : "closed the connection");
            snprintf(why, sizeof why, "it closed the connection");
        }
        if (now() > deadline)
            return fail(err, errlen, "cannot connect to party %d at %s:%d within %g s%s%s", j, c->host[j],
                        c->port[j], c->timeout_s, why[0] ? ": " : "", why);
        struct timespec ts = {0, 50 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
}

/* An accepted connection not yet proven to be a peer. */
typedef struct {
    peer p;
    tls_check chk;
    double deadline;
    int shaken; /* TLS handshake done (or none) */
    int verdict; /* hello checked: its party, or -1 (then reply and drop) */
    uint8_t in[HELLO_LEN], out[HELLO_LEN];
    size_t got, sent;
    short events;
    char addr[80];
    char why[400];
} pending;

typedef struct {
    pending q[PENDING_MAX];
    int nq;
    unsigned dropped;
    char last[500]; /* the last drop's reason, for the timeout's message */
} acceptor;

static void drop(const net_config *c, acceptor *a, int k, const char *why)
{
    pending *pc = &a->q[k];
    if (a->dropped++ < DROP_LOG_MAX)
        fprintf(log_to(c), "qnnvm: party %d: dropped a connection from %s: %s\n", c->me, pc->addr, why);
    snprintf(a->last, sizeof a->last, "%s: %s", pc->addr, why);
    SSL_free(pc->p.ssl);
    close(pc->p.fd);
    *pc = a->q[--a->nq];
    if (pc->p.ssl && k < a->nq) /* moved: the callback's state moved with it */
        SSL_set_app_data(pc->p.ssl, &pc->chk);
}

static void admit(net *nt, const net_config *c, acceptor *a, int fd)
{
    if (a->nq == PENDING_MAX) { /* the oldest stranger makes room */
        int old = 0;
        for (int k = 1; k < a->nq; k++)
            if (a->q[k].deadline < a->q[old].deadline)
                old = k;
        drop(c, a, old, "too many connections pending");
    }
    pending *pc = &a->q[a->nq];
    memset(pc, 0, sizeof *pc);
    pc->p.fd = fd;
    pc->chk = (tls_check){nt, -1, -1, ""};
    pc->verdict = -2;
    pc->events = POLLIN;
    double hs = HANDSHAKE_S < c->timeout_s ? HANDSHAKE_S : c->timeout_s;
    pc->deadline = now() + hs;
    peer_addr(fd, pc->addr, sizeof pc->addr);
    set_nonblocking(fd);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (nt->ctx) {
        if (!(pc->p.ssl = SSL_new(nt->ctx)) || SSL_set_fd(pc->p.ssl, fd) != 1) {
            SSL_free(pc->p.ssl);
            close(fd);
            return;
        }
        a->nq++;
        SSL_set_app_data(pc->p.ssl, &pc->chk);
        return;
    }
    pc->shaken = 1;
    a->nq++;
}

/* Moves one pending connection on without blocking: 0 while in progress
 * (pc->events says what it waits for), its party when it is in, -1 to drop
 * it (pc->why), -2 when an authenticated peer disagrees (stop the run). */
static int advance(net *nt, const net_config *c, pending *pc)
{
    if (!pc->shaken) {
        ERR_clear_error();
        int r = SSL_accept(pc->p.ssl);
        if (r != 1) {
            int e = SSL_get_error(pc->p.ssl, r);
            pc->events = e == SSL_ERROR_WANT_READ ? POLLIN : e == SSL_ERROR_WANT_WRITE ? POLLOUT : 0;
            if (pc->events)
                return 0;
            return fail(pc->why, sizeof pc->why, "TLS handshake failed: %s",
                        pc->chk.why[0] ? pc->chk.why : tls_reason());
        }
        pc->shaken = 1;
    }
    while (pc->got < HELLO_LEN) {
        long r = tr_read(&pc->p, pc->in + pc->got, HELLO_LEN - pc->got);
        if (r < 0)
            return fail(pc->why, sizeof pc->why, "%s before its hello (%zu of %d bytes)",
                        ERR_peek_last_error() ? tls_reason() : "connection closed", pc->got, HELLO_LEN);
        if (r == 0) {
            pc->events = POLLIN;
            return 0;
        }
        pc->got += (size_t)r;
    }
    if (pc->verdict == -2) {
        int qnn;
        pc->verdict = hello_check(c, pc->in, pc->p.ssl ? pc->chk.party : -1, &qnn, pc->why, sizeof pc->why);
        if (pc->verdict < 0 && !qnn)
            return -1;
        if (pc->verdict >= 0 && nt->p[pc->verdict].fd >= 0)
            return fail(pc->why, sizeof pc->why, "party %d is already connected", pc->verdict);
        hello_encode(c, nt->nonce[c->me], pc->out);
    }
    while (pc->sent < HELLO_LEN) { /* ours back, even on a difference: it learns why */
        long w = tr_write(&pc->p, pc->out + pc->sent, HELLO_LEN - pc->sent);
        if (w < 0)
            return pc->verdict < 0 ? -1 : fail(pc->why, sizeof pc->why, "connection closed before our hello");
        if (w == 0) {
            pc->events = POLLOUT;
            return 0;
        }
        pc->sent += (size_t)w;
    }
    if (pc->verdict < 0) /* a qnnvm peer that disagrees: fatal if it proved who it is */
        return pc->p.ssl ? -2 : -1;
    return pc->verdict;
}

/* Accepts parties me+1..n-1 on lfd (-1: none) and on the given fds,
 * dropping strangers, until all are in or the deadline. */
static int accept_peers(net *nt, const net_config *c, int lfd, const int *fds, double deadline, char *err,
                        size_t errlen)
{
    acceptor *a = calloc(1, sizeof *a);
    if (!a)
        return fail(err, errlen, "out of memory");
    int missing = c->n - 1 - c->me, rc = 0;
    for (int j = c->me + 1; fds && j < c->n; j++)
        admit(nt, c, a, fds[j]);
    while (missing > 0) {
        double t = now(), wake = deadline;
        for (int k = a->nq - 1; k >= 0; k--)
            if (t >= a->q[k].deadline)
                drop(c, a, k, "no TLS handshake and hello in time");
        if (t >= deadline || (lfd < 0 && a->nq == 0)) {
            rc = fail(err, errlen, "parties %d..%d did not connect within %g s%s%s", c->me + 1, c->n - 1,
                      c->timeout_s, a->last[0] ? " (last refused: " : "", a->last[0] ? a->last : "");
            if (a->last[0])
                snprintf(err + strlen(err), errlen - strlen(err), ")");
            break;
        }
        struct pollfd pf[PENDING_MAX + 1];
        int np = 0;
        if (lfd >= 0)
            pf[np++] = (struct pollfd){lfd, POLLIN, 0};
        for (int k = 0; k < a->nq; k++) {
            pf[np++] = (struct pollfd){a->q[k].p.fd, a->q[k].events ? a->q[k].events : POLLIN, 0};
            wake = a->q[k].deadline < wake ? a->q[k].deadline : wake;
        }
        int ms = (int)((wake - t) * 1000) + 1;
        if (poll(pf, (nfds_t)np, ms) < 0 && errno != EINTR) {
            rc = fail(err, errlen, "poll: %s", strerror(errno));
            break;
        }
        int first = lfd >= 0, nold = a->nq;
        /* the connections polled, last first (a drop moves the last into its place) */
        for (int k = nold - 1; k >= 0 && missing > 0; k--) {
            pending *pc = &a->q[k];
            if (!pf[first + k].revents && !(pc->p.ssl && SSL_pending(pc->p.ssl)))
                continue;
            int r = advance(nt, c, pc);
            if (r == 0)
                continue;
            if (r == -2) {
                rc = fail(err, errlen, "%s: %s", pc->addr, pc->why);
                missing = -1;
                break;
            }
            if (r < 0) {
                drop(c, a, k, pc->why);
                continue;
            }
            memcpy(nt->nonce[r], pc->in + 96, 32);
            log_verified(nt, c, &pc->p, r, pc->addr);
            if (pc->p.ssl)
                SSL_set_app_data(pc->p.ssl, NULL);
            nt->p[r].fd = pc->p.fd;
            nt->p[r].ssl = pc->p.ssl;
            *pc = a->q[--a->nq];
            if (pc->p.ssl && k < a->nq)
                SSL_set_app_data(pc->p.ssl, &pc->chk);
            missing--;
        }
        for (int i = 0; lfd >= 0 && missing > 0 && pf[0].revents && i < 64; i++) {
            int fd = accept(lfd, NULL, NULL);
            if (fd < 0)
                break; /* none left, or out of descriptors: the backlog waits */
            admit(nt, c, a, fd);
        }
    }
    if (a->dropped > DROP_LOG_MAX)
        fprintf(log_to(c), "qnnvm: party %d: dropped %u connections in all during set-up (%u not shown)\n", c->me,
                a->dropped, a->dropped - DROP_LOG_MAX);
    for (int k = 0; k < a->nq; k++) {
        SSL_free(a->q[k].p.ssl);
        close(a->q[k].p.fd);
    }
    free(a);
    return missing == 0 ? 0 : rc ? rc : -1;
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

/* The set-up over a listening socket (fds NULL) or over given sockets,
 * which it owns from then on (closed on failure, or by net_close). */
static net *open_mesh(const net_config *c, const int *fds, char *err, size_t errlen)
{
    signal(SIGPIPE, SIG_IGN);
    int next = 0, accepting = 0; /* the given sockets handed on so far */
    double deadline = now() + c->timeout_s;
    int lfd = -2;
    net *nt = calloc(1, sizeof *nt);
    if (!nt) {
        fail(err, errlen, "out of memory");
        goto bad;
    }
    nt->me = c->me;
    nt->n = c->n;
    nt->timeout_s = c->timeout_s;
    for (int j = 0; j < NET_MAX_PARTIES; j++)
        nt->p[j].fd = -1;
    if (RAND_bytes(nt->nonce[c->me], 32) != 1) {
        fail(err, errlen, "no randomness for the run nonce");
        goto bad;
    }
    if (!fds && !c->certs && loopback_only(c, err, errlen) != 0)
        goto bad;
    if (c->certs && !(nt->ctx = tls_context(nt, c, err, errlen)))
        goto bad;
    if (!fds && c->me < c->n - 1 && (lfd = listen_on(c, err, errlen)) == -1)
        goto bad;
    for (int j = 0; j < c->me; j++) { /* connect down */
        next = j + 1;
        if (dial(nt, c, j, fds ? fds[j] : -1, deadline, err, errlen) != 0)
            goto bad;
    }
    accepting = 1;
    if (c->me < c->n - 1 && accept_peers(nt, c, lfd, fds, deadline, err, errlen) != 0) /* accept up */
        goto bad;
    if (lfd >= 0)
        close(lfd);
    for (int j = 0; j < c->n; j++)
        if (j != c->me)
            set_nonblocking(nt->p[j].fd);
    run_id(nt);
    return nt;
bad:
    if (lfd >= 0)
        close(lfd);
    for (int j = next; fds && j < c->n; j++)
        if (j != c->me && (j < c->me || !accepting))
            close(fds[j]);
    net_close(nt);
    return NULL;
}

static int valid_config(const net_config *c, char *err, size_t errlen)
{
    if (c->n < 2 || c->n > NET_MAX_PARTIES || c->me < 0 || c->me >= c->n)
        return fail(err, errlen, "party %d of %d: not a valid party (at most %d parties)", c->me, c->n,
                    NET_MAX_PARTIES);
    return 0;
}

net *net_open(const net_config *c, char *err, size_t errlen)
{
    return valid_config(c, err, errlen) == 0 ? open_mesh(c, NULL, err, errlen) : NULL;
}

net *net_open_fds(const net_config *c, const int *fds, char *err, size_t errlen)
{
    if (valid_config(c, err, errlen) != 0)
        return NULL;
    if (c->certs) {
        fail(err, errlen, "net_open_fds: plain sockets only");
        for (int j = 0; j < c->n; j++)
            if (j != c->me)
                close(fds[j]);
        return NULL;
    }
    return open_mesh(c, fds, err, errlen);
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
        abort(); /* out of memory: fatal, as proto_alloc's (the sizes come from a validated program) */
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
    static int fired; /* round=any: the first occasion only */
    const char *spec = getenv("QNN_CHEAT");
    int party = -1, got;
    unsigned r = 0;
    char k[16] = "";
    if (!spec || (got = sscanf(spec, "party=%d,kind=%15[a-z0-9-],round=%u", &party, k, &r)) < 2 || party != nt->me ||
        strcmp(k, kind))
        return 0;
    if (got == 3 ? r + 1 == nt->rounds : !fired && strstr(spec, ",round=any")) {
        fired = 1;
        fprintf(stderr, "qnnvm: party %d CHEATS (%s) in round %llu\n", nt->me, kind,
                (unsigned long long)nt->rounds - 1);
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
    if (writing) {
        pp->sent += done;
        pp->cut |= done < n;
    } else
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
    for (int j = 0; j < nt->n; j++) { /* best effort: a peer that does not read misses it */
        peer *pp = &nt->p[j];
        if (j == nt->me || pp->fd < 0 || pp->cut)
            continue;
        /* a frame half sent is finished first (from where it stopped: TLS
         * wants the same bytes again), or the abort would land inside it */
        size_t rest = pp->sending ? pp->out.len - pp->out.pos : 0;
        if (rest && stream_io(nt, j, pp->out.p + pp->out.pos, rest, 1, 1, ignored, sizeof ignored) != rest)
            continue;
        pp->sending = 0;
        stream_io(nt, j, f, HDR + n, 1, 1, ignored, sizeof ignored);
    }
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
        pp->in.len = 0; /* before reserve: last round's bytes are consumed */
        pp->in.pos = 0;
        trim(&pp->in, HDR + pp->expect);
        if (reserve(&pp->in, HDR + pp->expect))
            return fail(err, errlen, "out of memory for round %u", round);
        pp->out.pos = 0;
        if (pp->out.len == 0) /* nothing for this peer: no frame at all */
            continue;
        uint64_t len = pp->out.len - HDR;
        put32(pp->out.p, (uint32_t)len);
        put32(pp->out.p + 4, (uint32_t)(len >> 32));
        put32(pp->out.p + 8, round);
        put32(pp->out.p + 12, FRAME_MAGIC);
        pp->sending = 1;
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
        size_t used = pp->out.len;
        pp->out.len = 0;
        trim(&pp->out, used);
        pp->sending = 0;
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

size_t net_held(const net *nt)
{
    size_t held = 0;
    for (int j = 0; j < nt->n; j++) /* its own entry holds none */
        held += nt->p[j].in.cap + nt->p[j].out.cap;
    return held;
}

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
