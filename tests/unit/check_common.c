/* Unit tests of src/common: checked numbers (num.h), HTTP dates (httpdate.h), host:port (hostport.h),
 * long options given a value (longopt.h). */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hostport.h"
#include "httpdate.h"
#include "longopt.h"
#include "num.h"
#include "stdfds.h"
#include "check_run.h"

#define NELEMS(a) (sizeof(a) / sizeof((a)[0]))
#define SENTINEL 0xdeadbeefcafef00dULL

/* ---- ps_parse_u64n / ps_parse_u64 --------------------------------------- */

struct u64_case {
    const char *s;
    size_t n; /* bytes given to ps_parse_u64n (SIZE_MAX: strlen) */
    uint64_t max;
    int ret;
    uint64_t val; /* checked when ret == 0 */
};

static const struct u64_case u64_cases[] = {
    {"0", SIZE_MAX, UINT64_MAX, 0, 0},
    {"123", SIZE_MAX, UINT64_MAX, 0, 123},
    {"007", SIZE_MAX, UINT64_MAX, 0, 7},
    {"123", 2, UINT64_MAX, 0, 12},  /* exactly n bytes, the rest is ignored */
    {"12x", 2, UINT64_MAX, 0, 12},
    {"18446744073709551615", SIZE_MAX, UINT64_MAX, 0, UINT64_MAX},
    {"18446744073709551616", SIZE_MAX, UINT64_MAX, -ERANGE, 0},
    {"99999999999999999999999", SIZE_MAX, UINT64_MAX, -ERANGE, 0},
    {"100", SIZE_MAX, 100, 0, 100},
    {"101", SIZE_MAX, 100, -ERANGE, 0},
    {"0", SIZE_MAX, 0, 0, 0},
    {"1", SIZE_MAX, 0, -ERANGE, 0},
    {"", SIZE_MAX, UINT64_MAX, -EINVAL, 0},
    {"123", 0, UINT64_MAX, -EINVAL, 0},
    {"12a", SIZE_MAX, UINT64_MAX, -EINVAL, 0},
    {"a12", SIZE_MAX, UINT64_MAX, -EINVAL, 0},
    {"-1", SIZE_MAX, UINT64_MAX, -EINVAL, 0},
    {"+1", SIZE_MAX, UINT64_MAX, -EINVAL, 0},
    {" 1", SIZE_MAX, UINT64_MAX, -EINVAL, 0},
    {"1 ", SIZE_MAX, UINT64_MAX, -EINVAL, 0},
    {"0x10", SIZE_MAX, UINT64_MAX, -EINVAL, 0},
    {"1.5", SIZE_MAX, UINT64_MAX, -EINVAL, 0},
    {"1:", SIZE_MAX, UINT64_MAX, -EINVAL, 0}, /* ':' follows '9' in ASCII */
    {"1/", SIZE_MAX, UINT64_MAX, -EINVAL, 0}, /* '/' precedes '0' */
};

START_TEST(test_parse_u64n)
{
    const struct u64_case *t = &u64_cases[_i];
    size_t n = t->n == SIZE_MAX ? strlen(t->s) : t->n;
    /* An exact-size copy without NUL, so that reading past n is caught by
     * valgrind/ASan. */
    char *buf = malloc(n ? n : 1);
    ck_assert_ptr_nonnull(buf);
    memcpy(buf, t->s, n);
    uint64_t v = SENTINEL;
    int r = ps_parse_u64n(buf, n, t->max, &v);
    ck_assert_msg(r == t->ret, "ps_parse_u64n(\"%.*s\", %zu, %ju) = %d, expected %d", (int)n,
                  t->s, n, (uintmax_t)t->max, r, t->ret);
    if (t->ret == 0)
        ck_assert_msg(v == t->val, "\"%s\": got %ju, expected %ju", t->s, (uintmax_t)v,
                      (uintmax_t)t->val);
    free(buf);
}
END_TEST

START_TEST(test_parse_u64)
{
    const struct u64_case *t = &u64_cases[_i];
    if (t->n != SIZE_MAX)
        return; /* length-limited cases only make sense for the _n variant */
    uint64_t v = SENTINEL;
    int r = ps_parse_u64(t->s, t->max, &v);
    ck_assert_msg(r == t->ret, "ps_parse_u64(\"%s\", %ju) = %d, expected %d", t->s,
                  (uintmax_t)t->max, r, t->ret);
    if (t->ret == 0)
        ck_assert_msg(v == t->val, "\"%s\": got %ju, expected %ju", t->s, (uintmax_t)v,
                      (uintmax_t)t->val);
}
END_TEST

