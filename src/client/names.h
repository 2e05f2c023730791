/* Local file names for downloaded bodies, taken from a URL path or a
 * Content-Disposition field (RFC 6266), made safe to create in the current
 * directory: one path component, no leading dot (so never "." or ".." and
 * no hidden files), no control characters, valid UTF-8, bounded length.
 * Pure: no I/O, no allocation. */
#ifndef PSC_NAMES_H
#define PSC_NAMES_H

#include <stdbool.h>
#include <stddef.h>

#define FNAME_MAX      200        /* bytes of a sanitised name */
#define FNAME_BUF      256        /* buffer size for any name below */
#define FNAME_FALLBACK "download" /* when nothing usable is left */

/* Sanitise name[0..n) (any bytes) into out (outsz >= FNAME_BUF): the part
 * after the last '/' or '\\'; control characters, C1 controls and invalid
 * UTF-8 become '_'; surrounding spaces are dropped; leading dots become
 * '_'; a name of dots only or nothing becomes FNAME_FALLBACK; longer than
 * FNAME_MAX is cut (keeping a short extension). Returns the length. */
size_t fname_sanitize(const char *name, size_t n, char *out, size_t outsz);

/* The sanitised, percent-decoded last segment of an origin-form target
 * ("/a/b.png?x" gives "b.png"). Returns the length. */
size_t fname_from_target(const char *target, char *out, size_t outsz);

/* The file name a Content-Disposition value suggests: filename* (UTF-8 or
 * ISO-8859-1, RFC 8187) is preferred over filename. Returns true and the
 * sanitised name in out, or false when there is no usable parameter. */
bool fname_from_disposition(const char *v, size_t n, char *out, size_t outsz);

/* Candidate k for a new file: k = 0 gives base, k > 0 "stem(k).ext"
 * ("a.png" -> "a(1).png", "README" -> "README(1)"). Returns 0, or -1 if
 * out is too small. */
int fname_numbered(const char *base, unsigned k, char *out, size_t outsz);

#endif
