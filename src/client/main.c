/* pyserve-client: fetch one resource over HTTP/1.1 and put its body where a
 * person expects it (text on the terminal, binary in a new file). Here the
 * exchange is driven, the results printed and the exit status chosen;
 * output.c writes the body. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "dest.h"
#include "escape.h"
#include "exitcode.h"
#include "fetch.h"
#include "monoclock.h"
#include "names.h"
#include "net.h"
#include "progress.h"
#include "ranges.h"
#include "redirect.h"
#include "request.h"
#include "session.h"
#include "sniff.h"
#include "stdfds.h"

#define PROG "pyserve-client"

void client_error(const char *fmt, ...)
{
    va_list ap;
    fflush(stdout);
    fputs(PROG ": ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

/* ---- output ------------------------------------------------------------- */

static int stdout_errno; /* why a flush of stdout failed first; 0: none did */

/* s[0..n) of a head; for a terminal (tty) with C0 and C1 controls but
 * tab, DEL, invalid UTF-8 and invisible format characters (bidi controls)
 * as \xNN, so that a header cannot drive or disguise the terminal. */
static void put_head_text(FILE *out, const char *s, size_t n, bool tty)
{
    const unsigned char *u = (const unsigned char *)s;
    if (!tty) {
        fwrite(s, 1, n, out);
        return;
    }
    for (size_t i = 0; i < n;) {
        bool format = false;
        size_t l = u[i] == '\t' ? 1 : utf8_char_len(u + i, n - i, &format);
        if (l > 0 && !format) {
            fwrite(s + i, 1, l, out);
            i += l;
            continue;
        }
        for (size_t end = i + (l ? l : 1); i < end; i++)
            fprintf(out, "\\x%02x", u[i]);
    }
}

static void print_head(FILE *out, const char *prefix, const struct ps_response *r)
{
    bool tty = isatty(fileno(out)) == 1;
    fprintf(out, "%sHTTP/1.%d %03d ", prefix, r->minor, r->status);
    put_head_text(out, r->reason, r->reason_len, tty);
    fputc('\n', out);
    for (unsigned i = 0; i < r->nfields; i++) {
        fprintf(out, "%s%.*s: ", prefix, (int)r->fields[i].name_len, r->fields[i].name);
        put_head_text(out, r->fields[i].value, r->fields[i].value_len, tty);
        fputc('\n', out);
    }
    fprintf(out, "%s\n", prefix[0] ? "<" : "");
    if (fflush(out) != 0 && out == stdout && stdout_errno == 0)
        stdout_errno = errno;
}

/* s as one word for a POSIX shell, pasteable whatever it holds: in single
 * quotes, each ' written as '\'' */
static void put_sh_word(FILE *out, const char *s)
{
    fputc('\'', out);
    for (; *s; s++)
        if (*s == '\'')
            fputs("'\\''", out);
        else
            fputc(*s, out);
    fputc('\'', out);
}

static void print_request(const char *req, size_t n)
{
    const char *p = req, *end = req + n;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t l = nl ? (size_t)(nl - p) : (size_t)(end - p);
        if (l > 0 && p[l - 1] == '\r')
            l--;
        fprintf(stderr, ">%s%.*s\n", l ? " " : "", (int)l, p);
        p = nl ? nl + 1 : end;
    }
}

/* ---- the exchange ------------------------------------------------------- */

static bool same_origin(const struct ps_url *a, const struct ps_url *b)
{
    return a->port == b->port && strcasecmp(a->host, b->host) == 0;
}

/* Connect, send, read the head; follows redirects with -L. Returns 0 with
 * s->f holding the final response, or an exit status. */
