/* Worker threads: one event loop each, on io_uring where the kernel allows
 * it (uring_loop), else on epoll (epoll_loop). With epoll the listening
 * sockets are in every worker's set with EPOLLEXCLUSIVE, so the kernel wakes
 * one worker per incoming connection instead of all of them; with io_uring
 * each worker has a multishot accept queued on each. Either way a
 * connection stays with the worker that accepted it until it closes. */
#include "config.h"

#include "worker.h"
#include "worker_int.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include "conf.h"
#include "conn.h"
#include "fcache.h"
#include "listen.h"
#include "log.h"
#include "mime.h"
#include "monoclock.h"
#include "uring.h"

/* epoll's data.u64: these small numbers, EV_LISTEN_BASE + i for listener
 * i (worker_int.h), or a connection's address */
#define EV_CONTROL 1u
#define EV_FCACHE 2u /* the file cache's inotify descriptor */
#define MAX_EVENTS 256
#define OUT_EXTRA 1536 /* status line and fields besides Location, error body */
#define SCRATCH_CAP (2 * (64 * 1024 + 64))

static void refresh_date(struct worker *w)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME_COARSE, &ts);
    if (ts.tv_sec != w->date_sec) {
        w->date_sec = ts.tv_sec;
        ps_http_date_format(ts.tv_sec, w->date);
    }
}

static void size_buffers(struct worker *w)
{
    w->in_cap = w->conf->max_head_size;
    w->head_cap = w->conf->max_uri_length + OUT_EXTRA;
    w->out_cap = CONN_BUF_SIZE(w->in_cap, w->head_cap) - w->in_cap;
    bufpool_resize(&w->bufpool, w->in_cap + w->out_cap);
}

/* The I/O buffer pool (bufpool.h) holds up to BUFPOOL_CAP buffers, enough
 * for the bursts an io_uring turn makes (each request of a turn holds its
 * buffer until its send completes, at the next turn). Buffers given back and
 * not taken again for a whole period of BUFPOOL_TRIM_MS give their pages
 * back, all but BUFPOOL_KEEP of them and at most BUFPOOL_TRIM_MOST a period:
 * a steady load keeps what it uses, and the memory a burst of 256 requests
 * took returns within about five seconds. */
#define BUFPOOL_CAP 1024
#define BUFPOOL_KEEP 16
#define BUFPOOL_TRIM_MS 1000
/* Stopping: how long a connection accepted without its first request yet
 * gets for it. A client sends its request as soon as it is connected, so
 * it is there or on its way; one that sends nothing (a browser's
 * speculative connection) must not hold the stop for header_timeout. */
#define STOP_FIRST_REQUEST_MS 1000
#define FCACHE_SWEEP_MS 1000 /* fcache_sweep: unwatched entries confirmed this often */
#define BUFPOOL_TRIM_MOST 64 /* madvise calls a trim makes: 10-20 us each, flushing TLBs */

char *worker_buf_get(struct worker *w)
{
    return bufpool_get(&w->bufpool);
}

void worker_buf_put(struct worker *w, char *buf, size_t in_cap, size_t out_cap)
{
    if (in_cap == w->in_cap && out_cap == w->out_cap)
        bufpool_put(&w->bufpool, buf);
    else
        free(buf); /* sized for the conf before the last reload */
}

/* io_uring: a poll of the file cache's inotify descriptor, if it has one. */
static void arm_fcache_poll(struct worker *w)
{
    if (fcache_event_fd(w->fcache) >= 0)
        uring_poll_multishot(w->uring, fcache_event_fd(w->fcache), UR_UD_FCACHE);
}

