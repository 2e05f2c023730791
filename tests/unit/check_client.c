/* Unit tests of pyserve-client's pure parts: command line (cli.h), file
 * names (names.h), text or binary (sniff.h), Content-Range and --continue
 * (ranges.h), progress line (progress.h), redirects (redirect.h), request
 * heads (request.h) and the body destination (dest.h). */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "cli.h"
#include "dest.h"
#include "escape.h"
#include "names.h"
#include "progress.h"
#include "ranges.h"
#include "redirect.h"
#include "request.h"
#include "sniff.h"
#include "check_run.h"

#define NELEMS(a) (sizeof(a) / sizeof((a)[0]))
#define MAX_ARGS  16

/* ---- command line --------------------------------------------------------- */

static struct client_opts opts;
static char argbuf[MAX_ARGS][512];
static char *argv_[MAX_ARGS + 1];
static char err[1024];

/* Parse args (NULL-terminated, without the program name) into opts. The
 * copies stay valid until the next call, as opts points into them. */
static int parse(const char *const *args)
{
    int argc = 0;
    snprintf(argbuf[0], sizeof(argbuf[0]), "pyserve-client");
    argv_[argc++] = argbuf[0];
    for (; args[argc - 1]; argc++) {
        ck_assert_int_lt(argc, MAX_ARGS);
        snprintf(argbuf[argc], sizeof(argbuf[argc]), "%s", args[argc - 1]);
        argv_[argc] = argbuf[argc];
    }
    argv_[argc] = NULL;
    err[0] = '\0';
    return cli_parse(argc, argv_, &opts, err, sizeof(err));
}

#define ARGS(...) ((const char *const[]){__VA_ARGS__, NULL})

struct cli_err_case {
    const char *const *args;
    const char *msg; /* a part of the expected message */
};

static const struct cli_err_case cli_err_cases[] = {
    {ARGS("-q"), "no URL given"},
    {ARGS("a", "b"), "got 2 arguments"},
    {ARGS("a", "b", "c", "d"), "got 4 arguments"},
    {ARGS("-x", "http://h/"), "unknown option -x"},
    {ARGS("--bogus", "http://h/"), "unknown option --bogus"},
    {ARGS("http://h/", "-o"), "option -o needs an argument"},
    /* an argument to an option that takes none: named as typed, not as -I */
    {ARGS("--head=x", "http://h/"), "option '--head' takes no argument"},
    {ARGS("http://h/", "--head="), "option '--head' takes no argument"},
    {ARGS("--include=1", "http://h/"), "option '--include' takes no argument"},
    {ARGS("--remote-name=f", "http://h/"), "option '--remote-name' takes no argument"},
    {ARGS("--continue=-", "http://h/"), "option '--continue' takes no argument"},
    {ARGS("--location=yes", "http://h/"), "option '--location' takes no argument"},
    {ARGS("--fail=1", "http://h/"), "option '--fail' takes no argument"},
    {ARGS("--ipv4=1", "http://h/"), "option '--ipv4' takes no argument"},
    {ARGS("--ipv6=1", "http://h/"), "option '--ipv6' takes no argument"},
    {ARGS("--verbose=2", "http://h/"), "option '--verbose' takes no argument"},
    {ARGS("--quiet=1", "http://h/"), "option '--quiet' takes no argument"},
    {ARGS("--help=all"), "option '--help' takes no argument"},
    {ARGS("--version=1"), "option '--version' takes no argument"},
    {ARGS("--incl=1", "http://h/"), "option '--incl' takes no argument"},
    {ARGS("--timeout=5", "-Zq", "http://h/"), "unknown option -Z"},
    {ARGS("--bogus=1", "http://h/"), "unknown option --bogus=1"},
    {ARGS("http://h/", "--timeout"), "option --timeout needs an argument"},
    {ARGS("h", "0", "/"), "bad port \"0\""},
    {ARGS("h", "65536", "/"), "bad port \"65536\""},
    {ARGS("h", "80a", "/"), "bad port \"80a\""},
    {ARGS("h", "-1", "/"), "unknown option -1"},
    {ARGS("h", "", "/"), "bad port \"\""},
    {ARGS("", "80", "/"), "bad host"},
    {ARGS("a/b", "80", "/"), "bad host"},
    {ARGS("[a]", "80", "/"), "brackets are for IPv6"},
    {ARGS("h", "80", "/a b"), "bad HOST PORT PATH"},
    {ARGS("https://h/"), "https is not supported"},
    {ARGS("ftp://h/"), "not an http:// URL"},
    {ARGS("http://h:99999/"), "bad URL"},
    {ARGS("http://h:0/"), "port 0"},
    {ARGS("http://h::/"), "bad URL"},
    {ARGS("http:/h/"), "bad URL \"http:/h/\": \"http:\" must be followed by \"//\""},
    {ARGS("HTTPS:/h"), "\"HTTPS:\" must be followed by \"//\""},
    {ARGS("http://:/"), "bad URL"},
    {ARGS("http://[::1]::/"), "bad URL"},
    {ARGS("http://u@h/"), "user names"},
    {ARGS("http:///x"), "no host"},
    {ARGS("-o", "a", "-O", "http://h/"), "-o and -O exclude each other"},
    {ARGS("-o", "a", "-o", "b", "http://h/"), "-o given twice"},
    {ARGS("-o", "", "http://h/"), "empty file name"},
    {ARGS("-q", "-v", "http://h/"), "-q and -v exclude each other"},
    {ARGS("-C", "-o", "-", "http://h/"), "not standard output"},
    {ARGS("-C", "-r", "0-1", "http://h/"), "-C and -r exclude each other"},
    {ARGS("-I", "-o", "f", "http://h/"), "-I has no body"},
    {ARGS("-I", "-O", "http://h/"), "-I has no body"},
    {ARGS("-I", "-C", "http://h/"), "-I has no body"},
    {ARGS("-H", "no colon", "http://h/"), "bad header \"no colon\""},
    {ARGS("-H", ": v", "http://h/"), "bad header"},
    {ARGS("-H", "Bad Name: v", "http://h/"), "bad header"},
    {ARGS("-H", "X: a\x01", "http://h/"), "control characters"},
    {ARGS("-H", "Content-Length: 5", "http://h/"), "no request body"},
    {ARGS("-H", "transfer-encoding: chunked", "http://h/"), "no request body"},
    {ARGS("--timeout", "0", "http://h/"), "bad timeout \"0\""},
    {ARGS("--timeout", "1.", "http://h/"), "bad timeout"},
    {ARGS("--timeout", "0.0000", "http://h/"), "bad timeout"}, /* zero, with a fraction */
    {ARGS("--timeout", "25h", "http://h/"), "bad timeout"},
    {ARGS("--timeout", "-3", "http://h/"), "bad timeout"},
    {ARGS("-r", "9-1", "http://h/"), "bad range \"9-1\""},
    {ARGS("-r", "", "http://h/"), "bad range"},
    {ARGS("-r", "-", "http://h/"), "bad range"},
    {ARGS("-r", "1-2,", "http://h/"), "bad range"},
    {ARGS("-r", "a-b", "http://h/"), "bad range"},
    {ARGS("-r", "1-2 ", "http://h/"), "bad range"},
    {ARGS("-r", "bytes=", "http://h/"), "bad range"},
    {ARGS("-r", "1000000000000000000-", "http://h/"), "bad range"}, /* 19 digits */
    {ARGS("http://h/\x7f"), "control characters"},
    {ARGS("http://:8080/"), "bad URL"}, /* a port, but no host */
};

START_TEST(test_cli_errors)
{
    const struct cli_err_case *t = &cli_err_cases[_i];
    int r = parse(t->args);
    ck_assert_msg(r == CLI_ERROR, "case %d: result %d, expected an error", _i, r);
    ck_assert_msg(strstr(err, t->msg) != NULL, "case %d: message \"%s\" lacks \"%s\"", _i, err,
                  t->msg);
    ck_assert_msg(strchr(err, '\n') == NULL, "case %d: message is not one line", _i);
}
END_TEST

/* An argument echoed in a message is cut (the reason after it stays in a
 * message of any size) and its control bytes escaped (an ESC would drive
 * the terminal the message goes to). */
START_TEST(test_cli_echo_shortened)
{
    static char url[20100];
    int n = snprintf(url, sizeof(url), "http://127.0.0.1:1/");
    memset(url + n, 'a', 20000);
    url[n + 20000] = '\0';
    char prog[] = "pyserve-client";
    char *av[] = {prog, url, NULL};
    char msg[1024];
    ck_assert_int_eq(cli_parse(2, av, &opts, msg, sizeof(msg)), CLI_ERROR);
    ck_assert_msg(strstr(msg, "aaa...\": URL path too long") != NULL, "%s", msg);
    ck_assert_uint_lt(strlen(msg), 200);

    ck_assert_int_eq(parse(ARGS("http://h/\x1b[31mred")), CLI_ERROR);
    ck_assert_str_eq(err, "bad URL \"http://h/\\x1b[31mred\": spaces or control characters in "
                          "the URL");
    ck_assert_int_eq(parse(ARGS("-H", "X-A: \x1b]0;t\x07", "http://h/")), CLI_ERROR);
    ck_assert_ptr_null(strchr(err, '\x1b'));
    ck_assert_ptr_nonnull(strstr(err, "\\x1b]0;t\\x07"));
    ck_assert_int_eq(parse(ARGS("h", "80", "/\x1b")), CLI_ERROR);
    ck_assert_ptr_nonnull(strstr(err, "\"/\\x1b\": "));
    ck_assert_int_eq(parse(ARGS("-\x1b", "http://h/")), CLI_ERROR);
    ck_assert_str_eq(err, "unknown option -\\x1b");
}
END_TEST