static int exchange(struct session *s)
{
    const struct client_opts *o = s->o;
    char err[512];
    static char req[REQUEST_MAX];
    const char *method = o->head ? "HEAD" : "GET";

    for (unsigned hops = 0;; hops++) {
        snprintf(s->where, sizeof(s->where), s->url.ipv6_literal ? "[%s] port %u" : "%s port %u",
                 s->url.host, s->url.port);
        /* built first: a head too long is a usage error, whatever the network does */
        int n = request_build(req, sizeof(req), method, &s->url, o, s->offset,
                              same_origin(&s->url, &o->url));
        if (n < 0) {
            client_error("request head longer than %d bytes", REQUEST_MAX);
            return PSC_EXIT_USAGE;
        }
        int fd = net_connect(&s->url, o->family, o->timeout_ms, o->verbose, err, sizeof(err));
        if (fd < 0) {
            client_error("%s", err);
            return -fd;
        }
        if (o->verbose)
            print_request(req, (size_t)n);
        int r = net_send_all(fd, req, (size_t)n, o->timeout_ms);
        if (r < 0) {
            close(fd);
            if (r == -ETIMEDOUT) {
                client_error("timed out after %llu ms sending the request to %s",
                             (unsigned long long)o->timeout_ms, s->where);
                return PSC_EXIT_TIMEOUT;
            }
            client_error("sending the request to %s: %s", s->where, strerror(-r));
            return PSC_EXIT_NETWORK;
        }
        fetch_init(s->f, fd, o->timeout_ms, o->verbose, s->where);
        r = fetch_head(s->f, o->head, err, sizeof(err));
        if (r < 0) {
            close(fd);
            client_error("%s", err);
            return -r;
        }
        const struct ps_response *resp = &s->f->resp;
        if (o->include || o->head)
            print_head(stdout, "", resp);
        if (o->verbose || (s->info && !o->include && !o->head))
            print_head(stderr, o->verbose ? "< " : "", resp); /* -v: with -i or -I too, as curl */

        const struct ps_field *loc = ps_resp_field(resp, "location");
        if (!o->follow || !redirect_status(resp->status) || !loc)
            return 0;
        close(fd);
        if (hops == PSC_MAX_REDIRECTS) {
            char shown[200];
            escape_text(loc->value, loc->value_len, 100, shown, sizeof(shown));
            client_error("too many redirects (more than %d), the last to \"%s\"", PSC_MAX_REDIRECTS,
                         shown);
            return PSC_EXIT_REDIRECTS;
        }
        const char *why = "malformed";
        struct ps_url next;
        r = redirect_resolve(&s->url, loc->value, loc->value_len, &next, &why);
        if (r < 0) {
            char shown[200];
            escape_text(loc->value, loc->value_len, 100, shown, sizeof(shown));
            client_error("cannot follow the redirect from %s to \"%s\": %s", s->where, shown, why);
            return r == -EPROTONOSUPPORT ? PSC_EXIT_FAILURE : PSC_EXIT_PROTOCOL;
        }
        s->url = next;
        if (s->info) {
            char host[PS_URL_HOST_MAX + 16];
            ps_url_host_header(&s->url, host, sizeof(host));
            fprintf(stderr, "%sfollowing the redirect to http://%s%s\n", o->verbose ? "* " : "",
                    host, s->url.target);
        }
    }
}

/* --continue: the verdict on the response before any byte is written.
 * Returns -1 to go on with the body, or an exit status. */
static int resume_verdict(struct session *s)
{
    const struct ps_response *r = &s->f->resp;
    const struct ps_field *cr = ps_resp_field(r, "content-range");
    char shown[200] = "";
    if (cr)
        escape_text(cr->value, cr->value_len, 80, shown, sizeof(shown));
    switch (resume_check(r->status, s->offset, cr ? cr->value : NULL, cr ? cr->value_len : 0,
                         r->framing == PS_BODY_LENGTH ? r->content_length : UINT64_MAX)) {
    case RESUME_APPEND: return -1;
    case RESUME_OTHER: return -1;
    case RESUME_COMPLETE:
        if (s->info)
            fprintf(stderr, "%s is already complete (%llu bytes)\n", s->resume_path,
                    (unsigned long long)s->offset);
        return PSC_EXIT_OK;
    case RESUME_IGNORED:
        client_error("%s answered %d instead of 206 to a range request (the server does not "
                     "resume, or the file changed): %s left unchanged; download it again "
                     "without -C",
                     s->where, r->status, s->resume_path);
        return PSC_EXIT_RANGE;
    case RESUME_BAD_LENGTH:
        client_error(
            "%s answered 206 with Content-Range \"%s\" and a Content-Length of %llu, which "
            "is not the length of that range: %s left unchanged",
            s->where, shown, (unsigned long long)r->content_length, s->resume_path);
        return PSC_EXIT_RANGE;
    case RESUME_MISMATCH:
        client_error(
            "%s answered 206 with Content-Range \"%s\", which does not continue %s at byte "
            "%llu: file left unchanged",
            s->where, cr ? shown : "(none)", s->resume_path, (unsigned long long)s->offset);
        return PSC_EXIT_RANGE;
    case RESUME_UNSATISFIED:
    default: {
        /* only what the answer says: a length other than the file's, or none
         * (a local file longer than the resource is one case, not the only) */
        struct content_range c;
        char remote[80] = "the server gives no length";
        if (cr && content_range_parse(cr->value, cr->value_len, &c) == 0 && c.unsatisfied)
            snprintf(remote, sizeof(remote), "the server says the resource has %llu bytes",
                     (unsigned long long)c.complete);
        client_error("%s cannot resume %s at byte %llu (416, Content-Range \"%s\"): %s, the local "
                     "file has %llu; file left unchanged",
                     s->where, s->resume_path, (unsigned long long)s->offset, cr ? shown : "(none)",
                     remote, (unsigned long long)s->offset);
        return PSC_EXIT_RANGE;
    }
    }
}

