/* Unit tests of the response parser pyserve-client reads with
 * (src/common/resp_parse.h): status line, fields, body framing (RFC 9112
 * section 6.3) and the resumable chunked decoder, held to the header's
 * contract. */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "num.h"
#include "resp_parse.h"
#include "check_run.h"

#define NELEMS(a) (sizeof(a) / sizeof((a)[0]))
#define MAXF      16
#define FULL      1000000 /* expected result: the head's length (up to "\r\n\r\n" or "\n\n") */

struct head_case {
    const char *in;
    bool head_request;
    int ret; /* FULL, 0 or -errno */
    int status, version;
    enum ps_framing framing;
    uint64_t length;
    bool keep_alive;
};

#define OK(in, st, ver, fr, len, ka)                                                               \
    {                                                                                              \
        in, false, FULL, st, ver, fr, len, ka                                                      \
    }
#define BAD(in)                                                                                    \
    {                                                                                              \
        in, false, -EBADMSG, 0, 0, PS_BODY_NONE, 0, false                                          \
    }
#define MORE(in)                                                                                   \
    {                                                                                              \
        in, false, 0, 0, 0, PS_BODY_NONE, 0, false                                                 \
    }

static const struct head_case head_cases[] = {
    OK("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", 200, 11, PS_BODY_LENGTH, 5, true),
    OK("HTTP/1.1 200 OK\r\n\r\n", 200, 11, PS_BODY_CLOSE, 0, false),
    OK("HTTP/1.0 200 OK\r\nContent-Length: 3\r\n\r\n", 200, 10, PS_BODY_LENGTH, 3, false),
    OK("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 3\r\n\r\n", 200, 10,
       PS_BODY_LENGTH, 3, true),
    OK("HTTP/1.1 200 OK\r\nConnection: Upgrade, close\r\nContent-Length: 3\r\n\r\n", 200, 11,
       PS_BODY_LENGTH, 3, false),
    OK("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", 200, 11, PS_BODY_CHUNKED, 0, true),
    OK("HTTP/1.1 200 OK\r\ntransfer-encoding: CHUNKED\r\n\r\n", 200, 11, PS_BODY_CHUNKED, 0, true),
    /* Transfer-Encoding overrides Content-Length; the connection is not reused */
    OK("HTTP/1.1 200 OK\r\nContent-Length: 9\r\nTransfer-Encoding: chunked\r\n\r\n", 200, 11,
       PS_BODY_CHUNKED, 9, false),
    OK("HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n", 204, 11, PS_BODY_NONE, 5, true),
    OK("HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n", 304, 11, PS_BODY_NONE, 0,
       true),
    OK("HTTP/1.1 100 Continue\r\n\r\n", 100, 11, PS_BODY_NONE, 0, true),
    OK("HTTP/1.1 103 Early Hints\r\nLink: </s.css>\r\n\r\n", 103, 11, PS_BODY_NONE, 0, true),
    {"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", true, FULL, 200, 11, PS_BODY_NONE, 5, true},
    {"HTTP/1.1 200 OK\r\n\r\n", true, FULL, 200, 11, PS_BODY_NONE, 0, true},
    /* Transfer-Encoding on a response to HEAD or on a 304 tells the coding a
     * GET would have had; there is no body (RFC 9112 6.1, 6.3) */
    {"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", true, FULL, 200, 11,
     PS_BODY_NONE, 0, true},
    {"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", true, FULL, 200, 11, PS_BODY_NONE, 0,
     true},
    {"HTTP/1.1 404 Not Found\r\nTransfer-Encoding: br\r\nContent-Length: 9\r\n\r\n", true, FULL,
     404, 11, PS_BODY_NONE, 9, false},
    {"HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: gzip\r\n\r\n", true, FULL, 304, 11,
     PS_BODY_NONE, 0, true},
    OK("HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 304, 11,
       PS_BODY_NONE, 0, true),
    OK("HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: x\r\nContent-Length: 3\r\n\r\n", 304, 11,
       PS_BODY_NONE, 3, false),
    OK("HTTP/1.0 304 Not Modified\r\nConnection: keep-alive\r\nTransfer-Encoding: gzip\r\n\r\n",
       304, 10, PS_BODY_NONE, 0, false),
    OK("HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n", 200, 11, PS_BODY_LENGTH, 0, true),
    OK("HTTP/1.1 200 \r\nContent-Length: 0\r\n\r\n", 200, 11, PS_BODY_LENGTH, 0, true),
    OK("HTTP/1.1 200 OK\nContent-Length: 0\n\n", 200, 11, PS_BODY_LENGTH, 0, true),
    OK("HTTP/1.1 999 Whatever \xc3\xa9\r\n\r\n", 999, 11, PS_BODY_CLOSE, 0, false),
    OK("HTTP/1.1 200 OK\r\nContent-Length: 7\r\nContent-Length: 7\r\n\r\n", 200, 11, PS_BODY_LENGTH,
       7, true),
    OK("HTTP/1.1 200 OK\r\nContent-Length: 007\r\n\r\n", 200, 11, PS_BODY_LENGTH, 7, true),
    /* a list of identical values is that value (RFC 9110 section 8.6) */
    OK("HTTP/1.1 200 OK\r\nContent-Length: 5, 5\r\n\r\n", 200, 11, PS_BODY_LENGTH, 5, true),
    OK("HTTP/1.1 200 OK\r\nContent-Length: 5,5 ,\t05\r\nContent-Length: 5\r\n\r\n", 200, 11,
       PS_BODY_LENGTH, 5, true),
    OK("HTTP/1.1 200 OK\r\nX-Empty:\r\nX-Tab:\tv\t\r\n\r\n", 200, 11, PS_BODY_CLOSE, 0, false),
    OK("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n", 404, 11, PS_BODY_LENGTH, 0, true),
    /* names that only begin like the framing fields are other fields */
    OK("HTTP/1.1 200 OK\r\nContent: x\r\nTransfer: gzip\r\nConnection: close\r\n\r\n", 200, 11,
       PS_BODY_CLOSE, 0, false),
    MORE(""),
    MORE("HTTP/1.1 200 OK"),
    MORE("HTTP/1.1 200 OK\r\n"),
    MORE("HTTP/1.1 200 OK\r\nContent-Le"),
    MORE("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n"),
    MORE("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r"),
    BAD("HTTP/2 200 OK\r\n\r\n"),
    /* a later minor version is read as the highest one known (RFC 9110 2.5) */
    OK("HTTP/1.2 200 OK\r\nContent-Length: 0\r\n\r\n", 200, 11, PS_BODY_LENGTH, 0, true),
    OK("HTTP/1.9 204 No Content\r\n\r\n", 204, 11, PS_BODY_NONE, 0, true),
    BAD("HTTP/1.x 200 OK\r\n\r\n"),
    BAD("HTTP/1. 200 OK\r\n\r\n"),
    BAD("HTTP/1.1 20 OK\r\n\r\n"),
    BAD("HTTP/1.1 099 X\r\n\r\n"),
    BAD("HTTP/1.1 2000 OK\r\n\r\n"),
    BAD("HTTP/1.1 20x OK\r\n\r\n"),
    BAD("http/1.1 200 OK\r\n\r\n"),
    BAD("HTTP/1.1  200 OK\r\n\r\n"),
    BAD("ICY 200 OK\r\n\r\n"),
    BAD("<html>\r\n\r\n"),
    BAD("\r\n"),
    BAD("HTTP/1.1 200 O\x01K\r\n\r\n"),
    BAD("HTTP/1.1 200 OK\r\r\n\r\n"),
    BAD("HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n"),
    BAD("HTTP/1.1 200 OK\r\nX: a\r\n folded\r\n\r\n"),
    BAD("HTTP/1.1 200 OK\r\nNoColon\r\n\r\n"),
    BAD("HTTP/1.1 200 OK\r\n: empty name\r\n\r\n"),
    BAD("HTTP/1.1 200 OK\r\nX : space before colon\r\n\r\n"),
    BAD("HTTP/1.1 200 OK\r\nX: a\rb\r\n\r\n"),
    BAD("HTTP/1.1 200 OK\r\nX: a\x7f\r\n\r\n"),
    BAD("HTTP/1.1 200 OK\r\nX: a\x01\r\n\r\n"),
    BAD("HTTP/1.1 200 OK\r\nContent-Length: abc\r\n\r\n"),
    BAD("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n"),
    BAD("HTTP/1.1 200 OK\r\nContent-Length: +1\r\n\r\n"),
    BAD("HTTP/1.1 200 OK\r\nContent-Length:\r\n\r\n"),
    BAD("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n"),
    BAD("HTTP/1.1 200 OK\r\nContent-Length: 5, 6\r\n\r\n"),
    BAD("HTTP/1.1 200 OK\r\nContent-Length: 5, 5\r\nContent-Length: 6\r\n\r\n"),
    BAD("HTTP/1.1 200 OK\r\nContent-Length: 5,\r\n\r\n"),
    BAD("HTTP/1.1 200 OK\r\nContent-Length: ,5\r\n\r\n"),
    BAD("HTTP/1.1 200 OK\r\nContent-Length: 5,,5\r\n\r\n"),
    BAD("HTTP/1.1 200 OK\r\nContent-Length: 5 5\r\n\r\n"),
    BAD("HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n"),
    BAD("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n"),
    BAD("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"),
    /* only HEAD and 304 may carry a coding that is not applied */
    BAD("HTTP/1.1 204 No Content\r\nTransfer-Encoding: gzip\r\n\r\n"),
    BAD("HTTP/1.1 206 Partial Content\r\nTransfer-Encoding: gzip\r\n\r\n"),
    /* errors are found as soon as their line is complete */
    BAD("HTTP/1.1 200 OK\r\nContent-Length: x\r\n"),
    BAD("XTTP/1.1 200 OK\r\n"),
};