START_TEST(test_cli_url_forms)
{
    ck_assert_int_eq(parse(ARGS("http://example.org/a?b=1")), CLI_RUN);
    ck_assert_str_eq(opts.url.host, "example.org");
    ck_assert_uint_eq(opts.url.port, 80);
    ck_assert_str_eq(opts.url.target, "/a?b=1");
    ck_assert_int_eq(opts.out, CLI_OUT_AUTO);
    ck_assert_int_eq(opts.family, AF_UNSPEC);
    ck_assert_uint_eq(opts.timeout_ms, 0);
    ck_assert(!opts.head && !opts.include && !opts.verbose && !opts.quiet && !opts.resume &&
              !opts.follow && !opts.fail);

    ck_assert_int_eq(parse(ARGS("localhost:8080/x")), CLI_RUN); /* no scheme */
    ck_assert_str_eq(opts.url.host, "localhost");
    ck_assert_uint_eq(opts.url.port, 8080);
    ck_assert_str_eq(opts.url.target, "/x");

    /* a scheme is looked for before the first '/', '?' or '#' only */
    static const struct {
        const char *arg, *host, *target;
        unsigned port;
    } forms[] = {
        {"127.0.0.1:8080/p?next=http://x/y", "127.0.0.1", "/p?next=http://x/y", 8080},
        {"h?u=http://x", "h", "/?u=http://x", 80},
        {"h:81/a://b", "h", "/a://b", 81},
        {"h#frag://x", "h", "/", 80},
        {"HTTP://h/a?b=http://c", "h", "/a?b=http://c", 80},
        /* an empty port is the default one (RFC 3986 section 3.2.3) */
        {"http://h:/path", "h", "/path", 80},
        {"http://h:", "h", "/", 80},
        {"http://h:?q", "h", "/?q", 80},
        {"h:/p", "h", "/p", 80},
        {"http://[::1]:/x", "::1", "/x", 80},
        /* bytes above 0x7f go on the request line percent-encoded */
        {"http://h/caf\xc3\xa9?q=\xe2\x82\xac", "h", "/caf%C3%A9?q=%E2%82%AC", 80},
        {"h/\xff", "h", "/%FF", 80},
    };
    for (size_t i = 0; i < NELEMS(forms); i++) {
        ck_assert_msg(parse(ARGS(forms[i].arg)) == CLI_RUN, "%s: %s", forms[i].arg, err);
        ck_assert_str_eq(opts.url.host, forms[i].host);
        ck_assert_uint_eq(opts.url.port, forms[i].port);
        ck_assert_str_eq(opts.url.target, forms[i].target);
    }

    ck_assert_int_eq(parse(ARGS("http://[::1]:8080/")), CLI_RUN);
    ck_assert_str_eq(opts.url.host, "::1");
    ck_assert(opts.url.ipv6_literal);

    ck_assert_int_eq(parse(ARGS("127.0.0.1", "8080", "img.png")), CLI_RUN);
    ck_assert_str_eq(opts.url.host, "127.0.0.1");
    ck_assert_uint_eq(opts.url.port, 8080);
    ck_assert_str_eq(opts.url.target, "/img.png");

    ck_assert_int_eq(parse(ARGS("::1", "81", "/a/b")), CLI_RUN);
    ck_assert_str_eq(opts.url.host, "::1");
    ck_assert(opts.url.ipv6_literal);
    ck_assert_uint_eq(opts.url.port, 81);
    ck_assert_str_eq(opts.url.target, "/a/b");

    ck_assert_int_eq(parse(ARGS("[::1]", "65535", "/")), CLI_RUN);
    ck_assert_str_eq(opts.url.host, "::1");
    ck_assert_uint_eq(opts.url.port, 65535);
}
END_TEST

START_TEST(test_cli_options)
{
    ck_assert_int_eq(
        parse(ARGS("-I", "-i", "-v", "-L", "-f", "-4", "--timeout", "500ms", "http://h/")),
        CLI_RUN);
    ck_assert(opts.head && opts.include && opts.verbose && opts.follow && opts.fail);
    ck_assert_int_eq(opts.family, AF_INET);
    ck_assert_uint_eq(opts.timeout_ms, 500);

    ck_assert_int_eq(parse(ARGS("--head", "--include", "--quiet", "--location", "--fail", "--ipv6",
                                "--timeout=2", "http://h/")),
                     CLI_RUN);
    ck_assert(opts.head && opts.include && opts.quiet && opts.follow && opts.fail);
    ck_assert_int_eq(opts.family, AF_INET6);
    ck_assert_uint_eq(opts.timeout_ms, 2000);
    ck_assert_int_eq(parse(ARGS("--timeout", "0.25", "http://h/")), CLI_RUN);
    ck_assert_uint_eq(opts.timeout_ms, 250);

    ck_assert_int_eq(parse(ARGS("http://h/", "-o", "out.bin")), CLI_RUN); /* options after */
    ck_assert_int_eq(opts.out, CLI_OUT_FILE);
    ck_assert_str_eq(opts.out_file, "out.bin");
    ck_assert_int_eq(parse(ARGS("--output=-", "http://h/")), CLI_RUN);
    ck_assert_int_eq(opts.out, CLI_OUT_STDOUT);
    ck_assert_ptr_null(opts.out_file);
    ck_assert_int_eq(parse(ARGS("--remote-name", "http://h/")), CLI_RUN);
    ck_assert_int_eq(opts.out, CLI_OUT_REMOTE);

    /* -C alone resumes the file named after the URL; "-C -" as in curl */
    ck_assert_int_eq(parse(ARGS("-C", "http://h/f.iso")), CLI_RUN);
    ck_assert(opts.resume);
    ck_assert_int_eq(opts.out, CLI_OUT_REMOTE);
    ck_assert_int_eq(parse(ARGS("-C", "-", "http://h/f.iso")), CLI_RUN);
    ck_assert(opts.resume);
    ck_assert_str_eq(opts.url.target, "/f.iso");
    ck_assert_int_eq(parse(ARGS("--continue", "-o", "x", "http://h/f.iso")), CLI_RUN);
    ck_assert_int_eq(opts.out, CLI_OUT_FILE);
    ck_assert_int_eq(parse(ARGS("-", "http://h/")), CLI_ERROR); /* only after -C */
    /* "-C -" anywhere, as in curl: after the URL, in a bundle, with HOST PORT PATH */
    const char *const *const resume_forms[] = {
        ARGS("http://h/f.iso", "-C", "-"),   ARGS("http://h/f.iso", "--continue", "-", "-q"),
        ARGS("-qC", "-", "http://h/f.iso"),  ARGS("h", "80", "/f.iso", "-C", "-"),
        ARGS("-C", "-", "h", "80", "f.iso"),
    };
    for (size_t i = 0; i < NELEMS(resume_forms); i++) {
        ck_assert_msg(parse(resume_forms[i]) == CLI_RUN, "resume form %zu: %s", i, err);
        ck_assert(opts.resume);
        ck_assert_int_eq(opts.out, CLI_OUT_REMOTE);
        ck_assert_str_eq(opts.url.target, "/f.iso");
    }
    /* a "-" that does not follow -C is still an argument too many */
    ck_assert_int_eq(parse(ARGS("-C", "http://h/", "-")), CLI_ERROR);
    ck_assert_int_eq(parse(ARGS("http://h/", "-", "-C")), CLI_ERROR);
    ck_assert_int_eq(parse(ARGS("-Cq", "-", "http://h/")), CLI_ERROR);
    ck_assert_int_eq(parse(ARGS("-C", "-")), CLI_ERROR);
    ck_assert_str_eq(err, "no URL given");

    ck_assert_int_eq(parse(ARGS("-r", "0-99", "http://h/")), CLI_RUN);
    ck_assert_str_eq(opts.range, "0-99");
    ck_assert_int_eq(parse(ARGS("--range=bytes=5-", "http://h/")), CLI_RUN);
    ck_assert_str_eq(opts.range, "5-");
    ck_assert_int_eq(parse(ARGS("-r", "-500", "http://h/")), CLI_RUN);
    ck_assert_str_eq(opts.range, "-500");
    ck_assert_int_eq(parse(ARGS("-r", "0-1,5-9,-3,7-", "http://h/")), CLI_RUN);
    ck_assert_str_eq(opts.range, "0-1,5-9,-3,7-");
    ck_assert_int_eq(parse(ARGS("-r", "4-4", "http://h/")), CLI_RUN);
    ck_assert_int_eq(parse(ARGS("-r", "999999999999999999-", "http://h/")), CLI_RUN); /* 18 */

    ck_assert_int_eq(parse(ARGS("--help")), CLI_HELP);
    ck_assert_int_eq(parse(ARGS("-h", "http://h/")), CLI_HELP);
    ck_assert_int_eq(parse(ARGS("--version")), CLI_VERSION);
    ck_assert_int_eq(parse(ARGS("-V")), CLI_VERSION);
}
END_TEST

