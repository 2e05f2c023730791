/* Request heads (RFC 9112 section 3). */
#include "config.h"

#include "request.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

struct out {
    char *buf;
    size_t size, len;
    bool full;
};

static void put(struct out *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void put(struct out *w, const char *fmt, ...)
{
    if (w->full)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(w->buf + w->len, w->size - w->len, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= w->size - w->len)
        w->full = true;
    else
        w->len += (size_t)n;
}

static bool name_is(const struct cli_header *h, const char *name)
{
    return h->name_len == strlen(name) && strncasecmp(h->name, name, h->name_len) == 0;
}

/* -H fields that name the origin or carry credentials for it: sent only to
 * the command line's origin, never after a redirect elsewhere (as curl does
 * since CVE-2018-1000007 and CVE-2022-27776). */
static bool origin_bound(const struct cli_header *h)
{
    static const char *const names[] = {"host", "authorization", "proxy-authorization", "cookie"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (name_is(h, names[i]))
            return true;
    return false;
}

/* Does -H name one of the fields the client would send itself? */
static bool user_overrides(const struct client_opts *o, const char *name, bool same_origin)
{
    for (unsigned i = 0; i < o->nheaders; i++)
        if (name_is(&o->headers[i], name))
            return same_origin || !origin_bound(&o->headers[i]);
    return false;
}

/* The -H fields to send: the Host ones (host) or all the others. */
static void put_user_fields(struct out *w, const struct client_opts *o, bool same_origin, bool host)
{
    for (unsigned i = 0; i < o->nheaders; i++) {
        const struct cli_header *h = &o->headers[i];
        if (h->value_len == 0 || (!same_origin && origin_bound(h)) || name_is(h, "host") != host)
            continue;
        put(w, "%.*s: %.*s\r\n", (int)h->name_len, h->name, (int)h->value_len, h->value);
    }
}

bool request_has_range(const struct client_opts *o, uint64_t resume_from)
{
    /* Range is not bound to the origin: the answer is the same on every hop */
    for (unsigned i = 0; i < o->nheaders; i++)
        if (name_is(&o->headers[i], "range"))
            return o->headers[i].value_len > 0;
    return resume_from > 0 || o->range;
}

int request_build(char *buf, size_t bufsz, const char *method, const struct ps_url *u,
                  const struct client_opts *o, uint64_t resume_from, bool same_origin)
{
    struct out w = {buf, bufsz, 0, bufsz == 0};
    char host[PS_URL_HOST_MAX + 16];

    if (ps_url_host_header(u, host, sizeof(host)) < 0)
        return -ENOSPC;
    put(&w, "%s %s HTTP/1.1\r\n", method, u->target);
    /* Host first (RFC 9110 section 7.2): ours or the -H one */
    if (!user_overrides(o, "host", same_origin))
        put(&w, "Host: %s\r\n", host);
    put_user_fields(&w, o, same_origin, true);
    if (!user_overrides(o, "user-agent", same_origin))
        put(&w, "User-Agent: pyserve-client/%s\r\n", PACKAGE_VERSION);
    if (!user_overrides(o, "accept", same_origin))
        put(&w, "Accept: */*\r\n");
    if (!user_overrides(o, "connection", same_origin))
        put(&w, "Connection: close\r\n");
    if (!user_overrides(o, "range", same_origin)) {
        if (resume_from > 0)
            put(&w, "Range: bytes=%llu-\r\n", (unsigned long long)resume_from);
        else if (o->range)
            put(&w, "Range: bytes=%s\r\n", o->range);
    }
    put_user_fields(&w, o, same_origin, false);
    put(&w, "\r\n");
    return w.full ? -ENOSPC : (int)w.len;
}
