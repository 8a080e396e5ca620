/* net: fuzzes what a peer sends over the wire (runtime/net/net.c): its hello,
 * round frames, abort frames and the dealer's stream, over a socketpair
 * with plain TCP framing (net_open_fds), in both set-up roles.
 *
 * An input is a 4-byte script, then the peer's bytes:
 *   byte 0  bit 0: we are party 0 (the peer connects: the accept path,
 *           where strangers arrive) or party 1 (we connect to party 0)
 *   byte 1  rounds to run (mod 5), each sending 8 bytes to the peer
 *   byte 2  bytes expected from the peer per round (mod 64, plus 1)
 *   byte 3  bytes of stream read after the rounds (mod 64)
 * A valid hello (see the seeds) names protocol "rep3", two parties, the
 * bytecode hash 32 x 0x11 and the session digest 32 x 0x22. */
#define _POSIX_C_SOURCE 200809L
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "runtime/net/net.h"
#include "fuzz.h"

#define MAX_INPUT (64 << 10) /* within a socketpair's buffer: no writer thread */

int fuzz_one(const uint8_t *data, size_t len)
{
    if (len < 4 || len > MAX_INPUT)
        return 0;
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
        return 0;
    /* the peer's bytes, then end of stream: nothing ever waits for more */
    fcntl(sv[1], F_SETFL, fcntl(sv[1], F_GETFL) | O_NONBLOCK);
    size_t off = 4;
    while (off < len) {
        ssize_t w = write(sv[1], data + off, len - off);
        if (w <= 0)
            break;
        off += (size_t)w;
    }
    shutdown(sv[1], SHUT_WR);

    net_config c;
    memset(&c, 0, sizeof c);
    c.me = data[0] & 1;
    c.n = 2;
    c.timeout_s = 0.2;
    c.protocol = "rep3";
    memset(c.program_hash, 0x11, 32);
    memset(c.session_hash, 0x22, 32);
    c.quiet = 1;
    c.log = fuzz_sink();
    int peer = 1 - c.me, fds[2] = {-1, -1};
    fds[peer] = sv[0];
    char err[512];
    net *nt = net_open_fds(&c, fds, err, sizeof err);
    if (!nt) {
        fuzz_note("net set-up", err);
    } else {
        int rounds = data[1] % 5, ok = 1;
        size_t expect = (size_t)data[2] % 64 + 1;
        for (int r = 0; r < rounds && ok; r++) {
            uint8_t *o = net_out(nt, peer, 8);
            if (!o)
                break;
            memset(o, r, 8);
            net_expect(nt, peer, expect);
            if (net_round(nt, err, sizeof err) != 0) {
                fuzz_note("net round", err);
                net_abort(nt, err);
                ok = 0;
                break;
            }
            const uint8_t *in = net_in(nt, peer, expect);
            volatile uint8_t sum = 0; /* every byte handed over is readable */
            for (size_t i = 0; i < expect; i++)
                sum ^= in[i];
            (void)sum;
        }
        uint8_t stream[64];
        if (ok && data[3] % 64 && net_recv(nt, peer, stream, data[3] % 64, err, sizeof err) != 0)
            fuzz_note("net stream", err);
        net_close(nt);
    }
    close(sv[1]); /* sv[0] is the net's: closed by its set-up or net_close */
    return 0;
}
