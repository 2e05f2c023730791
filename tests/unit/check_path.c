/* Unit tests of the request path resolver (src/pyserved/path.h). */
#include "config.h"

#include <check.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "path.h"
#include "check_run.h"

#define NELEMS(a) (sizeof(a) / sizeof((a)[0]))
#define DENY 0u
#define ALLOW ((unsigned)PATH_ALLOW_DOTFILES)

/* Convention of the implementation (path.h leaves it open): a request path
 * ending in '/' keeps that '/' in the result ("/a/" -> "a/"), except the root
 * itself, which is "". trailing_slash says the same thing. */
struct path_case {
    const char *raw;
    size_t n; /* 0: strlen(raw) (inputs with NUL bytes give it) */
    unsigned flags;
    int ret;
    const char *out; /* when ret == 0 */
    bool trailing_slash;
};

#define OK(raw, flags, out, slash) {raw, 0, flags, 0, out, slash}
#define ERR(raw, flags, st) {raw, 0, flags, -(st), NULL, false}

static const struct path_case cases[] = {
    /* plain paths and normalisation (RFC 3986 section 5.2.4) */
    OK("/", DENY, "", true),
    OK("/a", DENY, "a", false),
    OK("/a/", DENY, "a/", true),
    OK("/a/b.txt", DENY, "a/b.txt", false),
    OK("/a/./b", DENY, "a/b", false),
    OK("/a/../b", DENY, "b", false),
    OK("/a/../b.txt", DENY, "b.txt", false),
    OK("//a///b", DENY, "a/b", false),
    OK("//a///b//", DENY, "a/b/", true),
    OK("///", DENY, "", true),
    OK("/a/b/..", DENY, "a/", true),
    OK("/a/b/../", DENY, "a/", true),
    OK("/a/.", DENY, "a/", true),
    OK("/a/..", DENY, "", true),
    OK("/.", DENY, "", true),
    OK("/./", DENY, "", true),
    OK("/./a", DENY, "a", false),
    OK("/a/b/../../c", DENY, "c", false),
    OK("/a/b/c/../../../d/", DENY, "d/", true),
    OK("/a/..//x", DENY, "x", false),
    OK("/a/b/..//c", DENY, "a/c", false),
    OK("/a/./", DENY, "a/", true),
    OK("/a/.//b", DENY, "a/b", false),
    OK("/a..b", DENY, "a..b", false),
    OK("/a/b..", DENY, "a/b..", false),
    OK("/a./b", DENY, "a./b", false),
    /* percent-decoding, once */
    OK("/%41%42c", DENY, "ABc", false),
    OK("/a%20b", DENY, "a b", false),
    OK("/%7e%7E", DENY, "~~", false),
    OK("/a%3fb", DENY, "a?b", false),
    OK("/a%25b", DENY, "a%b", false),
    OK("/%2e", DENY, "", true),
    OK("/a/%2e%2e/b", DENY, "b", false),
    OK("/a/%2E%2E/b", DENY, "b", false),
    OK("/%252e%252e", DENY, "%2e%2e", false),
    OK("/%252e%252e/x", DENY, "%2e%2e/x", false),
    OK("/%252f", DENY, "%2f", false),
    OK("/%255c", DENY, "%5c", false),
    OK("/%2500", DENY, "%00", false),
    /* UTF-8 passes through, raw or encoded */
    OK("/\xc3\xa9t\xc3\xa9/\xe2\x82\xac", DENY, "\xc3\xa9t\xc3\xa9/\xe2\x82\xac", false),
    OK("/%C3%A9t%c3%a9", DENY, "\xc3\xa9t\xc3\xa9", false),
    OK("/%ff%80", DENY, "\xff\x80", false),
    /* dotfile policy */
    ERR("/.env", DENY, 403),
    ERR("/.git/config", DENY, 403),
    ERR("/.git/", DENY, 403),
    ERR("/a/.hidden", DENY, 403),
    ERR("/a/.hidden/", DENY, 403),
    ERR("/a/.well-known", DENY, 403),
    ERR("/.well-known/.x", DENY, 403),
    /* the exemption is the first segment's: a dot segment below it as long
     * as ".well-known" (11 bytes), or that very name, is still denied */
    ERR("/.well-known/.htpasswd01", DENY, 403),
    ERR("/.well-known/.well-known", DENY, 403),
    ERR("/.well-known/a/.well-known", DENY, 403),
    ERR("/..a", DENY, 403),
    ERR("/a/...", DENY, 403),
    ERR("/%2eenv", DENY, 403),
    ERR("/a/%2Ehidden", DENY, 403),
    ERR("/.well-knownx/acme", DENY, 403),
    ERR("/.Well-Known/acme", DENY, 403),
    OK("/.well-known/acme", DENY, ".well-known/acme", false),
    OK("/.well-known/acme-challenge/tok", DENY, ".well-known/acme-challenge/tok", false),
    OK("/.well-known", DENY, ".well-known", false),
    OK("/.well-known/", DENY, ".well-known/", true),
    OK("/%2ewell-known/x", DENY, ".well-known/x", false),
    OK("/.env", ALLOW, ".env", false),
    OK("/.git/config", ALLOW, ".git/config", false),
    OK("/a/.hidden", ALLOW, "a/.hidden", false),
    OK("/a/.well-known", ALLOW, "a/.well-known", false),
    OK("/.well-known/acme", ALLOW, ".well-known/acme", false),
    OK("/..a", ALLOW, "..a", false),
    OK("/a/...", ALLOW, "a/...", false),
    OK("/a/./.b/../.c", ALLOW, "a/.c", false),
    /* traversal: dot segments above the root */
    ERR("/..", DENY, 400),
    ERR("/../", DENY, 400),
    ERR("/../x", DENY, 400),
    ERR("/a/../../x", DENY, 400),
    ERR("/a/b/../../../x", DENY, 400),
    ERR("/./../x", DENY, 400),
    ERR("/%2e%2e", DENY, 400),
    ERR("/%2e%2e/x", DENY, 400),
    ERR("/%2E%2E/x", DENY, 400),
    ERR("/%2E%2e/x", DENY, 400),
    ERR("/.%2e/x", DENY, 400),
    ERR("/%2e./x", DENY, 400),
    ERR("/a/%2e%2e/%2e%2e/x", DENY, 400),
    ERR("/..", ALLOW, 400),
    ERR("/../x", ALLOW, 400),
    ERR("/%2e%2e/x", ALLOW, 400),
    ERR("/.%2e", ALLOW, 400),
    ERR("/a/../..", ALLOW, 400),
    ERR("/a/..//..", ALLOW, 400),
    ERR("/a/..//../etc", ALLOW, 400),
    ERR("/a/..//../etc", DENY, 400),
    ERR("/a/b/..//../..", ALLOW, 400),
    /* encoded slash */
    ERR("/a%2fb", DENY, 400),
    ERR("/a%2Fb", DENY, 400),
    ERR("/%2f", DENY, 400),
    ERR("/..%2f", DENY, 400),
    ERR("/%2e%2e%2fx", DENY, 400),
    ERR("/..%2Fetc%2Fpasswd", ALLOW, 400),
    ERR("/a%2fb", ALLOW, 400),
    /* backslash, raw or encoded */
    ERR("/a\\b", DENY, 400),
    ERR("/\\", DENY, 400),
    ERR("/..\\x", DENY, 400),
    ERR("/a%5cb", DENY, 400),
    ERR("/a%5Cb", DENY, 400),
    ERR("/%5c..%5cx", ALLOW, 400),
    /* NUL, encoded or raw */
    ERR("/%00", DENY, 400),
    ERR("/a%00b", DENY, 400),
    ERR("/a.txt%00.html", ALLOW, 400),
    {"/a\0b", 4, DENY, -400, NULL, false},
    {"/\0", 2, ALLOW, -400, NULL, false},
    /* bad escapes */
    ERR("/%", DENY, 400),
    ERR("/a%", DENY, 400),
    ERR("/%4", DENY, 400),
    ERR("/a%4", DENY, 400),
    ERR("/%zz", DENY, 400),
    ERR("/%4g", DENY, 400),
    ERR("/%g4", DENY, 400),
    ERR("/%%41", DENY, 400),
    ERR("/% 41", DENY, 400),
    ERR("/%-1", DENY, 400),
    ERR("/%+f", DENY, 400),
    /* not an absolute path */
    ERR("a/b", DENY, 400),
    ERR("*", DENY, 400),
    ERR("", DENY, 400),
    ERR("%2fa", DENY, 400),
    ERR("http://h/a", DENY, 400),
};

