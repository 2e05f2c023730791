/* The connection state machine of pyserve-stress (see sconn.h and, for
 * the choice of edge-triggered epoll, engine.c). */
#include "config.h"

#include "sconn.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_READS_PER_TURN 32        /* then the connection waits its turn */
#define CONNECT_BACKOFF_NS 10000000u /* 10 ms between failed connects */

static bool open_loop(const struct stress_thread *t)
{
    return t->run->o->rate != 0;
}

/* Open loop: when request k of c is due. */
static uint64_t due_ns(const struct sconn *c, uint64_t k)
{
    return sched_due_ns(&c->t->sched, c->gidx, k) + c->shift_ns;
}

/* --- accounting ---------------------------------------------------------- */

static bool counting(const struct stress_thread *t, uint64_t start_ns)
{
    return start_ns >= t->run->measure_ns;
}

static void take_quota(struct stress_thread *t, uint64_t n)
{
    if (t->left != UINT64_MAX)
        t->left = t->left > n ? t->left - n : 0;
}

/* A failure that no written request accounts for (a socket that failed
 * before its request, bytes nobody asked for): 1 when it counts, which it
 * does only when measured and while the quota (-n) has room for it, and
 * then it uses that room: the answered and failed requests together never
 * exceed -n, however many connections fail at once. */
static uint64_t take_one(struct stress_thread *t, bool measured)
{
    if (!measured || t->left == 0)
        return 0;
    take_quota(t, 1);
    return 1;
}

static void give_quota(struct stress_thread *t, uint64_t n)
{
    if (t->left != UINT64_MAX)
        t->left += n;
}

/* The connect figures have the sockets established after the warm-up and
 * those of the warm-up that carry a measured request (the connections of
 * the measured load, as with no warm-up), each once. */
static void count_connect(struct sconn *c, bool warmup)
{
    struct stress_thread *t = c->t;
    c->counted = true;
    t->st.connects++;
    t->st.connects_warmup += warmup;
    ps_hist_record(&t->st.connect, c->up_ns);
}

/* How many of the requests outstanding on c are measured (were due after
 * the warm-up). */
static uint64_t measured_pending(const struct sconn *c)
{
    const struct stress_thread *t = c->t;
    uint64_t m = 0;
    for (uint16_t i = 0; i < c->pcount; i++)
        m += counting(t, c->pend[(c->phead + i) % t->run->o->pipeline].due_ns);
    return m;
}

static void count_failure(struct stress_thread *t, enum fail_kind kind, uint64_t n)
{
    struct stress_stats *s = &t->st;
    switch (kind) {
    case F_CONNECT: s->err_connect += n; break;
    case F_READ: s->err_read += n; break;
    case F_WRITE: s->err_write += n; break;
    case F_TIMEOUT: s->err_timeout += n; break;
    case F_BAD: s->err_bad += n; break;
    }
}

/* A measured request due at due and not answered by end: it waited at
 * least until end, and that is its corrected latency, so that a server
 * that stalls until the end shows the stall. */
static void count_unanswered(struct stress_thread *t, uint64_t due, uint64_t end)
{
    if (!counting(t, due))
        return;
    t->st.unanswered++;
    ps_hist_record(&t->st.latency, end > due ? end - due : 0);
}

uint64_t sconn_unanswered(struct sconn *c, uint64_t end, uint64_t budget)
{
    struct stress_thread *t = c->t;
    for (uint16_t i = 0; i < c->pcount; i++)
        count_unanswered(t, c->pend[(c->phead + i) % t->run->o->pipeline].due_ns, end);
    if (c->state == C_DONE)
        return 0;
    uint64_t n = 0, due;
    while (n < budget && (due = due_ns(c, c->k + n)) < end) {
        count_unanswered(t, due, end);
        n++;
    }
    return n;
}

/* --- sockets ------------------------------------------------------------- */

