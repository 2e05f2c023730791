/* libFuzzer target for the Range, conditional-request and Accept-Encoding
 * logic (http_cond.h): compares each function with a small reference model
 * of RFC 9110 where the input is well-formed, checks the contracts'
 * invariants everywhere, and aborts on a violation.
 *
 * Input: fields separated by '\n' (a byte no parsed field value holds):
 *   0 Range   1 If-Match   2 If-None-Match   3 If-Modified-Since
 *   4 If-Unmodified-Since   5 If-Range   6 Accept-Encoding
 *   7 representation size (decimal; optional)   8 max ranges (optional)
 * A missing field is an absent header. Every field is copied to a heap
 * buffer of its exact size, so a read past its end is caught. */
#include "config.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "http_cond.h"
#include "http_parse.h"
#include "httpdate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NFIELDS   9
#define SPECS_MAX 1024 /* http_range_parse reads at most this many range-specs */

enum {
    F_RANGE,
    F_IF_MATCH,
    F_IF_NONE_MATCH,
    F_IMS,
    F_IUS,
    F_IF_RANGE,
    F_ACCEPT_ENCODING,
    F_SIZE,
    F_MAX,
};

static const char ETAG[] = "\"5f3a-1b39-17d3c5a2e01b4f00\"";
#define ETAG_LEN (sizeof(ETAG) - 1)
static const time_t LAST_MODIFIED = 784111777; /* Sun, 06 Nov 1994 08:49:37 GMT */

static void violation(const char *what, const char *field, struct ps_slice v, unsigned long a,
                      unsigned long b)
{
    fprintf(stderr, "fuzz_http_cond: invariant violated: %s (%lu, %lu); %s = \"", what, a, b,
            field);
    for (size_t i = 0; i < v.n && i < 512; i++) {
        unsigned char c = (unsigned char)v.p[i];
        if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\')
            fputc(c, stderr);
        else
            fprintf(stderr, "\\x%02x", c);
    }
    fputs("\"\n", stderr);
    abort();
}

