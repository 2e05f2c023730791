/* Unit tests of pyserve-stress's input parsing: the command line (opts.h),
 * the URL mix and --urls file format, the request bytes and the header
 * check (urlmix.h). */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "opts.h"
#include "sha256.h"
#include "urlmix.h"
#include "check_run.h"

#define MAXARGS 40
#define SHA_ABC "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"

static char argbuf[MAXARGS][256];
static char *argv_[MAXARGS + 1];
static char err[1024];
static struct stress_opts o;

/* Parse a NULL-terminated list of arguments (the program name is added). */
static int parse(const char *first, ...)
{
    va_list ap;
    int argc = 0;
    snprintf(argbuf[argc], sizeof(argbuf[0]), "pyserve-stress");
    argv_[argc] = argbuf[argc];
    argc++;
    va_start(ap, first);
    for (const char *a = first; a; a = va_arg(ap, const char *)) {
        ck_assert_int_lt(argc, MAXARGS);
        snprintf(argbuf[argc], sizeof(argbuf[0]), "%s", a);
        argv_[argc] = argbuf[argc];
        argc++;
    }
    va_end(ap);
    argv_[argc] = NULL;
    return stress_opts_parse(argc, argv_, &o, err, sizeof(err));
}

/* ---- command line ------------------------------------------------------- */

START_TEST(test_opts_defaults)
{
    ck_assert_int_eq(parse("http://127.0.0.1:8080/", NULL), 0);
    ck_assert_uint_eq(o.connections, 10);
    ck_assert_uint_eq(o.threads, 2);
    ck_assert_uint_eq(o.duration_ms, 10000);
    ck_assert_uint_eq(o.requests, 0);
    ck_assert_uint_eq(o.timeout_ms, 5000);
    ck_assert_uint_eq(o.pipeline, 1);
    ck_assert_uint_eq(o.rate, 0);
    ck_assert_uint_eq(o.warmup_ms, 0);
    ck_assert(o.keep_alive);
    ck_assert(!o.head && !o.once && !o.verify && !o.json && !o.fail_on_error);
    ck_assert(!o.have_sha256);
    ck_assert_uint_eq(o.nurls, 1);
    ck_assert_str_eq(o.urls[0], "http://127.0.0.1:8080/");
    ck_assert_ptr_null(o.urls_file);
}
END_TEST

START_TEST(test_opts_everything)
{
    ck_assert_int_eq(parse("-c", "64", "-t", "4", "-d", "5s", "-k", "-p", "8", "-H", "A: b",
                           "--header=C:d", "--method", "HEAD", "--timeout", "250ms", "-R", "1000",
                           "--warmup", "1s", "--json", "--fail-on-error", "--verify", "--urls",
                           "mix.txt", "http://h/a", "http://h/b", NULL),
                     0);
    ck_assert_uint_eq(o.connections, 64);
    ck_assert_uint_eq(o.threads, 4);
    ck_assert_uint_eq(o.duration_ms, 5000);
    ck_assert_uint_eq(o.pipeline, 8);
    ck_assert_uint_eq(o.nheaders, 2);
    ck_assert_str_eq(o.headers[0], "A: b");
    ck_assert_str_eq(o.headers[1], "C:d");
    ck_assert(o.head);
    ck_assert_uint_eq(o.timeout_ms, 250);
    ck_assert_uint_eq(o.rate, 1000);
    ck_assert_uint_eq(o.warmup_ms, 1000);
    ck_assert(o.json && o.fail_on_error && o.verify);
    ck_assert_str_eq(o.urls_file, "mix.txt");
    ck_assert_uint_eq(o.nurls, 2);
    ck_assert_str_eq(o.urls[1], "http://h/b");
}
END_TEST

