/* Reading a response: head, interim responses, body framing. */
#include "config.h"

#include "fetch.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "escape.h"
#include "exitcode.h"
#include "net.h"
#include "num.h"

void fetch_init(struct fetch *f, int fd, uint64_t timeout_ms, bool verbose, const char *where)
{
    f->fd = fd;
    f->timeout_ms = timeout_ms;
    f->verbose = verbose;
    f->where = where;
    f->pos = f->len = 0;
    f->rp = NULL;
    f->rn = 0;
    memset(&f->chunked, 0, sizeof(f->chunked));
    memset(&f->resp, 0, sizeof(f->resp));
    f->remaining = f->received = 0;
    f->body_done = false;
}

static int recv_error(struct fetch *f, ssize_t r, const char *during, char *err, size_t errsz)
{
    if (r == -EINTR) {
        int sig = net_interrupted;
        snprintf(err, errsz, "interrupted by %s while receiving %s from %s",
                 sig == SIGINT    ? "SIGINT"
                 : sig == SIGTERM ? "SIGTERM"
                 : sig == SIGHUP  ? "SIGHUP"
                                  : "a signal",
                 during, f->where);
        return -PSC_EXIT_FAILURE; /* main dies by the signal: the status is not seen */
    }
    if (r == -ETIMEDOUT) {
        snprintf(err, errsz, "timed out after %llu ms waiting for %s from %s",
                 (unsigned long long)f->timeout_ms, during, f->where);
        return -PSC_EXIT_TIMEOUT;
    }
    snprintf(err, errsz, "receiving %s from %s: %s", during, f->where, strerror((int)-r));
    return -PSC_EXIT_NETWORK;
}

/* The value (with its spaces) of the header line l[0..n) when it is a
 * field called name, else NULL. */
static const char *field_value(const char *l, size_t n, const char *name, size_t *vlen)
{
    size_t k = strlen(name);
    if (n <= k || l[k] != ':' || strncasecmp(l, name, k) != 0)
        return NULL;
    *vlen = n - k - 1;
    return l + k + 1;
}

/* Which line of a head the parser refuses: the first whose end makes the
 * result an error. */
static void describe_bad_head(struct fetch *f, bool head_request, char *err, size_t errsz)
{
    const char *h = f->buf + f->pos;
    size_t n = f->len - f->pos, start = 0;
    unsigned line = 1;
    struct ps_response r;
    for (size_t i = 0; i < n; i++) {
        if (h[i] != '\n')
            continue;
        memset(&r, 0, sizeof(r));
        r.fields = f->fields;
        r.max_fields = FETCH_MAX_FIELDS;
        if (ps_resp_parse(h, i + 1, head_request, &r) < 0)
            break;
        start = i + 1;
        line++;
    }
    const char *le = memchr(h + start, '\n', n - start);
    size_t ll = le ? (size_t)(le - h - start) : n - start;
    if (ll > 0 && h[start + ll - 1] == '\r')
        ll--;
    char shown[200];
    escape_text(h + start, ll, 60, shown, sizeof(shown));
    size_t vl;
    const char *v;
    uint64_t cl;
    if (line > 1 && (v = field_value(h + start, ll, "content-length", &vl)))
        snprintf(err, errsz,
                 "malformed response from %s: %s Content-Length in header line %u: "
                 "\"%s\"",
                 f->where, ps_parse_content_length(v, vl, &cl) == -EINVAL ? "bad" : "conflicting",
                 line, shown);
    else if (line > 1 && field_value(h + start, ll, "transfer-encoding", &vl))
        snprintf(err, errsz,
                 "unsupported transfer coding from %s in header line %u: \"%s\" "
                 "(only chunked is decoded)",
                 f->where, line, shown);
    else if (line == 1)
        snprintf(err, errsz, "malformed response from %s: bad status line \"%s\"", f->where, shown);
    else
        snprintf(err, errsz, "malformed response from %s: bad header line %u: \"%s\"", f->where,
                 line, shown);
}