START_TEST(test_cli_headers)
{
    ck_assert_int_eq(
        parse(ARGS("-H", "X-A:  one two  ", "--header=Accept:", "-H", "x-b:\tv", "http://h/")),
        CLI_RUN);
    ck_assert_uint_eq(opts.nheaders, 3);
    ck_assert_uint_eq(opts.headers[0].name_len, 3);
    ck_assert(memcmp(opts.headers[0].name, "X-A", 3) == 0);
    ck_assert_uint_eq(opts.headers[0].value_len, 7);
    ck_assert(memcmp(opts.headers[0].value, "one two", 7) == 0);
    ck_assert_uint_eq(opts.headers[1].value_len, 0);
    ck_assert(memcmp(opts.headers[2].value, "v", 1) == 0);

    /* the limit */
    static const char *many[CLI_MAX_HEADERS * 2 + 8];
    size_t k = 0;
    for (int i = 0; i <= CLI_MAX_HEADERS; i++) {
        many[k++] = "-H";
        many[k++] = "X: y";
    }
    many[k++] = "http://h/";
    many[k] = NULL;
    /* parse() copies at most MAX_ARGS args: call cli_parse directly */
    char *av[CLI_MAX_HEADERS * 2 + 8];
    av[0] = (char *)"pyserve-client";
    for (size_t i = 0; i <= k; i++)
        av[i + 1] = (char *)many[i];
    ck_assert_int_eq(cli_parse((int)k + 1, av, &opts, err, sizeof(err)), CLI_ERROR);
    ck_assert_ptr_nonnull(strstr(err, "too many -H"));
}
END_TEST

/* The request target is refused, not overrun, when a percent-encoded byte
 * does not fit; the Host value is refused when it does not fit with its NUL. */
START_TEST(test_url_limits)
{
    static char url[PS_URL_TARGET_MAX + 64];
    static struct ps_url u;
    const char *why = NULL;
    for (size_t k = PS_URL_TARGET_MAX - 5; k <= PS_URL_TARGET_MAX - 4; k++) {
        int o = snprintf(url, sizeof(url), "http://h/");
        memset(url + o, 'a', k);
        strcpy(url + o + k, "\xff");
        int r = ps_url_parse(url, &u, &why);
        if (k == PS_URL_TARGET_MAX - 5) { /* "/", k bytes, "%FF": the last byte for NUL */
            ck_assert_int_eq(r, 0);
            ck_assert_uint_eq(strlen(u.target), PS_URL_TARGET_MAX - 1);
            ck_assert_str_eq(u.target + PS_URL_TARGET_MAX - 4, "%FF");
        } else {
            ck_assert_int_eq(r, -ERANGE);
            ck_assert_str_eq(why, "URL path too long");
        }
    }
    char hh[16];
    ck_assert_int_eq(ps_url_parse("http://abc/", &u, NULL), 0);
    ck_assert_int_eq(ps_url_host_header(&u, hh, 4), 3);
    ck_assert_str_eq(hh, "abc");
    ck_assert_int_eq(ps_url_host_header(&u, hh, 3), -ENOSPC);
    ck_assert_int_eq(ps_url_parse("http://[::1]:81/", &u, NULL), 0);
    ck_assert_int_eq(ps_url_host_header(&u, hh, 9), 8);
    ck_assert_str_eq(hh, "[::1]:81");
    ck_assert_int_eq(ps_url_host_header(&u, hh, 8), -ENOSPC);
}
END_TEST

/* ---- file names ------------------------------------------------------------- */

struct name_case {
    const char *in;
    size_t n; /* 0: strlen */
    const char *out;
};

static const struct name_case sanitize_cases[] = {
    {"photo.png", 0, "photo.png"},
    {"../x", 0, "x"},
    {"../../etc/passwd", 0, "passwd"},
    {"/etc/passwd", 0, "passwd"},
    {"a\\b.txt", 0, "b.txt"},
    {"C:\\Windows\\evil.exe", 0, "evil.exe"},
    {"..", 0, FNAME_FALLBACK},
    {".", 0, FNAME_FALLBACK},
    {"...", 0, FNAME_FALLBACK},
    {"", 0, FNAME_FALLBACK},
    {"dir/", 0, FNAME_FALLBACK},
    {"/", 0, FNAME_FALLBACK},
    {"   ", 0, FNAME_FALLBACK},
    {".bashrc", 0, "_bashrc"},
    {"-rf", 0, "_rf"}, /* not an option to the command it is given to */
    {"--", 0, "_-"},
    {"a-b", 0, "a-b"},
    {"..x", 0, "__x"},
    {"a..b", 0, "a..b"},
    {"a\nb", 0, "a_b"},
    {"a\rb\tc", 0, "a_b_c"},
    {"\x1b[31mred", 0, "_[31mred"},
    {"a\x7f", 0, "a_"},
    {"a\0b", 3, "a_b"},
    {"  spaced name.txt ", 0, "spaced name.txt"},
    {"caf\xc3\xa9.txt", 0, "caf\xc3\xa9.txt"},
    {"\xe6\x97\xa5\xe6\x9c\xac.png", 0, "\xe6\x97\xa5\xe6\x9c\xac.png"},
    {"\xf0\x9f\x98\x80", 0, "\xf0\x9f\x98\x80"},
    {"\xff.txt", 0, "_.txt"},
    {"\xc2\x9b"
     "1m",
     0, "__1m"},                     /* C1 CSI */
    {"\xc0\xaf", 0, "__"},           /* overlong '/' */
    {"\xe0\x80\xaf", 0, "___"},      /* overlong '/' in three bytes */
    {"\xed\xa0\x80", 0, "___"},      /* surrogate */
    {"\xe2\x82", 0, "__"},           /* cut sequence */
    {"\xf4\x90\x80\x80", 0, "____"}, /* above U+10FFFF */
    /* format characters: bidi controls, zero-width, BOM, soft hyphen, tags */
    {"evil\xe2\x80\xaetxt.exe", 0, "evil_txt.exe"}, /* U+202E RLO */
    {"a\xe2\x80\xaa\xe2\x80\xac"
     "b",
     0, "a__b"}, /* U+202A, U+202C */
    {"a\xe2\x81\xa6"
     "b\xe2\x81\xa9"
     "c",
     0, "a_b_c"},                              /* U+2066, U+2069 */
    {"\xe2\x80\x8bzw\xe2\x80\x8f", 0, "_zw_"}, /* U+200B, U+200F */
    {"\xef\xbb\xbf"
     "bom\xc2\xad",
     0, "_bom_"},                                                /* U+FEFF, U+00AD */
    {"t\xf3\xa0\x80\x81g", 0, "t_g"},                            /* U+E0001 */
    {"\xe2\x80\x90\xe2\x81\xb0", 0, "\xe2\x80\x90\xe2\x81\xb0"}, /* U+2010, U+2070 kept */
};

START_TEST(test_fname_sanitize)
{
    const struct name_case *t = &sanitize_cases[_i];
    char out[FNAME_BUF];
    size_t n = t->n ? t->n : strlen(t->in);
    size_t len = fname_sanitize(t->in, n, out, sizeof(out));
    ck_assert_msg(strcmp(out, t->out) == 0, "case %d: got \"%s\", expected \"%s\"", _i, out,
                  t->out);
    ck_assert_uint_eq(len, strlen(out));
}
END_TEST

/* Properties every sanitised name has, whatever the input. */
static void assert_safe_name(const char *s)
{
    size_t n = strlen(s);
    ck_assert_uint_gt(n, 0);
    ck_assert_uint_le(n, FNAME_MAX);
    ck_assert_msg(s[0] != '.', "\"%s\" starts with a dot", s);
    ck_assert_msg(s[0] != '-', "\"%s\" starts with a dash", s);
    ck_assert_msg(!strchr(s, '/'), "\"%s\" has a slash", s);
    for (size_t i = 0; i < n; i++)
        ck_assert_msg((unsigned char)s[i] >= 0x20 && s[i] != 0x7f, "\"%s\": control byte at %zu", s,
                      i);
}

