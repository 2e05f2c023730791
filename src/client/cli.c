/* pyserve-client command line: options, positional forms, cross-checks. */
#include "config.h"

#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "escape.h"
#include "exitcode.h"
#include "longopt.h"
#include "num.h"

void cli_usage(FILE *f)
{
    fprintf(f,
            "Usage: pyserve-client [OPTION]... URL\n"
            "       pyserve-client [OPTION]... HOST PORT PATH\n"
            "Fetch one resource over HTTP/1.1. The status line and header fields go to\n"
            "standard error, a textual body to standard output, a binary body to a new\n"
            "file named after the URL (never overwriting: name(1).ext, name(2).ext...).\n"
            "URL is http://HOST[:PORT]/PATH (IPv6: http://[::1]:8080/); http:// may be\n"
            "left out.\n"
            "\n"
            "  -I, --head             send HEAD and print the response head to stdout\n"
            "  -i, --include          print the response head to stdout, before the body\n"
            "  -o, --output=FILE      write the body to FILE (- for stdout)\n"
            "  -O, --remote-name      write the body to a file named after the URL or\n"
            "                         Content-Disposition, never overwriting\n"
            "  -C, --continue         resume a partial download (the -o FILE or -O file)\n"
            "  -r, --range=RANGE      ask for bytes RANGE only: 0-99, 100-, -500, 0-1,5-9\n"
            "  -H, --header=LINE      add or replace a request field, LINE being\n"
            "                         'Name: value' (repeatable); 'Name:' removes one\n"
            "  -L, --location         follow redirects (at most %d)\n"
            "  -f, --fail             exit with status 22 on an HTTP error (400 and up)\n"
            "      --timeout=SECONDS  give up connecting or waiting for data after\n"
            "                         SECONDS (or 500ms, 2m...)\n"
            "  -4, --ipv4             use IPv4 addresses only\n"
            "  -6, --ipv6             use IPv6 addresses only\n"
            "  -v, --verbose          also show the connection and the request\n"
            "  -q, --quiet            show nothing but errors (and what -i or -I ask for)\n"
            "  -h, --help             show this help and exit\n"
            "  -V, --version          show the version and exit\n"
            "\n"
            "Exit status: 0 success, 1 local failure, 2 usage error, 6 host not found,\n"
            "7 cannot connect, 8 malformed response, 18 body cut short, 22 HTTP error\n"
            "with --fail, 23 write error or binary body refused to a terminal, 28 timeout,\n"
            "33 the server did not resume with --continue, 47 too many redirects,\n"
            "52 empty reply, 56 connection reset.\n"
            "See pyserve-client(1).\n",
            PSC_MAX_REDIRECTS);
}

static int fail(char *err, size_t errsz, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t errsz, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errsz, fmt, ap);
    va_end(ap);
    return CLI_ERROR;
}

/* An argument echoed in a message: at most SHOWN_MAX of its bytes, so that
 * a 20 KB URL does not push the reason after it out of the message, and
 * control bytes (an ESC) escaped, so that they do not reach the terminal. */
#define SHOWN_MAX  80
#define SHOWN_SIZE (4 * SHOWN_MAX + 8)

static const char *shown(const char *arg, char buf[SHOWN_SIZE])
{
    escape_text(arg, strlen(arg), SHOWN_MAX, buf, SHOWN_SIZE);
    return buf;
}

static bool is_tchar(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c && strchr("!#$%&'*+-.^_`|~", c));
}

int cli_header_parse(const char *s, struct cli_header *h, const char **why)
{
    size_t k = 0;
    while (is_tchar((unsigned char)s[k]))
        k++;
    if (k == 0 || s[k] != ':') {
        *why = "expected 'Name: value' with a field name of letters, digits and -";
        return -EINVAL;
    }
    const char *v = s + k + 1;
    while (*v == ' ' || *v == '\t')
        v++;
    size_t n = strlen(v);
    while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t'))
        n--;
    for (size_t i = 0; i < n; i++)
        if (((unsigned char)v[i] < ' ' && v[i] != '\t') || v[i] == 0x7f) {
            *why = "control characters in the value";
            return -EINVAL;
        }
    h->name = s;
    h->name_len = k;
    h->value = v;
    h->value_len = n;
    return 0;
}

/* digits, at most 18 of them so that the value fits in 63 bits */
static size_t digits(const char *s, uint64_t *v)
{
    size_t n = strspn(s, "0123456789");
    if (n == 0 || n > 18 || ps_parse_u64n(s, n, UINT64_MAX, v) < 0)
        return 0;
    return n;
}

/* RFC 9110 section 14.1.1: byte-range-set = 1#( int-range / suffix-range ) */
const char *cli_range_set(const char *s)
{
    if (strncasecmp(s, "bytes=", 6) == 0)
        s += 6;
    const char *p = s;
    if (*p == '\0')
        return NULL;
    for (;;) {
        uint64_t first, last;
        size_t n;
        if (*p == '-') {
            n = digits(p + 1, &last);
            if (n == 0)
                return NULL;
            p += 1 + n;
        } else {
            n = digits(p, &first);
            if (n == 0 || p[n] != '-')
                return NULL;
            p += n + 1;
            n = digits(p, &last);
            if (n > 0) {
                if (last < first)
                    return NULL;
                p += n;
            }
        }
        if (*p == '\0')
            return s;
        if (*p != ',' || p[1] == '\0')
            return NULL;
        p++;
    }
}