/* The file cache's inotify events come through the worker's loop. */
static void watch_fcache(struct worker *w)
{
    int fd = fcache_event_fd(w->fcache);
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = EV_FCACHE};
    int e = fcache_watch_error(w->fcache);
    if (fd < 0 && e)
        log_msg(LOG_WARNING,
                "worker %u: file cache: inotify_init1: %s%s; each cache hit is confirmed "
                "with fstatat, and listings are made anew",
                w->id, strerror(e), e == EMFILE ? " (fs.inotify.max_user_instances)" : "");
    if (w->uring)
        arm_fcache_poll(w);
    else if (fd >= 0 && epoll_ctl(w->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
        log_msg(LOG_WARNING, "worker %u: file cache events: epoll_ctl: %s", w->id,
                strerror(errno));
}

/* Whether io_uring can be used: set one up and take it down again, so a
 * kernel or filter that refuses it is named once, at startup. */
static bool try_uring(void)
{
    struct uring u;
    char why[160];
    if (uring_setup(&u, why, sizeof(why)) < 0) {
        log_msg(LOG_WARNING, "io_uring: %s; the workers use epoll", why);
        return false;
    }
    uring_teardown(&u);
    return true;
}

int worker_pool_init(struct server *srv, unsigned n, struct conf *conf, char *err,
                     size_t errsz)
{
    srv->io_uring = conf->io_uring && try_uring();
    srv->workers = calloc(n, sizeof(struct worker));
    if (!srv->workers)
        return -ENOMEM;
    srv->nworkers = n;
    for (unsigned i = 0; i < n; i++) {
        struct worker *w = &srv->workers[i];
        w->srv = srv;
        w->id = i;
        w->epfd = w->evfd = w->reserve_fd = -1;
    }
    for (unsigned i = 0; i < n; i++) {
        struct worker *w = &srv->workers[i];
        w->epfd = epoll_create1(EPOLL_CLOEXEC);
        w->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        w->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
        int pe = bufpool_init(&w->bufpool, BUFPOOL_CAP, 0);
        w->scratch_cap = SCRATCH_CAP;
        w->scratch = malloc(w->scratch_cap);
        if (getrandom(&w->boundary_seed, sizeof(w->boundary_seed), GRND_NONBLOCK) < 0)
            w->boundary_seed = (uint64_t)time(NULL) ^ ((uint64_t)i << 32);
        w->conf = conf_ref(conf);
        if (w->epfd < 0 || w->evfd < 0 || pe < 0 || !w->scratch) {
            int e = pe < 0 ? -pe : errno ? errno : ENOMEM;
            snprintf(err, errsz, "worker %u: %s", i, strerror(e));
            return -e;
        }
        /* one after another: libmagic's load is not thread-safe either */
        w->mime = mime_ctx_new(srv->mime_cache, err, errsz);
        if (!w->mime)
            return -EINVAL;
        w->fcache = fcache_new((unsigned)conf->file_cache_entries, conf->file_cache_max_file);
        if (!w->fcache) {
            snprintf(err, errsz, "worker %u: file cache: out of memory", i);
            return -ENOMEM;
        }
        watch_fcache(w);
        atomic_init(&w->pending_conf, NULL);
        size_buffers(w);
        struct epoll_event ev = {.events = EPOLLIN, .data.u64 = EV_CONTROL};
        if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, w->evfd, &ev) < 0) {
            snprintf(err, errsz, "epoll_ctl: %s", strerror(errno));
            return -errno;
        }
        for (unsigned l = 0; l < srv->nls; l++) {
            ev.events = EPOLLIN | EPOLLEXCLUSIVE;
            ev.data.u64 = EV_LISTEN_BASE + l;
            if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, srv->ls[l].fd, &ev) < 0) {
                snprintf(err, errsz, "epoll_ctl on %s: %s", srv->ls[l].name, strerror(errno));
                return -errno;
            }
        }
    }
    return 0;
}

static void wake(struct worker *w)
{
    uint64_t one = 1;
    ssize_t r = write(w->evfd, &one, sizeof(one));
    (void)r; /* a full counter means it is awake already */
}

