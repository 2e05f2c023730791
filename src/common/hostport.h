/* host[:port] parsing shared by the daemon (listen addresses) and the tools
 * (URLs, HOST PORT arguments). Pure: no DNS, no I/O, never logs. */
#ifndef PS_HOSTPORT_H
#define PS_HOSTPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Split "host:port", "[v6]:port", "host", "[v6]" or ":port" into host
 * (without brackets, NUL-terminated, at most hostsz-1 bytes) and port.
 * *has_port tells whether a port was present. A bare number ("8080") is
 * taken as a port when bare_number_is_port is true (listen syntax).
 * Returns 0, -EINVAL (malformed, empty port, bad brackets), -ERANGE (port
 * above 65535, or host too long). Port 0 is returned as is; callers that
 * need a real port refuse it. */
int ps_split_hostport(const char *s, bool bare_number_is_port, char *host, size_t hostsz,
                      uint16_t *port, bool *has_port);

#endif
