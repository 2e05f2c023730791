/* The connection state machine: read a head, answer it, keep the
 * connection or close it, with a deadline in every state. Edge-triggered:
 * readable/writable remember whether the last edge is used up, so a
 * keep-alive connection costs one read and one write (plus sendfile) per
 * request and no epoll_ctl at all, and one closed after its first response
 * (see watch) is never registered with epoll. */
#include "config.h"

#include "conn.h"
#include "conn_int.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "conf.h"
#include "fcache.h"
#include "http_parse.h"
#include "log.h"
#include "monoclock.h"
#include "respond.h"
#include "uring.h"

#define LINGER_MS 2000
#define MAX_REQUESTS_PER_RUN 32
/* A connection yields to the others after sending this much in a turn.
 * With four 10 MiB downloads at once and wrk as the client, 512 KiB turns
 * of 128 KiB sendfile calls (conn_send.c) gave 1.09x lighttpd's throughput
 * in bench/compare, where 256 KiB calls and 1 MiB turns gave 1.01x and
 * 1 MiB and 4 MiB less again: the data reaches each client in a steadier
 * stream, and the client is the limit there. */
#define MAX_BYTES_PER_RUN (512u << 10)

/* --- timer lists ------------------------------------------------------- */

static void list_remove(struct conn *c)
{
    struct conn_list *l = c->list;
    if (!l)
        return;
    if (c->prev)
        c->prev->next = c->next;
    else
        l->head = c->next;
    if (c->next)
        c->next->prev = c->prev;
    else
        l->tail = c->prev;
    c->prev = c->next = NULL;
    c->list = NULL;
}

static void list_append(struct conn_list *l, struct conn *c, uint64_t deadline)
{
    list_remove(c);
    c->deadline = deadline;
    c->list = l;
    c->prev = l->tail;
    c->next = NULL;
    if (l->tail)
        l->tail->next = c;
    else
        l->head = c;
    l->tail = c;
}

void conn_arm(struct conn *c, struct conn_list *l, uint64_t timeout_ms)
{
    /* from now, not from when this loop turn began: serving may take long */
    c->w->now_ms = ps_mono_coarse_ms();
    list_append(l, c, c->w->now_ms + timeout_ms);
}

/* --- buffers ----------------------------------------------------------- */

static int ensure_buf(struct conn *c)
{
    if (c->buf)
        return 0;
    c->buf = worker_buf_get(c->w);
    if (!c->buf)
        return -ENOMEM;
    c->in_cap = (uint32_t)c->w->in_cap;
    c->out_cap = (uint32_t)c->w->out_cap;
    c->head_cap = (uint32_t)c->w->head_cap;
    c->in_len = 0;
    c->scan = 0;
    return 0;
}

static void release_buf(struct conn *c)
{
    if (c->buf) {
        worker_buf_put(c->w, c->buf, c->in_cap, c->out_cap);
        c->buf = NULL;
    }
}

/* --- closing ----------------------------------------------------------- */

/* The client's address for the log; an IPv4 client of a dual-stack
 * socket (::ffff:a.b.c.d) is shown as the IPv4 address it is. A client of
 * a unix socket is "unix:", as nginx logs it (clients seldom bind a name),
 * and has no port: 0, like an address that is not known ("-"). */
static unsigned format_peer(struct conn *c, char *out, size_t cap, bool *v6)
{
    *v6 = false;
    if (c->peer.sa.sa_family == AF_UNSPEC) {
        /* accepted through io_uring, which is not asked for the address */
        socklen_t sl = sizeof(c->peer);
        if (getpeername(c->fd, &c->peer.sa, &sl) < 0)
            c->peer.sa.sa_family = AF_UNSPEC;
    }
    if (c->peer.sa.sa_family == AF_INET) {
        inet_ntop(AF_INET, &c->peer.in4.sin_addr, out, (socklen_t)cap);
        return ntohs(c->peer.in4.sin_port);
    }
    if (c->peer.sa.sa_family == AF_INET6) {
        const struct in6_addr *a = &c->peer.in6.sin6_addr;
        if (IN6_IS_ADDR_V4MAPPED(a)) {
            inet_ntop(AF_INET, &a->s6_addr[12], out, (socklen_t)cap);
        } else {
            inet_ntop(AF_INET6, a, out, (socklen_t)cap);
            *v6 = true;
        }
        return ntohs(c->peer.in6.sin6_port);
    }
    snprintf(out, cap, c->peer.sa.sa_family == AF_UNIX ? "unix:" : "-");
    return 0;
}

