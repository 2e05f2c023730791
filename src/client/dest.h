/* Where a response body goes, from the options, the status and the body's
 * kind. Only 2xx bodies are ever written to a file, so an error page never
 * lands in photo.png; other bodies go to stdout when textual and are
 * dropped when binary. Binary bodies never go to a terminal. Pure. */
#ifndef PSC_DEST_H
#define PSC_DEST_H

#include <stdbool.h>

#include "cli.h"
#include "sniff.h"

enum dest {
    DEST_NONE, /* no body (HEAD, 1xx, 204, 304), but a 204 to -o FILE */
    DEST_STDOUT,
    DEST_FILE,     /* the named file (-o, or the -C file), created or truncated;
                    * also for a 2xx without a body (204) */
    DEST_APPEND,   /* the named file, appended: -C and 206 */
    DEST_NEW_FILE, /* a file named after the URL, never overwriting */
    DEST_DISCARD,  /* a binary body of a non-2xx response */
    DEST_REFUSE,   /* a binary body for a terminal: refused */
};

struct dest_in {
    enum cli_output out;
    bool resume; /* -C */
    int status;
    bool has_body; /* framing other than none */
    enum body_kind kind;
    bool stdout_tty;
};

enum dest dest_plan(const struct dest_in *in);

#endif
