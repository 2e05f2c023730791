/* Command line of pyserve-stress: parsing and the cross-checks between
 * options, without I/O (messages go to a buffer), so the tests drive it. */
#ifndef STRESS_OPTS_H
#define STRESS_OPTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "sha256.h"

#define STRESS_MAX_HEADERS         64
#define STRESS_MAX_CONNECTIONS     100000
#define STRESS_MAX_THREADS         256
#define STRESS_MAX_PIPELINE        256
#define STRESS_DEFAULT_CONNECTIONS 10
#define STRESS_DEFAULT_THREADS     2
#define STRESS_DEFAULT_DURATION_MS 10000
#define STRESS_DEFAULT_TIMEOUT_MS  5000
#define STRESS_MAX_DURATION_MS     (7ull * 24 * 3600 * 1000)
#define STRESS_MAX_TIMEOUT_MS      (3600ull * 1000)

struct stress_opts {
    unsigned connections;
    unsigned threads;
    uint64_t duration_ms; /* 0: none (-n or --once ends the run) */
    uint64_t requests;    /* 0: no count limit */
    uint64_t warmup_ms;
    uint64_t timeout_ms;
    uint64_t rate; /* 0: closed loop */
    unsigned pipeline;
    bool keep_alive;
    bool head; /* --method HEAD */
    bool once;
    bool verify;
    bool json;
    bool fail_on_error;
    bool have_sha256;
    uint8_t sha256[SHA256_DIGEST_LEN];
    const char *urls_file;
    char **urls; /* the operands, in argv */
    unsigned nurls;
    const char *headers[STRESS_MAX_HEADERS];
    unsigned nheaders;
    bool help, version; /* print and exit 0; nothing else is checked */
};

/* Parse argv (getopt_long; resets getopt's state first). Returns 0, or
 * -EINVAL with a one-line message (no program name, no newline) in err. */
int stress_opts_parse(int argc, char **argv, struct stress_opts *o, char *err, size_t errsz);

/* The --help text. */
void stress_usage(FILE *f);

#endif