/* (conn_int.h) */
const char *conn_peer_name(struct conn *c, char *out, size_t cap)
{
    char addr[INET6_ADDRSTRLEN];
    bool v6;
    unsigned port = format_peer(c, addr, sizeof(addr), &v6);
    log_peer(out, cap, addr, port, v6);
    return out;
}

static void log_request(struct conn *c)
{
    char addr[INET6_ADDRSTRLEN];
    if (!c->w->conf->access_log)
        return;
    struct log_access_entry e = {
        .addr = addr,
        .v6 = false,
        .version = c->version,
        .status = c->status,
        .bytes = c->bytes,
        .duration_us = ps_mono_us() - c->start_us,
    };
    e.port = format_peer(c, addr, sizeof(addr), &e.v6);
    if (c->buf) { /* the head is still in it (a slice of length 0: none) */
        e.method_len = c->method_len;
        e.method = e.method_len ? c->buf + c->method_off : NULL;
        e.target_len = c->target_len;
        e.target = e.target_len ? c->buf + c->target_off : NULL;
        e.referer_len = c->referer_len;
        e.referer = e.referer_len ? c->buf + c->referer_off : NULL;
        e.user_agent_len = c->user_agent_len;
        e.user_agent = e.user_agent_len ? c->buf + c->user_agent_off : NULL;
    }
    log_access(&e);
}

static void end_request(struct conn *c)
{
    if (c->in_request) {
        log_request(c);
        atomic_fetch_add_explicit(&c->w->requests, 1, memory_order_relaxed);
    }
    c->in_request = false;
    if (c->file_fd >= 0 && !c->centry)
        close(c->file_fd);
    c->file_fd = -1;
    if (c->centry) {
        fcache_release(c->w->fcache, c->centry);
        c->centry = NULL;
    }
    if (c->heap_len) {
        c->w->heap_bytes -= c->heap_len;
        free(c->heap); /* NULL when the page is the cache's (c->centry) */
        c->heap = NULL;
        c->heap_len = 0;
    }
    c->nsegs = 0;
}

/* Requests on the ring still point at c, its buffer and its response:
 * cancel them and keep it all until the last one has completed
 * (conn_uring_done closes it then). The socket stays open until then too,
 * so that its descriptor number is not reused meanwhile. */
static void close_later(struct conn *c)
{
    if (c->ur_zombie)
        return;
    c->ur_zombie = true;
    for (unsigned k = UR_RECV; k <= UR_POLL; k++)
        if (c->ur_pending & UR_BIT(k))
            uring_cancel(c->w->uring, uring_ud(c, (enum uring_kind)k));
    list_append(&c->w->zombie_list, c, UINT64_MAX);
}

void conn_close(struct conn *c)
{
    struct worker *w = c->w;
    if (c->ur_pending) {
        close_later(c);
        return;
    }
    if (c->in_request && c->status == 0)
        c->status = 499; /* closed before a response started */
    end_request(c);
    list_remove(c);
    release_buf(c);
    close(c->fd); /* also removes it from the epoll set */
    w->nconns--;
    atomic_fetch_sub_explicit(&w->srv->nconns, 1, memory_order_relaxed);
    if (w->nconnpool < 1024) {
        c->next = w->connpool;
        w->connpool = c;
        w->nconnpool++;
    } else {
        free(c);
    }
}

/* The response is out and the FIN sent (shutdown): drain what the client
 * still sends, for LINGER_MS at most, before closing. A close with unread
 * input would reset the connection, and a reset destroys whatever of the
 * response the client has not read yet (RFC 9112 section 9.6). */
static enum step start_linger(struct conn *c)
{
    end_request(c);
    release_buf(c);
    c->state = CONN_LINGER;
    conn_arm(c, &c->w->linger_list, LINGER_MS);
    c->linger_until = c->w->now_ms + LINGER_MS;
    return STEP_CONTINUE;
}

static enum step do_linger(struct conn *c)
{
    char sink[4096];
    for (int i = 0; i < 16; i++) {
        ssize_t n = recv(c->fd, sink, sizeof(sink), 0);
        if (n > 0)
            continue;
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            c->readable = false;
            return STEP_BLOCK;
        }
        conn_close(c); /* EOF or error */
        return STEP_CLOSED;
    }
    /* Still sending: let the others run, and go on draining after them
     * until the deadline, which resuming does not move (conn_resume only
     * re-arms the timer for a client that then goes quiet). */
    if (c->w->now_ms < c->linger_until)
        return STEP_YIELD;
    conn_close(c);
    return STEP_CLOSED;
}

