/* certs: local CA and party certificates with OpenSSL (see certs.h). */
#include "certs.h"

#include <stdio.h>

#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

static X509 *make_cert(EVP_PKEY *key, const char *cn, X509 *issuer, EVP_PKEY *issuer_key, long serial)
{
    X509 *x = X509_new();
    if (!x)
        return NULL;
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), serial);
    X509_gmtime_adj(X509_getm_notBefore(x), -3600);
    X509_gmtime_adj(X509_getm_notAfter(x), 7L * 24 * 3600);
    X509_set_pubkey(x, key);
    X509_NAME *name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
    X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : name);
    if (!issuer) { /* the CA marks itself as one */
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

static int write_pem(const char *path, X509 *cert, EVP_PKEY *key)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    int ok = cert ? PEM_write_X509(f, cert) : PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL);
    return fclose(f) == 0 && ok ? 0 : -1;
}

int certs_make(const char *dir, int nparties, char *err, size_t errlen)
{
    char path[4096];
    EVP_PKEY *ca_key = EVP_EC_gen("P-256");
    X509 *ca = ca_key ? make_cert(ca_key, "qnn local CA", NULL, NULL, 1) : NULL;
    snprintf(path, sizeof path, "%s/ca.pem", dir);
    int rc = ca && write_pem(path, ca, NULL) == 0 ? 0 : -1;
    for (int i = 0; rc == 0 && i < nparties; i++) {
        char cn[32];
        snprintf(cn, sizeof cn, "party%d", i);
        EVP_PKEY *k = EVP_EC_gen("P-256");
        X509 *c = k ? make_cert(k, cn, ca, ca_key, 2 + i) : NULL;
        snprintf(path, sizeof path, "%s/party%d.pem", dir, i);
        rc = c && write_pem(path, c, NULL) == 0 ? 0 : -1;
        snprintf(path, sizeof path, "%s/party%d.key", dir, i);
        if (rc == 0)
            rc = write_pem(path, NULL, k);
        X509_free(c);
        EVP_PKEY_free(k);
    }
    X509_free(ca);
    EVP_PKEY_free(ca_key);
    if (rc)
        snprintf(err, errlen, "cannot make certificates in %s", dir);
    return rc;
}
