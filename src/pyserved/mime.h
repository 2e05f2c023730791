/* Content-Type decision for a file being served. One context per worker
 * thread (the content engines behind it are not thread-safe). */
#ifndef PS_MIME_H
#define PS_MIME_H

#include <stddef.h>
#include <sys/stat.h>

struct mime_ctx;

struct mime_ctx *mime_ctx_new(void);
void mime_ctx_free(struct mime_ctx *m);

/* The full Content-Type field value for the open regular file fd (its
 * stat in st, its name — the last path segment or whole relative path — in
 * name[0..len)). The string stays valid until the next call on m. */
const char *mime_content_type(struct mime_ctx *m, int fd, const struct stat *st, const char *name,
                              size_t len);

/* The type for an extension alone ("css", without the dot), or NULL. */
const char *mime_by_extension(const char *ext, size_t len);

#endif