START_TEST(test_resolve)
{
    const struct path_case *t = &cases[_i];
    size_t n = t->n ? t->n : strlen(t->raw);
    /* exact-size input without NUL: reading past n is caught by
     * valgrind/ASan */
    char *raw = malloc(n ? n : 1);
    ck_assert_ptr_nonnull(raw);
    memcpy(raw, t->raw, n);
    char out[256];
    memset(out, 'X', sizeof(out));
    struct path_result res = {12345, !t->trailing_slash};
    int r = path_resolve(raw, n, t->flags, out, sizeof(out), &res);
    free(raw);
    ck_assert_msg(r == t->ret, "path_resolve(\"%s\", flags %u) = %d, expected %d", t->raw,
                  t->flags, r, t->ret);
    if (t->ret != 0)
        return;
    ck_assert_msg(strcmp(out, t->out) == 0, "path_resolve(\"%s\", flags %u) gave \"%s\", expected \"%s\"",
                  t->raw, t->flags, out, t->out);
    ck_assert_uint_eq(res.len, strlen(t->out));
    ck_assert_msg(res.trailing_slash == t->trailing_slash, "\"%s\": trailing_slash %d", t->raw,
                  res.trailing_slash);
}
END_TEST

/* Whatever the policy, a successful result is a clean relative path. */
START_TEST(test_result_shape)
{
    const struct path_case *t = &cases[_i];
    size_t n = t->n ? t->n : strlen(t->raw);
    static const unsigned flags[] = {DENY, ALLOW};
    for (size_t f = 0; f < NELEMS(flags); f++) {
        char out[256];
        struct path_result res;
        if (path_resolve(t->raw, n, flags[f], out, sizeof(out), &res) != 0)
            continue;
        ck_assert_uint_eq(res.len, strlen(out));
        ck_assert_msg(out[0] != '/', "\"%s\" -> \"%s\" starts with /", t->raw, out);
        ck_assert_msg(strstr(out, "//") == NULL, "\"%s\" -> \"%s\"", t->raw, out);
        ck_assert_msg(res.len == 0 || (out[res.len - 1] == '/') == res.trailing_slash,
                      "\"%s\" -> \"%s\", trailing_slash %d", t->raw, out, res.trailing_slash);
        ck_assert_msg(strchr(out, '\\') == NULL, "\"%s\" -> \"%s\"", t->raw, out);
        /* no "." or ".." segment */
        const char *seg = out;
        while (*seg) {
            size_t len = strcspn(seg, "/");
            ck_assert_msg(!(len == 1 && seg[0] == '.') && !(len == 2 && seg[0] == '.' && seg[1] == '.'),
                          "\"%s\" -> \"%s\" has a dot segment", t->raw, out);
            seg += len;
            if (*seg == '/')
                seg++;
        }
    }
}
END_TEST

