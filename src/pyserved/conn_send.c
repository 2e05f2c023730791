/* Sending a response's plan (conn.h): memory segments with send(2), or
 * sendmsg(2) when they do not fit one buffer, or as requests on the
 * worker's io_uring; file ranges with sendfile(2), in calls cut to whole
 * TCP segments. The other half of the state machine, conn.c, calls
 * conn_send_plan in the SEND state. */
#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "conf.h"
#include "conn.h"
#include "conn_int.h"
#include "fcache.h"
#include "log.h"
#include "respond.h"
#include "uring.h"

/* A big body goes out in sendfile calls that each end on a segment
 * boundary (see update_segment_unit). A remainder of up to SENDFILE_CHUNK
 * goes in one call, and so does every call when the MSS is unknown. */
#define SENDFILE_CHUNK (128u << 10)
#define NOTSENT_LOWAT (128 << 10)
/* sendfile(2) moves a file to a socket through a pipe of 16 buffers of a
 * page each (PIPE_DEF_BUFFERS), and each such batch (64 KiB with 4 KiB
 * pages) is a separate send inside the kernel. */
#define SENDFILE_BATCH_PAGES 16u
/* batches a big body's sendfile call spans (update_segment_unit) */
#define SENDFILE_CALL_BATCHES 4u
/* reads of the MSS on a connection before its unit is taken as final */
#define SEG_UNIT_MAX_READS 16u
/* Memory pieces up to this much in all are copied into one buffer and go
 * out with send(): on a loopback, a head and a 1 KiB body cost about
 * 150 ns less that way than as sendmsg's two iovecs, out of 4.5 us (80 ns
 * with a 4 KiB body; at 16 KiB the two cost the same). Under wrk, 1 KiB
 * with keep-alive, server CPU per request fell by about 1.3%. */
#define FLATTEN_MAX 4096u

/* Cut a big body's sendfile calls to the largest multiple of the socket's
 * MSS that SENDFILE_CALL_BATCHES batches of sendfile hold (the MSS if that
 * is more); 0 if the socket tells none (not TCP). With TCP_NODELAY, what a
 * call leaves short of a full segment at its end goes out as a small
 * segment of its own as soon as the windows let it. Calls that end where a
 * segment ends leave none. The MSS the kernel reports is capped at half the
 * largest window the peer has offered, so on a new connection it grows (on
 * loopback from half of 64 KiB to 65,483 bytes): it is read again before
 * each call until it reaches the MSS this side advertises, or
 * SEG_UNIT_MAX_READS times when it never does (a peer with a smaller MSS,
 * or a small receive buffer). A smaller unit than the MSS costs more
 * segments, never wrong bytes; neither does a stale one.
 * Why 4 batches (4 segments on loopback, 181 on Ethernet), four 10 MiB
 * downloads on loopback against lighttpd in alternation:
 *   calls of 128 KiB (not cut): wrk 1.04-1.10x, pyserve-stress 0.84-0.91x
 *     (378 segments per request in both directions, against lighttpd's 306);
 *   1 batch (one segment per call on loopback): pyserve-stress 1.05x, 252
 *     segments, but wrk, which reads 8 KiB at a time, 0.35-0.5x: its receive
 *     window ran full 9 times per request (TCPWantZeroWindowAdv; lighttpd
 *     0.6) and it stalled;
 *   2 batches: wrk 0.93x, pyserve-stress 0.95x;
 *   4 batches: wrk 0.99-1.05x, pyserve-stress 0.98-1.01x, 314 segments. */
static void update_segment_unit(struct conn *c)
{
    struct tcp_info ti;
    socklen_t len = sizeof(ti);
    if (getsockopt(c->fd, IPPROTO_TCP, TCP_INFO, &ti, &len) < 0 || ti.tcpi_snd_mss == 0) {
        c->seg_unit = 0;
        c->seg_unit_final = true;
        return;
    }
    long page = sysconf(_SC_PAGESIZE);
    uint32_t room = SENDFILE_CALL_BATCHES * SENDFILE_BATCH_PAGES *
                    (uint32_t)(page > 0 ? page : 4096);
    uint32_t mss = ti.tcpi_snd_mss;
    c->seg_unit = mss >= room ? mss : room / mss * mss;
    c->seg_unit_final = mss >= ti.tcpi_advmss || ++c->seg_unit_reads >= SEG_UNIT_MAX_READS;
}

/* Keep at most NOTSENT_LOWAT bytes queued but not yet sent on a socket
 * that gets a file body. Without a bound, sendfile queues as much as the
 * send buffer holds (megabytes), more than the peer's window lets out, and
 * the rest is transmitted later from the softirq of the ACKs, which on
 * loopback runs on the receiver's CPU: the client pays for the sending. With
 * it, sendfile stops (EAGAIN) once that much waits, EPOLLOUT comes when less
 * does, and the data leaves in this thread's own system calls. */