START_TEST(test_fname_long)
{
    char in[600], out[FNAME_BUF];
    memset(in, 'a', 300);
    strcpy(in + 300, ".png");
    size_t n = fname_sanitize(in, strlen(in), out, sizeof(out));
    ck_assert_uint_eq(n, FNAME_MAX);
    ck_assert_str_eq(out + n - 4, ".png");
    assert_safe_name(out);

    /* 2-byte characters: the cut never splits one */
    size_t o = 0;
    for (int i = 0; i < 150; i++) {
        in[o++] = '\xc3';
        in[o++] = '\xa9';
    }
    strcpy(in + o, "x.txt");
    n = fname_sanitize(in, strlen(in), out, sizeof(out));
    ck_assert_uint_le(n, FNAME_MAX);
    ck_assert_str_eq(out + n - 4, ".txt");
    for (size_t i = 0; i + 4 < n; i += 2)
        ck_assert_msg((unsigned char)out[i] == 0xc3 && (unsigned char)out[i + 1] == 0xa9,
                      "split UTF-8 at %zu", i);

    /* one byte too long: cut to FNAME_MAX */
    memset(in, 'a', FNAME_MAX + 1);
    in[FNAME_MAX + 1] = '\0';
    n = fname_sanitize(in, strlen(in), out, sizeof(out));
    ck_assert_uint_eq(n, FNAME_MAX);

    /* an extension of 16 bytes with its dot is kept, one of 17 is not */
    memset(in, 'b', 300);
    strcpy(in + 300, ".abcdefghijklmno");
    n = fname_sanitize(in, strlen(in), out, sizeof(out));
    ck_assert_uint_eq(n, FNAME_MAX);
    ck_assert_str_eq(out + n - 16, ".abcdefghijklmno");
    strcpy(in + 300, ".abcdefghijklmnop");
    n = fname_sanitize(in, strlen(in), out, sizeof(out));
    ck_assert_uint_eq(n, FNAME_MAX);
    ck_assert_ptr_null(strchr(out, '.'));

    /* a long extension is not kept */
    memset(in, 'b', 250);
    in[250] = '.';
    memset(in + 251, 'e', 40);
    in[291] = '\0';
    n = fname_sanitize(in, strlen(in), out, sizeof(out));
    ck_assert_uint_eq(n, FNAME_MAX);
    ck_assert_int_eq(out[0], 'b');

    /* too long to be taken in whole: the extension is still kept */
    static char big[1600];
    memset(big, 'L', 1500);
    strcpy(big + 1500, ".png");
    n = fname_sanitize(big, strlen(big), out, sizeof(out));
    ck_assert_uint_eq(n, FNAME_MAX);
    ck_assert_str_eq(out + n - 4, ".png");
    o = 0;
    for (int i = 0; i < 400; i++) { /* U+20AC, 3 bytes each */
        memcpy(big + o, "\xe2\x82\xac", 3);
        o += 3;
    }
    strcpy(big + o, ".png");
    n = fname_sanitize(big, strlen(big), out, sizeof(out));
    ck_assert_uint_le(n, FNAME_MAX);
    ck_assert_str_eq(out + n - 4, ".png");
    ck_assert_uint_eq((n - 4) % 3, 0); /* whole characters */

    /* every byte value alone, and around a dot */
    for (int c = 0; c < 256; c++) {
        char one[3] = {(char)c, '.', (char)c};
        fname_sanitize(one, 1, out, sizeof(out));
        assert_safe_name(out);
        fname_sanitize(one, 3, out, sizeof(out));
        assert_safe_name(out);
    }
}
END_TEST

static const struct name_case target_cases[] = {
    {"/a/b.png?x=1", 0, "b.png"},
    {"/b.png?x=/y.gif", 0, "b.png"},
    {"/", 0, FNAME_FALLBACK},
    {"/dir/", 0, FNAME_FALLBACK},
    {"/a%20b.txt", 0, "a b.txt"},
    {"/..%2F..%2Fetc%2Fpasswd", 0, "passwd"},
    {"/x%2f..", 0, FNAME_FALLBACK},
    {"/%2e%2e", 0, FNAME_FALLBACK},
    {"/%2E%2Ebashrc", 0, "__bashrc"},
    {"/x%00y", 0, "x_y"},
    {"/x%0ay", 0, "x_y"},
    {"/%zz.txt", 0, "%zz.txt"},
    {"/a.txt%", 0, "a.txt%"},
    {"/a.txt%4", 0, "a.txt%4"},
    {"/caf%C3%A9.txt", 0, "caf\xc3\xa9.txt"},
    {"/%5C..%5Cwin.ini", 0, "win.ini"},
};

START_TEST(test_fname_target)
{
    const struct name_case *t = &target_cases[_i];
    char out[FNAME_BUF];
    fname_from_target(t->in, out, sizeof(out));
    ck_assert_msg(strcmp(out, t->out) == 0, "case %d \"%s\": got \"%s\", expected \"%s\"", _i,
                  t->in, out, t->out);
}
END_TEST

static const struct name_case cd_cases[] = {
    {"attachment; filename=\"x.png\"", 0, "x.png"},
    {"attachment; filename=x.png", 0, "x.png"},
    {"attachment;filename=x.png;size=3", 0, "x.png"},
    {"attachment; filename = \"sp.txt\" ", 0, "sp.txt"},
    {"attachment; filename=\"../../etc/passwd\"", 0, "passwd"},
    {"attachment; filename=\"/etc/passwd\"", 0, "passwd"},
    {"attachment; filename=\"..\"", 0, FNAME_FALLBACK},
    {"attachment; filename=\".profile\"", 0, "_profile"},
    {"attachment; filename=\"a\\\"b.txt\"", 0, "a\"b.txt"},
    {"attachment; filename=\"x\x01y\"", 0, "x_y"},
    {"attachment; FILENAME=\"Up.TXT\"", 0, "Up.TXT"},
    {"attachment; foo=bar; filename=z.bin", 0, "z.bin"},
    {"attachment; foo=\"a;filename=no\"; filename=yes", 0, "yes"},
    {"attachment; filename*=UTF-8''caf%C3%A9.txt", 0, "caf\xc3\xa9.txt"},
    {"attachment; filename=\"plain.txt\"; filename*=utf-8''better.txt", 0, "better.txt"},
    {"attachment; filename*=UTF-8'en'%2E%2E%2Fx", 0, "x"},
    {"attachment; filename*=iso-8859-1'en'caf%E9.txt", 0, "caf\xc3\xa9.txt"},
    {"attachment; filename*=koi8-r''x.txt; filename=y.txt", 0, "y.txt"},
    {"inline; filename=page.html", 0, "page.html"},
    {"attachment; filename=first.txt; filename=second.txt", 0, "first.txt"},
};

START_TEST(test_fname_disposition)
{
    const struct name_case *t = &cd_cases[_i];
    char out[FNAME_BUF];
    ck_assert_msg(fname_from_disposition(t->in, strlen(t->in), out, sizeof(out)), "case %d", _i);
    ck_assert_msg(strcmp(out, t->out) == 0, "case %d: got \"%s\", expected \"%s\"", _i, out,
                  t->out);
}
END_TEST

START_TEST(test_fname_disposition_none)
{
    static const char *const none[] = {
        "attachment",
        "inline",
        "",
        "attachment; filename=\"\"",
        "attachment; filename=\"unterminated",
        "attachment; filename*=koi8-r''x.txt",
        "attachment; filename*=nocharset",
        "attachment; name=x.png",
        "attachment; filenamex=x.png",
    };
    char out[FNAME_BUF];
    for (size_t i = 0; i < NELEMS(none); i++)
        ck_assert_msg(!fname_from_disposition(none[i], strlen(none[i]), out, sizeof(out)),
                      "\"%s\" gave \"%s\"", none[i], out);
    /* the length is respected: the filename parameter is past n */
    const char *v = "attachment; filename=x.png";
    ck_assert(!fname_from_disposition(v, 10, out, sizeof(out)));
}
END_TEST

/* Names far longer than a file name may be keep their extension, from a
 * URL path and from Content-Disposition (plain, quoted and RFC 8187). */
START_TEST(test_fname_long_sources)
{
    static char in[8192]; /* the longest form: 1000 escapes of 6 bytes */
    char out[FNAME_BUF];
    int o = snprintf(in, sizeof(in), "/dir/");
    memset(in + o, 'L', 1500);
    strcpy(in + o + 1500, ".png?x=1");
    size_t n = fname_from_target(in, out, sizeof(out));
    ck_assert_uint_eq(n, FNAME_MAX);
    ck_assert_str_eq(out + n - 4, ".png");

    static const char *const forms[] = {"attachment; filename=", "attachment; filename=\"",
                                        "attachment; filename*=UTF-8''"};
    for (size_t f = 0; f < NELEMS(forms); f++) {
        o = snprintf(in, sizeof(in), "%s", forms[f]);
        for (int i = 0; i < 1000; i++)
            o += snprintf(in + o, sizeof(in) - (size_t)o, f == 2 ? "%%C3%%A9" : "M");
        o += snprintf(in + o, sizeof(in) - (size_t)o, f == 1 ? ".tar\"" : ".tar");
        ck_assert(fname_from_disposition(in, (size_t)o, out, sizeof(out)));
        n = strlen(out);
        ck_assert_msg(n > 4 && strcmp(out + n - 4, ".tar") == 0, "form %zu: \"%s\"", f, out);
        assert_safe_name(out);
    }
}
END_TEST

