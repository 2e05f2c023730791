/* Seqlock-per-slot cache, 4-way set associative. A reader loads the slot's
 * sequence (acquire), the key and value words (relaxed atomics), a fence,
 * and the sequence again; an odd or changed sequence means a writer was
 * there and the lookup counts as a miss. No reader ever blocks. */
#include "mime_cache.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define WAYS 4
#define STRIPES 64
#define MAX_VALUES 4096 /* distinct header values; there are few in practice */
#define NWORDS 7        /* six key words and the value index + 1 */

struct slot {
    atomic_uint_fast64_t seq;
    _Atomic uint64_t w[NWORDS];
};

struct mime_cache {
    struct slot *slots;
    unsigned nslots, mask_sets;
    pthread_mutex_t stripes[STRIPES];
    unsigned next_victim[STRIPES];
    /* interned values: written under intern_lock, published through slots */
    pthread_mutex_t intern_lock;
    char *values[MAX_VALUES];
    unsigned nvalues;
};

static uint64_t mix(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ull;
    x ^= x >> 33;
    return x;
}

static uint64_t key_hash(const struct mime_key *k)
{
    return mix(k->dev * 31 + mix(k->ino) + k->ctime_ns * 7 + k->size + k->name_hash + k->gen);
}

struct mime_cache *mime_cache_new(unsigned entries)
{
    struct mime_cache *mc = calloc(1, sizeof(*mc));
    if (!mc)
        return NULL;
    unsigned n = WAYS;
    while (n < entries && n < (1u << 24))
        n <<= 1;
    mc->slots = calloc(n, sizeof(struct slot));
    if (!mc->slots) {
        free(mc);
        return NULL;
    }
    mc->nslots = n;
    mc->mask_sets = n / WAYS - 1;
    for (unsigned i = 0; i < STRIPES; i++)
        pthread_mutex_init(&mc->stripes[i], NULL);
    pthread_mutex_init(&mc->intern_lock, NULL);
    return mc;
}

void mime_cache_free(struct mime_cache *mc)
{
    if (!mc)
        return;
    for (unsigned i = 0; i < mc->nvalues; i++)
        free(mc->values[i]);
    for (unsigned i = 0; i < STRIPES; i++)
        pthread_mutex_destroy(&mc->stripes[i]);
    pthread_mutex_destroy(&mc->intern_lock);
    free(mc->slots);
    free(mc);
}

unsigned mime_cache_capacity(const struct mime_cache *mc)
{
    return mc->nslots;
}

static void key_words(const struct mime_key *k, uint64_t w[6])
{
    w[0] = k->dev;
    w[1] = k->ino;
    w[2] = k->ctime_ns;
    w[3] = k->size;
    w[4] = k->name_hash;
    w[5] = k->gen;
}

const char *mime_cache_get(struct mime_cache *mc, const struct mime_key *k)
{
    uint64_t want[6];
    key_words(k, want);
    struct slot *set = &mc->slots[(key_hash(k) & mc->mask_sets) * WAYS];
    for (unsigned i = 0; i < WAYS; i++) {
        struct slot *s = &set[i];
        uint64_t seq = atomic_load_explicit(&s->seq, memory_order_acquire);
        if (seq & 1)
            continue;
        uint64_t got[NWORDS];
        for (unsigned j = 0; j < NWORDS; j++)
            got[j] = atomic_load_explicit(&s->w[j], memory_order_relaxed);
        atomic_thread_fence(memory_order_acquire);
        if (atomic_load_explicit(&s->seq, memory_order_relaxed) != seq)
            continue;
        if (got[6] == 0 || memcmp(got, want, sizeof(want)) != 0)
            continue;
        /* values[] entries are written before any slot names them */
        return mc->values[got[6] - 1];
    }
    return NULL;
}

static long intern(struct mime_cache *mc, const char *value)
{
    long idx = -1;
    pthread_mutex_lock(&mc->intern_lock);
    for (unsigned i = 0; i < mc->nvalues; i++)
        if (strcmp(mc->values[i], value) == 0) {
            idx = (long)i;
            break;
        }
    if (idx < 0 && mc->nvalues < MAX_VALUES) {
        char *copy = strdup(value);
        if (copy) {
            mc->values[mc->nvalues] = copy;
            idx = (long)mc->nvalues++;
        }
    }
    pthread_mutex_unlock(&mc->intern_lock);
    return idx;
}

const char *mime_cache_put(struct mime_cache *mc, const struct mime_key *k, const char *value)
{
    long idx = intern(mc, value);
    if (idx < 0)
        return NULL;
    uint64_t w[NWORDS];
    key_words(k, w);
    w[6] = (uint64_t)idx + 1;

    unsigned set_no = (unsigned)(key_hash(k) & mc->mask_sets);
    struct slot *set = &mc->slots[set_no * WAYS];
    unsigned stripe = set_no % STRIPES;
    pthread_mutex_lock(&mc->stripes[stripe]);
    struct slot *victim = NULL;
    for (unsigned i = 0; i < WAYS && !victim; i++) {
        uint64_t v = atomic_load_explicit(&set[i].w[6], memory_order_relaxed);
        bool same = v != 0;
        for (unsigned j = 0; j < 6 && same; j++)
            same = atomic_load_explicit(&set[i].w[j], memory_order_relaxed) == w[j];
        if (v == 0 || same)
            victim = &set[i];
    }
    if (!victim)
        victim = &set[mc->next_victim[stripe]++ % WAYS];
    uint64_t seq = atomic_load_explicit(&victim->seq, memory_order_relaxed);
    atomic_store_explicit(&victim->seq, seq + 1, memory_order_relaxed);
    atomic_thread_fence(memory_order_release);
    for (unsigned j = 0; j < NWORDS; j++)
        atomic_store_explicit(&victim->w[j], w[j], memory_order_relaxed);
    atomic_store_explicit(&victim->seq, seq + 2, memory_order_release);
    pthread_mutex_unlock(&mc->stripes[stripe]);
    return mc->values[idx];
}
