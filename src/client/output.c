/* pyserve-client's output: where a body is written (stdout, -o FILE through
 * a temporary renamed over it, a -C file appended, a new file named after
 * the response), the checks on each piece, the progress line, and the stop
 * signals while a body is written. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "exitcode.h"
#include "fetch.h"
#include "monoclock.h"
#include "names.h"
#include "net.h"
#include "progress.h"
#include "session.h"
#include "sniff.h"

#define MAX_NEW_FILE_TRIES 1000 /* name, name(1) ... name(999) */

/* Writes p[0..n) to fd; *done counts what went, also on failure. A stop
 * signal (net_interrupted) ends it with -EINTR, before any write: one that
 * interrupts a write to a pipe or FIFO whose reader is stuck makes the
 * write fail, or return what it had written by then, and the next write,
 * here or in the next call, would wait for the reader with the signal
 * already taken. (One that comes between the check and the write still
 * waits for the reader: a few instructions' window.) */
static int write_all(int fd, const char *p, size_t n, size_t *done)
{
    *done = 0;
    while (n > 0) {
        if (net_interrupted)
            return -EINTR;
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR && !net_interrupted)
            continue;
        if (w < 0)
            return -errno;
        p += w;
        n -= (size_t)w;
        *done += (size_t)w;
    }
    return 0;
}

static unsigned term_width(void)
{
    struct winsize ws;
    if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 20)
        return ws.ws_col;
    return 80;
}

void out_progress(struct session *s, bool final)
{
    uint64_t now = ps_mono_ms();
    if (!s->progress_on)
        return;
    uint64_t done = s->offset + s->written;
    if (!s->progress_shown) {
        bool large = (s->progress_total != UINT64_MAX && s->progress_total >= PROGRESS_MIN_BYTES) ||
                     done >= PROGRESS_MIN_BYTES;
        if (!large)
            return;
        s->progress_shown = true;
    } else if (!final && now - s->t_last < PROGRESS_INTERVAL_MS) {
        return;
    }
    s->t_last = now;
    char line[512];
    progress_format(line, sizeof(line), term_width(), done, s->progress_total, now - s->t_start,
                    final);
    fprintf(stderr, "\r%s\033[K%s", line, final ? "\n" : "");
    fflush(stderr);
}

/* Writes p[0..n), but nothing past s->span: more than that is a protocol
 * error, once the bytes up to the span are written. */
int out_write(struct session *s, const char *p, size_t n)
{
    bool over = n > s->span - s->written;
    if (over)
        n = (size_t)(s->span - s->written);
    if (s->out_tty && sniff_bytes_binary((const unsigned char *)p, n, s->out_ctype)) {
        if (s->written > 0 && !s->out_ended_line && isatty(STDERR_FILENO) == 1)
            fputc('\n', stderr); /* the message on a line of its own, not after the text */
        client_error(
            "%s sent binary data (a NUL or control byte) after %llu bytes of text: not writing "
            "it to a terminal; use -o FILE or -O",
            s->where, (unsigned long long)s->written);
        return -PSC_EXIT_WRITE;
    }
    size_t done;
    int r = write_all(s->out_fd, p, n, &done);
    s->written += done; /* what is in the file, for the messages */
    if (done > 0)
        s->out_ended_line = p[done - 1] == '\n';
    if (r == -EINTR)
        return 0; /* the copy loop sees net_interrupted and says so */
    if (r < 0) {
        if (s->out_fd == STDOUT_FILENO && r == -EPIPE)
            return -PSC_EXIT_WRITE; /* the reader went away: nothing to say */
        client_error("cannot write to %s: %s%s", s->out_is_file ? s->out_name : "standard output",
                     strerror(-r), s->kept);
        return -PSC_EXIT_WRITE;
    }
    out_progress(s, false);
    if (over) {
        client_error("%s sent a 206 body longer than its Content-Range \"%s\" (%llu bytes): "
                     "appended those bytes to %s, dropped the rest",
                     s->where, s->span_cr, (unsigned long long)s->span, s->out_name);
        return -PSC_EXIT_PROTOCOL;
    }
    return 0;
}

