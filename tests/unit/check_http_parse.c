/* Unit tests of the HTTP/1.x request-head parser (src/pyserved/http_parse.h). */
#include "config.h"

#include <check.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_parse.h"
#include "check_run.h"

#define NELEMS(a) (sizeof(a) / sizeof((a)[0]))
/* A string literal and its length, for inputs that contain NUL bytes. */
#define S(lit) lit, sizeof(lit) - 1

static const struct http_limits lim_default = {8192, 4096, 100};
static const struct http_limits lim_small = {1024, 256, 10};

/* Parse from an exact-size heap copy: a read past len is caught by valgrind
 * or ASan instead of silently hitting the literal's NUL. */
static int parse_copy(const char *in, size_t len, const struct http_limits *lim,
                      struct http_request *req, char **keep)
{
    char *buf = malloc(len ? len : 1);
    ck_assert_ptr_nonnull(buf);
    memcpy(buf, in, len);
    memset(req, 0xa5, sizeof(*req));
    int r = http_parse_request(buf, len, lim, req);
    if (keep)
        *keep = buf;
    else
        free(buf);
    return r;
}

static bool slice_is(struct ps_slice s, const char *want)
{
    size_t n = strlen(want);
    return s.n == n && (n == 0 || memcmp(s.p, want, n) == 0);
}

#define ck_assert_slice(sl, want)                                                              \
    ck_assert_msg(slice_is((sl), (want)), "%s is \"%.*s\" (%zu bytes), expected \"%s\"", #sl,  \
                  (int)((sl).n < 200 ? (sl).n : 200), (sl).n ? (sl).p : "", (sl).n, (want))

static void assert_slice_inside(struct ps_slice s, const char *buf, size_t len, const char *what)
{
    if (s.n == 0)
        return;
    ck_assert_msg(s.p >= buf && s.p + s.n <= buf + len, "slice %s lies outside the head", what);
}

static void assert_all_slices_inside(const struct http_request *q, const char *buf, size_t len)
{
    assert_slice_inside(q->method_name, buf, len, "method_name");
    assert_slice_inside(q->target, buf, len, "target");
    assert_slice_inside(q->path, buf, len, "path");
    assert_slice_inside(q->query, buf, len, "query");
    assert_slice_inside(q->host, buf, len, "host");
    assert_slice_inside(q->if_modified_since, buf, len, "if_modified_since");
    assert_slice_inside(q->if_none_match, buf, len, "if_none_match");
    assert_slice_inside(q->if_match, buf, len, "if_match");
    assert_slice_inside(q->if_unmodified_since, buf, len, "if_unmodified_since");
    assert_slice_inside(q->range, buf, len, "range");
    assert_slice_inside(q->if_range, buf, len, "if_range");
    assert_slice_inside(q->accept_encoding, buf, len, "accept_encoding");
    assert_slice_inside(q->user_agent, buf, len, "user_agent");
    assert_slice_inside(q->referer, buf, len, "referer");
    assert_slice_inside(q->fields, buf, len, "fields");
}

/* ---- valid requests ------------------------------------------------------------ */

struct ok_case {
    const char *name;
    const char *in;
    size_t inlen;   /* 0: strlen(in) */
    size_t bodylen; /* bytes after the head in the input */
    enum http_method method;
    const char *method_name;
    int version;
    enum http_target_form form;
    const char *target;
    const char *path;  /* NULL: not checked */
    const char *query; /* "" : no query */
    const char *host;  /* "" : none */
    bool has_host_field;
    bool keep_alive;
    bool has_body;
    uint64_t content_length;
    unsigned nheaders;
};

#define H "Host: h\r\n"
/* an input that may contain NUL bytes */
#define LIT(lit) .in = lit, .inlen = sizeof(lit) - 1

/* The fields of a plain HTTP/1.1 GET in origin form with "Host: h". */
#define GET11_H                                                                               \
    .method = HTTP_M_GET, .method_name = "GET", .version = 11, .form = HTTP_T_ORIGIN,        \
    .host = "h", .has_host_field = true, .keep_alive = true, .nheaders = 1

