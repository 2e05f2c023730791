/* HTTP/1.x request-head parser (RFC 9112 sections 2-3 and 5, RFC 9110 for
 * field semantics). Stateless: each call parses the head from the start of
 * the buffer. The connection parses a head's first read straight away (it
 * is nearly always the whole head); after that it parses again only once
 * http_head_complete() saw the end of a head, so a slow sender costs O(n),
 * not O(n^2). */
#include "http_parse.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "num.h"

/* Character classes, one table lookup per byte. */
enum {
    C_TCHAR = 1,  /* tchar (RFC 9110 section 5.6.2) */
    C_TARGET = 2, /* request-target: visible ASCII, and obs-text leniently */
    C_VALUE = 4,  /* field-value: VCHAR, SP, HTAB, obs-text (RFC 9110 section 5.5) */
    C_HOST = 8,   /* uri-host [":" port]: RFC 3986 reg-name, IP-literal, port */
};

#define IS_ALNUM(c) (((c) >= '0' && (c) <= '9') || ((c) >= 'A' && (c) <= 'Z') || ((c) >= 'a' && (c) <= 'z'))
/* ! # $ % & ' * + - . ^ _ ` | ~ DIGIT ALPHA */
#define IS_TCHAR(c)                                                                                  \
    (IS_ALNUM(c) || (c) == '!' || (c) == '#' || (c) == '$' || (c) == '%' || (c) == '&' ||           \
     (c) == '\'' || (c) == '*' || (c) == '+' || (c) == '-' || (c) == '.' || (c) == '^' ||          \
     (c) == '_' || (c) == '`' || (c) == '|' || (c) == '~')
#define IS_TARGET(c) ((c) > ' ' && (c) != 0x7f)
#define IS_VALUE(c) (((c) >= ' ' && (c) != 0x7f) || (c) == '\t')
#define IS_HOST(c)                                                                                   \
    ((c) > ' ' && (c) < 0x7f && (c) != '/' && (c) != '?' && (c) != '#' && (c) != '@' &&            \
     (c) != '"' && (c) != '<' && (c) != '>' && (c) != '\\' && (c) != '^' && (c) != '`' &&          \
     (c) != '{' && (c) != '|' && (c) != '}')
#define CLASS(c)                                                                                     \
    ((IS_TCHAR(c) ? C_TCHAR : 0) | (IS_TARGET(c) ? C_TARGET : 0) | (IS_VALUE(c) ? C_VALUE : 0) |   \
     (IS_HOST(c) ? C_HOST : 0))
#define CLASS4(c) CLASS(c), CLASS((c) + 1), CLASS((c) + 2), CLASS((c) + 3)
#define CLASS16(c) CLASS4(c), CLASS4((c) + 4), CLASS4((c) + 8), CLASS4((c) + 12)
#define CLASS64(c) CLASS16(c), CLASS16((c) + 16), CLASS16((c) + 32), CLASS16((c) + 48)

static const unsigned char cls[256] = {CLASS64(0), CLASS64(64), CLASS64(128), CLASS64(192)};

/* The first byte in [p, end) not of class k, or end. Field values and
 * request-targets can be long (User-Agent, Cookie, query strings), and a
 * head has a dozen field names or more: where SSE2 is there, 16 bytes are
 * looked at a time, and the table finishes the job. */
#if defined(__SSE2__)
#include <emmintrin.h>

/* Where a value or target ends: C_VALUE stops at bytes <= 0x1f but HTAB,
 * and at DEL; C_TARGET at bytes <= 0x20 and at DEL. obs-text (>= 0x80)
 * passes both. */
static const char *skip_text_sse2(const char *p, const char *end, unsigned k)
{
    const __m128i low = _mm_set1_epi8(k == C_VALUE ? 0x1f : 0x20);
    while (end - p >= 16) {
        __m128i x = _mm_loadu_si128((const __m128i *)(const void *)p);
        __m128i stop = _mm_cmpeq_epi8(_mm_max_epu8(x, low), low); /* x <= low */
        if (k == C_VALUE)
            stop = _mm_andnot_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8('\t')), stop);
        stop = _mm_or_si128(stop, _mm_cmpeq_epi8(x, _mm_set1_epi8(0x7f)));
        unsigned m = (unsigned)_mm_movemask_epi8(stop);
        if (m)
            return p + __builtin_ctz(m);
        p += 16;
    }
    return p;
}