int worker_pool_set_conf(struct server *srv, struct conf *conf, int timeout_ms)
{
    uint64_t v;
    /* forget acks of an earlier reload that timed out */
    while (read(srv->ack_fd, &v, sizeof(v)) == sizeof(v))
        ;
    for (unsigned i = 0; i < srv->nworkers; i++) {
        struct worker *w = &srv->workers[i];
        struct conf *old = atomic_exchange(&w->pending_conf, conf_ref(conf));
        if (old)
            conf_unref(old);
        wake(w);
    }
    uint64_t deadline = ps_mono_coarse_ms() + (uint64_t)timeout_ms;
    unsigned acks = 0;
    while (acks < srv->nworkers) {
        uint64_t now = ps_mono_coarse_ms();
        if (now >= deadline)
            return -ETIMEDOUT;
        struct pollfd p = {.fd = srv->ack_fd, .events = POLLIN};
        if (poll(&p, 1, (int)(deadline - now) + 1) > 0 &&
            read(srv->ack_fd, &v, sizeof(v)) == sizeof(v))
            acks++;
    }
    return 0;
}

void worker_pool_poke(struct server *srv)
{
    for (unsigned i = 0; i < srv->nworkers; i++)
        wake(&srv->workers[i]);
}

void worker_pool_stop(struct server *srv)
{
    atomic_store(&srv->stopping, true);
    for (unsigned i = 0; i < srv->nworkers; i++)
        wake(&srv->workers[i]);
}

static bool is_listener(const struct worker *w, uint64_t u)
{
    return u >= EV_LISTEN_BASE && u < EV_LISTEN_BASE + w->srv->nls;
}

static void take_conf(struct worker *w)
{
    uint64_t one = 1;
    struct conf *c = atomic_exchange(&w->pending_conf, NULL);
    if (!c)
        return;
    /* what paths resolve to may differ now (root, index, types) */
    if (w->conf->file_cache_entries != c->file_cache_entries ||
        w->conf->file_cache_max_file != c->file_cache_max_file) {
        struct fcache *nf = fcache_new((unsigned)c->file_cache_entries, c->file_cache_max_file);
        if (nf) {
            if (w->uring && fcache_event_fd(w->fcache) >= 0)
                uring_cancel(w->uring, UR_UD_FCACHE); /* before the new one is queued */
            fcache_free(w->fcache); /* entries in use live on until released */
            w->fcache = nf;
            watch_fcache(w);
        } else {
            fcache_clear(w->fcache);
        }
    } else {
        fcache_clear(w->fcache);
    }
    conf_unref(w->conf);
    w->conf = c;
    if (w->in_cap != c->max_head_size || w->head_cap != c->max_uri_length + OUT_EXTRA)
        size_buffers(w);
    ssize_t r = write(w->srv->ack_fd, &one, sizeof(one));
    (void)r;
}

/* The timer lists (and the ready list when asked), for walking them all. */
static unsigned worker_lists(struct worker *w, struct conn_list *out[5], bool with_ready)
{
    out[0] = &w->header_list;
    out[1] = &w->keepalive_list;
    out[2] = &w->send_list;
    out[3] = &w->linger_list;
    out[4] = &w->ready_list;
    return with_ready ? 5 : 4;
}

static void shutdown_pass(struct worker *w, bool first_done)
{
    struct conn_list *lists[5];
    for (unsigned i = 0, n = worker_lists(w, lists, true); i < n; i++) {
        struct conn *c = lists[i]->head;
        while (c) {
            struct conn *next = c->next;
            conn_on_shutdown(c, first_done);
            c = next;
        }
    }
}

/* Connections still in the listen queue stay there, for the next process
 * to take when systemd holds the socket; those accepted are served. */
static void begin_shutdown(struct worker *w)
{
    worker_accept_watch(w, false);
    w->accept_paused_until = 0; /* else, in the past, it would make every turn a busy one */
    w->stop_first_at = w->now_ms + STOP_FIRST_REQUEST_MS;
    shutdown_pass(w, false);
}

static void close_all(struct worker *w)
{
    struct conn_list *lists[5];
    for (unsigned i = 0, n = worker_lists(w, lists, true); i < n; i++)
        while (lists[i]->head)
            conn_close(lists[i]->head);
}

