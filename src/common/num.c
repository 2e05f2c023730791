/* Checked number parsing: decimal only, explicit bounds, no locale. */
#include "num.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

int ps_parse_u64n(const char *s, size_t n, uint64_t max, uint64_t *out)
{
    uint64_t v = 0;
    bool overflow = false;

    if (n == 0)
        return -EINVAL;
    for (size_t i = 0; i < n; i++) {
        unsigned d = (unsigned char)s[i] - '0';
        if (d > 9)
            return -EINVAL; /* even after an overflow: "999...9x" is not a number */
        if (v > (UINT64_MAX - d) / 10)
            overflow = true;
        else
            v = v * 10 + d;
    }
    if (overflow || v > max)
        return -ERANGE;
    *out = v;
    return 0;
}

int ps_parse_u64(const char *s, uint64_t max, uint64_t *out)
{
    return ps_parse_u64n(s, strlen(s), max, out);
}

/* Digits followed by a unit; returns the digit count, the unit in *unit. */
static size_t split_unit(const char *s, const char **unit)
{
    size_t n = 0;
    while (s[n] >= '0' && s[n] <= '9')
        n++;
    *unit = s + n;
    return n;
}

static char lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

int ps_parse_size(const char *s, uint64_t max, uint64_t *out)
{
    const char *unit;
    size_t n = split_unit(s, &unit);
    uint64_t v, mul = 1;
    int r;

    if (unit[0] != '\0') {
        if (unit[1] != '\0')
            return -EINVAL;
        switch (lower(unit[0])) {
        case 'k': mul = 1024ull; break;
        case 'm': mul = 1024ull * 1024; break;
        case 'g': mul = 1024ull * 1024 * 1024; break;
        default: return -EINVAL;
        }
    }
    r = ps_parse_u64n(s, n, UINT64_MAX, &v);
    if (r < 0)
        return r;
    if (v > UINT64_MAX / mul || v * mul > max)
        return -ERANGE;
    *out = v * mul;
    return 0;
}

int ps_parse_duration_ms(const char *s, uint64_t max_ms, uint64_t *out)
{
    const char *unit;
    size_t n = split_unit(s, &unit);
    const char *frac = unit; /* the digits after a '.', if any */
    size_t nfrac = 0;
    uint64_t v, f = 0, mul;
    int r;

    if (unit[0] == '.') {
        frac = unit + 1;
        nfrac = split_unit(frac, &unit);
        if (nfrac == 0 || nfrac > 9)
            return -EINVAL; /* "1." and ".5" are not numbers; 1 ns is the end */
    }
    if (unit[0] == '\0' || strcmp(unit, "s") == 0)
        mul = 1000;
    else if (strcmp(unit, "ms") == 0)
        mul = 1;
    else if (strcmp(unit, "m") == 0)
        mul = 60 * 1000;
    else if (strcmp(unit, "h") == 0)
        mul = 3600 * 1000;
    else
        return -EINVAL;
    r = ps_parse_u64n(s, n, UINT64_MAX, &v);
    if (r < 0)
        return r;
    if (nfrac > 0) {
        uint64_t scale = 1;
        for (size_t i = 0; i < nfrac; i++)
            scale *= 10;
        ps_parse_u64n(frac, nfrac, UINT64_MAX, &f); /* digits, below 10^9 */
        /* f / scale of a unit in ms, rounded up: a timeout never ends
         * early. f * mul < 10^9 * 3.6e6 fits. */
        f = (f * mul + scale - 1) / scale;
    }
    if (v > (UINT64_MAX - f) / mul || v * mul + f > max_ms)
        return -ERANGE;
    *out = v * mul + f;
    return 0;
}

int ps_parse_content_length(const char *v, size_t n, uint64_t *out)
{
    size_t i = 0;
    bool differ = false;
    /* each element: OWS digits OWS, then ',' or the end */
    for (unsigned k = 0; i <= n; k++) {
        while (i < n && (v[i] == ' ' || v[i] == '\t'))
            i++;
        size_t s = i;
        while (i < n && v[i] >= '0' && v[i] <= '9')
            i++;
        uint64_t x;
        if (ps_parse_u64n(v + s, i - s, (uint64_t)1 << 62, &x) < 0)
            return -EINVAL;
        differ |= k > 0 && x != *out;
        *out = x;
        while (i < n && (v[i] == ' ' || v[i] == '\t'))
            i++;
        if (i == n)
            return differ ? -EDOM : 0;
        if (v[i++] != ',')
            return -EINVAL;
    }
    return -EINVAL;
}
