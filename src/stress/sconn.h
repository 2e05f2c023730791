/* One pyserve-stress connection: its socket, the requests in flight on it,
 * its response reader; the state machine that connects, writes requests,
 * reads responses and accounts for them in its thread's counters. Used by
 * the thread loop in engine.c only. */
#ifndef STRESS_SCONN_H
#define STRESS_SCONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine.h"
#include "rdec.h"

#define SCONN_RBUF_SIZE (64 * 1024) /* a thread's read buffer */

enum conn_state { C_IDLE, C_CONNECTING, C_OPEN, C_WAIT, C_DONE };
enum fail_kind { F_CONNECT, F_READ, F_WRITE, F_TIMEOUT, F_BAD };

struct pend {
    uint64_t sent_ns; /* written */
    uint64_t due_ns;  /* open loop: scheduled; closed loop: = sent_ns */
    uint32_t req;     /* mix entry */
    bool ttfb_done;
};

struct sconn {
    struct stress_thread *t;
    int fd;
    uint8_t state;
    bool want_write;
    bool in_ready;
    bool fresh;   /* connected: the first request waits for the next EPOLLOUT */
    bool closing; /* the socket reported the peer's close: read until EOF */
    bool first;   /* no socket of this connection has come up or failed yet */
    bool counted; /* the socket is in the connect figures */
    uint32_t gen; /* bumped for every socket: stale epoll events are ignored */
    uint32_t idx; /* in t->conns */
    uint32_t gidx;
    uint32_t cycle_pos;
    int32_t heap_pos; /* -1: not in the heap */
    uint64_t wake_ns;
    uint64_t connect_ns;
    uint64_t up_ns;     /* how long the current socket took to connect */
    uint64_t k;         /* open loop: number of this connection's next request */
    uint64_t shift_ns;  /* open loop: its schedule runs this much late (conn_connected) */
    uint32_t on_socket; /* requests written on the current socket */
    struct pend *pend;  /* ring of pipeline-depth entries */
    uint16_t phead, pcount;
    const char *wp; /* unwritten output */
    size_t wl;
    char *obuf; /* batch of pipelined requests */
    size_t obuf_cap;
    struct sconn *ready_next;
    struct rdec dec;
};

/* Open a new socket and start connecting (the thread's first call, a
 * reconnect after back-off). */
void sconn_connect(struct sconn *c, uint64_t now);

/* An epoll event (the events mask) for c's current socket. */
void sconn_event(struct sconn *c, uint32_t events, uint64_t now);

/* Read more (a connection left on the thread's ready list). */
void sconn_readable(struct sconn *c, uint32_t events, uint64_t now);

/* Send what the pipeline, quota and schedule allow (an open-loop timer). */
void sconn_fill(struct sconn *c, uint64_t now);

/* Give up on c's socket: count the requests on it as kind, reconnect. */
void sconn_fail(struct sconn *c, enum fail_kind kind, uint64_t now);

/* Open loop, at the end of the run: count c's measured requests that were
 * due before end and not answered (in flight, or not sent because the
 * connection was waiting), at most budget of the unsent ones (what is left
 * of -n). Returns how many unsent ones it took. */
uint64_t sconn_unanswered(struct sconn *c, uint64_t end, uint64_t budget);

/* Close the socket, if any (end of the run). */
void sconn_close(struct sconn *c);

/* The thread's timers, in engine.c: wake c at wake_ns (sconn_fill for an
 * open connection, sconn_connect for one waiting to reconnect). */
void stress_timer_set(struct sconn *c, uint64_t wake_ns);
void stress_timer_remove(struct sconn *c);

#endif
