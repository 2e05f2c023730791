/* http:// URLs for the tools: "http://host[:port][/path][?query]", with
 * IPv6 literals in brackets. Pure: no DNS, never logs. */
#ifndef PS_URL_H
#define PS_URL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PS_URL_HOST_MAX 256
#define PS_URL_TARGET_MAX 8192

struct ps_url {
    char host[PS_URL_HOST_MAX]; /* without brackets */
    uint16_t port;              /* 80 when not given */
    bool ipv6_literal;          /* host was in brackets */
    char target[PS_URL_TARGET_MAX]; /* origin-form: path and query, "/" at least */
};

/* Parse an absolute http URL (scheme case-insensitive; https is refused
 * with -EPROTONOSUPPORT). An empty port ("http://h:/") is port 80. A
 * fragment is dropped; spaces and control bytes are refused. Returns 0,
 * -EINVAL (malformed; *why says what), -EPROTONOSUPPORT or -ERANGE (port,
 * host or target too long). */
int ps_url_parse(const char *s, struct ps_url *u, const char **why);

/* "host:port" for a Host header field (brackets for IPv6; the port left
 * out when it is 80) into buf. Returns the length or -ENOSPC. */
int ps_url_host_header(const struct ps_url *u, char *buf, size_t bufsz);

#endif