/* The body: sniff, choose the destination, copy. Returns an exit status. */
static int body(struct session *s)
{
    const struct client_opts *o = s->o;
    struct fetch *f = s->f;
    const struct ps_response *r = &f->resp;
    char err[512];
    static char sniff[SNIFF_BYTES];
    size_t sn = 0;
    int rc = 0;

    /* The start of the body decides text or binary: the first piece (waited
     * for), then whatever else has already arrived, up to SNIFF_BYTES. A
     * slow stream is not held back until SNIFF_BYTES or its end arrive. */
    const char *data;
    size_t n = 0;
    bool pending = false; /* data[0..n) read but not yet in sniff */
    rc = fetch_body(f, &data, &n, err, sizeof(err));
    while (rc == 1) {
        size_t take = n < sizeof(sniff) - sn ? n : sizeof(sniff) - sn;
        memcpy(sniff + sn, data, take);
        sn += take;
        data += take;
        n -= take;
        pending = n > 0;
        if (pending || sn == sizeof(sniff))
            break;
        rc = fetch_body_now(f, &data, &n, err, sizeof(err));
    }
    if (rc == FETCH_AGAIN)
        rc = 1; /* more to come: the copy below waits for it */
    if (rc < 0 && sn == 0) {
        client_error("%s", err); /* nothing arrived: no file is created */
        return -rc;
    }
    const struct ps_field *ct = ps_resp_field(r, "content-type");
    struct dest_in in = {
        .out = o->out,
        .resume = o->resume,
        .status = r->status,
        .has_body = r->framing != PS_BODY_NONE,
        .kind = sniff_body(ct ? ct->value : NULL, ct ? ct->value_len : 0,
                           (const unsigned char *)sniff, sn),
        .stdout_tty = isatty(STDOUT_FILENO) == 1,
    };
    enum dest d = dest_plan(&in);
    char ctype[120];
    escape_text(ct ? ct->value : "no Content-Type", ct ? ct->value_len : 15, 80, ctype,
                sizeof(ctype));
    if (d == DEST_REFUSE) {
        client_error("not writing a binary body (%s) to a terminal: use -o FILE or -O", ctype);
        return PSC_EXIT_WRITE;
    }
    out_catch_stop_signals(true); /* until run() is back from the body */
    int orc = out_open(s, d);
    if (orc < 0)
        return -orc;
    /* the start of the body said text: the rest is checked as it comes */
    s->out_tty = d == DEST_STDOUT && in.stdout_tty;
    sniff_type_is_text(ct ? ct->value : NULL, ct ? ct->value_len : 0, &s->out_ctype);

    s->progress_on = !o->quiet && isatty(STDERR_FILENO) == 1 &&
                     (s->out_is_file || (d == DEST_STDOUT && isatty(STDOUT_FILENO) != 1));
    s->progress_total = r->framing == PS_BODY_LENGTH ? s->offset + r->content_length : UINT64_MAX;
    s->span = UINT64_MAX;
    if (d == DEST_APPEND) {
        const struct ps_field *cr = ps_resp_field(r, "content-range");
        struct content_range c;
        if (cr && content_range_parse(cr->value, cr->value_len, &c) == 0 && !c.unsatisfied) {
            s->span = c.last - c.first + 1;
            escape_text(cr->value, cr->value_len, 80, s->span_cr, sizeof(s->span_cr));
            if (c.complete_known)
                s->progress_total = c.complete;
        }
    }
    s->t_start = s->t_last = ps_mono_ms();

    int wr = 0;
    if (s->out_fd >= 0) {
        wr = out_write(s, sniff, sn);
        if (wr == 0 && pending)
            wr = out_write(s, data, n);
    }
    /* the flag too: a recv that finds data waiting is never interrupted */
    while (wr == 0 && rc > 0 && !net_interrupted) {
        rc = fetch_body(f, &data, &n, err, sizeof(err));
        if (rc > 0 && s->out_fd >= 0)
            wr = out_write(s, data, n);
    }
    /* stopped, even after the last byte: a temporary is not renamed */
    if (wr == 0 && rc >= 0 && net_interrupted)
        rc = fetch_interrupted(f, err, sizeof(err));
    if (s->progress_shown)
        out_progress(s, true);
    /* a close that fails is reported unless a write did already (the old
     * check); a temporary is kept only for a complete body */
    int fr = out_finish(s, s->tmp_name[0] ? wr == 0 && rc == 0 : wr == 0);
    if (wr == 0)
        wr = fr;
    if (wr < 0)
        return -wr;
    if (rc == 0 && s->span != UINT64_MAX && s->written < s->span) {
        /* a chunked or read-until-close 206 body that ended early */
        snprintf(err, sizeof(err),
                 "%s ended the 206 body after %llu of the %llu bytes of its Content-Range "
                 "\"%s\"",
                 s->where, (unsigned long long)s->written, (unsigned long long)s->span, s->span_cr);
        rc = -PSC_EXIT_PARTIAL;
    }
    if (rc < 0) {
        /* the error line names the incomplete file, even with -q; a
         * temporary is gone, FILE as it was: nothing to resume */
        bool partial = s->out_is_file && !s->tmp_name[0] && s->written + s->offset > 0;
        if (net_interrupted && !s->out_is_file)
            return -rc; /* stopped while writing to stdout: nothing to say, as cat */
        if (partial)
            client_error("%s; %llu bytes are in %s", err,
                         (unsigned long long)(s->offset + s->written), s->out_name);
        else
            client_error("%s%s", err, s->kept);
        /* -C asks for the rest of the whole resource: no hint after a -r part */
        if (partial && s->info && !o->range) {
            char host[PS_URL_HOST_MAX + 16], url[sizeof(host) + PS_URL_TARGET_MAX + 8];
            ps_url_host_header(&s->url, host, sizeof(host));
            snprintf(url, sizeof(url), "http://%s%s", host, s->url.target);
            fputs("to resume: " PROG " -C -o ", stderr);
            put_sh_word(stderr, s->out_name); /* never "-": -o - is no file, nor a saved name */
            fputc(' ', stderr);
            put_sh_word(stderr, url);
            fputc('\n', stderr);
        }
        return -rc;
    }
    if (d == DEST_DISCARD && s->info)
        fprintf(stderr, "binary body (%s, %llu bytes) of the %d response not shown\n", ctype,
                (unsigned long long)f->received, r->status);
    if (s->out_is_file && s->info) {
        /* a -r part under the resource's name says it is one */
        const struct ps_field *cr = o->range && r->status == 206 ? ps_resp_field(r, "content-range")
                                                                 : NULL;
        char part[100] = "";
        if (cr)
            escape_text(cr->value, cr->value_len, 80, part, sizeof(part));
        fprintf(stderr, "%s %llu bytes %s%s%sto %s\n", d == DEST_APPEND ? "appended" : "saved",
                (unsigned long long)s->written, cr ? "(a part: Content-Range \"" : "", part,
                cr ? "\") " : "", s->out_name);
    }
    if (d == DEST_APPEND && s->progress_total != UINT64_MAX &&
        s->offset + s->written < s->progress_total) {
        client_error("%s is still incomplete: %llu of %llu bytes; run again with -C", s->out_name,
                     (unsigned long long)(s->offset + s->written),
                     (unsigned long long)s->progress_total);
        return PSC_EXIT_PARTIAL;
    }
    return PSC_EXIT_OK;
}