/* The length up to the end of the head: the first empty line. */
static size_t head_len(const char *s)
{
    const char *a = strstr(s, "\r\n\r\n"), *b = strstr(s, "\n\n");
    if (a && (!b || a + 2 <= b))
        return (size_t)(a - s) + 4;
    return b ? (size_t)(b - s) + 2 : 0;
}

/* ps_resp_parse on an exact-size copy (no NUL), so reads past len are caught */
static int parse_n(const char *s, size_t n, bool head_req, struct ps_response *r,
                   struct ps_field *f, unsigned maxf)
{
    char *buf = malloc(n ? n : 1);
    ck_assert_ptr_nonnull(buf);
    memcpy(buf, s, n);
    memset(r, 0xa5, sizeof(*r));
    r->fields = f;
    r->max_fields = maxf;
    int ret = ps_resp_parse(buf, n, head_req, r);
    free(buf);
    return ret;
}

START_TEST(test_head)
{
    const struct head_case *t = &head_cases[_i];
    struct ps_response r;
    struct ps_field f[MAXF];
    size_t n = strlen(t->in);
    int ret = parse_n(t->in, n, t->head_request, &r, f, MAXF);
    int want = t->ret == FULL ? (int)head_len(t->in) : t->ret;
    ck_assert_msg(ret == want, "case %d: %d, expected %d", _i, ret, want);
    if (t->ret != FULL)
        return;
    ck_assert_int_eq(r.status, t->status);
    ck_assert_int_eq(r.version, t->version);
    ck_assert_int_eq(r.minor, t->in[7] - '0'); /* as received, for showing */
    ck_assert_int_eq(r.framing, t->framing);
    if (t->framing == PS_BODY_LENGTH)
        ck_assert_uint_eq(r.content_length, t->length);
    ck_assert_msg(r.keep_alive == t->keep_alive, "case %d: keep_alive %d", _i, r.keep_alive);
    ck_assert_uint_le(r.nfields, MAXF);
}
END_TEST