void conn_begin_send(struct conn *c)
{
    c->state = CONN_SEND;
    conn_arm(c, &c->w->send_list, c->w->conf->send_timeout_ms);
}

/* --- reading ------------------------------------------------------------- */

static void start_request(struct conn *c, const struct http_request *r)
{
    struct worker *w = c->w;
    c->in_request = true;
    c->version = (uint8_t)r->version;
    c->method_off = (uint32_t)(r->method_name.p - c->buf);
    c->method_len = (uint32_t)r->method_name.n;
    c->target_off = (uint32_t)(r->target.p - c->buf);
    c->target_len = (uint32_t)r->target.n;
    c->referer_len = (uint32_t)r->referer.n; /* 0: none (p may be NULL then) */
    c->referer_off = c->referer_len ? (uint32_t)(r->referer.p - c->buf) : 0;
    c->user_agent_len = (uint32_t)r->user_agent.n;
    c->user_agent_off = c->user_agent_len ? (uint32_t)(r->user_agent.p - c->buf) : 0;
    c->keep_alive = r->keep_alive && !r->has_body && w->conf->keepalive_timeout_ms > 0 &&
                    !server_stopping(w->srv);
    if (r->has_body)
        c->linger = true; /* the body we do not read must not cause a reset */
}

static void start_request_clock(struct conn *c)
{
    if (c->w->conf->access_log)
        c->start_us = ps_mono_us();
}

/* Answer a head we will not serve with status and close afterwards; what
 * the client may still send is drained first (linger). head_only when the
 * request line began with "HEAD ": the response to a HEAD has no body
 * (RFC 9112 section 6.3), whatever else is wrong with the head. */
static void reject_head(struct conn *c, int status, bool head_only)
{
    c->head_len = c->in_len;
    c->in_request = true;
    c->version = 11;
    c->method_len = c->target_len = c->referer_len = c->user_agent_len = 0;
    c->keep_alive = false;
    c->linger = true;
    respond_error(c, status, head_only, NULL, 0);
}

/* n bytes were added to the in area. */
static void got_input(struct conn *c, size_t n)
{
    struct worker *w = c->w;
    if (c->in_len == 0) {
        /* the first byte of a request starts its header clock */
        conn_arm(c, &w->header_list, w->conf->header_timeout_ms);
        start_request_clock(c);
    }
    c->in_len += (uint32_t)n;
    c->rseq = ++w->rseq;
    c->ack_owed = true;
}

/* One read into the in area. Returns what recv returned (errno set), or
 * -1 with errno ENOMEM when there is no buffer. With io_uring the bytes
 * were put there when the read completed (take_input), and this only
 * reports how the last read ended. */
static ssize_t conn_recv(struct conn *c)
{
    if (c->w->uring && !c->ur_direct) {
        errno = c->ur_nomem ? ENOMEM : EAGAIN;
        return c->ur_eof && !c->ur_nomem ? 0 : -1;
    }
    if (ensure_buf(c) < 0) {
        errno = ENOMEM;
        return -1;
    }
    size_t room = c->in_cap - c->in_len;
    ssize_t n = recv(c->fd, c->buf + c->in_len, room, 0); /* skips the VFS read path */
    if (c->ur_direct) {
        c->ur_direct = false;
        c->ur_try = n > 0 && (size_t)n == room;
    }
    if (n > 0) {
        got_input(c, (size_t)n);
        if ((size_t)n < room)
            c->readable = false; /* drained: the next edge will tell */
    }
    return n;
}

/* io_uring: a read of c's completed with n bytes. Outside CONN_READ (a 408
 * on its way, lingering) they are drained, as a recv there would. */
static void take_input(struct conn *c, const char *data, size_t n)
{
    if (c->state != CONN_READ)
        return;
    if (ensure_buf(c) < 0) {
        c->ur_nomem = c->readable = true;
        return;
    }
    size_t room = c->in_cap - c->in_len;
    if (n > room)
        n = room; /* cannot happen: the read asked for at most that */
    memcpy(c->buf + c->in_len, data, n);
    got_input(c, n);
}

/* First half of a batch: read what has come, if c waits for a request
 * (a new connection has no buffer yet). Anything but bytes is left for
 * do_read to meet (a reset reads as EOF the second time): it closes, or
 * gives the buffer back and waits. */