START_TEST(test_opts_counts_and_once)
{
    ck_assert_int_eq(parse("-n", "1000", "http://h/", NULL), 0);
    ck_assert_uint_eq(o.requests, 1000);
    ck_assert_uint_eq(o.duration_ms, 0); /* -n alone: no default duration */
    ck_assert_int_eq(parse("-n", "1000", "-d", "2s", "http://h/", NULL), 0);
    ck_assert_uint_eq(o.requests, 1000);
    ck_assert_uint_eq(o.duration_ms, 2000);
    ck_assert_int_eq(parse("--clients", "20", "--once", "http://h/", NULL), 0);
    ck_assert_uint_eq(o.connections, 20);
    ck_assert(o.once);
    ck_assert_uint_eq(o.duration_ms, 0);
    ck_assert_int_eq(parse("--once", "-d", "3s", "--clients=5", "http://h/", NULL), 0);
    ck_assert_uint_eq(o.duration_ms, 3000); /* a cap */
    ck_assert_int_eq(parse("-R", "50", "-n", "100", "http://h/", NULL), 0);
    ck_assert_uint_eq(o.rate, 50);
    ck_assert_int_eq(parse("--no-keep-alive", "http://h/", NULL), 0);
    ck_assert(!o.keep_alive);
    ck_assert_int_eq(parse("--no-keep-alive", "-k", "http://h/", NULL), 0);
    ck_assert(o.keep_alive); /* the last one wins */
    ck_assert_int_eq(parse("--warmup", "0", "http://h/", NULL), 0);
    ck_assert_int_eq(parse("--expect-sha256", SHA_ABC, "http://h/", NULL), 0);
    ck_assert(o.have_sha256);
    uint8_t d[SHA256_DIGEST_LEN];
    sha256_parse_hex(SHA_ABC, d);
    ck_assert_int_eq(memcmp(d, o.sha256, sizeof(d)), 0);
}
END_TEST

START_TEST(test_opts_threads_clamped)
{
    /* the default of 2 threads gives way to a single connection ... */
    ck_assert_int_eq(parse("-c", "1", "http://h/", NULL), 0);
    ck_assert_uint_eq(o.threads, 1);
    /* ... an explicit -t does not */
    ck_assert_int_eq(parse("-c", "1", "-t", "2", "http://h/", NULL), -EINVAL);
    ck_assert_ptr_nonnull(strstr(err, "more threads than the 1 connection"));
}
END_TEST

START_TEST(test_opts_permuted_and_help)
{
    ck_assert_int_eq(parse("http://h/", "-c", "5", NULL), 0); /* options after the URL */
    ck_assert_uint_eq(o.connections, 5);
    ck_assert_uint_eq(o.nurls, 1);
    ck_assert_int_eq(parse("--help", NULL), 0); /* no URL needed */
    ck_assert(o.help);
    ck_assert_int_eq(parse("-V", NULL), 0);
    ck_assert(o.version);
}
END_TEST

/* argv of n "-H X: y" pairs and a URL; parsed */
static int parse_headers(int n)
{
    static char *av[2 * STRESS_MAX_HEADERS + 8];
    int ac = 0;
    av[ac++] = (char *)"pyserve-stress";
    for (int i = 0; i < n; i++) {
        av[ac++] = (char *)"-H";
        av[ac++] = (char *)"X: y";
    }
    av[ac++] = (char *)"http://h/";
    av[ac] = NULL;
    return stress_opts_parse(ac, av, &o, err, sizeof(err));
}

START_TEST(test_opts_limits)
{
    ck_assert_int_eq(parse("-n", "1125899906842624", "http://h/", NULL), 0); /* 2^50 */
    ck_assert_uint_eq(o.requests, UINT64_C(1) << 50);
    ck_assert_int_eq(parse("-n", "1125899906842625", "http://h/", NULL), -EINVAL);
    ck_assert_ptr_nonnull(strstr(err, "must be in 1..1125899906842624"));
    ck_assert_int_eq(parse_headers(STRESS_MAX_HEADERS), 0);
    ck_assert_uint_eq(o.nheaders, STRESS_MAX_HEADERS);
    ck_assert_int_eq(parse_headers(STRESS_MAX_HEADERS + 1), -EINVAL);
    ck_assert_ptr_nonnull(strstr(err, "at most 64 headers"));
    /* a URL file is enough without a URL */
    ck_assert_int_eq(parse("--urls", "mix.urls", NULL), 0);
    ck_assert_uint_eq(o.nurls, 0);
    ck_assert_str_eq(o.urls_file, "mix.urls");
}
END_TEST

