/* Unit tests of the I/O buffer pool (src/pyserved/bufpool.h): sizes and
 * alignment, reuse, the cap, and trimming: which pooled buffers give their
 * pages back, seen through mincore(2). A page written here is assumed to
 * stay resident for the test's few milliseconds (no swapping under memory
 * pressure). */
#include "config.h"

#include <check.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "bufpool.h"
#include "check_run.h"

#define CAP 64
#define KEEP 4

static size_t page(void)
{
    return (size_t)sysconf(_SC_PAGESIZE);
}

/* How many of b's pages are resident. */
static size_t resident_pages(const struct bufpool *p, const char *b)
{
    size_t n = p->bytes / page();
    unsigned char vec[64];
    ck_assert_uint_le(n, sizeof(vec));
    ck_assert_int_eq(mincore((void *)b, p->bytes, vec), 0);
    size_t r = 0;
    for (size_t i = 0; i < n; i++)
        r += vec[i] & 1;
    return r;
}

/* Take k buffers, write every byte of each, and give them all back. */
static void burst(struct bufpool *p, unsigned k)
{
    char *b[CAP];
    ck_assert_uint_le(k, CAP);
    for (unsigned i = 0; i < k; i++) {
        b[i] = bufpool_get(p);
        ck_assert_ptr_nonnull(b[i]);
        memset(b[i], 0xa5, p->bytes);
    }
    for (unsigned i = k; i-- > 0;)
        bufpool_put(p, b[i]);
}

/* v[0, released) gave their pages back; the rest of the pool holds all
 * `pages` of theirs. */
static void ck_released(const struct bufpool *p, unsigned released, size_t pages)
{
    for (unsigned i = 0; i < p->n; i++)
        ck_assert_uint_eq(resident_pages(p, p->v[i]), i < released ? 0 : pages);
}

/* A pool of one-page buffers, k of them pooled after a burst whose period
 * has ended: none taken since. */
static void pool_after_burst(struct bufpool *p, unsigned k)
{
    ck_assert_int_eq(bufpool_init(p, CAP, page()), 0);
    burst(p, k);
    ck_assert_uint_eq(bufpool_trim(p, KEEP, CAP), 0); /* the pool was empty in it */
}

START_TEST(test_size_and_alignment)
{
    struct bufpool p;
    ck_assert_int_eq(bufpool_init(&p, CAP, 2 * page() + 1), 0);
    ck_assert_uint_eq(p.bytes, 3 * page());
    char *b = bufpool_get(&p);
    ck_assert_ptr_nonnull(b);
    ck_assert_uint_eq((uintptr_t)b % page(), 0);
    memset(b, 1, p.bytes);
    bufpool_put(&p, b);
    bufpool_resize(&p, page());
    ck_assert_uint_eq(p.bytes, page());
    ck_assert_uint_eq(p.n, 0); /* the old size's buffers were freed */
    bufpool_free(&p);
}
END_TEST

START_TEST(test_reuse_and_cap)
{
    struct bufpool p;
    ck_assert_int_eq(bufpool_init(&p, 2, page()), 0);
    char *a = bufpool_get(&p), *b = bufpool_get(&p), *c = bufpool_get(&p);
    bufpool_put(&p, a);
    bufpool_put(&p, b);
    bufpool_put(&p, c); /* over the cap: freed (a leak shows under the sanitizers) */
    ck_assert_uint_eq(p.n, 2);
    ck_assert_uint_eq(p.freed, 1);
    bufpool_trim(&p, KEEP, CAP); /* and malloc_trim, for the one freed */
    ck_assert_uint_eq(p.freed, 0);
    ck_assert_ptr_eq(bufpool_get(&p), b); /* last in, first out */
    ck_assert_ptr_eq(bufpool_get(&p), a);
    ck_assert_uint_eq(p.n, 0);
    bufpool_put(&p, a);
    bufpool_put(&p, b);
    bufpool_free(&p);
}
END_TEST

