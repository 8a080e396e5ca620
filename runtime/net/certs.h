/* certs: the certificates of net.c's mutual TLS, made with OpenSSL.
 *
 * Two ways to give parties an identity:
 *  - per party (certs_keygen, `qnnvm keygen`): each party makes its own key
 *    and a self-signed certificate (CN=party<i>) on its own machine; the key
 *    never leaves it, the certificate goes to every other party, who pins it
 *    (checks its SHA-256 fingerprint with a person at the other end). Nobody
 *    can mint another party's identity.
 *  - one operator for every party (certs_make, `--local`, tests): a
 *    throw-away CA signs every party's certificate; whoever holds the CA key
 *    can be any party, which is fine only when that is the one running them.
 * Keys are written with mode 0600. */
#ifndef CERTS_H
#define CERTS_H

#include <stddef.h>
#include <stdint.h>

/* "AB:CD:...": a SHA-256 as openssl x509 -fingerprint -sha256 prints it. */
#define CERTS_FP_LEN 96

/* DIR/ca.pem, DIR/party<i>.pem and DIR/party<i>.key for i < nparties. */
int certs_make(const char *dir, int nparties, char *err, size_t errlen);

/* DIR/party<party>.key (refused if it exists: an identity is not replaced
 * by accident) and DIR/party<party>.pem, self-signed; fp gets the
 * certificate's fingerprint. */
int certs_keygen(const char *dir, int party, char fp[CERTS_FP_LEN], char *err, size_t errlen);

void certs_fingerprint(const uint8_t sha256[32], char fp[CERTS_FP_LEN]);

#endif
