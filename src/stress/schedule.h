/* Open-loop schedule (-R): a constant total rate spread evenly over the
 * connections. Request k of connection i is due at
 *     t0 + (k * nconns + i) / rate   seconds,
 * so the connections take turns and the whole run issues one request every
 * 1/rate seconds. Latency is measured from the due time (the coordinated-
 * omission correction of wrk2): a request that could not be sent because
 * its connection waited for a stalled response is still charged from when
 * it should have gone out. Pure integer arithmetic, no drift over a run.
 * (sconn.c moves one connection's schedule as a whole when its first
 * connect comes up after its first request was due.) */
#ifndef STRESS_SCHEDULE_H
#define STRESS_SCHEDULE_H

#include <stdint.h>

#define SCHED_RATE_MAX 100000000u /* requests/s; keeps the arithmetic in 64 bits */

struct sched {
    uint64_t t0_ns;  /* schedule origin (CLOCK_MONOTONIC) */
    uint64_t rate;   /* requests per second over all connections, 1..SCHED_RATE_MAX */
    uint32_t nconns; /* connections sharing the rate */
};

/* Due time of request k of connection conn (conn < nconns). */
uint64_t sched_due_ns(const struct sched *s, uint32_t conn, uint64_t k);

/* How many requests connection conn may send at time now, when its next
 * request is number k and it has room for at most room more in flight:
 * the count of its requests k, k+1, ... due at or before now, capped at
 * room (bounded by room, a pipeline depth). A connection that fell behind
 * catches up at once, up to room. */
uint64_t sched_sendable(const struct sched *s, uint32_t conn, uint64_t k, uint64_t now_ns,
                        uint64_t room);

/* The two latencies of a response completed at done_ns: corrected (from
 * the due time) and uncorrected (from the moment it was written). A request
 * written before its due time (never happens in this program, but the
 * arithmetic stays safe) is charged from the write. */
void sched_latency(uint64_t due_ns, uint64_t sent_ns, uint64_t done_ns, uint64_t *corrected,
                   uint64_t *uncorrected);

#endif