static void prefetch(struct conn *c)
{
    if (c->w->uring)
        return; /* what came is in the in area already */
    if (c->state == CONN_READ && c->readable && (!c->buf || c->in_len < c->in_cap) &&
        c->list != &c->w->ready_list && !server_stopping(c->w->srv))
        (void)conn_recv(c);
}

/* The listener turned quick ACKs off (listen.c, tune_listener), so bytes
 * read that leave the head incomplete would be acknowledged only by the
 * delayed-ACK timer, 40 ms or more later. A client that wrote the head in
 * two parts with Nagle on holds the second until that ACK: send it now.
 * Linux sends a pending ACK for any nonzero TCP_QUICKACK; an even value
 * then keeps the connection in delayed-ACK mode (1 would leave it in
 * quick-ACK mode, and the rest of the head would be acknowledged on its
 * own too). Bytes that came before the last response were acknowledged by
 * it (ack_owed). */
static void ack_partial_head(struct conn *c)
{
    if (!c->ack_owed)
        return;
    c->ack_owed = false;
    int two = 2;
    setsockopt(c->fd, IPPROTO_TCP, TCP_QUICKACK, &two, sizeof(two));
}

/* Nothing more to read for now: an idle connection gives its buffer back,
 * one with part of a head acknowledges it. */
static enum step wait_for_input(struct conn *c)
{
    if (c->in_len == 0)
        release_buf(c);
    else
        ack_partial_head(c);
    return STEP_BLOCK;
}

static enum step do_read(struct conn *c)
{
    struct worker *w = c->w;

    /* stopping: an idle kept-alive connection goes, a new one is served
     * (conn_on_shutdown) */
    if (server_stopping(w->srv) && c->in_len == 0 &&
        c->requests > 0) {
        conn_close(c);
        return STEP_CLOSED;
    }
    for (;;) {
        if (c->in_len > 0) {
            /* A head nearly always comes in one read: the first look at it
             * is the parse itself. Once that asked for more, each read is
             * first scanned for the end of a head, from where the last scan
             * stopped, so a head sent in many pieces costs O(n), not O(n^2).
             * An error the parser finds in that first part (400, 414, 431,
             * 501, 505) is answered at once: it depends only on bytes
             * already there. */
            bool parse = c->scan == 0 || http_head_complete(c->buf, c->in_len, &c->scan) > 0;
            if (parse || c->in_len >= c->in_cap) {
                struct http_request r;
                struct http_limits lim = {c->in_cap, w->conf->max_uri_length,
                                          (unsigned)w->conf->max_headers};
                int n = http_parse_request(c->buf, c->in_len, &lim, &r);
                if (n > 0) {
                    c->head_len = (uint32_t)n;
                    start_request(c, &r);
                    respond_request(c, &r);
                    return STEP_CONTINUE;
                }
                if (n < 0 || c->in_len >= c->in_cap) {
                    /* a bad head, or one wanting more than fits */
                    reject_head(c, n < 0 ? -n : 431, r.method == HTTP_M_HEAD);
                    return STEP_CONTINUE;
                }
                if (c->scan == 0) /* from now on, scan before parsing */
                    http_head_complete(c->buf, c->in_len, &c->scan);
            }
        }
        if (!c->readable)
            return wait_for_input(c);
        ssize_t n = conn_recv(c);
        if (n > 0)
            continue;
        if (n < 0 && errno == ENOMEM) {
            /* once per connection while it lasts: limited */
            char peer[PEER_NAME_MAX];
            log_limited(&w->read_nomem_log, w->now_ms, LOG_WARNING,
                        "out of memory reading a request from %s; closing the connection",
                        conn_peer_name(c, peer, sizeof(peer)));
            conn_close(c);
            return STEP_CLOSED;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            c->readable = false;
            return wait_for_input(c);
        }
        conn_close(c); /* EOF or error */
        return STEP_CLOSED;
    }
}

/* --- writing ------------------------------------------------------------- */

