#ifndef MAXIO_CHECKSUM_H
#define MAXIO_CHECKSUM_H
#include <stddef.h>
#include <stdint.h>

/// CRC-32 (IEEE 802.3, as zlib): pass 0 to start, the previous result to continue.
uint32_t maxio_crc32(uint32_t crc, const void *data, size_t len);
/// CRC-32C (Castagnoli): pass 0 to start, the previous result to continue. Uses SSE4.2 when present.
uint32_t maxio_crc32c(uint32_t crc, const void *data, size_t len);
/// CRC-64/NVME: pass 0 to start, the previous result to continue.
uint64_t maxio_crc64nvme(uint64_t crc, const void *data, size_t len);

/// The CRC of A followed by B, from crc(A), crc(B) and the length of B.
uint32_t maxio_crc32_combine(uint32_t crc1, uint32_t crc2, uint64_t len2);
uint32_t maxio_crc32c_combine(uint32_t crc1, uint32_t crc2, uint64_t len2);
uint64_t maxio_crc64nvme_combine(uint64_t crc1, uint64_t crc2, uint64_t len2);

#endif
