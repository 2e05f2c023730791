/* One client connection and its state machine:
 *   READ (head) -> SEND (head, then body by sendfile) -> READ (keep-alive)
 *   or -> LINGER (half-closed, draining) -> closed.
 * Owned by one worker from accept to close; never touched by another thread. */
#ifndef PS_CONN_H
#define PS_CONN_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "worker.h"

enum conn_state {
    CONN_READ = 0,
    CONN_SEND,
    CONN_LINGER,
};

struct conn {
    struct conn *prev, *next; /* in one of the worker's timer lists */
    struct conn_list *list;
    uint64_t deadline;
    struct worker *w;
    int fd;
    int file_fd;
    uint8_t state;
    bool readable, writable; /* edge-triggered readiness not yet used up */
    bool keep_alive;         /* after this response */
    bool in_request;         /* a request is being answered (for the log) */
    bool linger;             /* drain input before closing */
    bool more_after_head;    /* body follows the head (MSG_MORE) */
    uint8_t version;

    char *buf; /* in area [0, in_cap) then out area [in_cap, in_cap + out_cap) */
    uint32_t in_cap, out_cap;
    uint32_t in_len;   /* bytes read */
    uint32_t head_len; /* length of the head being answered */
    size_t scan;       /* http_head_complete() resume point */
    uint32_t out_len, out_off;
    off_t file_off, file_end;

    /* access log */
    int status;
    uint64_t bytes;
    uint64_t start_us;
    uint32_t method_off, method_len, target_off, target_len;
    unsigned requests;

    union {
        struct sockaddr sa;
        struct sockaddr_in in4;
        struct sockaddr_in6 in6;
    } peer;
};

/* A newly accepted socket (non-blocking). over_limit: answer 503 and close. */
void conn_accept(struct worker *w, int fd, const struct sockaddr *peer, socklen_t peerlen,
                 bool over_limit);

/* epoll reported events for c. */
void conn_on_event(struct conn *c, uint32_t events);

/* Continue a connection parked on the ready list. */
void conn_resume(struct conn *c);

/* c's deadline passed (it is at the head of a timer list). */
void conn_on_timeout(struct conn *c);

/* Graceful stop: close c if it is idle; else make its response the last. */
void conn_on_shutdown(struct conn *c);

/* Close and free c. */
void conn_close(struct conn *c);

#endif
