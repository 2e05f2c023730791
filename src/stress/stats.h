/* What one pyserve-stress thread counts, and the merge of all threads at
 * the end (wrk's shape: no sharing while the run goes on). */
#ifndef STRESS_STATS_H
#define STRESS_STATS_H

#include <stdint.h>

#include "histogram.h"

struct stress_stats {
    uint64_t requests;        /* complete, well-framed responses */
    uint64_t bytes;           /* bytes read, heads and bodies */
    uint64_t connects;        /* connections in the connect figures (sconn.c) */
    uint64_t connects_warmup; /* those of them opened in the warm-up */
    uint64_t status_class[6]; /* [1] = 1xx ... [5] = 5xx; [0] other */
    uint64_t status_code[1000];
    uint64_t err_connect; /* refused, unreachable, connect timed out */
    uint64_t err_read;    /* read failed, or closed before any byte of a response */
    uint64_t err_write;
    uint64_t err_timeout;       /* requests aborted by --timeout */
    uint64_t err_bad;           /* malformed, truncated or unsolicited responses */
    uint64_t err_verify;        /* --verify / --expect-sha256 mismatches */
    uint64_t unanswered;        /* open loop: due by the end, not answered */
    struct ps_hist latency;     /* closed loop: from the write; open loop: from the due time */
    struct ps_hist uncorrected; /* open loop only: from the write */
    struct ps_hist connect;
    struct ps_hist ttfb; /* write to the first byte of the response */
    struct ps_hist rps;  /* per-thread requests/s, sampled every 100 ms */
};

void stress_stats_init(struct stress_stats *s);
void stress_stats_merge(struct stress_stats *dst, const struct stress_stats *src);
void stress_stats_status(struct stress_stats *s, int status);

/* COUNT events in NS nanoseconds as a rate per second, rounded to the
 * nearest (cut down, 5 requests in 100.1 ms would read 49, and low rates
 * would all read low). 0 ns counts as 1. */
uint64_t stress_rate_per_s(uint64_t count, uint64_t ns);

/* Connect, read, write, timeout, bad and verify errors together. */
uint64_t stress_stats_errors(const struct stress_stats *s);

/* Responses with a status outside 200..399 (wrk's "Non-2xx or 3xx"). */
uint64_t stress_stats_non_2xx_3xx(const struct stress_stats *s);

#endif