START_TEST(test_fname_numbered)
{
    char out[FNAME_BUF];
    ck_assert_int_eq(fname_numbered("a.png", 0, out, sizeof(out)), 0);
    ck_assert_str_eq(out, "a.png");
    ck_assert_int_eq(fname_numbered("a.png", 1, out, sizeof(out)), 0);
    ck_assert_str_eq(out, "a(1).png");
    ck_assert_int_eq(fname_numbered("a.png", 999, out, sizeof(out)), 0);
    ck_assert_str_eq(out, "a(999).png");
    ck_assert_int_eq(fname_numbered("README", 2, out, sizeof(out)), 0);
    ck_assert_str_eq(out, "README(2)");
    ck_assert_int_eq(fname_numbered("a.tar.gz", 1, out, sizeof(out)), 0);
    ck_assert_str_eq(out, "a.tar(1).gz");
    ck_assert_int_eq(fname_numbered("a.png", 1, out, 9), 0); /* "a(1).png" and NUL */
    ck_assert_int_eq(fname_numbered("a.png", 1, out, 8), -1);
    ck_assert_int_eq(fname_numbered("a.png", 10, out, 9), -1);
    ck_assert_int_eq(fname_numbered(".x", 1, out, sizeof(out)), 0); /* a leading dot is no ext */
    ck_assert_str_eq(out, ".x(1)");
}
END_TEST

/* ---- text or binary ----------------------------------------------------------- */

struct sniff_case {
    const char *ctype; /* NULL: no field */
    const char *body;
    size_t n; /* 0: strlen */
    enum body_kind kind;
};

static const struct sniff_case sniff_cases[] = {
    {"text/plain", "hello\n", 0, BODY_TEXT},
    {"text/html; charset=utf-8", "<p>", 0, BODY_TEXT},
    {"TEXT/PLAIN", "x", 0, BODY_TEXT},
    {" text/css ", "x", 0, BODY_TEXT},
    {"text/plain", "a\0b", 3, BODY_BINARY},
    {"text/plain; charset=utf-16", "\xff\xfeh\0i\0", 6, BODY_BINARY},
    {"text/plain", "a\x01\x02", 0, BODY_TEXT}, /* the type says text: only NUL counts */
    {"application/json", "{}", 0, BODY_TEXT},
    {"application/problem+json", "{}", 0, BODY_TEXT},
    {"application/xhtml+xml", "<x/>", 0, BODY_TEXT},
    {"application/javascript", "x", 0, BODY_TEXT},
    {"application/x-sh", "echo", 0, BODY_TEXT},
    {"image/png", "\x89PNG", 0, BODY_BINARY},
    {"image/svg+xml", "<svg/>", 0, BODY_BINARY},
    {"image/png", "plain text", 0, BODY_BINARY},
    {"application/octet-stream", "text", 0, BODY_BINARY},
    {"application/pdf", "%PDF", 0, BODY_BINARY},
    {"application/zip", "PK", 0, BODY_BINARY},
    {"video/mp4", "x", 0, BODY_BINARY},
    {"audio/ogg", "x", 0, BODY_BINARY},
    {"font/woff2", "x", 0, BODY_BINARY},
    {"nonsense", "hello", 0, BODY_BINARY},
    {"text/", "hello", 0, BODY_BINARY},
    {NULL, "hello\n", 0, BODY_TEXT},
    {NULL, "", 0, BODY_TEXT},
    {"", "hello", 0, BODY_TEXT},
    {"  ;charset=x", "hello", 0, BODY_TEXT},
    {NULL, "\x1b[31mred\x1b[0m\r\n\t\f\v", 0, BODY_TEXT},
    {NULL, "\x89PNG\r\n\x1a\n", 0, BODY_BINARY},
    {NULL, "a\x01", 0, BODY_BINARY},
    {NULL, "a\0", 2, BODY_BINARY},
    {NULL, "caf\xc3\xa9", 0, BODY_TEXT},
};

START_TEST(test_sniff)
{
    const struct sniff_case *t = &sniff_cases[_i];
    size_t n = t->n ? t->n : strlen(t->body);
    enum body_kind k =
        sniff_body(t->ctype, t->ctype ? strlen(t->ctype) : 0, (const unsigned char *)t->body, n);
    ck_assert_msg(k == t->kind, "case %d (%s): got %d", _i, t->ctype ? t->ctype : "no type", k);
}
END_TEST

START_TEST(test_sniff_window)
{
    static unsigned char body[SNIFF_BYTES + 1];
    memset(body, 'a', sizeof(body));
    body[SNIFF_BYTES] = 0; /* just past the window */
    ck_assert_int_eq(sniff_body("text/plain", 10, body, sizeof(body)), BODY_TEXT);
    body[SNIFF_BYTES - 1] = 0; /* the last byte looked at */
    ck_assert_int_eq(sniff_body("text/plain", 10, body, sizeof(body)), BODY_BINARY);
    /* the type length is respected */
    ck_assert_int_eq(sniff_body("image/png", 0, (const unsigned char *)"x", 1), BODY_TEXT);
    ck_assert_int_eq(sniff_body("text/plainXimage/png", 10, (const unsigned char *)"x", 1),
                     BODY_TEXT);
    /* the test of later pieces: the whole piece, past the window too */
    ck_assert(sniff_bytes_binary(body, sizeof(body), true));
    memset(body, 'a', sizeof(body));
    ck_assert(!sniff_bytes_binary(body, sizeof(body), false));
    body[SNIFF_BYTES] = 0x01;
    ck_assert(!sniff_bytes_binary(body, sizeof(body), true)); /* typed: NUL only */
    ck_assert(sniff_bytes_binary(body, sizeof(body), false));
    ck_assert(!sniff_bytes_binary((const unsigned char *)"\t\n\v\f\r\x1b[0m", 9, false));
}
END_TEST

/* ---- Content-Range and --continue --------------------------------------------- */

struct cr_case {
    const char *v;
    int ret;
    bool unsatisfied, complete_known;
    uint64_t first, last, complete;
};

static const struct cr_case cr_cases[] = {
    {"bytes 0-99/1000", 0, false, true, 0, 99, 1000},
    {"bytes 100-199/*", 0, false, false, 100, 199, 0},
    {"bytes */1000", 0, true, true, 0, 0, 1000},
    {"BYTES 0-0/1", 0, false, true, 0, 0, 1},
    {" bytes 5-9/10 ", 0, false, true, 5, 9, 10},
    {"bytes 999999999999999998-999999999999999998/999999999999999999", 0, false, true,
     999999999999999998ull, 999999999999999998ull, 999999999999999999ull},
    {"bytes 5-4/10", -EINVAL, false, false, 0, 0, 0},
    {"bytes 0-10/10", -EINVAL, false, false, 0, 0, 0},
    {"bytes 0-9", -EINVAL, false, false, 0, 0, 0},
    {"bytes 0-9/", -EINVAL, false, false, 0, 0, 0},
    {"items 0-9/10", -EINVAL, false, false, 0, 0, 0},
    {"bytes=0-9/10", -EINVAL, false, false, 0, 0, 0},
    {"bytes 0-9/10x", -EINVAL, false, false, 0, 0, 0},
    {"bytes -9/10", -EINVAL, false, false, 0, 0, 0},
    {"bytes */*", -EINVAL, false, false, 0, 0, 0},
    {"bytes 0-9/ 10", -EINVAL, false, false, 0, 0, 0},
    {"bytes  0-9/10", -EINVAL, false, false, 0, 0, 0},
    {"bytes 99999999999999999999-1/2", -EINVAL, false, false, 0, 0, 0},
    {"bytes", -EINVAL, false, false, 0, 0, 0},
    {"bytes */10x", -EINVAL, false, false, 0, 0, 0},
    {"", -EINVAL, false, false, 0, 0, 0},
};

START_TEST(test_content_range)
{
    const struct cr_case *t = &cr_cases[_i];
    struct content_range cr;
    memset(&cr, 0xaa, sizeof(cr));
    int r = content_range_parse(t->v, strlen(t->v), &cr);
    ck_assert_msg(r == t->ret, "case %d \"%s\": %d", _i, t->v, r);
    if (r != 0)
        return;
    ck_assert(cr.unsatisfied == t->unsatisfied);
    ck_assert(cr.complete_known == t->complete_known);
    if (!t->unsatisfied) {
        ck_assert_uint_eq(cr.first, t->first);
        ck_assert_uint_eq(cr.last, t->last);
    }
    if (t->complete_known)
        ck_assert_uint_eq(cr.complete, t->complete);
}
END_TEST

struct resume_case {
    int status;
    uint64_t offset;
    const char *cr; /* NULL: no field */
    uint64_t len;
    enum resume_verdict v;
};

