// Chunk compression for MaxIOFS's transparent compression: raw deflate, one chunk at a time, so a range read
// inflates only the chunks it needs.
#include "maxio_compress.h"
#include <stdlib.h>
#include <zlib.h>

struct maxio_deflate { z_stream z; };
struct maxio_inflate { z_stream z; };

maxio_deflate *maxio_deflate_new(int level) {
    maxio_deflate *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    if (deflateInit2(&c->z, level, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
        free(c);
        return NULL;
    }
    return c;
}

void maxio_deflate_free(maxio_deflate *c) {
    if (!c) return;
    deflateEnd(&c->z);
    free(c);
}

size_t maxio_deflate_chunk(maxio_deflate *c, const uint8_t *in, size_t len, uint8_t *out, size_t cap) {
    if (deflateReset(&c->z) != Z_OK) return 0;
    c->z.next_in = (Bytef *)in;
    c->z.avail_in = (uInt)len;
    c->z.next_out = out;
    c->z.avail_out = (uInt)cap;
    int r = deflate(&c->z, Z_FINISH);
    if (r != Z_STREAM_END) return 0;
    return cap - c->z.avail_out;
}

maxio_inflate *maxio_inflate_new(void) {
    maxio_inflate *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    if (inflateInit2(&c->z, -15) != Z_OK) {
        free(c);
        return NULL;
    }
    return c;
}

void maxio_inflate_free(maxio_inflate *c) {
    if (!c) return;
    inflateEnd(&c->z);
    free(c);
}

int maxio_inflate_chunk(maxio_inflate *c, const uint8_t *in, size_t len, uint8_t *out, size_t expected) {
    if (inflateReset(&c->z) != Z_OK) return 0;
    c->z.next_in = (Bytef *)in;
    c->z.avail_in = (uInt)len;
    c->z.next_out = out;
    c->z.avail_out = (uInt)expected;
    int r = inflate(&c->z, Z_FINISH);
    return r == Z_STREAM_END && c->z.avail_out == 0 && c->z.avail_in == 0;
}
