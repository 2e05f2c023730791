/* pyserve-client exit statuses, documented in pyserve-client(1) and --help.
 * The numbers follow curl's where curl has the same condition, so scripts
 * written for one read the other. */
#ifndef PSC_EXITCODE_H
#define PSC_EXITCODE_H

enum psc_exit {
    PSC_EXIT_OK = 0,
    PSC_EXIT_FAILURE = 1,    /* local failure (out of memory), redirect to a non-http scheme */
    PSC_EXIT_USAGE = 2,      /* bad command line: option, URL, port, range */
    PSC_EXIT_RESOLVE = 6,    /* the host name does not resolve */
    PSC_EXIT_CONNECT = 7,    /* connection refused or unreachable */
    PSC_EXIT_PROTOCOL = 8,   /* malformed or missing response, bad chunked body */
    PSC_EXIT_PARTIAL = 18,   /* the connection closed before the end of the body */
    PSC_EXIT_HTTP = 22,      /* status >= 400 with --fail */
    PSC_EXIT_WRITE = 23,     /* cannot create or write the output; binary to a terminal */
    PSC_EXIT_TIMEOUT = 28,   /* --timeout expired (connect or read) */
    PSC_EXIT_RANGE = 33,     /* --continue: the server did not resume as asked */
    PSC_EXIT_REDIRECTS = 47, /* --location: more than PSC_MAX_REDIRECTS */
    PSC_EXIT_EMPTY = 52,     /* the server closed without sending a byte */
    PSC_EXIT_NETWORK = 56,   /* the connection failed after it was made (reset) */
};

#define PSC_MAX_REDIRECTS 10

#endif