void sconn_close(struct sconn *c)
{
    if (c->fd >= 0) {
        close(c->fd); /* also leaves the epoll set */
        c->fd = -1;
    }
    c->want_write = false;
    c->fresh = false;
    c->closing = false;
    c->first = false;
    c->wl = 0;
    c->on_socket = 0;
    c->state = C_IDLE;
}

/* Requests written but not answered go back to be sent again (the server
 * closed the connection after an earlier response, which it may do): the
 * quota gets back those it counted, the open-loop schedule and the mix
 * rewind. */
static void drop_pending(struct sconn *c)
{
    struct stress_thread *t = c->t;
    uint16_t n = c->pcount;
    if (n == 0)
        return;
    give_quota(t, measured_pending(c));
    t->inflight -= n;
    c->k -= n;
    size_t nc = t->run->ncycle;
    c->cycle_pos = (uint32_t)((c->cycle_pos + nc - n % nc) % nc);
    c->pcount = 0;
    c->phead = 0;
}

/* After a socket ended: a new one, or none when the work is done. */
static void conn_next(struct sconn *c, uint64_t now, bool backoff)
{
    struct stress_thread *t = c->t;
    if (t->run->o->once || t->left == 0) {
        stress_timer_remove(c);
        c->state = C_DONE;
        t->ndone++;
        return;
    }
    if (backoff) {
        c->state = C_WAIT;
        stress_timer_set(c, now + CONNECT_BACKOFF_NS);
        return;
    }
    sconn_connect(c, now);
}

/* Is c's next request due (closed loop: always)? */
static bool request_due(const struct sconn *c, uint64_t now)
{
    const struct stress_thread *t = c->t;
    return !open_loop(t) || due_ns(c, c->k) <= now;
}

/* Every request outstanding on c failed: count them (those of the warm-up
 * are not), close, go on.
 *
 * A socket that ends before a request was written on it (the server closed
 * or reset it at once, or spoke first, as a server at its connection limit
 * does) failed like a connect: the request it was opened for is one error
 * and one attempt, so that -n and --once runs end, and the next connect
 * waits the back-off instead of spinning. In the open loop, before that
 * request is due, it is only an idle connection the server closed. */
void sconn_fail(struct sconn *c, enum fail_kind kind, uint64_t now)
{
    struct stress_thread *t = c->t;
    bool unused = kind == F_CONNECT || c->on_socket == 0;
    uint64_t n; /* failures counted */
    if (unused) {
        bool idle = kind == F_READ && !request_due(c, now);
        if (kind == F_READ)
            kind = F_CONNECT; /* closed or reset before the request */
        n = take_one(t, !idle && counting(t, now));
    } else if (c->pcount > 0) {
        n = measured_pending(c);
    } else { /* bytes nobody asked for on an idle connection */
        n = take_one(t, kind != F_READ && counting(t, now));
    }
    count_failure(t, kind, n);
    t->inflight -= c->pcount;
    c->pcount = 0;
    c->phead = 0;
    sconn_close(c);
    conn_next(c, now, unused);
}

/* Close after a normal end (the server's or our Connection: close). */
static void conn_restart(struct sconn *c, uint64_t now)
{
    drop_pending(c);
    sconn_close(c);
    conn_next(c, now, false);
}

/* The server closed (or reset) a socket on which it had answered, before
 * a byte of the next response: the requests outstanding were not answered
 * and, GET and HEAD being idempotent, may be sent again (RFC 9112 9.3.2),
 * as after a Connection: close. A socket closed before any answer fails
 * instead: every retry has made progress, none loops. */
static bool resendable(const struct sconn *c)
{
    return c->on_socket > c->pcount && !c->dec.started;
}

/* A read or write on c failed with err: the server's reset after an
 * answer sends the requests again, anything else fails them as kind. */
static void conn_lost(struct sconn *c, enum fail_kind kind, int err, uint64_t now)
{
    if ((err == ECONNRESET || err == EPIPE) && resendable(c))
        conn_restart(c, now);
    else
        sconn_fail(c, kind, now);
}