static int next_timeout(struct worker *w)
{
    if (w->ready_list.head)
        return 0;
    uint64_t first = w->accept_paused_until ? w->accept_paused_until : UINT64_MAX;
    if (w->fcache_sweep_at < first)
        first = w->fcache_sweep_at; /* a sweep's pass goes on at once */
    if (w->stop_deadline && w->stop_deadline < first)
        first = w->stop_deadline; /* in-flight responses get that long, not a second more */
    if (w->stop_first_at && w->stop_first_at < first)
        first = w->stop_first_at;
    struct conn_list *lists[5];
    for (unsigned i = 0, n = worker_lists(w, lists, false); i < n; i++)
        if (lists[i]->head && lists[i]->head->deadline < first)
            first = lists[i]->head->deadline;
    if (first == UINT64_MAX)
        return 1000; /* wake now and then for the date and the stop flag */
    if (first <= w->now_ms)
        return 0;
    uint64_t d = first - w->now_ms + 1; /* coarse clock: do not wake early */
    return d > 1000 ? 1000 : (int)d;
}

static void expire(struct worker *w)
{
    struct conn_list *lists[5];
    for (unsigned i = 0, n = worker_lists(w, lists, false); i < n; i++) {
        /* Bounded pass: a connection re-armed on the same list goes to the
         * tail with a later deadline, so this terminates. */
        while (lists[i]->head && lists[i]->head->deadline <= w->now_ms)
            conn_on_timeout(lists[i]->head);
    }
}

static void run_ready(struct worker *w)
{
    /* A connection that yields again goes to the tail: the pass ends with
     * the one that was last when it began, so that each runs once before
     * epoll gets its turn (new connections, other clients' requests); the
     * count bounds it too. */
    struct conn *c, *last = w->ready_list.tail;
    unsigned n = 0;
    while ((c = w->ready_list.head) && n++ < 64) {
        bool end = c == last;
        conn_resume(c);
        if (end)
            break;
    }
}

/* The start of a turn of either loop. */
static void begin_turn(struct worker *w)
{
    w->now_ms = ps_mono_coarse_ms();
    refresh_date(w);
    atomic_fetch_add_explicit(&w->loops, 1, memory_order_relaxed);
}

/* The end of a turn of either loop: the parked connections, the timers,
 * accepting again, stopping. Returns true when the worker is done.
 * Stopping is handled after the batch: closing connections must not free
 * one that a later event of the same batch still points to. */
static bool end_turn(struct worker *w, bool *shutting)
{
    run_ready(w);
    expire(w);
    if (w->now_ms >= w->bufpool_trim_at) {
        bufpool_trim(&w->bufpool, BUFPOOL_KEEP, BUFPOOL_TRIM_MOST);
        w->bufpool_trim_at = w->now_ms + BUFPOOL_TRIM_MS;
    }
    if (w->now_ms >= w->fcache_sweep_at &&
        fcache_sweep(w->fcache, w->conf->root_fd, w->now_ms))
        w->fcache_sweep_at = w->now_ms + FCACHE_SWEEP_MS; /* else on at the next turn */
    if (w->accept_paused_until && w->now_ms >= w->accept_paused_until && !*shutting)
        worker_accept_pause_over(w);
    if (!*shutting && server_stopping(w->srv)) {
        *shutting = true;
        w->stop_deadline = w->now_ms + w->conf->shutdown_timeout_ms;
        begin_shutdown(w);
    }
    if (w->stop_first_at && w->now_ms >= w->stop_first_at) {
        w->stop_first_at = 0;
        shutdown_pass(w, true);
    }
    return *shutting && (w->nconns == 0 || w->now_ms >= w->stop_deadline);
}

static void on_control(struct worker *w)
{
    uint64_t v;
    ssize_t r = read(w->evfd, &v, sizeof(v));
    (void)r;
    take_conf(w);
}

