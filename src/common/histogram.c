/* Log-linear latency histogram (see histogram.h for the error bound). */
#include "histogram.h"

#include <math.h>
#include <string.h>

void ps_hist_init(struct ps_hist *h)
{
    memset(h, 0, sizeof(*h));
    h->min = UINT64_MAX;
}

unsigned ps_hist_index(uint64_t v)
{
    if (v > PS_HIST_MAX_VALUE)
        v = PS_HIST_MAX_VALUE;
    if (v < 2 * PS_HIST_SUB_COUNT)
        return (unsigned)v; /* exact */
    unsigned msb = 63u - (unsigned)__builtin_clzll(v);
    unsigned shift = msb - PS_HIST_SUB_BITS;
    /* v >> shift is in [SUB_COUNT, 2 * SUB_COUNT): the linear step */
    return shift * PS_HIST_SUB_COUNT + (unsigned)(v >> shift);
}

uint64_t ps_hist_bucket_low(unsigned idx)
{
    if (idx < 2 * PS_HIST_SUB_COUNT)
        return idx;
    unsigned shift = idx / PS_HIST_SUB_COUNT - 1;
    uint64_t mant = idx - shift * PS_HIST_SUB_COUNT;
    return mant << shift;
}

uint64_t ps_hist_bucket_high(unsigned idx)
{
    if (idx < 2 * PS_HIST_SUB_COUNT)
        return idx;
    unsigned shift = idx / PS_HIST_SUB_COUNT - 1;
    return ps_hist_bucket_low(idx) + ((UINT64_C(1) << shift) - 1);
}

void ps_hist_record_n(struct ps_hist *h, uint64_t v, uint64_t n)
{
    if (n == 0)
        return;
    h->counts[ps_hist_index(v)] += n;
    h->total += n;
    if (v < h->min)
        h->min = v;
    if (v > h->max)
        h->max = v;
    if (v > PS_HIST_MAX_VALUE)
        h->clamped += n;
    h->sum += (double)v * (double)n;
}

void ps_hist_record(struct ps_hist *h, uint64_t v)
{
    ps_hist_record_n(h, v, 1);
}

void ps_hist_merge(struct ps_hist *dst, const struct ps_hist *src)
{
    if (src->total == 0)
        return;
    for (unsigned i = 0; i < PS_HIST_BUCKETS; i++)
        dst->counts[i] += src->counts[i];
    dst->total += src->total;
    dst->clamped += src->clamped;
    dst->sum += src->sum;
    if (src->min < dst->min)
        dst->min = src->min;
    if (src->max > dst->max)
        dst->max = src->max;
}

/* The value a bucket stands for: its midpoint, within [min, max]. */
static uint64_t representative(const struct ps_hist *h, unsigned idx)
{
    uint64_t lo = ps_hist_bucket_low(idx), hi = ps_hist_bucket_high(idx);
    uint64_t mid = lo + (hi - lo) / 2;
    if (mid < h->min)
        mid = h->min;
    if (mid > h->max)
        mid = h->max;
    return mid;
}

uint64_t ps_hist_percentile(const struct ps_hist *h, double p)
{
    if (h->total == 0)
        return 0;
    if (p <= 0.0)
        return h->min;
    if (p >= 100.0)
        return h->max;
    double r = ceil(p / 100.0 * (double)h->total);
    uint64_t rank = r < 1.0 ? 1 : (uint64_t)r;
    if (rank > h->total)
        rank = h->total;
    uint64_t seen = 0;
    for (unsigned i = 0; i < PS_HIST_BUCKETS; i++) {
        seen += h->counts[i];
        if (seen >= rank)
            return representative(h, i);
    }
    return h->max;
}

double ps_hist_mean(const struct ps_hist *h)
{
    return h->total ? h->sum / (double)h->total : 0.0;
}

double ps_hist_stdev(const struct ps_hist *h)
{
    if (h->total < 2)
        return 0.0;
    double mean = ps_hist_mean(h), acc = 0.0;
    for (unsigned i = 0; i < PS_HIST_BUCKETS; i++) {
        if (h->counts[i] == 0)
            continue;
        double d = (double)representative(h, i) - mean;
        acc += d * d * (double)h->counts[i];
    }
    return sqrt(acc / (double)h->total);
}

double ps_hist_within_stdev(const struct ps_hist *h)
{
    if (h->total == 0)
        return 0.0;
    double mean = ps_hist_mean(h), sd = ps_hist_stdev(h);
    double lo = mean - sd, hi = mean + sd;
    uint64_t in = 0;
    for (unsigned i = 0; i < PS_HIST_BUCKETS; i++) {
        if (h->counts[i] == 0)
            continue;
        double v = (double)representative(h, i);
        if (v >= lo && v <= hi)
            in += h->counts[i];
    }
    return 100.0 * (double)in / (double)h->total;
}
