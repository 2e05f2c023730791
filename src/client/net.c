/* Resolution, connection with a deadline, and bounded waits on a socket. */
#include "config.h"

#include "net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "exitcode.h"
#include "monoclock.h"

volatile sig_atomic_t net_interrupted;

/* poll() one fd until an event, the deadline (0: none), a stopping signal
 * or an error. Returns 1 (ready), -ETIMEDOUT, -EINTR or -errno. */
static int wait_fd(int fd, short events, uint64_t deadline)
{
    for (;;) {
        /* checked before each poll too: a signal caught just before it
         * would not interrupt it (the window left is a few instructions) */
        if (net_interrupted)
            return -EINTR;
        int ms = -1;
        if (deadline) {
            uint64_t now = ps_mono_ms();
            if (now >= deadline)
                return -ETIMEDOUT;
            ms = deadline - now > 1000000000 ? 1000000000 : (int)(deadline - now);
        }
        struct pollfd p = {.fd = fd, .events = events};
        int r = poll(&p, 1, ms);
        if (r > 0)
            return 1;
        if (r == 0)
            continue; /* the loop checks the deadline */
        if (errno != EINTR)
            return -errno;
    }
}

static void addr_text(const struct addrinfo *ai, char *out, size_t outsz)
{
    if (getnameinfo(ai->ai_addr, ai->ai_addrlen, out, (socklen_t)outsz, NULL, 0, NI_NUMERICHOST) !=
        0)
        snprintf(out, outsz, "?");
}

/* Connect one address before the deadline. Returns the fd or -errno. */
static int connect_one(const struct addrinfo *ai, uint64_t deadline)
{
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0)
        return -errno;
    int r = connect(fd, ai->ai_addr, ai->ai_addrlen);
    if (r < 0 && errno != EINPROGRESS) {
        r = -errno;
        close(fd);
        return r;
    }
    if (r < 0) {
        r = wait_fd(fd, POLLOUT, deadline);
        if (r < 0) {
            close(fd);
            return r;
        }
        int soerr = 0;
        socklen_t len = sizeof(soerr);
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0)
            soerr = errno;
        if (soerr) {
            close(fd);
            return -soerr;
        }
    }
    return fd;
}

int net_connect(const struct ps_url *u, int family, uint64_t timeout_ms, bool verbose, char *err,
                size_t errsz)
{
    struct addrinfo hints, *res = NULL;
    char port[8], addr[NI_MAXHOST];
    const char *fam = family == AF_INET ? "IPv4 " : family == AF_INET6 ? "IPv6 " : "";

    memset(&hints, 0, sizeof(hints));
    hints.ai_family = family;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV | (u->ipv6_literal ? AI_NUMERICHOST : 0);
    snprintf(port, sizeof(port), "%u", u->port);
    if (verbose)
        fprintf(stderr, "* resolving %s\n", u->host);
    int g = getaddrinfo(u->host, port, &hints, &res);
    if (g != 0) {
        if (g == EAI_MEMORY) {
            snprintf(err, errsz, "out of memory resolving \"%s\"", u->host);
            return -PSC_EXIT_FAILURE;
        }
        const char *why = g == EAI_SYSTEM ? strerror(errno) : gai_strerror(g);
        if (g == EAI_ADDRFAMILY || g == EAI_NODATA || (g == EAI_NONAME && *fam))
            why = "no address of the requested family";
        snprintf(err, errsz, "cannot resolve %shost \"%s\": %s", fam, u->host, why);
        return -PSC_EXIT_RESOLVE;
    }

    uint64_t deadline = timeout_ms ? ps_mono_ms() + timeout_ms : 0;
    int last = -ECONNREFUSED;
    char last_addr[NI_MAXHOST] = "";
    for (const struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6)
            continue;
        addr_text(ai, addr, sizeof(addr));
        if (verbose)
            fprintf(stderr, "* connecting to %s port %u\n", addr, u->port);
        int fd = connect_one(ai, deadline);
        if (fd >= 0) {
            if (verbose)
                fprintf(stderr, "* connected to %s port %u\n", addr, u->port);
            freeaddrinfo(res);
            return fd;
        }
        last = fd;
        snprintf(last_addr, sizeof(last_addr), "%s", addr);
        if (verbose)
            fprintf(stderr, "* %s port %u: %s\n", addr, u->port, strerror(-fd));
        if (fd == -ETIMEDOUT && deadline && ps_mono_ms() >= deadline)
            break;
    }
    freeaddrinfo(res);
    if (last == -ETIMEDOUT && deadline) {
        snprintf(err, errsz, "timed out connecting to %s port %u (%s) after %llu ms", u->host,
                 u->port, last_addr, (unsigned long long)timeout_ms);
        return -PSC_EXIT_TIMEOUT;
    }
    snprintf(err, errsz, "cannot connect to %s port %u (%s): %s", u->host, u->port, last_addr,
             strerror(-last));
    return last == -ETIMEDOUT ? -PSC_EXIT_TIMEOUT : -PSC_EXIT_CONNECT;
}

int net_send_all(int fd, const char *p, size_t n, uint64_t timeout_ms)
{
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w > 0) {
            p += w;
            n -= (size_t)w;
            continue;
        }
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
            return -errno;
        int r = wait_fd(fd, POLLOUT, timeout_ms ? ps_mono_ms() + timeout_ms : 0);
        if (r < 0)
            return r;
    }
    return 0;
}

ssize_t net_recv(int fd, char *p, size_t n, uint64_t timeout_ms)
{
    uint64_t deadline = 0;
    for (;;) {
        ssize_t r = recv(fd, p, n, 0);
        if (r >= 0)
            return r;
        if (errno == EINTR && net_interrupted)
            return -EINTR;
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK)
            return -errno;
        if (timeout_ms && !deadline)
            deadline = ps_mono_ms() + timeout_ms;
        int w = wait_fd(fd, POLLIN, deadline);
        if (w < 0)
            return w;
    }
}

ssize_t net_recv_now(int fd, char *p, size_t n)
{
    for (;;) {
        ssize_t r = recv(fd, p, n, MSG_DONTWAIT);
        if (r >= 0)
            return r;
        if (errno == EINTR)
            continue;
        return errno == EWOULDBLOCK ? -EAGAIN : -errno;
    }
}
