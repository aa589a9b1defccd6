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

#endif
