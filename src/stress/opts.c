/* pyserve-stress command line. */
#include "config.h"

#include "opts.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <string.h>
#include <strings.h>

#include "longopt.h"
#include "num.h"
#include "schedule.h"
#include "urlmix.h"

void stress_usage(FILE *f)
{
    fprintf(f,
            "Usage: pyserve-stress [OPTION]... URL [URL]...\n"
            "  or:  pyserve-stress [OPTION]... --urls=FILE [URL]...\n"
            "Generate HTTP/1.1 load against one host and report throughput, latency\n"
            "percentiles and every error.\n"
            "\n"
            "  -c, --connections=N     connections kept open (default %d)\n"
            "      --clients=N         same as -c; with --once, the number of clients\n"
            "  -t, --threads=N         threads, each with its own epoll loop (default %d,\n"
            "                          at most 256 and the number of connections)\n"
            "  -d, --duration=TIME     measure for TIME (10s, 500ms, 2m; default 10s)\n"
            "  -n, --requests=N        stop after N requests\n"
            "      --warmup=TIME       run TIME before measuring, then start counting\n"
            "                          (with -n only when -d is given too)\n"
            "  -k, --keep-alive        reuse connections (the default)\n"
            "      --no-keep-alive     a new connection for every request\n"
            "  -p, --pipeline=DEPTH    keep up to DEPTH requests in flight per connection\n"
            "                          (default 1, at most 256)\n"
            "  -H, --header='NAME: VALUE'  add a request header (repeatable)\n"
            "      --method=METHOD     GET (default) or HEAD\n"
            "      --urls=FILE         request mix: one [WEIGHT] URL-or-/path per line\n"
            "  -R, --rate=N            open loop: N requests/s in total, latency measured\n"
            "                          from each request's scheduled time (needs -d or -n)\n"
            "      --timeout=TIME      abort a request after TIME: close, count, reconnect\n"
            "                          (default 5s)\n"
            "      --verify            check every 2xx body's length against a reference\n"
            "                          response fetched before the run\n"
            "      --expect-sha256=HEX check every 2xx body's SHA-256\n"
            "      --once              each connection makes one request, then the run ends\n"
            "      --json              print the result as JSON instead of the summary\n"
            "      --fail-on-error     exit with status 1 if any request failed or any\n"
            "                          status was outside 200..399\n"
            "  -h, --help              show this help and exit\n"
            "  -V, --version           show the version and exit\n"
            "\n"
            "Exit status: 0 success, 1 run failed (target unreachable, no response, or\n"
            "errors with --fail-on-error), 2 bad command line. See pyserve-stress(1).\n",
            STRESS_DEFAULT_CONNECTIONS, STRESS_DEFAULT_THREADS);
}

static int bad(char *err, size_t errsz, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int bad(char *err, size_t errsz, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errsz, fmt, ap);
    va_end(ap);
    return -EINVAL;
}

/* s for a message: control bytes as '?', cut to the buffer. */
static void printable(const char *s, char *out, size_t outsz)
{
    size_t i = 0;
    for (; s[i] && i + 1 < outsz; i++)
        out[i] = (unsigned char)s[i] < ' ' || s[i] == 0x7f ? '?' : s[i];
    out[i] = '\0';
}

static int count(const char *opt, const char *s, uint64_t min, uint64_t max, uint64_t *out,
                 char *err, size_t errsz)
{
    uint64_t v;
    int r = ps_parse_u64(s, max, &v);
    if (r == -ERANGE || (r == 0 && v < min))
        return bad(err, errsz, "%s %s: must be in %llu..%llu", opt, s, (unsigned long long)min,
                   (unsigned long long)max);
    if (r < 0)
        return bad(err, errsz, "%s %s: not a number", opt, s);
    *out = v;
    return 0;
}

static int duration(const char *opt, const char *s, uint64_t max, bool zero_ok, uint64_t *out,
                    char *err, size_t errsz)
{
    uint64_t v;
    int r = ps_parse_duration_ms(s, max, &v);
    if (r == -ERANGE)
        return bad(err, errsz, "%s %s: too long (at most %llu s)", opt, s,
                   (unsigned long long)(max / 1000));
    if (r < 0)
        return bad(err, errsz, "%s %s: not a duration (e.g. 10s, 500ms, 2m)", opt, s);
    if (v == 0 && !zero_ok)
        return bad(err, errsz, "%s %s: must be more than 0", opt, s);
    *out = v;
    return 0;
}

