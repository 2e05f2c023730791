/* One HTTP/1.1 exchange on a connected socket: the response head (interim
 * 1xx responses skipped) and the decoded body, read through a fixed
 * buffer. Parsing is src/common/resp_parse; this adds the reads, the
 * timeouts and the messages. */
#ifndef PSC_FETCH_H
#define PSC_FETCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "resp_parse.h"

#define FETCH_HEAD_MAX    65536 /* a longer response head is refused */
#define FETCH_MAX_FIELDS  128
#define FETCH_MAX_INTERIM 16 /* 1xx responses skipped before the final one */

struct fetch {
    int fd;
    uint64_t timeout_ms; /* for each wait; 0: none */
    bool verbose;
    const char *where; /* "HOST port PORT" for messages */
    char buf[FETCH_HEAD_MAX];
    size_t pos, len; /* unread bytes are buf[pos..len) */
    /* the final response, its fields pointing into buf */
    struct ps_response resp;
    struct ps_field fields[FETCH_MAX_FIELDS];
    /* body decoding: bytes after the head in buf first, then reads into
     * body_buf, so that the head's fields stay valid */
    char body_buf[65536];
    const char *rp; /* unread window */
    size_t rn;
    struct ps_chunked chunked;
    uint64_t remaining; /* PS_BODY_LENGTH */
    uint64_t received;  /* decoded body bytes so far */
    bool body_done;
};

/* Prepare f for a new exchange on fd. */
void fetch_init(struct fetch *f, int fd, uint64_t timeout_ms, bool verbose, const char *where);

/* Read the response head. Returns 0, or minus a PSC_EXIT_* status (timeout,
 * protocol, network) with err holding a one-line message. */
int fetch_head(struct fetch *f, bool head_request, char *err, size_t errsz);

/* The next piece of the decoded body: 1 with *data and *n set (valid
 * until the next call), 0 at the end of the body, or minus a PSC_EXIT_*
 * status (partial, protocol, timeout, network) with err set. */
int fetch_body(struct fetch *f, const char **data, size_t *n, char *err, size_t errsz);

/* The error of a body stopped by a signal (net_interrupted): err says so.
 * Returns minus a PSC_EXIT_* status, as fetch_body does. */
int fetch_interrupted(struct fetch *f, char *err, size_t errsz);

#define FETCH_AGAIN 2 /* fetch_body_now: no body bytes without waiting */

/* fetch_body without waiting: only what is in the buffer or has already
 * arrived on the socket. Returns as fetch_body does, or FETCH_AGAIN when
 * the next piece would have to be waited for. */
int fetch_body_now(struct fetch *f, const char **data, size_t *n, char *err, size_t errsz);

#endif
