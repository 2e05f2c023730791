/* Unit tests of src/common/histogram.c: bucket geometry, the 1% error bound
 * from 1 us to 60 s on known distributions (compared with the exact
 * nearest-rank percentiles of the sorted samples), merging, mean/stdev. */
#include "config.h"

#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "histogram.h"
#include "check_run.h"

#define NSAMPLES 200000
#define US       1000ull
#define SEC      1000000000ull

static const double pcts[] = {0, 1, 10, 25, 50, 75, 90, 95, 99, 99.9, 99.99, 99.999, 100};

/* splitmix64: deterministic, so every run checks the same samples */
static uint64_t rng_state;

static uint64_t rng(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* uniform in (0, 1] */
static double unit(void)
{
    return ((double)(rng() >> 11) + 1.0) / 9007199254740992.0;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static uint64_t exact_percentile(const uint64_t *sorted, size_t n, double p)
{
    if (p <= 0)
        return sorted[0];
    size_t rank = (size_t)ceil(p / 100.0 * (double)n);
    if (rank < 1)
        rank = 1;
    if (rank > n)
        rank = n;
    return sorted[rank - 1];
}

static struct ps_hist *new_hist(void)
{
    struct ps_hist *h = malloc(sizeof(*h));
    ck_assert_ptr_nonnull(h);
    ps_hist_init(h);
    return h;
}

/* Record the samples, then compare every percentile with the exact one. */
static void check_against_sorted(uint64_t *v, size_t n, double bound)
{
    struct ps_hist *h = new_hist();
    double sum = 0;
    for (size_t i = 0; i < n; i++) {
        ps_hist_record(h, v[i]);
        sum += (double)v[i];
    }
    qsort(v, n, sizeof(*v), cmp_u64);
    ck_assert_uint_eq(h->total, n);
    ck_assert_uint_eq(h->min, v[0]);
    ck_assert_uint_eq(h->max, v[n - 1]);
    for (size_t i = 0; i < sizeof(pcts) / sizeof(pcts[0]); i++) {
        double exact = (double)exact_percentile(v, n, pcts[i]);
        double got = (double)ps_hist_percentile(h, pcts[i]);
        double err = fabs(got - exact) / exact;
        ck_assert_msg(err <= bound, "p%g: histogram %.0f, exact %.0f, error %.4f%% > %.2f%%",
                      pcts[i], got, exact, err * 100, bound * 100);
    }
    /* mean: exact up to rounding; stdev from midpoints within the bound */
    double mean = sum / (double)n, acc = 0;
    for (size_t i = 0; i < n; i++)
        acc += ((double)v[i] - mean) * ((double)v[i] - mean);
    double sd = sqrt(acc / (double)n);
    ck_assert_double_eq_tol(ps_hist_mean(h), mean, mean * 1e-9);
    ck_assert_msg(fabs(ps_hist_stdev(h) - sd) <= sd * bound, "stdev %.1f vs exact %.1f",
                  ps_hist_stdev(h), sd);
    free(h);
}

START_TEST(test_geometry_contiguous)
{
    /* buckets tile [0, MAX] without gaps or overlaps, each at most 1/128
     * of its lower bound wide above the exact range */
    ck_assert_uint_eq(ps_hist_bucket_low(0), 0);
    for (unsigned i = 0; i < PS_HIST_BUCKETS; i++) {
        uint64_t lo = ps_hist_bucket_low(i), hi = ps_hist_bucket_high(i);
        ck_assert_uint_le(lo, hi);
        ck_assert_uint_eq(ps_hist_index(lo), i);
        ck_assert_uint_eq(ps_hist_index(hi), i);
        if (i + 1 < PS_HIST_BUCKETS)
            ck_assert_uint_eq(ps_hist_bucket_low(i + 1), hi + 1);
        if (i >= 2 * PS_HIST_SUB_COUNT)
            ck_assert_uint_le((hi - lo + 1) * PS_HIST_SUB_COUNT, lo);
        else
            ck_assert_uint_eq(lo, hi);
    }
    ck_assert_uint_eq(ps_hist_bucket_high(PS_HIST_BUCKETS - 1), PS_HIST_MAX_VALUE);
    ck_assert_uint_eq(ps_hist_index(PS_HIST_MAX_VALUE + 1), PS_HIST_BUCKETS - 1);
    ck_assert_uint_eq(ps_hist_index(UINT64_MAX), PS_HIST_BUCKETS - 1);
}
END_TEST

START_TEST(test_single_values_within_bound)
{
    /* one sample at a time, log-spaced from 1 us to 60 s: the median is the
     * midpoint of its bucket, clamped to [min, max] = the value itself */
    struct ps_hist *h = new_hist();
    for (double x = 1000; x <= 60e9; x *= 1.0137) {
        uint64_t v = (uint64_t)x;
        ps_hist_init(h);
        ps_hist_record(h, v);
        ck_assert_uint_eq(ps_hist_percentile(h, 50), v);
        /* two samples in the same bucket: p50 is the lower sample's bucket
         * midpoint, within 0.4% */
        ps_hist_record(h, ps_hist_bucket_high(ps_hist_index(v)));
        double got = (double)ps_hist_percentile(h, 50);
        ck_assert_msg(fabs(got - (double)v) <= 0.004 * (double)v, "v=%llu got %.0f",
                      (unsigned long long)v, got);
    }
    free(h);
}
END_TEST

START_TEST(test_exact_below_256)
{
    struct ps_hist *h = new_hist();
    for (uint64_t v = 0; v < 256; v++)
        ps_hist_record(h, v);
    for (uint64_t r = 1; r <= 256; r++) {
        /* rank r of 256 samples 0..255 is r-1 */
        double p = 100.0 * (double)r / 256.0;
        ck_assert_uint_eq(ps_hist_percentile(h, p), r - 1);
    }
    free(h);
}
END_TEST

START_TEST(test_uniform)
{
    uint64_t *v = malloc(NSAMPLES * sizeof(*v));
    ck_assert_ptr_nonnull(v);
    rng_state = 1;
    for (size_t i = 0; i < NSAMPLES; i++)
        v[i] = 1 * US + rng() % (60 * SEC - 1 * US);
    check_against_sorted(v, NSAMPLES, 0.01);
    free(v);
}
END_TEST

START_TEST(test_uniform_narrow)
{
    /* a typical loopback latency: 50..150 us */
    uint64_t *v = malloc(NSAMPLES * sizeof(*v));
    ck_assert_ptr_nonnull(v);
    rng_state = 2;
    for (size_t i = 0; i < NSAMPLES; i++)
        v[i] = 50 * US + rng() % (100 * US);
    check_against_sorted(v, NSAMPLES, 0.01);
    free(v);
}
END_TEST

START_TEST(test_exponential)
{
    /* 100 us floor plus an exponential tail of mean 2 ms */
    uint64_t *v = malloc(NSAMPLES * sizeof(*v));
    ck_assert_ptr_nonnull(v);
    rng_state = 3;
    for (size_t i = 0; i < NSAMPLES; i++)
        v[i] = 100 * US + (uint64_t)(-2e6 * log(unit()));
    check_against_sorted(v, NSAMPLES, 0.01);
    free(v);
}
END_TEST

START_TEST(test_log_uniform_full_range)
{
    /* every decade from 1 us to 60 s equally likely */
    uint64_t *v = malloc(NSAMPLES * sizeof(*v));
    ck_assert_ptr_nonnull(v);
    rng_state = 4;
    double lo = log(1e3), hi = log(60e9);
    for (size_t i = 0; i < NSAMPLES; i++)
        v[i] = (uint64_t)exp(lo + (hi - lo) * unit());
    check_against_sorted(v, NSAMPLES, 0.01);
    free(v);
}
END_TEST

START_TEST(test_bimodal_with_stall)
{
    /* 99.5% fast (~80 us), 0.5% stalled (~200 ms): p99 fast, p99.9 stalled */
    uint64_t *v = malloc(NSAMPLES * sizeof(*v));
    ck_assert_ptr_nonnull(v);
    rng_state = 5;
    for (size_t i = 0; i < NSAMPLES; i++)
        v[i] =
            i % 200 == 0 ? 200 * 1000 * US + rng() % (10 * 1000 * US) : 60 * US + rng() % (40 * US);
    struct ps_hist *h = new_hist();
    for (size_t i = 0; i < NSAMPLES; i++)
        ps_hist_record(h, v[i]);
    ck_assert_uint_lt(ps_hist_percentile(h, 99), 101 * US);
    ck_assert_uint_ge(ps_hist_percentile(h, 99.9), 199 * 1000 * US);
    free(h);
    check_against_sorted(v, NSAMPLES, 0.01);
    free(v);
}
END_TEST

START_TEST(test_merge_equals_single)
{
    struct ps_hist *all = new_hist(), *part[4], *merged = new_hist();
    for (int i = 0; i < 4; i++)
        part[i] = new_hist();
    rng_state = 6;
    for (size_t i = 0; i < NSAMPLES; i++) {
        uint64_t x = 10 * US + (uint64_t)(-1e6 * log(unit()));
        ps_hist_record(all, x);
        ps_hist_record(part[i % 4], x);
    }
    for (int i = 0; i < 4; i++)
        ps_hist_merge(merged, part[i]);
    ck_assert_uint_eq(merged->total, all->total);
    ck_assert_uint_eq(merged->min, all->min);
    ck_assert_uint_eq(merged->max, all->max);
    ck_assert_int_eq(memcmp(merged->counts, all->counts, sizeof(all->counts)), 0);
    for (size_t i = 0; i < sizeof(pcts) / sizeof(pcts[0]); i++)
        ck_assert_uint_eq(ps_hist_percentile(merged, pcts[i]), ps_hist_percentile(all, pcts[i]));
    ck_assert_double_eq_tol(ps_hist_mean(merged), ps_hist_mean(all), ps_hist_mean(all) * 1e-12);
    /* merging an empty histogram changes nothing (min stays) */
    struct ps_hist *empty = new_hist();
    ps_hist_merge(merged, empty);
    ck_assert_uint_eq(merged->min, all->min);
    ck_assert_uint_eq(merged->total, all->total);
    /* and merging into an empty one copies */
    ps_hist_merge(empty, all);
    ck_assert_uint_eq(ps_hist_percentile(empty, 99), ps_hist_percentile(all, 99));
    free(empty);
    for (int i = 0; i < 4; i++)
        free(part[i]);
    free(all);
    free(merged);
}
END_TEST

START_TEST(test_empty_and_edges)
{
    struct ps_hist *h = new_hist();
    ck_assert_uint_eq(ps_hist_percentile(h, 50), 0);
    ck_assert_double_eq(ps_hist_mean(h), 0.0);
    ck_assert_double_eq(ps_hist_stdev(h), 0.0);
    ck_assert_double_eq(ps_hist_within_stdev(h), 0.0);
    ck_assert_uint_eq(h->min, UINT64_MAX);
    /* above the range: clamped into the last bucket, max still exact */
    uint64_t huge = PS_HIST_MAX_VALUE * 4;
    ps_hist_record(h, 5 * US);
    ps_hist_record(h, huge);
    ck_assert_uint_eq(h->clamped, 1);
    ck_assert_uint_eq(h->max, huge);
    ck_assert_uint_eq(ps_hist_percentile(h, 100), huge);
    ck_assert_uint_eq(ps_hist_percentile(h, 0), 5 * US);
    /* the midpoint of 5 us's bucket [4992, 5023] */
    ck_assert_uint_eq(ps_hist_percentile(h, 50), 5007);
    free(h);
}
END_TEST

START_TEST(test_record_n)
{
    struct ps_hist *a = new_hist(), *b = new_hist();
    for (int i = 0; i < 1000; i++)
        ps_hist_record(a, 777 * US);
    ps_hist_record_n(b, 777 * US, 1000);
    ps_hist_record_n(b, 1, 0); /* n = 0 records nothing */
    ck_assert_uint_eq(b->total, 1000);
    ck_assert_int_eq(memcmp(a->counts, b->counts, sizeof(a->counts)), 0);
    ck_assert_uint_eq(a->min, b->min);
    ck_assert_double_eq_tol(ps_hist_mean(a), ps_hist_mean(b), 1e-6);
    free(a);
    free(b);
}
END_TEST

START_TEST(test_within_stdev)
{
    /* two equal spikes: mean in the middle, stdev = half the distance, so
     * every sample is on the edge of mean +/- stdev: 100% */
    struct ps_hist *h = new_hist();
    ps_hist_record_n(h, 100, 50);
    ps_hist_record_n(h, 200, 50);
    ck_assert_double_eq_tol(ps_hist_mean(h), 150.0, 1e-9);
    ck_assert_double_eq_tol(ps_hist_stdev(h), 50.0, 1e-9);
    ck_assert_double_eq_tol(ps_hist_within_stdev(h), 100.0, 1e-9);
    /* a far outlier: 99 of 100 samples within one stdev */
    ps_hist_init(h);
    ps_hist_record_n(h, 100, 99);
    ps_hist_record(h, 10000);
    ck_assert_double_eq_tol(ps_hist_within_stdev(h), 99.0, 1e-9);
    free(h);
}
END_TEST

/* Nearest rank: the p-th percentile of n samples is the ceil(p / 100 * n)-th
 * smallest; values past the range are counted as clamped, merged too. */
START_TEST(test_rank_and_clamped)
{
    struct ps_hist *h = new_hist(), *m = new_hist();
    ps_hist_record(h, 1);
    ps_hist_record(h, 2);
    ps_hist_record(h, 3);
    ck_assert_uint_eq(ps_hist_percentile(h, 50), 2); /* rank 2 of 3 */
    ck_assert_uint_eq(ps_hist_percentile(h, 34), 2);
    ck_assert_uint_eq(ps_hist_percentile(h, 33), 1);
    ps_hist_record(h, PS_HIST_MAX_VALUE);
    ck_assert_uint_eq(h->clamped, 0);
    ps_hist_record(h, PS_HIST_MAX_VALUE + 1);
    ck_assert_uint_eq(h->clamped, 1);
    ps_hist_merge(m, h);
    ps_hist_merge(m, h);
    ck_assert_uint_eq(m->clamped, 2);
    free(h);
    free(m);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("histogram");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_geometry_contiguous);
    tcase_add_test(tc, test_single_values_within_bound);
    tcase_add_test(tc, test_exact_below_256);
    tcase_add_test(tc, test_uniform);
    tcase_add_test(tc, test_uniform_narrow);
    tcase_add_test(tc, test_exponential);
    tcase_add_test(tc, test_log_uniform_full_range);
    tcase_add_test(tc, test_bimodal_with_stall);
    tcase_add_test(tc, test_merge_equals_single);
    tcase_add_test(tc, test_empty_and_edges);
    tcase_add_test(tc, test_record_n);
    tcase_add_test(tc, test_within_stdev);
    tcase_add_test(tc, test_rank_and_clamped);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return ps_check_run(suite());
}
