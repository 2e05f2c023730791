/* A worker's io_uring (see uring.h). The ring is set up so that the kernel
 * does a request's deferred work (a read whose data came, a send that had
 * to wait for room) only when the worker enters the ring to wait
 * (IORING_SETUP_DEFER_TASKRUN): completions appear in one batch per turn of
 * the loop, never while the worker is busy with the last one, and no other
 * thread is interrupted for them. Reads take their buffer from a ring of
 * buffers at the moment data arrives, so an idle connection waiting for
 * its next request holds none. */
#include "config.h"

#include "uring.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#define SQ_ENTRIES 1024u
#define CQ_ENTRIES 8192u
#define BUF_GROUP 1
#define NBUF 256u     /* a power of two */
#define BUF_SIZE 2048u /* a longer head comes in several reads */

int uring_setup(struct uring *u, char *err, size_t errsz)
{
    memset(u, 0, sizeof(*u));
    struct io_uring_params p = {
        .flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN |
                 IORING_SETUP_SUBMIT_ALL | IORING_SETUP_CQSIZE,
        .cq_entries = CQ_ENTRIES,
    };
    int r = io_uring_queue_init_params(SQ_ENTRIES, &u->ring, &p);
    if (r < 0) {
        snprintf(err, errsz, "io_uring_setup: %s", strerror(-r));
        return r;
    }
    if (!(p.features & IORING_FEAT_NODROP) || !(p.features & IORING_FEAT_EXT_ARG)) {
        io_uring_queue_exit(&u->ring);
        snprintf(err, errsz, "io_uring: the kernel lacks completion overflow or wait timeouts");
        return -ENOSYS;
    }
    u->nbuf = NBUF;
    u->bufsz = BUF_SIZE;
    size_t ring_bytes = (NBUF * sizeof(struct io_uring_buf) + 4095u) & ~(size_t)4095u;
    u->br = aligned_alloc(4096, ring_bytes);
    u->bufs = malloc((size_t)NBUF * BUF_SIZE);
    if (!u->br || !u->bufs) {
        uring_teardown(u);
        snprintf(err, errsz, "io_uring buffers: out of memory");
        return -ENOMEM;
    }
    /* The kernel writes reads into these behind the back of memory
     * checkers (valgrind): make them defined once. */
    memset(u->br, 0, ring_bytes);
    memset(u->bufs, 0, (size_t)NBUF * BUF_SIZE);
    struct io_uring_buf_reg reg = {
        .ring_addr = (uint64_t)(uintptr_t)u->br, .ring_entries = NBUF, .bgid = BUF_GROUP};
    r = io_uring_register_buf_ring(&u->ring, &reg, 0);
    if (r < 0) {
        uring_teardown(u);
        snprintf(err, errsz, "io_uring buffer ring: %s", strerror(-r));
        return r;
    }
    io_uring_buf_ring_init(u->br);
    for (unsigned i = 0; i < NBUF; i++)
        io_uring_buf_ring_add(u->br, u->bufs + (size_t)i * BUF_SIZE, BUF_SIZE, (unsigned short)i,
                              io_uring_buf_ring_mask(NBUF), (int)i);
    io_uring_buf_ring_advance(u->br, NBUF);
    return 0;
}

void uring_teardown(struct uring *u)
{
    if (u->ring.ring_fd > 0)
        io_uring_queue_exit(&u->ring); /* cancels whatever is still queued */
    free(u->br);
    free(u->bufs);
    memset(u, 0, sizeof(*u));
}

struct io_uring_sqe *uring_sqe(struct uring *u)
{
    struct io_uring_sqe *sqe = io_uring_get_sqe(&u->ring);
    while (!sqe) {
        /* The queue is full (closing thousands of connections at once
         * queues a cancel for each): hand it to the kernel. That fails only
         * for a moment (-EAGAIN: no memory for the requests; -EBUSY): wait
         * a millisecond rather than spin. */
        int r = io_uring_submit(&u->ring);
        if (r < 0 && r != -EINTR) {
            struct timespec ms = {0, 1000000};
            nanosleep(&ms, NULL);
        }
        sqe = io_uring_get_sqe(&u->ring);
    }
    return sqe;
}

void uring_recv(struct uring *u, int fd, size_t len, bool poll_first, uint64_t ud)
{
    struct io_uring_sqe *sqe = uring_sqe(u);
    io_uring_prep_recv(sqe, fd, NULL, len < u->bufsz ? len : u->bufsz, 0);
    if (poll_first)
        sqe->ioprio |= IORING_RECVSEND_POLL_FIRST;
    sqe->flags |= IOSQE_BUFFER_SELECT;
    sqe->buf_group = BUF_GROUP;
    io_uring_sqe_set_data64(sqe, ud);
}

void uring_send(struct uring *u, int fd, const void *p, size_t len, int flags, uint64_t ud)
{
    struct io_uring_sqe *sqe = uring_sqe(u);
    io_uring_prep_send(sqe, fd, p, len, flags);
    io_uring_sqe_set_data64(sqe, ud);
}

void uring_sendmsg(struct uring *u, int fd, const struct msghdr *msg, int flags, uint64_t ud)
{
    struct io_uring_sqe *sqe = uring_sqe(u);
    io_uring_prep_sendmsg(sqe, fd, msg, (unsigned)flags);
    io_uring_sqe_set_data64(sqe, ud);
}

void uring_poll(struct uring *u, int fd, unsigned events, uint64_t ud)
{
    struct io_uring_sqe *sqe = uring_sqe(u);
    io_uring_prep_poll_add(sqe, fd, events);
    io_uring_sqe_set_data64(sqe, ud);
}

void uring_poll_multishot(struct uring *u, int fd, uint64_t ud)
{
    struct io_uring_sqe *sqe = uring_sqe(u);
    io_uring_prep_poll_multishot(sqe, fd, POLLIN);
    io_uring_sqe_set_data64(sqe, ud);
}

void uring_accept(struct uring *u, int fd, uint64_t ud, bool multishot)
{
    struct io_uring_sqe *sqe = uring_sqe(u);
    if (multishot)
        io_uring_prep_multishot_accept(sqe, fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    else
        io_uring_prep_accept(sqe, fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    io_uring_sqe_set_data64(sqe, ud);
}

void uring_cancel(struct uring *u, uint64_t ud)
{
    struct io_uring_sqe *sqe = uring_sqe(u);
    io_uring_prep_cancel64(sqe, ud, 0);
    io_uring_sqe_set_data64(sqe, UR_UD_IGNORE);
    sqe->flags |= IOSQE_CQE_SKIP_SUCCESS;
}

char *uring_buf(struct uring *u, const struct io_uring_cqe *cqe)
{
    return u->bufs + (size_t)(cqe->flags >> IORING_CQE_BUFFER_SHIFT) * u->bufsz;
}

void uring_buf_put(struct uring *u, const struct io_uring_cqe *cqe)
{
    unsigned bid = cqe->flags >> IORING_CQE_BUFFER_SHIFT;
    io_uring_buf_ring_add(u->br, u->bufs + (size_t)bid * u->bufsz, u->bufsz, (unsigned short)bid,
                          io_uring_buf_ring_mask(u->nbuf), 0);
    io_uring_buf_ring_advance(u->br, 1);
}