static const struct resume_case resume_cases[] = {
    {206, 100, "bytes 100-199/200", 100, RESUME_APPEND},
    {206, 100, "bytes 100-199/200", UINT64_MAX, RESUME_APPEND},
    {206, 100, "bytes 100-149/200", 50, RESUME_APPEND}, /* a part of the rest */
    {206, 100, "bytes 100-199/*", 100, RESUME_APPEND},
    {206, 100, "bytes 0-199/200", 200, RESUME_MISMATCH},
    {206, 100, "bytes 101-199/200", 99, RESUME_MISMATCH},
    {206, 100, NULL, 100, RESUME_MISMATCH},
    {206, 100, "bytes 100-199/200", 50, RESUME_BAD_LENGTH}, /* length disagrees */
    {206, 100, "bytes 100-199/*", 101, RESUME_BAD_LENGTH},
    {206, 100, "bytes 101-199/200", 50, RESUME_MISMATCH}, /* start first */
    {206, 100, "bytes */200", 0, RESUME_MISMATCH},
    {206, 100, "garbage", 100, RESUME_MISMATCH},
    {200, 100, NULL, 200, RESUME_IGNORED},
    {200, 100, "bytes 100-199/200", 100, RESUME_IGNORED},
    {203, 100, NULL, 200, RESUME_IGNORED},
    {416, 100, "bytes */100", 0, RESUME_COMPLETE},
    {416, 100, "bytes */50", 0, RESUME_UNSATISFIED},
    {416, 100, NULL, 0, RESUME_UNSATISFIED},
    {416, 100, "bytes */150", 0, RESUME_UNSATISFIED},    /* the file is shorter: not complete */
    {416, 100, "bytes 0-99/100", 0, RESUME_UNSATISFIED}, /* a 416 says "*" */
    {206, 0, "bytes */200", 0, RESUME_MISMATCH},
    {101, 100, NULL, 0, RESUME_OTHER},
    {404, 100, NULL, 10, RESUME_OTHER},
    {301, 100, NULL, 10, RESUME_OTHER},
    {500, 100, "bytes 100-199/200", 100, RESUME_OTHER},
};

START_TEST(test_resume_check)
{
    const struct resume_case *t = &resume_cases[_i];
    enum resume_verdict v =
        resume_check(t->status, t->offset, t->cr, t->cr ? strlen(t->cr) : 0, t->len);
    ck_assert_msg(v == t->v, "case %d: got %d, expected %d", _i, v, t->v);
}
END_TEST

struct unasked_case {
    const char *cr; /* NULL: no field */
    uint64_t len;
    bool ok;
};

/* a 206 to a request without Range: the whole resource only */
static const struct unasked_case unasked_cases[] = {
    {"bytes 0-999/1000", 1000, true},
    {"bytes 0-999/1000", UINT64_MAX, true}, /* chunked or until close */
    {"bytes 0-0/1", 1, true},
    {"bytes 500-599/1000", 100, false}, /* the case that scrambled -C files */
    {"bytes 0-99/1000", 100, false},    /* only the start: saved as if whole */
    {"bytes 0-999/*", 1000, false},     /* whole or not: cannot tell */
    {"bytes 0-999/1000", 999, false},   /* the length disagrees */
    {"bytes */1000", 0, false},
    {"bytes 500-999/1000", UINT64_MAX, false}, /* the end, of unknown length */
    {"bytes 0-99/1000", UINT64_MAX, false},    /* the start, of unknown length */
    {"garbage", 10, false},
    {NULL, 10, false},
};

START_TEST(test_range_unasked)
{
    const struct unasked_case *t = &unasked_cases[_i];
    bool ok = range_unasked_whole(t->cr, t->cr ? strlen(t->cr) : 0, t->len);
    ck_assert_msg(ok == t->ok, "case %d: got %d", _i, ok);
}
END_TEST

/* ---- progress ------------------------------------------------------------------- */

START_TEST(test_progress_size_time)
{
    static const struct {
        uint64_t v;
        const char *s;
    } sizes[] = {
        {0, "0 B"},
        {1023, "1023 B"},
        {1024, "1.0 KiB"},
        {1536, "1.5 KiB"},
        {1048575, "1023.9 KiB"},
        {1048576, "1.0 MiB"},
        {5ull << 30, "5.0 GiB"},
        {UINT64_MAX, "15.9 EiB"},
    };
    static const struct {
        uint64_t v;
        const char *s;
    } times[] = {
        {0, "0:00"},          {7, "0:07"},       {754, "12:34"},
        {3599, "59:59"},      {3600, "1:00:00"}, {3723, "1:02:03"},
        {359999, "99:59:59"}, {360000, ">99h"},  {UINT64_MAX, "--:--"},
    };
    char buf[32];
    for (size_t i = 0; i < NELEMS(sizes); i++) {
        progress_size(sizes[i].v, buf, sizeof(buf));
        ck_assert_str_eq(buf, sizes[i].s);
    }
    for (size_t i = 0; i < NELEMS(times); i++) {
        progress_time(times[i].v, buf, sizeof(buf));
        ck_assert_str_eq(buf, times[i].s);
    }
}
END_TEST

static size_t count(const char *s, char c)
{
    size_t n = 0;
    for (; *s; s++)
        n += *s == c;
    return n;
}

START_TEST(test_progress_format)
{
    char line[512];
    /* half of 1 MiB in 1 s: 512 KiB/s, 1 s left */
    size_t n = progress_format(line, sizeof(line), 80, 512 * 1024, 1024 * 1024, 1000, false);
    ck_assert_uint_eq(n, strlen(line));
    ck_assert_uint_le(n, 79);
    ck_assert_msg(line[0] == '[', "%s", line);
    ck_assert_ptr_nonnull(strstr(line, "]  50% 512.0 KiB / 1.0 MiB  512.0 KiB/s  ETA 0:01"));
    const char *close = strchr(line, ']');
    size_t inner = (size_t)(close - line - 1);
    ck_assert_uint_eq(count(line, '='), inner / 2);
    ck_assert_uint_eq(count(line, '>'), 1);

    /* done: 100 %, the time taken */
    progress_format(line, sizeof(line), 80, 1024 * 1024, 1024 * 1024, 2000, true);
    ck_assert_ptr_nonnull(strstr(line, " 100% 1.0 MiB / 1.0 MiB  512.0 KiB/s  in 0:02"));
    ck_assert_ptr_null(strchr(line, '>'));

    /* unknown length: bytes, rate, time so far; no bar */
    n = progress_format(line, sizeof(line), 80, 2 * 1024 * 1024, UINT64_MAX, 2000, false);
    ck_assert_str_eq(line, "2.0 MiB  1.0 MiB/s  0:02");

    /* no time yet: no rate, no estimate */
    progress_format(line, sizeof(line), 80, 0, 1024 * 1024, 0, false);
    ck_assert_ptr_nonnull(strstr(line, "  0% 0 B / 1.0 MiB  --/s  ETA --:--"));

    /* more than announced, or an empty body */
    progress_format(line, sizeof(line), 80, 200, 100, 1000, false);
    ck_assert_ptr_nonnull(strstr(line, " 100% "));
    progress_format(line, sizeof(line), 80, 0, 0, 1000, true);
    ck_assert_ptr_nonnull(strstr(line, " 100% "));

    /* narrow terminals: never wider than width - 1 */
    for (unsigned w = 1; w <= 120; w++) {
        n = progress_format(line, sizeof(line), w, 3 * 1024 * 1024, 7 * 1024 * 1024, 1500, false);
        ck_assert_uint_eq(n, strlen(line));
        ck_assert_msg(n <= (w > 1 ? w - 1 : 0), "width %u: %zu columns", w, n);
    }
    /* the bar: at least 10 wide, at most 50 */
    bool wide = false;
    for (unsigned w = 1; w <= 300; w++) {
        progress_format(line, sizeof(line), w, 3 * 1024 * 1024, 7 * 1024 * 1024, 1500, false);
        if (line[0] != '[')
            continue;
        size_t in = (size_t)(strchr(line, ']') - line - 1);
        ck_assert_msg(in >= 10 && in <= 50, "width %u: bar of %zu", w, in);
        wide |= in == 50;
    }
    ck_assert(wide);

    /* the estimate rounds up: 501 bytes left at 500 B/s are 2 s */
    progress_format(line, sizeof(line), 80, 500, 1001, 1000, false);
    ck_assert_msg(strstr(line, "ETA 0:02") != NULL, "%s", line);
    /* sizes where done * 100 and done * 1000 overflow */
    progress_format(line, sizeof(line), 80, UINT64_C(1) << 62, UINT64_C(1) << 63, 1000, false);
    ck_assert_msg(strstr(line, " 50% 4.0 EiB / 8.0 EiB  3.9 EiB/s") != NULL, "%s", line);

    /* a small buffer is respected */
    char tiny[8];
    memset(tiny, 'X', sizeof(tiny));
    n = progress_format(tiny, 5, 80, 1, 2, 3, false);
    ck_assert_uint_eq(n, 4);
    ck_assert_int_eq(tiny[4], '\0');
    ck_assert_int_eq(tiny[5], 'X');
}
END_TEST

/* ---- messages ------------------------------------------------------------------ */

START_TEST(test_escape_text)
{
    char out[16];
    escape_text("a\"b\\c", 5, 80, out, sizeof(out));
    ck_assert_str_eq(out, "a\\\"b\\\\c");
    escape_text("abc", 3, 3, out, sizeof(out)); /* exactly max: nothing cut */
    ck_assert_str_eq(out, "abc");
    escape_text("abcd", 4, 3, out, sizeof(out));
    ck_assert_str_eq(out, "abc...");
    /* an escape that does not fit whole is left out; nothing past outsz */
    memset(out, 'X', sizeof(out));
    escape_text("\x01\x01", 2, 80, out, 6);
    ck_assert_str_eq(out, "\\x01");
    for (size_t i = 6; i < sizeof(out); i++)
        ck_assert_int_eq(out[i], 'X');
}
END_TEST

/* ---- redirects ---------------------------------------------------------------- */

struct redir_case {
    const char *loc;
    int ret;
    const char *host;
    unsigned port;
    const char *target;
};

