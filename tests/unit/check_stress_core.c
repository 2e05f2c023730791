/* Unit tests of pyserve-stress's pure cores: SHA-256 (FIPS 180-4 vectors),
 * the open-loop schedule arithmetic (schedule.h), the response reader
 * (rdec.h: framing, pieces, pipelining, truncation) and the stats merge. */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "histogram.h"
#include "rdec.h"
#include "report.h"
#include "schedule.h"
#include "sha256.h"
#include "stats.h"
#include "check_run.h"

#define MS  1000000ull
#define SEC 1000000000ull

/* ---- SHA-256 ------------------------------------------------------------ */

static void hex_of(const void *data, size_t n, char out[65])
{
    struct sha256 s;
    uint8_t d[SHA256_DIGEST_LEN];
    sha256_init(&s);
    sha256_update(&s, data, n);
    sha256_final(&s, d);
    sha256_format_hex(d, out);
}

struct sha_case {
    const char *msg;
    size_t repeat; /* of msg */
    const char *hex;
};

static const struct sha_case sha_cases[] = {
    /* FIPS 180-4 / NIST CSRC examples */
    {"", 1, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
    {"abc", 1, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
    {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 1,
     "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
    {"abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrl"
     "mnopqrsmnopqrstnopqrstu",
     1, "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"},
    {"a", 1000000, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"},
    /* padding boundaries: 55, 56, 63, 64, 65, 119, 120 bytes */
    {"a", 55, "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318"},
    {"a", 56, "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a"},
    {"a", 63, "7d3e74a05d7db15bce4ad9ec0658ea98e3f06eeecf16b4c6fff2da457ddc2f34"},
    {"a", 64, "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb"},
    {"a", 65, "635361c48bb9eab14198e76ea8ab7f1a41685d6ad62aa9146d301d4f17eb0ae0"},
    {"a", 119, "31eba51c313a5c08226adf18d4a359cfdfd8d2e816b13f4af952f7ea6584dcfb"},
    {"a", 120, "2f3d335432c70b580af0e8e1b3674a7c020d683aa5f73aaaedfdc55af904c21c"},
};

static char *repeat(const struct sha_case *c, size_t *n)
{
    size_t len = strlen(c->msg);
    *n = len * c->repeat;
    char *buf = malloc(*n + 1);
    ck_assert_ptr_nonnull(buf);
    for (size_t i = 0; i < c->repeat; i++)
        memcpy(buf + i * len, c->msg, len);
    return buf;
}

START_TEST(test_sha256_vectors)
{
    const struct sha_case *c = &sha_cases[_i];
    size_t n;
    char *buf = repeat(c, &n), hex[65];
    hex_of(buf, n, hex);
    ck_assert_str_eq(hex, c->hex);
    free(buf);
}
END_TEST

START_TEST(test_sha256_incremental)
{
    /* every split of the input into pieces of size 1..130 gives the same
     * digest as the one-shot hash */
    const struct sha_case *c = &sha_cases[3];
    size_t n;
    char *buf = repeat(c, &n);
    for (size_t piece = 1; piece <= 130; piece++) {
        struct sha256 s;
        uint8_t d[SHA256_DIGEST_LEN];
        char hex[65];
        sha256_init(&s);
        for (size_t off = 0; off < n; off += piece)
            sha256_update(&s, buf + off, n - off < piece ? n - off : piece);
        sha256_final(&s, d);
        sha256_format_hex(d, hex);
        ck_assert_msg(strcmp(hex, c->hex) == 0, "piece %zu: %s", piece, hex);
    }
    free(buf);
}
END_TEST

START_TEST(test_sha256_hex)
{
    uint8_t d[SHA256_DIGEST_LEN], sentinel[SHA256_DIGEST_LEN];
    char hex[65];
    ck_assert_int_eq(sha256_parse_hex(sha_cases[1].hex, d), 0);
    sha256_format_hex(d, hex);
    ck_assert_str_eq(hex, sha_cases[1].hex);
    ck_assert_int_eq(
        sha256_parse_hex("BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD", d), 0);
    sha256_format_hex(d, hex);
    ck_assert_str_eq(hex, sha_cases[1].hex);
    memset(sentinel, 0x5a, sizeof(sentinel));
    memcpy(d, sentinel, sizeof(d));
    static const char *bad[] = {
        "",
        "abc",
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015a",   /* 63 */
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad0", /* 65 */
        "ga7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015a ",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ck_assert_int_eq(sha256_parse_hex(bad[i], d), -EINVAL);
        ck_assert_int_eq(memcmp(d, sentinel, sizeof(d)), 0); /* untouched on error */
    }
}
END_TEST

/* ---- open-loop schedule --------------------------------------------------- */

START_TEST(test_sched_due_times)
{
    struct sched s = {.t0_ns = 5 * SEC, .rate = 1000, .nconns = 10};
    ck_assert_uint_eq(sched_due_ns(&s, 0, 0), 5 * SEC);
    ck_assert_uint_eq(sched_due_ns(&s, 3, 0), 5 * SEC + 3 * MS);
    ck_assert_uint_eq(sched_due_ns(&s, 0, 1), 5 * SEC + 10 * MS);
    ck_assert_uint_eq(sched_due_ns(&s, 9, 99), 5 * SEC + 999 * MS);
    /* together the connections issue one request every 1/rate, in turn */
    uint64_t prev = 0;
    for (uint64_t n = 0; n < 5000; n++) {
        uint64_t d = sched_due_ns(&s, (uint32_t)(n % 10), n / 10);
        ck_assert_uint_eq(d, 5 * SEC + n * MS);
        ck_assert(n == 0 || d > prev);
        prev = d;
    }
}
END_TEST

START_TEST(test_sched_no_drift)
{
    /* a rate that does not divide a second: 3/s gives 0, 1/3, 2/3 s (floored
     * to the ns), and after 3000 requests exactly 1000 s, no accumulated error */
    struct sched s = {.t0_ns = 0, .rate = 3, .nconns = 1};
    ck_assert_uint_eq(sched_due_ns(&s, 0, 1), 333333333);
    ck_assert_uint_eq(sched_due_ns(&s, 0, 2), 666666666);
    ck_assert_uint_eq(sched_due_ns(&s, 0, 3), SEC);
    ck_assert_uint_eq(sched_due_ns(&s, 0, 3000), 1000 * SEC);
    /* the largest rate over a day stays in 64 bits */
    struct sched big = {.t0_ns = 1, .rate = SCHED_RATE_MAX, .nconns = 1000};
    uint64_t k = (uint64_t)SCHED_RATE_MAX * 86400 / 1000;
    ck_assert_uint_eq(sched_due_ns(&big, 0, k), 1 + 86400 * SEC);
    ck_assert_uint_eq(sched_due_ns(&big, 999, k), 1 + 86400 * SEC + 999 * 10);
}
END_TEST

START_TEST(test_sched_sendable)
{
    struct sched s = {.t0_ns = SEC, .rate = 1000, .nconns = 1};
    ck_assert_uint_eq(sched_sendable(&s, 0, 0, SEC - 1, 8), 0); /* before the start */
    ck_assert_uint_eq(sched_sendable(&s, 0, 0, SEC, 8), 1);
    ck_assert_uint_eq(sched_sendable(&s, 0, 0, SEC + MS - 1, 8), 1);
    ck_assert_uint_eq(sched_sendable(&s, 0, 0, SEC + MS, 8), 2);
    /* fell behind by 50 ms: 51 due, but only room for 8, or none */
    ck_assert_uint_eq(sched_sendable(&s, 0, 0, SEC + 50 * MS, 8), 8);
    ck_assert_uint_eq(sched_sendable(&s, 0, 0, SEC + 50 * MS, 100), 51);
    ck_assert_uint_eq(sched_sendable(&s, 0, 0, SEC + 50 * MS, 0), 0);
    /* already sent up to 50: one more due */
    ck_assert_uint_eq(sched_sendable(&s, 0, 50, SEC + 50 * MS, 8), 1);
    ck_assert_uint_eq(sched_sendable(&s, 0, 51, SEC + 50 * MS, 8), 0);
    /* phases: with 4 connections at 1000/s, connection 2 starts 2 ms in */
    struct sched p = {.t0_ns = 0, .rate = 1000, .nconns = 4};
    ck_assert_uint_eq(sched_sendable(&p, 2, 0, 2 * MS - 1, 8), 0);
    ck_assert_uint_eq(sched_sendable(&p, 2, 0, 2 * MS, 8), 1);
    ck_assert_uint_eq(sched_sendable(&p, 2, 0, 6 * MS, 8), 2);
}
END_TEST

START_TEST(test_sched_latency)
{
    uint64_t c, u;
    sched_latency(100, 150, 400, &c, &u);
    ck_assert_uint_eq(c, 300);
    ck_assert_uint_eq(u, 250);
    sched_latency(200, 100, 300, &c, &u); /* sent early: from the send */
    ck_assert_uint_eq(c, 200);
    ck_assert_uint_eq(u, 200);
    sched_latency(100, 100, 50, &c, &u); /* clock went backwards: 0, no wrap */
    ck_assert_uint_eq(c, 0);
    ck_assert_uint_eq(u, 0);
}
END_TEST

START_TEST(test_sched_stall_simulation)
{
    /* One connection at 100 req/s for 10 s against a server that answers in
     * 1 ms but stalls 200 ms once, at t = 3 s. Each request is sent when it
     * is due and the connection is free (pipeline depth 1), as the engine
     * does. The stall delays the 20 requests due during it: corrected p99
     * shows it, uncorrected p99 does not (only one request saw it). */
    struct sched s = {.t0_ns = 0, .rate = 100, .nconns = 1};
    struct ps_hist *corr = malloc(sizeof(*corr)), *unc = malloc(sizeof(*unc));
    ck_assert_ptr_nonnull(corr);
    ck_assert_ptr_nonnull(unc);
    ps_hist_init(corr);
    ps_hist_init(unc);
    uint64_t now = 0, k = 0;
    bool stalled = false;
    while (k < 1000) {
        if (sched_sendable(&s, 0, k, now, 1) == 0) {
            now = sched_due_ns(&s, 0, k); /* idle until due */
            continue;
        }
        uint64_t due = sched_due_ns(&s, 0, k), sent = now;
        uint64_t service = 1 * MS;
        if (!stalled && sent >= 3 * SEC) {
            service = 200 * MS;
            stalled = true;
        }
        now = sent + service;
        uint64_t c, u;
        sched_latency(due, sent, now, &c, &u);
        ps_hist_record(corr, c);
        ps_hist_record(unc, u);
        k++;
    }
    ck_assert(stalled);
    ck_assert_uint_eq(corr->total, 1000);
    ck_assert_uint_le(ps_hist_percentile(unc, 99), 1 * MS + MS / 100);
    ck_assert_uint_ge(ps_hist_percentile(unc, 100), 200 * MS);
    ck_assert_uint_ge(ps_hist_percentile(corr, 99), 100 * MS);
    /* ~20 requests queued behind the stall, charged 200, 190, ... ms */
    ck_assert_uint_ge(ps_hist_percentile(corr, 98.5), 40 * MS);
    ck_assert_uint_le(ps_hist_percentile(corr, 50), 1 * MS + MS / 100);
    free(corr);
    free(unc);
}
END_TEST

/* ---- response reader -------------------------------------------------------- */

static struct rdec dec;

static void dec_setup(void)
{
    rdec_init(&dec);
    rdec_start(&dec, false, false);
}

static void dec_teardown(void)
{
    rdec_free(&dec);
}

/* Feed all of s; returns the event of the last call; *used gets the total. */
static enum rdec_event feed_all(const char *s, size_t n, size_t *used)
{
    enum rdec_event ev = RDEC_MORE;
    *used = 0;
    while (*used < n) {
        size_t u = rdec_feed(&dec, s + *used, n - *used, &ev);
        *used += u;
        if (ev != RDEC_MORE)
            break;
        ck_assert_uint_gt(u, 0);
    }
    return ev;
}

#define RESP_200 "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX: y\r\n\r\nhello"

START_TEST(test_rdec_length_one_piece)
{
    size_t used;
    ck_assert_int_eq(feed_all(RESP_200, strlen(RESP_200), &used), RDEC_DONE);
    ck_assert_uint_eq(used, strlen(RESP_200));
    ck_assert_int_eq(dec.status, 200);
    ck_assert_uint_eq(dec.body_len, 5);
    ck_assert(dec.keep_alive);
    ck_assert(dec.has_length);
    ck_assert_uint_eq(dec.content_length, 5);
}
END_TEST

/* Content-Length: 0 ends the response with its head: nothing is awaited */
START_TEST(test_rdec_length_zero)
{
    static const char r[] = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
    size_t used;
    ck_assert_int_eq(feed_all(r, sizeof(r) - 1, &used), RDEC_DONE);
    ck_assert_uint_eq(used, sizeof(r) - 1);
    ck_assert_uint_eq(dec.body_len, 0);
    ck_assert(dec.keep_alive);
    ck_assert(dec.has_length);

    /* chunked, twice on one connection: no length, and each decoded anew */
    static const char c[] = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                            "3\r\nabc\r\n0\r\n\r\n";
    for (int i = 0; i < 2; i++) {
        rdec_start(&dec, false, false);
        ck_assert_int_eq(feed_all(c, sizeof(c) - 1, &used), RDEC_DONE);
        ck_assert_uint_eq(used, sizeof(c) - 1);
        ck_assert_uint_eq(dec.body_len, 3);
        ck_assert(!dec.has_length);
    }
}
END_TEST

START_TEST(test_rdec_byte_by_byte)
{
    const char *r = RESP_200;
    size_t n = strlen(r);
    for (size_t i = 0; i < n; i++) {
        enum rdec_event ev;
        size_t u = rdec_feed(&dec, r + i, 1, &ev);
        ck_assert_uint_eq(u, 1);
        ck_assert_int_eq(ev, i + 1 == n ? RDEC_DONE : RDEC_MORE);
        ck_assert(dec.started);
    }
    ck_assert_uint_eq(dec.body_len, 5);
    ck_assert_int_eq(dec.status, 200);
}
END_TEST

START_TEST(test_rdec_pipelined)
{
    const char *two = RESP_200 "HTTP/1.1 404 Not Found\r\nContent-Length: 3\r\n\r\nno!";
    enum rdec_event ev;
    size_t n = strlen(two);
    size_t u = rdec_feed(&dec, two, n, &ev);
    ck_assert_int_eq(ev, RDEC_DONE);
    ck_assert_uint_eq(u, strlen(RESP_200));
    ck_assert_int_eq(dec.status, 200);
    rdec_start(&dec, false, false);
    ck_assert(!dec.started);
    size_t u2 = rdec_feed(&dec, two + u, n - u, &ev);
    ck_assert_int_eq(ev, RDEC_DONE);
    ck_assert_uint_eq(u + u2, n);
    ck_assert_int_eq(dec.status, 404);
    ck_assert_uint_eq(dec.body_len, 3);
}
END_TEST

START_TEST(test_rdec_split_head_then_pipelined)
{
    /* a head split across reads, the second read also holding the next
     * response: the stash must give back exactly the right count */
    const char *a = "HTTP/1.1 200 OK\r\nContent-Le";
    const char *b = "ngth: 2\r\n\r\nokHTTP/1.1 204 No Content\r\n\r\n";
    enum rdec_event ev;
    ck_assert_uint_eq(rdec_feed(&dec, a, strlen(a), &ev), strlen(a));
    ck_assert_int_eq(ev, RDEC_MORE);
    size_t u = rdec_feed(&dec, b, strlen(b), &ev);
    ck_assert_int_eq(ev, RDEC_DONE);
    ck_assert_uint_eq(u, strlen("ngth: 2\r\n\r\nok"));
    ck_assert_uint_eq(dec.body_len, 2);
    rdec_start(&dec, false, false);
    ck_assert_uint_eq(rdec_feed(&dec, b + u, strlen(b) - u, &ev), strlen(b) - u);
    ck_assert_int_eq(ev, RDEC_DONE);
    ck_assert_int_eq(dec.status, 204);
    ck_assert_uint_eq(dec.body_len, 0);
}
END_TEST

START_TEST(test_rdec_chunked_hashed)
{
    const char *r = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                    "1\r\na\r\n2;ext=1\r\nbc\r\n0\r\nTrailer: x\r\n\r\n";
    rdec_start(&dec, false, true);
    size_t n = strlen(r);
    /* in pieces of 3 bytes */
    enum rdec_event ev = RDEC_MORE;
    size_t off = 0;
    while (off < n && ev == RDEC_MORE) {
        size_t m = n - off < 3 ? n - off : 3, u = 0;
        while (u < m && ev == RDEC_MORE)
            u += rdec_feed(&dec, r + off + u, m - u, &ev);
        off += u;
    }
    ck_assert_int_eq(ev, RDEC_DONE);
    ck_assert_uint_eq(off, n);
    ck_assert_uint_eq(dec.body_len, 3);
    uint8_t d[SHA256_DIGEST_LEN];
    char hex[65];
    sha256_final(&dec.sha, d);
    sha256_format_hex(d, hex);
    ck_assert_str_eq(hex, sha_cases[1].hex); /* sha256("abc") */
}
END_TEST

START_TEST(test_rdec_close_delimited)
{
    const char *r = "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil the end";
    size_t used;
    ck_assert_int_eq(feed_all(r, strlen(r), &used), RDEC_MORE);
    ck_assert(!dec.keep_alive);
    ck_assert_int_eq(rdec_eof(&dec), RDEC_DONE);
    ck_assert_uint_eq(dec.body_len, strlen("until the end"));
}
END_TEST

START_TEST(test_rdec_eof_cases)
{
    size_t used;
    /* nothing arrived: not a bad response (the caller decides) */
    ck_assert_int_eq(rdec_eof(&dec), RDEC_MORE);
    /* inside the head */
    rdec_start(&dec, false, false);
    ck_assert_int_eq(feed_all("HTTP/1.1 200", 12, &used), RDEC_MORE);
    ck_assert_int_eq(rdec_eof(&dec), RDEC_BAD);
    ck_assert_ptr_nonnull(dec.why);
    /* body shorter than its Content-Length */
    rdec_start(&dec, false, false);
    const char *r = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort";
    ck_assert_int_eq(feed_all(r, strlen(r), &used), RDEC_MORE);
    ck_assert_int_eq(rdec_eof(&dec), RDEC_BAD);
    /* chunked body cut off */
    rdec_start(&dec, false, false);
    r = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab";
    ck_assert_int_eq(feed_all(r, strlen(r), &used), RDEC_MORE);
    ck_assert_int_eq(rdec_eof(&dec), RDEC_BAD);
}
END_TEST

static const char *const bad_responses[] = {
    "HTTP/1.1 2000 OK\r\n\r\n",
    "HTTP/2 200 OK\r\n\r\n",
    "garbage\r\n\r\n",
    "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
    "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
    "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n",
    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
    "HTTP/1.1 200 OK\r\nBad Field: x\r\n\r\n",
};

START_TEST(test_rdec_bad)
{
    size_t used;
    const char *r = bad_responses[_i];
    ck_assert_int_eq(feed_all(r, strlen(r), &used), RDEC_BAD);
    ck_assert_ptr_nonnull(dec.why);
}
END_TEST

START_TEST(test_rdec_head_request)
{
    /* HEAD: the Content-Length announces the GET body; nothing follows */
    const char *r = "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n";
    rdec_start(&dec, true, false);
    size_t used;
    ck_assert_int_eq(feed_all(r, strlen(r), &used), RDEC_DONE);
    ck_assert_uint_eq(used, strlen(r));
    ck_assert(dec.has_length);
    ck_assert_uint_eq(dec.content_length, 1000);
    ck_assert_uint_eq(dec.body_len, 0);
    ck_assert(dec.keep_alive);

    /* Transfer-Encoding on HEAD or a 304: the coding a GET would have had,
     * no body; the next response follows on the same connection */
    const char *te[][2] = {
        {"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", "HEAD"},
        {"HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: gzip\r\n\r\n", "GET"},
    };
    for (size_t i = 0; i < sizeof(te) / sizeof(te[0]); i++) {
        char two[200];
        int n = snprintf(two, sizeof(two), "%s%s", te[i][0], te[i][0]);
        rdec_start(&dec, te[i][1][0] == 'H', false);
        ck_assert_int_eq(feed_all(two, (size_t)n, &used), RDEC_DONE);
        ck_assert_uint_eq(used, strlen(te[i][0]));
        ck_assert_uint_eq(dec.body_len, 0);
        ck_assert(dec.keep_alive);
    }
}
END_TEST

START_TEST(test_rdec_interim_and_http10)
{
    const char *r = "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nhi";
    size_t used;
    ck_assert_int_eq(feed_all(r, strlen(r), &used), RDEC_DONE);
    ck_assert_uint_eq(used, strlen(r));
    ck_assert_int_eq(dec.status, 200);
    ck_assert(!dec.keep_alive); /* HTTP/1.0 without keep-alive */
    ck_assert_uint_eq(dec.body_len, 2);
}
END_TEST

START_TEST(test_rdec_interim_byte_by_byte)
{
    /* 100 and 103 (Early Hints, with a field) before the final response,
     * each byte in its own read: the interim heads are skipped */
    const char *r = "HTTP/1.1 100 Continue\r\n\r\n"
                    "HTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\n"
                    "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi";
    size_t n = strlen(r);
    for (size_t i = 0; i < n; i++) {
        enum rdec_event ev;
        ck_assert_uint_eq(rdec_feed(&dec, r + i, 1, &ev), 1);
        ck_assert_int_eq(ev, i + 1 == n ? RDEC_DONE : RDEC_MORE);
    }
    ck_assert_int_eq(dec.status, 200);
    ck_assert_uint_eq(dec.body_len, 2);
    ck_assert(dec.keep_alive);
}
END_TEST

START_TEST(test_rdec_switching_protocols)
{
    /* a 101 ends the HTTP exchange: complete at the end of its head, the
     * other protocol's bytes left over, and the connection not to be used
     * for another request whatever its fields say */
    const char *head = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\n"
                       "Connection: Upgrade\r\n\r\n";
    char r[200];
    int n = snprintf(r, sizeof(r), "%s%s", head, "\x01\x02 not HTTP");
    enum rdec_event ev;
    ck_assert_uint_eq(rdec_feed(&dec, r, (size_t)n, &ev), strlen(head));
    ck_assert_int_eq(ev, RDEC_DONE);
    ck_assert_int_eq(dec.status, 101);
    ck_assert_uint_eq(dec.body_len, 0);
    ck_assert(!dec.keep_alive);
}
END_TEST

START_TEST(test_rdec_head_too_large)
{
    size_t n = RDEC_STASH_MAX + 100;
    char *big = malloc(n);
    ck_assert_ptr_nonnull(big);
    const char *start = "HTTP/1.1 200 OK\r\nX: ";
    memcpy(big, start, strlen(start));
    memset(big + strlen(start), 'a', n - strlen(start));
    /* in 1000-byte reads, as the engine would feed it */
    enum rdec_event ev = RDEC_MORE;
    size_t off = 0;
    while (off < n && ev == RDEC_MORE) {
        size_t m = n - off < 1000 ? n - off : 1000;
        off += rdec_feed(&dec, big + off, m, &ev);
    }
    ck_assert_int_eq(ev, RDEC_BAD);
    ck_assert_uint_le(off, RDEC_STASH_MAX);
    free(big);
}
END_TEST

START_TEST(test_rdec_data_after_done)
{
    size_t used;
    ck_assert_int_eq(feed_all(RESP_200, strlen(RESP_200), &used), RDEC_DONE);
    enum rdec_event ev;
    rdec_feed(&dec, "x", 1, &ev); /* without rdec_start */
    ck_assert_int_eq(ev, RDEC_BAD);
}
END_TEST

/* ---- stats ----------------------------------------------------------------------- */

START_TEST(test_stats_merge)
{
    struct stress_stats *a = malloc(sizeof(*a)), *b = malloc(sizeof(*b));
    ck_assert_ptr_nonnull(a);
    ck_assert_ptr_nonnull(b);
    stress_stats_init(a);
    stress_stats_init(b);
    stress_stats_status(a, 200);
    stress_stats_status(a, 200);
    stress_stats_status(b, 404);
    stress_stats_status(b, 503);
    stress_stats_status(b, 302);
    stress_stats_status(b, 99); /* not a status: "other" */
    a->requests = 2;
    b->requests = 4;
    a->err_timeout = 3;
    b->err_bad = 1;
    b->err_verify = 2;
    ps_hist_record(&a->latency, 1000);
    ps_hist_record(&b->latency, 3000);
    stress_stats_merge(a, b);
    ck_assert_uint_eq(a->requests, 6);
    ck_assert_uint_eq(a->status_class[2], 2);
    ck_assert_uint_eq(a->status_class[3], 1);
    ck_assert_uint_eq(a->status_class[4], 1);
    ck_assert_uint_eq(a->status_class[5], 1);
    ck_assert_uint_eq(a->status_class[0], 1);
    ck_assert_uint_eq(a->status_code[200], 2);
    ck_assert_uint_eq(a->status_code[503], 1);
    ck_assert_uint_eq(stress_stats_errors(a), 6);
    ck_assert_uint_eq(stress_stats_non_2xx_3xx(a), 3);
    ck_assert_uint_eq(a->latency.total, 2);
    ck_assert_uint_eq(a->latency.max, 3000);

    /* the other counters, and codes from 600 to 999 */
    stress_stats_init(a);
    stress_stats_init(b);
    stress_stats_status(b, 999);
    stress_stats_status(b, 600);
    a->connects = 1;
    b->connects = 3;
    b->connects_warmup = 2;
    b->unanswered = 4;
    stress_stats_merge(a, b);
    ck_assert_uint_eq(a->status_code[999], 1);
    ck_assert_uint_eq(a->status_code[600], 1);
    ck_assert_uint_eq(a->status_class[0], 2);
    ck_assert_uint_eq(a->connects, 4);
    ck_assert_uint_eq(a->connects_warmup, 2);
    ck_assert_uint_eq(a->unanswered, 4);
    free(a);
    free(b);
}
END_TEST

/* The Req/Sec samples: 100 ms windows that run a little long must not
 * read low (5 in 100.1 ms is 49.95/s: 50, not 49). */
START_TEST(test_rate_rounded)
{
    ck_assert_uint_eq(stress_rate_per_s(5, 100100000u), 50);
    ck_assert_uint_eq(stress_rate_per_s(5, 100000000u), 50);
    ck_assert_uint_eq(stress_rate_per_s(1, 3000000000u), 0);  /* 0.33/s */
    ck_assert_uint_eq(stress_rate_per_s(2, 3000000000u), 1);  /* 0.67/s */
    ck_assert_uint_eq(stress_rate_per_s(3, 2000000000u), 2);  /* 1.5/s: half up */
    ck_assert_uint_eq(stress_rate_per_s(12345, 100000000u), 123450);
    ck_assert_uint_eq(stress_rate_per_s(0, 100000000u), 0);
    ck_assert_uint_eq(stress_rate_per_s(7, 0), 7000000000u); /* no division by zero */
}
END_TEST

/* ---- report ----------------------------------------------------------------- */

START_TEST(test_report_units)
{
    char b[32];
    ck_assert_str_eq(stress_fmt_time(b, sizeof(b), 999e3), "999.00us");
    ck_assert_str_eq(stress_fmt_time(b, sizeof(b), 1e6), "1.00ms");
    ck_assert_str_eq(stress_fmt_time(b, sizeof(b), 1e9), "1.00s");
    ck_assert_str_eq(stress_fmt_time(b, sizeof(b), 59.5e9), "59.50s");
    ck_assert_str_eq(stress_fmt_time(b, sizeof(b), 60e9), "1.00m");
}
END_TEST

/* Run one of the reports on a small result into a string (to free). */
static char *report(void (*fn)(FILE *, const struct stress_result *),
                    const struct stress_result *r)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    ck_assert_ptr_nonnull(f);
    fn(f, r);
    ck_assert_int_eq(fclose(f), 0);
    return text;
}

START_TEST(test_report_contents)
{
    /* an argument with control bytes, quotes, a surrogate and an overlong
     * form: valid JSON, the bad bytes as U+FFFD, good UTF-8 as it is */
    static char url[] = "a\x1f"
                        "b\"c\\d\xed\xa0\x80"
                        "e\xe0\x80\xaf"
                        "f\xc3\xa9g\x7f";
    static char *urls[] = {url};
    struct stress_opts o;
    memset(&o, 0, sizeof(o));
    o.connections = 1;
    o.pipeline = 1;
    o.keep_alive = true;
    o.duration_ms = 1000;
    o.urls = urls;
    o.nurls = 1;
    struct stress_stats *s = malloc(sizeof(*s));
    ck_assert_ptr_nonnull(s);
    stress_stats_init(s);
    stress_stats_status(s, 299);
    s->requests = 1;
    s->bytes = 1024;
    ps_hist_record(&s->latency, 1000);
    struct stress_result r = {&o, url, 1, 1, 1000000000u, 1000000000u, s, 0};

    char *j = report(stress_report_json, &r);
    ck_assert_msg(strstr(j, "\"urls\": [\"a\\u001fb\\\"c\\\\d\\ufffd\\ufffd\\ufffde"
                            "\\ufffd\\ufffd\\ufffdf\xc3\xa9g\\u007f\"]") != NULL,
                  "%s", j);
    /* no connection: a count of 0 and a min of 0, not of UINT64_MAX */
    ck_assert_msg(strstr(j, "\"connect_us\": {\"count\": 0, \"min\": 0.000,") != NULL, "%s", j);
    free(j);

    char *t = report(stress_report_text, &r);
    ck_assert_msg(strstr(t, "Status: 2xx: 1 (299: 1)") != NULL, "%s", t);
    ck_assert_msg(strstr(t, "1 requests in 1.00s, 1.00KB read") != NULL, "%s", t);
    free(t);
    free(s);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("stress_core");
    TCase *tc = tcase_create("sha256");
    tcase_add_loop_test(tc, test_sha256_vectors, 0, sizeof(sha_cases) / sizeof(sha_cases[0]));
    tcase_add_test(tc, test_sha256_incremental);
    tcase_add_test(tc, test_sha256_hex);
    suite_add_tcase(s, tc);

    tc = tcase_create("sched");
    tcase_add_test(tc, test_sched_due_times);
    tcase_add_test(tc, test_sched_no_drift);
    tcase_add_test(tc, test_sched_sendable);
    tcase_add_test(tc, test_sched_latency);
    tcase_add_test(tc, test_sched_stall_simulation);
    suite_add_tcase(s, tc);

    tc = tcase_create("rdec");
    tcase_add_checked_fixture(tc, dec_setup, dec_teardown);
    tcase_add_test(tc, test_rdec_length_one_piece);
    tcase_add_test(tc, test_rdec_length_zero);
    tcase_add_test(tc, test_rdec_byte_by_byte);
    tcase_add_test(tc, test_rdec_pipelined);
    tcase_add_test(tc, test_rdec_split_head_then_pipelined);
    tcase_add_test(tc, test_rdec_chunked_hashed);
    tcase_add_test(tc, test_rdec_close_delimited);
    tcase_add_test(tc, test_rdec_eof_cases);
    tcase_add_loop_test(tc, test_rdec_bad, 0, sizeof(bad_responses) / sizeof(bad_responses[0]));
    tcase_add_test(tc, test_rdec_head_request);
    tcase_add_test(tc, test_rdec_interim_and_http10);
    tcase_add_test(tc, test_rdec_interim_byte_by_byte);
    tcase_add_test(tc, test_rdec_switching_protocols);
    tcase_add_test(tc, test_rdec_head_too_large);
    tcase_add_test(tc, test_rdec_data_after_done);
    suite_add_tcase(s, tc);

    tc = tcase_create("stats");
    tcase_add_test(tc, test_stats_merge);
    tcase_add_test(tc, test_rate_rounded);
    suite_add_tcase(s, tc);

    tc = tcase_create("report");
    tcase_add_test(tc, test_report_units);
    tcase_add_test(tc, test_report_contents);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return ps_check_run(suite());
}