static const struct ok_case ok_cases[] = {
    {.name = "GET 1.1", .in = "GET / HTTP/1.1\r\n" H "\r\n", GET11_H,
     .target = "/", .path = "/", .query = ""},
    {.name = "GET 1.2 read as 1.1", .in = "GET / HTTP/1.2\r\n" H "\r\n", GET11_H,
     .target = "/", .path = "/", .query = ""},
    {.name = "GET 1.9 read as 1.1, Host required", .in = "GET / HTTP/1.9\r\n" H "\r\n", GET11_H,
     .target = "/", .path = "/", .query = ""},
    {.name = "fragment left out", .in = "GET /p/q.html?a=1#frag?x HTTP/1.1\r\n" H "\r\n", GET11_H,
     .target = "/p/q.html?a=1#frag?x", .path = "/p/q.html", .query = "a=1"},
    {.name = "fragment without query", .in = "GET /p#f HTTP/1.1\r\n" H "\r\n", GET11_H,
     .target = "/p#f", .path = "/p", .query = ""},
    {.name = "HEAD 1.0 no Host", .in = "HEAD /x.txt HTTP/1.0\r\n\r\n", .method = HTTP_M_HEAD,
     .method_name = "HEAD", .version = 10, .form = HTTP_T_ORIGIN, .target = "/x.txt",
     .path = "/x.txt", .query = "", .host = "", .has_host_field = false, .keep_alive = false},
    {.name = "GET 1.0 with Host", .in = "GET /a HTTP/1.0\r\nHost: example.org\r\n\r\n",
     .method = HTTP_M_GET, .method_name = "GET", .version = 10, .form = HTTP_T_ORIGIN,
     .target = "/a", .path = "/a", .query = "", .host = "example.org", .has_host_field = true,
     .keep_alive = false, .nheaders = 1},
    {.name = "query split", .in = "GET /p/q.html?a=1&b=%20 HTTP/1.1\r\n" H "\r\n", GET11_H,
     .target = "/p/q.html?a=1&b=%20", .path = "/p/q.html", .query = "a=1&b=%20"},
    {.name = "empty query", .in = "GET /p? HTTP/1.1\r\n" H "\r\n", GET11_H,
     .target = "/p?", .path = "/p", .query = ""},
    {.name = "second ? stays in query", .in = "GET /p?a?b HTTP/1.1\r\n" H "\r\n", GET11_H,
     .target = "/p?a?b", .path = "/p", .query = "a?b"},
    {.name = "percent-encoded path kept raw",
     .in = "GET /a%20b/%2e%2e HTTP/1.1\r\n" H "\r\n", GET11_H,
     .target = "/a%20b/%2e%2e", .path = "/a%20b/%2e%2e", .query = ""},
    {.name = "absolute-form",
     .in = "GET http://example.com:8080/a/b?c=d HTTP/1.1\r\nHost: other\r\n\r\n",
     .method = HTTP_M_GET, .method_name = "GET", .version = 11, .form = HTTP_T_ABSOLUTE,
     .target = "http://example.com:8080/a/b?c=d", .path = "/a/b", .query = "c=d",
     .host = "example.com:8080", .has_host_field = true, .keep_alive = true, .nheaders = 1},
    {.name = "absolute-form 1.0 without Host", .in = "GET http://example.com/x HTTP/1.0\r\n\r\n",
     .method = HTTP_M_GET, .method_name = "GET", .version = 10, .form = HTTP_T_ABSOLUTE,
     .target = "http://example.com/x", .path = "/x", .query = "", .host = "example.com",
     .has_host_field = false, .keep_alive = false},
    {.name = "asterisk OPTIONS", .in = "OPTIONS * HTTP/1.1\r\n" H "\r\n",
     .method = HTTP_M_OPTIONS, .method_name = "OPTIONS", .version = 11, .form = HTTP_T_ASTERISK,
     .target = "*", .host = "h", .has_host_field = true, .keep_alive = true, .nheaders = 1},
    {.name = "asterisk GET (caller answers 400)", .in = "GET * HTTP/1.1\r\n" H "\r\n",
     .method = HTTP_M_GET, .method_name = "GET", .version = 11, .form = HTTP_T_ASTERISK,
     .target = "*", .host = "h", .has_host_field = true, .keep_alive = true, .nheaders = 1},
    {.name = "authority-form CONNECT",
     .in = "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n",
     .method = HTTP_M_CONNECT, .method_name = "CONNECT", .version = 11, .form = HTTP_T_OTHER,
     .target = "example.com:443", .host = "example.com:443", .has_host_field = true,
     .keep_alive = true, .nheaders = 1},
    {.name = "POST", .in = "POST /f HTTP/1.1\r\n" H "\r\n", .method = HTTP_M_POST,
     .method_name = "POST", .version = 11, .form = HTTP_T_ORIGIN, .target = "/f", .path = "/f",
     .query = "", .host = "h", .has_host_field = true, .keep_alive = true, .nheaders = 1},
    {.name = "PUT", .in = "PUT /f HTTP/1.1\r\n" H "\r\n", .method = HTTP_M_PUT,
     .method_name = "PUT", .version = 11, .form = HTTP_T_ORIGIN, .target = "/f", .path = "/f",
     .query = "", .host = "h", .has_host_field = true, .keep_alive = true, .nheaders = 1},
    {.name = "DELETE", .in = "DELETE /f HTTP/1.1\r\n" H "\r\n", .method = HTTP_M_DELETE,
     .method_name = "DELETE", .version = 11, .form = HTTP_T_ORIGIN, .target = "/f", .path = "/f",
     .query = "", .host = "h", .has_host_field = true, .keep_alive = true, .nheaders = 1},
    {.name = "TRACE", .in = "TRACE /f HTTP/1.1\r\n" H "\r\n", .method = HTTP_M_TRACE,
     .method_name = "TRACE", .version = 11, .form = HTTP_T_ORIGIN, .target = "/f", .path = "/f",
     .query = "", .host = "h", .has_host_field = true, .keep_alive = true, .nheaders = 1},
    {.name = "PATCH", .in = "PATCH /f HTTP/1.1\r\n" H "\r\n", .method = HTTP_M_PATCH,
     .method_name = "PATCH", .version = 11, .form = HTTP_T_ORIGIN, .target = "/f", .path = "/f",
     .query = "", .host = "h", .has_host_field = true, .keep_alive = true, .nheaders = 1},
    {.name = "unknown method token", .in = "M-SEARCH /f HTTP/1.1\r\n" H "\r\n",
     .method = HTTP_M_UNKNOWN, .method_name = "M-SEARCH", .version = 11, .form = HTTP_T_ORIGIN,
     .target = "/f", .path = "/f", .query = "", .host = "h", .has_host_field = true,
     .keep_alive = true, .nheaders = 1},
    {.name = "lowercase get is unknown", .in = "get /f HTTP/1.1\r\n" H "\r\n",
     .method = HTTP_M_UNKNOWN, .method_name = "get", .version = 11, .form = HTTP_T_ORIGIN,
     .target = "/f", .path = "/f", .query = "", .host = "h", .has_host_field = true,
     .keep_alive = true, .nheaders = 1},
    {.name = "GETX is unknown", .in = "GETX /f HTTP/1.1\r\n" H "\r\n", .method = HTTP_M_UNKNOWN,
     .method_name = "GETX", .version = 11, .form = HTTP_T_ORIGIN, .target = "/f", .path = "/f",
     .query = "", .host = "h", .has_host_field = true, .keep_alive = true, .nheaders = 1},
    {.name = "leading CRLFs skipped", .in = "\r\n\r\nGET / HTTP/1.1\r\n" H "\r\n", GET11_H,
     .target = "/", .path = "/", .query = ""},
    {.name = "leading bare LF skipped", .in = "\nGET / HTTP/1.1\r\n" H "\r\n", GET11_H,
     .target = "/", .path = "/", .query = ""},
    {.name = "bare LF line ends", .in = "GET /lf HTTP/1.1\nHost: h\nX-A: 1\n\n",
     .method = HTTP_M_GET, .method_name = "GET", .version = 11, .form = HTTP_T_ORIGIN,
     .target = "/lf", .path = "/lf", .query = "", .host = "h", .has_host_field = true,
     .keep_alive = true, .nheaders = 2},
    {.name = "mixed CRLF and LF", .in = "GET /m HTTP/1.1\r\nHost: h\n\r\n", GET11_H,
     .target = "/m", .path = "/m", .query = ""},
    {.name = "field names are case-insensitive",
     .in = "GET / HTTP/1.1\r\nhOsT: h\r\nCONNECTION: CLOSE\r\n\r\n", .method = HTTP_M_GET,
     .method_name = "GET", .version = 11, .form = HTTP_T_ORIGIN, .target = "/", .path = "/",
     .query = "", .host = "h", .has_host_field = true, .keep_alive = false, .nheaders = 2},
    {.name = "OWS around values", .in = "GET / HTTP/1.1\r\nHost:h\r\nX-A: \t a b \t\r\n\r\n",
     .method = HTTP_M_GET, .method_name = "GET", .version = 11, .form = HTTP_T_ORIGIN,
     .target = "/", .path = "/", .query = "", .host = "h", .has_host_field = true,
     .keep_alive = true, .nheaders = 2},
    {.name = "Host value trimmed", .in = "GET / HTTP/1.1\r\nHost: \t h:81 \t\r\n\r\n",
     .method = HTTP_M_GET, .method_name = "GET", .version = 11, .form = HTTP_T_ORIGIN,
     .target = "/", .path = "/", .query = "", .host = "h:81", .has_host_field = true,
     .keep_alive = true, .nheaders = 1},
    {.name = "Host IPv6 literal and port",
     .in = "GET / HTTP/1.1\r\nHost: [::ffff:1.2.3.4]:8080\r\n\r\n", .method = HTTP_M_GET,
     .method_name = "GET", .version = 11, .form = HTTP_T_ORIGIN, .target = "/", .path = "/",
     .query = "", .host = "[::ffff:1.2.3.4]:8080", .has_host_field = true, .keep_alive = true,
     .nheaders = 1},
    {.name = "Host IPvFuture literal", .in = "GET / HTTP/1.1\r\nHost: [v1F.fe80::a+en1]\r\n\r\n",
     .method = HTTP_M_GET, .method_name = "GET", .version = 11, .form = HTTP_T_ORIGIN,
     .target = "/", .path = "/", .query = "", .host = "[v1F.fe80::a+en1]", .has_host_field = true,
     .keep_alive = true, .nheaders = 1},
    {.name = "HTAB and obs-text in a value", .in = "GET / HTTP/1.1\r\n" H "X-A: a\tb\xe9\xff\r\n\r\n",
     .method = HTTP_M_GET, .method_name = "GET", .version = 11, .form = HTTP_T_ORIGIN,
     .target = "/", .path = "/", .query = "", .host = "h", .has_host_field = true,
     .keep_alive = true, .nheaders = 2},
    {.name = "empty field value", .in = "GET / HTTP/1.1\r\n" H "User-Agent:\r\n\r\n",
     .method = HTTP_M_GET, .method_name = "GET", .version = 11, .form = HTTP_T_ORIGIN,
     .target = "/", .path = "/", .query = "", .host = "h", .has_host_field = true,
     .keep_alive = true, .nheaders = 2},
    {.name = "Content-Length 0", .in = "GET / HTTP/1.1\r\n" H "Content-Length: 0\r\n\r\n",
     .method = HTTP_M_GET, .method_name = "GET", .version = 11, .form = HTTP_T_ORIGIN,
     .target = "/", .path = "/", .query = "", .host = "h", .has_host_field = true,
     .keep_alive = true, .has_body = false, .content_length = 0, .nheaders = 2},
    {.name = "Content-Length 5 with body",
     .in = "GET / HTTP/1.1\r\n" H "Content-Length: 5\r\n\r\nhello", .bodylen = 5,
     .method = HTTP_M_GET, .method_name = "GET", .version = 11, .form = HTTP_T_ORIGIN,
     .target = "/", .path = "/", .query = "", .host = "h", .has_host_field = true,
     .keep_alive = true, .has_body = true, .content_length = 5, .nheaders = 2},
    {.name = "repeated identical Content-Length",
     .in = "POST / HTTP/1.1\r\n" H "Content-Length: 7\r\ncontent-length: 7\r\n\r\n",
     .method = HTTP_M_POST, .method_name = "POST", .version = 11, .form = HTTP_T_ORIGIN,
     .target = "/", .path = "/", .query = "", .host = "h", .has_host_field = true,
     .keep_alive = true, .has_body = true, .content_length = 7, .nheaders = 3},
    {.name = "large Content-Length",
     .in = "POST / HTTP/1.1\r\n" H "Content-Length: 1000000000000000000\r\n\r\n",
     .method = HTTP_M_POST, .method_name = "POST", .version = 11, .form = HTTP_T_ORIGIN,
     .target = "/", .path = "/", .query = "", .host = "h", .has_host_field = true,
     .keep_alive = true, .has_body = true, .content_length = 1000000000000000000ULL, .nheaders = 2},
    {.name = "Transfer-Encoding chunked",
     .in = "POST / HTTP/1.1\r\n" H "Transfer-Encoding: chunked\r\n\r\n", .method = HTTP_M_POST,
     .method_name = "POST", .version = 11, .form = HTTP_T_ORIGIN, .target = "/", .path = "/",
     .query = "", .host = "h", .has_host_field = true, .keep_alive = true, .has_body = true,
     .nheaders = 2},
    {.name = "Transfer-Encoding Chunked (case)",
     .in = "POST / HTTP/1.1\r\n" H "Transfer-Encoding: Chunked\r\n\r\n", .method = HTTP_M_POST,
     .method_name = "POST", .version = 11, .form = HTTP_T_ORIGIN, .target = "/", .path = "/",
     .query = "", .host = "h", .has_host_field = true, .keep_alive = true, .has_body = true,
     .nheaders = 2},
    {.name = "Transfer-Encoding list with empty elements, and an empty second line",
     .in = "POST / HTTP/1.1\r\n" H "Transfer-Encoding: , chunked ,\r\nTransfer-Encoding:\r\n\r\n",
     .method = HTTP_M_POST, .method_name = "POST", .version = 11, .form = HTTP_T_ORIGIN,
     .target = "/", .path = "/", .query = "", .host = "h", .has_host_field = true,
     .keep_alive = true, .has_body = true, .nheaders = 3},
    {.name = "NUL-free head followed by binary body",
     LIT("PUT /b HTTP/1.1\r\n" H "Content-Length: 3\r\n\r\n\0\r\n"), .bodylen = 3,
     .method = HTTP_M_PUT, .method_name = "PUT", .version = 11, .form = HTTP_T_ORIGIN,
     .target = "/b", .path = "/b", .query = "", .host = "h", .has_host_field = true,
     .keep_alive = true, .has_body = true, .content_length = 3, .nheaders = 2},
};

