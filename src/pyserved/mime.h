/* Content-Type of a file being served: the per-worker context around the
 * pure decision (mime_decide.h) and the shared cache (mime_cache.h). It owns
 * this worker's libmagic cookie and uchardet handle, which are not
 * thread-safe, and a buffer for the prefix it reads. */
#ifndef PS_MIME_H
#define PS_MIME_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>

struct conf;
struct mime_cache;
struct mime_ctx;

/* How much of a file the content engines look at. */
#define MIME_PREFIX_SIZE (64 * 1024)

/* Open libmagic and uchardet for one worker. NULL with a reason in err. */
struct mime_ctx *mime_ctx_new(struct mime_cache *cache, char *err, size_t errsz);
void mime_ctx_free(struct mime_ctx *m);

/* The Content-Type field value for the open regular file fd (st is its
 * fstat; name is the path or file name it was asked for). From the cache
 * when (dev, inode, ctime, size, extension, config generation) is known;
 * otherwise reads a prefix and decides, and *detected is set. The string
 * lives as long as the cache (or until the next call when the cache is
 * full). */
const char *mime_content_type(struct mime_ctx *m, const struct conf *c, int fd,
                              const struct stat *st, const char *name, size_t len,
                              bool *detected);

/* Calls made into libmagic and uchardet by this context (tests, bench). */
void mime_ctx_counters(const struct mime_ctx *m, unsigned long *magic_calls,
                       unsigned long *chardet_calls);

#endif
