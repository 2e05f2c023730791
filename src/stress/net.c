/* Blocking pre-run checks: probe connect, reference fetch. */
#include "config.h"

#include "net.h"

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "monoclock.h"

/* Wait for events on fd until deadline. Returns > 0, 0 on timeout, < 0. */
static int wait_fd(int fd, short events, uint64_t deadline)
{
    for (;;) {
        uint64_t now = ps_mono_ms();
        if (now >= deadline)
            return 0;
        struct pollfd p = {.fd = fd, .events = events};
        int r = poll(&p, 1, (int)(deadline - now));
        if (r < 0 && errno == EINTR)
            continue;
        return r < 0 ? -errno : r;
    }
}

/* A connected non-blocking socket, or -errno. */
static int connect_by(const struct sockaddr *sa, socklen_t len, uint64_t deadline)
{
    int fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    if (connect(fd, sa, len) < 0) {
        if (errno != EINPROGRESS) {
            int e = errno;
            close(fd);
            return -e;
        }
        int r = wait_fd(fd, POLLOUT, deadline);
        if (r <= 0) {
            close(fd);
            return r == 0 ? -ETIMEDOUT : r;
        }
        int err = 0;
        socklen_t elen = sizeof(err);
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) < 0)
            err = errno;
        if (err) {
            close(fd);
            return -err;
        }
    }
    return fd;
}

int stress_probe(const char *host, uint16_t port, uint64_t timeout_ms,
                 struct sockaddr_storage *addr, socklen_t *alen, char *err, size_t errsz)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res, *ai;
    char portstr[8];
    int last = -ECONNREFUSED;

    snprintf(portstr, sizeof(portstr), "%u", port);
    int g = getaddrinfo(host, portstr, &hints, &res);
    if (g != 0) {
        snprintf(err, errsz, "%s: %s", host, gai_strerror(g));
        return -EHOSTUNREACH;
    }
    for (ai = res; ai; ai = ai->ai_next) {
        if (ai->ai_addrlen > sizeof(*addr))
            continue;
        int fd = connect_by(ai->ai_addr, ai->ai_addrlen, ps_mono_ms() + timeout_ms);
        if (fd >= 0) {
            close(fd);
            memcpy(addr, ai->ai_addr, ai->ai_addrlen);
            *alen = ai->ai_addrlen;
            freeaddrinfo(res);
            return 0;
        }
        last = fd;
    }
    freeaddrinfo(res);
    snprintf(err, errsz, "cannot connect to %s port %u: %s", host, port, strerror(-last));
    return last;
}

int stress_fetch(const struct sockaddr_storage *addr, socklen_t alen, const char *req,
                 size_t reqlen, uint64_t timeout_ms, struct rdec *d, char *err, size_t errsz)
{
    uint64_t deadline = ps_mono_ms() + timeout_ms;
    char buf[16384];
    int fd = connect_by((const struct sockaddr *)addr, alen, deadline), r;

    if (fd < 0) {
        snprintf(err, errsz, "connect: %s", strerror(-fd));
        return fd;
    }
    for (size_t off = 0; off < reqlen;) {
        ssize_t n = send(fd, req + off, reqlen - off, MSG_NOSIGNAL);
        if (n > 0) {
            off += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno != EAGAIN) {
            r = -errno;
            snprintf(err, errsz, "write: %s", strerror(errno));
            goto out;
        }
        if ((r = wait_fd(fd, POLLOUT, deadline)) <= 0)
            goto timeout;
    }
    for (;;) {
        ssize_t n = read(fd, buf, sizeof(buf));
        if (n > 0) {
            size_t off = 0;
            while (off < (size_t)n) {
                enum rdec_event ev;
                off += rdec_feed(d, buf + off, (size_t)n - off, &ev);
                if (ev == RDEC_DONE) {
                    r = 0;
                    goto out;
                }
                if (ev == RDEC_BAD) {
                    snprintf(err, errsz, "bad response: %s", d->why);
                    r = -EBADMSG;
                    goto out;
                }
            }
            /* wait_fd sees the deadline only once the socket is drained: a
             * response that keeps coming faster than it is read (a body or
             * interim responses without end) must meet it here */
            if (ps_mono_ms() >= deadline) {
                r = 0;
                goto timeout;
            }
            continue;
        }
        if (n == 0) {
            enum rdec_event ev = rdec_eof(d);
            if (ev == RDEC_DONE) {
                r = 0;
            } else {
                snprintf(err, errsz, "%s", ev == RDEC_BAD ? d->why : "closed without a response");
                r = -EBADMSG;
            }
            goto out;
        }
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN) {
            r = -errno;
            snprintf(err, errsz, "read: %s", strerror(errno));
            goto out;
        }
        if ((r = wait_fd(fd, POLLIN, deadline)) <= 0)
            goto timeout;
    }
timeout:
    if (r == 0)
        snprintf(err, errsz, "%s within the timeout (%llu ms)",
                 d->started ? "response not complete" : "no response",
                 (unsigned long long)timeout_ms);
    else
        snprintf(err, errsz, "poll: %s", strerror(-r));
    r = r == 0 ? -ETIMEDOUT : r;
out:
    close(fd);
    return r;
}
