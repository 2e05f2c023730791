/* The request mix of pyserve-stress: URLs from the command line and from
 * --urls FILE, all on one host and port, each with a weight; the order in
 * which connections cycle through them; and the request bytes for each.
 * Pure: no I/O (the caller reads the file), never logs. */
#ifndef STRESS_URLMIX_H
#define STRESS_URLMIX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "url.h"

#define URLMIX_MAX_URLS         4096
#define URLMIX_MAX_WEIGHT       1000
#define URLMIX_MAX_TOTAL_WEIGHT 65536 /* length of the cycle */

struct urlmix_entry {
    char *target; /* origin-form, malloc'd */
    uint32_t weight;
};

struct urlmix {
    bool have_host;
    char host[PS_URL_HOST_MAX];
    uint16_t port;
    bool ipv6_literal;
    struct urlmix_entry *v;
    unsigned n, cap;
    uint64_t total_weight;
};

void urlmix_init(struct urlmix *m);
void urlmix_free(struct urlmix *m);

/* Add an absolute http URL, or a path starting with '/' on the host of the
 * URLs added before it. Returns 0 or -EINVAL/-ERANGE/-ENOMEM with a reason
 * in err. */
int urlmix_add(struct urlmix *m, const char *url_or_path, uint32_t weight, char *err, size_t errsz);

/* Add the lines of a --urls file: "[WEIGHT] URL-OR-PATH" per line, blank
 * lines and lines starting with '#' ignored, WEIGHT 1..URLMIX_MAX_WEIGHT.
 * name is used in messages ("name:line: reason"). Returns 0 or < 0. */
int urlmix_parse_text(struct urlmix *m, const char *name, const char *text, size_t len, char *err,
                      size_t errsz);

/* The cycle of entry indices, total_weight long, in which each entry
 * appears weight times, spread out (smooth weighted round robin: weights
 * 2 and 1 give 0 1 0, not 0 0 1). *out is malloc'd. Returns 0 or -ENOMEM. */
int urlmix_cycle(const struct urlmix *m, uint32_t **out, size_t *len);

/* Is "Name: value" a header line we can send (token name, no CR/LF/NUL
 * or other control bytes but tab in the value)? */
bool urlmix_header_ok(const char *h);

/* The request for target: "METHOD target HTTP/1.1", Host (unless a user
 * header gives one), the user headers, "Connection: close" when close is
 * set and no user header names Connection, and the empty line. *out is
 * malloc'd. Returns 0 or -ENOMEM. */
int urlmix_build_request(const struct urlmix *m, const char *method, const char *target,
                         const char *const *headers, unsigned nheaders, bool close, char **out,
                         size_t *outlen);

#endif