/* A new file named after the response, never replacing an existing one. */
static int open_new_file(struct session *s)
{
    char base[FNAME_BUF];
    const struct ps_field *cd = ps_resp_field(&s->f->resp, "content-disposition");
    if (!cd || !fname_from_disposition(cd->value, cd->value_len, base, sizeof(base)))
        fname_from_target(s->url.target, base, sizeof(base));
    for (unsigned k = 0; k < MAX_NEW_FILE_TRIES; k++) {
        if (fname_numbered(base, k, s->new_name, sizeof(s->new_name)) < 0)
            break;
        int fd = open(s->new_name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd >= 0) {
            s->out_name = s->new_name;
            return fd;
        }
        if (errno != EEXIST) {
            client_error("cannot create %s: %s", s->new_name, strerror(errno));
            return -PSC_EXIT_WRITE;
        }
    }
    client_error("cannot create a new file for %s: %s and %d numbered names exist", base, base,
                 MAX_NEW_FILE_TRIES - 1);
    return -PSC_EXIT_WRITE;
}

/* -o FILE over an existing file: a body that fails half-way (a full disk, a
 * cut connection, a timeout) must not destroy FILE, so it goes to
 * ".NAME.XXXXXX" in FILE's directory, renamed over FILE when complete
 * (out_finish). Only a plain file qualifies: a symlink, a hard-linked file,
 * a device (/dev/null), a FIFO are written through as before, since a
 * rename would replace the link or the device itself; an empty file has
 * nothing to lose. Returns the temporary's fd, or -1 to open FILE itself. */
static int open_replacement(struct session *s)
{
    struct stat st;
    const char *name = s->out_name;
    if (lstat(name, &st) < 0 || !S_ISREG(st.st_mode) || st.st_nlink != 1 || st.st_size == 0)
        return -1;
    /* The rename needs only the directory's permission: a file the user
     * may not write (0444, or another user's in a shared directory) is
     * opened in place, which refuses it as before; so is one of another
     * owner, whom only root could give the replacement. */
    if (faccessat(AT_FDCWD, name, W_OK, AT_EACCESS) < 0 ||
        (geteuid() != 0 && st.st_uid != geteuid()))
        return -1;
    const char *slash = strrchr(name, '/');
    int dir_len = slash ? (int)(slash - name) + 1 : 0;
    /* the base cut to 200 bytes: ".NAME.XXXXXX" must fit in NAME_MAX too */
    int n = snprintf(s->tmp_name, sizeof(s->tmp_name), "%.*s.%.200s.XXXXXX", dir_len, name,
                     name + dir_len);
    int fd = n > 0 && (size_t)n < sizeof(s->tmp_name) ? mkostemp(s->tmp_name, O_CLOEXEC) : -1;
    if (fd < 0) {
        /* a directory that takes no new file (FILE itself may be writable):
         * FILE is written in place, as before */
        if (s->o->verbose)
            fprintf(stderr, "* no temporary file next to %s (%s): writing it in place\n", name,
                    strerror(errno));
        s->tmp_name[0] = '\0';
        return -1;
    }
    /* the replacement keeps FILE's owner (only root can give it) and mode;
     * a file system that keeps neither still gets the body */
    if (fchown(fd, geteuid() == 0 ? st.st_uid : (uid_t)-1, st.st_gid) < 0 && s->o->verbose)
        fprintf(stderr, "* cannot give %s its owner back: %s\n", name, strerror(errno));
    if (fchmod(fd, st.st_mode & 07777) < 0 && s->o->verbose)
        fprintf(stderr, "* cannot give %s its mode back: %s\n", name, strerror(errno));
    snprintf(s->kept, sizeof(s->kept), "; %s left as it was", name);
    return fd;
}