static bool is_ows(char c)
{
    return c == ' ' || c == '\t';
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* tchar (RFC 9110 section 5.6.2) */
static bool is_tchar(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* --- Range: the model --------------------------------------------------------------- */

/* Decimal digits, saturating past 64 bits (RFC 9110 14.1.1: "more than any length"). */
static bool model_number(const char *p, size_t n, uint64_t *v)
{
    if (n == 0)
        return false;
    uint64_t x = 0;
    for (size_t i = 0; i < n; i++) {
        if (!is_digit(p[i]))
            return false;
        unsigned d = (unsigned)(p[i] - '0');
        x = x > (UINT64_MAX - d) / 10 ? UINT64_MAX : x * 10 + d;
    }
    *v = x;
    return true;
}

static bool touch(struct byte_range x, struct byte_range y)
{
    return x.first <= (y.last == UINT64_MAX ? y.last : y.last + 1) &&
           y.first <= (x.last == UINT64_MAX ? x.last : x.last + 1);
}

/* Insert r into the sorted, pairwise non-touching set u (n entries, room for
 * SPECS_MAX) merging what it touches; returns the new count. */
static unsigned union_add(struct byte_range *u, unsigned n, struct byte_range r)
{
    unsigned k = 0;
    while (k < n && !touch(u[k], r) && u[k].last < r.first)
        k++;
    unsigned j = k;
    while (j < n && touch(u[j], r)) {
        if (u[j].first < r.first)
            r.first = u[j].first;
        if (u[j].last > r.last)
            r.last = u[j].last;
        j++;
    }
    /* u[k..j) are replaced by r */
    if (j == k) {
        memmove(u + k + 1, u + k, (n - k) * sizeof(*u));
        u[k] = r;
        return n + 1;
    }
    u[k] = r;
    memmove(u + k + 1, u + j, (n - j) * sizeof(*u));
    return n - (j - k - 1);
}

struct range_model {
    enum range_result res;
    unsigned n;                /* expected ranges when res == RANGE_OK */
    unsigned peak;             /* most distinct ranges held at any point while reading */
    struct byte_range *expect; /* n entries */
};

/* RFC 9110 14.1.1 and 14.2 with the contract of http_range_parse: a range-set
 * of int-range / suffix-range elements, with empty list elements and OWS.
 * Anything malformed makes the whole field ignored. */
static void range_model(struct ps_slice v, uint64_t size, unsigned max, struct byte_range *sat,
                        struct byte_range *uni, struct range_model *m)
{
    unsigned nsat = 0, nuni = 0, specs = 0;
    bool touched = false;

    m->res = RANGE_NONE;
    m->n = 0;
    m->peak = 0;
    m->expect = NULL;
    if (v.n < 6 || v.p[5] != '=')
        return;
    for (size_t i = 0; i < 5; i++)
        if ((v.p[i] | 0x20) != "bytes"[i])
            return;
    size_t i = 6;
    while (i <= v.n) {
        size_t s = i;
        while (i < v.n && v.p[i] != ',')
            i++;
        size_t e = i;
        i++; /* past the comma (or the end) */
        while (s < e && is_ows(v.p[s]))
            s++;
        while (e > s && is_ows(v.p[e - 1]))
            e--;
        if (s == e)
            continue; /* an empty list element */
        const char *p = v.p + s;
        size_t len = e - s;
        const char *dash = memchr(p, '-', len);
        if (!dash)
            return;
        if (++specs > SPECS_MAX)
            return;
        size_t alen = (size_t)(dash - p), blen = len - alen - 1;
        uint64_t a, b;
        struct byte_range r;
        if (alen == 0) {
            if (!model_number(dash + 1, blen, &b))
                return;
            if (b == 0)
                continue;
            if (size == 0)
                return; /* satisfiable but nothing to cut: the whole (empty) thing */
            r.first = b >= size ? 0 : size - b;
            r.last = size - 1;
        } else {
            if (!model_number(p, alen, &a))
                return;
            if (blen == 0)
                b = UINT64_MAX;
            else if (!model_number(dash + 1, blen, &b) || b < a)
                return;
            if (a >= size)
                continue;
            r.first = a;
            r.last = b >= size ? size - 1 : b;
        }
        for (unsigned k = 0; k < nuni && !touched; k++)
            touched = touch(uni[k], r);
        sat[nsat++] = r;
        nuni = union_add(uni, nuni, r);
        if (nuni > m->peak)
            m->peak = nuni;
    }
    if (specs == 0)
        return;
    if (nsat == 0) {
        m->res = RANGE_UNSATISFIABLE;
        return;
    }
    /* merged: sorted union; otherwise the requested order */
    m->expect = touched ? uni : sat;
    m->n = touched ? nuni : nsat;
    m->res = m->n > max ? RANGE_NONE : RANGE_OK;
}

static void check_range(struct ps_slice v, uint64_t size, unsigned max)
{
    /* out: exactly max entries on the heap, so a write past out[max - 1] is caught */
    struct byte_range *out = malloc(max * sizeof(*out));
    struct byte_range *sat = malloc(SPECS_MAX * sizeof(*sat));
    struct byte_range *uni = malloc((SPECS_MAX + 1) * sizeof(*uni));
    if (!out || !sat || !uni)
        abort();
    unsigned n = 12345;
    enum range_result r = http_range_parse(v, size, out, max, &n);
    if (r != RANGE_NONE && r != RANGE_OK && r != RANGE_UNSATISFIABLE)
        violation("range: result out of range", "Range", v, (unsigned long)r, max);
    if (r == RANGE_OK) {
        if (n < 1 || n > max)
            violation("range: RANGE_OK with n outside 1..max", "Range", v, n, max);
        for (unsigned k = 0; k < n; k++) {
            if (out[k].first > out[k].last || out[k].last >= size)
                violation("range: a range outside 0..size-1 or first > last", "Range", v, k,
                          (unsigned long)size);
            for (unsigned j = 0; j < k; j++)
                if (touch(out[j], out[k]))
                    violation("range: two results overlap or touch (not merged)", "Range", v, j, k);
        }
    }

    struct range_model m;
    range_model(v, size, max, sat, uni, &m);
    if (r != m.res) {
        /* The parser keeps at most max ranges while it reads (the bound that
         * lets the caller's array be max long), so a field that only merges
         * down to max ranges at its end is refused once it held more. */
        bool early_refusal = r == RANGE_NONE && m.res == RANGE_OK && m.peak > max;
        if (!early_refusal)
            violation("range: result differs from RFC 9110 14.2", "Range", v, (unsigned long)r,
                      (unsigned long)m.res);
    } else if (r == RANGE_OK) {
        if (n != m.n)
            violation("range: number of ranges differs from RFC 9110 14.2", "Range", v, n, m.n);
        for (unsigned k = 0; k < n; k++)
            if (out[k].first != m.expect[k].first || out[k].last != m.expect[k].last)
                violation("range: ranges differ (merge, order or clamping)", "Range", v, k,
                          (unsigned long)size);
    }

    /* deterministic, and max is a bound only: more room gives the same ranges */
    if (r == RANGE_OK && max < 64) {
        struct byte_range *more = malloc(64 * sizeof(*more));
        unsigned n2 = 0;
        if (!more)
            abort();
        enum range_result r2 = http_range_parse(v, size, more, 64, &n2);
        if (r2 != RANGE_OK || n2 != n || memcmp(more, out, n * sizeof(*out)) != 0)
            violation("range: more room changed the answer", "Range", v, n, n2);
        free(more);
    }
    free(out);
    free(sat);
    free(uni);
}

/* --- entity-tags and dates: the model ------------------------------------------------ */

/* An entity-tag at p[*i] (RFC 9110 8.8.3): [W/] DQUOTE *etagc DQUOTE. */
static bool model_etag(struct ps_slice v, size_t *i, size_t *s, size_t *len, bool *weak)
{
    *weak = false;
    if (*i + 1 < v.n && v.p[*i] == 'W' && v.p[*i + 1] == '/') {
        *weak = true;
        *i += 2;
    }
    if (*i >= v.n || v.p[*i] != '"')
        return false;
    *s = (*i)++;
    while (*i < v.n && v.p[*i] != '"') {
        unsigned char c = (unsigned char)v.p[*i];
        if (c < 0x21 || c == 0x7f)
            return false; /* etagc = %x21 / %x23-7E / obs-text */
        (*i)++;
    }
    if (*i >= v.n)
        return false;
    (*i)++;
    *len = *i - *s;
    return true;
}

/* "*" / #entity-tag. Returns -1 when malformed (the model has no answer),
 * else whether it matches ETAG by weak or strong comparison. */
static int model_etag_list(struct ps_slice v, bool weak_cmp)
{
    size_t i = 0;
    while (i < v.n && is_ows(v.p[i]))
        i++;
    if (i < v.n && v.p[i] == '*') {
        i++;
        while (i < v.n && is_ows(v.p[i]))
            i++;
        return i == v.n ? 1 : -1;
    }
    bool match = false, any = false;
    for (;;) {
        while (i < v.n && (is_ows(v.p[i]) || v.p[i] == ','))
            i++;
        if (i == v.n)
            break;
        size_t s, len;
        bool weak;
        if (!model_etag(v, &i, &s, &len, &weak))
            return -1;
        any = true;
        if ((weak_cmp || !weak) && len == ETAG_LEN && memcmp(v.p + s, ETAG, len) == 0)
            match = true;
        while (i < v.n && is_ows(v.p[i]))
            i++;
        if (i < v.n && v.p[i] != ',')
            return -1;
    }
    return any ? match : -1;
}

static bool model_date(struct ps_slice v, time_t *t)
{
    return v.n > 0 && ps_http_date_parse(v.p, v.n, t) == 0;
}

/* RFC 9110 13.2.2, for GET/HEAD. Returns -1 when a list is malformed. */
static int model_conditional(const struct http_request *q, time_t lm)
{
    time_t t;
    if (q->if_match.n) {
        int m = model_etag_list(q->if_match, false);
        if (m < 0)
            return -1;
        if (!m)
            return 412;
    } else if (model_date(q->if_unmodified_since, &t) && lm > t) {
        return 412;
    }
    if (q->if_none_match.n) {
        int m = model_etag_list(q->if_none_match, true);
        if (m < 0)
            return -1;
        if (m)
            return 304;
    } else if (model_date(q->if_modified_since, &t) && lm <= t) {
        return 304;
    }
    return 200;
}

static void check_conditional(const struct http_request *q, time_t lm)
{
    int r = http_conditional(q, ETAG, ETAG_LEN, lm);
    if (r != 200 && r != 304 && r != 412)
        violation("conditional: result not 200, 304 or 412", "If-Match", q->if_match,
                  (unsigned long)r, 0);
    if (r == 412 && !q->if_match.n && !q->if_unmodified_since.n)
        violation("conditional: 412 without If-Match or If-Unmodified-Since", "If-None-Match",
                  q->if_none_match, (unsigned long)r, 0);
    if (r == 304 && !q->if_none_match.n && !q->if_modified_since.n)
        violation("conditional: 304 without If-None-Match or If-Modified-Since", "If-Match",
                  q->if_match, (unsigned long)r, 0);
    int m = model_conditional(q, lm);
    if (m >= 0 && r != m)
        violation("conditional: differs from RFC 9110 13.2.2", "If-Match", q->if_match,
                  (unsigned long)r, (unsigned long)m);
    if (r != http_conditional(q, ETAG, ETAG_LEN, lm))
        violation("conditional: not deterministic", "If-Match", q->if_match, (unsigned long)r, 0);

    /* Precedence: If-Match hides If-Unmodified-Since, If-None-Match hides
     * If-Modified-Since (steps 2 and 4 apply only without the other). */
    struct http_request q2 = *q;
    if (q->if_match.n) {
        q2.if_unmodified_since = (struct ps_slice){"Thu, 01 Jan 1970 00:00:00 GMT", 29};
        if (http_conditional(&q2, ETAG, ETAG_LEN, lm) != r)
            violation("conditional: If-Unmodified-Since counted despite If-Match", "If-Match",
                      q->if_match, (unsigned long)r, 0);
    }
    if (q->if_none_match.n) {
        q2 = *q;
        q2.if_modified_since = (struct ps_slice){"Fri, 31 Dec 9999 23:59:59 GMT", 29};
        if (http_conditional(&q2, ETAG, ETAG_LEN, lm) != r)
            violation("conditional: If-Modified-Since counted despite If-None-Match",
                      "If-None-Match", q->if_none_match, (unsigned long)r, 0);
    }
}

static void check_if_range(struct ps_slice v, time_t lm, bool date_strong)
{
    bool r = http_if_range(v, ETAG, ETAG_LEN, lm, date_strong);
    int m;
    time_t t;
    if (v.n == 0)
        m = 1;
    else if (v.p[0] == '"')
        m = v.n == ETAG_LEN && memcmp(v.p, ETAG, ETAG_LEN) == 0; /* strong comparison */
    else if (v.n > 1 && v.p[0] == 'W' && v.p[1] == '/')
        m = 0; /* a weak tag never matches (RFC 9110 13.1.5) */
    else
        m = date_strong && model_date(v, &t) && t == lm; /* an exact, strong date only */
    if (r != (m == 1))
        violation("If-Range: differs from RFC 9110 13.1.5", "If-Range", v, r, (unsigned long)m);
}

/* --- Accept-Encoding: the model --------------------------------------------------- */

/* qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] ) */
static bool model_qvalue(const char *p, size_t n, unsigned *q)
{
    if (n == 0 || (p[0] != '0' && p[0] != '1'))
        return false;
    unsigned v = (unsigned)(p[0] - '0') * 1000, scale = 100;
    if (n > 1) {
        if (p[1] != '.' || n > 5)
            return false;
        for (size_t i = 2; i < n; i++, scale /= 10) {
            if (!is_digit(p[i]))
                return false;
            v += (unsigned)(p[i] - '0') * scale;
        }
    }
    if (v > 1000)
        return false;
    *q = v;
    return true;
}

static bool token_is(const char *p, size_t n, const char *lower)
{
    if (n != strlen(lower))
        return false;
    for (size_t i = 0; i < n; i++)
        if ((char)(p[i] >= 'A' && p[i] <= 'Z' ? p[i] | 0x20 : p[i]) != lower[i])
            return false;
    return true;
}

/* #( codings [ weight ] ), weight = OWS ";" OWS "q=" qvalue (RFC 9110 12.5.3,
 * 12.4.2). Returns -1 when malformed or when the coding is named twice. */
static int model_coding_q(struct ps_slice v, enum coding c)
{
    const char *name = c == CODING_BR ? "br" : c == CODING_GZIP ? "gzip" : "identity";
    int named = -1, star = -1, mentions = 0;
    size_t i = 0;
    for (;;) {
        while (i < v.n && (is_ows(v.p[i]) || v.p[i] == ','))
            i++;
        if (i == v.n)
            break;
        size_t s = i;
        while (i < v.n && is_tchar(v.p[i]))
            i++;
        size_t tlen = i - s;
        if (tlen == 0)
            return -1;
        unsigned q = 1000;
        size_t j = i;
        while (j < v.n && is_ows(v.p[j]))
            j++;
        if (j < v.n && v.p[j] == ';') {
            j++;
            while (j < v.n && is_ows(v.p[j]))
                j++;
            if (j + 1 >= v.n || (v.p[j] != 'q' && v.p[j] != 'Q') || v.p[j + 1] != '=')
                return -1;
            j += 2;
            size_t qs = j;
            while (j < v.n && !is_ows(v.p[j]) && v.p[j] != ',')
                j++;
            if (!model_qvalue(v.p + qs, j - qs, &q))
                return -1;
            i = j;
        }
        while (i < v.n && is_ows(v.p[i]))
            i++;
        if (i < v.n && v.p[i] != ',')
            return -1;
        if (token_is(v.p + s, tlen, name) ||
            (c == CODING_GZIP && token_is(v.p + s, tlen, "x-gzip"))) {
            named = (int)q;
            mentions++;
        } else if (tlen == 1 && v.p[s] == '*') {
            star = (int)q;
        }
    }
    if (mentions > 1)
        return -1;
    if (named >= 0)
        return named;
    if (star >= 0)
        return star;
    return c == CODING_IDENTITY ? 1000 : 0;
}

static void check_coding(struct ps_slice v)
{
    static const enum coding all[] = {CODING_IDENTITY, CODING_GZIP, CODING_BR};
    for (size_t k = 0; k < 3; k++) {
        unsigned q = http_coding_q(v, all[k]);
        if (q > 1000)
            violation("Accept-Encoding: q above 1000", "Accept-Encoding", v, q, k);
        int m = model_coding_q(v, all[k]);
        if (m >= 0 && q != (unsigned)m)
            violation("Accept-Encoding: q differs from RFC 9110 12.5.3", "Accept-Encoding", v, q,
                      (unsigned long)m);
        if (v.n == 0 && q != (all[k] == CODING_IDENTITY ? 1000u : 0u))
            violation("Accept-Encoding: absent field gives another q", "Accept-Encoding", v, q, k);
    }
}

/* --- driver ------------------------------------------------------------------------ */

static uint64_t field_number(struct ps_slice v, uint64_t dflt)
{
    uint64_t x = 0;
    if (v.n == 0)
        return dflt;
    for (size_t i = 0; i < v.n && i < 20; i++) {
        if (!is_digit(v.p[i]))
            return dflt;
        unsigned d = (unsigned)(v.p[i] - '0');
        x = x > (UINT64_MAX - d) / 10 ? UINT64_MAX : x * 10 + d;
    }
    return x;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ps_slice f[NFIELDS];
    char *own[NFIELDS];
    size_t pos = 0;

    for (unsigned k = 0; k < NFIELDS; k++) {
        size_t e = pos;
        while (e < size && data[e] != '\n')
            e++;
        size_t n = pos < size ? e - pos : 0;
        own[k] = malloc(n ? n : 1);
        if (!own[k])
            abort();
        if (n)
            memcpy(own[k], data + pos, n);
        f[k] = (struct ps_slice){own[k], n};
        pos = e < size ? e + 1 : size;
    }

    /* Range against a few sizes and bounds, and the ones the input names */
    static const uint64_t sizes[] = {0, 1, 7, 1000, UINT64_MAX};
    static const unsigned maxes[] = {1, 16};
    for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++)
        for (size_t m = 0; m < sizeof(maxes) / sizeof(maxes[0]); m++)
            check_range(f[F_RANGE], sizes[s], maxes[m]);
    uint64_t fsize = field_number(f[F_SIZE], 100);
    unsigned fmax = (unsigned)(field_number(f[F_MAX], 3) % 64) + 1;
    check_range(f[F_RANGE], fsize, fmax);

    /* Conditionals with the fixed validators, and with Last-Modified just
     * around the dates the input gives (the boundaries of "<=" and ">") */
    struct http_request q;
    memset(&q, 0, sizeof(q));
    q.method = HTTP_M_GET;
    q.if_match = f[F_IF_MATCH];
    q.if_none_match = f[F_IF_NONE_MATCH];
    q.if_modified_since = f[F_IMS];
    q.if_unmodified_since = f[F_IUS];
    check_conditional(&q, LAST_MODIFIED);
    check_if_range(f[F_IF_RANGE], LAST_MODIFIED, true);
    check_if_range(f[F_IF_RANGE], LAST_MODIFIED, false);
    time_t t;
    const struct ps_slice *dates[] = {&f[F_IMS], &f[F_IUS], &f[F_IF_RANGE]};
    for (size_t d = 0; d < 3; d++)
        if (model_date(*dates[d], &t))
            for (time_t delta = -1; delta <= 1; delta++) {
                check_conditional(&q, t + delta);
                check_if_range(f[F_IF_RANGE], t + delta, true);
            }

    check_coding(f[F_ACCEPT_ENCODING]);

    for (unsigned k = 0; k < NFIELDS; k++)
        free(own[k]);
    return 0;
}
