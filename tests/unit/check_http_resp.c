/* Unit tests of response heads and error bodies (src/pyserved/http_resp.h). */
#include "config.h"

#include <check.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_resp.h"
#include "check_run.h"

#define NELEMS(a) (sizeof(a) / sizeof((a)[0]))
#define DATE "Sun, 06 Nov 1994 08:49:37 GMT"
#define SERVER "Server: pyserve\r\n" /* no version unless server_tokens */
#define CANARY 'Z'

/* Write the head into a canary-filled buffer and check that nothing past the
 * returned length (or past cap) was touched. */
static int head(char *buf, size_t bufsz, size_t cap, const struct resp_head *h)
{
    memset(buf, CANARY, bufsz);
    int r = http_resp_head(buf, cap, h, DATE);
    size_t from = r >= 0 ? (size_t)r : cap;
    for (size_t i = from; i < bufsz; i++)
        ck_assert_msg(buf[i] == CANARY, "byte %zu written (cap %zu, returned %d)", i, cap, r);
    return r;
}

struct head_case {
    const char *name;
    struct resp_head h;
    const char *want;
};

static const char loc[] = "/dir/?x=1GARBAGE";

static const struct head_case head_cases[] = {
    {"200 with every field",
     {.status = 200, .content_type = "text/html; charset=utf-8", .content_length = 1234,
      .has_last_modified = true, .last_modified = 784111777},
     "HTTP/1.1 200 OK\r\n" SERVER "Date: " DATE "\r\n"
     "Content-Type: text/html; charset=utf-8\r\n"
     "Content-Length: 1234\r\n"
     "Last-Modified: Sun, 06 Nov 1994 08:49:37 GMT\r\n"
     "\r\n"},
    {"every field at once",
     {.status = 200, .content_type = "text/css; charset=utf-8", .content_length = 42,
      .has_last_modified = true, .last_modified = 784111777, .location = loc, .location_len = 5, .nosniff = true,
      .allow = true, .close = true},
     "HTTP/1.1 200 OK\r\n" SERVER "Date: " DATE "\r\n"
     "Content-Type: text/css; charset=utf-8\r\n"
     "Content-Length: 42\r\n"
     "Last-Modified: Sun, 06 Nov 1994 08:49:37 GMT\r\n"
     "Location: /dir/\r\n"
     "X-Content-Type-Options: nosniff\r\n"
     "Allow: GET, HEAD, OPTIONS\r\n"
     "Connection: close\r\n"
     "\r\n"},
    {"a file of 1970-01-01T00:00:00Z has a Last-Modified too",
     {.status = 200, .content_length = 0, .has_last_modified = true, .last_modified = 0},
     "HTTP/1.1 200 OK\r\n" SERVER "Date: " DATE "\r\n"
     "Content-Length: 0\r\n"
     "Last-Modified: Thu, 01 Jan 1970 00:00:00 GMT\r\n"
     "\r\n"},
    {"server_tokens: the version in Server",
     {.status = 404, .content_length = 0, .server_tokens = true},
     "HTTP/1.1 404 Not Found\r\nServer: pyserve/" PACKAGE_VERSION "\r\nDate: " DATE "\r\n"
     "Content-Length: 0\r\n"
     "\r\n"},
    {"200 closing",
     {.status = 200, .content_type = "text/plain; charset=utf-8", .content_length = 0,
      .has_last_modified = true, .last_modified = 1709251199, .close = true},
     "HTTP/1.1 200 OK\r\n" SERVER "Date: " DATE "\r\n"
     "Content-Type: text/plain; charset=utf-8\r\n"
     "Content-Length: 0\r\n"
     "Last-Modified: Thu, 29 Feb 2024 23:59:59 GMT\r\n"
     "Connection: close\r\n"
     "\r\n"},
    {"200 keep-alive for HTTP/1.0",
     {.status = 200, .content_type = "image/png", .content_length = 18446744073709551615ULL,
      .keep_alive = true},
     "HTTP/1.1 200 OK\r\n" SERVER "Date: " DATE "\r\n"
     "Content-Type: image/png\r\n"
     "Content-Length: 18446744073709551615\r\n"
     "Connection: keep-alive\r\n"
     "\r\n"},
    {"close wins over keep-alive",
     {.status = 404, .content_length = 7, .close = true, .keep_alive = true},
     "HTTP/1.1 404 Not Found\r\n" SERVER "Date: " DATE "\r\n"
     "Content-Length: 7\r\n"
     "Connection: close\r\n"
     "\r\n"},
    {"405 with Allow",
     {.status = 405, .content_type = "text/html; charset=utf-8", .content_length = 99,
      .allow = true},
     "HTTP/1.1 405 Method Not Allowed\r\n" SERVER "Date: " DATE "\r\n"
     "Content-Type: text/html; charset=utf-8\r\n"
     "Content-Length: 99\r\n"
     "Allow: GET, HEAD, OPTIONS\r\n"
     "\r\n"},
    {"301 with Location (location_len honoured)",
     {.status = 301, .content_type = "text/html; charset=utf-8", .content_length = 5,
      .location = loc, .location_len = 9},
     "HTTP/1.1 301 Moved Permanently\r\n" SERVER "Date: " DATE "\r\n"
     "Content-Type: text/html; charset=utf-8\r\n"
     "Content-Length: 5\r\n"
     "Location: /dir/?x=1\r\n"
     "\r\n"},
    {"no Content-Type when NULL", {.status = 304, .content_length = 0},
     "HTTP/1.1 304 Not Modified\r\n" SERVER "Date: " DATE "\r\n"
     "Content-Length: 0\r\n"
     "\r\n"},
    {"431 closing",
     {.status = 431, .content_type = "text/html; charset=utf-8", .content_length = 200,
      .close = true},
     "HTTP/1.1 431 Request Header Fields Too Large\r\n" SERVER "Date: " DATE "\r\n"
     "Content-Type: text/html; charset=utf-8\r\n"
     "Content-Length: 200\r\n"
     "Connection: close\r\n"
     "\r\n"},
};

