/* Logging for systemd's journal or a terminal. */
#include "log.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
/* sd_journal_send() would add CODE_FILE=, CODE_LINE= and CODE_FUNC= of this
 * file (the build path included) to every entry, which says nothing of
 * where a message comes from. */
#define SD_JOURNAL_SUPPRESS_LOCATION
#include <systemd/sd-journal.h>
#include <unistd.h>

static bool journal_prefix; /* stderr is the journal: "<N>" prefixes */
static bool journal_native; /* ... and sd_journal_send() is used first */

void log_init(bool native)
{
    /* JOURNAL_STREAM is "DEV:INO" of the journal's stream socket; only trust
     * it when stderr is still that socket (sd-daemon(3), systemd.exec(5)). */
    const char *e = getenv("JOURNAL_STREAM");
    struct stat st;
    unsigned long long dev, ino;

    journal_prefix = false;
    if (e && sscanf(e, "%llu:%llu", &dev, &ino) == 2 && fstat(STDERR_FILENO, &st) == 0 &&
        (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino)
        journal_prefix = true;
    journal_native = journal_prefix && native;
}

static void write_line(char *buf, size_t len)
{
    buf[len++] = '\n';
    while (len > 0) {
        ssize_t n = write(STDERR_FILENO, buf, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return; /* nowhere left to report it */
        buf += n;
        len -= (size_t)n;
    }
}

#define LINE_CAP 2048

static size_t prefix(char *buf, int prio)
{
    static const char *const names[] = {"emerg", "alert", "crit", "error",
                                        "warning", "notice", "info", "debug"};
    if (journal_prefix)
        return (size_t)snprintf(buf, LINE_CAP, "<%d>", prio & 7);
    if ((prio & 7) <= LOG_WARNING)
        return (size_t)snprintf(buf, LINE_CAP, "pyserved: %s: ", names[prio & 7]);
    return (size_t)snprintf(buf, LINE_CAP, "pyserved: ");
}

/* s[0..n) into out (at most cap - 1 bytes), with the bytes that could
 * forge a log line or drive a terminal written as \xHH: the controls, and
 * for strict also '"', '\\' and non-ASCII. */
static size_t escape_bytes(char *out, size_t cap, const char *s, size_t n, bool strict)
{
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    for (size_t i = 0; i < n && o + 4 < cap; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f || (strict && (c > 0x7f || c == '"' || c == '\\'))) {
            out[o++] = '\\';
            out[o++] = 'x';
            out[o++] = hex[c >> 4];
            out[o++] = hex[c & 15];
        } else {
            out[o++] = (char)c;
        }
    }
    return o;
}

size_t log_escape(char *out, size_t cap, const char *s, size_t n)
{
    if (s)
        return escape_bytes(out, cap, s, n, true);
    if (cap == 0)
        return 0;
    out[0] = '-';
    return 1;
}

/* A message may hold bytes from a request (a path in an error) or from a
 * file name: none of them may end the line and start a forged one. */
void log_msg(int prio, const char *fmt, ...)
{
    char raw[LINE_CAP], buf[LINE_CAP + 1];
    va_list ap;

    va_start(ap, fmt);
    int m = vsnprintf(raw, sizeof(raw), fmt, ap);
    va_end(ap);
    size_t rl = m < 0 ? 0 : (size_t)m < sizeof(raw) ? (size_t)m : sizeof(raw) - 1;
    if (journal_native) {
        buf[escape_bytes(buf, LINE_CAP, raw, rl, false)] = '\0';
        if (sd_journal_send("MESSAGE=%s", buf, "PRIORITY=%d", prio & 7,
                            "SYSLOG_IDENTIFIER=pyserved", NULL) >= 0)
            return;
    }
    size_t n = prefix(buf, prio);
    n += escape_bytes(buf + n, LINE_CAP - n, raw, rl, false);
    write_line(buf, n);
}

bool log_limited(struct log_limit *l, uint64_t now_ms, int prio, const char *fmt, ...)
{
    if (l->logged && now_ms - l->last_ms < 1000) {
        l->suppressed++;
        return false;
    }
    char raw[LINE_CAP];
    size_t cap = sizeof(raw) - 64; /* the count is kept when the message is cut */
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(raw, cap, fmt, ap);
    va_end(ap);
    size_t rl = m < 0 ? 0 : (size_t)m < cap ? (size_t)m : cap - 1;
    if (l->suppressed)
        snprintf(raw + rl, sizeof(raw) - rl, " (%lu more like it not logged)", l->suppressed);
    log_msg(prio, "%s", raw);
    l->last_ms = now_ms;
    l->suppressed = 0;
    l->logged = true;
    return true;
}

void log_peer(char *out, size_t cap, const char *addr, unsigned port, bool v6)
{
    if (port == 0)
        snprintf(out, cap, "%s", addr);
    else
        snprintf(out, cap, v6 ? "[%s]:%u" : "%s:%u", addr, port);
}

/* The cuts, in escaped bytes, of the parts of an access line taken from the
 * request: with all of them at their longest the line fits LINE_CAP. */
#define ACCESS_METHOD_MAX 64
#define ACCESS_TARGET_MAX 1024
#define ACCESS_FIELD_MAX 384 /* Referer, User-Agent */

/* Journal fields for sd_journal_sendv, "NAME=value" each, in one buffer
 * that holds them all at their longest (a value that would not fit is cut). */
struct journal_fields {
    struct iovec iov[12];
    unsigned n;
    size_t used;
    char buf[2 * LINE_CAP + 512];
};

static void journal_add(struct journal_fields *j, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void journal_add(struct journal_fields *j, const char *fmt, ...)
{
    size_t room = sizeof(j->buf) - j->used;
    if (j->n == sizeof(j->iov) / sizeof(j->iov[0]) || room < 2)
        return;
    va_list ap;
    va_start(ap, fmt);
    int l = vsnprintf(j->buf + j->used, room, fmt, ap);
    va_end(ap);
    size_t len = l < 0 ? 0 : (size_t)l < room ? (size_t)l : room - 1;
    j->iov[j->n++] = (struct iovec){j->buf + j->used, len};
    j->used += len;
}

void log_access(const struct log_access_entry *e)
{
    char remote[INET6_ADDRSTRLEN + 16], m[ACCESS_METHOD_MAX], t[ACCESS_TARGET_MAX],
        ref[ACCESS_FIELD_MAX], ua[ACCESS_FIELD_MAX];
    log_peer(remote, sizeof(remote), e->addr, e->port, e->v6);
    m[log_escape(m, sizeof(m), e->method, e->method_len)] = '\0';
    t[log_escape(t, sizeof(t), e->target, e->target_len)] = '\0';
    ref[log_escape(ref, sizeof(ref), e->referer, e->referer_len)] = '\0';
    ua[log_escape(ua, sizeof(ua), e->user_agent, e->user_agent_len)] = '\0';

    /* the line after the prefix standard error would want: the journal
     * takes it from there, standard error with the prefix */
    char buf[LINE_CAP + 1];
    size_t p = prefix(buf, LOG_INFO);
    char *line = buf + p;
    int l = snprintf(line, LINE_CAP - p, "%s \"%s %s HTTP/1.%d\" %d %llu %lluus \"%s\" \"%s\"",
                     remote, m, t, e->version == 10 ? 0 : 1, e->status,
                     (unsigned long long)e->bytes, (unsigned long long)e->duration_us, ref, ua);
    size_t n = l < 0 ? 0 : (size_t)l < LINE_CAP - p ? (size_t)l : LINE_CAP - p - 1;
    if (journal_native) {
        struct journal_fields j = {.n = 0, .used = 0};
        journal_add(&j, "MESSAGE=%s", line);
        journal_add(&j, "PRIORITY=%d", LOG_INFO);
        journal_add(&j, "SYSLOG_IDENTIFIER=pyserved");
        journal_add(&j, "REMOTE_ADDR=%s", e->addr);
        if (e->port) /* none for a unix socket's client */
            journal_add(&j, "REMOTE_PORT=%u", e->port);
        journal_add(&j, "REQUEST_METHOD=%s", m);
        journal_add(&j, "REQUEST_PATH=%s", t);
        journal_add(&j, "STATUS=%d", e->status);
        journal_add(&j, "BYTES=%llu", (unsigned long long)e->bytes);
        journal_add(&j, "DURATION_US=%llu", (unsigned long long)e->duration_us);
        if (e->referer)
            journal_add(&j, "HTTP_REFERER=%s", ref);
        if (e->user_agent)
            journal_add(&j, "HTTP_USER_AGENT=%s", ua);
        if (sd_journal_sendv(j.iov, (int)j.n) >= 0)
            return;
    }
    write_line(buf, p + n);
}
