/* Content-Type by file extension: the fallback table behind the mime
 * interface. Content sniffing (libmagic, uchardet) plugs in behind
 * mime_content_type() without changing its callers. */
#include "mime.h"

#include <stdlib.h>
#include <string.h>

struct mime_ctx {
    int unused;
};

static const struct {
    const char *ext;
    const char *type;
} table[] = {
    /* sorted by extension for bsearch */
    {"avif", "image/avif"},
    {"bmp", "image/bmp"},
    {"css", "text/css; charset=utf-8"},
    {"csv", "text/csv; charset=utf-8"},
    {"gif", "image/gif"},
    {"gz", "application/gzip"},
    {"htm", "text/html; charset=utf-8"},
    {"html", "text/html; charset=utf-8"},
    {"ico", "image/vnd.microsoft.icon"},
    {"jpeg", "image/jpeg"},
    {"jpg", "image/jpeg"},
    {"js", "text/javascript; charset=utf-8"},
    {"json", "application/json"},
    {"map", "application/json"},
    {"md", "text/markdown; charset=utf-8"},
    {"mjs", "text/javascript; charset=utf-8"},
    {"mp3", "audio/mpeg"},
    {"mp4", "video/mp4"},
    {"ogg", "audio/ogg"},
    {"otf", "font/otf"},
    {"pdf", "application/pdf"},
    {"png", "image/png"},
    {"svg", "image/svg+xml"},
    {"tar", "application/x-tar"},
    {"ttf", "font/ttf"},
    {"txt", "text/plain; charset=utf-8"},
    {"wasm", "application/wasm"},
    {"webm", "video/webm"},
    {"webmanifest", "application/manifest+json"},
    {"webp", "image/webp"},
    {"woff", "font/woff"},
    {"woff2", "font/woff2"},
    {"xhtml", "application/xhtml+xml"},
    {"xml", "application/xml"},
    {"zip", "application/zip"},
};

#define DEFAULT_TYPE "application/octet-stream"

struct mime_ctx *mime_ctx_new(void)
{
    return calloc(1, sizeof(struct mime_ctx));
}

void mime_ctx_free(struct mime_ctx *m)
{
    free(m);
}

const char *mime_by_extension(const char *ext, size_t len)
{
    char low[16];
    if (len == 0 || len >= sizeof(low))
        return NULL;
    for (size_t i = 0; i < len; i++) {
        char c = ext[i];
        low[i] = (c >= 'A' && c <= 'Z') ? (char)(c | 0x20) : c;
    }
    low[len] = '\0';
    size_t lo = 0, hi = sizeof(table) / sizeof(table[0]);
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(low, table[mid].ext);
        if (c == 0)
            return table[mid].type;
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}

const char *mime_content_type(struct mime_ctx *m, int fd, const struct stat *st, const char *name,
                              size_t len)
{
    (void)m;
    (void)fd;
    (void)st;
    const char *dot = NULL;
    for (size_t i = len; i > 0; i--) {
        if (name[i - 1] == '/')
            break;
        if (name[i - 1] == '.') {
            dot = name + i;
            break;
        }
    }
    const char *t = dot ? mime_by_extension(dot, len - (size_t)(dot - name)) : NULL;
    return t ? t : DEFAULT_TYPE;
}
