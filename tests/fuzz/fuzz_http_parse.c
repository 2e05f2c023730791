/* libFuzzer target for the request-head parser: checks its invariants and aborts on a violation. */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void violation(const char *what, size_t size, int r)
{
    fprintf(stderr, "fuzz_http_parse: invariant violated: %s (size %zu, result %d)\n", what, size,
            r);
    abort();
}

static int valid_result(int r, size_t size)
{
    return (r >= 0 && (size_t)r <= size) || r == -400 || r == -414 || r == -431 || r == -501 ||
           r == -505;
}

static int slice_inside(struct ps_slice s, const char *buf, size_t len)
{
    return s.n == 0 || (s.p >= buf && s.n <= len && s.p <= buf + len - s.n);
}

static void check_slices(const struct http_request *q, const char *buf, size_t len, size_t size,
                         int r)
{
    const struct ps_slice all[] = {
        q->method_name,     q->target,        q->path,
        q->query,           q->host,          q->if_modified_since,
        q->if_none_match,   q->if_match,      q->if_unmodified_since,
        q->range,           q->if_range,      q->accept_encoding,
        q->user_agent,      q->referer,       q->fields,
    };
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
        if (!slice_inside(all[i], buf, len))
            violation("a slice points outside the head", size, r);
    if (q->method_name.n == 0)
        violation("empty method", size, r);
    if (q->target.n == 0)
        violation("empty target", size, r);
    if (q->version != 10 && q->version != 11)
        violation("version not 10 or 11", size, r);
    if (q->version == 11 && !q->has_host_field)
        violation("HTTP/1.1 accepted without Host", size, r);
    /* path and query are parts of the target */
    if (q->form == HTTP_T_ORIGIN || q->form == HTTP_T_ABSOLUTE) {
        const char *t0 = q->target.p, *t1 = q->target.p + q->target.n;
        if (q->path.n && (q->path.p < t0 || q->path.p + q->path.n > t1))
            violation("path outside target", size, r);
        if (q->query.n && (q->query.p < t0 || q->query.p + q->query.n > t1))
            violation("query outside target", size, r);
    }
    if (q->form == HTTP_T_ORIGIN && (q->path.n == 0 || q->path.p[0] != '/'))
        violation("origin-form path does not start with /", size, r);
    if (q->method == HTTP_M_GET && !ps_slice_eq_lower(q->method_name, "get"))
        violation("GET method with another name", size, r);
    if (q->method == HTTP_M_GET && memcmp(q->method_name.p, "GET", 3) != 0)
        violation("GET is case-sensitive", size, r);
}

static int same_slice(struct ps_slice a, const char *abase, struct ps_slice b, const char *bbase)
{
    if (a.n != b.n)
        return 0;
    return a.n == 0 || a.p - abase == b.p - bbase;
}

/* Same result, slices at the same offsets from their buffers. */
static int same_request(const struct http_request *a, const char *abase,
                        const struct http_request *b, const char *bbase)
{
    return a->method == b->method && a->form == b->form && a->version == b->version &&
           a->has_host_field == b->has_host_field && a->keep_alive == b->keep_alive &&
           a->has_body == b->has_body && a->content_length == b->content_length &&
           a->nheaders == b->nheaders && same_slice(a->method_name, abase, b->method_name, bbase) &&
           same_slice(a->target, abase, b->target, bbase) &&
           same_slice(a->path, abase, b->path, bbase) &&
           same_slice(a->query, abase, b->query, bbase) &&
           same_slice(a->host, abase, b->host, bbase) &&
           same_slice(a->if_modified_since, abase, b->if_modified_since, bbase) &&
           same_slice(a->if_none_match, abase, b->if_none_match, bbase) &&
           same_slice(a->if_match, abase, b->if_match, bbase) &&
           same_slice(a->if_unmodified_since, abase, b->if_unmodified_since, bbase) &&
           same_slice(a->range, abase, b->range, bbase) &&
           same_slice(a->if_range, abase, b->if_range, bbase) &&
           same_slice(a->accept_encoding, abase, b->accept_encoding, bbase) &&
           same_slice(a->user_agent, abase, b->user_agent, bbase) &&
           same_slice(a->referer, abase, b->referer, bbase) &&
           same_slice(a->fields, abase, b->fields, bbase) && a->repeated == b->repeated;
}