/* Past the letters, digits and '-' at p, which is what tokens (methods,
 * field names) are made of in practice; the rest of tchar is left to the
 * table. Signed compares: bytes >= 0x80 are negative and match nothing. */
static const char *skip_alnum_sse2(const char *p, const char *end)
{
    while (end - p >= 16) {
        __m128i x = _mm_loadu_si128((const __m128i *)(const void *)p);
        __m128i y = _mm_or_si128(x, _mm_set1_epi8(0x20)); /* letters folded to lowercase */
        __m128i ok = _mm_and_si128(_mm_cmpgt_epi8(y, _mm_set1_epi8('a' - 1)),
                                   _mm_cmplt_epi8(y, _mm_set1_epi8('z' + 1)));
        ok = _mm_or_si128(ok, _mm_and_si128(_mm_cmpgt_epi8(x, _mm_set1_epi8('0' - 1)),
                                            _mm_cmplt_epi8(x, _mm_set1_epi8('9' + 1))));
        ok = _mm_or_si128(ok, _mm_cmpeq_epi8(x, _mm_set1_epi8('-')));
        unsigned m = ~(unsigned)_mm_movemask_epi8(ok) & 0xffffu;
        if (m)
            return p + __builtin_ctz(m);
        p += 16;
    }
    return p;
}
#endif

static inline const char *skip_class(const char *p, const char *end, unsigned k)
{
#if defined(__SSE2__)
    if (k == C_VALUE || k == C_TARGET)
        p = skip_text_sse2(p, end, k);
    else if (k == C_TCHAR)
        p = skip_alnum_sse2(p, end);
#endif
    while (p < end && (cls[(unsigned char)*p] & k))
        p++;
    return p;
}

static char lc(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c | 0x20) : c;
}

bool ps_slice_eq_lower(struct ps_slice s, const char *lower)
{
    size_t i;
    for (i = 0; i < s.n; i++)
        if (lower[i] == '\0' || lc(s.p[i]) != lower[i])
            return false;
    return lower[i] == '\0';
}

/* Whether the field name p[0..n) is lower, which holds n lowercase letters
 * and '-' only. p holds tchars (the parser checked): setting bit 5 of a
 * tchar gives lower[i] only when it is lower[i] in either case (the one other
 * byte that would give '-' is CR). Eight bytes at a time. */
static bool name_is(const char *p, size_t n, const char *lower)
{
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t a, b;
        memcpy(&a, p + i, 8);
        memcpy(&b, lower + i, 8);
        if ((a | 0x2020202020202020ull) != b)
            return false;
    }
    for (; i < n; i++)
        if ((p[i] | 0x20) != lower[i])
            return false;
    return true;
}

/* within the switch on name.n below: the case label is the literal's length */
#define NAME_IS(lower) name_is(name.p, sizeof(lower) - 1, lower)

static bool prefix_lower(const char *p, size_t n, const char *lower)
{
    size_t k = strlen(lower);
    if (n < k)
        return false;
    for (size_t i = 0; i < k; i++)
        if (lc(p[i]) != lower[i])
            return false;
    return true;
}

size_t http_head_complete(const char *buf, size_t len, size_t *scan)
{
    size_t i = *scan;
    while (i < len) {
        const char *nl = memchr(buf + i, '\n', len - i);
        if (!nl) {
            i = len;
            break;
        }
        i = (size_t)(nl - buf);
        /* An LF that ends an empty line is one of the empty lines a request
         * line may follow (an empty line after a non-empty one was seen as
         * the end already): not an end. Else they would each be parsed in
         * full again, O(n^2) for a client sending LFs one at a time. */
        if (i == 0 || buf[i - 1] == '\n' || (buf[i - 1] == '\r' && (i == 1 || buf[i - 2] == '\n'))) {
            i++;
            continue;
        }
        /* "\n\n" or "\n\r\n" after a non-empty line ends a head */
        if (i + 1 < len && buf[i + 1] == '\n') {
            *scan = i + 2;
            return i + 2;
        }
        if (i + 2 < len && buf[i + 1] == '\r' && buf[i + 2] == '\n') {
            *scan = i + 3;
            return i + 3;
        }
        if (i + 2 >= len)
            break; /* the terminator may still be arriving: rescan from here */
        i++;
    }
    *scan = i;
    return 0;
}

