// AES-256-GCM through the BoringSSL that swift-crypto already links into the binary (its symbols carry the
// CCryptoBoringSSL_ prefix). swift-crypto's own API copies every chunk twice (into a Data, out of a Data);
// these calls work on the caller's buffers. See docs/adr/0006-encryption-at-rest-by-default.md.
#include "maxio_cipher.h"

typedef struct evp_aead_st EVP_AEAD;
typedef struct evp_aead_ctx_st EVP_AEAD_CTX;

extern const EVP_AEAD *CCryptoBoringSSL_EVP_aead_aes_256_gcm(void);
extern EVP_AEAD_CTX *CCryptoBoringSSL_EVP_AEAD_CTX_new(const EVP_AEAD *aead, const uint8_t *key, size_t key_len,
                                                       size_t tag_len);
extern void CCryptoBoringSSL_EVP_AEAD_CTX_free(EVP_AEAD_CTX *ctx);
extern int CCryptoBoringSSL_EVP_AEAD_CTX_seal(const EVP_AEAD_CTX *ctx, uint8_t *out, size_t *out_len,
                                              size_t max_out_len, const uint8_t *nonce, size_t nonce_len,
                                              const uint8_t *in, size_t in_len, const uint8_t *ad, size_t ad_len);
extern int CCryptoBoringSSL_EVP_AEAD_CTX_open(const EVP_AEAD_CTX *ctx, uint8_t *out, size_t *out_len,
                                              size_t max_out_len, const uint8_t *nonce, size_t nonce_len,
                                              const uint8_t *in, size_t in_len, const uint8_t *ad, size_t ad_len);

maxio_gcm *maxio_gcm_new(const uint8_t *key) {
    return (maxio_gcm *)CCryptoBoringSSL_EVP_AEAD_CTX_new(CCryptoBoringSSL_EVP_aead_aes_256_gcm(), key, 32, 16);
}

void maxio_gcm_free(maxio_gcm *ctx) {
    if (ctx) CCryptoBoringSSL_EVP_AEAD_CTX_free((EVP_AEAD_CTX *)ctx);
}

int maxio_gcm_seal(const maxio_gcm *ctx, const uint8_t *nonce, const uint8_t *ad, size_t ad_len, const uint8_t *in,
                   size_t len, uint8_t *out) {
    size_t out_len = 0;
    int ok = CCryptoBoringSSL_EVP_AEAD_CTX_seal((const EVP_AEAD_CTX *)ctx, out, &out_len, len + 16, nonce, 12, in,
                                                len, ad, ad_len);
    return ok == 1 && out_len == len + 16;
}

int maxio_gcm_open(const maxio_gcm *ctx, const uint8_t *nonce, const uint8_t *ad, size_t ad_len, const uint8_t *in,
                   size_t len, uint8_t *out) {
    size_t out_len = 0;
    int ok = CCryptoBoringSSL_EVP_AEAD_CTX_open((const EVP_AEAD_CTX *)ctx, out, &out_len, len, nonce, 12, in,
                                                len + 16, ad, ad_len);
    return ok == 1 && out_len == len;
}
