/* Taking new connections from the listening sockets, for both loops:
 * accept4(2) in batches (epoll) or the io_uring accept, max_connections
 * with its bound on the 503s, shedding when out of descriptors or memory,
 * and a listener that cannot accept any more. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "conf.h"
#include "conn.h"
#include "listen.h"
#include "log.h"
#include "uring.h"
#include "worker.h"
#include "worker_int.h"

#define ACCEPTS_PER_WAKE 64

/* How long accepting stops, out of descriptors (shed_one) or over
 * max_connections (worker_accept_take), before it is tried again. */
#define ACCEPT_PAUSE_MS 100

/* io_uring: a multishot accept takes each connection as it comes, however
 * many; at max_connections the accept takes one at a time instead, so that
 * the rest wait in the listen queue (worker_accept_take). */
void worker_accept_arm(struct worker *w, unsigned l)
{
    bool full = atomic_load_explicit(&w->srv->nconns, memory_order_relaxed) >=
                (unsigned)w->conf->max_connections;
    uring_accept(w->uring, w->srv->ls[l].fd, UR_UD_LISTEN(l), !full);
}

/* Stop or resume watching the listening sockets in this worker. */
void worker_accept_watch(struct worker *w, bool on)
{
    for (unsigned l = 0; l < w->srv->nls; l++) {
        if (on && atomic_load_explicit(&w->srv->ls[l].broken, memory_order_relaxed))
            continue;
        if (w->uring) {
            if (on)
                worker_accept_arm(w, l);
            else
                uring_cancel(w->uring, UR_UD_LISTEN(l));
            continue;
        }
        struct epoll_event ev = {.events = EPOLLIN | EPOLLEXCLUSIVE,
                                 .data.u64 = EV_LISTEN_BASE + l};
        epoll_ctl(w->epfd, on ? EPOLL_CTL_ADD : EPOLL_CTL_DEL, w->srv->ls[l].fd, &ev);
    }
}

/* Whether an accept error is the listener's own, one that retrying does not
 * cure (EINVAL: it was shut down; EBADF...). Not: a new connection's own
 * errors (reset before it was taken, and the pending network errors that
 * accept(2) says to treat as EAGAIN), a moment's (EAGAIN, EINTR), our own
 * cancel (ECANCELED, io_uring), and want of descriptors or memory. */
static bool accept_error_lasts(int err)
{
    switch (err) {
    case EAGAIN: case EINTR: case ECONNABORTED: case EPROTO: case EPERM: case ENETDOWN:
    case ENOPROTOOPT: case EHOSTDOWN: case ENONET: case EHOSTUNREACH: case EOPNOTSUPP:
    case ENETUNREACH: case ETIMEDOUT: case ECANCELED: case EMFILE: case ENFILE: case ENOBUFS:
    case ENOMEM:
        return false;
    default:
        return true;
    }
}

/* The listener cannot accept any more: stop watching it (here, and in each
 * worker as it meets the error too) rather than spin on it, and say so
 * once. The other listeners go on. */
static void listener_broken(struct worker *w, unsigned idx, int err)
{
    struct listener *l = &w->srv->ls[idx];
    if (!atomic_exchange(&l->broken, true))
        log_msg(LOG_ERR, "listener %s: accept: %s; no longer accepting on it", l->name,
                strerror(err));
    if (!w->uring)
        epoll_ctl(w->epfd, EPOLL_CTL_DEL, l->fd, NULL);
    /* io_uring: the multishot accept ended with the error; it is not taken up again */
}

/* An accept on lfd failed for want of descriptors or memory (err). The error may
 * be stale (an io_uring completion handled after connections closed), so
 * accept again first: a connection that comes is returned, to be served.
 * Else shed one queued connection with the reserve descriptor. When none
 * was shed (the queue is empty, or another thread took the descriptor we
 * freed), stop accepting for a moment: an io_uring accept would fail at
 * once again, and so would a level-triggered listener; the queue waits in
 * the kernel meanwhile. */
static int shed_one(struct worker *w, int lfd, int err)
{
    /* The advice follows the cause: LimitNOFILE= is the process's limit,
     * not the system's (ENFILE), and neither is memory (ENOMEM, ENOBUFS). */
    if (err == EMFILE)
        log_limited(&w->accept_log, w->now_ms, LOG_WARNING,
                    "out of file descriptors: refusing new connections "
                    "(raise LimitNOFILE= or lower max_connections)");
    else if (err == ENFILE)
        log_limited(&w->accept_log, w->now_ms, LOG_WARNING,
                    "out of file descriptors system-wide: refusing new connections "
                    "(raise fs.file-max or lower max_connections)");
    else
        log_limited(&w->accept_log, w->now_ms, LOG_WARNING,
                    "out of memory: refusing new connections (accept: %s)", strerror(err));
    int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd >= 0)
        return fd;
    if (errno == EAGAIN || errno == EWOULDBLOCK)
        return -1; /* descriptors to spare, and nobody waiting */
    bool shed = false;
    if (w->reserve_fd >= 0) {
        close(w->reserve_fd);
        w->reserve_fd = -1;
        fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
        if (fd >= 0) {
            close(fd);
            shed = true;
        }
        w->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    }
    if ((!shed || w->reserve_fd < 0) && !w->accept_paused_until) {
        w->accept_paused_until = w->now_ms + ACCEPT_PAUSE_MS;
        worker_accept_watch(w, false);
    }
    return -1;
}

