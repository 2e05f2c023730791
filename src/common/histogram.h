/* Latency histogram for the tools: log-linear buckets in the manner of
 * HdrHistogram. Values (nanoseconds, or any unsigned quantity) below 256 are
 * kept exactly; above, every power of two is split into 128 equal buckets,
 * so a bucket is at most 1/128 of its lower bound wide and the midpoint
 * reported for a percentile is within 0.4% of any value in the bucket
 * (the contract is 1% from 1 us to 60 s; the range goes to 2^40 ns, about
 * 18 minutes, and larger values are clamped into the last bucket while max
 * stays exact). Fixed size, no allocation, no sorting; histograms of
 * several threads merge by adding counts. Pure, never logs. */
#ifndef PS_HISTOGRAM_H
#define PS_HISTOGRAM_H

#include <stdint.h>

#define PS_HIST_SUB_BITS  7
#define PS_HIST_SUB_COUNT (1u << PS_HIST_SUB_BITS)
#define PS_HIST_MAX_BITS  40
#define PS_HIST_BUCKETS   ((PS_HIST_MAX_BITS - PS_HIST_SUB_BITS + 1) * PS_HIST_SUB_COUNT)
#define PS_HIST_MAX_VALUE ((UINT64_C(1) << PS_HIST_MAX_BITS) - 1)

struct ps_hist {
    uint64_t total;   /* samples recorded */
    uint64_t min;     /* UINT64_MAX when empty */
    uint64_t max;     /* exact, even above PS_HIST_MAX_VALUE */
    uint64_t clamped; /* samples above PS_HIST_MAX_VALUE */
    double sum;       /* for the mean */
    uint64_t counts[PS_HIST_BUCKETS];
};

/* Empty the histogram. */
void ps_hist_init(struct ps_hist *h);

/* Record one sample, or n equal samples. */
void ps_hist_record(struct ps_hist *h, uint64_t v);
void ps_hist_record_n(struct ps_hist *h, uint64_t v, uint64_t n);

/* dst += src. */
void ps_hist_merge(struct ps_hist *dst, const struct ps_hist *src);

/* The value at percentile p (0..100): the sample of rank ceil(p/100 * total)
 * (rank 1 for p = 0), reported as its bucket's midpoint clamped to
 * [min, max]; p = 0 gives min and p = 100 gives max exactly. 0 when empty. */
uint64_t ps_hist_percentile(const struct ps_hist *h, double p);

/* Mean of the recorded samples (exact up to double rounding), 0 when empty. */
double ps_hist_mean(const struct ps_hist *h);

/* Population standard deviation computed from the bucket midpoints. */
double ps_hist_stdev(const struct ps_hist *h);

/* Share (0..100) of the samples within mean +/- one standard deviation
 * (wrk's "+/- Stdev" column), from the bucket midpoints. */
double ps_hist_within_stdev(const struct ps_hist *h);

/* Bucket geometry, exposed for the tests: the index of a value, and the
 * lowest and highest value a bucket holds. */
unsigned ps_hist_index(uint64_t v);
uint64_t ps_hist_bucket_low(unsigned idx);
uint64_t ps_hist_bucket_high(unsigned idx);

#endif