static const struct {
    const char *name;
    size_t len;
    enum http_method m;
} methods[] = {
    {"GET", 3, HTTP_M_GET},         {"HEAD", 4, HTTP_M_HEAD},
    {"POST", 4, HTTP_M_POST},       {"PUT", 3, HTTP_M_PUT},
    {"DELETE", 6, HTTP_M_DELETE},   {"CONNECT", 7, HTTP_M_CONNECT},
    {"OPTIONS", 7, HTTP_M_OPTIONS}, {"TRACE", 5, HTTP_M_TRACE},
    {"PATCH", 5, HTTP_M_PATCH},
};

static enum http_method classify_method(const char *p, size_t n)
{
    for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
        if (methods[i].len != n)
            continue;
        size_t j = 0; /* n <= 7: compared here, not through a call */
        while (j < n && methods[i].name[j] == p[j])
            j++;
        if (j == n)
            return methods[i].m;
    }
    return HTTP_M_UNKNOWN;
}

/* IP-literal's inside (RFC 3986 section 3.2.2): an IPv6address, or
 * IPvFuture = "v" 1*HEXDIG "." 1*( unreserved / sub-delims / ":" ). */
static bool valid_ip_literal(const char *p, size_t n)
{
    if (n > 0 && (p[0] == 'v' || p[0] == 'V')) {
        size_t i = 1;
        while (i < n && ((p[i] >= '0' && p[i] <= '9') || ((p[i] | 0x20) >= 'a' &&
                                                          (p[i] | 0x20) <= 'f')))
            i++;
        if (i == 1 || i + 1 >= n || p[i] != '.')
            return false;
        for (i++; i < n; i++)
            if (!(((p[i] | 0x20) >= 'a' && (p[i] | 0x20) <= 'z') ||
                  (p[i] >= '0' && p[i] <= '9') || strchr("-._~!$&'()*+,;=:", p[i])))
                return false;
        return true;
    }
    char buf[INET6_ADDRSTRLEN];
    struct in6_addr a;
    if (n >= sizeof(buf))
        return false;
    memcpy(buf, p, n);
    buf[n] = '\0';
    return inet_pton(AF_INET6, buf, &a) == 1;
}

/* uri-host [":" port] (RFC 3986 section 3.2.2): the characters of a
 * reg-name, IPv4 address or IP-literal, brackets only around the latter, a
 * host that is not empty when a port or brackets are there (RFC 9110
 * section 4.2.1), and a port of digits only (perhaps none). */
static bool valid_host(struct ps_slice h)
{
    const char *p = h.p, *end = h.p + h.n;
    if (skip_class(p, end, C_HOST) != end)
        return false;
    if (p == end)
        return true; /* an empty Host, for a target without an authority */
    if (*p == '[') {
        const char *close = memchr(p, ']', (size_t)(end - p));
        if (!close || !valid_ip_literal(p + 1, (size_t)(close - p - 1)))
            return false;
        p = close + 1;
    } else {
        while (p < end && *p != ':' && *p != '[' && *p != ']')
            p++;
        if (p == h.p)
            return false; /* a port without a host */
    }
    if (p < end && *p++ != ':')
        return false;
    while (p < end && *p >= '0' && *p <= '9')
        p++;
    return p == end;
}

