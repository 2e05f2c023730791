/* Where a redirect points: a Location value resolved against the URL that
 * answered (RFC 9110 section 10.2.2, RFC 3986 section 5). Pure. */
#ifndef PSC_REDIRECT_H
#define PSC_REDIRECT_H

#include <stdbool.h>
#include <stddef.h>

#include "url.h"

/* Statuses -L follows: 301, 302, 303, 307, 308. */
bool redirect_status(int status);

/* Resolve loc[0..n) (absolute http URL, "//authority/path", "/path",
 * relative path or "?query") against base into out. Bytes above 0x7f and
 * spaces are percent-encoded; a fragment is dropped. Returns 0, -EINVAL
 * (malformed; *why says what), -EPROTONOSUPPORT (https or another scheme)
 * or -ERANGE (too long). */
int redirect_resolve(const struct ps_url *base, const char *loc, size_t n, struct ps_url *out,
                     const char **why);

#endif