static size_t ok_inlen(const struct ok_case *t)
{
    return t->inlen ? t->inlen : strlen(t->in);
}

static size_t ok_headlen(const struct ok_case *t)
{
    return ok_inlen(t) - t->bodylen;
}

static void check_ok_fields(const struct ok_case *t, const struct http_request *q)
{
    ck_assert_msg(q->method == t->method, "%s: method %d, expected %d", t->name, q->method,
                  t->method);
    ck_assert_slice(q->method_name, t->method_name);
    ck_assert_int_eq(q->version, t->version);
    ck_assert_msg(q->form == t->form, "%s: form %d, expected %d", t->name, q->form, t->form);
    ck_assert_slice(q->target, t->target);
    if (t->path)
        ck_assert_slice(q->path, t->path);
    if (t->query)
        ck_assert_slice(q->query, t->query);
    ck_assert_slice(q->host, t->host);
    ck_assert_msg(q->has_host_field == t->has_host_field, "%s: has_host_field %d", t->name,
                  q->has_host_field);
    ck_assert_msg(q->keep_alive == t->keep_alive, "%s: keep_alive %d", t->name, q->keep_alive);
    ck_assert_msg(q->has_body == t->has_body, "%s: has_body %d", t->name, q->has_body);
    if (t->has_body || t->content_length)
        ck_assert_msg(q->content_length == t->content_length, "%s: content_length %ju", t->name,
                      (uintmax_t)q->content_length);
    ck_assert_msg(q->nheaders == t->nheaders, "%s: nheaders %u, expected %u", t->name,
                  q->nheaders, t->nheaders);
}

START_TEST(test_ok)
{
    const struct ok_case *t = &ok_cases[_i];
    size_t len = ok_inlen(t);
    struct http_request q;
    char *buf;
    int r = parse_copy(t->in, len, &lim_default, &q, &buf);
    ck_assert_msg(r == (int)ok_headlen(t), "%s: returned %d, expected %zu", t->name, r,
                  ok_headlen(t));
    check_ok_fields(t, &q);
    assert_all_slices_inside(&q, buf, (size_t)r);
    free(buf);
}
END_TEST

/* Every proper prefix of the head is "again"; from the full head on, the
 * result is the head length whatever follows. */
START_TEST(test_ok_split)
{
    const struct ok_case *t = &ok_cases[_i];
    size_t len = ok_inlen(t), head = ok_headlen(t);
    struct http_request q;
    for (size_t k = 0; k <= len; k++) {
        int r = parse_copy(t->in, k, &lim_default, &q, NULL);
        if (k < head)
            ck_assert_msg(r == HTTP_PARSE_AGAIN, "%s: prefix of %zu/%zu bytes returned %d", t->name,
                          k, head, r);
        else
            ck_assert_msg(r == (int)head, "%s: %zu bytes returned %d, expected %zu", t->name, k, r,
                          head);
    }
}
END_TEST

/* The result does not depend on the bytes after the head (pipelining). */
START_TEST(test_ok_trailing_bytes)
{
    const struct ok_case *t = &ok_cases[_i];
    size_t head = ok_headlen(t);
    static const char junk[] = "GARBAGE \x01\x02\r\n\r\n";
    char *buf = malloc(head + sizeof(junk) - 1);
    ck_assert_ptr_nonnull(buf);
    memcpy(buf, t->in, head);
    memcpy(buf + head, junk, sizeof(junk) - 1);
    struct http_request q;
    int r = parse_copy(buf, head + sizeof(junk) - 1, &lim_default, &q, NULL);
    free(buf);
    ck_assert_msg(r == (int)head, "%s: returned %d, expected %zu", t->name, r, head);
}
END_TEST

START_TEST(test_empty_and_blank)
{
    struct http_request q;
    ck_assert_int_eq(parse_copy("", 0, &lim_default, &q, NULL), HTTP_PARSE_AGAIN);
    ck_assert_int_eq(parse_copy(S("\r\n"), &lim_default, &q, NULL), HTTP_PARSE_AGAIN);
    ck_assert_int_eq(parse_copy(S("\r\n\r\n\n"), &lim_default, &q, NULL), HTTP_PARSE_AGAIN);
    ck_assert_int_eq(parse_copy(S("GET"), &lim_default, &q, NULL), HTTP_PARSE_AGAIN);
}
END_TEST

/* ---- field slices --------------------------------------------------------- */

START_TEST(test_field_slices)
{
    static const char in[] = "GET /f HTTP/1.1\r\n"
                             "Host: example.org\r\n"
                             "Range: bytes=0-99\r\n"
                             "If-None-Match: \"abc\", W/\"def\"\r\n"
                             "If-Modified-Since: Sun, 06 Nov 1994 08:49:37 GMT\r\n"
                             "If-Match: *\r\n"
                             "If-Unmodified-Since: Mon, 07 Nov 1994 08:49:37 GMT\r\n"
                             "If-Range: \"abc\"\r\n"
                             "Accept-Encoding: gzip, br\r\n"
                             "User-Agent: test/1.0 (x)\r\n"
                             "Referer: http://example.org/\r\n"
                             "X-Other: 1\r\n"
                             "\r\n";
    struct http_request q;
    char *buf;
    int r = parse_copy(S(in), &lim_default, &q, &buf);
    ck_assert_int_eq(r, (int)sizeof(in) - 1);
    ck_assert_slice(q.host, "example.org");
    ck_assert_slice(q.range, "bytes=0-99");
    ck_assert_slice(q.if_none_match, "\"abc\", W/\"def\"");
    ck_assert_slice(q.if_modified_since, "Sun, 06 Nov 1994 08:49:37 GMT");
    ck_assert_slice(q.if_match, "*");
    ck_assert_slice(q.if_unmodified_since, "Mon, 07 Nov 1994 08:49:37 GMT");
    ck_assert_slice(q.if_range, "\"abc\"");
    ck_assert_slice(q.accept_encoding, "gzip, br");
    ck_assert_slice(q.user_agent, "test/1.0 (x)");
    ck_assert_slice(q.referer, "http://example.org/");
    ck_assert_uint_eq(q.nheaders, 11);
    ck_assert_uint_eq(q.repeated, 0);
    /* the field lines: from the Host line to the empty line */
    ck_assert_ptr_eq(q.fields.p, buf + strlen("GET /f HTTP/1.1\r\n"));
    ck_assert_uint_eq(q.fields.n, sizeof(in) - 1 - strlen("GET /f HTTP/1.1\r\n") - 2);
    assert_all_slices_inside(&q, buf, (size_t)r);
    free(buf);
}
END_TEST

