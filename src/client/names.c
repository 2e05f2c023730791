/* Safe local file names from URL paths and Content-Disposition fields. */
#include "config.h"

#include "names.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "num.h"
#include "url.h"
#define EXT_MAX 16 /* an extension longer than this is not kept when cutting */

/* Unicode format characters (general category Cf, and U+180E): they show
 * nothing, and the bidi controls among them reorder what follows. */
static bool is_format_char(uint32_t cp)
{
    return cp == 0xad || cp == 0x61c || cp == 0x6dd || cp == 0x70f || cp == 0x180e ||
           (cp >= 0x600 && cp <= 0x605) || (cp >= 0x200b && cp <= 0x200f) ||
           (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2060 && cp <= 0x2064) ||
           (cp >= 0x2066 && cp <= 0x206f) || cp == 0xfeff || (cp >= 0xfff9 && cp <= 0xfffb) ||
           cp == 0x110bd || cp == 0xe0001 || (cp >= 0xe0020 && cp <= 0xe007f);
}

size_t utf8_char_len(const unsigned char *s, size_t n, bool *format)
{
    unsigned char c = s[0];
    *format = false;
    if (c >= 0x20 && c < 0x7f)
        return 1;
    size_t len;
    uint32_t cp;
    if (c >= 0xc2 && c <= 0xdf) {
        len = 2;
        cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3;
        cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4;
        cp = c & 0x07;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (s[i] & 0x3f);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
        (cp >= 0xd800 && cp <= 0xdfff) || (cp >= 0x80 && cp <= 0x9f))
        return 0;
    *format = is_format_char(cp);
    return len;
}

/* Appends the sanitised s[0..n) to tmp[o..cap), whole characters only.
 * Returns the new length. */
static size_t sanitize_into(const unsigned char *s, size_t n, char *tmp, size_t o, size_t cap,
                            bool *only_dots)
{
    for (size_t i = 0; i < n && o + 4 < cap;) {
        bool format;
        size_t l = utf8_char_len(s + i, n - i, &format);
        if (l == 0 || format) { /* a byte, or a whole format character */
            tmp[o++] = '_';
            i += l ? l : 1;
            *only_dots = false;
            continue;
        }
        if (!(l == 1 && s[i] == '.'))
            *only_dots = false;
        memcpy(tmp + o, s + i, l);
        o += l;
        i += l;
    }
    return o;
}

size_t fname_sanitize(const char *name, size_t n, char *out, size_t outsz)
{
    const unsigned char *s = (const unsigned char *)name;
    /* the last component */
    for (size_t i = n; i > 0; i--)
        if (s[i - 1] == '/' || s[i - 1] == '\\') {
            s += i;
            n -= i;
            break;
        }
    /* drop surrounding spaces */
    while (n > 0 && (s[0] == ' ' || s[0] == '\t'))
        s++, n--;
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;

    /* An extension is sanitised on its own, after the stem, so that a
     * name too long to take in whole keeps it. */
    size_t ext_at = n;
    const unsigned char *dot = memrchr(s, '.', n);
    if (dot && dot > s && (size_t)(s + n - dot) <= EXT_MAX)
        ext_at = (size_t)(dot - s);
    char tmp[FNAME_BUF * 4];
    bool only_dots = true;
    size_t o = sanitize_into(s, ext_at, tmp, 0, sizeof(tmp) - EXT_MAX * 4, &only_dots);
    o = sanitize_into(s + ext_at, n - ext_at, tmp, o, sizeof(tmp), &only_dots);
    if (o == 0 || only_dots) {
        snprintf(out, outsz, "%s", FNAME_FALLBACK);
        return strlen(out);
    }
    for (size_t i = 0; i < o && tmp[i] == '.'; i++)
        tmp[i] = '_'; /* no hidden files, no ".." */
    if (tmp[0] == '-')
        tmp[0] = '_'; /* not an option to a command it is given to */

    if (o > FNAME_MAX) {
        const char *d = memrchr(tmp, '.', o);
        size_t ext = d && d > tmp && (size_t)(tmp + o - d) <= EXT_MAX ? (size_t)(tmp + o - d) : 0;
        size_t stem = FNAME_MAX - ext;
        while (stem > 0 && ((unsigned char)tmp[stem] & 0xc0) == 0x80)
            stem--; /* do not cut a UTF-8 sequence */
        memmove(tmp + stem, tmp + o - ext, ext);
        o = stem + ext;
    }
    if (o + 1 > outsz)
        o = 0; /* the caller gave less than FNAME_BUF */
    memcpy(out, tmp, o);
    if (outsz)
        out[o] = '\0';
    return o;
}

/* Percent-decode s[0..n) into out (at most cap bytes); a malformed escape
 * stays as it is. Returns the decoded length. */
static size_t pct_decode(const char *s, size_t n, char *out, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; i < n && o < cap; i++) {
        int hi, lo;
        if (s[i] == '%' && i + 2 < n && (hi = ps_hex_digit(s[i + 1])) >= 0 &&
            (lo = ps_hex_digit(s[i + 2])) >= 0) {
            out[o++] = (char)(hi << 4 | lo);
            i += 2;
        } else {
            out[o++] = s[i];
        }
    }
    return o;
}