static int conn_flush(struct sconn *c, uint64_t now)
{
    while (c->wl > 0) {
        ssize_t n = send(c->fd, c->wp, c->wl, MSG_NOSIGNAL);
        if (n > 0) {
            c->wp += n;
            c->wl -= (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            c->want_write = true; /* the EPOLLOUT edge resumes */
            return 0;
        }
        conn_lost(c, F_WRITE, n < 0 ? errno : EIO, now);
        return -1;
    }
    c->want_write = false;
    return 0;
}

/* Write as many new requests as the pipeline, the quota and (open loop)
 * the schedule allow, in one write. The quota (-n) counts the requests
 * that are measured, not those of the warm-up. */
void sconn_fill(struct sconn *c, uint64_t now)
{
    struct stress_thread *t = c->t;
    const struct stress_run *run = t->run;
    const struct stress_opts *o = run->o;
    if (c->state != C_OPEN || c->wl > 0)
        return;
    uint64_t room = o->pipeline - c->pcount;
    if (!o->keep_alive || o->once)
        room = c->on_socket == 0 && c->pcount == 0 ? 1 : 0;
    if (room > t->left)
        room = t->left;
    uint64_t n = room;
    if (open_loop(t)) {
        /* The schedule ends with the run: the events of the turn in which
         * the end passes are still handled, and a request due after the end
         * that went out then would count as due and unanswered. */
        uint64_t upto = now < run->end_ns ? now : run->end_ns - 1;
        n = sched_sendable(&t->sched, c->gidx, c->k, upto - c->shift_ns, room);
        uint64_t next = due_ns(c, c->k + n); /* after upto when n < room */
        if (n < room && next < run->end_ns)
            stress_timer_set(c, next);
        else
            stress_timer_remove(c);
    }
    if (n == 0)
        return;
    size_t off = 0;
    uint64_t measured = 0;
    for (uint64_t i = 0; i < n; i++) {
        uint32_t req = run->cycle[c->cycle_pos];
        if (++c->cycle_pos == run->ncycle)
            c->cycle_pos = 0;
        struct pend *p = &c->pend[(c->phead + c->pcount) % o->pipeline];
        p->sent_ns = now;
        p->due_ns = open_loop(t) ? due_ns(c, c->k) : now;
        p->req = req;
        p->ttfb_done = false;
        measured += counting(t, p->due_ns);
        c->pcount++;
        c->k++;
        if (n == 1) {
            c->wp = run->req[req]; /* no copy for a single request */
            c->wl = run->req_len[req];
        } else {
            memcpy(c->obuf + off, run->req[req], run->req_len[req]);
            off += run->req_len[req];
        }
    }
    if (n > 1) {
        c->wp = c->obuf;
        c->wl = off;
    }
    c->on_socket += (uint32_t)n;
    take_quota(t, measured);
    if (measured && !c->counted)
        count_connect(c, true); /* opened in the warm-up */
    t->inflight += n;
    conn_flush(c, now);
}

/* The socket's one registration (ADD), or its re-arming (MOD), which
 * reports again whatever it is ready for. */
static int epoll_arm(struct sconn *c, int op)
{
    struct epoll_event ev = {
        .events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET,
        .data.u64 = (uint64_t)c->gen << 32 | c->idx,
    };
    return epoll_ctl(c->t->epfd, op, c->fd, &ev);
}

static void conn_connected(struct sconn *c, uint64_t now)
{
    struct stress_thread *t = c->t;
    const struct stress_opts *o = t->run->o;
    c->state = C_OPEN;
    c->up_ns = now - c->connect_ns;
    if (counting(t, now))
        count_connect(c, false);
    /* Open loop: the connections are opened when the schedule starts, and
     * a request due before its connection was up would be charged the
     * start-up of this program, which no client arriving at the rate
     * meets. The first socket of a connection, when it comes up, moves
     * the connection's whole schedule by how late it came (its connect
     * time is in the connect figures). A first attempt that failed, and
     * every reconnect later in the run, move nothing: what they delay is
     * charged from the due times. */
    if (open_loop(t) && c->first) {
        uint64_t due = sched_due_ns(&t->sched, c->gidx, 0);
        c->shift_ns = now > due ? now - due : 0;
    }
    c->first = false;
    rdec_start(&c->dec, o->head, o->have_sha256);
    /* The first request goes out when the next loop turn reports the socket
     * writable again, in epoll's order among the other events, as wrk does.
     * Written at once, it would meet the server's accept, and the latency
     * (from the write) would time another stretch of the exchange than
     * wrk's with --no-keep-alive; written at the end of the turn, it would
     * leave out the time the loop spends on the other sockets. */
    c->fresh = epoll_arm(c, EPOLL_CTL_MOD) == 0;
    if (!c->fresh)
        sconn_fill(c, now);
}

void sconn_connect(struct sconn *c, uint64_t now)
{
    struct stress_thread *t = c->t;
    const struct stress_run *run = t->run;
    int one = 1;

    c->connect_ns = now;
    c->counted = false;
    c->phead = c->pcount = 0;
    c->on_socket = 0;
    int fd = socket(run->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        sconn_fail(c, F_CONNECT, now); /* EMFILE and the like: back off */
        return;
    }
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    c->fd = fd;
    c->gen++;
    if (epoll_arm(c, EPOLL_CTL_ADD) < 0) {
        sconn_fail(c, F_CONNECT, now);
        return;
    }
    /* Even an immediate success waits for its EPOLLOUT edge, which always
     * comes: no recursion from here into the request path. */
    if (connect(fd, (const struct sockaddr *)&run->addr, run->addrlen) == 0 ||
        errno == EINPROGRESS) {
        c->state = C_CONNECTING;
        return;
    }
    sconn_fail(c, F_CONNECT, now);
}

/* --- responses ----------------------------------------------------------- */

static void check_body(struct sconn *c, const struct pend *p)
{
    struct stress_thread *t = c->t;
    const struct stress_opts *o = t->run->o;
    if (c->dec.status < 200 || c->dec.status > 299)
        return;
    if (o->verify) {
        uint64_t want = t->run->ref_len[p->req];
        /* HEAD: the announced length must be the reference's */
        uint64_t got =
            o->head ? (c->dec.has_length ? c->dec.content_length : want) : c->dec.body_len;
        if (got != want) {
            t->st.err_verify++;
            return;
        }
    }
    if (o->have_sha256) {
        uint8_t d[SHA256_DIGEST_LEN];
        sha256_final(&c->dec.sha, d);
        if (memcmp(d, o->sha256, sizeof(d)) != 0)
            t->st.err_verify++;
    }
}

/* A response is complete. Returns whether the connection stays open. */
static bool response_done(struct sconn *c, uint64_t now)
{
    struct stress_thread *t = c->t;
    const struct stress_opts *o = t->run->o;
    struct pend *p = &c->pend[c->phead];
    c->phead = (uint16_t)((c->phead + 1) % o->pipeline);
    c->pcount--;
    t->inflight--;
    if (counting(t, p->due_ns)) {
        struct stress_stats *s = &t->st;
        uint64_t corrected, uncorrected;
        sched_latency(p->due_ns, p->sent_ns, now, &corrected, &uncorrected);
        s->requests++;
        stress_stats_status(s, c->dec.status);
        ps_hist_record(&s->latency, corrected);
        if (open_loop(t))
            ps_hist_record(&s->uncorrected, uncorrected);
        check_body(c, p);
    }
    return o->keep_alive && !o->once && c->dec.keep_alive;
}

/* Bytes from the socket. Returns 0, or -1 when the socket was closed (the
 * connection may already be on a new one). */
static int conn_consume(struct sconn *c, const char *p, size_t n, uint64_t now)
{
    struct stress_thread *t = c->t;
    const struct stress_opts *o = t->run->o;
    while (n > 0) {
        if (c->pcount == 0) {
            sconn_fail(c, F_BAD, now); /* a response nobody asked for */
            return -1;
        }
        struct pend *pd = &c->pend[c->phead];
        if (!pd->ttfb_done) {
            pd->ttfb_done = true;
            if (counting(t, pd->due_ns))
                ps_hist_record(&t->st.ttfb, now - pd->sent_ns);
        }
        enum rdec_event ev;
        size_t used = rdec_feed(&c->dec, p, n, &ev);
        p += used;
        n -= used;
        if (ev == RDEC_BAD) {
            sconn_fail(c, F_BAD, now);
            return -1;
        }
        if (ev == RDEC_DONE) {
            if (!response_done(c, now)) {
                conn_restart(c, now);
                return -1;
            }
            rdec_start(&c->dec, o->head, o->have_sha256);
        }
    }
    return 0;
}

static void conn_eof(struct sconn *c, uint64_t now)
{
    if (c->pcount == 0 && c->on_socket == 0) { /* closed before the request */
        sconn_fail(c, F_READ, now);
        return;
    }
    if (c->pcount == 0) { /* an idle keep-alive connection closed */
        conn_restart(c, now);
        return;
    }
    switch (rdec_eof(&c->dec)) {
    case RDEC_DONE: /* a body delimited by the close */
        response_done(c, now);
        conn_restart(c, now);
        break;
    case RDEC_BAD: sconn_fail(c, F_BAD, now); break;
    case RDEC_MORE: /* closed before answering */
        if (resendable(c))
            conn_restart(c, now);
        else
            sconn_fail(c, F_READ, now);
        break;
    }
}

static void ready_push(struct sconn *c)
{
    if (c->in_ready)
        return;
    c->in_ready = true;
    c->ready_next = c->t->ready;
    c->t->ready = c;
}

void sconn_readable(struct sconn *c, uint32_t events, uint64_t now)
{
    struct stress_thread *t = c->t;
    /* kept: the close is announced once, and may be behind more data than
     * this turn reads (the rest is read from the ready list) */
    if (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR))
        c->closing = true;
    uint32_t gen = c->gen;
    for (unsigned i = 0;; i++) {
        if (i == MAX_READS_PER_TURN) {
            ready_push(c); /* fairness: the others first, then more */
            break;
        }
        ssize_t n = read(c->fd, t->rbuf, SCONN_RBUF_SIZE);
        now = stress_now_ns();
        if (n > 0) {
            if (counting(t, now))
                t->st.bytes += (uint64_t)n;
            if (conn_consume(c, t->rbuf, (size_t)n, now) < 0)
                return;
            if ((size_t)n < SCONN_RBUF_SIZE && !c->closing)
                break; /* drained: the next arrival is a new edge */
            continue;
        }
        if (n == 0) {
            conn_eof(c, now);
            return;
        }
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            break;
        conn_lost(c, F_READ, errno, now); /* a reset: closed with requests unread */
        return;
    }
    if (c->gen == gen && c->state == C_OPEN)
        sconn_fill(c, now);
}

void sconn_event(struct sconn *c, uint32_t events, uint64_t now)
{
    if (c->state == C_CONNECTING) {
        int err = 0;
        socklen_t len = sizeof(err);
        if (!(events & (EPOLLOUT | EPOLLERR | EPOLLHUP)))
            return;
        if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
            err = errno;
        if (err != 0 || ((events & (EPOLLERR | EPOLLHUP)) && !(events & EPOLLOUT))) {
            sconn_fail(c, F_CONNECT, now);
            return;
        }
        conn_connected(c, now);
        if (c->state != C_OPEN || c->fresh)
            return; /* the re-armed socket reports all it has next turn */
    }
    if (c->state != C_OPEN)
        return;
    uint32_t gen = c->gen;
    if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
        sconn_readable(c, events, now);
    if (c->gen == gen && c->state == C_OPEN && c->fresh && (events & EPOLLOUT)) {
        c->fresh = false;
        sconn_fill(c, now);
    } else if (c->gen == gen && c->state == C_OPEN && c->want_write && (events & EPOLLOUT)) {
        if (conn_flush(c, now) == 0 && !c->want_write)
            sconn_fill(c, now);
    }
}