/* ---- ps_parse_size -------------------------------------------------------- */

struct sz_case {
    const char *s;
    uint64_t max;
    int ret;
    uint64_t val;
};

static const struct sz_case size_cases[] = {
    {"8192", UINT64_MAX, 0, 8192},
    {"0", UINT64_MAX, 0, 0},
    {"8k", UINT64_MAX, 0, 8192},
    {"8K", UINT64_MAX, 0, 8192},
    {"1m", UINT64_MAX, 0, 1048576},
    {"1M", UINT64_MAX, 0, 1048576},
    {"1g", UINT64_MAX, 0, 1073741824},
    {"1G", UINT64_MAX, 0, 1073741824},
    {"64k", 65536, 0, 65536},
    {"65537", 65536, -ERANGE, 0},
    {"65k", 65536, -ERANGE, 0},
    {"1m", 1048575, -ERANGE, 0},
    {"17179869183g", UINT64_MAX, 0, 17179869183ULL << 30},
    {"17179869184g", UINT64_MAX, -ERANGE, 0}, /* 2^34 GiB = 2^64: overflow */
    {"18014398509481984k", UINT64_MAX, -ERANGE, 0},
    {"99999999999999999999999", UINT64_MAX, -ERANGE, 0},
    {"", UINT64_MAX, -EINVAL, 0},
    {"k", UINT64_MAX, -EINVAL, 0},
    {"8kb", UINT64_MAX, -EINVAL, 0},
    {"8 k", UINT64_MAX, -EINVAL, 0},
    {"8t", UINT64_MAX, -EINVAL, 0},
    {"-8k", UINT64_MAX, -EINVAL, 0},
    {"8.5k", UINT64_MAX, -EINVAL, 0},
    {"k8", UINT64_MAX, -EINVAL, 0},
};

START_TEST(test_parse_size)
{
    const struct sz_case *t = &size_cases[_i];
    uint64_t v = SENTINEL;
    int r = ps_parse_size(t->s, t->max, &v);
    ck_assert_msg(r == t->ret, "ps_parse_size(\"%s\", %ju) = %d, expected %d", t->s,
                  (uintmax_t)t->max, r, t->ret);
    if (t->ret == 0)
        ck_assert_msg(v == t->val, "\"%s\": got %ju, expected %ju", t->s, (uintmax_t)v,
                      (uintmax_t)t->val);
}
END_TEST

/* ---- ps_parse_duration_ms ------------------------------------------------- */

static const struct sz_case dur_cases[] = {
    {"10", UINT64_MAX, 0, 10000}, /* no unit: seconds */
    {"0", UINT64_MAX, 0, 0},
    {"10s", UINT64_MAX, 0, 10000},
    {"500ms", UINT64_MAX, 0, 500},
    {"0ms", UINT64_MAX, 0, 0},
    {"2m", UINT64_MAX, 0, 120000},
    {"1h", UINT64_MAX, 0, 3600000},
    {"1h", 3600000, 0, 3600000},
    {"3600", 3600000, 0, 3600000},
    {"61m", 3600000, -ERANGE, 0},
    {"3601s", 3600000, -ERANGE, 0},
    {"3600001ms", 3600000, -ERANGE, 0},
    {"18446744073709551615h", UINT64_MAX, -ERANGE, 0},
    {"18446744073709552s", UINT64_MAX, -ERANGE, 0},
    {"", UINT64_MAX, -EINVAL, 0},
    {"s", UINT64_MAX, -EINVAL, 0},
    {"ms", UINT64_MAX, -EINVAL, 0},
    {"10x", UINT64_MAX, -EINVAL, 0},
    {"10 s", UINT64_MAX, -EINVAL, 0},
    {"1.5s", UINT64_MAX, 0, 1500},
    {"1.5", UINT64_MAX, 0, 1500},
    {"0.5", UINT64_MAX, 0, 500},
    {"0.25m", UINT64_MAX, 0, 15000},
    {"1.5h", UINT64_MAX, 0, 5400000},
    {"2.000", UINT64_MAX, 0, 2000},
    {"0.0001", UINT64_MAX, 0, 1},       /* a fraction of a ms rounds up */
    {"1.0001s", UINT64_MAX, 0, 1001},
    {"2.5ms", UINT64_MAX, 0, 3},
    {"0.000000001h", UINT64_MAX, 0, 1}, /* nine digits: 3.6 us */
    {"0.000000000", UINT64_MAX, 0, 0},
    {"0.0000000001", UINT64_MAX, -EINVAL, 0}, /* ten digits */
    {"3600.001", 3600000, -ERANGE, 0},
    {"3599.999", 3600000, 0, 3599999},
    {"18446744073709552.0s", UINT64_MAX, -ERANGE, 0},
    {"18446744073709551.615s", UINT64_MAX, 0, UINT64_MAX},
    {"18446744073709551.6151s", UINT64_MAX, -ERANGE, 0},
    {"1.", UINT64_MAX, -EINVAL, 0},
    {".5", UINT64_MAX, -EINVAL, 0},
    {"1.5.5", UINT64_MAX, -EINVAL, 0},
    {"1,5", UINT64_MAX, -EINVAL, 0},
    {"1.-5", UINT64_MAX, -EINVAL, 0},
    {"1.5 s", UINT64_MAX, -EINVAL, 0},
    {"10sec", UINT64_MAX, -EINVAL, 0},
    {"10mss", UINT64_MAX, -EINVAL, 0},
    {"-1s", UINT64_MAX, -EINVAL, 0},
    {"1h1", UINT64_MAX, -EINVAL, 0},
};

