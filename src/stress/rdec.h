/* Response reader of one pyserve-stress connection: bytes in, "one more
 * response complete" or "bad response" out. Wraps ps_resp_parse (the head,
 * kept in a small stash only when it arrives in pieces) and the body
 * framing (Content-Length, chunked, until close), counts the body and
 * optionally hashes it. No I/O, never logs. */
#ifndef STRESS_RDEC_H
#define STRESS_RDEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "resp_parse.h"
#include "sha256.h"

#define RDEC_STASH_MAX  (64 * 1024) /* largest response head accepted */
#define RDEC_MAX_FIELDS 128

enum rdec_event {
    RDEC_MORE, /* all input used, the response is not complete yet */
    RDEC_DONE, /* a response is complete; the rest of the input is the next one's */
    RDEC_BAD,  /* malformed or truncated response: d->why says why */
};

struct rdec {
    uint8_t state;
    bool head_request; /* the request was HEAD: no body */
    bool hashing;      /* sha256 over the body */
    bool started;      /* a byte of this response has arrived */
    int status;        /* of the final response (or a 101), once the head is parsed */
    bool keep_alive;   /* the connection may carry the next request (not after a 101) */
    enum ps_framing framing;
    bool has_length;         /* a Content-Length field was present */
    uint64_t content_length; /* its value */
    uint64_t body_len;       /* body bytes received */
    uint64_t left;           /* body bytes still expected (PS_BODY_LENGTH) */
    struct ps_chunked ch;
    char *stash;
    uint32_t stash_len, stash_cap;
    const char *why; /* after RDEC_BAD */
    struct sha256 sha;
};

void rdec_init(struct rdec *d);
void rdec_free(struct rdec *d);

/* Get ready for the next response (after init or after RDEC_DONE). */
void rdec_start(struct rdec *d, bool head_request, bool hashing);

/* Feed in[0..n): returns how many bytes were used and sets *ev. Call again
 * with the rest after RDEC_DONE (and rdec_start). */
size_t rdec_feed(struct rdec *d, const char *in, size_t n, enum rdec_event *ev);

/* The server closed the connection: RDEC_DONE if that ends a body
 * delimited by the close, RDEC_BAD if a response was cut short, RDEC_MORE
 * if no byte of a response had arrived. */
enum rdec_event rdec_eof(struct rdec *d);

#endif