/* Connections over max_connections are answered 503 (conn_accept), at most
 * OVER_LIMIT_MAX beyond it at once: past that this worker stops accepting
 * for a moment, and new connections wait in the listen queue, as nginx
 * leaves them at worker_connections. Without the bound a flood would be
 * accepted as fast as it comes, each 503 holding a descriptor while it
 * lingers, until none is left for the connections within the limit. */
#define OVER_LIMIT_MAX 64

/* A connection just accepted: counted, and made a conn (conn_accept).
 * multishot: it came from an io_uring accept that takes every connection
 * as it comes, which must stop now (worker_accept_arm takes it up again, one
 * connection at a time). What that accept took before its cancel went in
 * may pass the bound: those are closed at once, unanswered, so that the
 * bound on descriptors holds. Returns NULL when there is nothing more to
 * do with it here (answered 503 at once, closed, out of memory). */
struct conn *worker_accept_take(struct worker *w, int fd, const struct sockaddr *peer,
                                socklen_t peerlen, bool multishot)
{
    unsigned n = atomic_fetch_add_explicit(&w->srv->nconns, 1, memory_order_relaxed);
    unsigned max = (unsigned)w->conf->max_connections; /* at most 1000000 */
    bool over = n >= max;
    /* each worker stops on its own; stopping, the listeners are not
     * watched any more (begin_shutdown) */
    if (over && (multishot || n + 1 >= max + OVER_LIMIT_MAX) && !w->accept_paused_until &&
        !server_stopping(w->srv)) {
        log_limited(&w->limit_log, w->now_ms, LOG_WARNING,
                    "max_connections = %u reached: new connections wait in the listen queue",
                    max);
        w->accept_paused_until = w->now_ms + ACCEPT_PAUSE_MS;
        worker_accept_watch(w, false);
    }
    if (over && n >= max + OVER_LIMIT_MAX) {
        close(fd);
        atomic_fetch_sub_explicit(&w->srv->nconns, 1, memory_order_relaxed);
        return NULL;
    }
    return conn_accept(w, fd, peer, peerlen, over);
}

/* An accept on listener idx failed with err (either loop). Returns a
 * connection accepted after all (see shed_one), or -1. */
int worker_accept_failed(struct worker *w, unsigned idx, int err)
{
    /* stopping, what is queued is left for the next process */
    if (err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM)
        return server_stopping(w->srv) ? -1 : shed_one(w, w->srv->ls[idx].fd, err);
    if (accept_error_lasts(err))
        listener_broken(w, idx, err);
    return -1;
}

void worker_accept_on_listen(struct worker *w, unsigned idx)
{
    int lfd = w->srv->ls[idx].fd;
    struct conn *fresh[ACCEPTS_PER_WAKE];
    unsigned nfresh = 0;
    for (int i = 0; i < ACCEPTS_PER_WAKE; i++) {
        struct sockaddr_storage ss;
        socklen_t sl = sizeof(ss);
        int fd = accept4(lfd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            /* or EAGAIN: another worker took it, or the queue is empty */
            if ((fd = worker_accept_failed(w, idx, errno)) < 0)
                break;
            sl = 0; /* the peer's address comes from the connection */
        }
        struct conn *c = worker_accept_take(w, fd, sl ? (struct sockaddr *)&ss : NULL, sl, false);
        if (c)
            fresh[nfresh++] = c;
        if (w->accept_paused_until)
            break; /* over the limit: the rest wait in the queue */
    }
    /* All accepted and their requests read, now answered (see conn_run). */
    for (unsigned i = 0; i < nfresh; i++)
        conn_run(fresh[i]);
}

void worker_accept_pause_over(struct worker *w)
{
    if (atomic_load_explicit(&w->srv->nconns, memory_order_relaxed) >=
        (unsigned)w->conf->max_connections + OVER_LIMIT_MAX) {
        w->accept_paused_until = w->now_ms + ACCEPT_PAUSE_MS; /* the 503s still out */
        return;
    }
    w->accept_paused_until = 0;
    if (w->reserve_fd < 0)
        w->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    worker_accept_watch(w, true);
}