static const struct redir_case redir_cases[] = {
    {"http://x/y", 0, "x", 80, "/y"},
    {"HTTP://X:81", 0, "X", 81, "/"},
    {"//other:81/p?q", 0, "other", 81, "/p?q"},
    {"/abs", 0, "h", 8080, "/abs"},
    {"rel", 0, "h", 8080, "/a/b/rel"},
    {"../up", 0, "h", 8080, "/a/up"},
    {"../../../../x", 0, "h", 8080, "/x"},
    {"./", 0, "h", 8080, "/a/b/"},
    {".", 0, "h", 8080, "/a/b/"},
    {"..", 0, "h", 8080, "/a/"},
    {"?z=2", 0, "h", 8080, "/a/b/c?z=2"},
    {"d?e=1#frag", 0, "h", 8080, "/a/b/d?e=1"},
    {"/a/./b/../c", 0, "h", 8080, "/a/c"},
    {"/..", 0, "h", 8080, "/"},
    {"/a//..", 0, "h", 8080, "/a/"},
    {"/x/../../y/.", 0, "h", 8080, "/y/"},
    {"  /sp  ", 0, "h", 8080, "/sp"},
    {"/caf\xc3\xa9", 0, "h", 8080, "/caf%C3%A9"},
    {"/a b", 0, "h", 8080, "/a%20b"},
    {"http://[::1]:9/z", 0, "::1", 9, "/z"},
    {"http://x:/e", 0, "x", 80, "/e"},
    {"//x:/e", 0, "x", 80, "/e"},
    /* dot segments are removed from absolute and network-path references
     * too (RFC 3986 section 5.2.2), not from the query */
    {"http://x/a/../b/./c", 0, "x", 80, "/b/c"},
    {"http://x:81/..", 0, "x", 81, "/"},
    {"HTTP://x/a/.", 0, "x", 80, "/a/"},
    {"//x/a/./../y/..?q=/../z", 0, "x", 80, "/?q=/../z"},
    {"//x/../../etc/passwd", 0, "x", 80, "/etc/passwd"},
    {"/p/../q?r=./..", 0, "h", 8080, "/q?r=./.."},
    {"https://x/", -EPROTONOSUPPORT, NULL, 0, NULL},
    {"ftp://x/", -EPROTONOSUPPORT, NULL, 0, NULL},
    {"javascript:alert(1)", -EPROTONOSUPPORT, NULL, 0, NULL},
    {"http:foo", -EINVAL, NULL, 0, NULL},
    {"", -EINVAL, NULL, 0, NULL},
    {"   ", -EINVAL, NULL, 0, NULL},
    {"#only", -EINVAL, NULL, 0, NULL},
    {"/x\x01", -EINVAL, NULL, 0, NULL},
    {"http://u@x/", -EINVAL, NULL, 0, NULL},
    {"http://x:99999/", -ERANGE, NULL, 0, NULL},
};

START_TEST(test_redirect)
{
    const struct redir_case *t = &redir_cases[_i];
    struct ps_url base, out;
    const char *why = NULL;
    ck_assert_int_eq(ps_url_parse("http://h:8080/a/b/c?q=1", &base, NULL), 0);
    int r = redirect_resolve(&base, t->loc, strlen(t->loc), &out, &why);
    ck_assert_msg(r == t->ret, "case %d \"%s\": %d (%s)", _i, t->loc, r, why ? why : "");
    if (r != 0) {
        ck_assert_ptr_nonnull(why);
        return;
    }
    ck_assert_str_eq(out.host, t->host);
    ck_assert_uint_eq(out.port, t->port);
    ck_assert_msg(strcmp(out.target, t->target) == 0, "case %d \"%s\": target \"%s\"", _i, t->loc,
                  out.target);
}
END_TEST

START_TEST(test_redirect_ipv6_base)
{
    struct ps_url base, out;
    ck_assert_int_eq(ps_url_parse("http://[::1]:8080/dir/", &base, NULL), 0);
    ck_assert_int_eq(redirect_resolve(&base, "f", 1, &out, NULL), 0);
    ck_assert_str_eq(out.host, "::1");
    ck_assert(out.ipv6_literal);
    ck_assert_uint_eq(out.port, 8080);
    ck_assert_str_eq(out.target, "/dir/f");
    /* the length is respected */
    ck_assert_int_eq(redirect_resolve(&base, "/abcdef", 2, &out, NULL), 0);
    ck_assert_str_eq(out.target, "/a");

    ck_assert(redirect_status(301) && redirect_status(302) && redirect_status(303) &&
              redirect_status(307) && redirect_status(308));
    ck_assert(!redirect_status(300) && !redirect_status(304) && !redirect_status(305) &&
              !redirect_status(200) && !redirect_status(309));

    /* a Location is refused when it might not fit once encoded */
    static char loc[PS_URL_TARGET_MAX];
    loc[0] = '/';
    memset(loc + 1, 'a', PS_URL_TARGET_MAX - 4);
    ck_assert_int_eq(redirect_resolve(&base, loc, PS_URL_TARGET_MAX - 3, &out, NULL), 0);
    ck_assert_uint_eq(strlen(out.target), PS_URL_TARGET_MAX - 3);
    loc[PS_URL_TARGET_MAX - 3] = 'a';
    ck_assert_int_eq(redirect_resolve(&base, loc, PS_URL_TARGET_MAX - 2, &out, NULL), -ERANGE);
}
END_TEST

/* ---- request heads ------------------------------------------------------------ */

START_TEST(test_request_default)
{
    char buf[REQUEST_MAX];
    ck_assert_int_eq(parse(ARGS("http://h:8080/x?y")), CLI_RUN);
    int n = request_build(buf, sizeof(buf), "GET", &opts.url, &opts, 0, true);
    ck_assert_int_gt(n, 0);
    ck_assert_str_eq(
        buf, "GET /x?y HTTP/1.1\r\nHost: h:8080\r\nUser-Agent: pyserve-client/" PACKAGE_VERSION
             "\r\nAccept: */*\r\nConnection: close\r\n\r\n");
    ck_assert_uint_eq((size_t)n, strlen(buf));

    ck_assert_int_eq(parse(ARGS("-I", "http://[::1]/")), CLI_RUN);
    request_build(buf, sizeof(buf), "HEAD", &opts.url, &opts, 0, true);
    ck_assert(strncmp(buf, "HEAD / HTTP/1.1\r\nHost: [::1]\r\n", 30) == 0);

    /* too small, by the NUL alone or more */
    n = request_build(buf, sizeof(buf), "GET", &opts.url, &opts, 0, true);
    ck_assert_int_eq(request_build(buf, (size_t)n + 1, "GET", &opts.url, &opts, 0, true), n);
    ck_assert_int_eq(request_build(buf, (size_t)n, "GET", &opts.url, &opts, 0, true), -ENOSPC);
    ck_assert_int_eq(request_build(buf, 40, "GET", &opts.url, &opts, 0, true), -ENOSPC);
    ck_assert_int_eq(request_build(buf, 0, "GET", &opts.url, &opts, 0, true), -ENOSPC);
}
END_TEST

START_TEST(test_request_ranges_and_fields)
{
    char buf[REQUEST_MAX];
    ck_assert_int_eq(parse(ARGS("-r", "0-99", "http://h/")), CLI_RUN);
    request_build(buf, sizeof(buf), "GET", &opts.url, &opts, 0, true);
    ck_assert_ptr_nonnull(strstr(buf, "\r\nRange: bytes=0-99\r\n"));

    ck_assert_int_eq(parse(ARGS("-C", "http://h/f")), CLI_RUN);
    request_build(buf, sizeof(buf), "GET", &opts.url, &opts, 12345, true);
    ck_assert_ptr_nonnull(strstr(buf, "\r\nRange: bytes=12345-\r\n"));
    request_build(buf, sizeof(buf), "GET", &opts.url, &opts, 0, true);
    ck_assert_ptr_null(strstr(buf, "Range"));

    ck_assert_int_eq(parse(ARGS("-H", "accept: text/plain", "-H", "User-Agent:", "-H", "X-A: 1",
                                "-H", "Host: virt", "-H", "X-A: 2", "http://h:81/")),
                     CLI_RUN);
    request_build(buf, sizeof(buf), "GET", &opts.url, &opts, 0, true);
    /* Host first, as RFC 9110 section 7.2 asks */
    ck_assert_str_eq(buf, "GET / HTTP/1.1\r\nHost: virt\r\nConnection: close\r\n"
                          "accept: text/plain\r\nX-A: 1\r\nX-A: 2\r\n\r\n");
    /* after a redirect elsewhere, our Host again */
    request_build(buf, sizeof(buf), "GET", &opts.url, &opts, 0, false);
    ck_assert_str_eq(buf, "GET / HTTP/1.1\r\nHost: h:81\r\nConnection: close\r\n"
                          "accept: text/plain\r\nX-A: 1\r\nX-A: 2\r\n\r\n");

    /* credentials only for the command line's origin */
    ck_assert_int_eq(parse(ARGS("-H", "Authorization: Basic eDp5", "-H", "cookie: a=b", "-H",
                                "Proxy-Authorization: Basic cDpx", "-H", "X-B: 3", "http://h/")),
                     CLI_RUN);
    request_build(buf, sizeof(buf), "GET", &opts.url, &opts, 0, true);
    ck_assert_ptr_nonnull(strstr(buf, "\r\nAuthorization: Basic eDp5\r\ncookie: a=b\r\n"
                                      "Proxy-Authorization: Basic cDpx\r\nX-B: 3\r\n"));
    request_build(buf, sizeof(buf), "GET", &opts.url, &opts, 0, false);
    ck_assert_str_eq(buf, "GET / HTTP/1.1\r\nHost: h\r\nUser-Agent: pyserve-client/" PACKAGE_VERSION
                          "\r\nAccept: */*\r\nConnection: close\r\nX-B: 3\r\n\r\n");

    ck_assert_int_eq(parse(ARGS("-H", "Range: bytes=1-2", "-r", "5-6", "http://h/")), CLI_RUN);
    request_build(buf, sizeof(buf), "GET", &opts.url, &opts, 0, true);
    ck_assert_ptr_nonnull(strstr(buf, "\r\nRange: bytes=1-2\r\n"));
    ck_assert_ptr_null(strstr(buf, "5-6"));
}
END_TEST