/* The checks between options, once all are known. */
static int cross_check(struct stress_opts *o, bool threads_set, bool duration_set, char *err,
                       size_t errsz)
{
    if (o->nurls == 0 && !o->urls_file)
        return bad(err, errsz, "no URL given");
    if (o->threads > o->connections) {
        if (threads_set)
            return bad(err, errsz, "-t %u: more threads than the %u connection%s", o->threads,
                       o->connections, o->connections == 1 ? "" : "s");
        o->threads = o->connections;
    }
    if (o->rate && !duration_set && !o->requests)
        return bad(err, errsz, "-R needs -d or -n: an open-loop run must be told when to stop");
    if (!o->keep_alive && o->pipeline > 1)
        return bad(err, errsz, "-p %u: pipelining needs keep-alive connections", o->pipeline);
    if (o->head && o->have_sha256)
        return bad(err, errsz, "--expect-sha256: HEAD responses have no body");
    if (o->once) {
        if (o->requests)
            return bad(err, errsz,
                       "--once: the number of requests is the number of clients; "
                       "drop -n");
        if (o->rate)
            return bad(err, errsz, "--once cannot be combined with -R");
        if (o->pipeline > 1)
            return bad(err, errsz, "--once cannot be combined with -p");
        if (o->warmup_ms)
            return bad(err, errsz, "--once cannot be combined with --warmup");
    }
    if (o->warmup_ms && !duration_set && o->requests)
        return bad(err, errsz, "--warmup goes with -d, not with -n alone");
    if (!duration_set && !o->requests && !o->once)
        o->duration_ms = STRESS_DEFAULT_DURATION_MS;
    return 0;
}