/* Every proper prefix of a complete head asks for more; bytes after it
 * change nothing; an error stays an error when more bytes arrive. */
START_TEST(test_head_prefixes)
{
    const struct head_case *t = &head_cases[_i];
    struct ps_response r, r2;
    struct ps_field f[MAXF], f2[MAXF];
    size_t n = strlen(t->in);
    int ret = parse_n(t->in, n, t->head_request, &r, f, MAXF);
    if (ret > 0) {
        for (size_t k = 0; k < (size_t)ret; k++)
            ck_assert_msg(parse_n(t->in, k, t->head_request, &r2, f2, MAXF) == 0,
                          "case %d: prefix of %zu bytes", _i, k);
        char *more = malloc(n + 8);
        ck_assert_ptr_nonnull(more);
        memcpy(more, t->in, n);
        memcpy(more + n, "garbage\0", 8);
        int ret2 = parse_n(more, n + 8, t->head_request, &r2, f2, MAXF);
        free(more);
        ck_assert_int_eq(ret2, ret);
        ck_assert_int_eq(r2.status, r.status);
        ck_assert_int_eq(r2.framing, r.framing);
        ck_assert_uint_eq(r2.nfields, r.nfields);
    } else if (ret < 0) {
        char *more = malloc(n + 4);
        ck_assert_ptr_nonnull(more);
        memcpy(more, t->in, n);
        memcpy(more + n, "\r\n\r\n", 4);
        ck_assert_int_eq(parse_n(more, n + 4, t->head_request, &r2, f2, MAXF), ret);
        free(more);
    }
}
END_TEST