static void run(const char *buf, size_t size, const struct http_limits *lim)
{
    struct http_request q, q2;
    memset(&q, 0, sizeof(q));
    int r = http_parse_request(buf, size, lim, &q);
    if (!valid_result(r, size))
        violation("result out of range", size, r);
    if (r == HTTP_PARSE_AGAIN && size >= lim->max_head)
        violation("still \"again\" at max_head", size, r);
    if (r > 0) {
        /* The head proper never exceeds max_head (empty lines skipped
         * before the request line are not held against it). */
        size_t skip = 0;
        while (skip < (size_t)r && (buf[skip] == '\r' || buf[skip] == '\n'))
            skip++;
        if ((size_t)r - skip > lim->max_head)
            violation("head longer than max_head accepted", size, r);
        if (q.target.n > lim->max_uri)
            violation("target longer than max_uri accepted", size, r);
        if (q.nheaders > lim->max_headers)
            violation("more than max_headers accepted", size, r);
        check_slices(&q, buf, (size_t)r, size, r);
    }

    /* deterministic */
    memset(&q2, 0xff, sizeof(q2));
    int r2 = http_parse_request(buf, size, lim, &q2);
    if (r2 != r)
        violation("second parse differs", size, r2);
    if (r > 0 && !same_request(&q, buf, &q2, buf))
        violation("second parse gives another request", size, r);

    if (r > 0) {
        /* the head alone gives the same answer */
        char *head = malloc((size_t)r);
        if (!head)
            abort();
        memcpy(head, buf, (size_t)r);
        r2 = http_parse_request(head, (size_t)r, lim, &q2);
        if (r2 != r || !same_request(&q, buf, &q2, head))
            violation("the head alone parses differently", size, r2);
        free(head);

        /* bytes appended after the head (a pipelined request) change nothing */
        static const char more[] = "GET /next HTTP/1.1\r\nHost: x\r\n\r\n";
        char *longer = malloc(size + sizeof(more) - 1);
        if (!longer)
            abort();
        memcpy(longer, buf, size);
        memcpy(longer + size, more, sizeof(more) - 1);
        r2 = http_parse_request(longer, size + sizeof(more) - 1, lim, &q2);
        if (r2 != r || !same_request(&q, buf, &q2, longer))
            violation("appending bytes changed a complete head", size, r2);
        free(longer);

        /* a proper prefix of a complete head is never complete nor an error */
        size_t cuts[3] = {(size_t)r - 1, (size_t)r / 2, (size_t)(unsigned char)buf[0] % (size_t)r};
        for (size_t i = 0; i < 3; i++) {
            size_t k = cuts[i];
            char *pre = malloc(k ? k : 1);
            if (!pre)
                abort();
            memcpy(pre, buf, k);
            r2 = http_parse_request(pre, k, lim, &q2);
            free(pre);
            if (r2 != HTTP_PARSE_AGAIN)
                violation("a prefix of a complete head is not \"again\"", k, r2);
        }
    } else if (r < 0) {
        /* an error does not go away when more bytes arrive */
        char *longer = malloc(size + 4);
        if (!longer)
            abort();
        memcpy(longer, buf, size);
        memcpy(longer + size, "\r\n\r\n", 4);
        r2 = http_parse_request(longer, size + 4, lim, &q2);
        free(longer);
        if (r2 >= 0)
            violation("an error turned into a success with more bytes", size, r2);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const struct http_limits lims[] = {
        {8192, 4096, 100}, /* the defaults */
        {1024, 256, 10},
        {64, 16, 2}, /* tiny: every limit is reachable by short inputs */
    };
    for (size_t i = 0; i < sizeof(lims) / sizeof(lims[0]); i++)
        run((const char *)data, size, &lims[i]);
    return 0;
}
