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

/* Length of the printable UTF-8 character at s[0..n) (n > 0), or 0 when
 * s[0] does not start one: C0 and C1 controls, DEL, overlong forms,
 * surrogates, values above U+10FFFF, cut sequences. *format is set for a
 * valid but invisible Unicode format character: bidi controls (U+202A to
 * U+202E, U+2066 to U+2069), zero-width characters, the BOM... */
size_t utf8_char_len(const unsigned char *s, size_t n, bool *format);

/* Sanitise name[0..n) (any bytes) into out (outsz >= FNAME_BUF): the part
 * after the last '/' or '\\'; each byte of a control character, C1 control
 * or invalid UTF-8 becomes '_', and so does each format character (as one
 * '_'); surrounding spaces are dropped; leading dots become '_', and so
 * does a leading '-'; a name of dots only or nothing becomes
 * FNAME_FALLBACK; longer than FNAME_MAX is cut (keeping an extension of up
 * to 16 bytes, however long name is). Returns the length. */
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
