/* Conditional requests, ranges and Accept-Encoding. */
#include "http_cond.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "httpdate.h"
#include "num.h"

size_t http_etag(const struct stat *st, char out[HTTP_ETAG_MAX])
{
    /* the change time, not the modification time: a write whose old mtime
     * is put back (cp -p, rsync -t) still moves it, as a strong tag must */
    unsigned long long ns = (unsigned long long)st->st_ctim.tv_sec * 1000000000ull +
                            (unsigned long long)st->st_ctim.tv_nsec;
    int n = snprintf(out, HTTP_ETAG_MAX, "\"%llx-%llx-%llx\"", (unsigned long long)st->st_ino,
                     (unsigned long long)st->st_size, ns);
    return n > 0 && n < HTTP_ETAG_MAX ? (size_t)n : 0;
}

static bool ows(char c)
{
    return c == ' ' || c == '\t';
}

/* Walk an entity-tag list ("*" or 1#entity-tag, section 8.8.3). Returns
 * true when it is "*" or has a tag equal to etag under weak (weak = true:
 * W/ prefixes ignored on both sides) or strong comparison (a W/ tag never
 * matches). A malformed list matches nothing. */
static bool etag_list_match(struct ps_slice v, const char *etag, size_t etag_len, bool weak)
{
    size_t i = 0;
    while (i < v.n && ows(v.p[i]))
        i++;
    if (i < v.n && v.p[i] == '*') {
        size_t j = i + 1;
        while (j < v.n && ows(v.p[j]))
            j++;
        return j == v.n;
    }
    while (i < v.n) {
        while (i < v.n && (ows(v.p[i]) || v.p[i] == ','))
            i++;
        if (i == v.n)
            break;
        bool is_weak = false;
        if (i + 1 < v.n && v.p[i] == 'W' && v.p[i + 1] == '/') {
            is_weak = true;
            i += 2;
        }
        if (i == v.n || v.p[i] != '"')
            return false;
        size_t s = i++;
        while (i < v.n && v.p[i] != '"')
            i++;
        if (i == v.n)
            return false;
        i++;
        size_t len = i - s;
        if ((weak || !is_weak) && len == etag_len && memcmp(v.p + s, etag, len) == 0)
            return true;
    }
    return false;
}

/* A list field (If-Match, If-None-Match) in one line is its slice; in
 * several, every line named name in the head (RFC 9110 section 5.3: the
 * lines make one list, so a tag in any of them counts). */
static bool list_match(const struct http_request *r, struct ps_slice first, unsigned bit,
                       const char *name, const char *etag, size_t etag_len, bool weak)
{
    if (!(r->repeated & bit))
        return etag_list_match(first, etag, etag_len, weak);
    const char *p = r->fields.p, *end = p + r->fields.n;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        const char *colon = memchr(p, ':', (size_t)(le - p));
        if (colon && ps_slice_eq_lower((struct ps_slice){p, (size_t)(colon - p)}, name)) {
            const char *v = colon + 1, *ve = le;
            while (v < ve && ows(*v))
                v++;
            if (ve > v && ve[-1] == '\r')
                ve--;
            while (ve > v && ows(ve[-1]))
                ve--;
            if (etag_list_match((struct ps_slice){v, (size_t)(ve - v)}, etag, etag_len, weak))
                return true;
        }
        p = le + 1;
    }
    return false;
}

static bool parse_date(struct ps_slice v, time_t *t)
{
    return v.n > 0 && ps_http_date_parse(v.p, v.n, t) == 0;
}

/* A date field: one valid HTTP-date; several lines of it are invalid and
 * ignored (RFC 9110 sections 13.1.3 and 13.1.4). */
static bool parse_date_once(const struct http_request *r, struct ps_slice v, unsigned bit,
                            time_t *t)
{
    return !(r->repeated & bit) && parse_date(v, t);
}

