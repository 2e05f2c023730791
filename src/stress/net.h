/* The checks pyserve-stress makes before the load starts: find an address
 * of the target that accepts a connection, and fetch one response (the
 * --verify reference). Blocking, every step under a deadline. */
#ifndef STRESS_NET_H
#define STRESS_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "rdec.h"

/* Resolve host:port and connect to each address in turn until one accepts
 * within timeout_ms; that one is returned in *addr. Returns 0 or < 0 with
 * a message in err. */
int stress_probe(const char *host, uint16_t port, uint64_t timeout_ms,
                 struct sockaddr_storage *addr, socklen_t *alen, char *err, size_t errsz);

/* Send req on a new connection and read one response into d (status,
 * body_len; started with rdec_start by the caller). Returns 0 or < 0 with
 * a message in err. */
int stress_fetch(const struct sockaddr_storage *addr, socklen_t alen, const char *req,
                 size_t reqlen, uint64_t timeout_ms, struct rdec *d, char *err, size_t errsz);

#endif
