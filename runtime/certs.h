/* certs: a throw-away certificate authority and one key and certificate per
 * party (CN=party<i>), written as PEM files for net.c's mutual TLS. Used by
 * `qnnvm run --local`; scripts/make-certs.sh does the same with the CLI. */
#ifndef CERTS_H
#define CERTS_H

#include <stddef.h>

int certs_make(const char *dir, int nparties, char *err, size_t errlen);

#endif