int http_conditional(const struct http_request *r, const char *etag, size_t etag_len,
                     time_t last_modified)
{
    time_t t;

    /* 1. If-Match (strong), else 2. If-Unmodified-Since */
    if (r->if_match.n || (r->repeated & HTTP_REP_IF_MATCH)) {
        if (!list_match(r, r->if_match, HTTP_REP_IF_MATCH, "if-match", etag, etag_len, false))
            return 412;
    } else if (parse_date_once(r, r->if_unmodified_since, HTTP_REP_IF_UNMODIFIED_SINCE, &t)) {
        if (last_modified > t)
            return 412;
    }
    /* 3. If-None-Match (weak), else 4. If-Modified-Since (GET/HEAD only,
     * and an invalid date is ignored) */
    if (r->if_none_match.n || (r->repeated & HTTP_REP_IF_NONE_MATCH)) {
        if (list_match(r, r->if_none_match, HTTP_REP_IF_NONE_MATCH, "if-none-match", etag,
                       etag_len, true))
            return 304; /* GET and HEAD are the only methods that get here */
    } else if (parse_date_once(r, r->if_modified_since, HTTP_REP_IF_MODIFIED_SINCE, &t)) {
        if (last_modified <= t)
            return 304;
    }
    return 200;
}

bool http_if_range(struct ps_slice v, const char *etag, size_t etag_len, time_t last_modified,
                   bool date_strong)
{
    time_t t;
    if (v.n == 0)
        return true;
    if (v.p[0] == '"' || (v.n > 1 && v.p[0] == 'W' && v.p[1] == '/')) {
        /* a weak tag never matches here (section 13.1.5) */
        return v.p[0] == '"' && v.n == etag_len && memcmp(v.p, etag, etag_len) == 0;
    }
    /* a date that is not a strong validator makes the condition false
     * (section 13.1.5): the whole representation is sent */
    return date_strong && parse_date(v, &t) && t == last_modified;
}

static int cmp_range(const void *a, const void *b)
{
    const struct byte_range *x = a, *y = b;
    return x->first < y->first ? -1 : x->first > y->first;
}

static bool touches(const struct byte_range *x, const struct byte_range *y)
{
    return x->first <= (y->last == UINT64_MAX ? y->last : y->last + 1) &&
           y->first <= (x->last == UINT64_MAX ? x->last : x->last + 1);
}

/* Sort by offset and merge what overlaps or touches. */
static unsigned coalesce(struct byte_range *r, unsigned n)
{
    qsort(r, n, sizeof(r[0]), cmp_range);
    unsigned m = 0;
    for (unsigned x = 1; x < n; x++) {
        if (touches(&r[m], &r[x])) {
            if (r[x].last > r[m].last)
                r[m].last = r[x].last;
        } else {
            r[++m] = r[x];
        }
    }
    return n ? m + 1 : 0;
}

/* A decimal position; values beyond 64 bits are valid syntax and mean "more
 * than any length" (RFC 9110 14.1.1), so they saturate. */
static int position(const char *p, size_t n, uint64_t *v)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] < '0' || p[i] > '9')
            return -EINVAL; /* checked first: the overflow below stops early */
    int r = ps_parse_u64n(p, n, UINT64_MAX, v);
    if (r == -ERANGE) {
        *v = UINT64_MAX;
        return 0;
    }
    return r;
}

#define RANGE_SPECS_MAX 1024 /* range-specs read at all; more: whole file */

