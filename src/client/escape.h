/* Strings from the network or the command line made safe for a one-line
 * message: printable ASCII kept, other bytes as \xHH, cut short. Pure, so
 * that cli.c (which echoes its arguments) and the I/O parts share it. */
#ifndef PSC_ESCAPE_H
#define PSC_ESCAPE_H

#include <stddef.h>

/* s[0..n) for a message: printable ASCII kept, other bytes as \xHH, cut
 * after max input bytes with "...". */
void escape_text(const char *s, size_t n, size_t max, char *out, size_t outsz);

#endif
