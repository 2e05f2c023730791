/* bench/floor: the least CPU a server can spend per request on this
 * machine, for bench/compare to print next to the real servers.
 *
 * It is not a server. It answers every request, whatever its method and
 * target, with the same 200 response: the bytes of one file read at start,
 * under a head of the same fields and size as pyserved's. Per request it
 * does only what any server must: one recv of the request, a scan for the
 * end of its head, one send of the response, and an epoll_wait now and
 * then. No parsing, no file lookup, no logging. What remains is the kernel's
 * TCP work and the system calls themselves, so a real server's CPU per
 * request over this one's is its own overhead, and a target below this one
 * is out of reach for any server on the same kernel.
 *
 * usage: floor FILE
 * Listens on 127.0.0.1, port 0, and prints "floor: listening on
 * 127.0.0.1:PORT" on stderr. One thread; stops on SIGTERM or SIGINT. A
 * request carrying "Connection: close" gets "Connection: close" back and
 * the connection ends with the response (its FIN in the same segment). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "httpdate.h"

#define MAX_BODY (64u << 10)
#define HEAD_MAX 1024u /* a request head longer than this ends the connection */
#define EVENTS 64

struct fconn {
    int fd;
    unsigned in_len;
    size_t out_off, out_len; /* the part of a response the socket did not take yet */
    const char *out;
    bool close_after;
    char in[HEAD_MAX];
};

static char resp_ka[MAX_BODY + 512], resp_close[MAX_BODY + 512];
static size_t resp_ka_len, resp_close_len;
static size_t date_at_ka, date_at_close; /* offset of the Date value in each */
static time_t date_sec = -1;
static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

/* The same fields as pyserved sends for a file, so both put as many bytes
 * on the wire. Returns the length, or 0 if it does not fit. */
static size_t build(char *out, size_t cap, const char *body, size_t blen, time_t mtime,
                    bool close_it, size_t *date_at)
{
    char date[PS_HTTP_DATE_LEN + 1], lm[PS_HTTP_DATE_LEN + 1];
    ps_http_date_format(time(NULL), date);
    ps_http_date_format(mtime, lm);
    int n = snprintf(out, cap,
                     "HTTP/1.1 200 OK\r\nServer: pyserve\r\nDate: %s\r\n"
                     "Content-Type: application/octet-stream\r\nContent-Length: %zu\r\n"
                     "Last-Modified: %s\r\nETag: \"%lx-%zx-%016llx\"\r\nAccept-Ranges: bytes\r\n"
                     "X-Content-Type-Options: nosniff\r\n%s\r\n",
                     date, blen, lm, (unsigned long)mtime, blen, (unsigned long long)mtime,
                     close_it ? "Connection: close\r\n" : "");
    if (n < 0 || (size_t)n + blen > cap)
        return 0;
    *date_at = (size_t)(strstr(out, "Date: ") - out) + 6;
    memcpy(out + n, body, blen);
    return (size_t)n + blen;
}

/* The Date value, rewritten when the second changes (its length never does). */
static void refresh_date(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME_COARSE, &ts);
    if (ts.tv_sec == date_sec)
        return;
    date_sec = ts.tv_sec;
    char d[PS_HTTP_DATE_LEN + 1];
    ps_http_date_format(ts.tv_sec, d);
    memcpy(resp_ka + date_at_ka, d, PS_HTTP_DATE_LEN);
    memcpy(resp_close + date_at_close, d, PS_HTTP_DATE_LEN);
}

static void drop(int ep, struct fconn *c)
{
    epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    free(c);
}

/* Send what is left of the current response. 1: all of it went, 0: the
 * socket is full (EPOLLOUT is armed), -1: the connection is gone. */
static int flush(int ep, struct fconn *c)
{
    while (c->out_off < c->out_len) {
        int flags = MSG_NOSIGNAL | (c->close_after ? MSG_MORE : 0);
        ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, flags);
        if (n > 0) {
            c->out_off += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            struct epoll_event ev = {.events = EPOLLOUT, .data.ptr = c};
            return epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev) == 0 ? 0 : -1;
        }
        return -1;
    }
    c->out_len = c->out_off = 0;
    return 1;
}

static bool asks_close(const char *head, size_t len)
{
    static const char name[] = "\r\nConnection:";
    for (const char *p = head; (p = memmem(p, len - (size_t)(p - head), "\r\n", 2)) != NULL; p += 2) {
        size_t left = len - (size_t)(p - head);
        if (left < sizeof(name) - 1 || strncasecmp(p, name, sizeof(name) - 1) != 0)
            continue;
        const char *v = p + sizeof(name) - 1;
        const char *end = memmem(v, len - (size_t)(v - head), "\r\n", 2);
        size_t vl = end ? (size_t)(end - v) : len - (size_t)(v - head);
        for (size_t i = 0; i + 5 <= vl; i++)
            if (strncasecmp(v + i, "close", 5) == 0)
                return true;
    }
    return false;
}