START_TEST(test_content_length_values)
{
    uint64_t v = 0;
    ck_assert_int_eq(ps_parse_content_length("12", 2, &v), 0);
    ck_assert_uint_eq(v, 12);
    ck_assert_int_eq(ps_parse_content_length("7 , 7,7", 7, &v), 0);
    ck_assert_uint_eq(v, 7);
    ck_assert_int_eq(ps_parse_content_length("7, 8", 4, &v), -EDOM);
    ck_assert_int_eq(ps_parse_content_length("7, x", 4, &v), -EINVAL);
    ck_assert_int_eq(ps_parse_content_length("", 0, &v), -EINVAL);
    ck_assert_int_eq(ps_parse_content_length("1,", 2, &v), -EINVAL);
    ck_assert_int_eq(ps_parse_content_length("5x5", 3, &v), -EINVAL); /* ',' only between */
    ck_assert_int_eq(ps_parse_content_length("5 ;5", 4, &v), -EINVAL);
    ck_assert_int_eq(ps_parse_content_length("4611686018427387905", 19, &v), -EINVAL);
    ck_assert_int_eq(ps_parse_content_length("12", 1, &v), 0); /* the length is respected */
    ck_assert_uint_eq(v, 1);
}
END_TEST

START_TEST(test_fields)
{
    static const char in[] = "HTTP/1.1 404 Not Found\r\n"
                             "Content-Type:  text/plain; charset=utf-8  \r\n"
                             "X-Empty:\r\n"
                             "content-type: second\r\n"
                             "Content-Length: 0\r\n\r\n";
    struct ps_response r;
    struct ps_field f[MAXF];
    memset(&r, 0, sizeof(r));
    r.fields = f;
    r.max_fields = MAXF;
    ck_assert_int_eq(ps_resp_parse(in, sizeof(in) - 1, false, &r), (int)sizeof(in) - 1);
    ck_assert_uint_eq(r.reason_len, 9);
    ck_assert(memcmp(r.reason, "Not Found", 9) == 0);
    ck_assert_uint_eq(r.nfields, 4);
    ck_assert_uint_eq(f[0].name_len, 12);
    ck_assert(memcmp(f[0].name, "Content-Type", 12) == 0);
    ck_assert_uint_eq(f[0].value_len, 25);
    ck_assert(memcmp(f[0].value, "text/plain; charset=utf-8", 25) == 0);
    ck_assert_uint_eq(f[1].value_len, 0);

    const struct ps_field *ct = ps_resp_field(&r, "content-type");
    ck_assert_ptr_eq(ct, &f[0]); /* the first of two */
    ck_assert_ptr_eq(ps_resp_field(&r, "CONTENT-LENGTH"), &f[3]);
    ck_assert_ptr_null(ps_resp_field(&r, "content"));
    ck_assert_ptr_null(ps_resp_field(&r, "location"));

    /* more fields than room */
    r.max_fields = 3;
    ck_assert_int_eq(ps_resp_parse(in, sizeof(in) - 1, false, &r), -E2BIG);
    r.max_fields = 0;
    ck_assert_int_eq(ps_resp_parse("HTTP/1.1 200 OK\r\n\r\n", 19, false, &r), 19);
    ck_assert_int_eq(ps_resp_parse(in, sizeof(in) - 1, false, &r), -E2BIG);
}
END_TEST

/* ---- chunked ------------------------------------------------------------------ */

struct chunk_case {
    const char *in;
    int outcome; /* 1 done, 0 needs more, -EBADMSG */
    const char *body;
    size_t used; /* bytes consumed when done (0: all) */
};

