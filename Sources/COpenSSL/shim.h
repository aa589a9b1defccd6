// OpenSSL's libcrypto (Debian libssl-dev 3.0) for Swift: signatures and MACs only.
#ifndef IMAGEBUMP_COPENSSL_SHIM_H
#define IMAGEBUMP_COPENSSL_SHIM_H

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>

/// BIO_new_mem_buf takes a length that must fit an int.
static inline BIO *imagebump_bio_from_bytes(const void *bytes, int length) {
    return BIO_new_mem_buf(bytes, length);
}

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/param_build.h>

/// An EC P-256 key pair from its private scalar and its uncompressed public point (as an
/// OpenSSH private key holds them); NULL when OpenSSL refuses them.
static inline EVP_PKEY *imagebump_ec_p256_key(const unsigned char *priv, int privlen, const unsigned char *pub, size_t publen) {
    EVP_PKEY *pkey = NULL;
    EVP_PKEY_CTX *ctx = NULL;
    OSSL_PARAM *params = NULL;
    OSSL_PARAM_BLD *build = OSSL_PARAM_BLD_new();
    BIGNUM *d = BN_bin2bn(priv, privlen, NULL);
    if (build && d && OSSL_PARAM_BLD_push_utf8_string(build, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0)
        && OSSL_PARAM_BLD_push_BN(build, OSSL_PKEY_PARAM_PRIV_KEY, d)
        && OSSL_PARAM_BLD_push_octet_string(build, OSSL_PKEY_PARAM_PUB_KEY, pub, publen)
        && (params = OSSL_PARAM_BLD_to_param(build)) != NULL && (ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL)) != NULL
        && EVP_PKEY_fromdata_init(ctx) > 0) {
        if (EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_KEYPAIR, params) <= 0) pkey = NULL;
    }
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(build);
    BN_free(d);
    return pkey;
}

/// An ECDSA signature's r and s (big-endian, without leading zeros) from its DER form; 0 on
/// failure. `r` and `s` hold 66 bytes each.
static inline int imagebump_ecdsa_der_to_rs(const unsigned char *der, long length, unsigned char *r, int *rlen, unsigned char *s, int *slen) {
    const unsigned char *cursor = der;
    ECDSA_SIG *signature = d2i_ECDSA_SIG(NULL, &cursor, length);
    if (!signature) return 0;
    const BIGNUM *br = NULL, *bs = NULL;
    ECDSA_SIG_get0(signature, &br, &bs);
    int ok = BN_num_bytes(br) <= 66 && BN_num_bytes(bs) <= 66;
    if (ok) {
        *rlen = BN_bn2bin(br, r);
        *slen = BN_bn2bin(bs, s);
    }
    ECDSA_SIG_free(signature);
    return ok;
}

#endif
