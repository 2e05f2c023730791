/* Listening sockets: inherited from systemd (socket activation) or bound
 * from the configuration's listen addresses. */
#ifndef PS_LISTEN_H
#define PS_LISTEN_H

#include <stdatomic.h>
#include <stddef.h>
#include <sys/socket.h>

struct conf;

struct listener {
    int fd;
    char name[160]; /* "127.0.0.1:8080", "[::]:8080", "unix:/run/pyserve.sock",
                     * and systemd's fd name: "ADDR (NAME)" */
    atomic_bool broken; /* accept failed in a way retrying does not cure */
};

/* Parse a listen address (numeric only: HOST:PORT, [IPV6]:PORT, PORT,
 * *:PORT). A bare port means every address, dual-stack. Pure. Returns 0 or
 * -EINVAL with a reason in err. */
int listen_parse(const char *spec, struct sockaddr_storage *ss, socklen_t *len, char *err,
                 size_t errsz);

/* Take the systemd-passed sockets if LISTEN_FDS is set (checking that each is
 * a listening stream socket), else bind c->listen. Sockets are made
 * non-blocking. Returns the count (> 0) and an array in *out, or -errno with
 * a message in err. */
int listen_open_all(const struct conf *c, struct listener **out, char *err, size_t errsz);

/* "ADDR:PORT" of a bound socket into buf; "[ADDR]:PORT" for IPv6,
 * "unix:PATH" or "unix:@NAME" (abstract, unsafe bytes as \xHH) for a unix
 * socket. */
void listen_sockname(int fd, char *buf, size_t bufsz);

#endif
