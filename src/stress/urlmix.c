/* Request mix: URL list, weights, request bytes. */
#include "urlmix.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "num.h"

static int fail(char *err, size_t errsz, int ret, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int fail(char *err, size_t errsz, int ret, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errsz, fmt, ap);
    va_end(ap);
    return ret;
}

void urlmix_init(struct urlmix *m)
{
    memset(m, 0, sizeof(*m));
}

void urlmix_free(struct urlmix *m)
{
    for (unsigned i = 0; i < m->n; i++)
        free(m->v[i].target);
    free(m->v);
    urlmix_init(m);
}

static int push(struct urlmix *m, const char *target, uint32_t weight, char *err, size_t errsz)
{
    if (m->n == URLMIX_MAX_URLS)
        return fail(err, errsz, -ERANGE, "more than %d URLs", URLMIX_MAX_URLS);
    if (weight < 1 || weight > URLMIX_MAX_WEIGHT)
        return fail(err, errsz, -ERANGE, "weight %u is not in 1..%d", weight, URLMIX_MAX_WEIGHT);
    if (m->total_weight + weight > URLMIX_MAX_TOTAL_WEIGHT)
        return fail(err, errsz, -ERANGE, "the weights add up to more than %d",
                    URLMIX_MAX_TOTAL_WEIGHT);
    if (m->n == m->cap) {
        unsigned cap = m->cap ? m->cap * 2 : 8;
        struct urlmix_entry *v = realloc(m->v, cap * sizeof(*v));
        if (!v)
            return fail(err, errsz, -ENOMEM, "out of memory");
        m->v = v;
        m->cap = cap;
    }
    char *t = strdup(target);
    if (!t)
        return fail(err, errsz, -ENOMEM, "out of memory");
    m->v[m->n].target = t;
    m->v[m->n].weight = weight;
    m->n++;
    m->total_weight += weight;
    return 0;
}

int urlmix_add(struct urlmix *m, const char *s, uint32_t weight, char *err, size_t errsz)
{
    if (s[0] == '/') {
        if (!m->have_host)
            return fail(err, errsz, -EINVAL,
                        "%s: a path needs an absolute URL before it (on the command line "
                        "or earlier in the file)",
                        s);
        for (const char *q = s; *q; q++)
            if ((unsigned char)*q <= ' ' || *q == 0x7f)
                return fail(err, errsz, -EINVAL, "%s: spaces or control characters in the path", s);
        size_t len = strcspn(s, "#");
        if (len + 1 > PS_URL_TARGET_MAX)
            return fail(err, errsz, -ERANGE, "path too long");
        char *t = strndup(s, len);
        if (!t)
            return fail(err, errsz, -ENOMEM, "out of memory");
        int r = push(m, t, weight, err, errsz);
        free(t);
        return r;
    }
    /* struct ps_url holds an 8 KiB target: keep it off the stack */
    struct ps_url *u = malloc(sizeof(*u));
    if (!u)
        return fail(err, errsz, -ENOMEM, "out of memory");
    const char *why = "bad URL";
    int r = ps_url_parse(s, u, &why);
    if (r < 0) {
        fail(err, errsz, r, "%s: %s", s, why);
    } else if (m->have_host && (strcasecmp(u->host, m->host) != 0 || u->port != m->port)) {
        r = fail(err, errsz, -EINVAL,
                 "%s: every URL must name the same host and port (%s%s%s:%u first)", s,
                 m->ipv6_literal ? "[" : "", m->host, m->ipv6_literal ? "]" : "", m->port);
    } else {
        if (!m->have_host) {
            memcpy(m->host, u->host, sizeof(m->host));
            m->port = u->port;
            m->ipv6_literal = u->ipv6_literal;
            m->have_host = true;
        }
        r = push(m, u->target, weight, err, errsz);
    }
    free(u);
    return r;
}

