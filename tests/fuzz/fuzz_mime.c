/* libFuzzer target for the Content-Type decision (mime_decide.h) on any file
 * name and content, with the content engines' answers (libmagic, uchardet)
 * chosen by the input, so that every answer meets every content. Aborts when
 * a contract of pyserve.conf(5), CONTENT TYPES, does not hold:
 *   - the value is a type/subtype, with at most a charset that browsers
 *     know, and only on a type that takes one;
 *   - a script-capable type (HTML, XML, SVG) comes only from the name (the
 *     extension table or the administrator's type), or from content for a
 *     name without an extension when sniff_extensionless is on;
 *   - an ISO 8859 label is never given to text with bytes 0x80-0x9f, nor
 *     KOI8-R to text with a KOI8-U letter beside a Cyrillic one;
 *   - mime_charset gives the charset that mime_decide adds to a text type.
 *
 * Input: byte 0 flags (bit 0 complete, bit 1 sniff_extensionless, bits 2-3
 * default_charset, bits 4-7 libmagic's answer), byte 1 uchardet's answer,
 * then the file name up to the first '\n', then the content. */
#include "config.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mime_decide.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const magic_answers[16] = {
    NULL,
    "image/png",
    "text/html",
    "text/plain",
    "application/octet-stream",
    "image/svg+xml",
    "text/xml",
    "application/xhtml+xml",
    "application/json",
    "text/x-c",
    "inode/x-empty",
    "image/x-ms-bmp",
    "application/pdf",
    "text/troff",
    "application/atom+xml",
    "image/x-tga",
};

static const char *const chardet_answers[] = {
    NULL,           "",          "ASCII",        "UTF-8",        "ISO-8859-1",
    "ISO-8859-2",   "iso-8859-2", "ISO-8859-7",   "ISO-8859-8",   "ISO-8859-13",
    "KOI8-R",       "koi8-r",    "KOI8-U",       "WINDOWS-1252", "WINDOWS-1250",
    "MAC-CYRILLIC", "UTF-32",    "IBM852",       "VISCII",       "SHIFT_JIS",
    "GB2312",       "EUC-KR",    "ISO-8859-5",   "TIS-620",      "UTF-16LE",
    "X-ISO-10646-UCS-4-3412", "A-NAME-LONGER-THAN-ANY-ENCODING-NAME-THERE-IS",
};
#define NCHARDET (sizeof(chardet_answers) / sizeof(chardet_answers[0]))

static const char *const default_charsets[4] = {"utf-8", NULL, "windows-1252", "iso-8859-1"};

static const struct mime_override overrides[] = {
    {"log", "text/plain"},
    {"dat", "application/x-thing"},
    {"page", "text/html; charset=utf-8"},
    {"feed", "application/atom+xml"},
};
#define NOVERRIDES (sizeof(overrides) / sizeof(overrides[0]))

struct answers {
    const char *magic, *chardet;
};

static const char *fake_magic(void *ctx, const void *buf, size_t len)
{
    (void)buf;
    (void)len;
    return ((struct answers *)ctx)->magic;
}

static const char *fake_chardet(void *ctx, const void *buf, size_t len)
{
    (void)buf;
    (void)len;
    return ((struct answers *)ctx)->chardet;
}

static void violation(const char *what, const char *name, size_t name_len, const char *value)
{
    fprintf(stderr, "fuzz_mime: contract broken: %s; name \"", what);
    for (size_t i = 0; i < name_len && i < 256; i++) {
        unsigned char c = (unsigned char)name[i];
        if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\')
            fputc(c, stderr);
        else
            fprintf(stderr, "\\x%02x", c);
    }
    fprintf(stderr, "\", value \"%s\"\n", value);
    abort();
}

static bool is_tchar(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* A token, '/', a token: the whole of s[0..n). */
static bool is_media_type(const char *s, size_t n)
{
    const char *slash = memchr(s, '/', n);
    if (!slash || slash == s || slash == s + n - 1)
        return false;
    for (size_t i = 0; i < n; i++)
        if (s + i != slash && !is_tchar(s[i]))
            return false;
    return true;
}

static bool known_label(const char *label)
{
    static const char *const extra[] = {"utf-8",        "utf-16le",     "utf-16be",
                                        "windows-1250", "windows-1253", "windows-1255",
                                        "windows-1257", "koi8-u"};
    for (size_t i = 0; i < sizeof(extra) / sizeof(extra[0]); i++)
        if (strcmp(label, extra[i]) == 0)
            return true;
    for (size_t i = 0; i < 4; i++)
        if (default_charsets[i] && strcmp(label, default_charsets[i]) == 0)
            return true;
    for (size_t i = 0; i < NCHARDET; i++) {
        const char *l = chardet_answers[i] ? mime_whatwg_label(chardet_answers[i]) : NULL;
        if (l && strcmp(label, l) == 0)
            return true;
    }
    return false;
}

static bool takes_charset(const char *t, size_t n)
{
    return (n > 5 && memcmp(t, "text/", 5) == 0) ||
           (n == 21 && memcmp(t, "application/xhtml+xml", 21) == 0) ||
           (n == 15 && memcmp(t, "application/xml", 15) == 0);
}

static bool script_capable(const char *t, size_t n)
{
    return (n == 9 && memcmp(t, "text/html", 9) == 0) ||
           (n == 8 && memcmp(t, "text/xml", 8) == 0) ||
           (n >= 4 && memcmp(t + n - 4, "+xml", 4) == 0) ||
           (n == 15 && memcmp(t, "application/xml", 15) == 0);
}

/* The extension of the name's last segment, as the man page defines it: what
 * follows its last '.', when that is not the segment's first byte. */
static const char *extension_of(const char *name, size_t len, size_t *elen)
{
    size_t start = len;
    while (start > 0 && name[start - 1] != '/')
        start--;
    for (size_t i = len; i > start + 1; i--)
        if (name[i - 1] == '.') {
            *elen = len - i;
            return name + i;
        }
    return NULL;
}

static bool has_c1(const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] >= 0x80 && p[i] <= 0x9f)
            return true;
    return false;
}