/* Split the request-target into form, path, query and (absolute-form) host. */
static int split_target(struct http_request *r)
{
    const char *t = r->target.p, *end = t + r->target.n, *p;

    if (t[0] == '/') {
        r->form = HTTP_T_ORIGIN;
        p = t;
    } else if (r->target.n == 1 && t[0] == '*') {
        r->form = HTTP_T_ASTERISK;
        r->path = (struct ps_slice){end, 0};
        return 0;
    } else {
        size_t skip;
        if (prefix_lower(t, r->target.n, "http://"))
            skip = 7;
        else if (prefix_lower(t, r->target.n, "https://"))
            skip = 8;
        else {
            r->form = HTTP_T_OTHER;
            r->path = (struct ps_slice){end, 0};
            return 0;
        }
        const char *a = t + skip, *ae = a;
        while (ae < end && *ae != '/' && *ae != '?' && *ae != '#')
            ae++;
        if (ae == a || memchr(a, '@', (size_t)(ae - a)))
            return -400; /* no host, or userinfo (RFC 9110 section 4.2.4) */
        if (!valid_host((struct ps_slice){a, (size_t)(ae - a)}))
            return -400; /* it stands for Host, and is held to its rules */
        r->form = HTTP_T_ABSOLUTE;
        r->host = (struct ps_slice){a, (size_t)(ae - a)};
        p = ae;
    }
    /* A fragment is not part of a request-target (RFC 9112 3.2), but a
     * client that sends one means the resource before it: it is left out
     * of the path and query, as nginx does (the target keeps it, for the
     * log). */
    const char *frag = memchr(p, '#', (size_t)(end - p));
    if (frag)
        end = frag;
    const char *q = memchr(p, '?', (size_t)(end - p));
    if (q) {
        r->path = (struct ps_slice){p, (size_t)(q - p)};
        r->query = (struct ps_slice){q + 1, (size_t)(end - q - 1)};
    } else {
        r->path = (struct ps_slice){p, (size_t)(end - p)};
    }
    return 0;
}

/* Connection is a comma-separated token list (RFC 9110 section 7.6.1). */
static void scan_connection(struct ps_slice v, bool *close, bool *keep)
{
    size_t i = 0;
    while (i < v.n) {
        while (i < v.n && (v.p[i] == ' ' || v.p[i] == '\t' || v.p[i] == ','))
            i++;
        size_t s = i;
        while (i < v.n && v.p[i] != ',' && v.p[i] != ' ' && v.p[i] != '\t')
            i++;
        struct ps_slice tok = {v.p + s, i - s};
        if (ps_slice_eq_lower(tok, "close"))
            *close = true;
        else if (ps_slice_eq_lower(tok, "keep-alive"))
            *keep = true;
    }
}

/* Content-Length: digits, or a list of identical values (RFC 9110 8.6). */
static int parse_content_length(struct ps_slice v, bool seen, uint64_t *cl)
{
    uint64_t x;
    if (ps_parse_content_length(v.p, v.n, &x) < 0 || (seen && x != *cl))
        return -400; /* not a number, or lines that differ */
    *cl = x;
    return 0;
}

/* Transfer-Encoding: its lines make one list (RFC 9110 section 5.3), whose
 * last coding must be chunked, given once (else the body's length cannot
 * be known: 400, RFC 9112 sections 6.1 and 6.3); chunked is the only coding
 * we understand, any other before it is 501 (RFC 9112 section 6.1). Empty
 * list elements are skipped (RFC 9110 section 5.6.1). */
struct te_list {
    bool chunked, last_chunked, unknown;
};

/* One line's codings into l; -400 for one that is not a token, perhaps
 * with parameters, or for chunked twice. */
static int te_add(struct te_list *l, struct ps_slice v)
{
    const char *p = v.p, *end = v.p + v.n;
    while (p < end) {
        const char *e = memchr(p, ',', (size_t)(end - p));
        if (!e)
            e = end;
        while (p < e && (*p == ' ' || *p == '\t'))
            p++;
        const char *ne = skip_class(p, e, C_TCHAR), *q = ne;
        while (q < e && (*q == ' ' || *q == '\t'))
            q++;
        if (q < e && (ne == p || *q != ';'))
            return -400; /* not a coding's name, and parameters after it */
        if (ne > p) {
            l->last_chunked = ps_slice_eq_lower((struct ps_slice){p, (size_t)(ne - p)},
                                                "chunked") && q == e;
            if (l->last_chunked && l->chunked)
                return -400; /* chunked twice */
            l->chunked |= l->last_chunked;
            l->unknown |= !l->last_chunked;
        }
        p = e < end ? e + 1 : end;
    }
    return 0;
}