static const struct chunk_case chunk_cases[] = {
    {"5\r\nhello\r\n0\r\n\r\n", 1, "hello", 0},
    {"5;ext=1;b=\"q\"\r\nhello\r\n0\r\n\r\n", 1, "hello", 0},
    {"A\r\n0123456789\r\n0\r\n\r\n", 1, "0123456789", 0},
    {"a\r\n0123456789\r\n1\r\n!\r\n0\r\n\r\n", 1, "0123456789!", 0},
    {"000000000000001\r\nx\r\n0\r\n\r\n", 1, "x", 0},
    {"1\r\nx\r\n0\r\nX-T: 1\r\nY: 2\r\n\r\n", 1, "x", 0},
    {"1\nx\n0\n\n", 1, "x", 0},
    {"0\r\n\r\n", 1, "", 0},
    {"0\r\n\r\nEXTRA", 1, "", 5},
    {"5\r\nhel", 0, "hel", 0},
    {"5\r\nhello\r\n", 0, "hello", 0},
    {"5\r\nhello\r\n0\r\n", 0, "hello", 0},
    {"", 0, "", 0},
    {"x\r\n", -EBADMSG, "", 0},
    {"\r\n", -EBADMSG, "", 0},
    {";ext\r\n", -EBADMSG, "", 0},
    {"5\r\nhelloX\r\n0\r\n\r\n", -EBADMSG, "hello", 0},
    /* leading zeros do not count toward the 60-bit limit; 16 digits that
     * all count do */
    {"0000000000000001\r\nx\r\n0\r\n\r\n", 1, "x", 0},
    {"1000000000000000\r\nx\r\n0\r\n\r\n", -EBADMSG, "", 0},
    /* after the digits: whitespace, ';', CR or LF, nothing else */
    {"1 \t;e\r\nx\r\n0 \r\n\r\n", 1, "x", 0},
    {"5\r\nhello\r\n0x10\r\n0123456789abcdef\r\n0\r\n\r\n", -EBADMSG, "hello", 0},
    {"1g\r\nx\r\n0\r\n\r\n", -EBADMSG, "", 0},
    {"1 2\r\nxx\r\n0\r\n\r\n", -EBADMSG, "", 0},
    {"1\rX\nx\r\n0\r\n\r\n", -EBADMSG, "", 0},
    {"1;e\rX\nx\r\n0\r\n\r\n", -EBADMSG, "", 0},
    /* trailer lines are field lines: a name, a colon, a value */
    {"0\r\nX-T:\r\n\r\n", 1, "", 0},
    {"0\r\nno colon\r\n\r\n", -EBADMSG, "", 0},
    {"0\r\n: no name\r\n\r\n", -EBADMSG, "", 0},
    {"0\r\nX: 1\r\n folded\r\n\r\n", -EBADMSG, "", 0},
    {"0\r\nX: 1\x01\r\n\r\n", -EBADMSG, "", 0},
    {"0\r\nX: 1\rY\r\n\r\n", -EBADMSG, "", 0},
    {"5\r\nhello\r\n0\r\n\rX", -EBADMSG, "hello", 0},
    {"1\x01\r\nx\r\n0\r\n\r\n", -EBADMSG, "", 0},
    /* a control byte in a chunk extension or DEL in a trailer value */
    {"1;e\x01\r\nx\r\n0\r\n\r\n", -EBADMSG, "", 0},
    {"0\r\nX: a\x7f\r\n\r\n", -EBADMSG, "", 0},
    /* a CR after the data must be followed by LF, not by the next size */
    {"5\r\nhello\r10\r\n\r\n", -EBADMSG, "hello", 0},
    /* a trailer line starting with whitespace, even before a good field */
    {"0\r\n X: 1\r\n\r\n", -EBADMSG, "", 0},
};

/* Feed in[0..n) in pieces of at most step bytes; collect the body. */
static int decode(const char *in, size_t n, size_t step, char *body, size_t *blen, size_t *used)
{
    struct ps_chunked c;
    memset(&c, 0, sizeof(c)); /* a zeroed decoder is at the start */
    size_t off = 0;
    *blen = 0;
    for (unsigned guard = 0; guard < 100000; guard++) {
        size_t piece = n - off < step ? n - off : step;
        const char *d = (const char *)1;
        size_t dl = 99;
        bool done = false;
        char *copy = malloc(piece ? piece : 1); /* exact size: reads past it are caught */
        ck_assert_ptr_nonnull(copy);
        memcpy(copy, in + off, piece);
        ssize_t r = ps_chunked_step(&c, copy, piece, &d, &dl, &done);
        if (r >= 0) {
            ck_assert_uint_le((size_t)r, piece);
            ck_assert_uint_le(dl, (size_t)r);
            if (dl) {
                ck_assert(d >= copy && d + dl <= copy + r);
                memcpy(body + *blen, d, dl);
                *blen += dl;
            }
        }
        free(copy);
        if (r < 0)
            return (int)r;
        off += (size_t)r;
        if (done) {
            *used = off;
            return 1;
        }
        if (off == n && r == 0)
            return 0;
        if (off == n && piece == 0)
            return 0;
    }
    ck_abort_msg("decoder made no progress");
    return -1;
}