/* A field given twice: its first line, and its bit in repeated. */
START_TEST(test_field_slices_repeated)
{
    static const struct {
        const char *name;
        unsigned bit;
    } f[] = {
        {"Range", HTTP_REP_RANGE},
        {"If-Range", HTTP_REP_IF_RANGE},
        {"If-Match", HTTP_REP_IF_MATCH},
        {"If-None-Match", HTTP_REP_IF_NONE_MATCH},
        {"If-Modified-Since", HTTP_REP_IF_MODIFIED_SINCE},
        {"If-Unmodified-Since", HTTP_REP_IF_UNMODIFIED_SINCE},
    };
    char in[256];
    for (size_t i = 0; i < NELEMS(f); i++) {
        snprintf(in, sizeof(in), "GET / HTTP/1.1\r\n%s: one\r\nHost: h\r\n%s: two\r\n\r\n", f[i].name,
                 f[i].name);
        struct http_request q;
        char *buf;
        ck_assert_int_eq(parse_copy(in, strlen(in), &lim_default, &q, &buf), (int)strlen(in));
        ck_assert_msg(q.repeated == f[i].bit, "%s: repeated %#x", f[i].name, q.repeated);
        struct ps_slice first = f[i].bit == HTTP_REP_RANGE ? q.range
                                : f[i].bit == HTTP_REP_IF_RANGE ? q.if_range
                                : f[i].bit == HTTP_REP_IF_MATCH ? q.if_match
                                : f[i].bit == HTTP_REP_IF_NONE_MATCH ? q.if_none_match
                                : f[i].bit == HTTP_REP_IF_MODIFIED_SINCE ? q.if_modified_since
                                                                          : q.if_unmodified_since;
        ck_assert_slice(first, "one");
        free(buf);
    }
}
END_TEST

START_TEST(test_field_slices_absent)
{
    struct http_request q;
    int r = parse_copy(S("GET / HTTP/1.1\r\nHost: h\r\n\r\n"), &lim_default, &q, NULL);
    ck_assert_int_gt(r, 0);
    ck_assert_uint_eq(q.range.n, 0);
    ck_assert_uint_eq(q.if_none_match.n, 0);
    ck_assert_uint_eq(q.if_modified_since.n, 0);
    ck_assert_uint_eq(q.if_match.n, 0);
    ck_assert_uint_eq(q.if_unmodified_since.n, 0);
    ck_assert_uint_eq(q.if_range.n, 0);
    ck_assert_uint_eq(q.accept_encoding.n, 0);
    ck_assert_uint_eq(q.user_agent.n, 0);
    ck_assert_uint_eq(q.referer.n, 0);
    ck_assert_uint_eq(q.query.n, 0);
    ck_assert(!q.has_body);
}
END_TEST

START_TEST(test_field_slices_trimmed)
{
    struct http_request q;
    char *buf;
    int r = parse_copy(S("GET / HTTP/1.1\r\nHost: h\r\nrange:\t bytes=1-2 \t\r\n"
                         "IF-NONE-MATCH:\"x\"\r\n\r\n"),
                       &lim_default, &q, &buf);
    ck_assert_int_gt(r, 0);
    ck_assert_slice(q.range, "bytes=1-2");
    ck_assert_slice(q.if_none_match, "\"x\"");
    free(buf);
}
END_TEST

/* ---- keep-alive (RFC 9112 section 9.3) -------------------------------------- */

struct ka_case {
    const char *version;
    const char *fields; /* Connection lines, each ending in \r\n */
    bool keep_alive;
};

static const struct ka_case ka_cases[] = {
    {"HTTP/1.1", "", true},
    {"HTTP/1.1", "Connection: close\r\n", false},
    {"HTTP/1.1", "Connection: Close\r\n", false},
    {"HTTP/1.1", "Connection: CLOSE\r\n", false},
    {"HTTP/1.1", "Connection: foo, close\r\n", false},
    {"HTTP/1.1", "Connection: foo,close\r\n", false},
    {"HTTP/1.1", "Connection: close, foo\r\n", false},
    {"HTTP/1.1", "Connection: , close\r\n", false},
    {"HTTP/1.1", "Connection: foo\r\nConnection: close\r\n", false},
    {"HTTP/1.1", "Connection: keep-alive, close\r\n", false},
    {"HTTP/1.1", "Connection: keep-alive\r\n", true},
    {"HTTP/1.1", "Connection: closed\r\n", true},
    {"HTTP/1.1", "Connection: x-close\r\n", true},
    {"HTTP/1.1", "Connection: foo\r\n", true},
    {"HTTP/1.1", "Connection:\r\n", true},
    {"HTTP/1.0", "", false},
    {"HTTP/1.0", "Connection: keep-alive\r\n", true},
    {"HTTP/1.0", "Connection: Keep-Alive\r\n", true},
    {"HTTP/1.0", "Connection: foo, keep-alive\r\n", true},
    {"HTTP/1.0", "Connection: foo\r\nConnection: keep-alive\r\n", true},
    {"HTTP/1.0", "Connection: keep-alive, close\r\n", false},
    {"HTTP/1.0", "Connection: close, keep-alive\r\n", false},
    {"HTTP/1.0", "Connection: keep-alivex\r\n", false},
    {"HTTP/1.0", "Connection: close\r\n", false},
    {"HTTP/1.0", "Keep-Alive: timeout=5\r\n", false},
};

START_TEST(test_keep_alive)
{
    const struct ka_case *t = &ka_cases[_i];
    char in[512];
    int n = snprintf(in, sizeof(in), "GET / %s\r\nHost: h\r\n%s\r\n", t->version, t->fields);
    ck_assert(n > 0 && (size_t)n < sizeof(in));
    struct http_request q;
    int r = parse_copy(in, (size_t)n, &lim_default, &q, NULL);
    ck_assert_msg(r == n, "%s / %s: returned %d", t->version, t->fields, r);
    ck_assert_msg(q.keep_alive == t->keep_alive, "%s with \"%s\": keep_alive %d, expected %d",
                  t->version, t->fields, q.keep_alive, t->keep_alive);
}
END_TEST

/* ---- pipelining ---------------------------------------------------------------- */

START_TEST(test_pipelined)
{
    static const char in[] = "GET /a HTTP/1.1\r\nHost: h\r\n\r\n"
                             "HEAD /b?x HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n";
    const size_t first = strlen("GET /a HTTP/1.1\r\nHost: h\r\n\r\n");
    struct http_request q;
    char *buf;
    int r = parse_copy(S(in), &lim_default, &q, &buf);
    ck_assert_int_eq(r, (int)first);
    ck_assert_int_eq(q.method, HTTP_M_GET);
    ck_assert_slice(q.path, "/a");
    ck_assert(q.keep_alive);

    int r2 = http_parse_request(buf + r, sizeof(in) - 1 - (size_t)r, &lim_default, &q);
    ck_assert_int_eq(r2, (int)(sizeof(in) - 1 - first));
    ck_assert_int_eq(q.method, HTTP_M_HEAD);
    ck_assert_slice(q.path, "/b");
    ck_assert_slice(q.query, "x");
    ck_assert(!q.keep_alive);
    assert_all_slices_inside(&q, buf + r, (size_t)r2);
    free(buf);
}
END_TEST

START_TEST(test_pipelined_second_incomplete)
{
    static const char in[] = "GET /a HTTP/1.1\r\nHost: h\r\n\r\nGET /b HTTP/1.1\r\nHo";
    const size_t first = strlen("GET /a HTTP/1.1\r\nHost: h\r\n\r\n");
    struct http_request q;
    char *buf;
    int r = parse_copy(S(in), &lim_default, &q, &buf);
    ck_assert_int_eq(r, (int)first);
    ck_assert_int_eq(http_parse_request(buf + r, sizeof(in) - 1 - first, &lim_default, &q),
                     HTTP_PARSE_AGAIN);
    free(buf);
}
END_TEST

START_TEST(test_pipelined_crlf_between)
{
    /* A client may send an extra CRLF after a request (RFC 9112 section 2.2). */
    static const char in[] = "GET /a HTTP/1.0\r\n\r\n\r\nGET /b HTTP/1.0\r\n\r\n";
    const size_t first = strlen("GET /a HTTP/1.0\r\n\r\n");
    struct http_request q;
    char *buf;
    int r = parse_copy(S(in), &lim_default, &q, &buf);
    ck_assert_int_eq(r, (int)first);
    int r2 = http_parse_request(buf + r, sizeof(in) - 1 - first, &lim_default, &q);
    ck_assert_int_eq(r2, (int)(sizeof(in) - 1 - first));
    ck_assert_slice(q.path, "/b");
    free(buf);
}
END_TEST

