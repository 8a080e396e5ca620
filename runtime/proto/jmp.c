/* jmp: SHA-256 chains per link (jmp.h). */
#include "runtime/proto/jmp.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/net/net.h"

#define DIGEST 32

struct jmp {
    int me;
    EVP_MD_CTX *link[3][3]; /* [from][to]: to == me received, else as backup; NULL for links this party sends */
    uint8_t kept[3][DIGEST]; /* [from]: own digest of from -> me at the verification's prepare */
};

static int other(int me, int a) { return 3 - me - a; }

jmp *jmp_new(int me, const uint8_t run_id[32])
{
    jmp *j = calloc(1, sizeof *j);
    if (!j)
        return NULL;
    j->me = me;
    for (int a = 0; a < 3; a++)
        for (int b = 0; b < 3; b++) {
            if (a == b || a == me)
                continue;
            uint8_t tag[16 + 32 + 2] = "qnn rep3a jmp";
            memcpy(tag + 16, run_id, 32);
            tag[48] = (uint8_t)a, tag[49] = (uint8_t)b;
            EVP_MD_CTX *c = EVP_MD_CTX_new();
            j->link[a][b] = c;
            if (!c || EVP_DigestInit_ex(c, EVP_sha256(), NULL) != 1 || EVP_DigestUpdate(c, tag, sizeof tag) != 1) {
                jmp_free(j);
                return NULL;
            }
        }
    return j;
}

void jmp_free(jmp *j)
{
    if (!j)
        return;
    for (int a = 0; a < 3; a++)
        for (int b = 0; b < 3; b++)
            EVP_MD_CTX_free(j->link[a][b]);
    free(j);
}

void jmp_absorb(jmp *j, int from, int to, const void *buf, size_t n)
{
    if (from != j->me && n && EVP_DigestUpdate(j->link[from][to], buf, n) != 1)
        abort(); /* SHA-256 over memory does not fail */
}

void jmp_digest(const jmp *j, int from, int to, uint8_t out[32])
{
    EVP_MD_CTX *t = EVP_MD_CTX_new();
    unsigned len = 0;
    if (!t || EVP_MD_CTX_copy_ex(t, j->link[from][to]) != 1 || EVP_DigestFinal_ex(t, out, &len) != 1 ||
        len != DIGEST)
        abort(); /* out of memory: fatal, as proto_alloc */
    EVP_MD_CTX_free(t);
}

void jmp_send(jmp *j, net *nt)
{
    for (int a = 0; a < 3; a++) {
        if (a == j->me)
            continue;
        int b = other(j->me, a);
        uint8_t *out = net_out(nt, b, DIGEST);
        jmp_digest(j, a, b, out); /* backup of a -> b, to b */
        out[0] ^= (uint8_t)net_cheat(nt, "digest");
        jmp_digest(j, a, j->me, j->kept[a]);
        net_expect(nt, b, DIGEST);
    }
}

int jmp_check(jmp *j, net *nt, char *err, size_t errlen)
{
    int bad = -1, k = -1;
    for (int a = 0; a < 3; a++) {
        if (a == j->me)
            continue;
        int backup = other(j->me, a);
        const uint8_t *got = net_in(nt, backup, DIGEST);
        if (bad < 0 && memcmp(got, j->kept[a], DIGEST) != 0)
            bad = a, k = backup;
    }
    if (bad < 0)
        return 0;
    snprintf(err, errlen, "rep3-active: messages party %d -> party %d differ from backup party %d's copy (hash check)",
             bad, j->me, k);
    return -1;
}