START_TEST(test_chunked)
{
    const struct chunk_case *t = &chunk_cases[_i];
    size_t n = strlen(t->in);
    static const size_t steps[] = {1, 2, 3, 7, 100000};
    for (size_t s = 0; s < NELEMS(steps); s++) {
        char body[256];
        size_t blen, used = 0;
        int r = decode(t->in, n, steps[s], body, &blen, &used);
        ck_assert_msg(r == t->outcome, "case %d step %zu: %d", _i, steps[s], r);
        if (r >= 0 || blen) {
            ck_assert_msg(blen == strlen(t->body) && memcmp(body, t->body, blen) == 0,
                          "case %d step %zu: body \"%.*s\"", _i, steps[s], (int)blen, body);
        }
        if (r == 1)
            ck_assert_uint_eq(used, t->used ? t->used : n);
    }
}
END_TEST

START_TEST(test_chunked_after_done)
{
    struct ps_chunked c;
    memset(&c, 0, sizeof(c));
    const char *d;
    size_t dl;
    bool done = false;
    ck_assert_int_eq(ps_chunked_step(&c, "0\r\n\r\n", 5, &d, &dl, &done), 5);
    ck_assert(done);
    done = false;
    ck_assert_int_eq(ps_chunked_step(&c, "more", 4, &d, &dl, &done), 0);
    ck_assert(done);
    ck_assert_uint_eq(dl, 0);
}
END_TEST

/* Feed the whole of in; the outcome as in decode(), the body length in *blen. */
static int decode_big(const char *in, size_t n, size_t *blen)
{
    char *body = malloc(n + 1);
    ck_assert_ptr_nonnull(body);
    size_t used = 0;
    int r = decode(in, n, n, body, blen, &used);
    free(body);
    return r;
}

/* A chunk-size or trailer line is at most 4096 bytes, CRLF included,
 * counted from the line's start: not from the CRLF after the data before. */
START_TEST(test_chunked_line_limit)
{
    static char in[8192];
    size_t blen;
    for (size_t k = 4092; k <= 4093; k++) { /* "1;" ext CRLF: k + 4 bytes */
        int o = snprintf(in, sizeof(in), "1\r\nx\r\n1;");
        memset(in + o, 'e', k);
        o += (int)k;
        o += snprintf(in + o, sizeof(in) - (size_t)o, "\r\ny\r\n0\r\n\r\n");
        int r = decode_big(in, (size_t)o, &blen);
        ck_assert_msg(r == (k == 4092 ? 1 : -EBADMSG), "size line of %zu bytes: %d", k + 4, r);
    }
    for (size_t k = 4092; k <= 4093; k++) { /* "X:" value CRLF: k + 4 bytes */
        int o = snprintf(in, sizeof(in), "1\r\nx\r\n0\r\nX:");
        memset(in + o, 'v', k);
        o += (int)k;
        o += snprintf(in + o, sizeof(in) - (size_t)o, "\r\n\r\n");
        int r = decode_big(in, (size_t)o, &blen);
        ck_assert_msg(r == (k == 4092 ? 1 : -EBADMSG), "trailer line of %zu bytes: %d", k + 4, r);
    }
}
END_TEST

static Suite *resp_suite(void)
{
    Suite *s = suite_create("resp_parse");
    TCase *tc = tcase_create("head");
    tcase_add_loop_test(tc, test_head, 0, NELEMS(head_cases));
    tcase_add_loop_test(tc, test_head_prefixes, 0, NELEMS(head_cases));
    tcase_add_test(tc, test_content_length_values);
    tcase_add_test(tc, test_fields);
    suite_add_tcase(s, tc);
    tc = tcase_create("chunked");
    tcase_add_loop_test(tc, test_chunked, 0, NELEMS(chunk_cases));
    tcase_add_test(tc, test_chunked_after_done);
    tcase_add_test(tc, test_chunked_line_limit);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return ps_check_run(resp_suite());
}