START_TEST(test_pipelined_many)
{
    /* 50 requests back to back, parsed one after the other. */
    static const char one[] = "GET /n HTTP/1.1\r\nHost: h\r\n\r\n";
    const size_t n1 = sizeof(one) - 1, count = 50;
    char *buf = malloc(n1 * count);
    ck_assert_ptr_nonnull(buf);
    for (size_t i = 0; i < count; i++)
        memcpy(buf + i * n1, one, n1);
    size_t off = 0, seen = 0;
    struct http_request q;
    while (off < n1 * count && seen < count + 1) {
        int r = http_parse_request(buf + off, n1 * count - off, &lim_default, &q);
        ck_assert_int_eq(r, (int)n1);
        ck_assert_slice(q.path, "/n");
        off += (size_t)r;
        seen++;
    }
    ck_assert_uint_eq(seen, count);
    free(buf);
}
END_TEST

/* ---- errors ------------------------------------------------------------------- */

struct err_case {
    const char *name;
    const char *in;
    size_t len;
    int status;
};

#define E(name, lit, st) {name, lit, sizeof(lit) - 1, -(st)}

static const struct err_case err_cases[] = {
    /* request line */
    E("bad method char (", "G(T / HTTP/1.1\r\n" H "\r\n", 400),
    E("bad method char @", "G@T / HTTP/1.1\r\n" H "\r\n", 400),
    E("bad method char [", "[GET] / HTTP/1.1\r\n" H "\r\n", 400),
    E("bad method char DEL", "G\x7fT / HTTP/1.1\r\n" H "\r\n", 400),
    E("bad method char 8bit", "G\xc3\x89T / HTTP/1.1\r\n" H "\r\n", 400),
    E("empty method", " / HTTP/1.1\r\n" H "\r\n", 400),
    E("missing version (HTTP/0.9 form)", "GET /\r\n\r\n", 400),
    E("missing version, trailing SP", "GET / \r\n" H "\r\n", 400),
    E("only a method", "GET\r\n" H "\r\n", 400),
    E("space in target", "GET /a b HTTP/1.1\r\n" H "\r\n", 400),
    E("CTL in target", "GET /a\x01 HTTP/1.1\r\n" H "\r\n", 400),
    E("DEL in target", "GET /a\x7f HTTP/1.1\r\n" H "\r\n", 400),
    E("NUL in target", "GET /a\0 HTTP/1.1\r\n" H "\r\n", 400),
    E("NUL in method", "G\0T / HTTP/1.1\r\n" H "\r\n", 400),
    E("version HTTP/1", "GET / HTTP/1\r\n" H "\r\n", 400),
    E("version HTTX/1.1", "GET / HTTX/1.1\r\n" H "\r\n", 400),
    E("version lowercase", "GET / http/1.1\r\n" H "\r\n", 400),
    E("version HTTP/1.1x", "GET / HTTP/1.1x\r\n" H "\r\n", 400),
    E("version HTTP/11", "GET / HTTP/11\r\n" H "\r\n", 400),
    E("version HTTP/1.", "GET / HTTP/1.\r\n" H "\r\n", 400),
    E("version HTTP/a.b", "GET / HTTP/a.b\r\n" H "\r\n", 400),
    E("bare CR in request line", "GET / HTTP/1.1\rHost: h\r\n\r\n", 400),
    E("bare CR in target", "GET /a\rb HTTP/1.1\r\n" H "\r\n", 400),
    /* Host */
    E("1.1 without Host", "GET / HTTP/1.1\r\n\r\n", 400),
    E("1.1 absolute-form without Host", "GET http://h/ HTTP/1.1\r\n\r\n", 400),
    E("1.1 two Host fields", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400),
    E("1.1 two identical Host fields", "GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n", 400),
    /* Host: uri-host [":" port] */
    E("Host port without a host", "GET / HTTP/1.1\r\nHost: :80\r\n\r\n", 400),
    E("Host empty IP literal", "GET / HTTP/1.1\r\nHost: []\r\n\r\n", 400),
    E("Host absolute-form port without a host", "GET http://:80/ HTTP/1.1\r\n" H "\r\n", 400),
    /* RFC 9110 4.2.1: an http URI with an empty host is invalid */
    E("absolute-form empty authority", "GET http:///x HTTP/1.1\r\n" H "\r\n", 400),
    E("absolute-form empty authority, query", "GET http://?q HTTP/1.1\r\n" H "\r\n", 400),
    E("absolute-form empty authority, nothing after", "GET http:// HTTP/1.1\r\n" H "\r\n", 400),
    E("https absolute-form empty authority", "GET https:///x HTTP/1.1\r\n" H "\r\n", 400),
    E("Host port not digits", "GET / HTTP/1.1\r\nHost: x:abc\r\n\r\n", 400),
    E("Host two colons", "GET / HTTP/1.1\r\nHost: a:b:c\r\n\r\n", 400),
    E("Host IP literal not closed", "GET / HTTP/1.1\r\nHost: [::1\r\n\r\n", 400),
    E("Host bracket in a name", "GET / HTTP/1.1\r\nHost: a]b\r\n\r\n", 400),
    E("Host text after an IP literal", "GET / HTTP/1.1\r\nHost: [::1]x\r\n\r\n", 400),
    E("Host IP literal of a name", "GET / HTTP/1.1\r\nHost: [a]\r\n\r\n", 400),
    E("Host IP literal of an IPv4 address", "GET / HTTP/1.1\r\nHost: [1.2.3.4]:80\r\n\r\n", 400),
    E("Host IP literal, bad IPv6", "GET / HTTP/1.1\r\nHost: [1::2::3]\r\n\r\n", 400),
    E("Host IP literal, IPvFuture without a dot", "GET / HTTP/1.1\r\nHost: [v1]\r\n\r\n", 400),
    E("Host IP literal, IPvFuture without hex", "GET / HTTP/1.1\r\nHost: [v.x]\r\n\r\n", 400),
    E("Host IP literal, IPvFuture empty", "GET / HTTP/1.1\r\nHost: [v1.]\r\n\r\n", 400),
    E("Host absolute-form IP literal of a name", "GET http://[a]/ HTTP/1.1\r\n" H "\r\n", 400),
    E("Host absolute-form port not digits", "GET http://x:abc/ HTTP/1.1\r\n" H "\r\n", 400),
    /* the authority of an absolute-form target is held to the Host rules */
    E("absolute-form authority with a quote", "GET http://a\"b/ HTTP/1.1\r\n" H "\r\n", 400),
    E("absolute-form authority with a brace", "GET http://a{b}/ HTTP/1.1\r\n" H "\r\n", 400),
    E("absolute-form authority with obs-text", "GET http://a\xc3\xa9/ HTTP/1.1\r\n" H "\r\n",
      400),
    E("absolute-form authority with a backslash", "GET http://a\\b/ HTTP/1.1\r\n" H "\r\n", 400),
    /* field lines */
    E("space before colon", "GET / HTTP/1.1\r\nHost : h\r\n\r\n", 400),
    E("tab before colon", "GET / HTTP/1.1\r\n" H "X-A\t: 1\r\n\r\n", 400),
    E("no colon", "GET / HTTP/1.1\r\n" H "X-A 1\r\n\r\n", 400),
    E("empty field name", "GET / HTTP/1.1\r\n" H ": 1\r\n\r\n", 400),
    E("bad char in field name", "GET / HTTP/1.1\r\n" H "X(A: 1\r\n\r\n", 400),
    E("obs-fold", "GET / HTTP/1.1\r\n" H "X-A: b\r\n c\r\n\r\n", 400),
    E("obs-fold with tab", "GET / HTTP/1.1\r\n" H "X-A: b\r\n\tc\r\n\r\n", 400),
    E("whitespace before first field", "GET / HTTP/1.1\r\n Host: h\r\n\r\n", 400),
    E("CTL in value", "GET / HTTP/1.1\r\n" H "X-A: b\x01" "c\r\n\r\n", 400),
    E("ESC in value", "GET / HTTP/1.1\r\n" H "X-A: \x1b[0m\r\n\r\n", 400),
    E("DEL in value", "GET / HTTP/1.1\r\n" H "X-A: b\x7f\r\n\r\n", 400),
    E("NUL in value", "GET / HTTP/1.1\r\n" H "X-A: b\0c\r\n\r\n", 400),
    E("bare CR in value", "GET / HTTP/1.1\r\n" H "X-A: b\rc\r\n\r\n", 400),
    E("bare CR ending a field", "GET / HTTP/1.1\r\n" H "X-A: b\r\r\n\r\n", 400),
    E("bare CR as the empty line", "GET / HTTP/1.1\r\n" H "\rX\r\n\r\n", 400),
    /* body framing (RFC 9112 section 6) */
    E("Content-Length abc", "POST / HTTP/1.1\r\n" H "Content-Length: abc\r\n\r\n", 400),
    E("Content-Length -1", "POST / HTTP/1.1\r\n" H "Content-Length: -1\r\n\r\n", 400),
    E("Content-Length +1", "POST / HTTP/1.1\r\n" H "Content-Length: +1\r\n\r\n", 400),
    E("Content-Length empty", "POST / HTTP/1.1\r\n" H "Content-Length:\r\n\r\n", 400),
    E("Content-Length 1 2", "POST / HTTP/1.1\r\n" H "Content-Length: 1 2\r\n\r\n", 400),
    E("Content-Length 0x10", "POST / HTTP/1.1\r\n" H "Content-Length: 0x10\r\n\r\n", 400),
    E("Content-Length overflow",
      "POST / HTTP/1.1\r\n" H "Content-Length: 18446744073709551616\r\n\r\n", 400),
    E("two differing Content-Length",
      "POST / HTTP/1.1\r\n" H "Content-Length: 5\r\nContent-Length: 6\r\n\r\n", 400),
    E("Content-Length list ending in a comma", "POST / HTTP/1.1\r\n" H "Content-Length: 5,\r\n\r\n",
      400),
    E("Content-Length empty on a second line",
      "POST / HTTP/1.1\r\n" H "Content-Length: 5\r\nContent-Length:\r\n\r\n", 400),
    E("differing Content-Length list", "POST / HTTP/1.1\r\n" H "Content-Length: 5, 6\r\n\r\n",
      400),
    E("Content-Length and Transfer-Encoding",
      "POST / HTTP/1.1\r\n" H "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", 400),
    E("Transfer-Encoding and Content-Length",
      "POST / HTTP/1.1\r\n" H "Transfer-Encoding: chunked\r\nContent-Length: 0\r\n\r\n", 400),
    /* versions */
    E("HTTP/2.0", "GET / HTTP/2.0\r\n" H "\r\n", 505),
    E("HTTP/3.0", "GET / HTTP/3.0\r\n" H "\r\n", 505),
    E("HTTP/0.9 with version", "GET / HTTP/0.9\r\n\r\n", 505),
    E("HTTP/9.9", "GET / HTTP/9.9\r\n\r\n", 505),
    /* transfer codings: chunked must be last, and once (400, RFC 9112
     * sections 6.1 and 6.3); a coding before it that we do not know is 501 */
    E("Transfer-Encoding gzip", "POST / HTTP/1.1\r\n" H "Transfer-Encoding: gzip\r\n\r\n", 400),
    E("Transfer-Encoding identity", "POST / HTTP/1.1\r\n" H "Transfer-Encoding: identity\r\n\r\n",
      400),
    E("Transfer-Encoding gzip, chunked",
      "POST / HTTP/1.1\r\n" H "Transfer-Encoding: gzip, chunked\r\n\r\n", 501),
    E("Transfer-Encoding chunked, gzip",
      "POST / HTTP/1.1\r\n" H "Transfer-Encoding: chunked, gzip\r\n\r\n", 400),
    E("Transfer-Encoding chunked, chunked",
      "POST / HTTP/1.1\r\n" H "Transfer-Encoding: chunked, chunked\r\n\r\n", 400),
    E("Transfer-Encoding on two lines",
      "POST / HTTP/1.1\r\n" H "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
      400),
    E("Transfer-Encoding empty", "POST / HTTP/1.1\r\n" H "Transfer-Encoding:\r\n\r\n", 400),
    E("Transfer-Encoding commas only", "POST / HTTP/1.1\r\n" H "Transfer-Encoding: , ,\r\n\r\n",
      400),
    E("Transfer-Encoding not a token", "POST / HTTP/1.1\r\n" H "Transfer-Encoding: (x), chunked\r\n\r\n",
      400),
    E("Transfer-Encoding a token and more", "POST / HTTP/1.1\r\n" H
      "Transfer-Encoding: g@zip, chunked\r\n\r\n", 400),
    E("Transfer-Encoding two words", "POST / HTTP/1.1\r\n" H "Transfer-Encoding: x y, chunked\r\n\r\n",
      400),
    E("Transfer-Encoding a parameter", "POST / HTTP/1.1\r\n" H
      "Transfer-Encoding: gzip;q=1, chunked\r\n\r\n", 501),
    E("Transfer-Encoding chunked with a parameter", "POST / HTTP/1.1\r\n" H
      "Transfer-Encoding: chunked;x=1\r\n\r\n", 400),
    E("Transfer-Encoding one list over two lines", "POST / HTTP/1.1\r\n" H
      "Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n", 501),
};

