/* Unit tests of validators, conditional requests, byte ranges and
 * Accept-Encoding negotiation (src/pyserved/http_cond.h), against RFC 9110
 * sections 8.8, 12.5.3, 13 and 14. */
#include "config.h"

#include <check.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "http_cond.h"
#include "http_parse.h"
#include "check_run.h"

#define NELEMS(a) (sizeof(a) / sizeof((a)[0]))

/* Every parser input is copied to an exact-size heap block, so that a read
 * past the slice is caught by valgrind or ASan instead of hitting the
 * literal's NUL. */
static struct ps_slice heap_slice(const char *s)
{
    if (!s)
        return (struct ps_slice){NULL, 0};
    size_t n = strlen(s);
    char *p = malloc(n ? n : 1);
    ck_assert_ptr_nonnull(p);
    memcpy(p, s, n);
    return (struct ps_slice){p, n};
}

static void free_slice(struct ps_slice s)
{
    free((void *)s.p);
}

/* ------------------------------------------------------------------------ */
/* http_etag                                                                */

static void check_etag_shape(const char *e, size_t n)
{
    ck_assert_uint_gt(n, 2);
    ck_assert_uint_lt(n, HTTP_ETAG_MAX);
    ck_assert_uint_eq(strlen(e), n);
    ck_assert_int_eq(e[0], '"');
    ck_assert_int_eq(e[n - 1], '"');
    unsigned dashes = 0;
    for (size_t i = 1; i + 1 < n; i++) {
        char c = e[i];
        ck_assert_msg((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || c == '-',
                      "byte %zu of %s is not lowercase hex or '-'", i, e);
        dashes += c == '-';
    }
    ck_assert_uint_eq(dashes, 2);
}

START_TEST(test_etag_format)
{
    struct stat st;
    memset(&st, 0, sizeof(st));
    st.st_ino = 0x1234;
    st.st_size = 0x10;
    st.st_ctim.tv_sec = 1;
    st.st_ctim.tv_nsec = 5;
    char e[HTTP_ETAG_MAX];
    memset(e, 'Z', sizeof(e));
    size_t n = http_etag(&st, e);
    ck_assert_str_eq(e, "\"1234-10-3b9aca05\"");
    ck_assert_uint_eq(n, 18);
    check_etag_shape(e, n);

    memset(&st, 0, sizeof(st));
    n = http_etag(&st, e);
    ck_assert_str_eq(e, "\"0-0-0\"");
    ck_assert_uint_eq(n, 7);

    /* the widest values still fit */
    st.st_ino = (ino_t)UINT64_MAX;
    st.st_size = INT64_MAX;
    st.st_ctim.tv_sec = 4102444800; /* 2100-01-01 */
    st.st_ctim.tv_nsec = 999999999;
    n = http_etag(&st, e);
    ck_assert_str_eq(e, "\"ffffffffffffffff-7fffffffffffffff-38eecfcf9240c9ff\"");
    ck_assert_uint_eq(n, strlen(e));
    check_etag_shape(e, n);
}
END_TEST

START_TEST(test_etag_stable_and_distinct)
{
    struct stat base;
    memset(&base, 0, sizeof(base));
    base.st_ino = 987654;
    base.st_size = 4096;
    base.st_ctim.tv_sec = 1700000000;
    base.st_ctim.tv_nsec = 123456789;
    base.st_mode = S_IFREG | 0644;
    char a[HTTP_ETAG_MAX], b[HTTP_ETAG_MAX];
    size_t na = http_etag(&base, a);
    size_t nb = http_etag(&base, b);
    ck_assert_uint_eq(na, nb);
    ck_assert_str_eq(a, b);

    /* fields that are not part of the version do not change it */
    struct stat st = base;
    st.st_mode = S_IFREG | 0600;
    st.st_atim.tv_sec = 42;
    st.st_mtim.tv_sec = 7; /* a write moves the change time as well */
    st.st_nlink = 3;
    http_etag(&st, b);
    ck_assert_str_eq(a, b);

    /* each part of the version does */
    for (int k = 0; k < 4; k++) {
        st = base;
        switch (k) {
        case 0: st.st_ino++; break;
        case 1: st.st_size++; break;
        case 2: st.st_ctim.tv_sec++; break;
        case 3: st.st_ctim.tv_nsec++; break;
        }
        http_etag(&st, b);
        ck_assert_msg(strcmp(a, b) != 0, "changing field %d kept the etag %s", k, a);
        check_etag_shape(b, strlen(b));
    }
}
END_TEST

/* ------------------------------------------------------------------------ */
/* http_conditional: RFC 9110 section 13.2.2                                */

#define ETAG "\"abc-10-20\""
#define LM ((time_t)784111777)                    /* Sun, 06 Nov 1994 08:49:37 GMT */
#define D_EQ "Sun, 06 Nov 1994 08:49:37 GMT"
#define D_BEFORE "Sun, 06 Nov 1994 08:49:36 GMT"
#define D_AFTER "Sun, 06 Nov 1994 08:49:38 GMT"
#define D_EQ_850 "Sunday, 06-Nov-94 08:49:37 GMT"
#define D_BEFORE_850 "Sunday, 06-Nov-94 08:49:36 GMT"
#define D_EQ_ASC "Sun Nov  6 08:49:37 1994"
#define D_BEFORE_ASC "Sun Nov  6 08:49:36 1994"

struct cond_case {
    const char *name;
    const char *if_match, *if_unmodified_since, *if_none_match, *if_modified_since;
    int want;
};

static const struct cond_case cond_cases[] = {
    {"no conditions", NULL, NULL, NULL, NULL, 200},

    /* If-Match: strong comparison (13.1.1) */
    {"IM equal", ETAG, NULL, NULL, NULL, 200},
    {"IM star", "*", NULL, NULL, NULL, 200},
    {"IM other", "\"other\"", NULL, NULL, NULL, 412},
    {"IM weak tag never matches", "W/" ETAG, NULL, NULL, NULL, 412},
    {"IM list, match last", "\"x\", \"y\", " ETAG, NULL, NULL, NULL, 200},
    {"IM list, match first", ETAG ", \"x\"", NULL, NULL, NULL, 200},
    {"IM list without spaces", "\"x\"," ETAG, NULL, NULL, NULL, 200},
    {"IM list with tabs", "\"x\"\t,\t" ETAG, NULL, NULL, NULL, 200},
    {"IM list with empty elements", ", ,\"x\",," ETAG ",", NULL, NULL, NULL, 200},
    {"IM list, only weak match", "\"x\", W/" ETAG, NULL, NULL, NULL, 412},
    {"IM list, none", "\"x\", \"y\"", NULL, NULL, NULL, 412},
    {"IM quoted star is a tag", "\"*\"", NULL, NULL, NULL, 412},
    {"IM case differs", "\"ABC-10-20\"", NULL, NULL, NULL, 412},
    {"IM unquoted", "abc-10-20", NULL, NULL, NULL, 412},
    {"IM unterminated", "\"abc-10-20", NULL, NULL, NULL, 412},
    {"IM prefix of the tag", "\"abc-10-2\"", NULL, NULL, NULL, 412},
    {"IM tag with comma inside", "\"abc-10-20,\"", NULL, NULL, NULL, 412},
    /* "*" is the whole field: with anything after it the list is malformed */
    {"IM star then a tag", "* " ETAG, NULL, NULL, NULL, 412},
    {"IM star, comma, tag", "*, " ETAG, NULL, NULL, NULL, 412},
    {"IM star with junk", "*x", NULL, NULL, NULL, 412},

    /* If-Unmodified-Since (13.1.4) */
    {"IUS equal", NULL, D_EQ, NULL, NULL, 200},
    {"IUS later", NULL, D_AFTER, NULL, NULL, 200},
    {"IUS earlier", NULL, D_BEFORE, NULL, NULL, 412},
    {"IUS rfc850 equal", NULL, D_EQ_850, NULL, NULL, 200},
    {"IUS rfc850 earlier", NULL, D_BEFORE_850, NULL, NULL, 412},
    {"IUS asctime equal", NULL, D_EQ_ASC, NULL, NULL, 200},
    {"IUS asctime earlier", NULL, D_BEFORE_ASC, NULL, NULL, 412},
    {"IUS invalid date ignored", NULL, "yesterday", NULL, NULL, 200},
    {"IUS list of dates ignored", NULL, D_BEFORE ", " D_BEFORE, NULL, NULL, 200},
    {"IUS trailing garbage ignored", NULL, D_BEFORE " x", NULL, NULL, 200},

    /* If-Match wins over If-Unmodified-Since (IUS is not evaluated) */
    {"IM equal, IUS earlier", ETAG, D_BEFORE, NULL, NULL, 200},
    {"IM star, IUS earlier", "*", D_BEFORE, NULL, NULL, 200},
    {"IM other, IUS later", "\"other\"", D_AFTER, NULL, NULL, 412},
    {"IM weak, IUS later", "W/" ETAG, D_AFTER, NULL, NULL, 412},

    /* If-None-Match: weak comparison (13.1.2) */
    {"INM equal", NULL, NULL, ETAG, NULL, 304},
    {"INM weak form of the tag", NULL, NULL, "W/" ETAG, NULL, 304},
    {"INM star", NULL, NULL, "*", NULL, 304},
    {"INM other", NULL, NULL, "\"other\"", NULL, 200},
    {"INM weak other", NULL, NULL, "W/\"other\"", NULL, 200},
    {"INM list, weak match", NULL, NULL, "\"a\", W/" ETAG ", \"b\"", NULL, 304},
    {"INM list, strong match", NULL, NULL, "\"a\"," ETAG, NULL, 304},
    {"INM list, none", NULL, NULL, "\"a\", \"b\", W/\"c\"", NULL, 200},
    {"INM tag with comma inside, then the tag", NULL, NULL, "\"a,b\", " ETAG, NULL, 304},
    {"INM empty elements", NULL, NULL, ", ," ETAG ",", NULL, 304},
    {"INM case differs", NULL, NULL, "\"ABC-10-20\"", NULL, 200},
    {"INM unquoted", NULL, NULL, "abc-10-20", NULL, 200},
    {"INM lowercase w/ is not weak", NULL, NULL, "w/" ETAG, NULL, 200},
    {"INM star with junk", NULL, NULL, "*x", NULL, 200},
    {"INM star then a tag", NULL, NULL, "* " ETAG, NULL, 200},

    /* If-Modified-Since (13.1.3) */
    {"IMS equal", NULL, NULL, NULL, D_EQ, 304},
    {"IMS later", NULL, NULL, NULL, D_AFTER, 304},
    {"IMS earlier", NULL, NULL, NULL, D_BEFORE, 200},
    {"IMS rfc850 equal", NULL, NULL, NULL, D_EQ_850, 304},
    {"IMS asctime equal", NULL, NULL, NULL, D_EQ_ASC, 304},
    {"IMS rfc850 earlier", NULL, NULL, NULL, D_BEFORE_850, 200},
    {"IMS invalid ignored", NULL, NULL, NULL, "not a date", 200},
    {"IMS list of dates ignored", NULL, NULL, NULL, D_EQ ", " D_EQ, 200},
    {"IMS bad day ignored", NULL, NULL, NULL, "Sun, 32 Nov 1994 08:49:37 GMT", 200},

    /* If-None-Match wins over If-Modified-Since (IMS is not evaluated) */
    {"INM other, IMS later", NULL, NULL, "\"other\"", D_AFTER, 200},
    {"INM equal, IMS earlier", NULL, NULL, ETAG, D_BEFORE, 304},
    {"INM star, IMS earlier", NULL, NULL, "*", D_BEFORE, 304},

    /* steps 1-2 (412) come before steps 3-4 (304) */
    {"IM other, INM equal", "\"other\"", NULL, ETAG, NULL, 412},
    {"IM other, IMS later", "\"other\"", NULL, NULL, D_AFTER, 412},
    {"IM equal, INM equal", ETAG, NULL, ETAG, NULL, 304},
    {"IM equal, INM other", ETAG, NULL, "\"other\"", NULL, 200},
    {"IM star, INM star", "*", NULL, "*", NULL, 304},
    {"IM equal, IMS equal", ETAG, NULL, NULL, D_EQ, 304},
    {"IM equal, IMS earlier", ETAG, NULL, NULL, D_BEFORE, 200},
    {"IUS earlier, INM equal", NULL, D_BEFORE, ETAG, NULL, 412},
    {"IUS earlier, IMS later", NULL, D_BEFORE, NULL, D_AFTER, 412},
    {"IUS later, IMS equal", NULL, D_AFTER, NULL, D_EQ, 304},
    {"IUS later, INM other, IMS later", NULL, D_AFTER, "\"other\"", D_AFTER, 200},
    {"IUS invalid, INM equal", NULL, "garbage", ETAG, NULL, 304},
    {"IM malformed, INM equal", "abc", NULL, ETAG, NULL, 412},
    {"all four pass/ignored, INM other", ETAG, D_BEFORE, "\"other\"", D_AFTER, 200},
    {"all four, INM equal", ETAG, D_BEFORE, ETAG, D_BEFORE, 304},
    {"all four, IM fails", "\"x\"", D_AFTER, ETAG, D_AFTER, 412},
};

START_TEST(test_conditional)
{
    const struct cond_case *tc = &cond_cases[_i];
    struct http_request r;
    memset(&r, 0, sizeof(r));
    r.method = HTTP_M_GET;
    r.if_match = heap_slice(tc->if_match);
    r.if_unmodified_since = heap_slice(tc->if_unmodified_since);
    r.if_none_match = heap_slice(tc->if_none_match);
    r.if_modified_since = heap_slice(tc->if_modified_since);
    int got = http_conditional(&r, ETAG, strlen(ETAG), LM);
    ck_assert_msg(got == tc->want, "%s: got %d, expected %d", tc->name, got, tc->want);
    /* HEAD is evaluated the same way */
    r.method = HTTP_M_HEAD;
    got = http_conditional(&r, ETAG, strlen(ETAG), LM);
    ck_assert_msg(got == tc->want, "%s (HEAD): got %d, expected %d", tc->name, got, tc->want);
    free_slice(r.if_match);
    free_slice(r.if_unmodified_since);
    free_slice(r.if_none_match);
    free_slice(r.if_modified_since);
}
END_TEST

/* Fields given in several lines, through the parser: the lines of
 * If-Match and If-None-Match make one list (RFC 9110 5.3); several lines
 * of a date field are an invalid value, ignored (13.1.3, 13.1.4). */
static const struct {
    const char *name;
    const char *fields; /* field lines, each ending in CRLF */
    int want;
} repeated_cases[] = {
    {"INM tag in the first line", "If-None-Match: " ETAG "\r\nIf-None-Match: \"zzz\"\r\n", 304},
    {"INM tag in the second line", "If-None-Match: \"zzz\"\r\nX: y\r\nif-none-match:  " ETAG " \r\n",
     304},
    {"INM tag in neither", "If-None-Match: \"a\"\r\nIf-None-Match: \"b\", W/\"c\"\r\n", 200},
    {"INM empty line, then the tag", "If-None-Match:\r\nIf-None-Match: " ETAG "\r\n", 304},
    {"INM tag in a third line", "If-None-Match: \"a\"\r\nIf-None-Match: \"b\"\r\nIF-NONE-MATCH: *\r\n",
     304},
    {"IM tag in the first line", "If-Match: " ETAG "\r\nIf-Match: \"zzz\"\r\n", 200},
    {"IM tag in the second line", "If-Match: \"zzz\"\r\nIf-Match: " ETAG "\r\n", 200},
    {"IM tag in neither", "If-Match: \"a\"\r\nIf-Match: \"b\"\r\n", 412},
    {"IM name as a prefix of another field", "If-Match: \"a\"\r\nIf-Match-X: " ETAG "\r\nIf-Match: \"b\"\r\n",
     412},
    {"IMS twice: ignored", "If-Modified-Since: " D_AFTER "\r\nIf-Modified-Since: " D_AFTER "\r\n", 200},
    {"IUS twice: ignored", "If-Unmodified-Since: " D_BEFORE "\r\nIf-Unmodified-Since: " D_BEFORE "\r\n",
     200},
    {"IMS once", "If-Modified-Since: " D_AFTER "\r\n", 304},
    {"IUS once", "If-Unmodified-Since: " D_BEFORE "\r\n", 412},
};

START_TEST(test_conditional_repeated)
{
    char head[512];
    snprintf(head, sizeof(head), "GET / HTTP/1.1\r\nHost: a\r\n%s\r\n", repeated_cases[_i].fields);
    struct ps_slice in = heap_slice(head);
    struct http_limits lim = {4096, 4096, 100};
    struct http_request r;
    ck_assert_int_eq(http_parse_request(in.p, in.n, &lim, &r), (int)in.n);
    int got = http_conditional(&r, ETAG, strlen(ETAG), LM);
    ck_assert_msg(got == repeated_cases[_i].want, "%s: got %d, expected %d", repeated_cases[_i].name, got,
                  repeated_cases[_i].want);
    free_slice(in);
}
END_TEST

/* With an etag made by http_etag, as the server uses it. */
START_TEST(test_conditional_real_etag)
{
    struct stat st;
    memset(&st, 0, sizeof(st));
    st.st_ino = 77;
    st.st_size = 1000;
    st.st_mtim.tv_sec = LM;
    char e[HTTP_ETAG_MAX], list[3 * HTTP_ETAG_MAX];
    size_t n = http_etag(&st, e);
    struct http_request r;
    memset(&r, 0, sizeof(r));
    r.method = HTTP_M_GET;
    r.if_none_match = heap_slice(e);
    ck_assert_int_eq(http_conditional(&r, e, n, LM), 304);
    free_slice(r.if_none_match);
    snprintf(list, sizeof(list), "\"zz\", W/%s", e);
    r.if_none_match = heap_slice(list);
    ck_assert_int_eq(http_conditional(&r, e, n, LM), 304);
    free_slice(r.if_none_match);
    r.if_none_match = (struct ps_slice){NULL, 0};
    r.if_match = heap_slice(list);
    ck_assert_int_eq(http_conditional(&r, e, n, LM), 412);
    free_slice(r.if_match);
    r.if_match = heap_slice(e);
    ck_assert_int_eq(http_conditional(&r, e, n, LM), 200);
    /* the next version of the file no longer matches */
    char e2[HTTP_ETAG_MAX];
    st.st_ctim.tv_nsec = 1;
    size_t n2 = http_etag(&st, e2);
    ck_assert_int_eq(http_conditional(&r, e2, n2, LM), 412);
    free_slice(r.if_match);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* If-Range (13.1.5)                                                        */

struct if_range_case {
    const char *name;
    const char *v;
    bool want;
};

static const struct if_range_case if_range_cases[] = {
    {"absent", NULL, true},
    {"strong tag equal", ETAG, true},
    {"weak form of the tag", "W/" ETAG, false},
    {"other tag", "\"other\"", false},
    {"case differs", "\"ABC-10-20\"", false},
    {"prefix of the tag", "\"abc-10-2\"", false},
    {"tag with trailing garbage", ETAG "x", false},
    {"tag list", ETAG ", \"x\"", false},
    {"unquoted tag", "abc-10-20", false},
    {"lone quote", "\"", false},
    {"lone W/", "W/", false},
    {"date equal", D_EQ, true},
    {"date rfc850 equal", D_EQ_850, true},
    {"date asctime equal", D_EQ_ASC, true},
    {"date earlier", D_BEFORE, false},
    {"date later", D_AFTER, false},
    {"date with trailing garbage", D_EQ " x", false},
    {"garbage", "yesterday", false},
    {"star", "*", false},
};

START_TEST(test_if_range)
{
    const struct if_range_case *tc = &if_range_cases[_i];
    struct ps_slice v = heap_slice(tc->v);
    bool got = http_if_range(v, ETAG, strlen(ETAG), LM, true);
    ck_assert_msg(got == tc->want, "%s: got %d, expected %d", tc->name, got, tc->want);
    /* a date that may not stand for the bytes matches nothing; tags are
     * not affected */
    bool is_date = tc->v && tc->v[0] != '"' && strncmp(tc->v, "W/", 2) != 0;
    got = http_if_range(v, ETAG, strlen(ETAG), LM, false);
    ck_assert_msg(got == (tc->want && !is_date), "%s, weak date: got %d", tc->name, got);
    free_slice(v);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Range (14.1, 14.2)                                                       */

#define MAXR 8

struct range_case {
    const char *name;
    const char *v;
    uint64_t size;
    unsigned max;
    enum range_result want;
    unsigned n;
    struct byte_range r[MAXR];
};

#define NONE RANGE_NONE, 0, {{0, 0}}
#define UNSAT RANGE_UNSATISFIABLE, 0, {{0, 0}}
#define BIG "99999999999999999999999" /* > UINT64_MAX */

static const struct range_case range_cases[] = {
    /* single ranges on 100 bytes */
    {"a-b", "bytes=0-9", 100, 16, RANGE_OK, 1, {{0, 9}}},
    {"a-b middle", "bytes=10-19", 100, 16, RANGE_OK, 1, {{10, 19}}},
    {"a-a", "bytes=5-5", 100, 16, RANGE_OK, 1, {{5, 5}}},
    {"a- open", "bytes=10-", 100, 16, RANGE_OK, 1, {{10, 99}}},
    {"0- whole", "bytes=0-", 100, 16, RANGE_OK, 1, {{0, 99}}},
    {"last byte open", "bytes=99-", 100, 16, RANGE_OK, 1, {{99, 99}}},
    {"last-pos at size-1", "bytes=90-99", 100, 16, RANGE_OK, 1, {{90, 99}}},
    /* 14.1.2: a last-pos at or past the length means length - 1 */
    {"last-pos = size clamped", "bytes=90-100", 100, 16, RANGE_OK, 1, {{90, 99}}},
    {"last-pos clamped", "bytes=90-1000", 100, 16, RANGE_OK, 1, {{90, 99}}},
    {"last-pos UINT64_MAX clamped", "bytes=0-18446744073709551615", 100, 16, RANGE_OK, 1,
     {{0, 99}}},
    {"suffix", "bytes=-10", 100, 16, RANGE_OK, 1, {{90, 99}}},
    {"suffix 1", "bytes=-1", 100, 16, RANGE_OK, 1, {{99, 99}}},
    {"suffix = size", "bytes=-100", 100, 16, RANGE_OK, 1, {{0, 99}}},
    {"suffix > size", "bytes=-1000", 100, 16, RANGE_OK, 1, {{0, 99}}},
    {"leading zeros", "bytes=007-0009", 100, 16, RANGE_OK, 1, {{7, 9}}},
    {"one byte file", "bytes=0-0", 1, 16, RANGE_OK, 1, {{0, 0}}},
    {"one byte file, suffix", "bytes=-5", 1, 16, RANGE_OK, 1, {{0, 0}}},

    /* syntax the RFC allows */
    {"OWS after = (erratum 7306, the RFC's own example)", "bytes= 1-2", 100, 16, RANGE_OK, 1,
     {{1, 2}}},
    {"OWS around commas", "bytes=0-1 , 5-6,\t10-11", 100, 16, RANGE_OK, 3,
     {{0, 1}, {5, 6}, {10, 11}}},
    {"trailing empty element", "bytes=1-2,", 100, 16, RANGE_OK, 1, {{1, 2}}},
    {"leading empty elements", "bytes=,,1-2", 100, 16, RANGE_OK, 1, {{1, 2}}},
    {"empty elements between", "bytes=1-2,, ,5-6", 100, 16, RANGE_OK, 2, {{1, 2}, {5, 6}}},
    {"unit is case-insensitive (14.1)", "Bytes=0-9", 100, 16, RANGE_OK, 1, {{0, 9}}},
    {"unit in capitals", "BYTES=0-9", 100, 16, RANGE_OK, 1, {{0, 9}}},

    /* malformed or not bytes: ignored */
    {"empty value", "", 100, 16, NONE},
    {"no unit", "0-9", 100, 16, NONE},
    {"missing =", "bytes 0-9", 100, 16, NONE},
    {"other unit", "items=0-9", 100, 16, NONE},
    {"unit prefix", "byte=0-9", 100, 16, NONE},
    {"longer unit", "bytesx=0-9", 100, 16, NONE},
    {"space before =", "bytes =0-9", 100, 16, NONE},
    {"no range-set", "bytes=", 100, 16, NONE},
    {"only commas", "bytes=, ,", 100, 16, NONE},
    {"lone dash", "bytes=-", 100, 16, NONE},
    {"two dashes", "bytes=--", 100, 16, NONE},
    {"letters", "bytes=a-b", 100, 16, NONE},
    {"letter last", "bytes=1-b", 100, 16, NONE},
    {"no dash", "bytes=5", 100, 16, NONE},
    {"last < first", "bytes=5-2", 100, 16, NONE},
    {"last < first in a list", "bytes=0-1,5-2", 100, 16, NONE},
    {"double dash suffix", "bytes=--1", 100, 16, NONE},
    {"double dash", "bytes=1--2", 100, 16, NONE},
    {"three parts", "bytes=1-2-3", 100, 16, NONE},
    {"space inside", "bytes=1 -2", 100, 16, NONE},
    {"space after dash", "bytes=1- 2", 100, 16, NONE},
    {"two specs without comma", "bytes=0-1 2-3", 100, 16, NONE},
    {"plus sign", "bytes=+1-2", 100, 16, NONE},
    {"minus sign suffix", "bytes=-+1", 100, 16, NONE},
    {"hex", "bytes=0x1-0x2", 100, 16, NONE},
    {"semicolon", "bytes=0-1;q=1", 100, 16, NONE},
    {"valid then garbage", "bytes=0-1,x", 100, 16, NONE},
    {"garbage then valid", "bytes=x,0-1", 100, 16, NONE},
    {"decimal point", "bytes=1.5-2", 100, 16, NONE},

    /* huge numbers (14.1.1: anticipate large numerals, no overflow) */
    {"huge last-pos means to the end", "bytes=0-" BIG, 100, 16, RANGE_OK, 1, {{0, 99}}},
    {"huge last-pos, from 50", "bytes=50-" BIG, 100, 16, RANGE_OK, 1, {{50, 99}}},
    {"huge suffix means the whole", "bytes=-" BIG, 100, 16, RANGE_OK, 1, {{0, 99}}},
    {"huge first-pos is unsatisfiable", "bytes=" BIG "-", 100, 16, UNSAT},
    {"huge first-pos and last-pos", "bytes=" BIG "-" BIG "9", 100, 16, UNSAT},
    {"first-pos UINT64_MAX", "bytes=18446744073709551615-", 100, 16, UNSAT},

    /* satisfiability */
    {"first-pos = size", "bytes=100-", 100, 16, UNSAT},
    {"first-pos = size, closed", "bytes=100-200", 100, 16, UNSAT},
    {"first-pos beyond size", "bytes=1000-2000", 100, 16, UNSAT},
    {"suffix 0", "bytes=-0", 100, 16, UNSAT},
    {"suffix 000", "bytes=-000", 100, 16, UNSAT},
    {"all unsatisfiable", "bytes=100-,200-300,-0", 100, 16, UNSAT},
    {"mixed: keeps the satisfiable", "bytes=500-600,0-1,-0,200-", 100, 16, RANGE_OK, 1,
     {{0, 1}}},
    {"mixed, two kept", "bytes=150-,10-19,-0,90-", 100, 16, RANGE_OK, 2, {{10, 19}, {90, 99}}},
    {"empty file, int-range", "bytes=0-", 0, 16, UNSAT},
    {"empty file, closed", "bytes=0-0", 0, 16, UNSAT},
    {"empty file, suffix 0", "bytes=-0", 0, 16, UNSAT},
    /* 14.1.1: with zero length a suffix-range with a non-zero length is
     * satisfiable; no 206 can express it, so the field is ignored (200). */
    {"empty file, suffix", "bytes=-5", 0, 16, NONE},
    {"empty file, suffix among unsatisfiable", "bytes=0-,-5", 0, 16, NONE},

    /* several ranges: request order kept when nothing overlaps */
    {"two in order", "bytes=0-9,20-29", 100, 16, RANGE_OK, 2, {{0, 9}, {20, 29}}},
    {"two out of order", "bytes=20-29,0-9", 100, 16, RANGE_OK, 2, {{20, 29}, {0, 9}}},
    {"suffix and open", "bytes=-10,0-4", 100, 16, RANGE_OK, 2, {{90, 99}, {0, 4}}},
    {"three with gaps", "bytes=50-59,0-0,98-", 100, 16, RANGE_OK, 3,
     {{50, 59}, {0, 0}, {98, 99}}},

    /* coalescing: overlapping or adjacent ranges merge (then sorted) */
    {"adjacent", "bytes=0-0,1-1", 100, 16, RANGE_OK, 1, {{0, 1}}},
    {"adjacent reversed", "bytes=5-9,0-4", 100, 16, RANGE_OK, 1, {{0, 9}}},
    {"overlapping", "bytes=0-4,2-6", 100, 16, RANGE_OK, 1, {{0, 6}}},
    {"contained", "bytes=0-50,10-20", 100, 16, RANGE_OK, 1, {{0, 50}}},
    {"identical", "bytes=3-7,3-7,3-7", 100, 16, RANGE_OK, 1, {{3, 7}}},
    {"suffix overlapping open", "bytes=-10,85-", 100, 16, RANGE_OK, 1, {{85, 99}}},
    {"clamped overlap", "bytes=90-500,95-", 100, 16, RANGE_OK, 1, {{90, 99}}},
    {"chain", "bytes=0-2,2-4,4-6,6-8", 100, 16, RANGE_OK, 1, {{0, 8}}},
    {"merge plus a separate one", "bytes=20-29,0-4,3-6", 100, 16, RANGE_OK, 2,
     {{0, 6}, {20, 29}}},
    {"gap of one byte is not merged", "bytes=0-1,3-4", 100, 16, RANGE_OK, 2, {{0, 1}, {3, 4}}},

    /* max ranges */
    {"exactly max", "bytes=0-0,2-2,4-4", 100, 3, RANGE_OK, 3, {{0, 0}, {2, 2}, {4, 4}}},
    {"more than max", "bytes=0-0,2-2,4-4", 100, 2, NONE},
    {"max 1, two ranges", "bytes=0-0,5-5", 100, 1, NONE},
    {"max 1, one range", "bytes=5-5", 100, 1, RANGE_OK, 1, {{5, 5}}},
    {"unsatisfiable ones do not count", "bytes=0-0,500-,600-,2-2", 100, 2, RANGE_OK, 2,
     {{0, 0}, {2, 2}}},
    /* pyserve.conf(5): "Overlapping or adjacent ranges are merged first" */
    {"merged below max", "bytes=0-0,1-1,2-2", 100, 2, RANGE_OK, 1, {{0, 2}}},
    {"identical copies merged below max", "bytes=3-7,3-7,3-7,3-7", 100, 1, RANGE_OK, 1,
     {{3, 7}}},
};

static char *range_case_text(const struct range_case *tc)
{
    static char buf[512];
    int o = snprintf(buf, sizeof(buf), "want %d n=%u:", tc->want, tc->n);
    for (unsigned i = 0; i < tc->n && o < (int)sizeof(buf) - 48; i++)
        o += snprintf(buf + o, sizeof(buf) - (size_t)o, " %llu-%llu",
                      (unsigned long long)tc->r[i].first, (unsigned long long)tc->r[i].last);
    return buf;
}

/* Run a parse with an out array of exactly max entries on the heap. */
static enum range_result parse_range(const char *v, uint64_t size, unsigned max,
                                     struct byte_range **out, unsigned *n)
{
    struct ps_slice s = heap_slice(v);
    *out = malloc(max * sizeof(**out));
    ck_assert_ptr_nonnull(*out);
    *n = 12345;
    enum range_result rr = http_range_parse(s, size, *out, max, n);
    free_slice(s);
    return rr;
}

START_TEST(test_range)
{
    const struct range_case *tc = &range_cases[_i];
    struct byte_range *out;
    unsigned n;
    enum range_result rr = parse_range(tc->v, tc->size, tc->max, &out, &n);
    ck_assert_msg(rr == tc->want, "%s: \"%s\" size %llu max %u: got %d, %s", tc->name, tc->v,
                  (unsigned long long)tc->size, tc->max, rr, range_case_text(tc));
    if (rr == RANGE_OK) {
        ck_assert_msg(n == tc->n, "%s: \"%s\": got %u ranges, %s", tc->name, tc->v, n,
                      range_case_text(tc));
        for (unsigned i = 0; i < n; i++) {
            ck_assert_msg(out[i].first == tc->r[i].first && out[i].last == tc->r[i].last,
                          "%s: \"%s\": range %u is %llu-%llu, %s", tc->name, tc->v, i,
                          (unsigned long long)out[i].first, (unsigned long long)out[i].last,
                          range_case_text(tc));
            ck_assert(out[i].first <= out[i].last && out[i].last < tc->size);
        }
    }
    free(out);
}
END_TEST

/* A Range value of count ranges "0-0,STEP-STEP,...". */
static char *many_ranges(unsigned count, unsigned step)
{
    size_t cap = 16 + (size_t)count * 24;
    char *v = malloc(cap);
    ck_assert_ptr_nonnull(v);
    size_t o = (size_t)snprintf(v, cap, "bytes=");
    for (unsigned i = 0; i < count; i++)
        o += (size_t)snprintf(v + o, cap - o, "%s%u-%u", i ? "," : "", i * step, i * step);
    return v;
}

/* 1000 separate one-byte ranges: more than any allowed max, whole file */
START_TEST(test_range_thousand_separate)
{
    struct byte_range *out;
    unsigned n;
    char *v = many_ranges(1000, 2);
    for (unsigned max = 1; max <= 64; max++) {
        ck_assert_int_eq(parse_range(v, 4000, max, &out, &n), RANGE_NONE);
        free(out);
    }
    free(v);
}
END_TEST

/* 1000 adjacent one-byte ranges are one range once merged (pyserve.conf(5):
 * merged first, then counted) */
START_TEST(test_range_thousand_adjacent)
{
    struct byte_range *out;
    unsigned n;
    char *v = many_ranges(1000, 1);
    ck_assert_int_eq(parse_range(v, 4000, 16, &out, &n), RANGE_OK);
    ck_assert_uint_eq(n, 1);
    ck_assert_uint_eq(out[0].first, 0);
    ck_assert_uint_eq(out[0].last, 999);
    free(out);
    free(v);
}
END_TEST

/* 1000 copies of one range are that range */
START_TEST(test_range_thousand_copies)
{
    struct byte_range *out;
    unsigned n;
    size_t cap = 16 + 1000 * 6;
    char *v = malloc(cap);
    ck_assert_ptr_nonnull(v);
    size_t o = (size_t)snprintf(v, cap, "bytes=");
    for (int i = 0; i < 1000; i++)
        o += (size_t)snprintf(v + o, cap - o, "%s0-99", i ? "," : "");
    ck_assert_int_eq(parse_range(v, 4000, 16, &out, &n), RANGE_OK);
    ck_assert_uint_eq(n, 1);
    ck_assert_uint_eq(out[0].first, 0);
    ck_assert_uint_eq(out[0].last, 99);
    free(out);
    free(v);
}
END_TEST

/* 1000 unsatisfiable ranges: a 416, not an amplified answer */
START_TEST(test_range_thousand_unsatisfiable)
{
    struct byte_range *out;
    unsigned n;
    char *v = many_ranges(1000, 1);
    ck_assert_int_eq(parse_range(v, 0, 16, &out, &n), RANGE_UNSATISFIABLE);
    free(out);
    free(v);
}
END_TEST

/* The ranges returned are never more than max, whatever the input. */
START_TEST(test_range_max_respected)
{
    for (unsigned count = 1; count <= 70; count++) {
        char *v = many_ranges(count, 3);
        for (unsigned max = 1; max <= 64; max++) {
            struct byte_range *out;
            unsigned n;
            enum range_result rr = parse_range(v, 1000, max, &out, &n);
            if (count <= max) {
                ck_assert_int_eq(rr, RANGE_OK);
                ck_assert_uint_eq(n, count);
                for (unsigned i = 0; i < n; i++) {
                    ck_assert_uint_eq(out[i].first, 3 * i);
                    ck_assert_uint_eq(out[i].last, 3 * i);
                }
            } else {
                ck_assert_int_eq(rr, RANGE_NONE);
            }
            free(out);
        }
        free(v);
    }
}
END_TEST

START_TEST(test_range_large_size)
{
    struct byte_range *out;
    unsigned n;
    uint64_t size = UINT64_C(1) << 62;
    ck_assert_int_eq(parse_range("bytes=-1", size, 4, &out, &n), RANGE_OK);
    ck_assert_uint_eq(n, 1);
    ck_assert_uint_eq(out[0].first, size - 1);
    ck_assert_uint_eq(out[0].last, size - 1);
    free(out);
    ck_assert_int_eq(parse_range("bytes=4611686018427387000-", size, 4, &out, &n), RANGE_OK);
    ck_assert_uint_eq(out[0].first, UINT64_C(4611686018427387000));
    ck_assert_uint_eq(out[0].last, size - 1);
    free(out);
    ck_assert_int_eq(parse_range("bytes=0-18446744073709551614,18446744073709551614-", size, 4,
                                 &out, &n),
                     RANGE_OK);
    ck_assert_uint_eq(n, 1);
    ck_assert_uint_eq(out[0].first, 0);
    ck_assert_uint_eq(out[0].last, size - 1);
    free(out);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Accept-Encoding (12.5.3)                                                 */

struct coding_case {
    const char *v; /* NULL: no Accept-Encoding */
    enum coding c;
    unsigned want;
};

static const struct coding_case coding_cases[] = {
    /* absent: only identity here (no coding picked unasked) */
    {NULL, CODING_GZIP, 0},
    {NULL, CODING_BR, 0},
    {"", CODING_GZIP, 0},
    {"", CODING_BR, 0},
    /* plain tokens */
    {"gzip", CODING_GZIP, 1000},
    {"gzip", CODING_BR, 0},
    {"br", CODING_BR, 1000},
    {"br", CODING_GZIP, 0},
    {"gzip, br", CODING_GZIP, 1000},
    {"gzip, br", CODING_BR, 1000},
    {"deflate", CODING_GZIP, 0},
    {"deflate, br", CODING_BR, 1000},
    {"gzipx, brotli, gz, b", CODING_GZIP, 0},
    {"gzipx, brotli, gz, b", CODING_BR, 0},
    /* case-insensitive (8.4.1) and the x-gzip alias (8.4.1.3) */
    {"GZIP", CODING_GZIP, 1000},
    {"Gzip;Q=0.5", CODING_GZIP, 500},
    {"BR", CODING_BR, 1000},
    {"x-gzip", CODING_GZIP, 1000},
    {"X-GZip;q=0.3", CODING_GZIP, 300},
    {"x-gzip", CODING_BR, 0},
    {"x-br", CODING_BR, 0},
    /* q-values */
    {"br;q=0.5, gzip;q=0.8", CODING_BR, 500},
    {"br;q=0.5, gzip;q=0.8", CODING_GZIP, 800},
    {"gzip;q=0.8,br", CODING_BR, 1000},
    {"gzip;q=0.8,br", CODING_GZIP, 800},
    {"gzip;q=1", CODING_GZIP, 1000},
    {"gzip;q=1.", CODING_GZIP, 1000},
    {"gzip;q=1.000", CODING_GZIP, 1000},
    {"gzip;q=0", CODING_GZIP, 0},
    {"gzip;q=0.", CODING_GZIP, 0},
    {"gzip;q=0.000", CODING_GZIP, 0},
    {"gzip;q=0.001", CODING_GZIP, 1},
    {"gzip;q=0.01", CODING_GZIP, 10},
    {"gzip;q=0.1", CODING_GZIP, 100},
    {"gzip;q=0.999", CODING_GZIP, 999},
    /* OWS around ';' and ',' */
    {"gzip ; q=0.5", CODING_GZIP, 500},
    {"gzip\t;\tq=0.25 , br ;q=0.75", CODING_GZIP, 250},
    {"gzip\t;\tq=0.25 , br ;q=0.75", CODING_BR, 750},
    {"  br  ,  gzip  ", CODING_GZIP, 1000},
    {",,gzip,,", CODING_GZIP, 1000},
    /* other parameters beside q */
    {"gzip;level=9;q=0.3", CODING_GZIP, 300},
    {"gzip;q=0.3;level=9", CODING_GZIP, 300},
    /* "*" (12.5.3): any coding not otherwise listed */
    {"*", CODING_GZIP, 1000},
    {"*", CODING_BR, 1000},
    {"*;q=0.2, gzip", CODING_GZIP, 1000},
    {"*;q=0.2, gzip", CODING_BR, 200},
    {"gzip, *;q=0.2", CODING_GZIP, 1000},
    {"*;q=0", CODING_GZIP, 0},
    {"*;q=0", CODING_BR, 0},
    {"gzip;q=0, *", CODING_GZIP, 0},
    {"gzip;q=0, *", CODING_BR, 1000},
    {"*, gzip;q=0", CODING_GZIP, 0},
    {"br;q=0.4, *;q=0.1", CODING_BR, 400},
    {"br;q=0.4, *;q=0.1", CODING_GZIP, 100},
    {"identity", CODING_GZIP, 0},
    {"identity, *;q=0", CODING_BR, 0},
    /* malformed q-values: the element is ignored */
    {"gzip;q=1.5", CODING_GZIP, 0},
    {"gzip;q=1.001", CODING_GZIP, 0},
    {"gzip;q=2", CODING_GZIP, 0},
    {"gzip;q=0.1234", CODING_GZIP, 0},
    {"gzip;q=-1", CODING_GZIP, 0},
    {"gzip;q=.5", CODING_GZIP, 0},
    {"gzip;q=", CODING_GZIP, 0},
    {"gzip;q=abc", CODING_GZIP, 0},
    {"gzip;q=0.5x", CODING_GZIP, 0},
    {"gzip;q=0,5", CODING_GZIP, 0},
    {"gzip;q=1.5, *;q=0.3", CODING_GZIP, 300},
    {"gzip;q=0.1234, br", CODING_BR, 1000},
    /* identity is acceptable unless excluded (12.5.3) */
    {NULL, CODING_IDENTITY, 1000},
    {"gzip", CODING_IDENTITY, 1000},
    {"identity", CODING_IDENTITY, 1000},
    {"IDENTITY;q=0.5", CODING_IDENTITY, 500},
    {"identity;q=0", CODING_IDENTITY, 0},
    {"*;q=0", CODING_IDENTITY, 0},
    {"*;q=0, identity;q=0.3", CODING_IDENTITY, 300},
    {"gzip, *;q=0.4", CODING_IDENTITY, 400},
};

START_TEST(test_coding_q)
{
    const struct coding_case *tc = &coding_cases[_i];
    struct ps_slice v = heap_slice(tc->v);
    unsigned got = http_coding_q(v, tc->c);
    static const char *names[] = {"identity", "gzip", "br"};
    ck_assert_msg(got == tc->want, "Accept-Encoding %s%s%s, %s: got q=%u, expected %u",
                  tc->v ? "\"" : "", tc->v ? tc->v : "(absent)", tc->v ? "\"" : "",
                  names[tc->c], got, tc->want);
    free_slice(v);
}
END_TEST

/* ------------------------------------------------------------------------ */

static Suite *http_cond_suite(void)
{
    Suite *s = suite_create("http_cond");
    TCase *tc;

    tc = tcase_create("etag");
    tcase_add_test(tc, test_etag_format);
    tcase_add_test(tc, test_etag_stable_and_distinct);
    suite_add_tcase(s, tc);

    tc = tcase_create("conditional");
    tcase_add_loop_test(tc, test_conditional, 0, NELEMS(cond_cases));
    tcase_add_loop_test(tc, test_conditional_repeated, 0, NELEMS(repeated_cases));
    tcase_add_test(tc, test_conditional_real_etag);
    suite_add_tcase(s, tc);

    tc = tcase_create("if_range");
    tcase_add_loop_test(tc, test_if_range, 0, NELEMS(if_range_cases));
    suite_add_tcase(s, tc);

    tc = tcase_create("range");
    tcase_add_loop_test(tc, test_range, 0, NELEMS(range_cases));
    tcase_add_test(tc, test_range_thousand_separate);
    tcase_add_test(tc, test_range_thousand_adjacent);
    tcase_add_test(tc, test_range_thousand_copies);
    tcase_add_test(tc, test_range_thousand_unsatisfiable);
    tcase_add_test(tc, test_range_max_respected);
    tcase_add_test(tc, test_range_large_size);
    suite_add_tcase(s, tc);

    tc = tcase_create("coding");
    tcase_add_loop_test(tc, test_coding_q, 0, NELEMS(coding_cases));
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return ps_check_run(http_cond_suite());
}