/* The output buffer: an exact fit works, one byte less is -414, and nothing is
 * ever written past outsz. */
struct fit_case {
    const char *raw;
    const char *out;
};

static const struct fit_case fit_cases[] = {
    {"/", ""},
    {"/abc", "abc"},
    {"/a/b/c", "a/b/c"},
    {"/%41%42%43", "ABC"},
    {"//x//y//", "x/y/"},
};

START_TEST(test_outsz)
{
    const struct fit_case *t = &fit_cases[_i];
    size_t need = strlen(t->out) + 1;
    char buf[64];
    struct path_result res;

    for (size_t outsz = 0; outsz < need; outsz++) {
        memset(buf, 'X', sizeof(buf));
        int r = path_resolve(t->raw, strlen(t->raw), DENY, buf, outsz, &res);
        ck_assert_msg(r == -414, "\"%s\" with outsz %zu: %d, expected -414", t->raw, outsz, r);
        for (size_t i = outsz; i < sizeof(buf); i++)
            ck_assert_msg(buf[i] == 'X', "\"%s\" with outsz %zu: byte %zu written", t->raw, outsz,
                          i);
    }
    memset(buf, 'X', sizeof(buf));
    int r = path_resolve(t->raw, strlen(t->raw), DENY, buf, need, &res);
    ck_assert_msg(r == 0, "\"%s\" with outsz %zu (exact fit): %d", t->raw, need, r);
    ck_assert_str_eq(buf, t->out);
    ck_assert_uint_eq(res.len, need - 1);
    for (size_t i = need; i < sizeof(buf); i++)
        ck_assert_int_eq(buf[i], 'X');
}
END_TEST

/* Segments later removed by ".." need room too (path.h), but outsz > n is
 * always enough. */
START_TEST(test_outsz_intermediate)
{
    static const char raw[] = "/aaaaaaaa/../b";
    const size_t n = sizeof(raw) - 1;
    char buf[64];
    struct path_result res;

    memset(buf, 'X', sizeof(buf));
    ck_assert_int_eq(path_resolve(raw, n, DENY, buf, 2, &res), -414);
    for (size_t i = 2; i < sizeof(buf); i++)
        ck_assert_int_eq(buf[i], 'X');

    char *exact = malloc(n + 1);
    ck_assert_ptr_nonnull(exact);
    ck_assert_int_eq(path_resolve(raw, n, DENY, exact, n + 1, &res), 0);
    ck_assert_str_eq(exact, "b");
    free(exact);
}
END_TEST

