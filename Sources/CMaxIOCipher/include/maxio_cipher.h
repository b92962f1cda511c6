#ifndef MAXIO_CIPHER_H
#define MAXIO_CIPHER_H
#include <stddef.h>
#include <stdint.h>

/// AES-256-GCM for the chunks of sealed blobs, straight on caller buffers (no intermediate copies).
/// A context holds one expanded key; it may be used from one thread at a time.
typedef struct maxio_gcm maxio_gcm;

/// A context for a 32-byte key; NULL on failure.
maxio_gcm *maxio_gcm_new(const uint8_t *key);
void maxio_gcm_free(maxio_gcm *ctx);

/// Encrypts `len` bytes of `in` into `out` (`len` + 16 bytes: ciphertext, then the tag) with the 12-byte
/// `nonce` and additional data `ad`. `in` and `out` may be the same buffer. Returns 1 on success.
int maxio_gcm_seal(const maxio_gcm *ctx, const uint8_t *nonce, const uint8_t *ad, size_t ad_len, const uint8_t *in,
                   size_t len, uint8_t *out);

/// Decrypts `len` + 16 bytes of `in` (ciphertext, then the tag) into `out` (`len` bytes). `in` and `out` may be
/// the same buffer. Returns 1 when the tag authenticates, 0 otherwise (`out` is then unspecified).
int maxio_gcm_open(const maxio_gcm *ctx, const uint8_t *nonce, const uint8_t *ad, size_t ad_len, const uint8_t *in,
                   size_t len, uint8_t *out);

#endif
