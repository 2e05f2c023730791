/* Listening sockets. With socket activation systemd owns the sockets and
 * hands them over as fds 3.. (sd_listen_fds(3)); standalone, we bind. */
#include "listen.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include "conf.h"
#include "hostport.h"
#include "log.h"

#define BACKLOG 4096

int listen_parse(const char *spec, struct sockaddr_storage *ss, socklen_t *len, char *err,
                 size_t errsz)
{
    char host[INET6_ADDRSTRLEN + 1];
    uint16_t port;
    bool has_port;

    memset(ss, 0, sizeof(*ss));
    int r = ps_split_hostport(spec, true, host, sizeof(host), &port, &has_port);
    if (r < 0 || !has_port) {
        snprintf(err, errsz, "\"%s\" is not HOST:PORT, [IPV6]:PORT or PORT", spec);
        return -EINVAL;
    }
    if (host[0] == '\0' || strcmp(host, "*") == 0) {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
        s6->sin6_family = AF_INET6;
        s6->sin6_addr = in6addr_any;
        s6->sin6_port = htons(port);
        *len = sizeof(*s6);
        return 0;
    }
    struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
    if (inet_pton(AF_INET, host, &s4->sin_addr) == 1) {
        s4->sin_family = AF_INET;
        s4->sin_port = htons(port);
        *len = sizeof(*s4);
        return 0;
    }
    struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
    if (strchr(spec, '[') && inet_pton(AF_INET6, host, &s6->sin6_addr) == 1) {
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons(port);
        *len = sizeof(*s6);
        return 0;
    }
    snprintf(err, errsz, "\"%s\": \"%s\" is not a numeric IPv4 or [IPv6] address", spec, host);
    return -EINVAL;
}

/* "ADDR:PORT" of a bound socket into buf; "[ADDR]:PORT" for IPv6,
 * "unix:PATH" or "unix:@NAME" (abstract, unsafe bytes as \xHH) for a unix
 * socket. */
static void sockname(int fd, char *buf, size_t bufsz)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    char a[INET6_ADDRSTRLEN];

    if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0) {
        snprintf(buf, bufsz, "fd %d", fd);
    } else if (ss.ss_family == AF_INET) {
        struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
        inet_ntop(AF_INET, &s4->sin_addr, a, sizeof(a));
        snprintf(buf, bufsz, "%s:%u", a, ntohs(s4->sin_port));
    } else if (ss.ss_family == AF_INET6) {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
        inet_ntop(AF_INET6, &s6->sin6_addr, a, sizeof(a));
        snprintf(buf, bufsz, "[%s]:%u", a, ntohs(s6->sin6_port));
    } else if (ss.ss_family == AF_UNIX) {
        /* "unix:PATH", or "unix:@NAME" for an abstract name (which may hold
         * any byte: escaped as in the log) */
        const struct sockaddr_un *su = (const struct sockaddr_un *)&ss;
        size_t off = offsetof(struct sockaddr_un, sun_path);
        size_t n = len > off ? len - off : 0;
        bool abstract = n > 0 && su->sun_path[0] == '\0';
        const char *p = su->sun_path + abstract;
        n = abstract ? n - 1 : strnlen(p, n);
        char esc[4 * sizeof(su->sun_path) + 1];
        esc[log_escape(esc, sizeof(esc), p, n)] = '\0';
        snprintf(buf, bufsz, "unix:%s%s", abstract ? "@" : "", esc);
    } else {
        snprintf(buf, bufsz, "fd %d (family %d)", fd, ss.ss_family);
    }
}

/* Accepted sockets inherit both options from their listener.
 * TCP_NODELAY: responses made of several writes (multipart ranges) must not
 * wait for delayed ACKs (Nagle). Heads go out corked with MSG_MORE, so
 * nothing is lost.
 * TCP_QUICKACK off: a request is not acknowledged on its own; its ACK rides
 * on the response, which follows at once. A new connection would otherwise
 * start in quick-ACK mode and send a bare ACK for its first request, one
 * of the ten segments of a Connection: close exchange. A head that arrives in
 * pieces is acknowledged at once all the same (conn.c, ack_partial_head),
 * so a client that writes it in two parts with Nagle on never waits for the
 * delayed-ACK timer. */
static void tune_listener(int fd)
{
    int one = 1, zero = 0;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &zero, sizeof(zero));
}

static int set_nonblock(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
        return -errno;
    return 0;
}