static int run(const struct client_opts *o)
{
    static struct session s;
    static struct fetch f;
    s.o = o;
    s.url = o->url;
    s.f = &f;
    s.info = !o->quiet;
    s.out_fd = -1;

    if (o->resume) {
        if (o->out == CLI_OUT_FILE) {
            s.resume_path = o->out_file;
        } else {
            fname_from_target(o->url.target, s.resume_name, sizeof(s.resume_name));
            s.resume_path = s.resume_name;
        }
        struct stat st;
        /* lstat first: stat says ENOENT for a dangling symlink, and the
         * open(O_CREAT) of the body would then create the link's target */
        int sr = lstat(s.resume_path, &st);
        if (sr == 0 && S_ISLNK(st.st_mode) && stat(s.resume_path, &st) < 0) {
            if (errno == ENOENT)
                client_error("cannot resume %s: a symbolic link to a file that does not exist",
                             s.resume_path);
            else
                client_error("cannot resume %s: %s", s.resume_path, strerror(errno));
            return PSC_EXIT_WRITE;
        }
        if (sr == 0) {
            if (!S_ISREG(st.st_mode)) {
                client_error("cannot resume %s: not a regular file", s.resume_path);
                return PSC_EXIT_WRITE;
            }
            s.offset = (uint64_t)st.st_size;
        } else if (errno != ENOENT) {
            client_error("cannot resume %s: %s", s.resume_path, strerror(errno));
            return PSC_EXIT_WRITE;
        }
        if (o->verbose)
            fprintf(stderr, "* resuming %s at byte %llu\n", s.resume_path,
                    (unsigned long long)s.offset);
    }

    int rc = exchange(&s);
    if (rc != 0)
        return rc;
    const struct ps_response *r = &f.resp;
    /* before -f: a 416 to -C is the resume's verdict (complete or not), as
     * curl exempts it from --fail */
    if (o->resume && s.offset > 0) {
        rc = resume_verdict(&s);
        if (rc >= 0) {
            close(f.fd);
            return rc;
        }
    }
    /* a 206 to a request for no range: a part other than the whole would be
     * written as if it began the file (and -C of a missing file would build
     * a scrambled one on it), so it is refused before any file is made */
    const struct ps_field *cr = ps_resp_field(r, "content-range");
    if (!o->head && r->status == 206 && !request_has_range(o, s.offset) &&
        !range_unasked_whole(cr ? cr->value : NULL, cr ? cr->value_len : 0,
                             r->framing == PS_BODY_LENGTH ? r->content_length : UINT64_MAX)) {
        close(f.fd);
        char shown[200];
        escape_text(cr ? cr->value : "(none)", cr ? cr->value_len : 6, 80, shown, sizeof(shown));
        client_error(
            "%s answered 206 with Content-Range \"%s\" to a request for no range: only the "
            "whole resource (\"bytes 0-LAST/LENGTH\", LENGTH bytes long) is taken; nothing "
            "written",
            s.where, shown);
        return PSC_EXIT_PROTOCOL;
    }
    if (o->fail && r->status >= 400) {
        close(f.fd);
        char reason[200], target[200];
        escape_text(r->reason, r->reason_len, 60, reason, sizeof(reason));
        /* the target from the command line (or a redirect) may be 8 KB */
        escape_text(s.url.target, strlen(s.url.target), 100, target, sizeof(target));
        client_error("HTTP error %d %s from %s for %s", r->status, reason, s.where, target);
        return PSC_EXIT_HTTP;
    }
    if (o->range && r->status == 200 && s.info)
        fprintf(stderr, "the server ignored the range: the whole body follows\n");
    rc = body(&s);
    out_catch_stop_signals(false);
    close(f.fd);
    return rc;
}

