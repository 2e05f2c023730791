/* http:// URL parsing for pyserve-client and pyserve-stress. */
#include "url.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "hostport.h"

int ps_url_parse(const char *s, struct ps_url *u, const char **why)
{
    const char *why_local;
    if (!why)
        why = &why_local;
    memset(u, 0, sizeof(*u));
    for (const char *q = s; *q; q++)
        if ((unsigned char)*q <= ' ' || *q == 0x7f) {
            *why = "spaces or control characters in the URL";
            return -EINVAL;
        }
    if (strncasecmp(s, "https://", 8) == 0) {
        *why = "https is not supported";
        return -EPROTONOSUPPORT;
    }
    if (strncasecmp(s, "http://", 7) != 0) {
        *why = "not an http:// URL";
        return -EINVAL;
    }
    const char *a = s + 7;
    size_t alen = strcspn(a, "/?#");
    if (alen == 0) {
        *why = "no host in the URL";
        return -EINVAL;
    }
    if (memchr(a, '@', alen)) {
        *why = "user names in URLs are not supported";
        return -EINVAL;
    }
    char auth[PS_URL_HOST_MAX + 8];
    if (alen >= sizeof(auth)) {
        *why = "host name too long";
        return -ERANGE;
    }
    memcpy(auth, a, alen);
    auth[alen] = '\0';
    /* "host:" with an empty port means the default port (RFC 3986
     * section 3.2.3); ps_split_hostport refuses it, as listen addresses
     * need one */
    if (auth[alen - 1] == ':')
        auth[alen - 1] = '\0';
    bool has_port;
    int r = ps_split_hostport(auth, false, u->host, sizeof(u->host), &u->port, &has_port);
    if (r < 0 || u->host[0] == '\0') {
        *why = r == -ERANGE ? "port out of range or host too long" : "bad host or port";
        return r == -ERANGE ? -ERANGE : -EINVAL;
    }
    if (has_port && u->port == 0) {
        *why = "port 0";
        return -ERANGE;
    }
    if (!has_port)
        u->port = 80;
    u->ipv6_literal = auth[0] == '[';
    /* The target as it goes on a request line: a byte above 0x7f (UTF-8
     * typed in a path) percent-encoded, as a browser or curl does. */
    const char *t = a + alen;
    size_t tlen = strcspn(t, "#");
    size_t o = 0;
    if (tlen == 0 || t[0] != '/')
        u->target[o++] = '/';
    for (size_t i = 0; i < tlen; i++) {
        unsigned char c = (unsigned char)t[i];
        if (o + (c > 0x7f ? 3 : 1) >= sizeof(u->target)) {
            *why = "URL path too long";
            return -ERANGE;
        }
        if (c > 0x7f)
            o += (size_t)snprintf(u->target + o, 4, "%%%02X", c);
        else
            u->target[o++] = (char)c;
    }
    u->target[o] = '\0';
    return 0;
}

int ps_url_host_header(const struct ps_url *u, char *buf, size_t bufsz)
{
    int n;
    if (u->port == 80)
        n = snprintf(buf, bufsz, u->ipv6_literal ? "[%s]" : "%s", u->host);
    else
        n = snprintf(buf, bufsz, u->ipv6_literal ? "[%s]:%u" : "%s:%u", u->host, u->port);
    return n < 0 || (size_t)n >= bufsz ? -ENOSPC : n;
}
