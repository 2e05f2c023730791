/* The Content-Type decision, pure: a file's name and first bytes in, the
 * header value out. The content engines (libmagic, uchardet) are reached
 * through hooks so that tests can count and fake them. */
#ifndef PS_MIME_DECIDE_H
#define PS_MIME_DECIDE_H

#include <stdbool.h>
#include <stddef.h>

struct mime_override {
    const char *ext;  /* lowercase, without the dot */
    const char *type; /* the whole field value or a type to which a charset is added */
};

struct mime_policy {
    const struct mime_override *overrides;
    unsigned noverrides;
    const char *default_charset; /* for pure ASCII text; NULL: no parameter */
    bool sniff_extensionless;    /* let content say text/html etc. for names without '.' */
};

struct mime_hooks {
    /* libmagic's MIME type of buf ("image/png"), or NULL. */
    const char *(*magic)(void *ctx, const void *buf, size_t len);
    /* uchardet's encoding name of buf ("WINDOWS-1252"), or NULL/"". */
    const char *(*chardet)(void *ctx, const void *buf, size_t len);
    void *ctx;
};

/* Decide the Content-Type of a file called name (its last path segment is
 * used) whose first n bytes are prefix (complete: that is the whole file).
 * Writes the field value into out. Returns its length or -ENOSPC. The order
 * is documented in pyserve.conf(5): override, specific binary format from
 * libmagic, binary bytes, extension table for text, libmagic's textual
 * answer (never a script-capable type against the extension), else
 * application/octet-stream; then a charset for textual types. */
int mime_decide(const struct mime_policy *p, const char *name, size_t name_len,
                const unsigned char *prefix, size_t n, bool complete, const struct mime_hooks *h,
                char *out, size_t outsz);

/* The charset label for text (BOM, UTF-8 check, ASCII default, then
 * chardet mapped onto WHATWG labels), or NULL for no parameter. */
const char *mime_charset(const struct mime_policy *p, const unsigned char *prefix, size_t n,
                         bool complete, const struct mime_hooks *h);

/* A WHATWG Encoding Standard label for an encoding name as uchardet
 * spells it, or NULL when browsers would not decode it right. */
const char *mime_whatwg_label(const char *name);

/* The type of an extension (lowercase or not, no dot) from the built-in
 * table, or NULL. *textual tells whether it is a text type. */
const char *mime_by_extension(const char *ext, size_t len, bool *textual);

#endif