struct bad_case {
    const char *args[8];
    const char *msg; /* a part of the message */
};

static const struct bad_case bad_cases[] = {
    {{NULL}, "no URL given"},
    {{"-c", "0", "http://h/"}, "at least one connection"},
    {{"--clients", "0", "http://h/"}, "at least one connection"},
    {{"-c", "abc", "http://h/"}, "-c abc: not a number"},
    {{"-c", "100001", "http://h/"}, "must be in 1..100000"},
    {{"-c", "-3", "http://h/"}, "not a number"},
    {{"-t", "0", "http://h/"}, "-t 0: must be in 1..256"},
    {{"-t", "257", "-c", "300", "http://h/"}, "-t 257: must be in 1..256"},
    {{"-d", "0", "http://h/"}, "-d 0: must be more than 0"},
    {{"-d", "10x", "http://h/"}, "not a duration"},
    {{"-d", "", "http://h/"}, "not a duration"},
    {{"-n", "0", "http://h/"}, "-n 0: must be in"},
    {{"-R", "100", "http://h/"}, "-R needs -d or -n"},
    {{"-R", "0", "-d", "1s", "http://h/"}, "-R 0: must be in"},
    {{"-R", "100000001", "-d", "1s", "http://h/"}, "must be in 1..100000000"},
    {{"-p", "2", "--no-keep-alive", "http://h/"}, "pipelining needs keep-alive"},
    {{"-p", "0", "http://h/"}, "-p 0: must be in 1..256"},
    {{"-p", "257", "http://h/"}, "must be in 1..256"},
    {{"-H", "NoColon", "http://h/"}, "expected 'Name: value'"},
    {{"-H", "Bad Name: x", "http://h/"}, "expected 'Name: value'"},
    {{"-H", ": x", "http://h/"}, "expected 'Name: value'"},
    {{"-H", "A: b\r\nX: y", "http://h/"}, "control characters"},
    {{"--method", "POST", "http://h/"}, "only GET and HEAD"},
    {{"--method", "get", "http://h/"}, "only GET and HEAD"},
    {{"--expect-sha256", "zz", "http://h/"}, "64 hex digits"},
    {{"--method", "HEAD", "--expect-sha256", SHA_ABC, "http://h/"}, "HEAD responses have no body"},
    {{"--once", "-n", "5", "http://h/"}, "drop -n"},
    {{"--once", "-R", "5", "-d", "1s", "http://h/"}, "--once cannot be combined with -R"},
    {{"--once", "-p", "2", "http://h/"}, "--once cannot be combined with -p"},
    {{"--once", "--warmup", "1s", "http://h/"}, "--once cannot be combined with --warmup"},
    {{"--warmup", "1s", "-n", "5", "http://h/"}, "--warmup goes with -d"},
    {{"--timeout", "0", "http://h/"}, "--timeout 0: must be more than 0"},
    {{"--timeout", "2h", "http://h/"}, "too long"},
    {{"--bogus", "http://h/"}, "unknown option --bogus"},
    {{"-x", "http://h/"}, "unknown option -x"},
    {{"http://h/", "-c"}, "option -c needs a value"},
    {{"http://h/", "--duration"}, "option --duration needs a value"},
    /* an option without a value given one, also abbreviated */
    {{"--json=yes", "http://h/"}, "option --json takes no value"},
    {{"--keep=1", "http://h/"}, "option --keep takes no value"},
    {{"--help=x"}, "option --help takes no value"},
    /* an unknown letter inside a group, after a long option */
    {{"--json", "-xk", "http://h/"}, "unknown option -x"},
    {{"--once", "-kZ", "http://h/"}, "unknown option -Z"},
    /* the first file would be dropped without a word */
    {{"--urls", "a.urls", "--urls=b.urls"}, "--urls b.urls: a second file"},
};

