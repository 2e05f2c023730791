/* Request path resolver: percent-decode once, refuse what could change a
 * path's meaning after decoding, remove dot segments, apply the dotfile
 * policy. Output is relative (no leading '/') for openat2() beneath the
 * document-root fd. */
#include "path.h"

#include <stdbool.h>
#include <string.h>

#include "num.h"
/* The segment out[seg..*o) is complete: drop ".", pop on "..", check the
 * dotfile policy. Returns 0 or -status. */
static int end_segment(char *out, size_t *o, size_t seg, unsigned flags, size_t *depth)
{
    size_t n = *o - seg;

    if (n == 1 && out[seg] == '.') {
        *o = seg; /* "." goes, the '/' before it stays */
        return 0;
    }
    if (n == 2 && out[seg] == '.' && out[seg + 1] == '.') {
        if (*depth == 0)
            return -400; /* above the root */
        /* drop "..", the '/' before it and the segment before that */
        size_t k = seg - 1;
        while (k > 0 && out[k - 1] != '/')
            k--;
        *o = k;
        (*depth)--;
        return 0;
    }
    if (n > 0 && out[seg] == '.' && !(flags & PATH_ALLOW_DOTFILES)) {
        /* RFC 8615 well-known URIs stay reachable, at the top only. */
        if (!(seg == 0 && n == 11 && memcmp(out, ".well-known", 11) == 0))
            return -403;
    }
    if (n > 0)
        (*depth)++;
    return 0;
}

int path_resolve(const char *raw, size_t n, unsigned flags, char *out, size_t outsz,
                 struct path_result *res)
{
    /* out holds the segments so far, joined by '/', without a leading one;
     * seg is where the current segment starts. Every write checks that a
     * byte is left for the NUL. */
    size_t o = 0, seg = 0, depth = 0;
    int r;

    if (n == 0 || raw[0] != '/')
        return -400;
    if (outsz == 0)
        return -414;
    for (size_t i = 1; i <= n; i++) {
        if (i == n || raw[i] == '/') {
            r = end_segment(out, &o, seg, flags, &depth);
            if (r < 0)
                return r;
            if (i == n)
                break;
            if (o > 0 && out[o - 1] != '/') {
                if (o + 1 >= outsz)
                    return -414;
                out[o++] = '/';
            }
            seg = o; /* "//" and removed segments add nothing */
            continue;
        }
        unsigned char c = (unsigned char)raw[i];
        if (c == '%') {
            if (i + 2 >= n)
                return -400; /* truncated escape */
            int h = ps_hex_digit((unsigned char)raw[i + 1]),
                l = ps_hex_digit((unsigned char)raw[i + 2]);
            if (h < 0 || l < 0)
                return -400;
            c = (unsigned char)(h << 4 | l);
            i += 2;
            if (c == '/' || c == '\0')
                return -400; /* encoded slash or NUL: refuse, do not guess */
        } else if (c == '\0') {
            return -400;
        }
        if (c == '\\')
            return -400;
        if (o + 1 >= outsz)
            return -414;
        out[o++] = (char)c;
    }
    out[o] = '\0';
    res->len = o;
    res->trailing_slash = o == 0 || out[o - 1] == '/';
    return 0;
}

static bool is_unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~';
}

size_t path_pct_encode(const char *s, size_t n, bool keep_path, char *out, size_t cap)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (is_unreserved(c) || (keep_path && c != '\0' && strchr("/!$&'()*+,;=:@", c))) {
            if (o + 1 > cap)
                return 0;
            out[o++] = (char)c;
        } else {
            if (o + 3 > cap)
                return 0;
            out[o++] = '%';
            out[o++] = hex[c >> 4];
            out[o++] = hex[c & 15];
        }
    }
    return o;
}

size_t path_encode(const char *rel, size_t n, char *out, size_t cap)
{
    if (cap < 1)
        return 0;
    out[0] = '/';
    size_t m = path_pct_encode(rel, n, true, out + 1, cap - 1);
    return n > 0 && m == 0 ? 0 : m + 1;
}