START_TEST(test_err)
{
    const struct err_case *t = &err_cases[_i];
    struct http_request q;
    int r = parse_copy(t->in, t->len, &lim_default, &q, NULL);
    ck_assert_msg(r == t->status, "%s: returned %d, expected %d", t->name, r, t->status);
}
END_TEST

/* An error found in a complete head stays an error when more bytes follow. */
START_TEST(test_err_trailing_bytes)
{
    const struct err_case *t = &err_cases[_i];
    static const char more[] = "GET / HTTP/1.1\r\nHost: h\r\n\r\n";
    char *buf = malloc(t->len + sizeof(more) - 1);
    ck_assert_ptr_nonnull(buf);
    memcpy(buf, t->in, t->len);
    memcpy(buf + t->len, more, sizeof(more) - 1);
    struct http_request q;
    int r = parse_copy(buf, t->len + sizeof(more) - 1, &lim_default, &q, NULL);
    free(buf);
    ck_assert_msg(r == t->status, "%s: returned %d, expected %d", t->name, r, t->status);
}
END_TEST

/* The connection answers a refused HEAD without a body: the method is set
 * once "HEAD " was read, whatever comes after it, and not before. */
START_TEST(test_err_keeps_method)
{
    static const struct {
        const char *in;
        int status;
        enum http_method m;
    } t[] = {
        {"HEAD / HTTP/1.1\r\n\r\n", -400, HTTP_M_HEAD},
        {"HEAD / HTTP/2.0\r\nHost: h\r\n\r\n", -505, HTTP_M_HEAD},
        {"HEAD / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: x, chunked\r\n\r\n", -501, HTTP_M_HEAD},
        {"HEAD /\x01 HTTP/1.1\r\nHost: h\r\n\r\n", -400, HTTP_M_HEAD},
        {"HEAD\t/ HTTP/1.1\r\nHost: h\r\n\r\n", -400, HTTP_M_UNKNOWN},
        {"HEAD(/ HTTP/1.1\r\nHost: h\r\n\r\n", -400, HTTP_M_UNKNOWN},
    };
    for (size_t i = 0; i < NELEMS(t); i++) {
        struct http_request q;
        int r = parse_copy(t[i].in, strlen(t[i].in), &lim_default, &q, NULL);
        ck_assert_msg(r == t[i].status, "case %zu: returned %d, expected %d", i, r, t[i].status);
        ck_assert_msg(q.method == t[i].m, "case %zu: method %d, expected %d", i, (int)q.method,
                      (int)t[i].m);
    }
}
END_TEST

/* ---- limits (414, 431) -------------------------------------------------------- */

/* A heap buffer "GET /aaa...a HTTP/1.1\r\nHost: h\r\n\r\n" whose target is
 * tlen bytes; *len receives its size. */
static char *make_target_request(size_t tlen, size_t *len)
{
    static const char pre[] = "GET /", post[] = " HTTP/1.1\r\nHost: h\r\n\r\n";
    *len = sizeof(pre) - 1 + (tlen - 1) + sizeof(post) - 1;
    char *b = malloc(*len);
    ck_assert_ptr_nonnull(b);
    memcpy(b, pre, sizeof(pre) - 1);
    memset(b + sizeof(pre) - 1, 'a', tlen - 1);
    memcpy(b + sizeof(pre) - 1 + tlen - 1, post, sizeof(post) - 1);
    return b;
}

START_TEST(test_uri_limit_exact)
{
    size_t len;
    char *b = make_target_request(lim_small.max_uri, &len);
    struct http_request q;
    int r = parse_copy(b, len, &lim_small, &q, NULL);
    free(b);
    ck_assert_int_eq(r, (int)len);
    ck_assert_uint_eq(q.target.n, lim_small.max_uri);
}
END_TEST

START_TEST(test_uri_limit_over)
{
    size_t len;
    char *b = make_target_request(lim_small.max_uri + 1, &len);
    struct http_request q;
    int r = parse_copy(b, len, &lim_small, &q, NULL);
    free(b);
    ck_assert_int_eq(r, -414);
}
END_TEST

