/* Request path resolver: turns the raw path of a request target into a
 * relative path that is safe to open beneath the document root. Pure: no
 * I/O, no allocation. The file system side (symlinks) is static.c's job,
 * with openat2(RESOLVE_BENEATH). */
#ifndef PS_PATH_H
#define PS_PATH_H

#include <stdbool.h>
#include <stddef.h>

enum path_flags {
    PATH_ALLOW_DOTFILES = 1u << 0, /* else a segment starting with '.' is
                                      refused, except a first segment
                                      ".well-known" */
};

struct path_result {
    size_t len;          /* strlen(out) */
    bool trailing_slash; /* the request path ended in '/' (after decoding
                            and dot-segment removal) */
};

/* Decode raw[0..n) (percent-decoded exactly once), remove dot segments
 * (RFC 3986 section 5.2.4) and write the result without a leading '/' into
 * out (NUL-terminated; "" is the root itself; repeated slashes collapse).
 * Returns 0 or minus an HTTP status:
 *   -400  not starting with '/', bad %-escape, %00 or a decoded NUL,
 *         an encoded slash (%2F), a backslash (raw or %5C), ".." above the
 *         root;
 *   -403  a dotfile segment refused by policy;
 *   -414  the path does not fit in outsz bytes at some point of its
 *         normalisation (segments later removed by ".." count too; the
 *         output is never longer than raw, so outsz > n always suffices). */
int path_resolve(const char *raw, size_t n, unsigned flags, char *out, size_t outsz,
                 struct path_result *res);

/* Percent-encode s[0..n) into out: every byte is %XX but RFC 3986
 * unreserved characters and, with keep_path, the other pchar characters
 * (sub-delims, ':', '@') and '/'; '%' itself always is. Returns the
 * length, or 0 when it does not fit in cap bytes (no NUL is written). */
size_t path_pct_encode(const char *s, size_t n, bool keep_path, char *out, size_t cap);

/* The absolute path "/" + rel[0..n), rel being path_resolve()'s output,
 * percent-encoded for a Location field (path_pct_encode with keep_path). The
 * result starts with exactly one '/', as rel never starts with one.
 * Returns its length, or 0 when it does not fit in cap bytes. */
size_t path_encode(const char *rel, size_t n, char *out, size_t cap);

#endif