/* The exit status after --help or --version: 23 when standard output took
 * it not (with a message, unless the reader went away). */
static int info_written(void)
{
    if (fflush(stdout) == 0 && !ferror(stdout))
        return PSC_EXIT_OK;
    if (errno != EPIPE)
        fprintf(stderr, PROG ": cannot write to standard output: %s\n", strerror(errno));
    return PSC_EXIT_WRITE;
}

int main(int argc, char **argv)
{
    static struct client_opts o;
    char err[PS_URL_TARGET_MAX + 256];

    /* started with stdout closed, the connection would take its number
     * and get the body written back into it */
    signal(SIGPIPE, SIG_IGN); /* a closed pipe is a write error, reported as such */
    if (ps_guard_std_fds(PROG) < 0)
        return PSC_EXIT_FAILURE;
    switch (cli_parse(argc, argv, &o, err, sizeof(err))) {
    case CLI_HELP: cli_usage(stdout); return info_written();
    case CLI_VERSION: printf(PROG " %s\n", PACKAGE_VERSION); return info_written();
    case CLI_ERROR:
        fprintf(stderr, PROG ": %s\nTry '" PROG " --help'.\n", err);
        return PSC_EXIT_USAGE;
    default: break;
    }
    int rc = run(&o);
    if (net_interrupted) {
        /* die by the signal, as curl and wget do, so that the shell (and a
         * script's trap) sees 130 for SIGINT, not an exit status */
        fflush(stdout);
        signal(net_interrupted, SIG_DFL);
        raise(net_interrupted);
    }
    if (fflush(stdout) != 0 && stdout_errno == 0)
        stdout_errno = errno;
    if (ferror(stdout) && rc == PSC_EXIT_OK) {
        /* a reader gone away is not worth a message, as in out_write */
        if (stdout_errno != EPIPE)
            client_error("cannot write to standard output: %s",
                         strerror(stdout_errno ? stdout_errno : EIO));
        rc = PSC_EXIT_WRITE;
    }
    return rc;
}
