/* jmp: joint message passing, the hash check of rep3-active's messages that
 * a second party can recompute (docs/protocols.md "rep3-active").
 *
 * For a message a -> b whose content the third party k (the backup) also
 * knows, b absorbs what arrived into a SHA-256 chain per incoming link and
 * k absorbs what a should have sent into its chain for the link a -> b;
 * the sender absorbs nothing. Both absorb in the finish of the round the
 * message travels in, in the block's operation order, so the two chains of
 * a link see the same bytes in the same order. At a verification each
 * backup sends b the digest of its chain (32 bytes per link) and b
 * compares it with its own; the chains run on, so each verification covers
 * every message since the start. The digests are taken in the prepare of
 * the verification round, before any message of that round is absorbed. */
#ifndef JMP_H
#define JMP_H

#include <stddef.h>
#include <stdint.h>

struct net;
typedef struct jmp jmp;

/* Chains for party me of three, bound to the run (net_run_id); NULL when
 * out of memory. */
jmp *jmp_new(int me, const uint8_t run_id[32]);
void jmp_free(jmp *j);
/* A message from -> to of n bytes: received (to == me) or recomputed as
 * the backup (from, to != me); the sender's own call is a no-op. */
void jmp_absorb(jmp *j, int from, int to, const void *buf, size_t n);
/* The digest of the chain of link from -> to so far (this party must not
 * be the sender); the chain runs on. */
void jmp_digest(const jmp *j, int from, int to, uint8_t out[32]);
/* prepare of a verification round: queues the two backup digests (32
 * bytes to each peer), expects the peers', and keeps this party's own. */
void jmp_send(jmp *j, struct net *nt);
/* finish of that round: 0 if both digests received match the kept ones,
 * else -1 with the reason in err. */
int jmp_check(jmp *j, struct net *nt, char *err, size_t errlen);
/* Bytes each party sends per verification. */
enum { JMP_BYTES = 64 };

#endif