size_t fname_from_target(const char *target, char *out, size_t outsz)
{
    size_t plen = strcspn(target, "?#");
    size_t start = plen;
    while (start > 0 && target[start - 1] != '/')
        start--;
    char dec[PS_URL_TARGET_MAX]; /* the whole segment: a long name keeps its extension */
    size_t n = pct_decode(target + start, plen - start, dec, sizeof(dec));
    return fname_sanitize(dec, n, out, outsz);
}

static bool is_tchar(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* RFC 8187 ext-value: charset "'" [language] "'" value-chars. Decoded
 * (to UTF-8) into out; false for another charset or a malformed value. */
static bool ext_value(const char *v, size_t n, char *raw, char *out, size_t cap, size_t *olen)
{
    const char *q1 = memchr(v, '\'', n);
    if (!q1)
        return false;
    const char *q2 = memchr(q1 + 1, '\'', (size_t)(v + n - q1 - 1));
    if (!q2)
        return false;
    size_t cs = (size_t)(q1 - v);
    bool utf8 = cs == 5 && strncasecmp(v, "utf-8", 5) == 0;
    bool latin1 = cs == 10 && strncasecmp(v, "iso-8859-1", 10) == 0;
    if (!utf8 && !latin1)
        return false;
    size_t r = pct_decode(q2 + 1, (size_t)(v + n - q2 - 1), raw, n);
    size_t o = 0;
    for (size_t i = 0; i < r && o + 2 <= cap; i++) {
        unsigned char c = (unsigned char)raw[i];
        if (latin1 && c >= 0x80) {
            out[o++] = (char)(0xc0 | c >> 6);
            out[o++] = (char)(0x80 | (c & 0x3f));
        } else {
            out[o++] = (char)c;
        }
    }
    *olen = o;
    return true;
}

bool fname_from_disposition(const char *v, size_t n, char *out, size_t outsz)
{
    /* values taken whole (a long name keeps its extension): each fits in n
     * bytes, and the ISO-8859-1 filename* in 2n once in UTF-8 */
    char *mem = malloc(5 * n + 1);
    if (!mem)
        return false;
    char *plain = mem, *val = mem + n, *raw = mem + 2 * n, *ext = mem + 3 * n;
    size_t plain_len = 0, ext_len = 0;
    bool have_plain = false, have_ext = false;
    size_t i = 0;

    /* disposition-type, then *( ";" disposition-parm ) */
    while (i < n && v[i] != ';')
        i++;
    while (i < n) {
        i++; /* ';' */
        while (i < n && (v[i] == ' ' || v[i] == '\t'))
            i++;
        size_t ns = i;
        while (i < n && is_tchar((unsigned char)v[i]))
            i++;
        size_t nl = i - ns;
        while (i < n && (v[i] == ' ' || v[i] == '\t'))
            i++;
        if (i >= n || v[i] != '=') {
            while (i < n && v[i] != ';')
                i++; /* not a parameter: skip it */
            continue;
        }
        i++;
        while (i < n && (v[i] == ' ' || v[i] == '\t'))
            i++;
        size_t vl = 0;
        if (i < n && v[i] == '"') {
            bool closed = false;
            for (i++; i < n; i++) {
                if (v[i] == '"') {
                    closed = true;
                    i++;
                    break;
                }
                if (v[i] == '\\' && i + 1 < n)
                    i++;
                val[vl++] = v[i];
            }
            if (!closed)
                vl = 0;
        } else {
            while (i < n && v[i] != ';' && v[i] != ' ' && v[i] != '\t')
                val[vl++] = v[i++];
        }
        while (i < n && v[i] != ';')
            i++;
        if (nl == 8 && strncasecmp(v + ns, "filename", 8) == 0 && vl > 0 && !have_plain) {
            memcpy(plain, val, vl);
            plain_len = vl;
            have_plain = true;
        } else if (nl == 9 && strncasecmp(v + ns, "filename*", 9) == 0 && !have_ext) {
            have_ext = ext_value(val, vl, raw, ext, 2 * n + 1, &ext_len) && ext_len > 0;
        }
    }
    if (have_ext)
        fname_sanitize(ext, ext_len, out, outsz);
    else if (have_plain)
        fname_sanitize(plain, plain_len, out, outsz);
    free(mem);
    return have_ext || have_plain;
}

int fname_numbered(const char *base, unsigned k, char *out, size_t outsz)
{
    int r;
    if (k == 0) {
        r = snprintf(out, outsz, "%s", base);
    } else {
        const char *dot = strrchr(base, '.');
        if (!dot || dot == base)
            dot = base + strlen(base);
        r = snprintf(out, outsz, "%.*s(%u)%s", (int)(dot - base), base, k, dot);
    }
    return r < 0 || (size_t)r >= outsz ? -1 : 0;
}
