/* The request head pyserve-client sends: request line, default fields
 * (Host, User-Agent, Accept, Connection: close, Range) and the -H fields,
 * which replace a default of the same name or, with an empty value, remove
 * it. Pure. */
#ifndef PSC_REQUEST_H
#define PSC_REQUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cli.h"
#include "url.h"

#define REQUEST_MAX 16384

/* Write the head for method ("GET" or "HEAD") and u into buf. The Range
 * field is "bytes=RESUME_FROM-" when resume_from > 0, else o->range if
 * set. -H Host, Authorization, Proxy-Authorization and Cookie fields are
 * used only when same_origin (the command line's host and port): after a
 * redirect elsewhere the new Host is sent and the credentials are not.
 * Returns the length, or -ENOSPC. */
int request_build(char *buf, size_t bufsz, const char *method, const struct ps_url *u,
                  const struct client_opts *o, uint64_t resume_from, bool same_origin);

/* Does the head request_build writes for these carry a Range field (-r,
 * the -C offset, or a -H Range with a value)? */
bool request_has_range(const struct client_opts *o, uint64_t resume_from);

#endif
