/* Is a response body text for a terminal, or binary for a file? Decided by
 * the Content-Type, then by the first bytes: a NUL (or, without a type,
 * another control byte that text does not use) makes it binary. Pure. */
#ifndef PSC_SNIFF_H
#define PSC_SNIFF_H

#include <stdbool.h>
#include <stddef.h>

#define SNIFF_BYTES 4096 /* how much of the body the decision looks at */

enum body_kind {
    BODY_TEXT,
    BODY_BINARY,
};

/* Whether a media type (the Content-Type value, parameters allowed) names
 * text: text/x, the JSON, XML and script types of application/, any +json
 * or +xml suffix outside image/. *known is false for a missing or empty
 * type. */
bool sniff_type_is_text(const char *ctype, size_t n, bool *known);

/* Whether body[0..n) holds a byte that makes a body binary: a NUL, or,
 * when the body has no Content-Type (!typed), a control character that
 * text does not use. The decision's test, also for the later pieces of a
 * body shown on a terminal. */
bool sniff_bytes_binary(const unsigned char *body, size_t n, bool typed);

/* The decision: ctype may be NULL (no Content-Type); body[0..n) are the
 * first bytes (n <= SNIFF_BYTES are looked at). */
enum body_kind sniff_body(const char *ctype, size_t ctlen, const unsigned char *body, size_t n);

#endif
