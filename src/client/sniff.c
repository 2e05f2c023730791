/* Text or binary: the Content-Type first, the first bytes second. */
#include "config.h"

#include "sniff.h"

#include <string.h>
#include <strings.h>

static bool eq_ci(const char *a, size_t n, const char *b)
{
    return strlen(b) == n && strncasecmp(a, b, n) == 0;
}

static bool ends_ci(const char *a, size_t n, const char *suffix)
{
    size_t k = strlen(suffix);
    return n >= k && strncasecmp(a + n - k, suffix, k) == 0;
}

bool sniff_type_is_text(const char *ctype, size_t n, bool *known)
{
    static const char *const app_text[] = {
        "json",
        "xml",
        "javascript",
        "ecmascript",
        "x-javascript",
        "x-sh",
        "x-shellscript",
        "yaml",
        "x-yaml",
        "toml",
        "sql",
        "graphql",
        "x-www-form-urlencoded",
        "x-ndjson",
    };
    /* the media type, without parameters and surrounding spaces */
    size_t len = 0;
    if (ctype) {
        while (n > 0 && (*ctype == ' ' || *ctype == '\t'))
            ctype++, n--;
        while (len < n && ctype[len] != ';')
            len++;
        while (len > 0 && (ctype[len - 1] == ' ' || ctype[len - 1] == '\t'))
            len--;
    }
    *known = len > 0;
    if (!*known)
        return false;
    const char *slash = memchr(ctype, '/', len);
    if (!slash || slash == ctype || slash == ctype + len - 1)
        return false; /* not a type/subtype: treat as binary */
    size_t tl = (size_t)(slash - ctype);
    const char *sub = slash + 1;
    size_t sl = len - tl - 1;
    if (eq_ci(ctype, tl, "text"))
        return true;
    if (eq_ci(ctype, tl, "image") || eq_ci(ctype, tl, "audio") || eq_ci(ctype, tl, "video") ||
        eq_ci(ctype, tl, "font"))
        return false;
    if (ends_ci(sub, sl, "+json") || ends_ci(sub, sl, "+xml"))
        return true;
    if (eq_ci(ctype, tl, "application"))
        for (size_t i = 0; i < sizeof(app_text) / sizeof(app_text[0]); i++)
            if (eq_ci(sub, sl, app_text[i]))
                return true;
    return false;
}

bool sniff_bytes_binary(const unsigned char *body, size_t n, bool typed)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = body[i];
        if (c == 0)
            return true;
        /* Without a type, other C0 controls than \t \n \v \f \r and ESC
         * (colour codes in logs) say binary too. */
        if (!typed && c < 0x20 && !(c >= '\t' && c <= '\r') && c != 0x1b)
            return true;
    }
    return false;
}

enum body_kind sniff_body(const char *ctype, size_t ctlen, const unsigned char *body, size_t n)
{
    bool known;
    bool text = sniff_type_is_text(ctype, ctlen, &known);
    if (known && !text)
        return BODY_BINARY;
    return sniff_bytes_binary(body, n < SNIFF_BYTES ? n : SNIFF_BYTES, known) ? BODY_BINARY
                                                                              : BODY_TEXT;
}