START_TEST(test_parse_duration)
{
    const struct sz_case *t = &dur_cases[_i];
    uint64_t v = SENTINEL;
    int r = ps_parse_duration_ms(t->s, t->max, &v);
    ck_assert_msg(r == t->ret, "ps_parse_duration_ms(\"%s\", %ju) = %d, expected %d", t->s,
                  (uintmax_t)t->max, r, t->ret);
    if (t->ret == 0)
        ck_assert_msg(v == t->val, "\"%s\": got %ju, expected %ju", t->s, (uintmax_t)v,
                      (uintmax_t)t->val);
}
END_TEST

/* ---- HTTP dates -------------------------------------------------------------- */

struct date_case {
    time_t t;
    const char *imf;
};

static const struct date_case date_cases[] = {
    {0, "Thu, 01 Jan 1970 00:00:00 GMT"},
    {784111777, "Sun, 06 Nov 1994 08:49:37 GMT"},
    {951782400, "Tue, 29 Feb 2000 00:00:00 GMT"},
    {1709251199, "Thu, 29 Feb 2024 23:59:59 GMT"},
    {1735689599, "Tue, 31 Dec 2024 23:59:59 GMT"},
    {2147483647, "Tue, 19 Jan 2038 03:14:07 GMT"},
    {2147483648, "Tue, 19 Jan 2038 03:14:08 GMT"}, /* past 32-bit time_t */
    {4102444800, "Fri, 01 Jan 2100 00:00:00 GMT"},
};

START_TEST(test_date_format)
{
    const struct date_case *t = &date_cases[_i];
    char out[PS_HTTP_DATE_LEN + 2];
    memset(out, 'X', sizeof(out));
    ps_http_date_format(t->t, out);
    ck_assert_str_eq(out, t->imf);
    ck_assert_uint_eq(strlen(out), PS_HTTP_DATE_LEN);
    ck_assert_int_eq(out[PS_HTTP_DATE_LEN + 1], 'X'); /* nothing written past the NUL */
}
END_TEST

/* Past year 9999 the four digits do not hold the year: the epoch instead */
START_TEST(test_date_format_range)
{
    char out[PS_HTTP_DATE_LEN + 1];
    ps_http_date_format((time_t)253402300799LL, out);
    ck_assert_str_eq(out, "Fri, 31 Dec 9999 23:59:59 GMT");
    ps_http_date_format((time_t)253402300800LL, out);
    ck_assert_str_eq(out, "Thu, 01 Jan 1970 00:00:00 GMT");
}
END_TEST

START_TEST(test_date_roundtrip)
{
    const struct date_case *t = &date_cases[_i];
    size_t n = strlen(t->imf);
    char *buf = malloc(n); /* no NUL: the parser must respect n */
    ck_assert_ptr_nonnull(buf);
    memcpy(buf, t->imf, n);
    time_t v = (time_t)-12345;
    ck_assert_int_eq(ps_http_date_parse(buf, n, &v), 0);
    ck_assert_msg(v == t->t, "\"%s\" parsed as %jd, expected %jd", t->imf, (intmax_t)v,
                  (intmax_t)t->t);
    free(buf);
}
END_TEST

