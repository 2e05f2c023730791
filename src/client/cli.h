/* pyserve-client's command line: argv into a struct client_opts, checked
 * completely before any connection is made. Pure: no I/O besides the help
 * text, never exits. */
#ifndef PSC_CLI_H
#define PSC_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "url.h"

#define CLI_MAX_HEADERS    64
#define CLI_MAX_TIMEOUT_MS (24ull * 3600 * 1000)

enum cli_output {
    CLI_OUT_AUTO,   /* text to stdout, binary to a file named after the URL */
    CLI_OUT_FILE,   /* -o FILE */
    CLI_OUT_STDOUT, /* -o - */
    CLI_OUT_REMOTE, /* -O, and -C without -o */
};

/* A -H argument: name (a token) and value (trimmed), pointing into argv.
 * An empty value removes the default field of that name. */
struct cli_header {
    const char *name, *value;
    size_t name_len, value_len;
};

struct client_opts {
    struct ps_url url;
    bool head;    /* -I */
    bool include; /* -i */
    bool verbose; /* -v */
    bool quiet;   /* -q */
    bool resume;  /* -C */
    bool follow;  /* -L */
    bool fail;    /* -f */
    int family;   /* AF_UNSPEC, AF_INET (-4) or AF_INET6 (-6) */
    enum cli_output out;
    const char *out_file; /* -o FILE (not "-") */
    const char *range;    /* -r: the byte-range-set, without "bytes=" */
    uint64_t timeout_ms;  /* --timeout; 0: none */
    struct cli_header headers[CLI_MAX_HEADERS];
    unsigned nheaders;
};

enum {
    CLI_RUN = 0,     /* go on with the request */
    CLI_HELP = 1,    /* --help was given */
    CLI_VERSION = 2, /* --version was given */
    CLI_ERROR = -1,  /* err holds a one-line message (usage error) */
};

/* Parse argv (getopt_long, state reset first; argv may be permuted).
 * Returns CLI_RUN, CLI_HELP, CLI_VERSION or CLI_ERROR with err set. */
int cli_parse(int argc, char **argv, struct client_opts *o, char *err, size_t errsz);

/* Check a -r argument: a byte-range-set "first-last", "first-" or
 * "-suffix", comma-separated, optionally after "bytes=". Returns a pointer
 * to the set (past any "bytes=") or NULL. */
const char *cli_range_set(const char *s);

/* Split a -H argument "Name: value". Returns 0 or -EINVAL (*why set). */
int cli_header_parse(const char *s, struct cli_header *h, const char **why);

void cli_usage(FILE *f);

#endif