enum range_result http_range_parse(struct ps_slice v, uint64_t size, struct byte_range *out,
                                   unsigned max, unsigned *n)
{
    size_t i;
    unsigned count = 0, specs = 0;
    bool any = false, merged = false;

    *n = 0;
    /* range-unit is case-insensitive (section 14.1) */
    if (v.n < 6 || !ps_slice_eq_lower((struct ps_slice){v.p, 5}, "bytes") || v.p[5] != '=')
        return RANGE_NONE; /* absent, or a unit we do not know: ignore */
    i = 6;
    for (;;) {
        while (i < v.n && ows(v.p[i]))
            i++;
        if (i == v.n)
            break;
        if (v.p[i] == ',') {
            i++;
            continue;
        }
        size_t s = i;
        while (i < v.n && v.p[i] != ',')
            i++;
        size_t e = i;
        while (e > s && ows(v.p[e - 1]))
            e--;
        const char *p = v.p + s;
        size_t len = e - s;
        const char *dash = memchr(p, '-', len);
        if (!dash)
            return RANGE_NONE;
        if (++specs > RANGE_SPECS_MAX)
            return RANGE_NONE;
        size_t a_len = (size_t)(dash - p), b_len = len - a_len - 1;
        uint64_t a, b;
        struct byte_range br;
        if (a_len == 0) {
            /* suffix-range: the last b bytes */
            if (position(dash + 1, b_len, &b) < 0)
                return RANGE_NONE;
            any = true;
            if (b == 0)
                continue; /* unsatisfiable */
            if (size == 0)
                return RANGE_NONE; /* satisfiable, but nothing to cut: 200, empty */
            br.first = b >= size ? 0 : size - b;
            br.last = size - 1;
        } else {
            if (position(p, a_len, &a) < 0)
                return RANGE_NONE;
            if (b_len == 0) {
                b = UINT64_MAX;
            } else if (position(dash + 1, b_len, &b) < 0 || b < a) {
                return RANGE_NONE; /* last < first: the whole field is invalid */
            }
            any = true;
            if (a >= size)
                continue; /* unsatisfiable */
            br.first = a;
            br.last = b >= size ? size - 1 : b;
        }
        /* Keep the requested order until two ranges overlap or touch; from
         * then on keep the set sorted and merged (section 14.2 allows it).
         * The bound applies to what is left after merging. */
        bool hit = false;
        for (unsigned k = 0; k < count && !hit; k++)
            hit = touches(&out[k], &br);
        if (hit) {
            merged = true;
            for (unsigned k = 0; k < count; k++)
                if (touches(&out[k], &br)) {
                    if (br.first < out[k].first)
                        out[k].first = br.first;
                    if (br.last > out[k].last)
                        out[k].last = br.last;
                    break;
                }
            count = coalesce(out, count);
            continue;
        }
        if (count == max)
            return RANGE_NONE; /* too many parts: serve the whole thing once */
        out[count++] = br;
        if (merged)
            count = coalesce(out, count);
    }
    if (!any)
        return RANGE_NONE;
    if (count == 0)
        return RANGE_UNSATISFIABLE;
    *n = count;
    return RANGE_OK;
}

unsigned http_coding_q(struct ps_slice v, enum coding c)
{
    const char *name = c == CODING_BR ? "br" : c == CODING_GZIP ? "gzip" : "identity";
    int q_named = -1, q_star = -1;
    size_t i = 0;
    while (i < v.n) {
        while (i < v.n && (ows(v.p[i]) || v.p[i] == ','))
            i++;
        size_t s = i;
        while (i < v.n && v.p[i] != ',' && v.p[i] != ';' && !ows(v.p[i]))
            i++;
        struct ps_slice tok = {v.p + s, i - s};
        int q = 1000;
        while (i < v.n && v.p[i] != ',') {
            /* parameters: only q matters (weight = OWS ";" OWS "q=" qvalue) */
            while (i < v.n && (ows(v.p[i]) || v.p[i] == ';'))
                i++;
            if (i + 1 < v.n && (v.p[i] == 'q' || v.p[i] == 'Q') && v.p[i + 1] == '=') {
                i += 2;
                size_t qs = i;
                while (i < v.n && v.p[i] != ',' && v.p[i] != ';' && !ows(v.p[i]))
                    i++;
                /* qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] ) */
                q = -1;
                if (i > qs && (v.p[qs] == '0' || v.p[qs] == '1')) {
                    int val = (v.p[qs] - '0') * 1000, scale = 100;
                    size_t k = qs + 1;
                    bool ok = true;
                    if (k < i) {
                        ok = v.p[k] == '.' && i - k <= 4;
                        for (k++; ok && k < i; k++, scale /= 10) {
                            ok = v.p[k] >= '0' && v.p[k] <= '9';
                            val += (v.p[k] - '0') * scale;
                        }
                    }
                    if (ok && val <= 1000)
                        q = val;
                }
            } else {
                while (i < v.n && v.p[i] != ',' && v.p[i] != ';')
                    i++;
            }
        }
        if (tok.n == 0 || q < 0)
            continue;
        if (ps_slice_eq_lower(tok, name) || (c == CODING_GZIP && ps_slice_eq_lower(tok, "x-gzip")))
            q_named = q;
        else if (tok.n == 1 && tok.p[0] == '*')
            q_star = q;
    }
    if (q_named >= 0)
        return (unsigned)q_named;
    if (q_star >= 0)
        return (unsigned)q_star;
    /* identity is acceptable unless excluded (RFC 9110 12.5.3) */
    return c == CODING_IDENTITY ? 1000 : 0;
}
