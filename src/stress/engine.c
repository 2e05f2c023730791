/* The per-thread load loop of pyserve-stress: epoll wait, events to the
 * connections (sconn.c), timers, timeout sweeps, progress ticks.
 *
 * Sockets are registered once, edge-triggered, for EPOLLIN | EPOLLOUT |
 * EPOLLRDHUP, and modified only once, when the connection is established
 * (its first request waits for the next EPOLLOUT, see conn_connected). After
 * that a request is written as soon as there is room for it (the send
 * buffer is practically always free), EPOLLOUT only matters after a short
 * write, and a read that returns less than the buffer means the socket is
 * drained, so the edge needs no extra read to see
 * EAGAIN. A keep-alive request then costs one write and one read plus its
 * share of an epoll_wait, and no epoll_ctl; wrk with its level-triggered
 * write interest toggles the write event twice per request. When a close
 * is announced (EPOLLRDHUP/HUP) the socket is read until EOF, because
 * that edge does not come again.
 *
 * Timers (the open-loop schedule, reconnect back-off) live in a binary heap
 * per thread; --timeout is enforced by a sweep over the thread's
 * connections a few times per timeout period; the wait uses epoll_pwait2
 * for nanosecond precision where the kernel has it. */
#include "config.h"

#include "engine.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include "sconn.h"

#define MAX_EVENTS   256
#define TICK_NS      100000000u /* 100 ms: req/s samples, progress */
#define SWEEP_MIN_NS 1000000u   /* timeout sweeps: at most every 1 ms */
#define SWEEP_MAX_NS 100000000u /* ... and at least every 100 ms */
#define NS_PER_MS    1000000u

uint64_t stress_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static bool open_loop(const struct stress_thread *t)
{
    return t->run->o->rate != 0;
}

/* --- timer heap (min-heap on wake_ns) ------------------------------------ */

static void heap_swap(struct stress_thread *t, unsigned a, unsigned b)
{
    struct sconn *x = t->heap[a];
    t->heap[a] = t->heap[b];
    t->heap[b] = x;
    t->heap[a]->heap_pos = (int32_t)a;
    t->heap[b]->heap_pos = (int32_t)b;
}

static void heap_up(struct stress_thread *t, unsigned i)
{
    while (i > 0) {
        unsigned p = (i - 1) / 2;
        if (t->heap[p]->wake_ns <= t->heap[i]->wake_ns)
            break;
        heap_swap(t, i, p);
        i = p;
    }
}

static void heap_down(struct stress_thread *t, unsigned i)
{
    for (;;) {
        unsigned l = 2 * i + 1, r = l + 1, m = i;
        if (l < t->heap_len && t->heap[l]->wake_ns < t->heap[m]->wake_ns)
            m = l;
        if (r < t->heap_len && t->heap[r]->wake_ns < t->heap[m]->wake_ns)
            m = r;
        if (m == i)
            return;
        heap_swap(t, i, m);
        i = m;
    }
}

void stress_timer_remove(struct sconn *c)
{
    struct stress_thread *t = c->t;
    if (c->heap_pos < 0)
        return;
    unsigned i = (unsigned)c->heap_pos;
    c->heap_pos = -1;
    t->heap_len--;
    if (i == t->heap_len)
        return;
    t->heap[i] = t->heap[t->heap_len];
    t->heap[i]->heap_pos = (int32_t)i;
    heap_up(t, i);
    heap_down(t, (unsigned)t->heap[i]->heap_pos);
}

void stress_timer_set(struct sconn *c, uint64_t wake)
{
    struct stress_thread *t = c->t;
    if (c->heap_pos >= 0) {
        uint64_t old = c->wake_ns;
        c->wake_ns = wake;
        if (wake < old)
            heap_up(t, (unsigned)c->heap_pos);
        else
            heap_down(t, (unsigned)c->heap_pos);
        return;
    }
    c->wake_ns = wake;
    c->heap_pos = (int32_t)t->heap_len;
    t->heap[t->heap_len++] = c;
    heap_up(t, (unsigned)c->heap_pos);
}

/* --- timeouts, ticks ----------------------------------------------------- */