/* The verdict on the whole list. */
static int te_check(const struct te_list *l)
{
    if (!l->last_chunked)
        return -400;
    return l->unknown ? -501 : 0;
}

/* The line end at *pp: CRLF or a bare LF (RFC 9112 section 2.2). Returns 1
 * and moves past it, 0 when the buffer ends inside it, or -400 for anything
 * else (a bare CR, a control character). */
static int eat_eol(const char **pp, const char *end)
{
    const char *p = *pp;
    if (*p == '\n') {
        *pp = p + 1;
        return 1;
    }
    if (*p != '\r')
        return -400;
    if (p + 1 == end)
        return 0;
    if (p[1] != '\n')
        return -400;
    *pp = p + 2;
    return 1;
}

#define AGAIN_OR(status) ((len >= lim->max_head) ? (status) : HTTP_PARSE_AGAIN)

/* The first line of a field, and a mark when another one follows. */
static void set_once(struct http_request *req, struct ps_slice *field, unsigned bit,
                     struct ps_slice val)
{
    if (field->p)
        req->repeated |= bit;
    else
        *field = val;
}

int http_parse_request(const char *buf, size_t len, const struct http_limits *lim,
                       struct http_request *req)
{
    const char *p = buf, *end = buf + len;
    bool conn_close = false, conn_keep = false, seen_cl = false, seen_te = false;
    struct te_list te = {false, false, false};
    int r;

    memset(req, 0, sizeof(*req));

    /* Empty lines before the request line (RFC 9112 section 2.2). */
    while (p < end && (*p == '\n' || (*p == '\r' && p + 1 < end && p[1] == '\n')))
        p += (*p == '\n') ? 1 : 2;
    if (p == end || (*p == '\r' && p + 1 == end))
        return AGAIN_OR(-431);

    /* method SP */
    const char *m = p;
    p = skip_class(p, end, C_TCHAR);
    if (p == end) /* longer than any method we know (RFC 9112 section 3) */
        return AGAIN_OR(-501);
    if (p == m || *p != ' ')
        return -400;
    req->method_name = (struct ps_slice){m, (size_t)(p - m)};
    req->method = classify_method(m, (size_t)(p - m));
    p++;

    /* request-target SP: visible ASCII, and obs-text leniently */
    const char *t = p;
    if ((size_t)(end - p) > lim->max_uri) {
        p = skip_class(p, p + lim->max_uri + 1, C_TARGET);
        if ((size_t)(p - t) > lim->max_uri)
            return -414;
    } else {
        p = skip_class(p, end, C_TARGET);
    }
    if (p == end)
        return AGAIN_OR(-414);
    if (p == t || *p != ' ')
        return -400; /* empty target, HTTP/0.9 form, or a CTL in it */
    req->target = (struct ps_slice){t, (size_t)(p - t)};
    p++;

    /* HTTP-version CRLF */
    if ((size_t)(end - p) < 9)
        return AGAIN_OR(-414);
    if (memcmp(p, "HTTP/", 5) != 0 || p[5] < '0' || p[5] > '9' || p[6] != '.' || p[7] < '0' ||
        p[7] > '9')
        return -400;
    int major = p[5] - '0', minor = p[7] - '0';
    p += 8;
    r = eat_eol(&p, end);
    if (r <= 0)
        return r < 0 ? r : AGAIN_OR(-414);
    /* RFC 9112 2.3: a later 1.x is read as the highest minor version this
     * server speaks, 1.1 (nginx does the same); another major is 505 */
    if (major != 1)
        return -505;
    req->version = minor == 0 ? 10 : 11;
    r = split_target(req);
    if (r < 0)
        return r;

