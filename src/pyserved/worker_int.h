/* What worker.c (the loops) and worker_accept.c (taking new connections)
 * share. Private to those two files. */
#ifndef PS_WORKER_INT_H
#define PS_WORKER_INT_H

#include <stdbool.h>
#include <sys/socket.h>

#include "worker.h"

/* epoll: listener i has data.u64 == EV_LISTEN_BASE + i, past the other
 * small numbers (worker.c); as many listeners as systemd passes */
#define EV_LISTEN_BASE 3u

/* Watch the listening sockets in this worker, or stop (epoll: in its set;
 * io_uring: an accept queued on each). Broken listeners stay unwatched. */
void worker_accept_watch(struct worker *w, bool on);

/* io_uring: queue the accept on listener l: multishot, or single-shot while
 * at max_connections. */
void worker_accept_arm(struct worker *w, unsigned l);

/* epoll: listener idx is readable; accept what waits (a batch) and run it. */
void worker_accept_on_listen(struct worker *w, unsigned idx);

/* io_uring: a connection the ring accepted (fd), from a multishot accept
 * or not. Returns it to run, or NULL when nothing more is to be done. */
struct conn *worker_accept_take(struct worker *w, int fd, const struct sockaddr *peer,
                                socklen_t peerlen, bool multishot);

/* io_uring: an accept on listener idx failed with err. Returns a
 * connection accepted after all (to take), or -1. */
int worker_accept_failed(struct worker *w, unsigned idx, int err);

/* Accepting was paused (accept_paused_until) and that time is up: extend
 * the pause while the 503s over max_connections are still out, else watch
 * the listeners again. */
void worker_accept_pause_over(struct worker *w);

#endif