/* The response is out: log it, then keep the connection or close it. */
enum step conn_finish_response(struct conn *c)
{
    struct worker *w = c->w;
    end_request(c);
    c->requests++;
    c->ack_owed = false; /* the response acknowledged all that came before it */
    if (!c->keep_alive) {
        /* The response's last bytes were held (conn_send_plan): the shutdown sends
         * them with the FIN, in one segment. It must come before close():
         * a close with unread input resets the connection and drops what
         * is still queued, held bytes included. Input read beyond this
         * request, or waiting unread, is drained first (linger). */
        int unread = 0;
        if (shutdown(c->fd, SHUT_WR) == 0 &&
            (c->linger || c->in_len > c->head_len ||
             (ioctl(c->fd, FIONREAD, &unread) == 0 && unread > 0)))
            return start_linger(c);
        conn_close(c);
        return STEP_CLOSED;
    }
    /* Shift a pipelined next request to the front. */
    uint32_t rest = c->in_len - c->head_len;
    if (rest > 0)
        memmove(c->buf, c->buf + c->head_len, rest);
    c->in_len = rest;
    c->head_len = 0;
    c->scan = 0;
    c->state = CONN_READ;
    c->status = 0;
    c->bytes = 0;
    c->linger = false;
    if (rest == 0) {
        release_buf(c);
        conn_arm(c, &w->keepalive_list, w->conf->keepalive_timeout_ms);
    } else {
        conn_arm(c, &w->header_list, w->conf->header_timeout_ms);
        start_request_clock(c);
    }
    return STEP_CONTINUE;
}

/* --- driving --------------------------------------------------------------- */

/* io_uring: what c waits for, as a request on the ring: a read for a
 * head (one that takes its buffer only when data has come), room in the
 * socket for sendfile, or input to drain. A send in flight is waited for
 * already. */
static void watch_on_ring(struct conn *c)
{
    struct uring *u = c->w->uring;
    if (c->state == CONN_READ) {
        if (c->ur_pending & UR_BIT(UR_RECV))
            return;
        size_t room = c->buf ? c->in_cap - c->in_len : c->w->in_cap;
        uring_recv(u, c->fd, room, !c->ur_try, uring_ud(c, UR_RECV));
        c->ur_pending |= UR_BIT(UR_RECV);
        c->ur_try = false;
        return;
    }
    if (c->ur_pending & (UR_BIT(UR_SEND) | UR_BIT(UR_POLL)))
        return;
    unsigned events = c->state == CONN_SEND ? POLLOUT : POLLIN | POLLRDHUP;
    uring_poll(u, c->fd, events, uring_ud(c, UR_POLL));
    c->ur_pending |= UR_BIT(UR_POLL);
}

/* A connection joins the epoll set only when it first has to wait: one that
 * is accepted with its request already there and closed after the response
 * (Connection: close) costs no epoll_ctl at all. Registering after EAGAIN
 * loses nothing: EPOLL_CTL_ADD reports a socket that is already ready. */
static void watch(struct conn *c)
{
    if (c->w->uring) {
        watch_on_ring(c);
        return;
    }
    if (c->registered)
        return;
    struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET,
                             .data.ptr = c};
    if (epoll_ctl(c->w->epfd, EPOLL_CTL_ADD, c->fd, &ev) < 0) {
        log_msg(LOG_ERR, "epoll_ctl: %s", strerror(errno));
        conn_close(c);
        return;
    }
    c->registered = true;
}

static void run(struct conn *c)
{
    size_t budget = MAX_BYTES_PER_RUN;
    unsigned served = 0;

    for (;;) {
        enum step s;
        switch (c->state) {
        case CONN_READ:
            if (served >= MAX_REQUESTS_PER_RUN) {
                s = STEP_YIELD;
                break;
            }
            s = do_read(c);
            if (s == STEP_CONTINUE) {
                /* a costly answer (a listing) uses up the turn: a client
                 * that pipelines them holds the worker for one at a time */
                served = c->costly ? MAX_REQUESTS_PER_RUN : served + 1;
                if (c->costly) {
                    c->ur_costly = true;
                    c->w->costly_runs++;
                }
                c->costly = false;
            }
            break;
        case CONN_SEND:
            s = conn_send_plan(c, &budget);
            break;
        case CONN_LINGER:
            s = do_linger(c);
            break;
        default:
            conn_close(c);
            return;
        }
        if (s == STEP_CLOSED)
            return;
        if (s == STEP_BLOCK) {
            watch(c);
            return;
        }
        if (s == STEP_YIELD) {
            /* Park it on the ready list (which has no deadline of its own;
             * the timer list entry is given up while parked). */
            list_append(&c->w->ready_list, c, 0);
            return;
        }
    }
}

void conn_on_event(struct conn *c, uint32_t events)
{
    if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
        c->readable = true;
    if (events & (EPOLLOUT | EPOLLHUP | EPOLLERR))
        c->writable = true;
    prefetch(c);
}

void conn_run(struct conn *c)
{
    if (c->ur_failed) {
        conn_close(c);
        return;
    }
    if (c->list == &c->w->ready_list)
        return; /* already queued to run */
    run(c);
}