static void epoll_loop(struct worker *w)
{
    struct epoll_event evs[MAX_EVENTS];
    bool shutting = false;

    for (;;) {
        int n = epoll_wait(w->epfd, evs, MAX_EVENTS, next_timeout(w));
        begin_turn(w);
        if (n < 0 && errno != EINTR) {
            log_msg(LOG_CRIT, "worker %u: epoll_wait: %s", w->id, strerror(errno));
            break;
        }
        /* A new conf, and changed files, apply to everything in this batch. */
        for (int i = 0; i < n; i++) {
            if (evs[i].data.u64 == EV_CONTROL)
                on_control(w);
            else if (evs[i].data.u64 == EV_FCACHE)
                fcache_on_events(w->fcache, w->rseq);
        }
        /* Every connection reads first, then each runs (see conn_run). */
        for (int i = 0; i < n; i++) {
            uint64_t u = evs[i].data.u64;
            if (u != EV_CONTROL && u != EV_FCACHE && !is_listener(w, u))
                conn_on_event(evs[i].data.ptr, evs[i].events);
        }
        for (int i = 0; i < n; i++) {
            uint64_t u = evs[i].data.u64;
            if (u == EV_CONTROL || u == EV_FCACHE)
                continue;
            else if (is_listener(w, u))
                worker_accept_on_listen(w, (unsigned)(u - EV_LISTEN_BASE));
            else
                conn_run(evs[i].data.ptr);
        }
        if (end_turn(w, &shutting))
            break;
    }
}

/* --- the io_uring loop ------------------------------------------------------ */

/* Queue c to run after the batch's completions are taken: on q, in the
 * order its completions came. */
static void run_later(struct conn_queue *q, struct conn *c)
{
    if (c->ur_queued)
        return;
    c->ur_queued = true;
    c->ur_next = NULL;
    *q->tail = c;
    q->tail = &c->ur_next;
}

/* Run what q holds; with until_costly, stop after a run that made a
 * costly answer, leaving the rest queued. */
static void run_queue(struct worker *w, struct conn_queue *q, bool until_costly)
{
    struct conn *c;
    while ((c = q->head)) {
        q->head = c->ur_next;
        if (!q->head)
            q->tail = &q->head;
        c->ur_queued = false;
        unsigned costly = w->costly_runs;
        conn_run(c);
        if (until_costly && w->costly_runs != costly)
            return;
    }
}

void worker_flush(struct worker *w)
{
    if (w->uring)
        io_uring_submit(&w->uring->ring);
}

/* Also while stopping: a connection taken off the listen queue before the
 * accept was cancelled is served (conn_on_shutdown), not reset. */
static void on_accepted(struct worker *w, unsigned idx, int res, bool multishot)
{
    if (res < 0 && (res = worker_accept_failed(w, idx, -res)) < 0)
        return;
    struct conn *c = worker_accept_take(w, res, NULL, 0, multishot);
    if (c)
        run_later(&w->ur_accepted, c);
}

/* Whether ud is a listener's accept (UR_UD_LISTEN; the other values
 * without a kind, IGNORE, CONTROL and FCACHE, give no index below nls). */
static bool is_accept(const struct worker *w, uint64_t ud)
{
    return !(ud & UR_KIND_MASK) && UR_UD_LISTEN_INDEX(ud) < w->srv->nls;
}

/* One completion. A connection's only records what happened (and its bytes,
 * for a read): connections run once all of the batch's completions are
 * taken, as in the epoll loop, so that one look at the file cache's events
 * covers every read of the batch. */
static void on_completion(struct worker *w, const struct io_uring_cqe *cqe, bool shutting)
{
    uint64_t ud = cqe->user_data;
    bool more = (cqe->flags & IORING_CQE_F_MORE) != 0;
    if (ud & UR_KIND_MASK) {
        struct conn *c = (struct conn *)(uintptr_t)(ud & ~(uint64_t)UR_KIND_MASK);
        if (conn_uring_done(c, cqe) && !c->ur_queued) {
            run_later(c->ur_costly ? &w->ur_costly : &w->ur_runq, c);
            c->ur_costly = false;
        }
    } else if (ud == UR_UD_CONTROL) {
        on_control(w);
        if (!more && cqe->res != -ECANCELED)
            uring_poll_multishot(w->uring, w->evfd, UR_UD_CONTROL);
    } else if (ud == UR_UD_FCACHE) {
        if (cqe->res == -ECANCELED)
            return; /* the poll of a file cache that was replaced */
        fcache_on_events(w->fcache, w->rseq);
        if (!more)
            arm_fcache_poll(w);
    } else if (is_accept(w, ud)) {
        unsigned idx = UR_UD_LISTEN_INDEX(ud);
        on_accepted(w, idx, cqe->res, more);
        /* an error ends a multishot accept: take it up again unless it was
         * cancelled (stopping, or out of descriptors for a moment) */
        if (!more && cqe->res != -ECANCELED && !shutting && !w->accept_paused_until &&
            !atomic_load_explicit(&w->srv->ls[idx].broken, memory_order_relaxed))
            worker_accept_arm(w, idx);
    }
}