int urlmix_parse_text(struct urlmix *m, const char *name, const char *text, size_t len, char *err,
                      size_t errsz)
{
    char line[PS_URL_TARGET_MAX + PS_URL_HOST_MAX + 64];
    unsigned lineno = 0, added = 0;
    size_t pos = 0;

    while (pos < len) {
        const char *s = text + pos;
        const char *nl = memchr(s, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - s) : len - pos;
        pos += n + (nl ? 1 : 0);
        lineno++;
        if (n > 0 && s[n - 1] == '\r')
            n--;
        while (n > 0 && (*s == ' ' || *s == '\t')) {
            s++;
            n--;
        }
        while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
            n--;
        if (n == 0 || s[0] == '#')
            continue;
        if (n >= sizeof(line))
            return fail(err, errsz, -ERANGE, "%s:%u: line too long", name, lineno);
        if (memchr(s, '\0', n))
            return fail(err, errsz, -EINVAL, "%s:%u: NUL byte", name, lineno);
        memcpy(line, s, n);
        line[n] = '\0';
        uint64_t weight = 1;
        char *u = line;
        size_t digits = strspn(line, "0123456789");
        if (digits > 0 && (line[digits] == ' ' || line[digits] == '\t')) {
            if (ps_parse_u64n(line, digits, URLMIX_MAX_WEIGHT, &weight) < 0 || weight == 0)
                return fail(err, errsz, -ERANGE, "%s:%u: weight %.*s is not in 1..%d", name, lineno,
                            (int)digits, line, URLMIX_MAX_WEIGHT);
            u = line + digits;
            while (*u == ' ' || *u == '\t')
                u++;
        }
        char why[512];
        int r = urlmix_add(m, u, (uint32_t)weight, why, sizeof(why));
        if (r < 0)
            return fail(err, errsz, r, "%s:%u: %s", name, lineno, why);
        added++;
    }
    if (added == 0)
        return fail(err, errsz, -EINVAL, "%s: no URL in the file", name);
    return 0;
}

int urlmix_cycle(const struct urlmix *m, uint32_t **out, size_t *len)
{
    size_t total = (size_t)m->total_weight;
    uint32_t *seq = malloc((total ? total : 1) * sizeof(*seq));
    int64_t *cur = calloc(m->n ? m->n : 1, sizeof(*cur));
    if (!seq || !cur) {
        free(seq);
        free(cur);
        return -ENOMEM;
    }
    /* Smooth weighted round robin: every step each entry gains its weight,
     * the richest is picked and pays the total. Each entry is picked exactly
     * weight times per cycle of total steps. */
    for (size_t step = 0; step < total; step++) {
        unsigned best = 0;
        for (unsigned i = 0; i < m->n; i++) {
            cur[i] += m->v[i].weight;
            if (cur[i] > cur[best])
                best = i;
        }
        cur[best] -= (int64_t)total;
        seq[step] = best;
    }
    free(cur);
    *out = seq;
    *len = total;
    return 0;
}

static bool is_tchar(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c && strchr("!#$%&'*+-.^_`|~", c));
}

bool urlmix_header_ok(const char *h)
{
    size_t k = 0;
    while (is_tchar((unsigned char)h[k]))
        k++;
    if (k == 0 || h[k] != ':')
        return false;
    for (const char *q = h + k + 1; *q; q++)
        if (((unsigned char)*q < ' ' && *q != '\t') || *q == 0x7f)
            return false;
    return true;
}

static bool header_named(const char *h, const char *name)
{
    size_t n = strlen(name);
    return strncasecmp(h, name, n) == 0 && h[n] == ':';
}

int urlmix_build_request(const struct urlmix *m, const char *method, const char *target,
                         const char *const *headers, unsigned nheaders, bool close, char **out,
                         size_t *outlen)
{
    bool user_host = false, user_conn = false;
    size_t cap = strlen(method) + strlen(target) + PS_URL_HOST_MAX + 128;
    for (unsigned i = 0; i < nheaders; i++) {
        cap += strlen(headers[i]) + 2;
        user_host |= header_named(headers[i], "host");
        user_conn |= header_named(headers[i], "connection");
    }
    char *buf = malloc(cap), hosthdr[PS_URL_HOST_MAX + 16];
    if (!buf)
        return -ENOMEM;
    size_t o = (size_t)snprintf(buf, cap, "%s %s HTTP/1.1\r\n", method, target);
    if (!user_host) {
        struct ps_url u;
        /* only the host fields are read by ps_url_host_header */
        memcpy(u.host, m->host, sizeof(u.host));
        u.port = m->port;
        u.ipv6_literal = m->ipv6_literal;
        if (ps_url_host_header(&u, hosthdr, sizeof(hosthdr)) < 0) {
            free(buf);
            return -ENOMEM;
        }
        o += (size_t)snprintf(buf + o, cap - o, "Host: %s\r\n", hosthdr);
    }
    for (unsigned i = 0; i < nheaders; i++)
        o += (size_t)snprintf(buf + o, cap - o, "%s\r\n", headers[i]);
    if (close && !user_conn)
        o += (size_t)snprintf(buf + o, cap - o, "Connection: close\r\n");
    o += (size_t)snprintf(buf + o, cap - o, "\r\n");
    *out = buf;
    *outlen = o;
    return 0;
}