static int set_url(struct client_opts *o, const char *arg, char *err, size_t errsz)
{
    char buf[PS_URL_TARGET_MAX + PS_URL_HOST_MAX + 16], sh[SHOWN_SIZE];
    const char *why = "malformed";
    const char *s = arg;
    /* a scheme ends the part before the first '/', '?' or '#': a "://" in
     * the path or query ("h/p?next=http://x/") is no scheme */
    size_t lead = strcspn(arg, "/?#");
    bool colon = lead > 0 && arg[lead - 1] == ':';
    if (colon && strncmp(arg + lead, "//", 2) != 0 &&
        ((lead == 5 && strncasecmp(arg, "http", 4) == 0) ||
         (lead == 6 && strncasecmp(arg, "https", 5) == 0)))
        /* "http:/h/" would otherwise be the host "http" with an empty port */
        return fail(err, errsz, "bad URL \"%s\": \"%.*s\" must be followed by \"//\"",
                    shown(arg, sh), (int)lead, arg);
    if (!(colon && strncmp(arg + lead, "//", 2) == 0)) {
        /* host[:port]/path without a scheme, as curl takes it */
        if (strlen(arg) + 8 > sizeof(buf))
            return fail(err, errsz, "URL too long");
        snprintf(buf, sizeof(buf), "http://%s", arg);
        s = buf;
    }
    if (ps_url_parse(s, &o->url, &why) < 0)
        return fail(err, errsz, "bad URL \"%s\": %s", shown(arg, sh), why);
    return CLI_RUN;
}

static int set_host_port_path(struct client_opts *o, const char *host, const char *port,
                              const char *path, char *err, size_t errsz)
{
    uint64_t p;
    char sh[SHOWN_SIZE], sh2[SHOWN_SIZE], sh3[SHOWN_SIZE];
    if (ps_parse_u64(port, 65535, &p) < 0 || p == 0)
        return fail(err, errsz, "bad port \"%s\": expected a number from 1 to 65535",
                    shown(port, sh));
    size_t hl = strlen(host);
    bool bracketed = hl >= 2 && host[0] == '[' && host[hl - 1] == ']';
    const char *h = bracketed ? host + 1 : host;
    size_t hn = bracketed ? hl - 2 : hl;
    if (hn == 0 || hn >= PS_URL_HOST_MAX)
        return fail(err, errsz, "bad host \"%s\"", shown(host, sh));
    bool colon = false;
    for (size_t i = 0; i < hn; i++) {
        unsigned char c = (unsigned char)h[i];
        if (c <= ' ' || c == 0x7f || strchr("/?#@[]", c))
            return fail(err, errsz, "bad host \"%s\"", shown(host, sh));
        colon |= c == ':';
    }
    if (bracketed && !colon)
        return fail(err, errsz, "bad host \"%s\": brackets are for IPv6 addresses",
                    shown(host, sh));
    if (strlen(path) >= PS_URL_TARGET_MAX)
        return fail(err, errsz, "PATH too long");
    char buf[PS_URL_TARGET_MAX + PS_URL_HOST_MAX + 16];
    snprintf(buf, sizeof(buf), colon ? "http://[%.*s]:%u%s%s" : "http://%.*s:%u%s%s", (int)hn, h,
             (unsigned)p, path[0] == '/' ? "" : "/", path);
    const char *why = "malformed";
    if (ps_url_parse(buf, &o->url, &why) < 0)
        return fail(err, errsz, "bad HOST PORT PATH \"%s\" \"%s\" \"%s\": %s", shown(host, sh),
                    shown(port, sh2), shown(path, sh3), why);
    return CLI_RUN;
}