/* request_has_range says what request_build sends */
START_TEST(test_request_has_range)
{
    const struct {
        const char *const *args;
        uint64_t resume_from;
    } cases[] = {
        {ARGS("http://h/"), 0},
        {ARGS("-r", "0-99", "http://h/"), 0},
        {ARGS("-C", "http://h/f"), 0},
        {ARGS("-C", "http://h/f"), 500},
        {ARGS("-H", "Range: bytes=5-9", "http://h/"), 0},
        {ARGS("-H", "range:", "-r", "0-1", "http://h/"), 0},
        {ARGS("-H", "Range:", "-C", "http://h/f"), 500},
        {ARGS("-H", "X-Range: 1", "http://h/"), 0},
    };
    char buf[REQUEST_MAX];
    for (size_t i = 0; i < NELEMS(cases); i++) {
        ck_assert_int_eq(parse(cases[i].args), CLI_RUN);
        request_build(buf, sizeof(buf), "GET", &opts.url, &opts, cases[i].resume_from, true);
        bool sent = strcasestr(buf, "\r\nRange:") != NULL;
        ck_assert_msg(request_has_range(&opts, cases[i].resume_from) == sent,
                      "case %zu: request_has_range is not %d", i, sent);
    }
}
END_TEST

/* ---- body destination ----------------------------------------------------------- */

struct dest_case {
    enum cli_output out;
    bool resume;
    int status;
    bool has_body;
    enum body_kind kind;
    bool tty;
    enum dest d;
};

static const struct dest_case dest_cases[] = {
    {CLI_OUT_AUTO, false, 200, false, BODY_BINARY, false, DEST_NONE},
    {CLI_OUT_AUTO, false, 200, true, BODY_TEXT, false, DEST_STDOUT},
    {CLI_OUT_AUTO, false, 200, true, BODY_TEXT, true, DEST_STDOUT},
    {CLI_OUT_AUTO, false, 200, true, BODY_BINARY, false, DEST_NEW_FILE},
    {CLI_OUT_AUTO, false, 200, true, BODY_BINARY, true, DEST_NEW_FILE},
    {CLI_OUT_AUTO, false, 206, true, BODY_BINARY, true, DEST_NEW_FILE},
    {CLI_OUT_AUTO, false, 404, true, BODY_TEXT, true, DEST_STDOUT},
    {CLI_OUT_AUTO, false, 404, true, BODY_BINARY, false, DEST_DISCARD},
    {CLI_OUT_AUTO, false, 302, true, BODY_BINARY, false, DEST_DISCARD},
    {CLI_OUT_STDOUT, false, 200, true, BODY_BINARY, false, DEST_STDOUT},
    {CLI_OUT_STDOUT, false, 200, true, BODY_BINARY, true, DEST_REFUSE},
    {CLI_OUT_STDOUT, false, 404, true, BODY_BINARY, true, DEST_REFUSE},
    {CLI_OUT_STDOUT, false, 200, true, BODY_TEXT, true, DEST_STDOUT},
    {CLI_OUT_STDOUT, false, 200, false, BODY_BINARY, true, DEST_NONE},
    {CLI_OUT_FILE, false, 200, true, BODY_TEXT, true, DEST_FILE},
    {CLI_OUT_FILE, false, 200, true, BODY_BINARY, true, DEST_FILE},
    {CLI_OUT_FILE, false, 206, true, BODY_BINARY, true, DEST_FILE},
    {CLI_OUT_FILE, false, 404, true, BODY_TEXT, false, DEST_STDOUT},
    {CLI_OUT_FILE, false, 500, true, BODY_BINARY, false, DEST_DISCARD},
    /* -o FILE and a 2xx without a body (204): FILE is emptied all the same */
    {CLI_OUT_FILE, false, 204, false, BODY_TEXT, false, DEST_FILE},
    {CLI_OUT_FILE, false, 304, false, BODY_TEXT, false, DEST_NONE},
    {CLI_OUT_FILE, false, 404, false, BODY_TEXT, false, DEST_NONE},
    {CLI_OUT_REMOTE, false, 204, false, BODY_TEXT, false, DEST_NONE},
    {CLI_OUT_FILE, true, 206, true, BODY_BINARY, false, DEST_APPEND},
    {CLI_OUT_FILE, true, 200, true, BODY_BINARY, false, DEST_FILE},
    {CLI_OUT_FILE, true, 404, true, BODY_TEXT, false, DEST_STDOUT},
    {CLI_OUT_REMOTE, false, 200, true, BODY_TEXT, true, DEST_NEW_FILE},
    {CLI_OUT_REMOTE, false, 200, true, BODY_BINARY, false, DEST_NEW_FILE},
    {CLI_OUT_REMOTE, true, 200, true, BODY_TEXT, false, DEST_FILE},
    {CLI_OUT_REMOTE, true, 206, true, BODY_TEXT, false, DEST_APPEND},
    {CLI_OUT_REMOTE, false, 403, true, BODY_BINARY, true, DEST_DISCARD},
};

START_TEST(test_dest)
{
    const struct dest_case *t = &dest_cases[_i];
    struct dest_in in = {t->out, t->resume, t->status, t->has_body, t->kind, t->tty};
    enum dest d = dest_plan(&in);
    ck_assert_msg(d == t->d, "case %d: got %d, expected %d", _i, d, t->d);
}
END_TEST

static Suite *client_suite(void)
{
    Suite *s = suite_create("client");
    TCase *tc;

    tc = tcase_create("cli");
    tcase_add_loop_test(tc, test_cli_errors, 0, NELEMS(cli_err_cases));
    tcase_add_test(tc, test_cli_echo_shortened);
    tcase_add_test(tc, test_cli_url_forms);
    tcase_add_test(tc, test_cli_options);
    tcase_add_test(tc, test_cli_headers);
    tcase_add_test(tc, test_url_limits);
    suite_add_tcase(s, tc);

    tc = tcase_create("names");
    tcase_add_loop_test(tc, test_fname_sanitize, 0, NELEMS(sanitize_cases));
    tcase_add_test(tc, test_fname_long);
    tcase_add_loop_test(tc, test_fname_target, 0, NELEMS(target_cases));
    tcase_add_loop_test(tc, test_fname_disposition, 0, NELEMS(cd_cases));
    tcase_add_test(tc, test_fname_disposition_none);
    tcase_add_test(tc, test_fname_long_sources);
    tcase_add_test(tc, test_fname_numbered);
    suite_add_tcase(s, tc);

    tc = tcase_create("sniff");
    tcase_add_loop_test(tc, test_sniff, 0, NELEMS(sniff_cases));
    tcase_add_test(tc, test_sniff_window);
    suite_add_tcase(s, tc);

    tc = tcase_create("ranges");
    tcase_add_loop_test(tc, test_content_range, 0, NELEMS(cr_cases));
    tcase_add_loop_test(tc, test_resume_check, 0, NELEMS(resume_cases));
    tcase_add_loop_test(tc, test_range_unasked, 0, NELEMS(unasked_cases));
    suite_add_tcase(s, tc);

    tc = tcase_create("progress");
    tcase_add_test(tc, test_progress_size_time);
    tcase_add_test(tc, test_progress_format);
    suite_add_tcase(s, tc);

    tc = tcase_create("escape");
    tcase_add_test(tc, test_escape_text);
    suite_add_tcase(s, tc);

    tc = tcase_create("redirect");
    tcase_add_loop_test(tc, test_redirect, 0, NELEMS(redir_cases));
    tcase_add_test(tc, test_redirect_ipv6_base);
    suite_add_tcase(s, tc);

    tc = tcase_create("request");
    tcase_add_test(tc, test_request_default);
    tcase_add_test(tc, test_request_ranges_and_fields);
    tcase_add_test(tc, test_request_has_range);
    suite_add_tcase(s, tc);

    tc = tcase_create("dest");
    tcase_add_loop_test(tc, test_dest, 0, NELEMS(dest_cases));
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return ps_check_run(client_suite());
}