START_TEST(test_head_exact)
{
    const struct head_case *t = &head_cases[_i];
    char buf[1024];
    int r = head(buf, sizeof(buf), sizeof(buf) - 64, &t->h);
    ck_assert_msg(r == (int)strlen(t->want), "%s: returned %d, expected %zu", t->name, r,
                  strlen(t->want));
    ck_assert_msg(memcmp(buf, t->want, (size_t)r) == 0, "%s: got\n%.*s\nexpected\n%s", t->name, r,
                  buf, t->want);
}
END_TEST

/* Every cap below the needed size is -ENOSPC and never writes past cap; the
 * exact size works. */
START_TEST(test_head_nospace)
{
    const struct head_case *t = &head_cases[_i];
    char buf[1024];
    size_t need = strlen(t->want);
    for (size_t cap = 0; cap < need; cap++) {
        int r = head(buf, sizeof(buf), cap, &t->h);
        ck_assert_msg(r == -ENOSPC, "%s: cap %zu returned %d", t->name, cap, r);
    }
    int r = head(buf, sizeof(buf), need, &t->h);
    ck_assert_int_eq(r, (int)need);
    ck_assert_mem_eq(buf, t->want, need);
}
END_TEST

START_TEST(test_head_exact_heap)
{
    /* exact-size heap buffer: an overflow by one is seen by valgrind/ASan */
    const struct head_case *t = &head_cases[0];
    size_t need = strlen(t->want);
    char *buf = malloc(need);
    ck_assert_ptr_nonnull(buf);
    ck_assert_int_eq(http_resp_head(buf, need, &t->h, DATE), (int)need);
    ck_assert_mem_eq(buf, t->want, need);
    ck_assert_int_eq(http_resp_head(buf, need - 1, &t->h, DATE), -ENOSPC);
    free(buf);
}
END_TEST

START_TEST(test_head_structure)
{
    /* Fields are CRLF-terminated "Name: value" lines, no empty line before the
     * end, the head ends with CRLF CRLF. */
    for (size_t i = 0; i < NELEMS(head_cases); i++) {
        char buf[1024];
        int r = http_resp_head(buf, sizeof(buf), &head_cases[i].h, DATE);
        ck_assert_int_gt(r, 4);
        ck_assert_mem_eq(buf + r - 4, "\r\n\r\n", 4);
        ck_assert_mem_eq(buf, "HTTP/1.1 ", 9);
        const char *p = buf, *end = buf + r - 2;
        while (p < end) {
            const char *crlf = memchr(p, '\r', (size_t)(end - p));
            ck_assert_ptr_nonnull(crlf);
            ck_assert_int_eq(crlf[1], '\n');
            ck_assert_msg(crlf > p, "%s: empty line inside the head", head_cases[i].name);
            if (p != buf)
                ck_assert_ptr_nonnull(memchr(p, ':', (size_t)(crlf - p)));
            p = crlf + 2;
        }
        ck_assert_ptr_nonnull(memmem(buf, (size_t)r, "\r\nDate: " DATE "\r\n", 39));
        if (!head_cases[i].h.server_tokens)
            ck_assert_ptr_nonnull(memmem(buf, (size_t)r, "\r\n" SERVER, strlen(SERVER) + 2));
    }
}
END_TEST

/* ---- reasons --------------------------------------------------------------------- */

struct reason_case {
    int status;
    const char *reason;
};

static const struct reason_case reasons[] = {
    {200, "OK"},
    {206, "Partial Content"},
    {301, "Moved Permanently"},
    {304, "Not Modified"},
    {400, "Bad Request"},
    {403, "Forbidden"},
    {404, "Not Found"},
    {405, "Method Not Allowed"},
    {408, "Request Timeout"},
    {412, "Precondition Failed"},
    {414, "URI Too Long"},
    {416, "Range Not Satisfiable"},
    {431, "Request Header Fields Too Large"},
    {500, "Internal Server Error"},
    {501, "Not Implemented"},
    {503, "Service Unavailable"},
    {505, "HTTP Version Not Supported"},
    {0, "Unknown"},
    {299, "Unknown"},
    {999, "Unknown"},
    {-404, "Unknown"},
};

