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
#include <sys/uio.h>

#include "worker.h"

enum conn_state {
    CONN_READ = 0,
    CONN_SEND,
    CONN_LINGER,
};

/* A response is a plan of segments sent in order: bytes of the out area
 * (the head, an error body), of a heap buffer (a directory listing), of a
 * cached file's content, of the open file (sendfile), or a multipart part
 * header / closing delimiter written into the part area when its turn comes.
 * Consecutive memory segments leave in one send (conn_send.c). */
enum seg_kind { SEG_OUT = 0, SEG_HEAP, SEG_CACHE, SEG_FILE, SEG_PART, SEG_TRAILER };

struct send_seg {
    uint8_t kind;
    uint64_t off; /* offset in its source (SEG_PART: unused; the range is the
                     SEG_FILE that follows) */
    uint64_t len;
};

#define CONN_MAX_RANGES 64
#define CONN_MAX_SEGS (2 * CONN_MAX_RANGES + 2)
#define CONN_BOUNDARY_MAX 32
#define CONN_CTYPE_MAX 256
#define CONN_PART_MAX 512
#define CONN_PART_AREA (CONN_BOUNDARY_MAX + CONN_CTYPE_MAX + CONN_PART_MAX)
/* A connection's buffer: [in area: in_cap][head: head_cap][part area]
 * [segment array, 8-byte aligned from the buffer's start]. */
#define CONN_SEGS_OFF(in_cap, head_cap) \
    (((size_t)(in_cap) + (size_t)(head_cap) + CONN_PART_AREA + 7) & ~(size_t)7)
/* ... then, with io_uring, the message of the send in flight. */
#define CONN_MSG_IOV 8
struct conn_msg {
    struct msghdr msg;
    struct iovec iov[CONN_MSG_IOV];
};
#define CONN_MSG_OFF(in_cap, head_cap) \
    (CONN_SEGS_OFF(in_cap, head_cap) + CONN_MAX_SEGS * sizeof(struct send_seg))
#define CONN_BUF_SIZE(in_cap, head_cap) (CONN_MSG_OFF(in_cap, head_cap) + sizeof(struct conn_msg))

struct fcache_entry;

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
    bool ack_owed;           /* bytes read that no response has acknowledged yet */
    bool registered;         /* in the worker's epoll set (only once it must wait) */
    bool lowat;              /* TCP_NOTSENT_LOWAT set (before its first sendfile) */
    bool seg_unit_final;     /* seg_unit is no longer read (conn_send.c) */
    uint8_t seg_unit_reads;  /* times the MSS was read for it */
    uint8_t version;
    bool costly;             /* its answer took long to make: the turn ends after it */

    /* io_uring (w->uring): requests in flight, and the turn's run queue */
    uint8_t ur_pending; /* UR_BIT(kind) of each */
    bool ur_zombie;     /* closed: freed when the last one completes */
    bool ur_queued;     /* on one of w's run queues */
    bool ur_eof;        /* a read ended with end of input or an error */
    bool ur_try;        /* input may be waiting: read without polling first */
    bool ur_direct;     /* new: its first read is a recv(2) in the run (conn_recv) */
    bool ur_more;       /* more of the plan follows the send in flight */
    bool ur_nomem;      /* no buffer for what a read brought */
    bool ur_failed;     /* a send failed: close at the next run */
    bool ur_costly;     /* made a costly answer since it was last queued */
    struct conn *ur_next;

    char *buf; /* in area [0, in_cap) then out area [in_cap, in_cap + out_cap) */
    uint32_t in_cap, out_cap, head_cap;
    uint32_t in_len;   /* bytes read */
    uint32_t seg_unit; /* length of a big body's sendfile calls, 0: any */
    uint32_t unpushed; /* bytes sent with MSG_MORE since the last push */
    uint64_t rseq;     /* the worker's rseq after this connection's last read */
    uint64_t linger_until; /* CONN_LINGER: drain no longer than this (now_ms) */
    uint32_t head_len; /* length of the head being answered */
    size_t scan;       /* http_head_complete() resume point; 0: parse at the next look */

    /* the response plan */
    struct send_seg *segs;
    uint16_t nsegs, seg_i;
    uint64_t seg_done;
    uint64_t file_size;   /* for multipart part headers */
    char *heap;           /* owned body (listing), freed with the response */
    size_t heap_len;      /* a listing's size (c->heap or c->centry's page),
                             counted in the worker's heap_bytes */
    struct fcache_entry *centry; /* cached file the response sends (SEG_CACHE, or
                                    its fd as file_fd), released at its end */

    /* access log */
    int status;
    uint64_t bytes;
    uint64_t start_us;
    uint32_t method_off, method_len, target_off, target_len;
    uint32_t referer_off, referer_len, user_agent_off, user_agent_len;
    unsigned requests;

    union {
        struct sockaddr sa;
        struct sockaddr_in in4;
        struct sockaddr_in6 in6;
    } peer;
};

/* Area accessors. */
static inline char *conn_out(struct conn *c)
{
    return c->buf + c->in_cap;
}

static inline char *conn_part_area(struct conn *c)
{
    return conn_out(c) + c->head_cap;
}

/* Start sending the plan in c->segs[0..nsegs) (state SEND, send timer). */
void conn_begin_send(struct conn *c);

/* A newly accepted socket (non-blocking): its request is read, if it has
 * come. over_limit: it is answered 503 and closed. Returns the connection
 * for conn_run, or NULL when it is already done with. */
struct conn *conn_accept(struct worker *w, int fd, const struct sockaddr *peer, socklen_t peerlen,
                         bool over_limit);

/* The two halves of an epoll batch: first every connection takes its
 * events and reads what its socket has; then each one runs. Reading all
 * before answering any lets one look at the file cache's inotify queue,
 * after the reads, vouch for the cached files of the whole batch. */
void conn_on_event(struct conn *c, uint32_t events);
void conn_run(struct conn *c);

/* A request of c's on the worker's io_uring completed (cqe): take its
 * result. Returns true when c should run this turn (conn_run). */
struct io_uring_cqe;
bool conn_uring_done(struct conn *c, const struct io_uring_cqe *cqe);

/* Continue a connection parked on the ready list. */
void conn_resume(struct conn *c);

/* c's deadline passed (it is at the head of a timer list). */
void conn_on_timeout(struct conn *c);

/* Graceful stop: close c if it is idle after a response; else make its
 * response the last. A connection that has not had its first request yet
 * is idle too once first_done: until then its request may be on its way
 * (or in the socket, unread), and it is served. */
void conn_on_shutdown(struct conn *c, bool first_done);

/* Close and free c. */
void conn_close(struct conn *c);

#endif