START_TEST(test_opts_bad)
{
    const struct bad_case *b = &bad_cases[_i];
    int r = parse(b->args[0], b->args[1], b->args[2], b->args[3], b->args[4], b->args[5],
                  b->args[6], b->args[7]);
    ck_assert_int_eq(r, -EINVAL);
    ck_assert_msg(strstr(err, b->msg) != NULL, "message \"%s\" lacks \"%s\"", err, b->msg);
    ck_assert_ptr_null(strchr(err, '\n'));
}
END_TEST

/* ---- URL mix ------------------------------------------------------------- */

static struct urlmix mix;

static void mix_setup(void)
{
    urlmix_init(&mix);
}

static void mix_teardown(void)
{
    urlmix_free(&mix);
}

START_TEST(test_mix_urls)
{
    ck_assert_int_eq(urlmix_add(&mix, "http://Example.com:8080/a?q=1#frag", 1, err, sizeof(err)),
                     0);
    ck_assert_str_eq(mix.host, "Example.com");
    ck_assert_uint_eq(mix.port, 8080);
    ck_assert_str_eq(mix.v[0].target, "/a?q=1");
    ck_assert_int_eq(urlmix_add(&mix, "http://example.COM:8080", 2, err, sizeof(err)), 0);
    ck_assert_str_eq(mix.v[1].target, "/");
    ck_assert_int_eq(urlmix_add(&mix, "/p/q#x", 3, err, sizeof(err)), 0);
    ck_assert_str_eq(mix.v[2].target, "/p/q");
    ck_assert_uint_eq(mix.n, 3);
    ck_assert_uint_eq(mix.total_weight, 6);
    /* another host or port is refused */
    ck_assert_int_eq(urlmix_add(&mix, "http://other:8080/", 1, err, sizeof(err)), -EINVAL);
    ck_assert_ptr_nonnull(strstr(err, "same host and port"));
    ck_assert_int_eq(urlmix_add(&mix, "http://example.com/", 1, err, sizeof(err)), -EINVAL);
    ck_assert_uint_eq(mix.n, 3);
}
END_TEST

START_TEST(test_mix_bad_urls)
{
    ck_assert_int_eq(urlmix_add(&mix, "/x", 1, err, sizeof(err)), -EINVAL);
    ck_assert_ptr_nonnull(strstr(err, "needs an absolute URL before it"));
    ck_assert_int_eq(urlmix_add(&mix, "https://h/", 1, err, sizeof(err)), -EPROTONOSUPPORT);
    ck_assert_ptr_nonnull(strstr(err, "https is not supported"));
    ck_assert_int_eq(urlmix_add(&mix, "ftp://h/", 1, err, sizeof(err)), -EINVAL);
    ck_assert_int_eq(urlmix_add(&mix, "http://h:99999/", 1, err, sizeof(err)), -ERANGE);
    ck_assert_int_eq(urlmix_add(&mix, "http://h/", 0, err, sizeof(err)), -ERANGE);
    ck_assert_int_eq(urlmix_add(&mix, "http://h/", 1001, err, sizeof(err)), -ERANGE);
    ck_assert_uint_eq(mix.n, 0);
}
END_TEST

/* The limits: URLMIX_MAX_URLS entries, weights adding up to at most
 * URLMIX_MAX_TOTAL_WEIGHT; and a path with a space or a control byte. */
