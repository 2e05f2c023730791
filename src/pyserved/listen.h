/* Listening sockets: inherited from systemd (socket activation) or bound
 * from the configuration's listen addresses. */
#ifndef PS_LISTEN_H
#define PS_LISTEN_H

#include <stdatomic.h>
#include <stddef.h>
#include <sys/socket.h>

struct conf;

/* The longest address of a listener as its name gives it: "unix:@" and
 * the 108 bytes of a unix socket's name, each escaped as \xHH. */
#define LISTEN_ADDR_MAX (6 + 4 * 108 + 1)

struct listener {
    int fd;
    /* "127.0.0.1:8080", "[::]:8080", "unix:/run/pyserve.sock", and with
     * systemd's name for it (FileDescriptorName=, at most 255 bytes)
     * "ADDR (NAME)" */
    char name[LISTEN_ADDR_MAX + 260];
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

#endif
