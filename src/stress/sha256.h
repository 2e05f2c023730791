/* SHA-256 (FIPS 180-4), for pyserve-stress --expect-sha256: incremental,
 * no allocation. Small and plain rather than fast; it only runs when a
 * digest was asked for. */
#ifndef STRESS_SHA256_H
#define STRESS_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define SHA256_DIGEST_LEN 32

struct sha256 {
    uint32_t h[8];
    uint64_t len; /* bytes hashed so far */
    uint8_t block[64];
    unsigned fill; /* bytes waiting in block */
};

void sha256_init(struct sha256 *s);
void sha256_update(struct sha256 *s, const void *data, size_t n);
void sha256_final(struct sha256 *s, uint8_t out[SHA256_DIGEST_LEN]);

/* Parse 64 hex digits (either case) into out. Returns 0 or -EINVAL. */
int sha256_parse_hex(const char *hex, uint8_t out[SHA256_DIGEST_LEN]);

/* Lowercase hex of a digest into out (65 bytes with the NUL). */
void sha256_format_hex(const uint8_t d[SHA256_DIGEST_LEN], char out[2 * SHA256_DIGEST_LEN + 1]);

#endif
