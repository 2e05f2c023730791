/* Per-thread counters and their merge. */
#include "stats.h"

#include <stddef.h>
#include <string.h>

void stress_stats_init(struct stress_stats *s)
{
    memset(s, 0, offsetof(struct stress_stats, latency));
    ps_hist_init(&s->latency);
    ps_hist_init(&s->uncorrected);
    ps_hist_init(&s->connect);
    ps_hist_init(&s->ttfb);
    ps_hist_init(&s->rps);
}

void stress_stats_merge(struct stress_stats *dst, const struct stress_stats *src)
{
    dst->requests += src->requests;
    dst->bytes += src->bytes;
    dst->connects += src->connects;
    dst->connects_warmup += src->connects_warmup;
    for (unsigned i = 0; i < 6; i++)
        dst->status_class[i] += src->status_class[i];
    for (unsigned i = 0; i < 1000; i++)
        dst->status_code[i] += src->status_code[i];
    dst->err_connect += src->err_connect;
    dst->err_read += src->err_read;
    dst->err_write += src->err_write;
    dst->err_timeout += src->err_timeout;
    dst->err_bad += src->err_bad;
    dst->err_verify += src->err_verify;
    dst->unanswered += src->unanswered;
    ps_hist_merge(&dst->latency, &src->latency);
    ps_hist_merge(&dst->uncorrected, &src->uncorrected);
    ps_hist_merge(&dst->connect, &src->connect);
    ps_hist_merge(&dst->ttfb, &src->ttfb);
    ps_hist_merge(&dst->rps, &src->rps);
}

void stress_stats_status(struct stress_stats *s, int status)
{
    if (status >= 100 && status <= 999) {
        s->status_code[status]++;
        s->status_class[status < 600 ? status / 100 : 0]++;
    } else {
        s->status_class[0]++;
    }
}

uint64_t stress_stats_errors(const struct stress_stats *s)
{
    return s->err_connect + s->err_read + s->err_write + s->err_timeout + s->err_bad +
           s->err_verify;
}

uint64_t stress_stats_non_2xx_3xx(const struct stress_stats *s)
{
    uint64_t n = 0;
    for (unsigned i = 0; i < 6; i++)
        if (i != 2 && i != 3)
            n += s->status_class[i];
    return n;
}

uint64_t stress_rate_per_s(uint64_t count, uint64_t ns)
{
    if (!ns)
        ns = 1;
    return (count * 1000000000u + ns / 2) / ns;
}
