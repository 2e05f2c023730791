/* A worker's io_uring: the ring, the buffers the kernel picks from for
 * reads, and the requests the worker queues on it. The worker loop and the
 * connections use it instead of epoll when io_uring = yes and the kernel
 * allows it (worker.c decides). Only the worker thread that set it up
 * touches it (IORING_SETUP_SINGLE_ISSUER). */
#ifndef PS_URING_H
#define PS_URING_H

#include <liburing.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct conn;
struct msghdr;

/* A request's user_data: a connection's address with its kind in the low
 * bits (a struct conn is 8-aligned), or a number with the low bits 0 for
 * the worker's own requests. */
enum uring_kind { UR_RECV = 1, UR_SEND = 2, UR_POLL = 3 };
#define UR_BIT(kind) (1u << (kind)) /* in conn->ur_pending */
#define UR_KIND_MASK 7u
#define UR_UD_IGNORE 0u      /* cancels: nothing to do with their completion */
#define UR_UD_CONTROL (1u << 3)
#define UR_UD_FCACHE (2u << 3)
#define UR_UD_LISTEN(i) ((uint64_t)(3u + (i)) << 3)
#define UR_UD_LISTEN_INDEX(ud) ((unsigned)((ud) >> 3) - 3u)

struct uring {
    struct io_uring ring;
    struct io_uring_buf_ring *br; /* buffers for reads, picked by the kernel */
    char *bufs;
    unsigned nbuf, bufsz;
};

/* Set up u in the calling thread (the one that will use it). Returns 0, or
 * -errno with the reason in err. */
int uring_setup(struct uring *u, char *err, size_t errsz);
void uring_teardown(struct uring *u);

/* A free submission entry; queued ones are submitted first if the queue is
 * full. Never NULL. */
struct io_uring_sqe *uring_sqe(struct uring *u);

static inline uint64_t uring_ud(const struct conn *c, enum uring_kind k)
{
    return (uint64_t)(uintptr_t)c | (uint64_t)k;
}

/* Queue a read of at most len bytes on fd into a buffer of the ring's
 * choice; poll_first: wait for data before trying (nothing is expected). */
void uring_recv(struct uring *u, int fd, size_t len, bool poll_first, uint64_t ud);
/* Queue a send of len bytes at p, which stay as they are until the
 * completion. */
void uring_send(struct uring *u, int fd, const void *p, size_t len, int flags, uint64_t ud);
/* Queue a sendmsg; msg and what it points to stay as they are until the
 * completion. */
void uring_sendmsg(struct uring *u, int fd, const struct msghdr *msg, int flags, uint64_t ud);
/* Queue a one-shot poll for events (POLLIN, POLLOUT...). */
void uring_poll(struct uring *u, int fd, unsigned events, uint64_t ud);
/* Queue a poll that stays armed (completions with IORING_CQE_F_MORE). */
void uring_poll_multishot(struct uring *u, int fd, uint64_t ud);
/* Queue an accept: one that stays armed (multishot), or one for a single
 * connection. */
void uring_accept(struct uring *u, int fd, uint64_t ud, bool multishot);
/* Queue the cancellation of the request with this user_data. */
void uring_cancel(struct uring *u, uint64_t ud);

/* The bytes of a completed read, and giving its buffer back. */
char *uring_buf(struct uring *u, const struct io_uring_cqe *cqe);
void uring_buf_put(struct uring *u, const struct io_uring_cqe *cqe);

#endif
