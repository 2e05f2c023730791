/* host[:port] splitting for listen addresses, URLs and HOST PORT arguments. */
#include "hostport.h"

#include <errno.h>
#include <string.h>

#include "num.h"

static int copy_host(const char *p, size_t n, char *host, size_t hostsz)
{
    if (n + 1 > hostsz)
        return -ERANGE;
    memcpy(host, p, n);
    host[n] = '\0';
    return 0;
}

static int parse_port(const char *p, uint16_t *port)
{
    uint64_t v;
    int r = ps_parse_u64(p, 65535, &v);
    if (r < 0)
        return r;
    *port = (uint16_t)v;
    return 0;
}

int ps_split_hostport(const char *s, bool bare_number_is_port, char *host, size_t hostsz,
                      uint16_t *port, bool *has_port)
{
    const char *colon;
    int r;

    *has_port = false;
    *port = 0;
    if (s[0] == '\0')
        return -EINVAL;
    if (s[0] == '[') {
        const char *close = strchr(s, ']');
        if (!close || close == s + 1 || memchr(s + 1, '[', (size_t)(close - s - 1)))
            return -EINVAL;
        r = copy_host(s + 1, (size_t)(close - s - 1), host, hostsz);
        if (r < 0)
            return r;
        if (close[1] == '\0')
            return 0;
        if (close[1] != ':' || close[2] == '\0')
            return -EINVAL;
        r = parse_port(close + 2, port);
        if (r == 0)
            *has_port = true;
        return r;
    }
    colon = strrchr(s, ':');
    if (colon && strchr(s, ':') != colon)
        return -EINVAL; /* an IPv6 literal needs brackets */
    if (!colon) {
        if (bare_number_is_port && strspn(s, "0123456789") == strlen(s)) {
            r = parse_port(s, port);
            if (r == 0) {
                *has_port = true;
                host[0] = '\0';
                if (hostsz == 0)
                    return -ERANGE;
            }
            return r;
        }
        return copy_host(s, strlen(s), host, hostsz);
    }
    if (colon[1] == '\0')
        return -EINVAL;
    r = copy_host(s, (size_t)(colon - s), host, hostsz);
    if (r < 0)
        return r;
    r = parse_port(colon + 1, port);
    if (r == 0)
        *has_port = true;
    return r;
}