START_TEST(test_mix_limits)
{
    ck_assert_int_eq(urlmix_add(&mix, "http://h/", 1000, err, sizeof(err)), 0);
    for (int i = 0; i < 64; i++)
        ck_assert_int_eq(urlmix_add(&mix, "/p", 1000, err, sizeof(err)), 0);
    ck_assert_int_eq(urlmix_add(&mix, "/p", 536, err, sizeof(err)), 0);
    ck_assert_uint_eq(mix.total_weight, URLMIX_MAX_TOTAL_WEIGHT);
    ck_assert_int_eq(urlmix_add(&mix, "/p", 1, err, sizeof(err)), -ERANGE);
    ck_assert_ptr_nonnull(strstr(err, "add up to more than 65536"));

    urlmix_free(&mix);
    ck_assert_int_eq(urlmix_add(&mix, "http://h/", 1, err, sizeof(err)), 0);
    for (int i = 1; i < URLMIX_MAX_URLS; i++)
        ck_assert_int_eq(urlmix_add(&mix, "/p", 1, err, sizeof(err)), 0);
    ck_assert_int_eq(urlmix_add(&mix, "/p", 1, err, sizeof(err)), -ERANGE);
    ck_assert_ptr_nonnull(strstr(err, "more than 4096 URLs"));
    ck_assert_uint_eq(mix.n, URLMIX_MAX_URLS);

    static const char *const bad[] = {"/a b", "/a\x01", "/a\x7f", "/a\tb"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ck_assert_int_eq(urlmix_add(&mix, bad[i], 1, err, sizeof(err)), -EINVAL);
        ck_assert_ptr_nonnull(strstr(err, "spaces or control characters"));
    }

    /* a path is a request target: shorter than PS_URL_TARGET_MAX */
    static char path[PS_URL_TARGET_MAX + 1];
    urlmix_free(&mix);
    ck_assert_int_eq(urlmix_add(&mix, "http://h/", 1, err, sizeof(err)), 0);
    path[0] = '/';
    memset(path + 1, 'a', PS_URL_TARGET_MAX - 2);
    ck_assert_int_eq(urlmix_add(&mix, path, 1, err, sizeof(err)), 0);
    path[PS_URL_TARGET_MAX - 1] = 'a';
    ck_assert_int_eq(urlmix_add(&mix, path, 1, err, sizeof(err)), -ERANGE);
    ck_assert_ptr_nonnull(strstr(err, "path too long"));
}
END_TEST

START_TEST(test_mix_file)
{
    const char *text = "# the mix\n"
                       "\n"
                       "http://127.0.0.1:8080/a\r\n"
                       "3 /b\n"
                       "  \t2\t/c?x=1   \n"
                       "/d#frag\n"
                       "   # indented comment\n"
                       "http://127.0.0.1:8080/e"; /* no final newline */
    ck_assert_int_eq(urlmix_parse_text(&mix, "mix.txt", text, strlen(text), err, sizeof(err)), 0);
    ck_assert_uint_eq(mix.n, 5);
    static const char *targets[] = {"/a", "/b", "/c?x=1", "/d", "/e"};
    static const uint32_t weights[] = {1, 3, 2, 1, 1};
    for (unsigned i = 0; i < 5; i++) {
        ck_assert_str_eq(mix.v[i].target, targets[i]);
        ck_assert_uint_eq(mix.v[i].weight, weights[i]);
    }
    ck_assert_uint_eq(mix.total_weight, 8);
}
END_TEST

START_TEST(test_mix_file_uses_command_line_host)
{
    ck_assert_int_eq(urlmix_add(&mix, "http://[::1]:81/", 1, err, sizeof(err)), 0);
    const char *text = "/x\n/y\n";
    ck_assert_int_eq(urlmix_parse_text(&mix, "f", text, strlen(text), err, sizeof(err)), 0);
    ck_assert_uint_eq(mix.n, 3);
    ck_assert(mix.ipv6_literal);
    ck_assert_str_eq(mix.host, "::1");
}
END_TEST

struct file_case {
    const char *text;
    const char *msg;
};

