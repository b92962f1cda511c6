#ifndef MAXIO_COMPRESS_H
#define MAXIO_COMPRESS_H
#include <stddef.h>
#include <stdint.h>

/// Raw deflate (zlib) of independent chunks, reusing one stream per context. One thread at a time.
typedef struct maxio_deflate maxio_deflate;
typedef struct maxio_inflate maxio_inflate;

/// `level`: 1 (fastest) to 9. NULL on failure.
maxio_deflate *maxio_deflate_new(int level);
void maxio_deflate_free(maxio_deflate *ctx);
/// Compresses `len` bytes of `in` into `out` (capacity `cap`). Returns the compressed length, or 0 when it
/// does not fit in `cap` (the caller then stores the chunk as it is).
size_t maxio_deflate_chunk(maxio_deflate *ctx, const uint8_t *in, size_t len, uint8_t *out, size_t cap);

maxio_inflate *maxio_inflate_new(void);
void maxio_inflate_free(maxio_inflate *ctx);
/// Decompresses `len` bytes of `in` into exactly `expected` bytes at `out`. Returns 1 on success.
int maxio_inflate_chunk(maxio_inflate *ctx, const uint8_t *in, size_t len, uint8_t *out, size_t expected);

#endif
