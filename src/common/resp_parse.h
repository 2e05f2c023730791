/* HTTP/1.x response parsing for the tools (RFC 9112): the status line and
 * fields of a head, the message-body framing (section 6.3), and a resumable
 * chunked decoder. Pure: no I/O, no allocation, never logs; fuzzed. */
#ifndef PS_RESP_PARSE_H
#define PS_RESP_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct ps_field {
    const char *name, *value;
    size_t name_len, value_len;
};

enum ps_framing {
    PS_BODY_NONE,    /* HEAD, 1xx, 204, 304 */
    PS_BODY_LENGTH,  /* Content-Length */
    PS_BODY_CHUNKED, /* Transfer-Encoding: chunked */
    PS_BODY_CLOSE,   /* until the server closes */
};

struct ps_response {
    int version; /* 10 or 11 */
    int minor;   /* the minor version as received, 0..9 (HTTP/1.5: 5, version 11) */
    int status;  /* 100..999 */
    const char *reason;
    size_t reason_len;
    enum ps_framing framing;
    uint64_t content_length;
    bool keep_alive; /* the connection may be reused after the body */
    struct ps_field *fields; /* caller's array */
    unsigned nfields, max_fields;
};

/* Parse a response head from buf[0..len). r->fields/max_fields must be set.
 * head_request: the request was HEAD (no body whatever the fields say).
 * Returns the head's length (> 0), 0 when more bytes are needed, or
 * -EBADMSG (malformed: bad status line, bad field, conflicting or bad
 * Content-Length (ps_parse_content_length says which), a transfer coding
 * other than chunked, except on a response to HEAD or a 304, which have no
 * body) or -E2BIG (more fields than max_fields). */
int ps_resp_parse(const char *buf, size_t len, bool head_request, struct ps_response *r);

/* The first field called name (case-insensitive), or NULL. */
const struct ps_field *ps_resp_field(const struct ps_response *r, const char *name);

/* Start with an all-zero struct ps_chunked (= {0}) for each body. */
struct ps_chunked {
    int state;
    uint64_t remaining;
    unsigned line_len; /* guards chunk-size and trailer lines */
};

/* Feed in[0..n) to the chunked decoder. Returns how many bytes it used (all
 * of them unless the body ended or a data span was found), with *data and
 * *dlen set to body bytes inside in (dlen 0: none in this call), *done when
 * the last chunk and the trailer section are complete; or -EBADMSG. Call
 * again with the rest of the input. */
ssize_t ps_chunked_step(struct ps_chunked *c, const char *in, size_t n, const char **data,
                        size_t *dlen, bool *done);

#endif