/* The turn's cap left completions in the ring: take the new connections
 * among them now (at most MAX_EVENTS), so that they run first in this
 * turn (uring_turn) rather than after several turns of the crowd ahead of
 * them. Their completions stay in the ring, marked to be ignored. */
static void take_accepts_ahead(struct worker *w, bool shutting)
{
    struct io_uring *ring = &w->uring->ring;
    struct io_uring_cqe *cqe;
    unsigned head, n = 0;
    io_uring_for_each_cqe(ring, head, cqe)
    {
        if (is_accept(w, cqe->user_data)) {
            on_completion(w, cqe, shutting);
            cqe->user_data = UR_UD_IGNORE;
            if (++n == MAX_EVENTS)
                break;
        }
    }
}

/* Wait (at most timeout_ms) for completions and take them all. Returns
 * false when the ring failed. */
static bool uring_turn(struct worker *w, int timeout_ms, bool shutting)
{
    struct io_uring *ring = &w->uring->ring;
    struct __kernel_timespec ts = {.tv_sec = timeout_ms / 1000,
                                   .tv_nsec = (long long)(timeout_ms % 1000) * 1000000};
    struct io_uring_cqe *cqe;
    /* With completions still in the ring (from the last turn's cap, or
     * sends that completed when submitted), liburing would not ask the
     * kernel for more, and the work the kernel defers to this call (new
     * connections, reads, sends that waited) would wait behind them:
     * always ask, without waiting then. */
    int r = io_uring_cq_ready(ring) ? io_uring_submit_and_get_events(ring)
                                    : io_uring_submit_and_wait_timeout(ring, &cqe, 1, &ts, NULL);
    begin_turn(w);
    if (r < 0 && r != -ETIME && r != -EINTR && r != -EAGAIN && r != -EBUSY) {
        log_msg(LOG_CRIT, "worker %u: io_uring_enter: %s", w->id, strerror(-r));
        return false;
    }
    /* At most MAX_EVENTS completions a turn, as epoll_wait returns at most
     * that many events: with many connections busy (a thousand clients
     * trickling their heads a byte at a time), a turn's work stays bounded
     * and a new connection waits for at most that much. The rest wait in
     * the ring for the next turn. */
    unsigned head, taken = 0, n = 0;
    io_uring_for_each_cqe(ring, head, cqe)
    {
        taken++;
        if (cqe->user_data == UR_UD_IGNORE)
            continue; /* (an accept taken ahead last turn) not counted */
        on_completion(w, cqe, shutting);
        if (++n == MAX_EVENTS)
            break;
    }
    io_uring_cq_advance(ring, taken);
    if (n == MAX_EVENTS)
        take_accepts_ahead(w, shutting);
    /* New connections first, as nginx takes accepts before the other
     * events: a first request is read with recv(2) right away and is
     * usually cheap to answer (once one of them made a costly answer, the
     * rest wait for the others: a client that opens a connection per
     * listing must not get ahead of everyone). Last, the connections that
     * made a costly answer (a listing) when they last ran: a client that
     * pipelines those makes another, and the others' answers should not
     * wait for it (they are handed to the kernel before it is made,
     * worker_flush). */
    run_queue(w, &w->ur_accepted, true);
    run_queue(w, &w->ur_runq, false);
    run_queue(w, &w->ur_accepted, false);
    run_queue(w, &w->ur_costly, false);
    return true;
}