static void limit_unsent(struct conn *c)
{
    int v = NOTSENT_LOWAT;
    c->lowat = true;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NOTSENT_LOWAT, &v, sizeof(v));
}

/* The pieces iov[0..*niov) in all; when there are several and they fit in
 * cap bytes, copied one after the other to dst, which iov[0] then holds
 * alone (*niov = 1): as FLATTEN_MAX explains. Inlined: a call of its own
 * cost 20 instructions a request (callgrind, 1 KiB keep-alive). */
static inline __attribute__((always_inline)) size_t flatten(struct iovec *iov, int *niov,
                                                            char *dst, size_t cap)
{
    size_t total = 0;
    for (int k = 0; k < *niov; k++)
        total += iov[k].iov_len;
    if (*niov > 1 && total <= cap) {
        char *d = dst;
        for (int k = 0; k < *niov; k++) {
            memcpy(d, iov[k].iov_base, iov[k].iov_len);
            d += iov[k].iov_len;
        }
        iov[0] = (struct iovec){dst, total};
        *niov = 1;
    }
    return total;
}

/* (conn_int.h) */
void conn_sent(struct conn *c, uint64_t sent, bool more)
{
    c->unpushed = more ? c->unpushed + (uint32_t)sent : 0;
    c->bytes += sent;
    while (sent > 0) {
        uint64_t room = c->segs[c->seg_i].len - c->seg_done;
        uint64_t take = sent < room ? sent : room;
        c->seg_done += take;
        sent -= take;
        if (c->seg_done == c->segs[c->seg_i].len && sent > 0) {
            c->seg_i++;
            c->seg_done = 0;
        }
    }
}

/* io_uring: queue the send of iov; its completion continues the plan
 * (conn_uring_done). Pieces that fit in the unused end of the in area (no
 * read is queued while a response is sent) are copied there and go as one
 * send; else the message lives in the connection's buffer. */
static enum step send_on_ring(struct conn *c, struct iovec *iov, int niov, int flags, bool more)
{
    struct uring *u = c->w->uring;
    size_t room = c->in_cap - c->in_len;
    flatten(iov, &niov, c->buf + c->in_len, room < FLATTEN_MAX ? room : FLATTEN_MAX);
    if (niov == 1) {
        uring_send(u, c->fd, iov[0].iov_base, iov[0].iov_len, flags, uring_ud(c, UR_SEND));
    } else {
        struct conn_msg *m =
            (struct conn_msg *)(void *)(c->buf + CONN_MSG_OFF(c->in_cap, c->head_cap));
        memcpy(m->iov, iov, (size_t)niov * sizeof(*iov));
        memset(&m->msg, 0, sizeof(m->msg));
        m->msg.msg_iov = m->iov;
        m->msg.msg_iovlen = (size_t)niov;
        uring_sendmsg(u, c->fd, &m->msg, flags, uring_ud(c, UR_SEND));
    }
    c->ur_pending |= UR_BIT(UR_SEND);
    c->ur_more = more;
    return STEP_BLOCK;
}

#define LOG_TARGET_MAX 1024 /* an escaped request target in a message, cut there */

/* The file shrank under us: the promised length can no longer be kept, and
 * closing is the only honest end (RFC 9112 6.3). Which request and which
 * client got a short body: named. */
static enum step file_shrank(struct conn *c)
{
    char peer[PEER_NAME_MAX], t[LOG_TARGET_MAX];
    t[log_escape(t, sizeof(t), c->buf ? c->buf + c->target_off : NULL, c->target_len)] = '\0';
    log_msg(LOG_WARNING, "file shrank while being sent: %s to %s; closing the connection", t,
            conn_peer_name(c, peer, sizeof(peer)));
    conn_close(c);
    return STEP_CLOSED;
}

/* The next piece of the file range s, with sendfile(2): what its call
 * returned. */
static ssize_t send_file_range(struct conn *c, const struct send_seg *s)
{
    uint64_t left = s->len - c->seg_done;
    if (!c->lowat)
        limit_unsent(c);
    size_t want = left > SENDFILE_CHUNK ? SENDFILE_CHUNK : (size_t)left;
    if (left > SENDFILE_CHUNK) {
        if (!c->seg_unit_final)
            update_segment_unit(c);
        if (c->seg_unit) /* the first segment also holds what went with MSG_MORE */
            want = c->seg_unit - c->unpushed % c->seg_unit;
        if (want > left)
            want = (size_t)left;
    }
    off_t off = (off_t)(s->off + c->seg_done);
    return sendfile(c->fd, c->file_fd, &off, want);
}