    /* field-lines until the empty line */
    req->fields.p = p;
    for (;;) {
        if (p == end)
            return AGAIN_OR(-431);
        if (*p == '\n' || *p == '\r') { /* the empty line ends the head */
            req->fields.n = (size_t)(p - req->fields.p);
            r = eat_eol(&p, end);
            if (r <= 0)
                return r < 0 ? r : AGAIN_OR(-431);
            break;
        }
        if (*p == ' ' || *p == '\t')
            return -400; /* obs-fold (RFC 9112 section 5.2) */
        const char *n = p;
        p = skip_class(p, end, C_TCHAR);
        if (p == end)
            return AGAIN_OR(-431);
        if (p == n || *p != ':')
            return -400; /* empty name, or whitespace before ':' (5.1) */
        struct ps_slice name = {n, (size_t)(p - n)};
        p++;
        while (p < end && (*p == ' ' || *p == '\t'))
            p++;
        const char *v = p;
        p = skip_class(p, end, C_VALUE);
        if (p == end)
            return AGAIN_OR(-431);
        const char *ve = p;
        r = eat_eol(&p, end); /* else a control character in the value */
        if (r <= 0)
            return r < 0 ? r : AGAIN_OR(-431);
        while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
            ve--;
        struct ps_slice val = {v, (size_t)(ve - v)};

        if (++req->nheaders > lim->max_headers)
            return -431;
        if ((size_t)(p - buf) > lim->max_head)
            return -431;

        switch (name.n) {
        case 4:
            if (NAME_IS("host")) {
                if (req->has_host_field || !valid_host(val))
                    return -400;
                req->has_host_field = true;
                if (req->form != HTTP_T_ABSOLUTE)
                    req->host = val; /* absolute-form wins (RFC 9112 3.2.2) */
            }
            break;
        case 5:
            if (NAME_IS("range"))
                set_once(req, &req->range, HTTP_REP_RANGE, val);
            break;
        case 7:
            if (NAME_IS("referer"))
                req->referer = val;
            break;
        case 8:
            if (NAME_IS("if-match"))
                set_once(req, &req->if_match, HTTP_REP_IF_MATCH, val);
            else if (NAME_IS("if-range"))
                set_once(req, &req->if_range, HTTP_REP_IF_RANGE, val);
            break;
        case 10:
            if (NAME_IS("connection"))
                scan_connection(val, &conn_close, &conn_keep);
            else if (NAME_IS("user-agent"))
                req->user_agent = val;
            break;
        case 13:
            if (NAME_IS("if-none-match"))
                set_once(req, &req->if_none_match, HTTP_REP_IF_NONE_MATCH, val);
            break;
        case 14:
            if (NAME_IS("content-length")) {
                r = parse_content_length(val, seen_cl, &req->content_length);
                if (r < 0)
                    return r;
                seen_cl = true;
            }
            break;
        case 15:
            if (NAME_IS("accept-encoding"))
                req->accept_encoding = val;
            break;
        case 17:
            if (NAME_IS("if-modified-since"))
                set_once(req, &req->if_modified_since, HTTP_REP_IF_MODIFIED_SINCE, val);
            else if (NAME_IS("transfer-encoding")) {
                r = te_add(&te, val);
                if (r < 0)
                    return r;
                seen_te = true;
            }
            break;
        case 19:
            if (NAME_IS("if-unmodified-since"))
                set_once(req, &req->if_unmodified_since, HTTP_REP_IF_UNMODIFIED_SINCE, val);
            break;
        default:
            break;
        }
    }
    if ((size_t)(p - buf) > lim->max_head)
        return -431;
    if (seen_te && (r = te_check(&te)) < 0)
        return r;
    if (seen_cl && seen_te)
        return -400; /* request smuggling guard (RFC 9112 section 6.3) */
    if (req->version == 11 && !req->has_host_field)
        return -400; /* RFC 9112 section 3.2 */
    req->has_body = seen_te || req->content_length > 0;
    req->keep_alive = req->version == 11 ? !conn_close : (conn_keep && !conn_close);
    return (int)(p - buf);
}
