/* prep: the preprocessing source, here a dealer: an extra process that
 * never sees an input or a share of one.
 *
 * At set-up the dealer sends party i a 16-byte PRG seed (one round). From
 * then on party i draws its share of every dealt vector from its stream,
 * and only what cannot be drawn travels: the corrections that make party
 * N-1's shares add up to a derived value (a triple's product, a bit, a MAC).
 * The dealer writes them to party N-1 as a stream while it walks the
 * program, and party N-1 reads them as it goes, so neither holds them all.
 * Both sides draw in execution order. Generation among the parties will be
 * another implementation of this interface.
 *
 * A failed read or write (the peer gone) is sticky: later calls do nothing
 * and prep_error reports it, so protocols check once per instruction. */
#ifndef PREP_H
#define PREP_H

#include <stddef.h>

#include "net.h"

typedef struct prep prep;

/* me == n: the dealer. One round with the seeds. NULL with err set. */
prep *prep_open(net *nt, int me, int n, char *err, size_t errlen);
void prep_close(prep *p);
/* party: my stream */
void prep_draw(prep *p, void *out, size_t nbytes);
/* party N-1: the next corrections */
void prep_read(prep *p, void *out, size_t nbytes);
/* dealer: party i's stream, and corrections for party N-1 (buffered) */
void prep_draw_for(prep *p, int party, void *out, size_t nbytes);
void prep_write(prep *p, const void *c, size_t nbytes);
/* dealer: sends what is buffered */
void prep_flush(prep *p);
/* 0, or -1 with the first failure in err */
int prep_error(const prep *p, char *err, size_t errlen);

#endif
