/* hostile: a misbehaving peer for tests/hostile.sh. It speaks qnnvm's wire
 * format (a second, independent implementation of its constants: a change
 * there must show up here as a failing test) and connects only to
 * 127.0.0.1, a bounded number of times for a bounded time.
 *
 *   hostile garbage PORT N              N random bytes instead of a hello
 *   hostile tls PORT CERT KEY           a TLS handshake with this identity;
 *                                       exit 0 when refused (prints why)
 *   hostile slowloris PORT SECONDS      one byte per second
 *   hostile storm PORT COUNT SECONDS    COUNT connections spread over
 *                                       SECONDS: empty, garbage, or a TLS
 *                                       ClientHello cut short
 *   hostile serve PORT CERT KEY MODE    party 0 of a 3-party run with this
 *                                       identity: greets parties 1 and 2
 *                                       with their own hello's hashes, then
 *                                       MODE: bigframe (a frame claiming
 *                                       2^32 bytes), truncated (5 bytes of a
 *                                       16-byte frame, then silence),
 *                                       bigabort (an abort frame claiming
 *                                       4 GB, then 1 MB of reason), silence */
#define _POSIX_C_SOURCE 200809L
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>

#define FRAME_MAGIC 0x514e4e46u
#define ABORT_MAGIC 0x514e4e41u
#define HELLO_LEN 128
#define HOLD_S 20 /* how long a served connection is kept open at most */