/* The current memory segment and those right after it that can leave in
 * the same send, into iov[0..CONN_MSG_IOV): up to a file range; a part
 * header or closing delimiter goes on its own, since it is written into
 * the part area when its turn comes. Returns how many, or -1 when a part
 * header came out at another length than planned (cannot happen). */
static int gather_memory(struct conn *c, struct iovec *iov)
{
    int niov = 0;
    for (unsigned k = c->seg_i; k < c->nsegs && niov < CONN_MSG_IOV; k++) {
        const struct send_seg *m = &c->segs[k];
        uint64_t skip = k == c->seg_i ? c->seg_done : 0;
        const char *p;
        if (m->kind == SEG_OUT) {
            p = conn_out(c) + m->off;
        } else if (m->kind == SEG_HEAP) {
            p = c->heap + m->off;
        } else if (m->kind == SEG_CACHE) {
            p = c->centry->content + m->off;
        } else if (m->kind == SEG_PART || m->kind == SEG_TRAILER) {
            if (niov > 0)
                break;
            if (skip == 0 && respond_fill_part(c, m) != (int)m->len)
                return -1;
            p = conn_part_area(c) + CONN_BOUNDARY_MAX + CONN_CTYPE_MAX;
            iov[niov++] = (struct iovec){(void *)(p + skip), m->len - skip};
            break;
        } else {
            break; /* a file range */
        }
        iov[niov++] = (struct iovec){(void *)(p + skip), m->len - skip};
    }
    return niov;
}

/* Send the plan, segment by segment: memory with send(MSG_MORE while more
 * follows), file ranges with sendfile(2). */
enum step conn_send_plan(struct conn *c, size_t *budget)
{
    struct worker *w = c->w;
    bool progress = false;

    if (c->ur_pending & UR_BIT(UR_SEND))
        return STEP_BLOCK; /* its completion runs c again */
    while (c->seg_i < c->nsegs) {
        const struct send_seg *s = &c->segs[c->seg_i];
        if (c->seg_done == s->len) {
            c->seg_i++;
            c->seg_done = 0;
            continue;
        }
        if (!c->writable || *budget == 0) {
            if (progress || *budget == 0)
                conn_arm(c, &w->send_list, w->conf->send_timeout_ms);
            if (!c->writable)
                return STEP_BLOCK;
            return STEP_YIELD;
        }
        ssize_t n;
        bool more = false; /* MSG_MORE: for memory sent ahead of more of the plan */
        if (s->kind == SEG_FILE) {
            n = send_file_range(c, s);
            if (n == 0)
                return file_shrank(c);
        } else {
            struct iovec iov[CONN_MSG_IOV];
            int niov = gather_memory(c, iov);
            if (niov < 0) {
                conn_close(c);
                return STEP_CLOSED;
            }
            more = c->seg_i + (unsigned)niov < c->nsegs;
            /* The end of a response after which the connection closes is
             * held too: the shutdown in conn_finish_response sends it with
             * the FIN, one segment fewer for both sides
             * (a connection per request: 1.06x the requests/s with wrk). */
            bool hold = more || !c->keep_alive;
            int flags = MSG_NOSIGNAL | (hold ? MSG_MORE : 0);
            if (w->uring) {
                /* Some of the plan went already, so the last send completed
                 * with progress: send_timeout counts from here, as below. */
                if (c->seg_i > 0 || c->seg_done > 0)
                    conn_arm(c, &w->send_list, w->conf->send_timeout_ms);
                /* Memory goes on the ring. The file's body that follows it
                 * is sent (sendfile(2)) when the send's completion is
                 * taken, in the next turn; when this turn still has costly
                 * answers to make (listings take milliseconds), both are
                 * sent now instead, with send(2) then sendfile(2). */
                bool now = w->ur_costly.head && more &&
                           c->segs[c->seg_i + (unsigned)niov].kind == SEG_FILE;
                if (!now)
                    return send_on_ring(c, iov, niov, flags, more);
            }
            char flat[FLATTEN_MAX];
            flatten(iov, &niov, flat, sizeof(flat));
            if (niov == 1) {
                n = send(c->fd, iov[0].iov_base, iov[0].iov_len, flags);
            } else {
                struct msghdr msg = {.msg_iov = iov, .msg_iovlen = (size_t)niov};
                n = sendmsg(c->fd, &msg, flags);
            }
        }
        if (n > 0) {
            conn_sent(c, (uint64_t)n, more);
            *budget = (size_t)n >= *budget ? 0 : *budget - (size_t)n;
            progress = true;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            c->writable = false;
            if (progress)
                conn_arm(c, &w->send_list, w->conf->send_timeout_ms);
            return STEP_BLOCK;
        }
        conn_close(c);
        return STEP_CLOSED;
    }
    return conn_finish_response(c);
}