int stress_opts_parse(int argc, char **argv, struct stress_opts *o, char *err, size_t errsz)
{
    enum {
        OPT_CLIENTS = 256,
        OPT_WARMUP,
        OPT_NO_KEEP_ALIVE,
        OPT_METHOD,
        OPT_URLS,
        OPT_TIMEOUT,
        OPT_VERIFY,
        OPT_SHA256,
        OPT_ONCE,
        OPT_JSON,
        OPT_FAIL_ON_ERROR,
    };
    static const struct option longopts[] = {
        {"connections", required_argument, NULL, 'c'},
        {"clients", required_argument, NULL, OPT_CLIENTS},
        {"threads", required_argument, NULL, 't'},
        {"duration", required_argument, NULL, 'd'},
        {"requests", required_argument, NULL, 'n'},
        {"warmup", required_argument, NULL, OPT_WARMUP},
        {"keep-alive", no_argument, NULL, 'k'},
        {"no-keep-alive", no_argument, NULL, OPT_NO_KEEP_ALIVE},
        {"pipeline", required_argument, NULL, 'p'},
        {"header", required_argument, NULL, 'H'},
        {"method", required_argument, NULL, OPT_METHOD},
        {"urls", required_argument, NULL, OPT_URLS},
        {"rate", required_argument, NULL, 'R'},
        {"timeout", required_argument, NULL, OPT_TIMEOUT},
        {"verify", no_argument, NULL, OPT_VERIFY},
        {"expect-sha256", required_argument, NULL, OPT_SHA256},
        {"once", no_argument, NULL, OPT_ONCE},
        {"json", no_argument, NULL, OPT_JSON},
        {"fail-on-error", no_argument, NULL, OPT_FAIL_ON_ERROR},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    bool threads_set = false, duration_set = false;
    uint64_t v;
    int ch, r;

    memset(o, 0, sizeof(*o));
    o->connections = STRESS_DEFAULT_CONNECTIONS;
    o->threads = STRESS_DEFAULT_THREADS;
    o->timeout_ms = STRESS_DEFAULT_TIMEOUT_MS;
    o->pipeline = 1;
    o->keep_alive = true;
    err[0] = '\0';

    optind = 0; /* glibc: full re-initialisation, so the tests can call this again */
    opterr = 0;
    while ((ch = getopt_long(argc, argv, ":c:t:d:n:kp:H:R:hV", longopts, NULL)) != -1) {
        r = 0;
        switch (ch) {
        case 'c':
        case OPT_CLIENTS:
            if (ps_parse_u64(optarg, UINT64_MAX, &v) == 0 && v == 0)
                return bad(err, errsz, "%s 0: at least one connection is needed",
                           ch == 'c' ? "-c" : "--clients");
            r = count(ch == 'c' ? "-c" : "--clients", optarg, 1, STRESS_MAX_CONNECTIONS, &v, err,
                      errsz);
            o->connections = (unsigned)v;
            break;
        case 't':
            r = count("-t", optarg, 1, STRESS_MAX_THREADS, &v, err, errsz);
            o->threads = (unsigned)v;
            threads_set = true;
            break;
        case 'd':
            r = duration("-d", optarg, STRESS_MAX_DURATION_MS, false, &o->duration_ms, err, errsz);
            duration_set = true;
            break;
        case 'n': r = count("-n", optarg, 1, UINT64_C(1) << 50, &o->requests, err, errsz); break;
        case OPT_WARMUP:
            r = duration("--warmup", optarg, STRESS_MAX_DURATION_MS, true, &o->warmup_ms, err,
                         errsz);
            break;
        case 'k': o->keep_alive = true; break;
        case OPT_NO_KEEP_ALIVE: o->keep_alive = false; break;
        case 'p':
            r = count("-p", optarg, 1, STRESS_MAX_PIPELINE, &v, err, errsz);
            o->pipeline = (unsigned)v;
            break;
        case 'H':
            if (!urlmix_header_ok(optarg)) {
                char shown[128];
                printable(optarg, shown, sizeof(shown));
                return bad(err, errsz,
                           "-H '%s': expected 'Name: value' (a token name, no "
                           "control characters)",
                           shown);
            }
            if (o->nheaders == STRESS_MAX_HEADERS)
                return bad(err, errsz, "-H: at most %d headers", STRESS_MAX_HEADERS);
            o->headers[o->nheaders++] = optarg;
            break;
        case OPT_METHOD:
            if (strcmp(optarg, "GET") == 0)
                o->head = false;
            else if (strcmp(optarg, "HEAD") == 0)
                o->head = true;
            else
                return bad(err, errsz, "--method %s: only GET and HEAD are supported", optarg);
            break;
        case OPT_URLS:
            if (o->urls_file)
                return bad(err, errsz,
                           "--urls %s: a second file (%s was given); put the URLs in one", optarg,
                           o->urls_file);
            o->urls_file = optarg;
            break;
        case 'R': r = count("-R", optarg, 1, SCHED_RATE_MAX, &o->rate, err, errsz); break;
        case OPT_TIMEOUT:
            r = duration("--timeout", optarg, STRESS_MAX_TIMEOUT_MS, false, &o->timeout_ms, err,
                         errsz);
            break;
        case OPT_VERIFY: o->verify = true; break;
        case OPT_SHA256:
            if (sha256_parse_hex(optarg, o->sha256) < 0)
                return bad(err, errsz, "--expect-sha256 %s: expected 64 hex digits", optarg);
            o->have_sha256 = true;
            break;
        case OPT_ONCE: o->once = true; break;
        case OPT_JSON: o->json = true; break;
        case OPT_FAIL_ON_ERROR: o->fail_on_error = true; break;
        case 'h': o->help = true; return 0;
        case 'V': o->version = true; return 0;
        case ':': /* glibc sets optopt to a long option's val too: look at the word */
            if (strncmp(argv[optind - 1], "--", 2) == 0)
                return bad(err, errsz, "option %s needs a value", argv[optind - 1]);
            return bad(err, errsz, "option -%c needs a value", optopt);
        default: {
            /* optind is past the word of a long option, but not past a
             * group like -xk whose unknown letter is not the last: there
             * argv[optind - 1] is the word before, maybe a long option */
            const char *word = argv[optind - 1];
            if (ps_longopt_given_value(longopts, optopt, word)) /* --json=yes */
                return bad(err, errsz, "option %.*s takes no value", (int)strcspn(word, "="), word);
            if (optopt)
                return bad(err, errsz, "unknown option -%c", optopt);
            return bad(err, errsz, "unknown option %s", word);
        }
        }
        if (r < 0)
            return r;
    }
    o->urls = argv + optind;
    o->nurls = (unsigned)(argc - optind);
    return cross_check(o, threads_set, duration_set, err, errsz);
}
