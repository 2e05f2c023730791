/* Content-Type cache shared by the workers, keyed by file identity
 * (device, inode, change time with nanoseconds, size) plus the name's extension
 * and the configuration generation. Lookups take no lock: each slot is a
 * seqlock, read optimistically and retried as a miss when a writer raced.
 * Inserts lock one stripe. Values are interned strings that live as long as
 * the cache. */
#ifndef PS_MIME_CACHE_H
#define PS_MIME_CACHE_H

#include <stddef.h>
#include <stdint.h>

struct mime_key {
    uint64_t dev, ino, ctime_ns, size, name_hash, gen;
};

struct mime_cache;

/* entries is rounded up to a power of two (at least 4). NULL on ENOMEM. */
struct mime_cache *mime_cache_new(unsigned entries);
void mime_cache_free(struct mime_cache *mc);

/* The cached value or NULL. */
const char *mime_cache_get(struct mime_cache *mc, const struct mime_key *k);

/* Remember value for k (replacing the set's oldest entry when full).
 * Returns the interned copy to use, or NULL when it could not be stored. */
const char *mime_cache_put(struct mime_cache *mc, const struct mime_key *k, const char *value);

/* Number of slots, for tests. */
unsigned mime_cache_capacity(const struct mime_cache *mc);

#endif
