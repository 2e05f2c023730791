/* What main.c (the exchange, the results, the exit status) and output.c
 * (where a body is written) share: the session and the error line. */
#ifndef PSC_SESSION_H
#define PSC_SESSION_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#include "cli.h"
#include "dest.h"
#include "names.h"
#include "url.h"

/* One run: options, the current URL, the exchange and the output. */
struct session {
    const struct client_opts *o;
    struct ps_url url;
    char where[PS_URL_HOST_MAX + 32];
    struct fetch *f;
    bool info; /* informational lines on stderr (not -q) */
    /* --continue */
    char resume_name[FNAME_BUF + 1];
    const char *resume_path; /* -o FILE or resume_name */
    uint64_t offset;
    uint64_t span;     /* the 206's Content-Range length; UINT64_MAX: no limit */
    char span_cr[100]; /* that Content-Range, escaped, for messages */
    bool out_ended_line; /* the last byte written was a line feed */
    /* output */
    int out_fd;
    bool out_is_file;
    bool out_tty;   /* out_fd is a terminal: every piece is checked for binary */
    bool out_ctype; /* the body has a Content-Type (for that check) */
    const char *out_name;
    char new_name[FNAME_BUF + 16];
    /* -o FILE over an existing file: the body goes to tmp_name and is
     * renamed over FILE once complete ("" when FILE is written directly);
     * kept is "; FILE left as it was" for the messages of a failure */
    char tmp_name[PATH_MAX + 16];
    char kept[PATH_MAX + 32];
    uint64_t written;
    /* progress */
    bool progress_on, progress_shown;
    uint64_t progress_total; /* UINT64_MAX: unknown */
    uint64_t t_start, t_last;
};

/* "pyserve-client: " and the message on stderr, after stdout is flushed. */
void client_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Open where the body goes (dest_plan's d): stdout, FILE (through a
 * temporary renamed over it when it exists), FILE appended, or a new file
 * named after the response. 0, or -PSC_EXIT_WRITE with a message. */
int out_open(struct session *s, enum dest d);

/* Write p[0..n) of the body: never binary bytes to a terminal, nothing
 * past a 206's Content-Range. 0, or -(exit status) with a message. */
int out_write(struct session *s, const char *p, size_t n);

/* Close the output; ok: the body is complete (a temporary replaces FILE).
 * 0, or -PSC_EXIT_WRITE with a message. */
int out_finish(struct session *s, bool ok);

/* Draw the progress line on stderr, if it is on (final: the last one). */
void out_progress(struct session *s, bool final);

/* Catch SIGINT, SIGTERM and SIGHUP while a body is written (net_interrupted
 * is set, and the caller cleans up), or give them their old action back. */
void out_catch_stop_signals(bool on);

#endif