static const struct file_case bad_files[] = {
    {"", "f: no URL in the file"},
    {"# only\n\n   \n", "f: no URL in the file"},
    {"http://h/\n0 /a\n", "f:2: weight 0 is not in 1..1000"},
    {"http://h/\n1001 /a\n", "f:2: weight 1001 is not in 1..1000"},
    {"http://h/\n\nnot a url\n", "f:3: "},
    {"/a\n", "f:1: /a: a path needs an absolute URL"},
    {"http://h/\nhttp://g/\n", "f:2: "},
    {"http://h/\n3/b\n", "f:2: 3/b: not an http:// URL"},
};

START_TEST(test_mix_file_bad)
{
    const struct file_case *c = &bad_files[_i];
    ck_assert_int_lt(urlmix_parse_text(&mix, "f", c->text, strlen(c->text), err, sizeof(err)), 0);
    ck_assert_msg(strstr(err, c->msg) != NULL, "\"%s\" lacks \"%s\"", err, c->msg);
}
END_TEST

START_TEST(test_mix_file_nul)
{
    const char text[] = "http://h/\n/a\0b\n";
    ck_assert_int_eq(urlmix_parse_text(&mix, "f", text, sizeof(text) - 1, err, sizeof(err)),
                     -EINVAL);
    ck_assert_ptr_nonnull(strstr(err, "f:2: NUL byte"));
}
END_TEST

static void cycle_of(const uint32_t *weights, unsigned n, uint32_t **seq, size_t *len)
{
    ck_assert_int_eq(urlmix_add(&mix, "http://h/", weights[0], err, sizeof(err)), 0);
    for (unsigned i = 1; i < n; i++)
        ck_assert_int_eq(urlmix_add(&mix, "/p", weights[i], err, sizeof(err)), 0);
    ck_assert_int_eq(urlmix_cycle(&mix, seq, len), 0);
}

START_TEST(test_mix_cycle_spread)
{
    uint32_t *seq;
    size_t len;
    static const uint32_t w[] = {2, 1};
    cycle_of(w, 2, &seq, &len);
    ck_assert_uint_eq(len, 3);
    ck_assert_uint_eq(seq[0], 0);
    ck_assert_uint_eq(seq[1], 1);
    ck_assert_uint_eq(seq[2], 0);
    free(seq);
}
END_TEST

START_TEST(test_mix_cycle_counts)
{
    uint32_t *seq;
    size_t len;
    static const uint32_t w[] = {5, 1, 3, 1000, 7};
    cycle_of(w, 5, &seq, &len);
    ck_assert_uint_eq(len, 1016);
    unsigned count[5] = {0};
    for (size_t i = 0; i < len; i++) {
        ck_assert_uint_lt(seq[i], 5);
        count[seq[i]]++;
    }
    for (unsigned i = 0; i < 5; i++)
        ck_assert_uint_eq(count[i], w[i]);
    /* the light entries are spread out, not bunched at one end */
    size_t first1 = len, last1 = 0;
    for (size_t i = 0; i < len; i++)
        if (seq[i] == 0) {
            if (i < first1)
                first1 = i;
            last1 = i;
        }
    ck_assert_uint_gt(last1 - first1, len / 2);
    free(seq);
}
END_TEST

START_TEST(test_mix_cycle_equal)
{
    uint32_t *seq;
    size_t len;
    static const uint32_t w[] = {1, 1, 1};
    cycle_of(w, 3, &seq, &len);
    ck_assert_uint_eq(len, 3);
    for (unsigned i = 0; i < 3; i++)
        ck_assert_uint_eq(seq[i], i);
    free(seq);
}
END_TEST

static void check_request(const char *method, const char *target, const char *const *h, unsigned nh,
                          bool close, const char *want)
{
    char *req;
    size_t len;
    ck_assert_int_eq(urlmix_build_request(&mix, method, target, h, nh, close, &req, &len), 0);
    ck_assert_uint_eq(len, strlen(want));
    ck_assert_str_eq(req, want);
    free(req);
}