bool conn_uring_done(struct conn *c, const struct io_uring_cqe *cqe)
{
    struct uring *u = c->w->uring;
    enum uring_kind kind = (enum uring_kind)(cqe->user_data & UR_KIND_MASK);
    int res = cqe->res;
    c->ur_pending &= (uint8_t)~UR_BIT(kind);
    if (kind == UR_RECV) {
        if (res > 0 && !c->ur_zombie)
            take_input(c, uring_buf(u, cqe), (size_t)res);
        if (cqe->flags & IORING_CQE_F_BUFFER)
            uring_buf_put(u, cqe);
        if (res > 0)
            c->ur_try = (cqe->flags & IORING_CQE_F_SOCK_NONEMPTY) != 0;
        else if (res == -ENOBUFS || res == -EINTR || res == -EAGAIN)
            c->ur_try = true; /* read again */
        else
            c->ur_eof = c->readable = true; /* end of input, or an error */
        if (c->state != CONN_READ)
            c->readable = true; /* lingering: drain with recv */
    } else if (kind == UR_SEND) {
        if (res > 0)
            conn_sent(c, (uint64_t)res, c->ur_more);
        else if (res != -EINTR && res != -EAGAIN)
            c->ur_failed = true; /* a reset, a broken pipe, or canceled */
    } else {
        if (res < 0 || (res & (POLLIN | POLLRDHUP | POLLHUP | POLLERR)))
            c->readable = true;
        if (res < 0 || (res & (POLLOUT | POLLHUP | POLLERR)))
            c->writable = true;
    }
    if (c->ur_zombie) {
        if (!c->ur_pending)
            conn_close(c);
        return false;
    }
    return true;
}

void conn_resume(struct conn *c)
{
    /* Give it back its timer: a parked send keeps its send deadline fresh. */
    if (c->state == CONN_SEND)
        conn_arm(c, &c->w->send_list, c->w->conf->send_timeout_ms);
    else if (c->state == CONN_READ)
        conn_arm(c, &c->w->header_list, c->w->conf->header_timeout_ms);
    else
        conn_arm(c, &c->w->linger_list, LINGER_MS);
    run(c);
}

void conn_on_timeout(struct conn *c)
{
    if (c->state == CONN_READ && c->in_len > 0 && c->list == &c->w->header_list) {
        /* A partial head that took too long: 408 and close (RFC 9110 15.5.9). */
        c->writable = true;
        reject_head(c, 408, false);
        run(c);
        return;
    }
    conn_close(c);
}

void conn_on_shutdown(struct conn *c, bool first_done)
{
    if (c->state == CONN_READ && c->in_len == 0 && (c->requests > 0 || first_done)) {
        conn_close(c);
        return;
    }
    c->keep_alive = false; /* takes effect on responses not yet started */
}

struct conn *conn_accept(struct worker *w, int fd, const struct sockaddr *peer, socklen_t peerlen,
                         bool over_limit)
{
    struct conn *c = w->connpool;
    if (c) {
        w->connpool = c->next;
        w->nconnpool--;
    } else {
        c = malloc(sizeof(*c));
        if (!c) {
            close(fd);
            atomic_fetch_sub_explicit(&w->srv->nconns, 1, memory_order_relaxed);
            return NULL;
        }
    }
    memset(c, 0, offsetof(struct conn, peer));
    c->w = w;
    c->fd = fd;
    c->file_fd = -1;
    c->readable = true; /* the request has often arrived with the connection */
    c->ur_direct = w->uring != NULL;
    c->writable = true;
    if (peerlen > sizeof(c->peer))
        peerlen = sizeof(c->peer);
    if (peer) {
        memcpy(&c->peer, peer, peerlen);
    } else {
        /* io_uring's accept does not give the address. Asked for now if it
         * will be logged (a connection reset later has none to give), else
         * when it is logged after all (format_peer). */
        socklen_t sl = sizeof(c->peer);
        if (!w->conf->access_log || getpeername(fd, &c->peer.sa, &sl) < 0)
            c->peer.sa.sa_family = AF_UNSPEC;
    }
    w->nconns++;

    if (over_limit) {
        if (ensure_buf(c) < 0) {
            conn_close(c);
            return NULL;
        }
        start_request_clock(c);
        reject_head(c, 503, false);
        run(c);
        return NULL;
    }
    c->state = CONN_READ;
    conn_arm(c, &w->header_list, w->conf->header_timeout_ms);
    prefetch(c);
    return c;
}