static void uring_loop(struct worker *w)
{
    bool shutting = false;

    w->ur_accepted.tail = &w->ur_accepted.head;
    w->ur_runq.tail = &w->ur_runq.head;
    w->ur_costly.tail = &w->ur_costly.head;
    uring_poll_multishot(w->uring, w->evfd, UR_UD_CONTROL);
    arm_fcache_poll(w);
    worker_accept_watch(w, true);
    for (;;) {
        if (!uring_turn(w, next_timeout(w), shutting))
            break;
        if (end_turn(w, &shutting))
            break;
    }
    close_all(w);
    /* Closed connections keep their buffers until the kernel is done with
     * the requests that point into them: wait for those (bounded). */
    for (int i = 0; i < 100 && w->zombie_list.head; i++)
        if (!uring_turn(w, 10, true))
            break;
}

/* io_uring if the pool may use it and this thread can set it up. */
static void start_uring(struct worker *w)
{
    char why[160];
    if (!w->srv->io_uring)
        return;
    w->uring = malloc(sizeof(*w->uring));
    if (!w->uring) {
        log_msg(LOG_WARNING, "worker %u: io_uring: out of memory; this worker uses epoll", w->id);
        return;
    }
    if (uring_setup(w->uring, why, sizeof(why)) < 0) {
        log_msg(LOG_WARNING, "worker %u: %s; this worker uses epoll", w->id, why);
        free(w->uring);
        w->uring = NULL;
        return;
    }
    /* the ring accepts now: the epoll set must not take wake-ups for it */
    for (unsigned l = 0; l < w->srv->nls; l++)
        epoll_ctl(w->epfd, EPOLL_CTL_DEL, w->srv->ls[l].fd, NULL);
}

static void stop_uring(struct worker *w)
{
    if (!w->uring)
        return;
    bool drained = !w->zombie_list.head;
    uring_teardown(w->uring);
    free(w->uring);
    w->uring = NULL;
    /* Connections whose requests did not complete: the ring is gone, and
     * with it their requests. */
    while (w->zombie_list.head) {
        struct conn *c = w->zombie_list.head;
        c->ur_pending = 0;
        conn_close(c);
    }
    if (!drained)
        log_msg(LOG_WARNING, "worker %u: io_uring requests outlived the stop", w->id);
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    sigset_t all;

    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, NULL); /* signals are main's (signalfd) */

    begin_turn(w);
    start_uring(w);
    if (w->uring) {
        uring_loop(w);
        stop_uring(w);
    } else {
        epoll_loop(w);
        close_all(w);
    }
    return NULL;
}

int worker_pool_start(struct server *srv)
{
    for (unsigned i = 0; i < srv->nworkers; i++) {
        int r = pthread_create(&srv->workers[i].tid, NULL, worker_main, &srv->workers[i]);
        if (r != 0)
            return -r;
        srv->nstarted = i + 1;
    }
    return 0;
}

void worker_pool_join(struct server *srv)
{
    for (unsigned i = 0; i < srv->nstarted; i++)
        pthread_join(srv->workers[i].tid, NULL);
    srv->nstarted = 0;
    for (unsigned i = 0; i < srv->nworkers; i++) {
        struct worker *w = &srv->workers[i];
        struct conf *p = atomic_exchange(&w->pending_conf, NULL);
        if (p)
            conf_unref(p);
        if (w->conf)
            conf_unref(w->conf);
        bufpool_free(&w->bufpool);
        while (w->connpool) {
            struct conn *c = w->connpool;
            w->connpool = c->next;
            free(c);
        }
        mime_ctx_free(w->mime);
        fcache_free(w->fcache);
        free(w->scratch);
        if (w->reserve_fd >= 0)
            close(w->reserve_fd);
        if (w->evfd >= 0)
            close(w->evfd);
        if (w->epfd >= 0)
            close(w->epfd);
    }
    free(srv->workers);
    srv->workers = NULL;
}