struct date_parse_case {
    const char *s;
    int ret;
    time_t t;
};

static const struct date_parse_case date_parse_cases[] = {
    /* the three forms of RFC 9110 section 5.6.7 */
    {"Sun, 06 Nov 1994 08:49:37 GMT", 0, 784111777},
    {"Sunday, 06-Nov-94 08:49:37 GMT", 0, 784111777},
    {"Sun Nov  6 08:49:37 1994", 0, 784111777},
    {"Thu Feb 29 23:59:59 2024", 0, 1709251199},
    {"Thursday, 29-Feb-24 23:59:59 GMT", 0, 1709251199},
    /* malformed */
    {"", -EINVAL, 0},
    {"garbage", -EINVAL, 0},
    {"Sun, 06 Nov 1994 08:49:37", -EINVAL, 0},
    {"Sun, 06 Nov 1994 08:49:37 GMTx", -EINVAL, 0},
    {"Sun, 06 Nov 1994 08:49:37 UTC", -EINVAL, 0},
    {"Sun, 06 Foo 1994 08:49:37 GMT", -EINVAL, 0},
    {"Sun, 32 Nov 1994 08:49:37 GMT", -EINVAL, 0},
    {"Sun, 06 Nov 1994 25:49:37 GMT", -EINVAL, 0},
    {"Sun, 06 Nov 1994 08:60:37 GMT", -EINVAL, 0},
    {"Sun, 06 Nov 1994 08-49-37 GMT", -EINVAL, 0},
    {"Sun Nov  6 08:49:37", -EINVAL, 0},
    {"Sunday, 06-Nov-94 08:49:37", -EINVAL, 0},
    /* the bounds of the time of day; a leap second is the second before */
    {"Sun, 06 Nov 1994 24:00:00 GMT", -EINVAL, 0},
    {"Sun, 06 Nov 1994 23:59:61 GMT", -EINVAL, 0},
    {"Sat, 31 Dec 2016 23:59:60 GMT", 0, 1483228799},
    /* RFC 850 two-digit years: 70 is 1970, 69 is 2069 */
    {"Thursday, 01-Jan-70 00:00:00 GMT", 0, 0},
    {"Tuesday, 31-Dec-69 23:59:59 GMT", 0, 3155759999},
};

START_TEST(test_date_parse)
{
    const struct date_parse_case *t = &date_parse_cases[_i];
    size_t n = strlen(t->s);
    char *buf = malloc(n ? n : 1);
    ck_assert_ptr_nonnull(buf);
    memcpy(buf, t->s, n);
    time_t v = (time_t)-12345;
    int r = ps_http_date_parse(buf, n, &v);
    ck_assert_msg(r == t->ret, "ps_http_date_parse(\"%s\") = %d, expected %d", t->s, r, t->ret);
    if (t->ret == 0)
        ck_assert_msg(v == t->t, "\"%s\" parsed as %jd, expected %jd", t->s, (intmax_t)v,
                      (intmax_t)t->t);
    free(buf);
}
END_TEST

START_TEST(test_date_parse_respects_n)
{
    /* A valid date followed by more bytes: only the first n bytes count. */
    const char *s = "Sun, 06 Nov 1994 08:49:37 GMT, trailing";
    time_t v = 0;
    ck_assert_int_eq(ps_http_date_parse(s, PS_HTTP_DATE_LEN, &v), 0);
    ck_assert_int_eq((long long)v, 784111777LL);
    ck_assert_int_eq(ps_http_date_parse(s, PS_HTTP_DATE_LEN - 1, &v), -EINVAL);
    ck_assert_int_eq(ps_http_date_parse(s, PS_HTTP_DATE_LEN + 1, &v), -EINVAL);
}
END_TEST

/* ---- host:port ----------------------------------------------------------- */

struct hp_case {
    const char *s;
    bool bare_port;
    int ret;
    const char *host;
    bool has_port;
    uint16_t port;
};