static bool has_koi8u_letter(const unsigned char *p, size_t n)
{
    static const unsigned char only_u[] = {0xa4, 0xa6, 0xa7, 0xad, 0xae,
                                           0xb4, 0xb6, 0xb7, 0xbd, 0xbe};
    for (size_t i = 0; i < n; i++)
        if (memchr(only_u, p[i], sizeof(only_u)) &&
            ((i > 0 && p[i - 1] >= 0xc0) || (i + 1 < n && p[i + 1] >= 0xc0)))
            return true;
    return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    uint8_t flags = data[0];
    struct answers ans = {magic_answers[flags >> 4], chardet_answers[data[1] % NCHARDET]};
    const uint8_t *rest = data + 2;
    size_t rest_n = size - 2;
    const uint8_t *nl = memchr(rest, '\n', rest_n);
    size_t name_len = nl ? (size_t)(nl - rest) : rest_n;
    /* exact-size heap copies, so that a read past either end is caught */
    char *name = malloc(name_len ? name_len : 1);
    size_t n = nl ? rest_n - name_len - 1 : 0;
    unsigned char *content = malloc(n ? n : 1);
    if (!name || !content)
        abort();
    memcpy(name, rest, name_len);
    if (n)
        memcpy(content, nl + 1, n);

    struct mime_policy pol = {overrides, NOVERRIDES, default_charsets[(flags >> 2) & 3],
                              (flags & 2) != 0};
    struct mime_hooks hooks = {fake_magic, fake_chardet, &ans};
    bool complete = flags & 1;
    char out[512];
    int r = mime_decide(&pol, name, name_len, content, n, complete, &hooks, out, sizeof(out));
    if (r < 0 || (size_t)r != strlen(out))
        violation("length returned", name, name_len, r < 0 ? "(error)" : out);

    const char *semi = strchr(out, ';');
    size_t tlen = semi ? (size_t)(semi - out) : (size_t)r;
    if (!is_media_type(out, tlen))
        violation("not a type/subtype", name, name_len, out);

    size_t elen = 0;
    const char *ext = extension_of(name, name_len, &elen);
    const struct mime_override *ov = NULL;
    for (size_t i = 0; ext && i < NOVERRIDES; i++)
        if (elen == strlen(overrides[i].ext) && strncasecmp(ext, overrides[i].ext, elen) == 0)
            ov = &overrides[i];

    if (semi) {
        if (strncmp(semi, "; charset=", 10) != 0 || !known_label(semi + 10))
            violation("parameter other than a known charset", name, name_len, out);
        if (!takes_charset(out, tlen))
            violation("charset on a type that takes none", name, name_len, out);
        const char *label = semi + 10;
        bool iso = strcmp(label, "iso-8859-2") == 0 || strcmp(label, "iso-8859-7") == 0 ||
                   strcmp(label, "iso-8859-8") == 0 || strcmp(label, "iso-8859-13") == 0;
        if (iso && has_c1(content, n))
            violation("ISO 8859 label on text with C1 bytes", name, name_len, out);
        if (strcmp(label, "koi8-r") == 0 && has_koi8u_letter(content, n))
            violation("KOI8-R label on text with KOI8-U letters", name, name_len, out);
        /* the administrator's full value stands as given; else the charset is mime_charset's */
        if (!(ov && strchr(ov->type, ';'))) {
            const char *cs = mime_charset(&pol, content, n, complete, &hooks);
            if (!cs || strcmp(cs, label) != 0)
                violation("charset differs from mime_charset's", name, name_len, out);
        }
    }

    if (script_capable(out, tlen)) {
        bool textual = false;
        const char *by_ext = ext ? mime_by_extension(ext, elen, &textual) : NULL;
        bool from_name = (by_ext && strlen(by_ext) == tlen && memcmp(by_ext, out, tlen) == 0) ||
                         (ov && strncmp(ov->type, out, tlen) == 0);
        if (!from_name && (ext || !pol.sniff_extensionless))
            violation("script-capable type from content", name, name_len, out);
    }
    free(name);
    free(content);
    return 0;
}
