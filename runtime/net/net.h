/* net: a full mesh of N parties over TCP, TLS 1.3 with mutual authentication
 * by default (plain TCP only when asked, and only on loopback), with framed
 * rounds.
 *
 * Set-up. Party i listens on hosts[i]; it connects to every j < i and
 * accepts every j > i. Identity: with TLS, a peer is party j only if it
 * presents exactly the certificate pinned for j (certs directory without
 * ca.pem: every peer's party<j>.pem, made by the peer itself with `qnnvm
 * keygen`), or, with a shared CA (ca.pem present: one operator runs every
 * party), a certificate signed by that CA naming party<j>. Then each side
 * sends a hello: the wire-format version, its party number, the party
 * count, the protocol name, the bytecode's hash, the session digest (all
 * else the parties must agree on, computed by the caller) and a fresh
 * random nonce; any difference ends the connection with a message saying
 * what differs.
 *
 * Strangers: before a connection is authenticated (certificate and hello)
 * it is handled without blocking, within a few seconds, a bounded number at
 * a time; a failed one is logged on one line (its address and why) and
 * dropped, and the party goes on accepting until every peer is in or the
 * timeout expires. Connecting, a party retries while the peer is not there
 * (or closes without a word), and stops when it answers but is not the
 * genuine party.
 *
 * A round: the protocol appends what it sends to each peer (net_out) and
 * declares what it expects from each (net_expect); net_round sends and
 * receives all of it at once (no deadlock whatever the sizes), each message
 * framed with its length and round number and checked against what is
 * expected before anything is stored (a pair with nothing to exchange
 * exchanges no frame); then the protocol consumes the received bytes in the
 * same order (net_in). Counters hold the payload bytes per peer and the
 * rounds; hellos and frames are not counted. */
#ifndef NET_H
#define NET_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define NET_MAX_PARTIES 16

typedef struct {
    int me, n;
    char host[NET_MAX_PARTIES][256];
    int port[NET_MAX_PARTIES];
    /* Directory with my party<me>.key and party<me>.pem, and either every
     * peer's party<j>.pem (pinned) or ca.pem (shared CA); NULL: plain TCP,
     * refused unless every host is on loopback. */
    const char *certs;
    double timeout_s;        /* connecting, and waiting in a round */
    const char *protocol;
    uint8_t program_hash[32]; /* SHA-256 of the bytecode */
    uint8_t session_hash[32]; /* everything else the parties must agree on */
    int quiet;               /* no line per verified peer */
    FILE *log;               /* set-up's lines (verified peers, dropped strangers); NULL: stderr */
} net_config;

/* The hello's wire format; 3: the session digest; 4: what programs send
 * changed (rep3's fused REQS, the VM's passes), so builds on either side
 * must not meet. Part of the session digest too. */
#define NET_WIRE_VERSION 4u

typedef struct net net;

net *net_open(const net_config *cfg, char *err, size_t errlen);
void net_close(net *nt);
/* Room for n more bytes to peer in this round (never NULL: out of memory
 * aborts). */
uint8_t *net_out(net *nt, int peer, size_t n);
void net_expect(net *nt, int peer, size_t n);
int net_round(net *nt, char *err, size_t errlen);
/* The next n received bytes from peer (in order of net_expect). */
const uint8_t *net_in(net *nt, int peer, size_t n);
/* The last n received bytes from peer, whatever net_in has consumed. */
const uint8_t *net_in_tail(net *nt, int peer, size_t n);
/* Streams outside the rounds (the dealer's material): all n bytes to or
 * from peer j, waiting up to the timeout; counted with the rounds' bytes. */
int net_send(net *nt, int j, const void *p, size_t n, char *err, size_t errlen);
int net_recv(net *nt, int j, void *p, size_t n, char *err, size_t errlen);
uint64_t net_bytes_sent(const net *nt);
uint64_t net_bytes_received(const net *nt);
uint64_t net_rounds(const net *nt);
/* Bytes of round buffers held between rounds (a large round's buffers are
 * given back once a round needs far less: diagnostics and tests). */
size_t net_held(const net *nt);

/* The last n bytes queued for peer in this round. */
uint8_t *net_out_tail(net *nt, int peer, size_t n);

/* The run id, agreed in the hellos: a hash of every party's fresh nonce.
 * Protocols bind their commitments to it so that nothing carries over
 * from another run. */
const uint8_t *net_run_id(const net *nt);

/* Test builds: the next net_round receives every peer's frame before it
 * sends, and calls edit(ctx) in between (a rushing adversary, who chooses
 * its message after seeing the honest ones); a no-op otherwise. */
void net_rush(net *nt, void (*edit)(void *ctx), void *ctx);

/* Test builds: whether QNN_CHEAT asks this party to deviate in a way the
 * protocol implements (kind, the round just done; round=any: the first
 * time the party has the occasion); always 0 otherwise. */
int net_cheat(const net *nt, const char *kind);

/* Tells every peer that this party stops and why (best effort); a peer
 * reports it from its next round as "party I stopped: WHY". */
void net_abort(net *nt, const char *why);

/* Test harnesses only: set-up over already-connected plain sockets (fds[j]
 * for every j != cfg->me; party j < me as if dialled, j > me as if
 * accepted), then a net like net_open's. The sockets are its own from then
 * on (closed on failure, or by net_close), given a valid cfg. */
net *net_open_fds(const net_config *cfg, const int *fds, char *err, size_t errlen);

/* Reads a hosts file: line i = host:port of party i. */
int net_read_hosts(const char *path, net_config *cfg, char *err, size_t errlen);

#endif