/* Fields the client manages itself or that promise a request body. */
static bool header_refused(const struct cli_header *h)
{
    static const char *const names[] = {"content-length", "transfer-encoding"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (h->name_len == strlen(names[i]) && strncasecmp(h->name, names[i], h->name_len) == 0)
            return true;
    return false;
}

int cli_parse(int argc, char **argv, struct client_opts *o, char *err, size_t errsz)
{
    enum { OPT_TIMEOUT = 256 };
    static const struct option longopts[] = {
        {"head", no_argument, NULL, 'I'},
        {"include", no_argument, NULL, 'i'},
        {"output", required_argument, NULL, 'o'},
        {"remote-name", no_argument, NULL, 'O'},
        {"continue", no_argument, NULL, 'C'},
        {"range", required_argument, NULL, 'r'},
        {"header", required_argument, NULL, 'H'},
        {"location", no_argument, NULL, 'L'},
        {"fail", no_argument, NULL, 'f'},
        {"timeout", required_argument, NULL, OPT_TIMEOUT},
        {"ipv4", no_argument, NULL, '4'},
        {"ipv6", no_argument, NULL, '6'},
        {"verbose", no_argument, NULL, 'v'},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    bool remote_name = false, out_given = false;
    const char *why;
    char sh[SHOWN_SIZE];
    int ch;

    memset(o, 0, sizeof(*o));
    o->family = AF_UNSPEC;
    o->out = CLI_OUT_AUTO;
    opterr = 0;
    optind = 0; /* full re-initialisation (GNU), so that tests can parse twice */
    while ((ch = getopt_long(argc, argv, ":Iio:OCr:H:Lf46vqhV", longopts, NULL)) != -1) {
        switch (ch) {
        case 'I': o->head = true; break;
        case 'i': o->include = true; break;
        case 'O': remote_name = true; break;
        case 'C':
            o->resume = true;
            /* "-C -" is curl's spelling of -C: take the "-" that follows it
             * here. getopt_long moves the operands behind the options in
             * their order ("URL -C -" leaves "URL" "-"), so it cannot be
             * told apart from a stray one later. Inside a bundle ("-Cq")
             * optind still points at the bundle, never at a lone "-". */
            if (optind < argc && strcmp(argv[optind], "-") == 0)
                optind++;
            break;
        case 'L': o->follow = true; break;
        case 'f': o->fail = true; break;
        case '4': o->family = AF_INET; break;
        case '6': o->family = AF_INET6; break;
        case 'v': o->verbose = true; break;
        case 'q': o->quiet = true; break;
        case 'h': return CLI_HELP;
        case 'V': return CLI_VERSION;
        case 'o':
            if (optarg[0] == '\0')
                return fail(err, errsz, "-o: empty file name");
            if (out_given)
                return fail(err, errsz, "-o given twice");
            out_given = true;
            if (strcmp(optarg, "-") == 0) {
                o->out = CLI_OUT_STDOUT;
            } else {
                o->out = CLI_OUT_FILE;
                o->out_file = optarg;
            }
            break;
        case 'r':
            o->range = cli_range_set(optarg);
            if (!o->range)
                return fail(err, errsz,
                            "bad range \"%s\": expected FIRST-LAST, FIRST- or -SUFFIX (bytes, "
                            "comma-separated), with FIRST <= LAST",
                            shown(optarg, sh));
            break;
        case 'H': {
            if (o->nheaders == CLI_MAX_HEADERS)
                return fail(err, errsz, "too many -H options (at most %d)", CLI_MAX_HEADERS);
            struct cli_header *h = &o->headers[o->nheaders];
            if (cli_header_parse(optarg, h, &why) < 0)
                return fail(err, errsz, "bad header \"%s\": %s", shown(optarg, sh), why);
            if (header_refused(h))
                return fail(err, errsz, "bad header \"%s\": this client sends no request body",
                            shown(optarg, sh));
            o->nheaders++;
            break;
        }
        case OPT_TIMEOUT: {
            int r = ps_parse_duration_ms(optarg, CLI_MAX_TIMEOUT_MS, &o->timeout_ms);
            if (r < 0 || o->timeout_ms == 0)
                return fail(err, errsz,
                            "bad timeout \"%s\": expected seconds (or a number with ms, s, m, "
                            "h), more than 0 and at most 24h",
                            shown(optarg, sh));
            break;
        }
        case ':':
            return fail(err, errsz, "option %s needs an argument", shown(argv[optind - 1], sh));
        default: {
            const char *arg = argv[optind - 1];
            if (ps_longopt_given_value(longopts, optopt, arg)) {
                escape_text(arg, strcspn(arg, "="), SHOWN_MAX, sh, sizeof(sh));
                return fail(err, errsz, "option '%s' takes no argument", sh);
            }
            if (optopt)
                return fail(err, errsz, "unknown option -%s",
                            shown((const char[]){(char)optopt, '\0'}, sh));
            return fail(err, errsz, "unknown option %s", shown(arg, sh));
        }
        }
    }

    char **pos = argv + optind;
    int npos = argc - optind;
    int r;
    if (npos == 1)
        r = set_url(o, pos[0], err, errsz);
    else if (npos == 3)
        r = set_host_port_path(o, pos[0], pos[1], pos[2], err, errsz);
    else if (npos == 0)
        return fail(err, errsz, "no URL given");
    else
        return fail(err, errsz, "expected URL or HOST PORT PATH, got %d arguments", npos);
    if (r != CLI_RUN)
        return r;

    if (remote_name && out_given)
        return fail(err, errsz, "-o and -O exclude each other");
    if (remote_name)
        o->out = CLI_OUT_REMOTE;
    if (o->quiet && o->verbose)
        return fail(err, errsz, "-q and -v exclude each other");
    if (o->head && (out_given || remote_name || o->resume))
        return fail(err, errsz, "-I has no body to save: drop -o, -O and -C");
    if (o->resume) {
        if (o->out == CLI_OUT_STDOUT)
            return fail(err, errsz, "-C needs a file to resume, not standard output");
        if (o->range)
            return fail(err, errsz, "-C and -r exclude each other");
        if (o->out == CLI_OUT_AUTO)
            o->out = CLI_OUT_REMOTE; /* -C alone resumes the file named after the URL */
    }
    return CLI_RUN;
}