/* Closes the output file. A temporary (open_replacement) is renamed over
 * FILE when ok, after an fsync so that a crash cannot leave FILE short,
 * and removed otherwise. Returns 0, or -PSC_EXIT_WRITE with a message. */
int out_finish(struct session *s, bool ok)
{
    if (!s->out_is_file)
        return 0;
    if (!s->tmp_name[0]) {
        if (close(s->out_fd) < 0 && ok) {
            client_error("cannot write to %s: %s", s->out_name, strerror(errno));
            return -PSC_EXIT_WRITE;
        }
        return 0;
    }
    int r = 0;
    /* a file system that cannot sync (EINVAL) still gets the rename */
    if (ok && fsync(s->out_fd) < 0 && errno != EINVAL && errno != ENOTSUP)
        r = -errno;
    if (close(s->out_fd) < 0 && ok && r == 0)
        r = -errno;
    if (ok && r == 0 && rename(s->tmp_name, s->out_name) < 0)
        r = -errno;
    if (!ok || r < 0)
        unlink(s->tmp_name);
    if (r < 0) {
        client_error("cannot write to %s: %s%s", s->out_name, strerror(-r), s->kept);
        return -PSC_EXIT_WRITE;
    }
    return 0;
}

static void on_stop_signal(int sig)
{
    net_interrupted = sig;
}

static const int stop_signals[] = {SIGINT, SIGTERM, SIGHUP};

/* Catch (on) or restore (!on) the signals that stop a download, caught
 * only while a body is written: with the default action the process would
 * die with a partial file under its final name, or a temporary left
 * behind, and no word. Before that the default is right (nothing to clean
 * up; getaddrinfo stays interruptible). No SA_RESTART, so that a blocking
 * write or open (a FIFO) returns. A signal ignored when the client started
 * (nohup, a background job) stays ignored. */
void out_catch_stop_signals(bool on)
{
    static struct sigaction old[sizeof(stop_signals) / sizeof(stop_signals[0])];
    static bool caught[sizeof(stop_signals) / sizeof(stop_signals[0])];
    for (size_t i = 0; i < sizeof(stop_signals) / sizeof(stop_signals[0]); i++) {
        if (!on) {
            if (caught[i])
                sigaction(stop_signals[i], &old[i], NULL);
            caught[i] = false;
            continue;
        }
        struct sigaction sa;
        memset(&sa, 0, sizeof(sa));
        sa.sa_handler = on_stop_signal;
        sigemptyset(&sa.sa_mask);
        if (sigaction(stop_signals[i], NULL, &old[i]) == 0 && old[i].sa_handler != SIG_IGN)
            caught[i] = sigaction(stop_signals[i], &sa, NULL) == 0;
    }
}

int out_open(struct session *s, enum dest d)
{
    const struct client_opts *o = s->o;
    int fd;
    s->out_is_file = d == DEST_FILE || d == DEST_APPEND || d == DEST_NEW_FILE;
    switch (d) {
    case DEST_STDOUT:
        fflush(stdout);
        s->out_fd = STDOUT_FILENO;
        return 0;
    case DEST_FILE:
        s->out_name = o->resume ? s->resume_path : o->out_file;
        fd = o->resume ? -1 : open_replacement(s); /* -C: the file is empty or absent */
        if (fd < 0)
            fd = open(s->out_name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
        break;
    case DEST_APPEND:
        s->out_name = s->resume_path;
        fd = open(s->out_name, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0666);
        break;
    case DEST_NEW_FILE:
        fd = open_new_file(s);
        if (fd < 0)
            return fd;
        break;
    default: s->out_fd = -1; return 0;
    }
    if (fd < 0) {
        if (errno != EINTR || !net_interrupted) /* a FIFO without a reader: stopped, not failed */
            client_error("cannot open %s: %s", s->out_name, strerror(errno));
        return -PSC_EXIT_WRITE;
    }
    s->out_fd = fd;
    return 0;
}
