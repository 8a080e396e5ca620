/* certs: certificate authority, party certificates and per-party
 * self-signed identities with OpenSSL (see certs.h). */
#define _POSIX_C_SOURCE 200809L
#include "runtime/net/certs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

/* A certificate for key named cn, signed by issuer (NULL: self-signed);
 * is_ca marks a CA. Pinned identities are checked by fingerprint, not by
 * date, so they get a long life; a throw-away CA's a week. */
static X509 *make_cert(EVP_PKEY *key, const char *cn, X509 *issuer, EVP_PKEY *issuer_key, long serial,
                       int is_ca, long days)
{
    X509 *x = X509_new();
    if (!x)
        return NULL;
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), serial);
    X509_gmtime_adj(X509_getm_notBefore(x), -3600);
    X509_gmtime_adj(X509_getm_notAfter(x), days * 24 * 3600);
    X509_set_pubkey(x, key);
    X509_NAME *name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
    X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : name);
    if (is_ca) {
        X509V3_CTX ctx;
        X509V3_set_ctx_nodb(&ctx);
        X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
        X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &ctx, NID_basic_constraints, "critical,CA:TRUE");
        if (ext) {
            X509_add_ext(x, ext, -1);
            X509_EXTENSION_free(ext);
        }
    }
    if (!X509_sign(x, issuer_key ? issuer_key : key, EVP_sha256())) {
        X509_free(x);
        return NULL;
    }
    return x;
}

/* Writes cert, or else key (mode 0600; with excl, never over an existing
 * file). Returns 0, or -1 with errno's reason in err. */
static int write_pem(const char *path, X509 *cert, EVP_PKEY *key, int excl, char *err, size_t errlen)
{
    int fd = open(path, O_WRONLY | O_CREAT | (excl ? O_EXCL : O_TRUNC), cert ? 0644 : 0600);
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (!f) {
        snprintf(err, errlen, "%s: %s%s", path, strerror(errno),
                 errno == EEXIST ? " (an identity is kept: remove the file to make a new one)" : "");
        if (fd >= 0)
            close(fd);
        return -1;
    }
    int ok = cert ? PEM_write_X509(f, cert) : PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL);
    if (fclose(f) != 0 || !ok) {
        snprintf(err, errlen, "%s: cannot write", path);
        return -1;
    }
    return 0;
}

int certs_make(const char *dir, int nparties, char *err, size_t errlen)
{
    char path[4096];
    EVP_PKEY *ca_key = EVP_EC_gen("P-256");
    X509 *ca = ca_key ? make_cert(ca_key, "qnn local CA", NULL, NULL, 1, 1, 7) : NULL;
    snprintf(path, sizeof path, "%s/ca.pem", dir);
    int rc = ca ? write_pem(path, ca, NULL, 0, err, errlen) : -1;
    for (int i = 0; rc == 0 && i < nparties; i++) {
        char cn[32];
        snprintf(cn, sizeof cn, "party%d", i);
        EVP_PKEY *k = EVP_EC_gen("P-256");
        X509 *c = k ? make_cert(k, cn, ca, ca_key, 2 + i, 0, 7) : NULL;
        snprintf(path, sizeof path, "%s/party%d.pem", dir, i);
        rc = c ? write_pem(path, c, NULL, 0, err, errlen) : -1;
        snprintf(path, sizeof path, "%s/party%d.key", dir, i);
        if (rc == 0)
            rc = write_pem(path, NULL, k, 0, err, errlen);
        X509_free(c);
        EVP_PKEY_free(k);
    }
    if (!ca)
        snprintf(err, errlen, "cannot make certificates in %s", dir);
    X509_free(ca);
    EVP_PKEY_free(ca_key);
    return rc;
}

void certs_fingerprint(const uint8_t sha256[32], char fp[CERTS_FP_LEN])
{
    for (int i = 0; i < 32; i++)
        snprintf(fp + 3 * i, 4, "%02X%s", sha256[i], i < 31 ? ":" : "");
}

int certs_keygen(const char *dir, int party, char fp[CERTS_FP_LEN], char *err, size_t errlen)
{
    char path[4096], cn[32];
    snprintf(cn, sizeof cn, "party%d", party);
    EVP_PKEY *k = EVP_EC_gen("P-256");
    /* a random serial: two identities of one party never look alike */
    uint32_t r = 1;
    RAND_bytes((unsigned char *)&r, sizeof r);
    long serial = (long)(r & 0x7fffffff) | 1;
    X509 *c = k ? make_cert(k, cn, NULL, NULL, serial, 0, 3650) : NULL;
    int rc = -1;
    if (!c)
        snprintf(err, errlen, "cannot make a key and certificate for party %d", party);
    snprintf(path, sizeof path, "%s/party%d.key", dir, party);
    if (c && write_pem(path, NULL, k, 1, err, errlen) == 0) {
        snprintf(path, sizeof path, "%s/party%d.pem", dir, party);
        rc = write_pem(path, c, NULL, 0, err, errlen);
    }
    unsigned char md[32];
    unsigned int mdlen = 0;
    if (rc == 0 && (!X509_digest(c, EVP_sha256(), md, &mdlen) || mdlen != 32)) {
        snprintf(err, errlen, "cannot compute the certificate's fingerprint");
        rc = -1;
    }
    if (rc == 0)
        certs_fingerprint(md, fp);
    X509_free(c);
    EVP_PKEY_free(k);
    return rc;
}