/* Answer every complete request head in the buffer. 1: keep reading,
 * 0: waiting for the socket to take a response, -1: done with it. */
static int answer(int ep, struct fconn *c)
{
    for (;;) {
        char *end = memmem(c->in, c->in_len, "\r\n\r\n", 4);
        if (!end)
            return c->in_len < HEAD_MAX ? 1 : -1;
        size_t hl = (size_t)(end - c->in) + 4;
        c->close_after = asks_close(c->in, hl);
        c->out = c->close_after ? resp_close : resp_ka;
        c->out_len = c->close_after ? resp_close_len : resp_ka_len;
        c->out_off = 0;
        memmove(c->in, c->in + hl, c->in_len - hl);
        c->in_len -= (unsigned)hl;
        int r = flush(ep, c);
        if (r <= 0)
            return r;
        if (c->close_after)
            return -1;
    }
}

static void on_readable(int ep, struct fconn *c)
{
    for (;;) {
        size_t room = HEAD_MAX - c->in_len;
        ssize_t n = recv(c->fd, c->in + c->in_len, room, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        if (n <= 0) {
            drop(ep, c);
            return;
        }
        c->in_len += (unsigned)n;
        int r = answer(ep, c);
        if (r < 0)
            drop(ep, c);
        if (r <= 0)
            return;
        /* A short read means the socket is empty: go back to epoll_wait
         * rather than pay for a recv that fails with EAGAIN. */
        if ((size_t)n < room)
            return;
    }
}

static void on_writable(int ep, struct fconn *c)
{
    int r = flush(ep, c);
    if (r < 0 || (r > 0 && c->close_after)) {
        drop(ep, c);
        return;
    }
    if (r == 0)
        return;
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
    if (epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev) < 0) {
        drop(ep, c);
        return;
    }
    r = answer(ep, c); /* requests that came while it waited */
    if (r < 0)
        drop(ep, c);
}

static int load(const char *path, char **body, size_t *len, time_t *mtime)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0) {
        fprintf(stderr, "floor: %s: %s\n", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size > MAX_BODY) {
        fprintf(stderr, "floor: %s: not a regular file of at most %u bytes\n", path, MAX_BODY);
        close(fd);
        return -1;
    }
    *body = malloc((size_t)st.st_size + 1);
    size_t got = 0;
    while (*body && got < (size_t)st.st_size) {
        ssize_t n = read(fd, *body + got, (size_t)st.st_size - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    close(fd);
    if (!*body || got != (size_t)st.st_size) {
        fprintf(stderr, "floor: %s: short read\n", path);
        free(*body);
        return -1;
    }
    *len = got;
    *mtime = st.st_mtime;
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: floor FILE\n");
        return 2;
    }
    char *body;
    size_t blen;
    time_t mtime;
    if (load(argv[1], &body, &blen, &mtime) < 0)
        return 1;
    resp_ka_len = build(resp_ka, sizeof(resp_ka), body, blen, mtime, false, &date_at_ka);
    resp_close_len = build(resp_close, sizeof(resp_close), body, blen, mtime, true, &date_at_close);
    free(body);

    struct sigaction sa = {.sa_handler = on_signal};
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);

    int ls = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof(a);
    int ep = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event lev = {.events = EPOLLIN, .data.ptr = NULL};
    if (ls < 0 || bind(ls, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(ls, 4096) < 0 ||
        getsockname(ls, (struct sockaddr *)&a, &alen) < 0 || ep < 0 ||
        epoll_ctl(ep, EPOLL_CTL_ADD, ls, &lev) < 0) {
        fprintf(stderr, "floor: cannot listen on 127.0.0.1: %s\n", strerror(errno));
        return 1;
    }
    fprintf(stderr, "floor: listening on 127.0.0.1:%u\n", ntohs(a.sin_port));

    struct epoll_event evs[EVENTS];
    while (!stop) {
        int n = epoll_wait(ep, evs, EVENTS, -1);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            fprintf(stderr, "floor: epoll_wait: %s\n", strerror(errno));
            return 1;
        }
        refresh_date();
        for (int i = 0; i < n; i++) {
            struct fconn *c = evs[i].data.ptr;
            if (c == NULL) {
                int fd;
                while ((fd = accept4(ls, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
                    int one = 1;
                    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
                    struct fconn *nc = calloc(1, sizeof(*nc));
                    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = nc};
                    if (!nc || epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
                        free(nc);
                        close(fd);
                        continue;
                    }
                    nc->fd = fd;
                }
                continue;
            }
            if (c->out_len)
                on_writable(ep, c);
            else
                on_readable(ep, c);
        }
    }
    return 0;
}
