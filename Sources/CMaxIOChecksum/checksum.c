#include "maxio_checksum.h"
#include <pthread.h>
#include <string.h>

#if defined(__x86_64__)
#include <cpuid.h>
#include <nmmintrin.h>
#endif

static uint32_t crc32_table[8][256];
static uint32_t crc32c_table[8][256];
static uint64_t crc64_table[8][256];
static int have_sse42 = 0;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void init_tables(void) {
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t a = i, c = i;
        uint64_t d = i;
        for (int k = 0; k < 8; k++) {
            a = (a >> 1) ^ (0xEDB88320u & (0u - (a & 1)));
            c = (c >> 1) ^ (0x82F63B78u & (0u - (c & 1)));
            d = (d >> 1) ^ (0x9A6C9329AC4BC9B5ull & (0ull - (d & 1)));
        }
        crc32_table[0][i] = a;
        crc32c_table[0][i] = c;
        crc64_table[0][i] = d;
    }
    for (uint32_t i = 0; i < 256; i++) {
        for (int t = 1; t < 8; t++) {
            crc32_table[t][i] = (crc32_table[t - 1][i] >> 8) ^ crc32_table[0][crc32_table[t - 1][i] & 0xff];
            crc32c_table[t][i] = (crc32c_table[t - 1][i] >> 8) ^ crc32c_table[0][crc32c_table[t - 1][i] & 0xff];
            crc64_table[t][i] = (crc64_table[t - 1][i] >> 8) ^ crc64_table[0][crc64_table[t - 1][i] & 0xff];
        }
    }
#if defined(__x86_64__)
    unsigned int eax, ebx, ecx, edx;
    if (__get_cpuid(1, &eax, &ebx, &ecx, &edx)) have_sse42 = (ecx & bit_SSE4_2) != 0;
#endif
}

static uint32_t crc32_slice8(const uint32_t table[8][256], uint32_t crc, const unsigned char *p, size_t len) {
    while (len >= 8) {
        uint32_t lo, hi;
        memcpy(&lo, p, 4);
        memcpy(&hi, p + 4, 4);
        lo ^= crc;
        crc = table[7][lo & 0xff] ^ table[6][(lo >> 8) & 0xff] ^ table[5][(lo >> 16) & 0xff] ^ table[4][lo >> 24] ^
              table[3][hi & 0xff] ^ table[2][(hi >> 8) & 0xff] ^ table[1][(hi >> 16) & 0xff] ^ table[0][hi >> 24];
        p += 8;
        len -= 8;
    }
    while (len--) crc = (crc >> 8) ^ table[0][(crc ^ *p++) & 0xff];
    return crc;
}

uint32_t maxio_crc32(uint32_t crc, const void *data, size_t len) {
    pthread_once(&once, init_tables);
    return ~crc32_slice8(crc32_table, ~crc, (const unsigned char *)data, len);
}

#if defined(__x86_64__)
__attribute__((target("sse4.2"))) static uint32_t crc32c_hw(uint32_t crc, const unsigned char *p, size_t len) {
    uint64_t c = crc;
    while (len >= 8) {
        uint64_t v;
        memcpy(&v, p, 8);
        c = _mm_crc32_u64(c, v);
        p += 8;
        len -= 8;
    }
    uint32_t c32 = (uint32_t)c;
    while (len--) c32 = _mm_crc32_u8(c32, *p++);
    return c32;
}
#endif

uint32_t maxio_crc32c(uint32_t crc, const void *data, size_t len) {
    pthread_once(&once, init_tables);
#if defined(__x86_64__)
    if (have_sse42) return ~crc32c_hw(~crc, (const unsigned char *)data, len);
#endif
    return ~crc32_slice8(crc32c_table, ~crc, (const unsigned char *)data, len);
}

uint64_t maxio_crc64nvme(uint64_t crc, const void *data, size_t len) {
    pthread_once(&once, init_tables);
    const unsigned char *p = (const unsigned char *)data;
    crc = ~crc;
    while (len >= 8) {
        uint64_t v;
        memcpy(&v, p, 8);
        v ^= crc;
        crc = crc64_table[7][v & 0xff] ^ crc64_table[6][(v >> 8) & 0xff] ^ crc64_table[5][(v >> 16) & 0xff] ^
              crc64_table[4][(v >> 24) & 0xff] ^ crc64_table[3][(v >> 32) & 0xff] ^ crc64_table[2][(v >> 40) & 0xff] ^
              crc64_table[1][(v >> 48) & 0xff] ^ crc64_table[0][v >> 56];
        p += 8;
        len -= 8;
    }
    while (len--) crc = (crc >> 8) ^ crc64_table[0][(crc ^ *p++) & 0xff];
    return ~crc;
}

/* CRC combination (zlib's crc32_combine, generalised to any reflected CRC of up to 64 bits): the CRC of
   A followed by B from crc(A), crc(B) and the length of B, by applying len(B) zero bytes to crc(A) with
   square-and-multiply over GF(2) matrices. Valid for CRCs whose initial value and final xor are equal
   (all three here: all ones). */
static uint64_t gf2_times(const uint64_t *mat, uint64_t vec) {
    uint64_t sum = 0;
    while (vec) {
        if (vec & 1) sum ^= *mat;
        vec >>= 1;
        mat++;
    }
    return sum;
}

static void gf2_square(uint64_t *square, const uint64_t *mat, int bits) {
    for (int n = 0; n < bits; n++) square[n] = gf2_times(mat, mat[n]);
}

static uint64_t crc_combine(uint64_t crc1, uint64_t crc2, uint64_t len2, uint64_t poly, int bits) {
    uint64_t even[64], odd[64];
    if (len2 == 0) return crc1;
    odd[0] = poly; /* the operator for one zero bit */
    uint64_t row = 1;
    for (int n = 1; n < bits; n++) {
        odd[n] = row;
        row <<= 1;
    }
    gf2_square(even, odd, bits); /* two zero bits */
    gf2_square(odd, even, bits); /* four zero bits */
    do {
        gf2_square(even, odd, bits);
        if (len2 & 1) crc1 = gf2_times(even, crc1);
        len2 >>= 1;
        if (len2 == 0) break;
        gf2_square(odd, even, bits);
        if (len2 & 1) crc1 = gf2_times(odd, crc1);
        len2 >>= 1;
    } while (len2 != 0);
    return crc1 ^ crc2;
}

uint32_t maxio_crc32_combine(uint32_t crc1, uint32_t crc2, uint64_t len2) {
    return (uint32_t)crc_combine(crc1, crc2, len2, 0xEDB88320u, 32);
}

uint32_t maxio_crc32c_combine(uint32_t crc1, uint32_t crc2, uint64_t len2) {
    return (uint32_t)crc_combine(crc1, crc2, len2, 0x82F63B78u, 32);
}

uint64_t maxio_crc64nvme_combine(uint64_t crc1, uint64_t crc2, uint64_t len2) {
    return crc_combine(crc1, crc2, len2, 0x9A6C9329AC4BC9B5ull, 64);
}