static void sweep(struct stress_thread *t, uint64_t now)
{
    uint64_t limit = t->run->o->timeout_ms * NS_PER_MS;
    for (unsigned i = 0; i < t->nconns; i++) {
        struct sconn *c = &t->conns[i];
        if (c->state == C_CONNECTING && now - c->connect_ns >= limit)
            sconn_fail(c, F_CONNECT, now); /* a SYN nobody answers */
        else if (c->state == C_OPEN && c->pcount > 0 && now - c->pend[c->phead].sent_ns >= limit)
            sconn_fail(c, F_TIMEOUT, now); /* abort: close, count, reconnect */
    }
}

static void tick(struct stress_thread *t, uint64_t now)
{
    uint64_t start = t->next_tick_ns - TICK_NS;
    if (start >= t->run->measure_ns) {
        uint64_t done = t->st.requests - t->tick_requests;
        ps_hist_record(&t->st.rps, stress_rate_per_s(done, now - start));
    }
    t->tick_requests = t->st.requests;
    atomic_store_explicit(&t->live_requests, t->st.requests, memory_order_relaxed);
    atomic_store_explicit(&t->live_errors, stress_stats_errors(&t->st), memory_order_relaxed);
    t->next_tick_ns = now + TICK_NS;
}

/* --- the loop ------------------------------------------------------------ */

static int wait_events(struct stress_thread *t, struct epoll_event *evs, uint64_t now,
                       uint64_t wake)
{
    uint64_t d = wake > now ? wake - now : 0;
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 35))
    if (t->use_pwait2) {
        struct timespec ts = {.tv_sec = (time_t)(d / 1000000000u),
                              .tv_nsec = (long)(d % 1000000000u)};
        int n = epoll_pwait2(t->epfd, evs, MAX_EVENTS, &ts, NULL);
        if (n >= 0 || errno != ENOSYS)
            return n;
        t->use_pwait2 = false; /* kernel before 5.11 */
    }
#endif
    /* milliseconds, rounded up: never early */
    uint64_t ms = (d + NS_PER_MS - 1) / NS_PER_MS;
    return epoll_wait(t->epfd, evs, MAX_EVENTS, ms > 1000 ? 1000 : (int)ms);
}

static bool thread_done(const struct stress_thread *t, uint64_t now)
{
    if (atomic_load_explicit(&t->run->stop, memory_order_relaxed) || now >= t->run->end_ns)
        return true;
    if (t->left == 0 && t->inflight == 0)
        return true;
    return t->ndone == t->nconns; /* --once: every client finished */
}

void *stress_thread_main(void *arg)
{
    struct stress_thread *t = arg;
    struct epoll_event evs[MAX_EVENTS];
    uint64_t now = stress_now_ns();

    if (open_loop(t))
        prctl(PR_SET_TIMERSLACK, 1000UL, 0, 0, 0); /* 1 us, not 50: on-time sends */
    t->next_tick_ns = t->run->t0_ns + TICK_NS;
    t->next_sweep_ns = now + t->sweep_every_ns;
    for (unsigned i = 0; i < t->nconns; i++)
        sconn_connect(&t->conns[i], now);

    for (;;) {
        now = stress_now_ns();
        if (thread_done(t, now))
            break;
        uint64_t wake = t->run->end_ns;
        if (t->next_sweep_ns < wake)
            wake = t->next_sweep_ns;
        if (t->next_tick_ns < wake)
            wake = t->next_tick_ns;
        if (t->heap_len && t->heap[0]->wake_ns < wake)
            wake = t->heap[0]->wake_ns;
        if (t->ready)
            wake = now;
        int n = wait_events(t, evs, now, wake);
        if (n < 0 && errno != EINTR) {
            snprintf(t->fatal, sizeof(t->fatal), "epoll_wait: %s", strerror(errno));
            break;
        }
        for (int i = 0; i < n; i++) {
            uint32_t idx = (uint32_t)evs[i].data.u64, gen = (uint32_t)(evs[i].data.u64 >> 32);
            struct sconn *c = &t->conns[idx];
            if (c->gen != gen || c->fd < 0)
                continue; /* an earlier socket of this connection */
            sconn_event(c, evs[i].events, stress_now_ns());
        }
        struct sconn *r = t->ready;
        t->ready = NULL;
        while (r) {
            struct sconn *next = r->ready_next;
            r->in_ready = false;
            if (r->state == C_OPEN)
                sconn_readable(r, 0, stress_now_ns());
            r = next;
        }
        now = stress_now_ns();
        while (t->heap_len && t->heap[0]->wake_ns <= now) {
            struct sconn *c = t->heap[0];
            stress_timer_remove(c);
            if (c->state == C_WAIT)
                sconn_connect(c, now);
            else if (c->state == C_OPEN)
                sconn_fill(c, now);
            now = stress_now_ns();
        }
        if (now >= t->next_sweep_ns) {
            sweep(t, now);
            t->next_sweep_ns = now + t->sweep_every_ns;
        }
        if (now >= t->next_tick_ns)
            tick(t, now);
    }
    t->finish_ns = now;
    if (open_loop(t)) {
        uint64_t end = now < t->run->end_ns ? now : t->run->end_ns, budget = t->left;
        for (unsigned i = 0; i < t->nconns; i++)
            budget -= sconn_unanswered(&t->conns[i], end, budget);
    }
    for (unsigned i = 0; i < t->nconns; i++)
        sconn_close(&t->conns[i]);
    atomic_store_explicit(&t->live_requests, t->st.requests, memory_order_relaxed);
    atomic_store_explicit(&t->live_errors, stress_stats_errors(&t->st), memory_order_relaxed);
    atomic_store_explicit(&t->finished, true, memory_order_release);
    return NULL;
}