static const struct hp_case hp_cases[] = {
    {"127.0.0.1:8080", true, 0, "127.0.0.1", true, 8080},
    {"127.0.0.1:8080", false, 0, "127.0.0.1", true, 8080},
    {"example.com:80", false, 0, "example.com", true, 80},
    {"example.com", false, 0, "example.com", false, 0},
    {"[::1]:8080", true, 0, "::1", true, 8080},
    {"[::1]", false, 0, "::1", false, 0},
    {":8080", false, 0, "", true, 8080},
    {"8080", true, 0, "", true, 8080},
    {"8080", false, 0, "8080", false, 0},
    {"h:0", false, 0, "h", true, 0},
    {"h:65535", false, 0, "h", true, 65535},
    {"h:00080", false, 0, "h", true, 80},
    {"0", true, 0, "", true, 0},
    {"h:65536", false, -ERANGE, NULL, false, 0},
    {"h:99999999999999999999", false, -ERANGE, NULL, false, 0},
    {"65536", true, -ERANGE, NULL, false, 0},
    {"[::1]:65536", false, -ERANGE, NULL, false, 0},
    {"h:", false, -EINVAL, NULL, false, 0},
    {"[::1]:", false, -EINVAL, NULL, false, 0},
    {":", false, -EINVAL, NULL, false, 0},
    {"h:abc", false, -EINVAL, NULL, false, 0},
    {"h:80x", false, -EINVAL, NULL, false, 0},
    {"h:+80", false, -EINVAL, NULL, false, 0},
    {"h:-1", false, -EINVAL, NULL, false, 0},
    {"h: 80", false, -EINVAL, NULL, false, 0},
    {"[::1", false, -EINVAL, NULL, false, 0},
    {"[::1:80", false, -EINVAL, NULL, false, 0},
    {"::1]:80", false, -EINVAL, NULL, false, 0},
    {"[::1]x", false, -EINVAL, NULL, false, 0},
    {"[::1]80", false, -EINVAL, NULL, false, 0},
    {"", false, -EINVAL, NULL, false, 0},
    {"[]", false, -EINVAL, NULL, false, 0},
    {"[]:80", false, -EINVAL, NULL, false, 0},
    {"8080x", true, 0, "8080x", false, 0}, /* not all digits: a host */
};

START_TEST(test_hostport)
{
    const struct hp_case *t = &hp_cases[_i];
    char host[64];
    memset(host, 'X', sizeof(host));
    uint16_t port = 4242;
    bool has_port = !t->has_port;
    int r = ps_split_hostport(t->s, t->bare_port, host, sizeof(host), &port, &has_port);
    ck_assert_msg(r == t->ret, "ps_split_hostport(\"%s\", %d) = %d, expected %d", t->s,
                  t->bare_port, r, t->ret);
    if (t->ret != 0)
        return;
    ck_assert_str_eq(host, t->host);
    ck_assert_msg(has_port == t->has_port, "\"%s\": has_port %d", t->s, has_port);
    if (t->has_port)
        ck_assert_uint_eq(port, t->port);
}
END_TEST

START_TEST(test_hostport_host_size)
{
    char host[8];
    uint16_t port = 0;
    bool has_port = false;

    /* 7 bytes + NUL fit exactly */
    memset(host, 'X', sizeof(host));
    ck_assert_int_eq(ps_split_hostport("abcdefg:1", false, host, sizeof(host), &port, &has_port),
                     0);
    ck_assert_str_eq(host, "abcdefg");
    ck_assert_uint_eq(port, 1);

    /* 8 bytes do not */
    ck_assert_int_eq(ps_split_hostport("abcdefgh:1", false, host, sizeof(host), &port, &has_port),
                     -ERANGE);
    ck_assert_int_eq(ps_split_hostport("[abcd::efgh]", false, host, sizeof(host), &port, &has_port),
                     -ERANGE);
    ck_assert_int_eq(ps_split_hostport("abcdefgh", false, host, sizeof(host), &port, &has_port),
                     -ERANGE);

    /* and nothing is written past hostsz */
    char big[16];
    memset(big, 'X', sizeof(big));
    ck_assert_int_lt(ps_split_hostport("abcdefghijkl:1", false, big, 4, &port, &has_port), 0);
    for (size_t i = 4; i < sizeof(big); i++)
        ck_assert_int_eq(big[i], 'X');
}
END_TEST

/* ---- ps_longopt_given_value ----------------------------------------------- */

