/* The worker pool: N threads, each with its own event loop (io_uring, else
 * epoll), owning the connections it accepted from accept to close. Workers
 * share the listening sockets (EPOLLEXCLUSIVE or one accept each spreads
 * the connections), an atomic connection count, the configuration snapshot
 * they are handed and the content-type cache (lock-free, mime_cache.c). */
#ifndef PS_WORKER_H
#define PS_WORKER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "bufpool.h"
#include "httpdate.h"
#include "log.h"

struct conf;
struct conn;
struct listener;
struct mime_cache;
struct mime_ctx;
struct fcache;
struct uring;

struct conn_list {
    struct conn *head, *tail;
};

/* io_uring: a run queue, linked through conn.ur_next */
struct conn_queue {
    struct conn *head, **tail;
};

struct server {
    struct listener *ls;
    unsigned nls;
    struct worker *workers;
    unsigned nworkers;
    unsigned nstarted;
    atomic_uint nconns;   /* open connections, all workers */
    atomic_bool stopping; /* SIGTERM: finish in-flight responses, then exit */
    int ack_fd;           /* eventfd (semaphore): a worker took a new conf */
    struct mime_cache *mime_cache; /* shared by the workers' mime contexts */
    bool test_faults; /* PYSERVED_TEST_FAULTS=1: fault paths for the test suite */
    bool io_uring;    /* the workers set up io_uring (worker_pool_init tried it) */
};

struct worker {
    struct server *srv;
    unsigned id;
    pthread_t tid;
    int epfd;
    int evfd; /* control: new conf, stop */
    int reserve_fd; /* closed to accept-and-shed when out of descriptors */
    struct conf *conf;
    _Atomic(struct conf *) pending_conf;
    struct mime_ctx *mime;
    struct fcache *fcache; /* this worker's open files */
    struct uring *uring;   /* NULL: the epoll loop */
    /* io_uring: connections to run this turn: new ones, the others, and
     * those that made a costly answer when they last ran */
    struct conn_queue ur_accepted, ur_runq, ur_costly;
    unsigned costly_runs; /* runs that made a costly answer, a running count */

    /* Timers: each list holds connections with the same timeout, appended
     * at the tail, so each list is ordered by deadline. */
    struct conn_list header_list, keepalive_list, send_list, linger_list;
    struct conn_list ready_list; /* have work left but yielded for fairness */
    struct conn_list zombie_list; /* io_uring: closed, requests still in flight */
    unsigned nconns;

    /* Pools, so the steady state allocates nothing. */
    struct bufpool bufpool;
    uint64_t bufpool_trim_at;
    uint64_t fcache_sweep_at;
    size_t in_cap, out_cap, head_cap; /* sizes of new I/O buffers (from the conf) */
    uint64_t boundary_seq, boundary_seed; /* multipart boundaries */
    struct conn *connpool;
    unsigned nconnpool;

    uint64_t rseq;   /* socket reads that brought bytes: the file cache's clock */
    uint64_t now_ms; /* CLOCK_MONOTONIC_COARSE, refreshed each loop */
    time_t date_sec;
    char date[PS_HTTP_DATE_LEN + 1];
    char *scratch; /* two halves: the resolved path; Location or a variant name */
    size_t scratch_cap;
    struct log_limit accept_log;  /* out of descriptors or memory in accept */
    struct log_limit limit_log;   /* max_connections reached */
    struct log_limit open_log;    /* a file not opened for want of them, or an I/O error */
    struct log_limit read_nomem_log; /* no buffer to read a request into */
    uint64_t accept_paused_until; /* out of descriptors: listeners unwatched */
    uint64_t stop_deadline;       /* stopping: when the last connections are closed */
    uint64_t stop_first_at;       /* stopping: when new connections without a request go */
    size_t heap_bytes; /* listing pages held by responses not yet ended */
    bool watch_warned; /* the inotify watch limit was logged */

    /* Counters read by the main thread (status, watchdog). */
    atomic_ulong requests;
    atomic_ulong loops;
};

/* Whether the server is stopping (SIGTERM; a relaxed read: each worker acts
 * on it at its next turn at the latest). */
static inline bool server_stopping(const struct server *srv)
{
    return atomic_load_explicit(&srv->stopping, memory_order_relaxed);
}

/* Create the workers (not started). Returns 0 or -errno with a reason in
 * err. */
int worker_pool_init(struct server *srv, unsigned n, struct conf *conf, char *err,
                     size_t errsz);

/* Start every worker thread. Returns 0 or -errno (the started ones keep
 * running; call worker_pool_stop). */
int worker_pool_start(struct server *srv);

/* Hand a new configuration snapshot to every worker (takes one reference
 * per worker) and wait, at most timeout_ms, until every worker has it, so
 * that requests after READY=1 see it. Returns 0 or -ETIMEDOUT. */
int worker_pool_set_conf(struct server *srv, struct conf *conf, int timeout_ms);

/* Wake every worker once (for the watchdog's liveness check). */
void worker_pool_poke(struct server *srv);

/* Ask the workers to stop (graceful) and wake them. */
void worker_pool_stop(struct server *srv);

/* Join the started threads and free everything worker_pool_init made,
 * also after a failed init or start. */
void worker_pool_join(struct server *srv);

/* Used by conn.c and respond.c. */
char *worker_buf_get(struct worker *w);
void worker_buf_put(struct worker *w, char *buf, size_t in_cap, size_t out_cap);
/* About to do long work (a listing): hand the kernel the I/O queued on
 * w's io_uring now, so that answers made before it are not held back. */
void worker_flush(struct worker *w);

#endif