START_TEST(test_requests)
{
    ck_assert_int_eq(urlmix_add(&mix, "http://127.0.0.1:8080/a", 1, err, sizeof(err)), 0);
    check_request("GET", "/a", NULL, 0, false, "GET /a HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n");
    check_request("HEAD", "/a", NULL, 0, true,
                  "HEAD /a HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nConnection: close\r\n\r\n");
    static const char *const h[] = {"host: v.example", "Accept: */*"};
    check_request("GET", "/", h, 2, false,
                  "GET / HTTP/1.1\r\nhost: v.example\r\nAccept: */*\r\n\r\n");
    static const char *const hc[] = {"Connection: keep-alive"};
    check_request("GET", "/", hc, 1, true,
                  "GET / HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nConnection: keep-alive\r\n\r\n");
    static const char *const hx[] = {"Hostile: x"}; /* not a Host field */
    check_request("GET", "/", hx, 1, false,
                  "GET / HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nHostile: x\r\n\r\n");
}
END_TEST

START_TEST(test_requests_host_forms)
{
    ck_assert_int_eq(urlmix_add(&mix, "http://example.com/", 1, err, sizeof(err)), 0);
    check_request("GET", "/", NULL, 0, false, "GET / HTTP/1.1\r\nHost: example.com\r\n\r\n");
    urlmix_free(&mix);
    ck_assert_int_eq(urlmix_add(&mix, "http://[::1]:8080/", 1, err, sizeof(err)), 0);
    check_request("GET", "/", NULL, 0, false, "GET / HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n");
}
END_TEST

START_TEST(test_header_ok)
{
    ck_assert(urlmix_header_ok("A: b"));
    ck_assert(urlmix_header_ok("X-Long_Name.1~: value with spaces\tand tab"));
    ck_assert(urlmix_header_ok("Empty:"));
    ck_assert(!urlmix_header_ok(""));
    ck_assert(!urlmix_header_ok(":x"));
    ck_assert(!urlmix_header_ok("NoColon"));
    ck_assert(!urlmix_header_ok("Sp ace: x"));
    ck_assert(!urlmix_header_ok("A: b\r\nC: d"));
    ck_assert(!urlmix_header_ok("A: b\n"));
    ck_assert(!urlmix_header_ok("A: \x7f"));
    ck_assert(!urlmix_header_ok("(A): b"));
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("stress_parse");
    TCase *tc = tcase_create("opts");
    tcase_add_test(tc, test_opts_defaults);
    tcase_add_test(tc, test_opts_everything);
    tcase_add_test(tc, test_opts_counts_and_once);
    tcase_add_test(tc, test_opts_threads_clamped);
    tcase_add_test(tc, test_opts_permuted_and_help);
    tcase_add_test(tc, test_opts_limits);
    tcase_add_loop_test(tc, test_opts_bad, 0, sizeof(bad_cases) / sizeof(bad_cases[0]));
    suite_add_tcase(s, tc);

    tc = tcase_create("urlmix");
    tcase_add_checked_fixture(tc, mix_setup, mix_teardown);
    tcase_add_test(tc, test_mix_urls);
    tcase_add_test(tc, test_mix_bad_urls);
    tcase_add_test(tc, test_mix_limits);
    tcase_add_test(tc, test_mix_file);
    tcase_add_test(tc, test_mix_file_uses_command_line_host);
    tcase_add_loop_test(tc, test_mix_file_bad, 0, sizeof(bad_files) / sizeof(bad_files[0]));
    tcase_add_test(tc, test_mix_file_nul);
    tcase_add_test(tc, test_mix_cycle_spread);
    tcase_add_test(tc, test_mix_cycle_counts);
    tcase_add_test(tc, test_mix_cycle_equal);
    tcase_add_test(tc, test_requests);
    tcase_add_test(tc, test_requests_host_forms);
    tcase_add_test(tc, test_header_ok);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return ps_check_run(suite());
}