int fetch_head(struct fetch *f, bool head_request, char *err, size_t errsz)
{
    struct ps_response *r = &f->resp;
    unsigned interim = 0;
    for (;;) {
        r->fields = f->fields;
        r->max_fields = FETCH_MAX_FIELDS;
        int n = ps_resp_parse(f->buf + f->pos, f->len - f->pos, head_request, r);
        if (n == -E2BIG) {
            snprintf(err, errsz, "malformed response from %s: more than %d header fields", f->where,
                     FETCH_MAX_FIELDS);
            return -PSC_EXIT_PROTOCOL;
        }
        if (n < 0) {
            describe_bad_head(f, head_request, err, errsz);
            return -PSC_EXIT_PROTOCOL;
        }
        if (n > 0) {
            f->pos += (size_t)n;
            if (r->status >= 200)
                break;
            if (r->status == 101) {
                snprintf(err, errsz, "unexpected 101 (Switching Protocols) from %s", f->where);
                return -PSC_EXIT_PROTOCOL;
            }
            if (++interim > FETCH_MAX_INTERIM) {
                snprintf(err, errsz, "more than %d interim (1xx) responses from %s",
                         FETCH_MAX_INTERIM, f->where);
                return -PSC_EXIT_PROTOCOL;
            }
            if (f->verbose)
                fprintf(stderr, "* skipped an interim %d response\n", r->status);
            continue;
        }
        /* need more bytes */
        if (f->pos > 0) {
            memmove(f->buf, f->buf + f->pos, f->len - f->pos);
            f->len -= f->pos;
            f->pos = 0;
        }
        if (f->len == sizeof(f->buf)) {
            snprintf(err, errsz, "malformed response from %s: head larger than %d KiB", f->where,
                     FETCH_HEAD_MAX / 1024);
            return -PSC_EXIT_PROTOCOL;
        }
        ssize_t got = net_recv(f->fd, f->buf + f->len, sizeof(f->buf) - f->len, f->timeout_ms);
        if (got < 0)
            return recv_error(f, got, "the response", err, errsz);
        if (got == 0) {
            if (f->len == 0 && interim == 0) {
                snprintf(err, errsz, "empty reply: %s closed the connection without a response",
                         f->where);
                return -PSC_EXIT_EMPTY;
            }
            if (f->len == 0)
                snprintf(err, errsz,
                         "%s closed the connection after an interim %d response, with no final "
                         "response",
                         f->where, r->status);
            else
                snprintf(err, errsz,
                         "malformed response from %s: connection closed inside the "
                         "response head",
                         f->where);
            return -PSC_EXIT_PROTOCOL;
        }
        f->len += (size_t)got;
    }
    f->rp = f->buf + f->pos;
    f->rn = f->len - f->pos;
    f->remaining = r->framing == PS_BODY_LENGTH ? r->content_length : 0;
    f->body_done =
        r->framing == PS_BODY_NONE || (r->framing == PS_BODY_LENGTH && r->content_length == 0);
    return 0;
}

/* Make unread bytes available, waiting for them or (!wait) not. Returns 1,
 * 0 at end of stream, FETCH_AGAIN (!wait, nothing there) or an error. */
static int fill(struct fetch *f, bool wait, char *err, size_t errsz)
{
    if (f->rn > 0)
        return 1;
    ssize_t got = wait ? net_recv(f->fd, f->body_buf, sizeof(f->body_buf), f->timeout_ms)
                       : net_recv_now(f->fd, f->body_buf, sizeof(f->body_buf));
    if (got == -EAGAIN && !wait)
        return FETCH_AGAIN;
    if (got < 0)
        return recv_error(f, got, "the body", err, errsz);
    f->rp = f->body_buf;
    f->rn = (size_t)got;
    return got > 0;
}

static int body_next(struct fetch *f, bool wait, const char **data, size_t *n, char *err,
                     size_t errsz)
{
    int r;
    if (f->body_done)
        return 0;
    switch (f->resp.framing) {
    case PS_BODY_LENGTH: {
        r = fill(f, wait, err, errsz);
        if (r < 0 || r == FETCH_AGAIN)
            return r;
        if (r == 0) {
            snprintf(err, errsz, "%s closed the connection after %llu of %llu body bytes", f->where,
                     (unsigned long long)f->received, (unsigned long long)f->resp.content_length);
            return -PSC_EXIT_PARTIAL;
        }
        size_t take = f->rn < f->remaining ? f->rn : (size_t)f->remaining;
        *data = f->rp;
        *n = take;
        f->rp += take;
        f->rn -= take;
        f->remaining -= take;
        f->received += take;
        f->body_done = f->remaining == 0;
        return 1;
    }
    case PS_BODY_CLOSE:
        r = fill(f, wait, err, errsz);
        if (r == FETCH_AGAIN)
            return r;
        if (r <= 0) {
            f->body_done = r == 0;
            return r;
        }
        *data = f->rp;
        *n = f->rn;
        f->received += f->rn;
        f->rp += f->rn;
        f->rn = 0;
        return 1;
    case PS_BODY_CHUNKED:
        for (;;) {
            r = fill(f, wait, err, errsz);
            if (r < 0 || r == FETCH_AGAIN)
                return r;
            if (r == 0) {
                snprintf(err, errsz,
                         "%s closed the connection inside the chunked body after %llu bytes",
                         f->where, (unsigned long long)f->received);
                return -PSC_EXIT_PARTIAL;
            }
            const char *d;
            size_t dl;
            bool done;
            ssize_t used = ps_chunked_step(&f->chunked, f->rp, f->rn, &d, &dl, &done);
            if (used < 0 || (used == 0 && dl == 0 && !done)) {
                snprintf(err, errsz,
                         "malformed response from %s: bad chunked body after %llu "
                         "bytes",
                         f->where, (unsigned long long)f->received);
                return -PSC_EXIT_PROTOCOL;
            }
            f->rp += used;
            f->rn -= (size_t)used;
            if (dl > 0) {
                *data = d;
                *n = dl;
                f->received += dl;
                f->body_done = done;
                return 1;
            }
            if (done) {
                f->body_done = true;
                return 0;
            }
        }
    case PS_BODY_NONE:
    default: f->body_done = true; return 0;
    }
}

int fetch_interrupted(struct fetch *f, char *err, size_t errsz)
{
    return recv_error(f, -EINTR, "the body", err, errsz);
}

int fetch_body(struct fetch *f, const char **data, size_t *n, char *err, size_t errsz)
{
    return body_next(f, true, data, n, err, errsz);
}

int fetch_body_now(struct fetch *f, const char **data, size_t *n, char *err, size_t errsz)
{
    return body_next(f, false, data, n, err, errsz);
}
