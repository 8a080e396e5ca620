/* prep: dealer preprocessing over seeded streams (see prep.h). */
#include "prep.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prg.h"
#include "proto.h"

#define PREP_BUF ((size_t)1 << 20)

struct prep {
    int me, n;
    net *nt;
    prg *g[PROTO_MAX_PARTIES]; /* party: g[0]; dealer: one per party */
    unsigned char *buf;        /* dealer: corrections not yet sent */
    size_t len;
    int failed;
    char err[256];
};

prep *prep_open(net *nt, int me, int n, char *err, size_t errlen)
{
    prep *p = proto_zalloc(sizeof *p);
    p->me = me;
    p->n = n;
    p->nt = nt;
    if (me == n) {
        p->buf = proto_alloc(PREP_BUF);
        for (int i = 0; i < n; i++) {
            unsigned char seed[16];
            if (prg_seed(seed) != 0 || !(p->g[i] = prg_new(seed))) {
                snprintf(err, errlen, "dealer: cannot seed the PRGs");
                prep_close(p);
                return NULL;
            }
            memcpy(net_out(nt, i, 16), seed, 16);
            memset(seed, 0, sizeof seed);
        }
    } else {
        net_expect(nt, n, 16);
    }
    if (net_round(nt, err, errlen) != 0) {
        prep_close(p);
        return NULL;
    }
    if (me < n && !(p->g[0] = prg_new(net_in(nt, n, 16)))) {
        snprintf(err, errlen, "cannot start the PRG");
        prep_close(p);
        return NULL;
    }
    return p;
}

void prep_close(prep *p)
{
    if (!p)
        return;
    for (int i = 0; i < PROTO_MAX_PARTIES; i++)
        prg_free(p->g[i]);
    free(p->buf);
    free(p);
}

void prep_draw(prep *p, void *out, size_t nbytes) { prg_fill(p->g[0], out, nbytes); }

void prep_draw_for(prep *p, int party, void *out, size_t nbytes) { prg_fill(p->g[party], out, nbytes); }

void prep_read(prep *p, void *out, size_t nbytes)
{
    if (p->failed || net_recv(p->nt, p->n, out, nbytes, p->err, sizeof p->err) != 0) {
        p->failed = 1;
        memset(out, 0, nbytes);
    }
}

void prep_flush(prep *p)
{
    if (!p->failed && p->len && net_send(p->nt, p->n - 1, p->buf, p->len, p->err, sizeof p->err) != 0)
        p->failed = 1;
    p->len = 0;
}

void prep_write(prep *p, const void *c, size_t nbytes)
{
    const unsigned char *b = c;
    while (nbytes) {
        size_t k = PREP_BUF - p->len < nbytes ? PREP_BUF - p->len : nbytes;
        memcpy(p->buf + p->len, b, k);
        p->len += k;
        b += k;
        nbytes -= k;
        if (p->len == PREP_BUF)
            prep_flush(p);
    }
}

int prep_error(const prep *p, char *err, size_t errlen)
{
    if (!p->failed)
        return 0;
    snprintf(err, errlen, "preprocessing: %s", p->err);
    return -1;
}
