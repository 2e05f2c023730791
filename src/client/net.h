/* The client's sockets: name resolution, connecting with a deadline, and
 * sends and receives that wait at most a given time (poll()). Errors come
 * back as negative errno values; only net_connect formats a message. */
#ifndef PSC_NET_H
#define PSC_NET_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "url.h"

/* The number of a stopping signal (SIGINT, SIGTERM, SIGHUP) caught while a
 * body is written, else 0; set by output.c's handler. A wait sees it and
 * returns -EINTR, so that the body's file can be cleaned up. */
extern volatile sig_atomic_t net_interrupted;

/* Resolve u->host (family AF_UNSPEC, AF_INET or AF_INET6) and connect to
 * the addresses in turn until one answers, all within timeout_ms (0: no
 * limit but the kernel's). verbose writes "* " lines to stderr. Returns a
 * connected non-blocking socket, or minus a PSC_EXIT_* status (resolve,
 * connect, timeout, failure) with err holding a one-line message. */
int net_connect(const struct ps_url *u, int family, uint64_t timeout_ms, bool verbose, char *err,
                size_t errsz);

/* Send all of p[0..n), waiting at most timeout_ms (0: forever) each time
 * the socket is full. Returns 0, -ETIMEDOUT, -EINTR (net_interrupted) or
 * -errno. */
int net_send_all(int fd, const char *p, size_t n, uint64_t timeout_ms);

/* Receive at most n bytes, waiting at most timeout_ms (0: forever) for the
 * first. Returns the count, 0 at end of stream, -ETIMEDOUT, -EINTR
 * (net_interrupted) or -errno. */
ssize_t net_recv(int fd, char *p, size_t n, uint64_t timeout_ms);

/* Receive at most n bytes that have already arrived, without waiting.
 * Returns the count, 0 at end of stream, -EAGAIN when nothing is there
 * now, or -errno. */
ssize_t net_recv_now(int fd, char *p, size_t n);

#endif