START_TEST(test_uri_limit_over_with_query)
{
    /* the limit is on the whole request-target, query included */
    char b[512];
    int n = snprintf(b, sizeof(b), "GET /a?%0*d HTTP/1.1\r\nHost: h\r\n\r\n",
                     (int)lim_small.max_uri - 2, 0);
    ck_assert(n > 0 && (size_t)n < sizeof(b));
    struct http_request q;
    ck_assert_int_eq(parse_copy(b, (size_t)n, &lim_small, &q, NULL), -414);
}
END_TEST

START_TEST(test_uri_limit_incomplete_line_at_max_head)
{
    /* The request line is still open when max_head bytes have arrived. */
    size_t len = lim_small.max_head;
    char *b = malloc(len);
    ck_assert_ptr_nonnull(b);
    memcpy(b, "GET /", 5);
    memset(b + 5, 'a', len - 5);
    struct http_request q;
    int r = parse_copy(b, len, &lim_small, &q, NULL);
    ck_assert_int_eq(r, -414);
    /* one byte more than max_head: still 414 */
    char *b2 = malloc(len + 1);
    ck_assert_ptr_nonnull(b2);
    memcpy(b2, b, len);
    b2[len] = 'a';
    r = parse_copy(b2, len + 1, &lim_small, &q, NULL);
    ck_assert_int_eq(r, -414);
    /* before max_head the parser may wait or answer 414 early */
    r = parse_copy(b, lim_small.max_uri + 10, &lim_small, &q, NULL);
    ck_assert_msg(r == HTTP_PARSE_AGAIN || r == -414, "returned %d", r);
    free(b);
    free(b2);
}
END_TEST

START_TEST(test_uri_limit_incomplete_method_at_max_head)
{
    /* Still inside the method token: a method longer than any we know,
     * 501 (RFC 9112 section 3). */
    size_t len = lim_small.max_head;
    char *b = malloc(len);
    ck_assert_ptr_nonnull(b);
    memset(b, 'G', len);
    struct http_request q;
    int r = parse_copy(b, len, &lim_small, &q, NULL);
    free(b);
    ck_assert_int_eq(r, -501);
}
END_TEST

/* "GET / HTTP/1.1\r\nHost: h\r\nX-Pad: aaa...\r\n\r\n" of exactly total bytes. */
static char *make_padded_request(size_t total)
{
    static const char pre[] = "GET / HTTP/1.1\r\nHost: h\r\nX-Pad: ", post[] = "\r\n\r\n";
    size_t fixed = sizeof(pre) - 1 + sizeof(post) - 1;
    ck_assert_uint_gt(total, fixed);
    char *b = malloc(total);
    ck_assert_ptr_nonnull(b);
    memcpy(b, pre, sizeof(pre) - 1);
    memset(b + sizeof(pre) - 1, 'a', total - fixed);
    memcpy(b + total - (sizeof(post) - 1), post, sizeof(post) - 1);
    return b;
}

START_TEST(test_head_limit_exact)
{
    size_t len = lim_small.max_head;
    char *b = make_padded_request(len);
    struct http_request q;
    int r = parse_copy(b, len, &lim_small, &q, NULL);
    free(b);
    ck_assert_int_eq(r, (int)len);
}
END_TEST

START_TEST(test_head_limit_over_complete)
{
    size_t len = lim_small.max_head + 1;
    char *b = make_padded_request(len);
    struct http_request q;
    int r = parse_copy(b, len, &lim_small, &q, NULL);
    free(b);
    ck_assert_int_eq(r, -431);
}
END_TEST

START_TEST(test_head_limit_incomplete)
{
    /* Request line done, fields still coming when max_head bytes are in. */
    size_t len = lim_small.max_head + 10;
    char *b = make_padded_request(len);
    struct http_request q;
    int r = parse_copy(b, lim_small.max_head, &lim_small, &q, NULL);
    ck_assert_int_eq(r, -431);
    r = parse_copy(b, lim_small.max_head + 1, &lim_small, &q, NULL);
    ck_assert_int_eq(r, -431);
    r = parse_copy(b, lim_small.max_head - 1, &lim_small, &q, NULL);
    ck_assert_int_eq(r, HTTP_PARSE_AGAIN);
    free(b);
}
END_TEST

START_TEST(test_head_limit_default_8k)
{
    size_t len = lim_default.max_head + 1;
    char *b = make_padded_request(len);
    struct http_request q;
    ck_assert_int_eq(parse_copy(b, len, &lim_default, &q, NULL), -431);
    ck_assert_int_eq(parse_copy(b, lim_default.max_head, &lim_default, &q, NULL), -431);
    free(b);
    b = make_padded_request(lim_default.max_head);
    ck_assert_int_eq(parse_copy(b, lim_default.max_head, &lim_default, &q, NULL),
                     (int)lim_default.max_head);
    free(b);
}
END_TEST

static int parse_with_fields(unsigned nfields, const struct http_limits *lim)
{
    char b[4096];
    size_t off = (size_t)snprintf(b, sizeof(b), "GET / HTTP/1.1\r\nHost: h\r\n");
    for (unsigned i = 1; i < nfields; i++)
        off += (size_t)snprintf(b + off, sizeof(b) - off, "X-F%u: %u\r\n", i, i);
    off += (size_t)snprintf(b + off, sizeof(b) - off, "\r\n");
    ck_assert_uint_lt(off, sizeof(b));
    struct http_request q;
    int r = parse_copy(b, off, lim, &q, NULL);
    if (r > 0) {
        ck_assert_int_eq(r, (int)off);
        ck_assert_uint_eq(q.nheaders, nfields);
    }
    return r;
}

START_TEST(test_max_headers)
{
    ck_assert_int_gt(parse_with_fields(lim_small.max_headers, &lim_small), 0);
    ck_assert_int_eq(parse_with_fields(lim_small.max_headers + 1, &lim_small), -431);
    ck_assert_int_eq(parse_with_fields(lim_small.max_headers + 20, &lim_small), -431);
    const struct http_limits one = {1024, 256, 1};
    ck_assert_int_gt(parse_with_fields(1, &one), 0);
    ck_assert_int_eq(parse_with_fields(2, &one), -431);
}
END_TEST

/* ---- ps_slice_eq_lower -------------------------------------------------------- */

/* Every byte value at every offset of a long request-target, field name,
 * field value and Host value: 16 bytes and more are checked a block at a
 * time, so each position within and across blocks is tried. The expected
 * answer comes from the grammar, written out here on its own. */
#define LONG_PART 48

static bool is_tchar(int b)
{
    return (b >= '0' && b <= '9') || (b >= 'A' && b <= 'Z') || (b >= 'a' && b <= 'z') ||
           (b != 0 && strchr("!#$%&'*+-.^_`|~", b) != NULL);
}

enum byte_ctx { CTX_TARGET, CTX_NAME, CTX_VALUE, CTX_HOST, CTX_N };

static bool byte_allowed(enum byte_ctx ctx, int b, int k)
{
    switch (ctx) {
    case CTX_TARGET:
        return b > ' ' && b != 0x7f;
    case CTX_NAME: /* a ':' ends the name early, and the rest is a good value */
        return is_tchar(b) || (b == ':' && k > 0);
    case CTX_VALUE:
        return (b >= ' ' && b != 0x7f) || b == '\t';
    case CTX_HOST: /* whitespace around the value is not part of it */
        if ((b == ' ' || b == '\t') && (k == 0 || k == LONG_PART - 1))
            return true;
        if (b == ':') /* a port of digits only, or none */
            return k == LONG_PART - 1;
        if (b == '[' || b == ']') /* only around an IP literal */
            return false;
        return b > ' ' && b < 0x7f && strchr("/?#@\"<>\\^`{|}", b) == NULL;
    default:
        return false;
    }
}

