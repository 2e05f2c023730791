/* Response reader: head via ps_resp_parse, body framing per RFC 9112
 * section 6.3. */
#include "rdec.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

enum { ST_HEAD, ST_LENGTH, ST_CHUNKED, ST_CLOSE, ST_DONE };

void rdec_init(struct rdec *d)
{
    memset(d, 0, sizeof(*d));
}

void rdec_free(struct rdec *d)
{
    free(d->stash);
    d->stash = NULL;
    d->stash_len = d->stash_cap = 0;
}

void rdec_start(struct rdec *d, bool head_request, bool hashing)
{
    d->state = ST_HEAD;
    d->head_request = head_request;
    d->hashing = hashing;
    d->started = false;
    d->status = 0;
    d->keep_alive = false;
    d->has_length = false;
    d->content_length = d->body_len = d->left = 0;
    d->stash_len = 0;
    d->why = NULL;
    memset(&d->ch, 0, sizeof(d->ch));
    if (hashing)
        sha256_init(&d->sha);
}

static void body(struct rdec *d, const char *p, size_t n)
{
    d->body_len += n;
    if (d->hashing && n)
        sha256_update(&d->sha, p, n);
}

static bool stash_append(struct rdec *d, const char *p, size_t n)
{
    if ((size_t)d->stash_len + n > RDEC_STASH_MAX)
        return false;
    if (d->stash_len + n > d->stash_cap) {
        size_t cap = d->stash_cap ? d->stash_cap : 2048;
        while (cap < d->stash_len + n)
            cap *= 2;
        if (cap > RDEC_STASH_MAX)
            cap = RDEC_STASH_MAX;
        char *s = realloc(d->stash, cap);
        if (!s)
            return false;
        d->stash = s;
        d->stash_cap = (uint32_t)cap;
    }
    memcpy(d->stash + d->stash_len, p, n);
    d->stash_len += (uint32_t)n;
    return true;
}

/* A head was parsed: choose the body state. Returns the event so far. */
static enum rdec_event after_head(struct rdec *d, const struct ps_response *r)
{
    d->status = r->status;
    /* after a 101 (Switching Protocols) the bytes that follow the head are
     * another protocol's (RFC 9110 section 15.2.2): the 101 is the last
     * HTTP message on the connection, which is not reused */
    d->keep_alive = r->keep_alive && r->status != 101;
    d->framing = r->framing;
    d->content_length = r->content_length;
    d->has_length = ps_resp_field(r, "content-length") != NULL;
    if (r->status >= 100 && r->status < 200 && r->status != 101) {
        /* interim response (RFC 9110 section 15.2): the final one follows */
        d->status = 0;
        return RDEC_MORE;
    }
    switch (r->framing) {
    case PS_BODY_NONE: d->state = ST_DONE; return RDEC_DONE;
    case PS_BODY_LENGTH:
        d->left = r->content_length;
        d->state = d->left ? ST_LENGTH : ST_DONE;
        return d->left ? RDEC_MORE : RDEC_DONE;
    case PS_BODY_CHUNKED: d->state = ST_CHUNKED; return RDEC_MORE;
    case PS_BODY_CLOSE: d->state = ST_CLOSE; return RDEC_MORE;
    }
    return RDEC_MORE;
}

static size_t feed_head(struct rdec *d, const char *in, size_t n, enum rdec_event *ev)
{
    struct ps_field fields[RDEC_MAX_FIELDS];
    struct ps_response r = {.fields = fields, .max_fields = RDEC_MAX_FIELDS};
    int len;
    size_t used;

    if (d->stash_len == 0) {
        len = ps_resp_parse(in, n, d->head_request, &r);
        if (len == 0) {
            if (!stash_append(d, in, n))
                goto too_big;
            *ev = RDEC_MORE;
            return n;
        }
        used = len > 0 ? (size_t)len : 0;
    } else {
        uint32_t old = d->stash_len;
        size_t take = n;
        if (old + take > RDEC_STASH_MAX)
            take = RDEC_STASH_MAX - old;
        if (!stash_append(d, in, take))
            goto too_big;
        len = ps_resp_parse(d->stash, d->stash_len, d->head_request, &r);
        if (len == 0) {
            if (d->stash_len >= RDEC_STASH_MAX)
                goto too_big;
            *ev = RDEC_MORE;
            return take;
        }
        used = len > 0 ? (size_t)len - old : 0;
    }
    if (len < 0) {
        d->why = len == -E2BIG ? "too many header fields" : "malformed response head";
        *ev = RDEC_BAD;
        return 0;
    }
    /* fields point into in or the stash: after_head reads them before the
     * stash is reused */
    *ev = after_head(d, &r);
    d->stash_len = 0;
    return used;

too_big:
    d->why = "response head too large";
    *ev = RDEC_BAD;
    return 0;
}

size_t rdec_feed(struct rdec *d, const char *in, size_t n, enum rdec_event *ev)
{
    size_t used = 0;
    *ev = RDEC_MORE;
    if (n)
        d->started = true;
    while (used < n) {
        const char *p = in + used;
        size_t m = n - used;
        switch (d->state) {
        case ST_HEAD:
            used += feed_head(d, p, m, ev);
            if (*ev != RDEC_MORE)
                return used;
            if (d->state == ST_HEAD && d->stash_len > 0)
                return used; /* all of it is in the stash */
            break;           /* a body, or the head after an interim response */
        case ST_LENGTH: {
            size_t take = m < d->left ? m : (size_t)d->left;
            body(d, p, take);
            d->left -= take;
            used += take;
            if (d->left == 0) {
                d->state = ST_DONE;
                *ev = RDEC_DONE;
                return used;
            }
            break;
        }
        case ST_CHUNKED: {
            const char *data;
            size_t dlen;
            bool done;
            ssize_t k = ps_chunked_step(&d->ch, p, m, &data, &dlen, &done);
            if (k < 0) {
                d->why = "bad chunked encoding";
                *ev = RDEC_BAD;
                return used;
            }
            body(d, data, dlen);
            used += (size_t)k;
            if (done) {
                d->state = ST_DONE;
                *ev = RDEC_DONE;
                return used;
            }
            if (k == 0 && dlen == 0) { /* no progress: cannot happen, but never spin */
                d->why = "chunked decoder stalled";
                *ev = RDEC_BAD;
                return used;
            }
            break;
        }
        case ST_CLOSE:
            body(d, p, m);
            used = n;
            break;
        default: /* ST_DONE: the caller must call rdec_start first */
            d->why = "data after a complete response";
            *ev = RDEC_BAD;
            return used;
        }
    }
    return used;
}

enum rdec_event rdec_eof(struct rdec *d)
{
    if (d->state == ST_CLOSE) {
        d->state = ST_DONE;
        return RDEC_DONE;
    }
    if (d->state == ST_DONE)
        return RDEC_DONE;
    if (!d->started && d->stash_len == 0)
        return RDEC_MORE;
    d->why = d->state == ST_HEAD ? "connection closed inside a response head"
                                 : "connection closed inside a response body";
    return RDEC_BAD;
}