START_TEST(test_longopt_given_value)
{
    static const struct option lo[] = {
        {"head", no_argument, NULL, 'I'},
        {"header", required_argument, NULL, 'H'},
        {"json", no_argument, NULL, 'j'},
        {"jitter", no_argument, NULL, 'J'},
        {NULL, 0, NULL, 0},
    };
    ck_assert(ps_longopt_given_value(lo, 'I', "--head=x"));
    ck_assert(ps_longopt_given_value(lo, 'I', "--head="));
    ck_assert(ps_longopt_given_value(lo, 'j', "--js=1"));      /* a prefix, as getopt_long takes */
    ck_assert(!ps_longopt_given_value(lo, 'I', "--head"));     /* no value */
    ck_assert(!ps_longopt_given_value(lo, 'H', "--header=x")); /* takes one */
    ck_assert(!ps_longopt_given_value(lo, 'x', "--json=1"));   /* another option's letter */
    ck_assert(!ps_longopt_given_value(lo, 'x', "--json"));     /* "--json -xk": -x is unknown */
    ck_assert(!ps_longopt_given_value(lo, 'I', "-head=x"));
    ck_assert(!ps_longopt_given_value(lo, 'I', "--=x"));
    ck_assert(!ps_longopt_given_value(lo, 0, "--head=x"));
    ck_assert(!ps_longopt_given_value(lo, 'j', "--jsonx=1")); /* neither the name nor a prefix */
}
END_TEST

/* In a child with the descriptors of mask _i (bit n: descriptor n) closed:
 * after ps_guard_std_fds a new socket gets a number above 2, writes to a
 * guarded stdout or stderr fail with EBADF, and a guarded stdin reads end
 * of file. The child's exit status is the number of the check that failed. */
static int guarded_child(int mask)
{
    for (int fd = 0; fd <= 2; fd++)
        if (mask & (1 << fd))
            close(fd);
    if (ps_guard_std_fds("check_common") != 0)
        return 10;
    int s = socket(AF_INET, SOCK_STREAM, 0);
    if (s < 3)
        return 11;
    for (int fd = 0; fd <= 2; fd++) {
        if (!(mask & (1 << fd)))
            continue;
        char c;
        if (fd == 0 && read(fd, &c, 1) != 0)
            return 12;
        if (fd > 0 && (write(fd, "x", 1) != -1 || errno != EBADF))
            return 13 + fd;
    }
    return 0;
}

START_TEST(test_guard_std_fds)
{
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0)
        _exit(guarded_child(_i));
    int st;
    ck_assert_int_eq(waitpid(pid, &st, 0), pid);
    ck_assert_msg(WIFEXITED(st), "closed set %d: the child did not exit", _i);
    ck_assert_msg(WEXITSTATUS(st) == 0, "closed set %d: check %d failed", _i, WEXITSTATUS(st));
}
END_TEST

static Suite *common_suite(void)
{
    Suite *s = suite_create("common");
    TCase *tc;

    tc = tcase_create("num");
    tcase_add_loop_test(tc, test_parse_u64n, 0, NELEMS(u64_cases));
    tcase_add_loop_test(tc, test_parse_u64, 0, NELEMS(u64_cases));
    tcase_add_loop_test(tc, test_parse_size, 0, NELEMS(size_cases));
    tcase_add_loop_test(tc, test_parse_duration, 0, NELEMS(dur_cases));
    suite_add_tcase(s, tc);

    tc = tcase_create("httpdate");
    tcase_add_loop_test(tc, test_date_format, 0, NELEMS(date_cases));
    tcase_add_loop_test(tc, test_date_roundtrip, 0, NELEMS(date_cases));
    tcase_add_test(tc, test_date_format_range);
    tcase_add_loop_test(tc, test_date_parse, 0, NELEMS(date_parse_cases));
    tcase_add_test(tc, test_date_parse_respects_n);
    suite_add_tcase(s, tc);

    tc = tcase_create("hostport");
    tcase_add_loop_test(tc, test_hostport, 0, NELEMS(hp_cases));
    tcase_add_test(tc, test_hostport_host_size);
    suite_add_tcase(s, tc);

    tc = tcase_create("longopt");
    tcase_add_test(tc, test_longopt_given_value);
    suite_add_tcase(s, tc);

    tc = tcase_create("stdfds");
    tcase_add_loop_test(tc, test_guard_std_fds, 1, 8);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return ps_check_run(common_suite());
}