START_TEST(test_every_byte_at_every_offset)
{
    int k = _i;
    char part[LONG_PART + 1], head[256];
    struct http_request q;
    for (int ctx = 0; ctx < CTX_N; ctx++) {
        for (int b = 0; b < 256; b++) {
            memset(part, ctx == CTX_HOST ? 'h' : 'x', LONG_PART);
            part[k] = (char)b;
            part[LONG_PART] = '\0';
            const char *pre, *post;
            switch (ctx) {
            case CTX_TARGET: pre = "GET /"; post = " HTTP/1.1\r\nHost: a\r\n\r\n"; break;
            case CTX_NAME: pre = "GET / HTTP/1.1\r\nHost: a\r\n"; post = ": v\r\n\r\n"; break;
            case CTX_VALUE: pre = "GET / HTTP/1.1\r\nHost: a\r\nX-Long: "; post = "\r\n\r\n"; break;
            default: pre = "GET / HTTP/1.1\r\nHost: "; post = "\r\n\r\n"; break;
            }
            size_t np = strlen(pre), npost = strlen(post);
            memcpy(head, pre, np);
            memcpy(head + np, part, LONG_PART);
            memcpy(head + np + LONG_PART, post, npost);
            size_t len = np + LONG_PART + npost;
            int r = parse_copy(head, len, &lim_default, &q, NULL);
            /* A LF right after a line end is an empty line, and one at the
             * end of a value is a line end before the empty line: either
             * way the head ends there, before the rest. */
            bool ends_early = b == '\n' && ((ctx == CTX_NAME && k == 0) ||
                                            ((ctx == CTX_VALUE || ctx == CTX_HOST) &&
                                             k == LONG_PART - 1));
            if (ends_early)
                ck_assert_msg(r > 0 && (size_t)r < len, "context %d, LF at %d: %d, expected a head"
                              " shorter than %zu", ctx, k, r, len);
            else if (byte_allowed((enum byte_ctx)ctx, b, k))
                ck_assert_msg(r == (int)len, "context %d, byte 0x%02x at %d: %d, expected %zu", ctx,
                              b, k, r, len);
            else
                ck_assert_msg(r == -400, "context %d, byte 0x%02x at %d: %d, expected -400", ctx, b,
                              k, r);
        }
    }
}
END_TEST

/* A long field value keeps every byte it may hold, obs-text included. */
START_TEST(test_long_value_slice)
{
    static const char in[] = "GET / HTTP/1.1\r\nHost: a\r\nUser-Agent: Mozilla/5.0 (X11; "
                             "\xc3\xa9t\xc3\xa9\t) Gecko/20100101\t \r\n\r\n";
    struct http_request q;
    char *keep;
    int r = parse_copy(in, sizeof(in) - 1, &lim_default, &q, &keep);
    ck_assert_int_eq(r, (int)sizeof(in) - 1);
    ck_assert_slice(q.user_agent, "Mozilla/5.0 (X11; \xc3\xa9t\xc3\xa9\t) Gecko/20100101");
    free(keep);
}
END_TEST

/* http_head_complete: the end of a head, found once, wherever the bytes
 * were cut. */
static const char *const complete_cases[] = {
    "GET / HTTP/1.1\r\nHost: a\r\n\r\n",
    "GET / HTTP/1.1\nHost: a\n\n",
    "GET / HTTP/1.1\r\nHost: a\n\r\n",
    "GET / HTTP/1.1\r\nHost: a\r\nUser-Agent: a long value that takes more than one block\r\n\r\n",
    "\r\n\n\r\nGET / HTTP/1.1\r\n\r\n",
    "\n\nGET / HTTP/1.1\n\n",
};

START_TEST(test_head_complete_whole)
{
    const char *in = complete_cases[_i];
    size_t len = strlen(in), scan = 0;
    ck_assert_uint_eq(http_head_complete(in, len, &scan), len);
    /* with a next request behind it, the end of the first */
    char two[256];
    snprintf(two, sizeof(two), "%s%s", in, in);
    scan = 0;
    ck_assert_uint_eq(http_head_complete(two, 2 * len, &scan), len);
}
END_TEST

START_TEST(test_head_complete_bytewise)
{
    const char *in = complete_cases[_i];
    size_t len = strlen(in), scan = 0, last = 0;
    for (size_t n = 1; n <= len; n++) {
        size_t end = http_head_complete(in, n, &scan);
        ck_assert_uint_ge(scan, last); /* never looks back further than it must */
        ck_assert_uint_le(scan, n);
        last = scan;
        if (n < len)
            ck_assert_msg(end == 0, "case %d: end %zu seen in the first %zu bytes", _i, end, n);
        else
            ck_assert_uint_eq(end, len);
    }
}
END_TEST

START_TEST(test_head_complete_none)
{
    static const char *const none[] = {"", "GET / HTTP/1.1\r\nHost: a\r\n", "GET / HTTP/1.1\r\n\r",
                                       "a\nb\r\nc\r\r\n", "\r\n\r\n", "\n\n\n", "\r\n\n\r\n\n\r\n"};
    for (size_t i = 0; i < NELEMS(none); i++) {
        size_t scan = 0;
        ck_assert_uint_eq(http_head_complete(none[i], strlen(none[i]), &scan), 0);
    }
}
END_TEST

/* Empty lines before a request line, sent one byte at a time, are never
 * taken for the end of a head: each would make the caller parse the whole
 * buffer again. */
START_TEST(test_head_complete_leading_empty_lines)
{
    static char in[4096];
    for (size_t k = 0; k < sizeof(in); k++)
        in[k] = (_i == 0 || k % 2 == 1) ? '\n' : '\r';
    size_t scan = 0;
    for (size_t n = 1; n <= sizeof(in); n++) {
        ck_assert_msg(http_head_complete(in, n, &scan) == 0, "an end seen in %zu empty-line bytes", n);
        ck_assert_uint_ge(scan + 2, n); /* and each byte is looked at about once */
    }
}
END_TEST

START_TEST(test_slice_eq_lower)
{
    struct ps_slice s = {"Close", 5};
    ck_assert(ps_slice_eq_lower(s, "close"));
    s.n = 4;
    ck_assert(!ps_slice_eq_lower(s, "close"));
    ck_assert(ps_slice_eq_lower(s, "clos"));
    s = (struct ps_slice){"closed", 6};
    ck_assert(!ps_slice_eq_lower(s, "close"));
    s = (struct ps_slice){"KEEP-ALIVE", 10};
    ck_assert(ps_slice_eq_lower(s, "keep-alive"));
    s = (struct ps_slice){"keep_alive", 10};
    ck_assert(!ps_slice_eq_lower(s, "keep-alive"));
    s = (struct ps_slice){"", 0};
    ck_assert(ps_slice_eq_lower(s, ""));
    ck_assert(!ps_slice_eq_lower(s, "a"));
}
END_TEST

static Suite *http_parse_suite(void)
{
    Suite *s = suite_create("http_parse");
    TCase *tc;

    tc = tcase_create("valid");
    tcase_add_loop_test(tc, test_ok, 0, NELEMS(ok_cases));
    tcase_add_loop_test(tc, test_ok_split, 0, NELEMS(ok_cases));
    tcase_add_loop_test(tc, test_ok_trailing_bytes, 0, NELEMS(ok_cases));
    tcase_add_test(tc, test_empty_and_blank);
    tcase_add_test(tc, test_field_slices);
    tcase_add_test(tc, test_field_slices_repeated);
    tcase_add_test(tc, test_field_slices_absent);
    tcase_add_test(tc, test_field_slices_trimmed);
    tcase_add_loop_test(tc, test_keep_alive, 0, NELEMS(ka_cases));
    tcase_add_test(tc, test_slice_eq_lower);
    tcase_add_loop_test(tc, test_every_byte_at_every_offset, 0, LONG_PART);
    tcase_add_test(tc, test_long_value_slice);
    suite_add_tcase(s, tc);

    tc = tcase_create("head_complete");
    tcase_add_loop_test(tc, test_head_complete_whole, 0, NELEMS(complete_cases));
    tcase_add_loop_test(tc, test_head_complete_bytewise, 0, NELEMS(complete_cases));
    tcase_add_test(tc, test_head_complete_none);
    tcase_add_loop_test(tc, test_head_complete_leading_empty_lines, 0, 2);
    suite_add_tcase(s, tc);

    tc = tcase_create("pipelining");
    tcase_add_test(tc, test_pipelined);
    tcase_add_test(tc, test_pipelined_second_incomplete);
    tcase_add_test(tc, test_pipelined_crlf_between);
    tcase_add_test(tc, test_pipelined_many);
    suite_add_tcase(s, tc);

    tc = tcase_create("errors");
    tcase_add_loop_test(tc, test_err, 0, NELEMS(err_cases));
    tcase_add_loop_test(tc, test_err_trailing_bytes, 0, NELEMS(err_cases));
    tcase_add_test(tc, test_err_keeps_method);
    suite_add_tcase(s, tc);

    tc = tcase_create("limits");
    tcase_add_test(tc, test_uri_limit_exact);
    tcase_add_test(tc, test_uri_limit_over);
    tcase_add_test(tc, test_uri_limit_over_with_query);
    tcase_add_test(tc, test_uri_limit_incomplete_line_at_max_head);
    tcase_add_test(tc, test_uri_limit_incomplete_method_at_max_head);
    tcase_add_test(tc, test_head_limit_exact);
    tcase_add_test(tc, test_head_limit_over_complete);
    tcase_add_test(tc, test_head_limit_incomplete);
    tcase_add_test(tc, test_head_limit_default_8k);
    tcase_add_test(tc, test_max_headers);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return ps_check_run(http_parse_suite());
}