static int bind_one(const char *spec, unsigned defer_s, struct listener *l, char *err,
                    size_t errsz)
{
    struct sockaddr_storage ss;
    socklen_t len;
    char why[160];
    int one = 1, zero = 0;

    if (listen_parse(spec, &ss, &len, why, sizeof(why)) < 0) {
        snprintf(err, errsz, "listen: %s", why);
        return -EINVAL;
    }
    int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0 && errno == EAFNOSUPPORT && ss.ss_family == AF_INET6 &&
        IN6_IS_ADDR_UNSPECIFIED(&((struct sockaddr_in6 *)&ss)->sin6_addr)) {
        /* a bare port on a host without IPv6: all IPv4 addresses */
        uint16_t port = ((struct sockaddr_in6 *)&ss)->sin6_port;
        struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
        memset(&ss, 0, sizeof(ss));
        s4->sin_family = AF_INET;
        s4->sin_port = port;
        len = sizeof(*s4);
        fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    }
    if (fd < 0) {
        int e = errno;
        snprintf(err, errsz, "listen %s: socket: %s", spec, strerror(e));
        return -e;
    }
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (ss.ss_family == AF_INET6 &&
        IN6_IS_ADDR_UNSPECIFIED(&((struct sockaddr_in6 *)&ss)->sin6_addr))
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
    else if (ss.ss_family == AF_INET6)
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
    if (bind(fd, (struct sockaddr *)&ss, len) < 0 || listen(fd, BACKLOG) < 0) {
        int e = errno;
        close(fd);
        snprintf(err, errsz, "listen %s: %s", spec, strerror(e));
        return -e;
    }
    tune_listener(fd);
    /* Wake the workers only once a request has arrived (the kernel holds a
     * silent connection up to defer_s, then queues it anyway). */
    int defer = (int)defer_s;
    if (defer > 0)
        setsockopt(fd, IPPROTO_TCP, TCP_DEFER_ACCEPT, &defer, sizeof(defer));
    l->fd = fd;
    sockname(fd, l->name, sizeof(l->name));
    return 0;
}

static int take_systemd(int n, struct listener *ls, char *err, size_t errsz)
{
    char **names = NULL;
    int r = sd_listen_fds_with_names(1, &names); /* 1: unset the variables */
    if (r != n) {
        snprintf(err, errsz, "LISTEN_FDS changed while reading it");
        r = -EINVAL;
        goto out;
    }
    for (int i = 0; i < n; i++) {
        int fd = SD_LISTEN_FDS_START + i;
        if (sd_is_socket(fd, AF_UNSPEC, SOCK_STREAM, 1) <= 0) {
            snprintf(err, errsz,
                     "socket activation: fd %d (%s) is not a listening stream socket; "
                     "pyserve.socket needs ListenStream= and Accept=no",
                     fd, names && names[i] ? names[i] : "unnamed");
            r = -EINVAL;
            goto out;
        }
        r = set_nonblock(fd);
        if (r < 0) {
            snprintf(err, errsz, "fd %d: %s", fd, strerror(-r));
            goto out;
        }
        fcntl(fd, F_SETFD, FD_CLOEXEC);
        tune_listener(fd);
        ls[i].fd = fd;
        char addr[LISTEN_ADDR_MAX];
        sockname(fd, addr, sizeof(addr));
        if (names && names[i] && strcmp(names[i], "unknown") != 0)
            snprintf(ls[i].name, sizeof(ls[i].name), "%s (%s)", addr, names[i]);
        else
            snprintf(ls[i].name, sizeof(ls[i].name), "%s", addr);
    }
    r = n;
out:
    if (names)
        for (int i = 0; names[i]; i++)
            free(names[i]);
    free(names);
    return r;
}

int listen_open_all(const struct conf *c, struct listener **out, char *err, size_t errsz)
{
    int n = sd_listen_fds(0);
    struct listener *ls;

    if (n < 0) {
        snprintf(err, errsz, "socket activation: %s", strerror(-n));
        return n;
    }
    if (n > 0) {
        ls = calloc((size_t)n, sizeof(*ls));
        if (!ls)
            return -ENOMEM;
        int r = take_systemd(n, ls, err, errsz);
        if (r < 0) {
            free(ls);
            return r;
        }
        if (c->nlisten > 0)
            log_msg(LOG_INFO, "socket activation: %d socket(s) from the service manager; "
                              "the configured listen addresses are ignored", n);
        *out = ls;
        return n;
    }
    if (c->nlisten == 0) {
        snprintf(err, errsz, "nothing to listen on: set listen = in the configuration, "
                             "use --listen, or start through pyserve.socket");
        return -EINVAL;
    }
    ls = calloc(c->nlisten, sizeof(*ls));
    if (!ls)
        return -ENOMEM;
    for (unsigned i = 0; i < c->nlisten; i++) {
        int r = bind_one(c->listen[i], (unsigned)((c->defer_accept_ms + 999) / 1000), &ls[i], err,
                         errsz);
        if (r < 0) {
            for (unsigned j = 0; j < i; j++)
                close(ls[j].fd);
            free(ls);
            return r;
        }
    }
    *out = ls;
    return (int)c->nlisten;
}