static void die(const char *what)
{
    fprintf(stderr, "hostile: %s\n", what);
    exit(2);
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static struct sockaddr_in loopback(int port)
{
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return a;
}

static int dial(int port)
{
    struct sockaddr_in a = loopback(port);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

static int always(X509_STORE_CTX *st, void *arg)
{
    (void)st;
    (void)arg;
    return 1;
}

static SSL_CTX *context(int server, const char *cert, const char *key)
{
    SSL_CTX *ctx = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
    if (!ctx || (cert && (SSL_CTX_use_certificate_file(ctx, cert, SSL_FILETYPE_PEM) != 1 ||
                          SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1)))
        die("cannot load the certificate and key");
    /* it asks for the peer's certificate but trusts anyone: it is the
     * stranger here, not the one being careful */
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    SSL_CTX_set_cert_verify_callback(ctx, always, NULL);
    return ctx;
}

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* Sends garbage, then waits (at most 2 s) for the party to hang up. */
static int garbage(int port, long n)
{
    int fd = dial(port);
    if (fd < 0)
        die("cannot connect");
    uint8_t b[4096];
    while (n > 0) {
        size_t k = n > (long)sizeof b ? sizeof b : (size_t)n;
        RAND_bytes(b, (int)k);
        if (send(fd, b, k, MSG_NOSIGNAL) < 0)
            break;
        n -= (long)k;
    }
    struct pollfd pf = {fd, POLLIN, 0};
    poll(&pf, 1, 2000);
    close(fd);
    return 0;
}

/* A TLS handshake with a certificate the party should not accept. */
static int tls(int port, const char *cert, const char *key)
{
    SSL_CTX *ctx = context(0, cert, key);
    int fd = dial(port);
    if (fd < 0)
        die("cannot connect");
    struct timeval tv = {5, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    SSL *ssl = SSL_new(ctx);
    SSL_set_fd(ssl, fd);
    uint8_t b[HELLO_LEN];
    memset(b, 0, sizeof b);
    int refused = SSL_connect(ssl) != 1 || SSL_write(ssl, b, sizeof b) <= 0 || SSL_read(ssl, b, 1) <= 0;
    const char *why = ERR_reason_error_string(ERR_peek_last_error());
    printf("%s: %s\n", refused ? "refused" : "ACCEPTED", why ? why : "connection closed");
    SSL_free(ssl);
    close(fd);
    SSL_CTX_free(ctx);
    return refused ? 0 : 1;
}

static int slowloris(int port, int seconds)
{
    int fd = dial(port);
    if (fd < 0)
        die("cannot connect");
    for (int i = 0; i < seconds; i++) {
        if (send(fd, "\026", 1, MSG_NOSIGNAL) != 1)
            break; /* it hung up on us: as it should */
        sleep_ms(1000);
    }
    close(fd);
    return 0;
}

static int storm(int port, int count, int seconds)
{
    SSL_CTX *ctx = context(0, NULL, NULL);
    long gap = count ? seconds * 1000L / count : 0;
    int made = 0;
    for (int i = 0; i < count; i++, sleep_ms(gap)) {
        int fd = dial(port);
        if (fd < 0)
            continue;
        made++;
        if (i % 3 == 1) {
            uint8_t b[64];
            RAND_bytes(b, sizeof b);
            send(fd, b, sizeof b, MSG_NOSIGNAL);
        } else if (i % 3 == 2) { /* a ClientHello, then nothing more */
            SSL *ssl = SSL_new(ctx);
            struct timeval tv = {0, 1000};
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
            SSL_set_fd(ssl, fd);
            SSL_connect(ssl);
            SSL_free(ssl);
        }
        close(fd);
    }
    SSL_CTX_free(ctx);
    printf("storm: %d of %d connections made\n", made, count);
    return 0;
}

/* Party 0 gone bad: greets the others as a genuine party 0 would. */
static int serve(int port, const char *cert, const char *key, const char *mode)
{
    SSL_CTX *ctx = context(1, cert, key);
    struct sockaddr_in a = loopback(port);
    int lfd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (lfd < 0 || bind(lfd, (struct sockaddr *)&a, sizeof a) != 0 || listen(lfd, 8) != 0)
        die("cannot listen");
    SSL *peers[2];
    int fds[2], n = 0;
    time_t end = time(NULL) + HOLD_S;
    while (n < 2 && time(NULL) < end) {
        struct pollfd pf = {lfd, POLLIN, 0};
        if (poll(&pf, 1, 1000) <= 0)
            continue;
        int fd = accept(lfd, NULL, NULL);
        struct timeval tv = {5, 0};
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        SSL *ssl = SSL_new(ctx);
        SSL_set_fd(ssl, fd);
        uint8_t h[HELLO_LEN];
        if (SSL_accept(ssl) != 1 || SSL_read(ssl, h, sizeof h) != sizeof h) {
            printf("serve: a party refused us\n");
            SSL_free(ssl);
            close(fd);
            continue;
        }
        put32(h + 8, 0); /* its own hello, as party 0's, with a nonce of ours */
        RAND_bytes(h + 96, 32);
        SSL_write(ssl, h, sizeof h);
        peers[n] = ssl;
        fds[n++] = fd;
    }
    uint8_t f[16], pad[1 << 16];
    memset(pad, 'A', sizeof pad);
    for (int k = 0; k < n; k++) {
        int abort_frame = !strcmp(mode, "bigabort");
        put32(f, !strcmp(mode, "bigframe") ? 0 : abort_frame ? 0xffffffffu : 16);
        put32(f + 4, !strcmp(mode, "bigframe") ? 1 : 0);
        put32(f + 8, 0);
        put32(f + 12, abort_frame ? ABORT_MAGIC : FRAME_MAGIC);
        if (!strcmp(mode, "silence"))
            continue;
        SSL_write(peers[k], f, sizeof f);
        if (!strcmp(mode, "truncated"))
            SSL_write(peers[k], pad, 5);
        for (int i = 0; abort_frame && i < 16; i++)
            if (SSL_write(peers[k], pad, sizeof pad) <= 0)
                break;
    }
    printf("serve: %d parties greeted, then %s\n", n, mode);
    fflush(stdout);
    /* holds the connections until both parties hang up (or HOLD_S) */
    for (int open = n; open > 0 && time(NULL) < end;) {
        open = 0;
        for (int k = 0; k < n; k++) {
            if (!peers[k])
                continue;
            uint8_t b[4096];
            struct pollfd pf = {fds[k], POLLIN, 0};
            if (poll(&pf, 1, 100) > 0 && SSL_read(peers[k], b, sizeof b) <= 0) {
                SSL_free(peers[k]);
                close(fds[k]);
                peers[k] = NULL;
                continue;
            }
            open++;
        }
    }
    for (int k = 0; k < n; k++) /* the ones still open at HOLD_S */
        if (peers[k]) {
            SSL_free(peers[k]);
            close(fds[k]);
        }
    close(lfd);
    SSL_CTX_free(ctx);
    return 0;
}

int main(int argc, char **argv)
{
    signal(SIGPIPE, SIG_IGN);
    int port = argc > 2 ? atoi(argv[2]) : 0;
    if (port <= 0 || port > 65535)
        die("usage: hostile garbage|tls|slowloris|storm|serve PORT ... (see the source)");
    if (!strcmp(argv[1], "garbage") && argc == 4)
        return garbage(port, atol(argv[3]) > 0 && atol(argv[3]) <= (1L << 24) ? atol(argv[3]) : 1);
    if (!strcmp(argv[1], "tls") && argc == 5)
        return tls(port, argv[3], argv[4]);
    if (!strcmp(argv[1], "slowloris") && argc == 4)
        return slowloris(port, atoi(argv[3]) > 0 && atoi(argv[3]) <= 60 ? atoi(argv[3]) : 1);
    if (!strcmp(argv[1], "storm") && argc == 5)
        return storm(port, atoi(argv[3]) > 0 && atoi(argv[3]) <= 1000 ? atoi(argv[3]) : 1,
                     atoi(argv[4]) >= 0 && atoi(argv[4]) <= 30 ? atoi(argv[4]) : 1);
    if (!strcmp(argv[1], "serve") && argc == 6)
        return serve(port, argv[3], argv[4], argv[5]);
    die("usage: hostile garbage|tls|slowloris|storm|serve PORT ... (see the source)");
}