START_TEST(test_reason)
{
    ck_assert_str_eq(http_status_reason(reasons[_i].status), reasons[_i].reason);
}
END_TEST

/* ---- error bodies ----------------------------------------------------------------- */

static const int error_statuses[] = {400, 403, 404, 405, 408, 414, 431, 500, 501, 503, 505};

static bool contains_ci(const char *hay, size_t n, const char *needle)
{
    size_t m = strlen(needle);
    for (size_t i = 0; i + m <= n; i++) {
        size_t j = 0;
        while (j < m && tolower((unsigned char)hay[i + j]) == tolower((unsigned char)needle[j]))
            j++;
        if (j == m)
            return true;
    }
    return false;
}

START_TEST(test_error_body)
{
    int st = error_statuses[_i];
    char buf[2048], code[8];
    memset(buf, CANARY, sizeof(buf));
    int r = http_error_body(buf, sizeof(buf) - 16, st, false);
    ck_assert_int_gt(r, 0);
    ck_assert_int_le(r, (int)sizeof(buf) - 16);
    for (size_t i = (size_t)r; i < sizeof(buf); i++)
        ck_assert_int_eq(buf[i], CANARY);
    ck_assert_ptr_null(memchr(buf, '\0', (size_t)r)); /* length == Content-Length */
    snprintf(code, sizeof(code), "%d", st);
    ck_assert_ptr_nonnull(memmem(buf, (size_t)r, code, strlen(code)));
    const char *reason = http_status_reason(st);
    ck_assert_str_ne(reason, "Unknown");
    ck_assert_ptr_nonnull(memmem(buf, (size_t)r, reason, strlen(reason)));
    ck_assert(contains_ci(buf, (size_t)r, "<html"));
    ck_assert(contains_ci(buf, (size_t)r, "</html>"));
    /* "short": well under a kilobyte */
    ck_assert_int_lt(r, 1024);

    /* every smaller cap: -ENOSPC, nothing past cap */
    for (size_t cap = 0; cap < (size_t)r; cap++) {
        memset(buf, CANARY, sizeof(buf));
        ck_assert_int_eq(http_error_body(buf, cap, st, false), -ENOSPC);
        for (size_t i = cap; i < sizeof(buf); i++)
            ck_assert_int_eq(buf[i], CANARY);
    }
    /* exact fit */
    char *exact = malloc((size_t)r);
    ck_assert_ptr_nonnull(exact);
    ck_assert_int_eq(http_error_body(exact, (size_t)r, st, false), r);
    free(exact);
}
END_TEST

START_TEST(test_error_bodies_differ)
{
    char a[1024], b[1024];
    int ra = http_error_body(a, sizeof(a), 404, false);
    int rb = http_error_body(b, sizeof(b), 403, false);
    ck_assert_int_gt(ra, 0);
    ck_assert_int_gt(rb, 0);
    ck_assert(ra != rb || memcmp(a, b, (size_t)ra) != 0);
}
END_TEST

START_TEST(test_error_body_tokens)
{
    /* the footer names the server; the version only with server_tokens */
    char a[1024], b[1024];
    int ra = http_error_body(a, sizeof(a), 404, false);
    int rb = http_error_body(b, sizeof(b), 404, true);
    ck_assert_int_gt(ra, 0);
    ck_assert_int_gt(rb, 0);
    ck_assert_ptr_nonnull(memmem(a, (size_t)ra, "<p>pyserve</p>", 14));
    ck_assert_ptr_null(memmem(a, (size_t)ra, PACKAGE_VERSION, strlen(PACKAGE_VERSION)));
    const char *full = "<p>pyserve/" PACKAGE_VERSION "</p>";
    ck_assert_ptr_nonnull(memmem(b, (size_t)rb, full, strlen(full)));
    ck_assert_int_eq(rb - ra, (int)strlen("/" PACKAGE_VERSION));
}
END_TEST

static Suite *http_resp_suite(void)
{
    Suite *s = suite_create("http_resp");
    TCase *tc = tcase_create("head");
    tcase_add_loop_test(tc, test_head_exact, 0, NELEMS(head_cases));
    tcase_add_loop_test(tc, test_head_nospace, 0, NELEMS(head_cases));
    tcase_add_test(tc, test_head_exact_heap);
    tcase_add_test(tc, test_head_structure);
    tcase_add_loop_test(tc, test_reason, 0, NELEMS(reasons));
    suite_add_tcase(s, tc);

    tc = tcase_create("error_body");
    tcase_add_loop_test(tc, test_error_body, 0, NELEMS(error_statuses));
    tcase_add_test(tc, test_error_bodies_differ);
    tcase_add_test(tc, test_error_body_tokens);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return ps_check_run(http_resp_suite());
}