/* A burst leaves 40 buffers pooled. The trim that ends the burst's period
 * gives nothing back (the pool was empty in it); the next, after a period
 * in which none was taken, gives back all but KEEP: the bottom ones. */
START_TEST(test_trim_after_burst)
{
    struct bufpool p;
    ck_assert_int_eq(bufpool_init(&p, CAP, 2 * page()), 0);
    bufpool_trim(&p, KEEP, CAP);
    burst(&p, 40);
    ck_assert_uint_eq(p.n, 40);
    ck_assert_uint_eq(bufpool_trim(&p, KEEP, CAP), 0);
    ck_released(&p, 0, 2);
    ck_assert_uint_eq(bufpool_trim(&p, KEEP, CAP), 40 - KEEP);
    ck_assert_uint_eq(p.nclean, 40 - KEEP);
    ck_released(&p, 40 - KEEP, 2);
    /* given back once: a further idle trim has nothing to do */
    ck_assert_uint_eq(bufpool_trim(&p, KEEP, CAP), 0);
    bufpool_free(&p);
}
END_TEST

/* Only buffers below the period's low-water mark go: those taken in the
 * period stay, and the ones that gave their pages back are taken last. */
START_TEST(test_trim_spares_used)
{
    struct bufpool p;
    pool_after_burst(&p, 40);
    burst(&p, 30); /* low-water mark 10: v[0, 10) unused */
    ck_assert_uint_eq(bufpool_trim(&p, KEEP, CAP), 10 - KEEP);
    ck_assert_uint_eq(p.nclean, 10 - KEEP);
    burst(&p, 5); /* low-water mark 35 */
    ck_assert_uint_eq(bufpool_trim(&p, KEEP, CAP), 35 - KEEP - (10 - KEEP));
    ck_assert_uint_eq(p.nclean, 35 - KEEP);
    ck_released(&p, 35 - KEEP, 1);
    /* taking all 40 reaches the clean ones last, and they are usable */
    char *b[40];
    for (unsigned i = 0; i < 40; i++)
        b[i] = bufpool_get(&p);
    ck_assert_uint_eq(p.nclean, 0);
    for (unsigned i = 0; i < 40; i++) {
        ck_assert_uint_eq(resident_pages(&p, b[i]), i < 40 - (35 - KEEP) ? 1 : 0);
        memset(b[i], 0x5a, p.bytes);
        bufpool_put(&p, b[i]);
    }
    bufpool_free(&p);
}
END_TEST

/* At most `most` a trim, the lowest first; the rest at the next ones. */
START_TEST(test_trim_at_most)
{
    struct bufpool p;
    pool_after_burst(&p, 40);
    ck_assert_uint_eq(bufpool_trim(&p, KEEP, 10), 10);
    ck_assert_uint_eq(bufpool_trim(&p, KEEP, 10), 10);
    ck_assert_uint_eq(p.nclean, 20);
    ck_released(&p, 20, 1);
    ck_assert_uint_eq(bufpool_trim(&p, KEEP, CAP), 40 - KEEP - 20);
    bufpool_free(&p);
}
END_TEST

/* Fewer than KEEP unused: none gives its pages back. */
START_TEST(test_trim_keeps_a_few)
{
    struct bufpool p;
    pool_after_burst(&p, KEEP);
    ck_assert_uint_eq(bufpool_trim(&p, KEEP, CAP), 0);
    ck_assert_uint_eq(p.nclean, 0);
    ck_released(&p, 0, 1);
    bufpool_free(&p);
}
END_TEST

static Suite *bufpool_suite(void)
{
    Suite *s = suite_create("bufpool");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_size_and_alignment);
    tcase_add_test(tc, test_reuse_and_cap);
    tcase_add_test(tc, test_trim_after_burst);
    tcase_add_test(tc, test_trim_spares_used);
    tcase_add_test(tc, test_trim_at_most);
    tcase_add_test(tc, test_trim_keeps_a_few);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return ps_check_run(bufpool_suite());
}