/* --- setup --------------------------------------------------------------- */

int stress_thread_init(struct stress_thread *t, struct stress_run *run, unsigned id, unsigned first,
                       unsigned n, uint64_t quota, char *err, size_t errsz)
{
    const struct stress_opts *o = run->o;
    size_t maxreq = 0;

    memset(t, 0, sizeof(*t));
    t->run = run;
    t->id = id;
    t->first_conn = first;
    t->nconns = n;
    t->left = quota;
    t->epfd = -1;
    t->use_pwait2 = true;
    stress_stats_init(&t->st);
    atomic_init(&t->live_requests, 0);
    atomic_init(&t->live_errors, 0);
    atomic_init(&t->finished, false);
    t->sched.t0_ns = run->t0_ns;
    t->sched.rate = o->rate ? o->rate : 1;
    t->sched.nconns = run->total_conns;
    uint64_t sw = o->timeout_ms * NS_PER_MS / 10;
    t->sweep_every_ns = sw < SWEEP_MIN_NS ? SWEEP_MIN_NS : sw > SWEEP_MAX_NS ? SWEEP_MAX_NS : sw;
    for (unsigned i = 0; i < run->nreq; i++)
        if (run->req_len[i] > maxreq)
            maxreq = run->req_len[i];

    t->epfd = epoll_create1(EPOLL_CLOEXEC);
    int e = t->epfd < 0 ? errno : ENOMEM;
    t->rbuf = malloc(SCONN_RBUF_SIZE);
    t->conns = calloc(n, sizeof(*t->conns));
    t->heap = calloc(n, sizeof(*t->heap));
    /* before anything can fail: stress_thread_free closes fds >= 0, and
     * calloc's are 0, standard input */
    for (unsigned i = 0; t->conns && i < n; i++)
        t->conns[i].fd = -1;
    if (t->epfd < 0 || !t->rbuf || !t->conns || !t->heap) {
        snprintf(err, errsz, "thread %u: %s", id, strerror(e));
        return -e;
    }
    for (unsigned i = 0; i < n; i++) {
        struct sconn *c = &t->conns[i];
        c->t = t;
        c->idx = i;
        c->gidx = first + i;
        c->heap_pos = -1;
        c->first = true;
        c->cycle_pos = (uint32_t)((first + i) % run->ncycle); /* spread the mix */
        rdec_init(&c->dec);
        c->pend = calloc(o->pipeline, sizeof(*c->pend));
        if (o->pipeline > 1) {
            c->obuf_cap = maxreq * o->pipeline;
            c->obuf = malloc(c->obuf_cap);
        }
        if (!c->pend || (o->pipeline > 1 && !c->obuf)) {
            snprintf(err, errsz, "thread %u: out of memory", id);
            return -ENOMEM;
        }
    }
    return 0;
}

void stress_thread_free(struct stress_thread *t)
{
    if (t->conns) {
        for (unsigned i = 0; i < t->nconns; i++) {
            struct sconn *c = &t->conns[i];
            if (c->fd >= 0)
                close(c->fd);
            free(c->pend);
            free(c->obuf);
            rdec_free(&c->dec);
        }
    }
    free(t->conns);
    free(t->heap);
    free(t->rbuf);
    if (t->epfd >= 0)
        close(t->epfd);
    t->conns = NULL;
    t->heap = NULL;
    t->rbuf = NULL;
    t->epfd = -1;
}
