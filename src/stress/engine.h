/* The load engine of pyserve-stress: per thread one struct with its
 * connections, counters and histograms, one epoll loop over non-blocking
 * sockets, nothing shared with the other threads while the run goes on but
 * a stop flag and the progress counters (wrk's shape). */
#ifndef STRESS_ENGINE_H
#define STRESS_ENGINE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "opts.h"
#include "schedule.h"
#include "stats.h"

/* What every thread reads and nobody writes while the run goes on. */
struct stress_run {
    const struct stress_opts *o;
    struct sockaddr_storage addr;
    socklen_t addrlen;
    char **req;      /* request bytes per mix entry */
    size_t *req_len; /* their lengths */
    unsigned nreq;
    const uint32_t *cycle; /* order of mix entries */
    size_t ncycle;
    const uint64_t *ref_len; /* --verify: reference body length per entry */
    uint64_t t0_ns;          /* start, and origin of the -R schedule */
    uint64_t measure_ns;     /* end of --warmup: what starts after this counts */
    uint64_t end_ns;         /* UINT64_MAX: no time limit */
    unsigned total_conns;
    atomic_bool stop; /* set by the main thread on SIGINT/SIGTERM */
};

struct sconn;

struct stress_thread {
    pthread_t tid;
    struct stress_run *run;
    unsigned id;
    int epfd;
    struct sconn *conns;
    unsigned nconns;
    unsigned first_conn; /* global index of conns[0] (schedule phase) */
    char *rbuf;
    struct sconn **heap; /* timers: open-loop due times, reconnect back-off */
    unsigned heap_len;
    struct sconn *ready; /* connections with unread input left over */
    uint64_t left;       /* requests still to be started; UINT64_MAX: no limit */
    uint64_t inflight;
    unsigned ndone; /* connections finished for good */
    uint64_t next_sweep_ns, sweep_every_ns;
    uint64_t next_tick_ns, tick_requests;
    struct sched sched;
    bool use_pwait2;
    struct stress_stats st;
    _Atomic uint64_t live_requests, live_errors; /* for the progress line */
    atomic_bool finished;
    uint64_t finish_ns;
    char fatal[256]; /* set when the loop could not run at all */
};

/* Monotonic clock in nanoseconds. */
uint64_t stress_now_ns(void);

/* Prepare thread t for connections [first, first + n) and at most quota
 * requests (UINT64_MAX: no limit). Returns 0 or -errno with err set. */
int stress_thread_init(struct stress_thread *t, struct stress_run *run, unsigned id, unsigned first,
                       unsigned n, uint64_t quota, char *err, size_t errsz);

/* The thread body (pthread start routine; arg is the stress_thread). */
void *stress_thread_main(void *arg);

/* Free what init allocated (after the thread was joined). */
void stress_thread_free(struct stress_thread *t);

#endif
