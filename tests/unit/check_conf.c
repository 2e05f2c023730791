/* Unit tests of the configuration parser (src/pyserved/conf.h). */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "conf.h"
#include "check_run.h"

#define NELEMS(a) (sizeof(a) / sizeof((a)[0]))
#define NAME "test.conf"

/* conf_parse on an exact-size heap copy (no NUL after the text). */
static int parse_text(struct conf *c, const char *text, size_t len, char *err, size_t errsz)
{
    char *buf = malloc(len ? len : 1);
    ck_assert_ptr_nonnull(buf);
    memcpy(buf, text, len);
    int r = conf_parse(c, buf, len, NAME, err, errsz);
    free(buf);
    return r;
}

static int parse_str(struct conf *c, const char *text, char *err)
{
    return parse_text(c, text, strlen(text), err, CONF_ERR_SIZE);
}

static bool starts_with(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* err starts with prefix and a non-empty reason follows it. */
#define ck_assert_err_prefix(err, prefix)                                                     \
    do {                                                                                      \
        ck_assert_msg(starts_with((err), (prefix)), "error \"%s\" does not start with \"%s\"", \
                      (err), (prefix));                                                       \
        const char *rest_ = (err) + strlen(prefix);                                          \
        while (*rest_ == ' ')                                                                 \
            rest_++;                                                                          \
        ck_assert_msg(*rest_ != '\0', "error \"%s\" has no reason", (err));                   \
    } while (0)

/* ---- defaults ------------------------------------------------------------------- */

START_TEST(test_defaults)
{
    struct conf c, v;
    memset(&c, 0x5a, sizeof(c));
    conf_init(&c);
    ck_assert_ptr_null(c.root);
    ck_assert_uint_eq(c.nlisten, 0);
    ck_assert_uint_eq(c.nindex, 1);
    ck_assert_str_eq(c.index[0], "index.html");
    ck_assert_int_lt(c.root_fd, 0); /* conf_clear must not close fd 0 */
    /* check the scalars on a copy, after the clear: a failure leaks nothing */
    memcpy(&v, &c, sizeof(v));
    conf_clear(&c);
    ck_assert_uint_eq(v.threads, 0);
    ck_assert(!v.access_log);
    ck_assert_uint_eq(v.dotfiles, CONF_DOTFILES_DENY);
    ck_assert_uint_eq(v.max_head_size, 16384);
    ck_assert_uint_eq(v.max_uri_length, 8192);
    ck_assert_uint_eq(v.max_headers, 100);
    ck_assert_uint_eq(v.max_connections, 16384);
    ck_assert_uint_eq(v.header_timeout_ms, 10000);
    ck_assert_uint_eq(v.keepalive_timeout_ms, 60000);
    ck_assert_uint_eq(v.send_timeout_ms, 30000);
    ck_assert_uint_eq(v.shutdown_timeout_ms, 10000);
    /* can be initialised again after a clear */
    conf_init(&c);
    ck_assert_uint_eq(c.nindex, 1);
    conf_clear(&c);
}
END_TEST

START_TEST(test_empty_text)
{
    struct conf c;
    char err[CONF_ERR_SIZE] = "";
    conf_init(&c);
    ck_assert_int_eq(parse_text(&c, "", 0, err, sizeof(err)), 0);
    ck_assert_int_eq(parse_str(&c, "\n\n# only comments\n   \n\t\n", err), 0);
    ck_assert_uint_eq(c.max_head_size, 16384);
    ck_assert_ptr_null(c.root);
    conf_clear(&c);
}
END_TEST

/* ---- every key with good values ---------------------------------------------------- */

enum field {
    F_THREADS,
    F_ACCESS_LOG,
    F_DOTFILES,
    F_MAX_HEAD,
    F_MAX_URI,
    F_MAX_HEADERS,
    F_MAX_CONN,
    F_HEADER_TO,
    F_KEEPALIVE_TO,
    F_SEND_TO,
    F_SHUTDOWN_TO,
    F_MAX_RANGES,
    F_LOG_LEVEL,
    F_MULTI_RANGES,
};

static uint64_t field_value(const struct conf *c, enum field f)
{
    switch (f) {
    case F_THREADS:
        return c->threads;
    case F_ACCESS_LOG:
        return c->access_log;
    case F_DOTFILES:
        return c->dotfiles;
    case F_MAX_HEAD:
        return c->max_head_size;
    case F_MAX_URI:
        return c->max_uri_length;
    case F_MAX_HEADERS:
        return c->max_headers;
    case F_MAX_CONN:
        return c->max_connections;
    case F_HEADER_TO:
        return c->header_timeout_ms;
    case F_KEEPALIVE_TO:
        return c->keepalive_timeout_ms;
    case F_SEND_TO:
        return c->send_timeout_ms;
    case F_SHUTDOWN_TO:
        return c->shutdown_timeout_ms;
    case F_MAX_RANGES:
        return c->max_ranges;
    case F_LOG_LEVEL:
        return c->log_level;
    case F_MULTI_RANGES:
        return c->multiple_ranges;
    }
    return UINT64_MAX;
}

struct good_case {
    const char *key;
    const char *value;
    enum field field;
    uint64_t want;
};

static const struct good_case good_cases[] = {
    {"threads", "0", F_THREADS, 0},
    {"threads", "8", F_THREADS, 8},
    {"threads", "1024", F_THREADS, 1024},
    {"access_log", "yes", F_ACCESS_LOG, 1},
    {"access_log", "no", F_ACCESS_LOG, 0},
    {"access_log", "true", F_ACCESS_LOG, 1},
    {"access_log", "false", F_ACCESS_LOG, 0},
    {"access_log", "on", F_ACCESS_LOG, 1},
    {"access_log", "off", F_ACCESS_LOG, 0},
    {"access_log", "1", F_ACCESS_LOG, 1},
    {"access_log", "0", F_ACCESS_LOG, 0},
    {"dotfiles", "allow", F_DOTFILES, CONF_DOTFILES_ALLOW},
    {"dotfiles", "deny", F_DOTFILES, CONF_DOTFILES_DENY},
    {"log_level", "debug", F_LOG_LEVEL, LOG_DEBUG},
    {"log_level", "info", F_LOG_LEVEL, LOG_INFO},
    {"multiple_ranges", "first", F_MULTI_RANGES, CONF_MULTI_FIRST},
    {"multiple_ranges", "whole", F_MULTI_RANGES, CONF_MULTI_WHOLE},
    {"multiple_ranges", "multipart", F_MULTI_RANGES, CONF_MULTI_MULTIPART},
    {"max_head_size", "8192", F_MAX_HEAD, 8192},
    {"max_head_size", "16k", F_MAX_HEAD, 16384},
    {"max_head_size", "1k", F_MAX_HEAD, 1024},
    {"max_head_size", "1m", F_MAX_HEAD, 1048576},
    {"max_head_size", "1024", F_MAX_HEAD, 1024},
    {"max_uri_length", "256", F_MAX_URI, 256},
    {"max_uri_length", "2k", F_MAX_URI, 2048},
    {"max_uri_length", "64k", F_MAX_URI, 65536},
    {"max_headers", "1", F_MAX_HEADERS, 1},
    {"max_headers", "50", F_MAX_HEADERS, 50},
    {"max_headers", "10000", F_MAX_HEADERS, 10000},
    {"max_connections", "1", F_MAX_CONN, 1},
    {"max_connections", "1000000", F_MAX_CONN, 1000000},
    {"header_timeout", "10", F_HEADER_TO, 10000},
    {"header_timeout", "100ms", F_HEADER_TO, 100},
    {"header_timeout", "500ms", F_HEADER_TO, 500},
    {"header_timeout", "2m", F_HEADER_TO, 120000},
    {"header_timeout", "1h", F_HEADER_TO, 3600000},
    {"header_timeout", "1.5", F_HEADER_TO, 1500},
    {"header_timeout", "0.1", F_HEADER_TO, 100},
    {"keepalive_timeout", "0", F_KEEPALIVE_TO, 0},
    {"keepalive_timeout", "75s", F_KEEPALIVE_TO, 75000},
    {"keepalive_timeout", "1h", F_KEEPALIVE_TO, 3600000},
    {"send_timeout", "100ms", F_SEND_TO, 100},
    {"send_timeout", "45", F_SEND_TO, 45000},
    {"shutdown_timeout", "0", F_SHUTDOWN_TO, 0},
    {"shutdown_timeout", "3600s", F_SHUTDOWN_TO, 3600000},
    /* pyserve.conf(5): 1 to 64 */
    {"max_ranges", "1", F_MAX_RANGES, 1},
    {"max_ranges", "64", F_MAX_RANGES, 64},
};

START_TEST(test_good_value_line)
{
    const struct good_case *t = &good_cases[_i];
    struct conf c;
    char text[256], err[CONF_ERR_SIZE] = "";
    snprintf(text, sizeof(text), "# set one key\n%s = %s\n", t->key, t->value);
    conf_init(&c);
    int r = parse_str(&c, text, err);
    ck_assert_msg(r == 0, "%s = %s: %d \"%s\"", t->key, t->value, r, err);
    ck_assert_msg(field_value(&c, t->field) == t->want, "%s = %s gave %ju, expected %ju", t->key,
                  t->value, (uintmax_t)field_value(&c, t->field), (uintmax_t)t->want);
    conf_clear(&c);
}
END_TEST

START_TEST(test_good_value_set)
{
    const struct good_case *t = &good_cases[_i];
    struct conf c;
    char err[CONF_ERR_SIZE] = "";
    conf_init(&c);
    int r = conf_set(&c, t->key, t->value, err, sizeof(err));
    ck_assert_msg(r == 0, "conf_set(%s, %s): %d \"%s\"", t->key, t->value, r, err);
    ck_assert_msg(field_value(&c, t->field) == t->want, "%s = %s gave %ju, expected %ju", t->key,
                  t->value, (uintmax_t)field_value(&c, t->field), (uintmax_t)t->want);
    conf_clear(&c);
}
END_TEST

START_TEST(test_root)
{
    struct conf c;
    char err[CONF_ERR_SIZE] = "";
    conf_init(&c);
    ck_assert_int_eq(parse_str(&c, "root = /srv/www\n", err), 0);
    ck_assert_str_eq(c.root, "/srv/www");
    /* a second root replaces the first (no leak: valgrind) */
    ck_assert_int_eq(parse_str(&c, "root=/srv/my site\n", err), 0);
    ck_assert_str_eq(c.root, "/srv/my site");
    ck_assert_int_eq(parse_str(&c, "  root\t=\t/srv/x  \t\n", err), 0);
    ck_assert_str_eq(c.root, "/srv/x");
    conf_clear(&c);
    ck_assert_ptr_null(c.root);
}
END_TEST

START_TEST(test_whitespace_and_comments)
{
    static const char text[] = "# pyserve test\n"
                               "\n"
                               "   # indented comment\n"
                               "threads=3\n"
                               "  max_headers   =   7  \n"
                               "\tmax_connections\t=\t9\t\n"
                               "   \t \n"
                               "send_timeout = 5s # trailing comment\n"
                               "root = /srv/a#b\n";
    struct conf c;
    char err[CONF_ERR_SIZE] = "";
    conf_init(&c);
    ck_assert_int_eq(parse_text(&c, text, sizeof(text) - 1, err, sizeof(err)), 0);
    ck_assert_uint_eq(c.threads, 3);
    ck_assert_uint_eq(c.max_headers, 7);
    ck_assert_uint_eq(c.max_connections, 9);
    ck_assert_uint_eq(c.send_timeout_ms, 5000);
    ck_assert_str_eq(c.root, "/srv/a#b"); /* '#' inside a word is not a comment */
    conf_clear(&c);
}
END_TEST

START_TEST(test_crlf)
{
    static const char text[] = "# windows\r\nthreads = 4\r\n\r\nroot = /srv/crlf\r\nindex = a.html b.html\r\n"
                               "access_log = yes\r\n";
    struct conf c;
    char err[CONF_ERR_SIZE] = "";
    conf_init(&c);
    ck_assert_int_eq(parse_text(&c, text, sizeof(text) - 1, err, sizeof(err)), 0);
    ck_assert_uint_eq(c.threads, 4);
    ck_assert_str_eq(c.root, "/srv/crlf");
    ck_assert_uint_eq(c.nindex, 2);
    ck_assert_str_eq(c.index[1], "b.html");
    ck_assert(c.access_log);
    conf_clear(&c);
}
END_TEST

START_TEST(test_byte_order_mark)
{
    /* skipped at the start of the text only: elsewhere it is part of a key */
    static const char text[] = "\xef\xbb\xbfthreads = 3\n";
    static const char later[] = "threads = 3\n\xef\xbb\xbfthreads = 4\n";
    struct conf c;
    char err[CONF_ERR_SIZE] = "";
    conf_init(&c);
    ck_assert_int_eq(parse_text(&c, text, sizeof(text) - 1, err, sizeof(err)), 0);
    ck_assert_uint_eq(c.threads, 3);
    ck_assert_int_lt(parse_text(&c, later, sizeof(later) - 1, err, sizeof(err)), 0);
    ck_assert_msg(strstr(err, ":2: ") && strstr(err, "unknown key"), "\"%s\"", err);
    conf_clear(&c);
}
END_TEST

START_TEST(test_last_line_without_newline)
{
    struct conf c;
    char err[CONF_ERR_SIZE] = "";
    conf_init(&c);
    ck_assert_int_eq(parse_str(&c, "threads = 2\nmax_headers = 5", err), 0);
    ck_assert_uint_eq(c.max_headers, 5);
    conf_clear(&c);
}
END_TEST

/* '#' after a TAB starts a comment as after a space does */
START_TEST(test_comment_after_tab)
{
    struct conf c;
    char err[CONF_ERR_SIZE] = "";
    conf_init(&c);
    ck_assert_msg(parse_str(&c, "threads = 2\t# two\n", err) == 0, "%s", err);
    ck_assert_uint_eq(c.threads, 2);
    ck_assert_msg(parse_str(&c, "root = /srv/www\t#\tthe root\n", err) == 0, "%s", err);
    ck_assert_str_eq(c.root, "/srv/www");
    conf_clear(&c);
}
END_TEST

START_TEST(test_later_line_wins)
{
    struct conf c;
    char err[CONF_ERR_SIZE] = "";
    conf_init(&c);
    ck_assert_int_eq(parse_str(&c, "threads = 2\nthreads = 3\n", err), 0);
    ck_assert_uint_eq(c.threads, 3);
    conf_clear(&c);
}
END_TEST

START_TEST(test_listen_appends)
{
    struct conf c;
    char err[CONF_ERR_SIZE] = "";
    conf_init(&c);
    ck_assert_int_eq(parse_str(&c, "listen = 127.0.0.1:8080\nlisten = [::1]:8080\nlisten = 8080\n", err),
                     0);
    ck_assert_uint_eq(c.nlisten, 3);
    ck_assert_str_eq(c.listen[0], "127.0.0.1:8080");
    ck_assert_str_eq(c.listen[1], "[::1]:8080");
    ck_assert_str_eq(c.listen[2], "8080");
    ck_assert_int_eq(conf_set(&c, "listen", "127.0.0.1:0", err, sizeof(err)), 0);
    ck_assert_uint_eq(c.nlisten, 4);
    ck_assert_str_eq(c.listen[3], "127.0.0.1:0");
    conf_clear(&c);
    ck_assert_uint_eq(c.nlisten, 0);
}
END_TEST

START_TEST(test_listen_limit)
{
    struct conf c;
    char err[CONF_ERR_SIZE] = "";
    conf_init(&c);
    for (unsigned i = 0; i < CONF_MAX_LISTEN; i++) {
        char v[32];
        snprintf(v, sizeof(v), "127.0.0.1:%u", 8000 + i);
        ck_assert_int_eq(conf_set(&c, "listen", v, err, sizeof(err)), 0);
    }
    ck_assert_int_eq(conf_set(&c, "listen", "127.0.0.1:9999", err, sizeof(err)), -EINVAL);
    ck_assert_err_prefix(err, "listen:");
    ck_assert_uint_eq(c.nlisten, CONF_MAX_LISTEN);
    conf_clear(&c);
}
END_TEST

START_TEST(test_index_replaces)
{
    struct conf c;
    char err[CONF_ERR_SIZE] = "";
    conf_init(&c);
    ck_assert_int_eq(parse_str(&c, "index = index.htm   default.html\tindex.txt\n", err), 0);
    ck_assert_uint_eq(c.nindex, 3);
    ck_assert_str_eq(c.index[0], "index.htm");
    ck_assert_str_eq(c.index[1], "default.html");
    ck_assert_str_eq(c.index[2], "index.txt");
    ck_assert_int_eq(parse_str(&c, "index = home.html\n", err), 0);
    ck_assert_uint_eq(c.nindex, 1);
    ck_assert_str_eq(c.index[0], "home.html");
    ck_assert_int_eq(conf_set(&c, "index", "a b", err, sizeof(err)), 0);
    ck_assert_uint_eq(c.nindex, 2);
    ck_assert_str_eq(c.index[0], "a");
    ck_assert_str_eq(c.index[1], "b");
    conf_clear(&c);
}
END_TEST

START_TEST(test_index_limit)
{
    struct conf c;
    char err[CONF_ERR_SIZE] = "", v[512] = "";
    conf_init(&c);
    for (unsigned i = 0; i < CONF_MAX_INDEX; i++) {
        size_t l = strlen(v);
        snprintf(v + l, sizeof(v) - l, "i%u.html ", i);
    }
    ck_assert_int_eq(conf_set(&c, "index", v, err, sizeof(err)), 0);
    ck_assert_uint_eq(c.nindex, CONF_MAX_INDEX);
    size_t l = strlen(v);
    snprintf(v + l, sizeof(v) - l, "one-more.html");
    ck_assert_int_eq(conf_set(&c, "index", v, err, sizeof(err)), -EINVAL);
    ck_assert_err_prefix(err, "index:");
    /* a refused value leaves the previous list in place */
    ck_assert_uint_eq(c.nindex, CONF_MAX_INDEX);
    ck_assert_str_eq(c.index[0], "i0.html");
    conf_clear(&c);
}
END_TEST

/* ---- errors from the file parser --------------------------------------------------- */

struct bad_case {
    const char *text;
    const char *prefix; /* "NAME:LINE: KEY:" */
    const char *exact;  /* the whole message, when pinned; NULL: prefix only */
};

static const struct bad_case bad_cases[] = {
    {"frobnicate = 1\n", NAME ":1: frobnicate:", NAME ":1: frobnicate: unknown key"},
    {"# c\n\nthreads = 2\nfrobnicate = 1\n", NAME ":4: frobnicate:",
     NAME ":4: frobnicate: unknown key"},
    {"threads 4\n", NAME ":1: syntax error:", NAME ":1: syntax error: expected \"key = value\""},
    {"root = /x\nthreads\n", NAME ":2: syntax error:",
     NAME ":2: syntax error: expected \"key = value\""},
    {"= 4\n", NAME ":1: syntax error:", NULL},
    {"threads =\n", NAME ":1: threads:", NULL},
    {"threads =   \n", NAME ":1: threads:", NULL},
    {"root =\n", NAME ":1: root:", NULL},
    {"index =\n", NAME ":1: index:", NULL},
    {"listen =\n", NAME ":1: listen:", NULL},
    {"threads = abc\n", NAME ":1: threads:", NAME ":1: threads: \"abc\" is not a number"},
    {"threads = -1\n", NAME ":1: threads:", NULL},
    {"threads = 4x\n", NAME ":1: threads:", NULL},
    {"threads = 1.5\n", NAME ":1: threads:", NULL},
    {"threads = 1025\n", NAME ":1: threads:", NAME ":1: threads: 1025 is out of range 0..1024"},
    {"threads = 99999999999999999999999\n", NAME ":1: threads:", NULL},
    {"max_headers = 0\n", NAME ":1: max_headers:", NULL},
    {"max_headers = 10001\n", NAME ":1: max_headers:", NULL},
    {"max_connections = 0\n", NAME ":1: max_connections:", NULL},
    {"max_connections = 1000001\n", NAME ":1: max_connections:", NULL},
    {"max_head_size = 1023\n", NAME ":1: max_head_size:", NULL},
    {"max_head_size = 2m\n", NAME ":1: max_head_size:",
     NAME ":1: max_head_size: 2m is out of range 1024..1048576 bytes"},
    {"max_head_size = 1048577\n", NAME ":1: max_head_size:", NULL},
    {"max_head_size = 8q\n", NAME ":1: max_head_size:", NULL},
    {"max_head_size = k\n", NAME ":1: max_head_size:", NULL},
    {"max_uri_length = 255\n", NAME ":1: max_uri_length:", NULL},
    {"max_uri_length = 65537\n", NAME ":1: max_uri_length:", NULL},
    {"header_timeout = 99ms\n", NAME ":1: header_timeout:", NULL},
    {"header_timeout = 0\n", NAME ":1: header_timeout:", NULL},
    {"header_timeout = 61m\n", NAME ":1: header_timeout:", NULL},
    {"header_timeout = 10x\n", NAME ":1: header_timeout:", NULL},
    {"header_timeout = 1.5.5s\n", NAME ":1: header_timeout:", NULL},
    {"header_timeout = .5s\n", NAME ":1: header_timeout:", NULL},
    {"keepalive_timeout = 2h\n", NAME ":1: keepalive_timeout:", NULL},
    {"keepalive_timeout = soon\n", NAME ":1: keepalive_timeout:", NULL},
    {"send_timeout = 0\n", NAME ":1: send_timeout:", NULL},
    {"send_timeout = 3601s\n", NAME ":1: send_timeout:", NULL},
    {"shutdown_timeout = 3600001ms\n", NAME ":1: shutdown_timeout:", NULL},
    {"max_ranges = 0\n", NAME ":1: max_ranges:", NULL},
    {"max_ranges = 65\n", NAME ":1: max_ranges:", NAME ":1: max_ranges: 65 is out of range 1..64"},
    {"access_log = maybe\n", NAME ":1: access_log:", NULL},
    {"access_log = yess\n", NAME ":1: access_log:", NULL},
    {"dotfiles = sometimes\n", NAME ":1: dotfiles:",
     NAME ":1: dotfiles: \"sometimes\" is not deny or allow"},
    {"log_level = warning\n", NAME ":1: log_level:",
     NAME ":1: log_level: \"warning\" is not info or debug"},
    {"multiple_ranges = all\n", NAME ":1: multiple_ranges:",
     NAME ":1: multiple_ranges: \"all\" is not multipart, first or whole"},
    {"listen = 127.0.0.1:99999\n", NAME ":1: listen:", NULL},
    {"listen = 127.0.0.1:\n", NAME ":1: listen:", NULL},
    {"listen = [::1\n", NAME ":1: listen:", NULL},
    {"listen = 127.0.0.1\n", NAME ":1: listen:", NULL},
    {"index = ../secret.html\n", NAME ":1: index:", NULL},
    {"index = a/b.html\n", NAME ":1: index:", NULL},
    /* the first error stops the parse and is the one reported */
    {"threads = 2\nthreads = x\nfrobnicate = 1\n", NAME ":2: threads:", NULL},
    {"threads = 2\r\nbogus = 1\r\n", NAME ":2: bogus:", NAME ":2: bogus: unknown key"},
};

START_TEST(test_bad)
{
    const struct bad_case *t = &bad_cases[_i];
    struct conf c;
    char err[CONF_ERR_SIZE];
    memset(err, 0, sizeof(err));
    conf_init(&c);
    int r = parse_str(&c, t->text, err);
    ck_assert_msg(r < 0, "\"%s\" was accepted", t->text);
    ck_assert_err_prefix(err, t->prefix);
    if (t->exact)
        ck_assert_str_eq(err, t->exact);
    conf_clear(&c);
}
END_TEST

START_TEST(test_bad_value_leaves_old)
{
    struct conf c;
    char err[CONF_ERR_SIZE];
    conf_init(&c);
    ck_assert_int_eq(parse_str(&c, "threads = 6\n", err), 0);
    ck_assert_int_lt(parse_str(&c, "threads = 2000\n", err), 0);
    ck_assert_uint_eq(c.threads, 6);
    ck_assert_int_lt(parse_str(&c, "header_timeout = 1ms\n", err), 0);
    ck_assert_uint_eq(c.header_timeout_ms, 10000);
    conf_clear(&c);
}
END_TEST

START_TEST(test_line_too_long)
{
    /* 4096 bytes are accepted, 4097 are not; CR of a CRLF does not count */
    size_t max = 4096;
    char *t = malloc(max + 2);
    ck_assert_ptr_nonnull(t);
    memcpy(t, "root = /", 8);
    memset(t + 8, 'a', max - 8);
    t[max] = '\r';
    t[max + 1] = '\n';
    struct conf c;
    char err[CONF_ERR_SIZE] = "";
    conf_init(&c);
    ck_assert_int_eq(parse_text(&c, t, max, err, sizeof(err)), 0);
    ck_assert_uint_eq(strlen(c.root), max - 7);
    ck_assert_int_eq(parse_text(&c, t, max + 2, err, sizeof(err)), 0);
    free(t);

    /* a very long line, on line 2 */
    size_t big = 100000;
    t = malloc(big);
    ck_assert_ptr_nonnull(t);
    memcpy(t, "threads = 1\nroot = /", 20);
    memset(t + 20, 'b', big - 21);
    t[big - 1] = '\n';
    int r = parse_text(&c, t, big, err, sizeof(err));
    free(t);
    ck_assert_int_lt(r, 0);
    ck_assert_err_prefix(err, NAME ":2:");
    ck_assert_str_eq(err, NAME ":2: line longer than 4096 bytes");
    conf_clear(&c);

    /* exactly one byte over */
    t = malloc(max + 2);
    ck_assert_ptr_nonnull(t);
    memcpy(t, "root = /", 8);
    memset(t + 8, 'a', max + 1 - 8);
    t[max + 1] = '\n';
    conf_init(&c);
    ck_assert_int_lt(parse_text(&c, t, max + 2, err, sizeof(err)), 0);
    ck_assert_err_prefix(err, NAME ":1:");
    free(t);
    conf_clear(&c);
}
END_TEST

START_TEST(test_nul_byte)
{
    static const char text[] = "threads = 1\nroot = /a\0b\n";
    struct conf c;
    char err[CONF_ERR_SIZE] = "";
    conf_init(&c);
    ck_assert_int_lt(parse_text(&c, text, sizeof(text) - 1, err, sizeof(err)), 0);
    ck_assert_err_prefix(err, NAME ":2:");
    conf_clear(&c);
}
END_TEST

START_TEST(test_small_err_buffer)
{
    /* The message is cut to errsz and stays NUL-terminated. */
    struct conf c;
    char err[16];
    memset(err, 'X', sizeof(err));
    conf_init(&c);
    ck_assert_int_lt(parse_text(&c, "frobnicate = 1\n", 15, err, 8), 0);
    ck_assert_uint_eq(strlen(err), 7);
    ck_assert_int_eq(err[8], 'X');
    ck_assert_int_lt(parse_text(&c, "frobnicate = 1\n", 15, NULL, 0), 0);
    conf_clear(&c);
}
END_TEST

/* ---- conf_set (command-line overrides) ------------------------------------------ */

START_TEST(test_set_override)
{
    struct conf c;
    char err[CONF_ERR_SIZE] = "";
    conf_init(&c);
    ck_assert_int_eq(parse_str(&c, "threads = 2\nroot = /from/file\nlisten = 8080\n", err), 0);
    ck_assert_int_eq(conf_set(&c, "threads", "5", err, sizeof(err)), 0);
    ck_assert_uint_eq(c.threads, 5);
    ck_assert_int_eq(conf_set(&c, "root", "/from/cli", err, sizeof(err)), 0);
    ck_assert_str_eq(c.root, "/from/cli");
    ck_assert_int_eq(conf_set(&c, "dotfiles", "allow", err, sizeof(err)), 0);
    ck_assert_uint_eq(c.dotfiles, CONF_DOTFILES_ALLOW);
    conf_clear(&c);
}
END_TEST

START_TEST(test_set_errors)
{
    struct conf c;
    char err[CONF_ERR_SIZE];
    conf_init(&c);

    ck_assert_int_eq(conf_set(&c, "frobnicate", "1", err, sizeof(err)), -ENOENT);
    ck_assert_str_eq(err, "frobnicate: unknown key");

    ck_assert_int_eq(conf_set(&c, "threads", "x", err, sizeof(err)), -EINVAL);
    ck_assert_str_eq(err, "threads: \"x\" is not a number");

    ck_assert_int_eq(conf_set(&c, "threads", "", err, sizeof(err)), -EINVAL);
    ck_assert_err_prefix(err, "threads:");

    ck_assert_int_eq(conf_set(&c, "max_uri_length", "1m", err, sizeof(err)), -EINVAL);
    ck_assert_err_prefix(err, "max_uri_length:");

    ck_assert_int_eq(conf_set(&c, "access_log", "perhaps", err, sizeof(err)), -EINVAL);
    ck_assert_err_prefix(err, "access_log:");

    ck_assert_int_eq(conf_set(&c, "dotfiles", "Allow!", err, sizeof(err)), -EINVAL);
    ck_assert_err_prefix(err, "dotfiles:");

    ck_assert_int_eq(conf_set(&c, "send_timeout", "forever", err, sizeof(err)), -EINVAL);
    ck_assert_err_prefix(err, "send_timeout:");

    /* key names are exact */
    ck_assert_int_eq(conf_set(&c, "Threads", "1", err, sizeof(err)), -ENOENT);
    ck_assert_int_eq(conf_set(&c, "threads ", "1", err, sizeof(err)), -ENOENT);
    ck_assert_int_eq(conf_set(&c, "", "1", err, sizeof(err)), -ENOENT);

    /* nothing changed */
    ck_assert_uint_eq(c.threads, 0);
    ck_assert(!c.access_log);
    conf_clear(&c);
}
END_TEST

/* ---- conf_validate ------------------------------------------------------------- */

START_TEST(test_validate)
{
    struct conf c;
    char err[CONF_ERR_SIZE] = "";
    conf_init(&c);
    ck_assert_int_eq(conf_validate(&c, err, sizeof(err)), -EINVAL);
    ck_assert_err_prefix(err, "root:");
    ck_assert_ptr_nonnull(strstr(err, "not set"));

    ck_assert_int_eq(conf_set(&c, "root", "/srv", err, sizeof(err)), 0);
    ck_assert_int_eq(conf_validate(&c, err, sizeof(err)), 0);

    /* max_uri_length must stay below max_head_size */
    ck_assert_int_eq(conf_set(&c, "max_head_size", "2k", err, sizeof(err)), 0);
    ck_assert_int_eq(conf_set(&c, "max_uri_length", "2k", err, sizeof(err)), 0);
    ck_assert_int_eq(conf_validate(&c, err, sizeof(err)), -EINVAL);
    ck_assert_err_prefix(err, "max_uri_length:");
    ck_assert_int_eq(conf_set(&c, "max_uri_length", "4k", err, sizeof(err)), 0);
    ck_assert_int_eq(conf_validate(&c, err, sizeof(err)), -EINVAL);
    ck_assert_int_eq(conf_set(&c, "max_uri_length", "2047", err, sizeof(err)), 0);
    ck_assert_int_eq(conf_validate(&c, err, sizeof(err)), 0);
    conf_clear(&c);
}
END_TEST

/* ---- conf_cache_control_for ----------------------------------------------------- */

/* pyserve.conf(5): "the longest matching path prefix wins, else the
 * extension rule". The longer prefix comes first, so that the last match
 * winning would give the wrong answer. */
static const char cc_rules[] = "cache_control /a/b/ = inner\n"
                               "cache_control /a/ = outer\n"
                               "cache_control .html = by-ext\n";

static const struct {
    const char *rel; /* the request path without its leading '/' */
    const char *want;
} cc_cases[] = {
    {"a/b/x.txt", "inner"},
    {"a/b/", "inner"},
    {"a/b/page.html", "inner"}, /* a prefix before the extension */
    {"a/x.txt", "outer"},
    {"a/bx", "outer"},
    {"page.html", "by-ext"},
    {"Page.HTML", "by-ext"}, /* extensions without regard to case */
    {"d/index.Html", "by-ext"},
    {"page.htm", NULL},
    {"page.html.gz", NULL},
    {"html", NULL},
    {"b/a/x", NULL},
};

START_TEST(test_cache_control_for)
{
    struct conf c;
    char err[CONF_ERR_SIZE] = "";
    conf_init(&c);
    ck_assert_msg(parse_str(&c, cc_rules, err) == 0, "%s", err);
    const char *rel = cc_cases[_i].rel, *want = cc_cases[_i].want;
    const char *got = conf_cache_control_for(&c, rel, strlen(rel));
    ck_assert_msg(want ? got && strcmp(got, want) == 0 : got == NULL, "%s: got %s, expected %s",
                  rel, got ? got : "none", want ? want : "none");
    conf_clear(&c);
}
END_TEST

/* Only rel[0..len) is the path: what follows it in memory is not read. */
START_TEST(test_cache_control_for_reads_len_bytes)
{
    struct conf c;
    char err[CONF_ERR_SIZE] = "";
    conf_init(&c);
    ck_assert_msg(parse_str(&c, cc_rules, err) == 0, "%s", err);
    const char *got = conf_cache_control_for(&c, "page.html.gz", 9);
    ck_assert_msg(got && strcmp(got, "by-ext") == 0, "got %s", got ? got : "none");
    ck_assert_ptr_null(conf_cache_control_for(&c, "page.html", 8));
    conf_clear(&c);
}
END_TEST

/* ---- key table ----------------------------------------------------------------- */

START_TEST(test_key_names)
{
    /* The keys of the specification must all be in the table; the table may
     * hold more (tests/integration/test_docs.py checks that each is
     * documented). */
    static const char *const spec[] = {
        "root",           "listen",          "threads",        "index",
        "access_log",     "dotfiles",        "max_head_size",  "max_uri_length",
        "max_headers",    "max_connections", "header_timeout", "keepalive_timeout",
        "send_timeout",   "shutdown_timeout",
    };
    bool seen[NELEMS(spec)] = {false};
    const char *names[1000];
    unsigned i;
    for (i = 0; i < NELEMS(names) && conf_key_name(i); i++) {
        const char *k = conf_key_name(i);
        names[i] = k;
        ck_assert_msg(*k && strspn(k, "abcdefghijklmnopqrstuvwxyz_") == strlen(k),
                      "key \"%s\" is not lowercase letters and '_'", k);
        for (unsigned j = 0; j < i; j++)
            ck_assert_msg(strcmp(names[j], k) != 0, "key \"%s\" listed twice", k);
        for (size_t j = 0; j < NELEMS(spec); j++)
            if (strcmp(k, spec[j]) == 0)
                seen[j] = true;
        /* every listed key is known to conf_set (value errors aside) */
        struct conf c;
        char err[CONF_ERR_SIZE];
        conf_init(&c);
        ck_assert_int_ne(conf_set(&c, k, "?", err, sizeof(err)), -ENOENT);
        conf_clear(&c);
    }
    ck_assert_uint_lt(i, NELEMS(names)); /* the iteration ends */
    for (size_t j = 0; j < NELEMS(spec); j++)
        ck_assert_msg(seen[j], "key \"%s\" missing from the table", spec[j]);
    ck_assert_ptr_null(conf_key_name(i));
    ck_assert_ptr_null(conf_key_name(i + 1));
    ck_assert_ptr_null(conf_key_name(UINT32_MAX));
}
END_TEST

/* ---- conf_load --------------------------------------------------------------------- */

static char *write_temp(const char *text, size_t len)
{
    const char *dir = getenv("TMPDIR");
    char *path = malloc(4096);
    ck_assert_ptr_nonnull(path);
    snprintf(path, 4096, "%s/check_conf.XXXXXX", dir && *dir ? dir : "/tmp");
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    size_t off = 0;
    while (off < len) {
        ssize_t n = write(fd, text + off, len - off);
        ck_assert_int_gt(n, 0);
        off += (size_t)n;
    }
    ck_assert_int_eq(close(fd), 0);
    return path;
}

START_TEST(test_load_missing)
{
    struct conf c;
    char err[CONF_ERR_SIZE] = "";
    conf_init(&c);
    int r = conf_load(&c, "/nonexistent-dir/pyserve.conf", err, sizeof(err));
    ck_assert_int_eq(r, -ENOENT);
    ck_assert_str_eq(err, "/nonexistent-dir/pyserve.conf: No such file or directory");
    conf_clear(&c);
}
END_TEST

START_TEST(test_load_file)
{
    static const char text[] = "# test\nroot = /srv/www\nlisten = 127.0.0.1:0\nthreads = 3\n"
                               "max_head_size = 16k\n";
    char *path = write_temp(text, sizeof(text) - 1);
    struct conf c;
    char err[CONF_ERR_SIZE] = "";
    conf_init(&c);
    int r = conf_load(&c, path, err, sizeof(err));
    ck_assert_msg(r == 0, "%d %s", r, err);
    ck_assert_str_eq(c.root, "/srv/www");
    ck_assert_uint_eq(c.nlisten, 1);
    ck_assert_uint_eq(c.threads, 3);
    ck_assert_uint_eq(c.max_head_size, 16384);
    ck_assert_int_eq(conf_validate(&c, err, sizeof(err)), 0);
    conf_clear(&c);
    unlink(path);
    free(path);
}
END_TEST

START_TEST(test_load_error_names_file)
{
    static const char text[] = "root = /srv\n\nthreads = abc\n";
    char *path = write_temp(text, sizeof(text) - 1);
    char want[4200];
    snprintf(want, sizeof(want), "%s:3: threads: \"abc\" is not a number", path);
    struct conf c;
    char err[CONF_ERR_SIZE] = "";
    conf_init(&c);
    ck_assert_int_lt(conf_load(&c, path, err, sizeof(err)), 0);
    ck_assert_str_eq(err, want);
    conf_clear(&c);
    unlink(path);
    free(path);
}
END_TEST

START_TEST(test_load_too_big)
{
    size_t len = CONF_MAX_FILE_SIZE + 1;
    char *text = malloc(len);
    ck_assert_ptr_nonnull(text);
    memset(text, '\n', len);
    char *path = write_temp(text, len);
    free(text);
    struct conf c;
    char err[CONF_ERR_SIZE] = "";
    conf_init(&c);
    ck_assert_int_lt(conf_load(&c, path, err, sizeof(err)), 0);
    ck_assert_msg(starts_with(err, path) && err[strlen(path)] == ':', "\"%s\"", err);
    conf_clear(&c);

    /* exactly the maximum is fine */
    FILE *f = fopen(path, "r+");
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(ftruncate(fileno(f), CONF_MAX_FILE_SIZE), 0);
    fclose(f);
    conf_init(&c);
    ck_assert_int_eq(conf_load(&c, path, err, sizeof(err)), 0);
    conf_clear(&c);
    unlink(path);
    free(path);
}
END_TEST

START_TEST(test_load_directory)
{
    struct conf c;
    char err[CONF_ERR_SIZE] = "";
    conf_init(&c);
    ck_assert_int_lt(conf_load(&c, "/", err, sizeof(err)), 0);
    ck_assert_str_eq(err, "/: not a regular file (a directory)");
    conf_clear(&c);
}
END_TEST

/* ---- reference counting ------------------------------------------------------------ */

START_TEST(test_refcount)
{
    struct conf *c = malloc(sizeof(*c));
    ck_assert_ptr_nonnull(c);
    conf_init(c);
    char err[CONF_ERR_SIZE];
    ck_assert_int_eq(conf_set(c, "root", "/srv", err, sizeof(err)), 0);
    ck_assert_ptr_eq(conf_ref(c), c);
    conf_unref(c); /* back to one reference */
    ck_assert_str_eq(c->root, "/srv");
    conf_unref(c); /* freed: valgrind sees no leak */
    conf_unref(NULL);
}
END_TEST

static Suite *conf_suite(void)
{
    Suite *s = suite_create("conf");
    TCase *tc;

    tc = tcase_create("values");
    tcase_add_test(tc, test_defaults);
    tcase_add_test(tc, test_empty_text);
    tcase_add_loop_test(tc, test_good_value_line, 0, NELEMS(good_cases));
    tcase_add_loop_test(tc, test_good_value_set, 0, NELEMS(good_cases));
    tcase_add_test(tc, test_root);
    tcase_add_test(tc, test_whitespace_and_comments);
    tcase_add_test(tc, test_crlf);
    tcase_add_test(tc, test_byte_order_mark);
    tcase_add_test(tc, test_last_line_without_newline);
    tcase_add_test(tc, test_comment_after_tab);
    tcase_add_test(tc, test_later_line_wins);
    tcase_add_test(tc, test_listen_appends);
    tcase_add_test(tc, test_listen_limit);
    tcase_add_test(tc, test_index_replaces);
    tcase_add_test(tc, test_index_limit);
    suite_add_tcase(s, tc);

    tc = tcase_create("errors");
    tcase_add_loop_test(tc, test_bad, 0, NELEMS(bad_cases));
    tcase_add_test(tc, test_bad_value_leaves_old);
    tcase_add_test(tc, test_line_too_long);
    tcase_add_test(tc, test_nul_byte);
    tcase_add_test(tc, test_small_err_buffer);
    suite_add_tcase(s, tc);

    tc = tcase_create("overrides");
    tcase_add_test(tc, test_set_override);
    tcase_add_test(tc, test_set_errors);
    tcase_add_test(tc, test_validate);
    tcase_add_loop_test(tc, test_cache_control_for, 0, NELEMS(cc_cases));
    tcase_add_test(tc, test_cache_control_for_reads_len_bytes);
    tcase_add_test(tc, test_key_names);
    tcase_add_test(tc, test_refcount);
    suite_add_tcase(s, tc);

    tc = tcase_create("load");
    tcase_add_test(tc, test_load_missing);
    tcase_add_test(tc, test_load_file);
    tcase_add_test(tc, test_load_error_names_file);
    tcase_add_test(tc, test_load_too_big);
    tcase_add_test(tc, test_load_directory);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return ps_check_run(conf_suite());
}