START_TEST(test_outsz_heap_exact)
{
    /* An exact-size heap buffer, so that a one-byte overflow is seen by
     * valgrind/ASan. */
    static const char raw[] = "/dir/sub/file.txt";
    char *out = malloc(sizeof("dir/sub/file.txt"));
    ck_assert_ptr_nonnull(out);
    struct path_result res;
    ck_assert_int_eq(path_resolve(raw, sizeof(raw) - 1, DENY, out, sizeof("dir/sub/file.txt"), &res), 0);
    ck_assert_str_eq(out, "dir/sub/file.txt");
    ck_assert_int_eq(path_resolve(raw, sizeof(raw) - 1, DENY, out, sizeof("dir/sub/file.txt") - 1, &res),
                     -414);
    free(out);
}
END_TEST

START_TEST(test_long_path)
{
    /* 200 segments "ab/" then 200 ".." : back to the root */
    char raw[2048];
    size_t off = 0;
    for (int i = 0; i < 200; i++) {
        memcpy(raw + off, "/ab", 3);
        off += 3;
    }
    for (int i = 0; i < 200; i++) {
        memcpy(raw + off, "/..", 3);
        off += 3;
    }
    char out[1024];
    struct path_result res;
    ck_assert_int_eq(path_resolve(raw, off, DENY, out, sizeof(out), &res), 0);
    ck_assert_str_eq(out, "");
    ck_assert(res.trailing_slash);
    /* one more ".." escapes */
    memcpy(raw + off, "/..", 3);
    ck_assert_int_eq(path_resolve(raw, off + 3, DENY, out, sizeof(out), &res), -400);
}
END_TEST

START_TEST(test_respects_n)
{
    /* Only raw[0..n) is looked at: the "/../x" after n does not count. */
    static const char raw[] = "/a/b/../x";
    char out[64];
    struct path_result res;
    ck_assert_int_eq(path_resolve(raw, 4, DENY, out, sizeof(out), &res), 0);
    ck_assert_str_eq(out, "a/b");
    ck_assert(!res.trailing_slash);
    ck_assert_int_eq(path_resolve(raw, 5, DENY, out, sizeof(out), &res), 0);
    ck_assert_str_eq(out, "a/b/");
    ck_assert(res.trailing_slash);
}
END_TEST

/* path_encode: "/" + rel, with what is not a pchar or '/' as %XX. */
START_TEST(test_encode)
{
    static const struct {
        const char *rel, *want;
    } enc[] = {
        {"", "/"},
        {"sub", "/sub"},
        {"a/b c", "/a/b%20c"},
        {"x:y@z!$&'()*+,;=-._~", "/x:y@z!$&'()*+,;=-._~"},
        {"%?#[]\\\"<>^`{|}", "/%25%3F%23%5B%5D%5C%22%3C%3E%5E%60%7B%7C%7D"},
        {"\x01\x7f\xc3\xa9", "/%01%7F%C3%A9"},
    };
    char out[128];
    for (size_t i = 0; i < NELEMS(enc); i++) {
        size_t n = path_encode(enc[i].rel, strlen(enc[i].rel), out, sizeof(out));
        ck_assert_uint_eq(n, strlen(enc[i].want));
        ck_assert_mem_eq(out, enc[i].want, n);
        /* the exact size fits, one byte less does not */
        ck_assert_uint_eq(path_encode(enc[i].rel, strlen(enc[i].rel), out, n), n);
        ck_assert_uint_eq(path_encode(enc[i].rel, strlen(enc[i].rel), out, n - 1), 0);
    }
    /* every byte: kept or %XX, never anything else */
    for (int c = 1; c < 256; c++) {
        char in = (char)c;
        size_t n = path_encode(&in, 1, out, sizeof(out));
        ck_assert(n == 2 || n == 4);
        if (n == 2)
            ck_assert(out[1] == in && in != '%' && in > ' ' && c < 0x7f);
        else
            ck_assert(out[1] == '%');
    }
}
END_TEST

static Suite *path_suite(void)
{
    Suite *s = suite_create("path");
    TCase *tc = tcase_create("resolve");
    tcase_add_loop_test(tc, test_resolve, 0, NELEMS(cases));
    tcase_add_loop_test(tc, test_result_shape, 0, NELEMS(cases));
    tcase_add_loop_test(tc, test_outsz, 0, NELEMS(fit_cases));
    tcase_add_test(tc, test_outsz_intermediate);
    tcase_add_test(tc, test_outsz_heap_exact);
    tcase_add_test(tc, test_long_path);
    tcase_add_test(tc, test_respects_n);
    tcase_add_test(tc, test_encode);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return ps_check_run(path_suite());
}
