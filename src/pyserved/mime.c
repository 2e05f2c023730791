/* Per-worker content-type engine: the cache first; on a miss, pread a
 * bounded prefix (magic_descriptor would allocate its 7 MiB buffer per
 * call), run the decision with libmagic and uchardet as hooks, remember it.
 * Detection happens in the worker that owns the request: it is file I/O and
 * CPU work of the same kind as open/fstat, and the cache makes it once per
 * file version instead of once per request. */
#include "mime.h"

#include <errno.h>
#include <magic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uchardet/uchardet.h>
#include <unistd.h>

#include "conf.h"
#include "mime_cache.h"
#include "mime_decide.h"

struct mime_ctx {
    magic_t magic;
    uchardet_t ud;
    struct mime_cache *cache;
    unsigned char *prefix;
    unsigned long magic_calls, chardet_calls;
    char out[256];
};

static const char *hook_magic(void *ctx, const void *buf, size_t len)
{
    struct mime_ctx *m = ctx;
    m->magic_calls++;
    return magic_buffer(m->magic, buf, len);
}

static const char *hook_chardet(void *ctx, const void *buf, size_t len)
{
    struct mime_ctx *m = ctx;
    m->chardet_calls++;
    uchardet_reset(m->ud);
    if (uchardet_handle_data(m->ud, buf, len) != 0)
        return NULL;
    uchardet_data_end(m->ud);
    return uchardet_get_charset(m->ud);
}

struct mime_ctx *mime_ctx_new(struct mime_cache *cache, char *err, size_t errsz)
{
    struct mime_ctx *m = calloc(1, sizeof(*m));
    if (!m) {
        snprintf(err, errsz, "out of memory");
        return NULL;
    }
    m->cache = cache;
    m->prefix = malloc(MIME_PREFIX_SIZE);
    /* MIME type only: the charset is ours to decide. No MAGIC_COMPRESS:
     * never look inside compressed data. */
    m->magic = magic_open(MAGIC_MIME_TYPE | MAGIC_ERROR | MAGIC_NO_CHECK_COMPRESS);
    if (!m->prefix || !m->magic) {
        snprintf(err, errsz, "libmagic: %s", strerror(errno));
        mime_ctx_free(m);
        return NULL;
    }
    if (magic_load(m->magic, NULL) != 0) {
        snprintf(err, errsz, "libmagic: cannot load its database: %s", magic_error(m->magic));
        mime_ctx_free(m);
        return NULL;
    }
    m->ud = uchardet_new();
    if (!m->ud) {
        snprintf(err, errsz, "uchardet: out of memory");
        mime_ctx_free(m);
        return NULL;
    }
    return m;
}

void mime_ctx_free(struct mime_ctx *m)
{
    if (!m)
        return;
    if (m->magic)
        magic_close(m->magic);
    if (m->ud)
        uchardet_delete(m->ud);
    free(m->prefix);
    free(m);
}

void mime_ctx_counters(const struct mime_ctx *m, unsigned long *magic_calls,
                       unsigned long *chardet_calls)
{
    *magic_calls = m->magic_calls;
    *chardet_calls = m->chardet_calls;
}

/* FNV-1a of the lowercased extension of the last segment (0: none). */
static uint64_t ext_hash(const char *name, size_t len)
{
    size_t i = len;
    while (i > 0 && name[i - 1] != '/' && name[i - 1] != '.')
        i--;
    if (i == 0 || name[i - 1] != '.')
        return 0;
    uint64_t h = 1469598103934665603ull;
    for (; i < len; i++) {
        unsigned char c = (unsigned char)name[i];
        if (c >= 'A' && c <= 'Z')
            c |= 0x20;
        h = (h ^ c) * 1099511628211ull;
    }
    return h | 1;
}

const char *mime_content_type(struct mime_ctx *m, const struct conf *c, int fd,
                              const struct stat *st, const char *name, size_t len,
                              bool *detected)
{
    struct mime_key k = {
        .dev = (uint64_t)st->st_dev,
        .ino = (uint64_t)st->st_ino,
        /* the change time: it moves with every write, even one whose old
         * mtime is put back (cp -p), and cannot be set back */
        .ctime_ns = (uint64_t)st->st_ctim.tv_sec * 1000000000ull + (uint64_t)st->st_ctim.tv_nsec,
        .size = (uint64_t)st->st_size,
        .name_hash = ext_hash(name, len),
        .gen = c->generation,
    };
    *detected = false;
    const char *hit = m->cache ? mime_cache_get(m->cache, &k) : NULL;
    if (hit)
        return hit;

    size_t want = st->st_size < MIME_PREFIX_SIZE ? (size_t)st->st_size : MIME_PREFIX_SIZE;
    size_t got = 0;
    while (got < want) {
        ssize_t r = pread(fd, m->prefix + got, want - got, (off_t)got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break; /* decide on what we have */
        got += (size_t)r;
    }
    struct mime_policy pol = {
        .overrides = c->types,
        .noverrides = c->ntypes,
        .default_charset = c->default_charset,
        .sniff_extensionless = c->sniff_extensionless,
    };
    struct mime_hooks hooks = {hook_magic, hook_chardet, m};
    if (mime_decide(&pol, name, len, m->prefix, got, got == (size_t)st->st_size, &hooks, m->out,
                    sizeof(m->out)) < 0)
        snprintf(m->out, sizeof(m->out), "application/octet-stream");
    *detected = true;
    const char *v = m->cache ? mime_cache_put(m->cache, &k, m->out) : NULL;
    return v ? v : m->out;
}
