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

void log_access(const char *addr, unsigned port, bool v6, const char *method, size_t method_len,
                const char *target, size_t target_len, int version, int status, uint64_t bytes,
                uint64_t duration_us)
{
    char buf[LINE_CAP + 1], remote[INET6_ADDRSTRLEN + 16];
    log_peer(remote, sizeof(remote), addr, port, v6);

    if (journal_native) {
        char m[80], t[LINE_CAP / 2];
        size_t ml = log_escape(m, sizeof(m), method, method_len);
        size_t tl = log_escape(t, sizeof(t), target, target_len);
        m[ml] = '\0';
        t[tl] = '\0';
        if (sd_journal_send("MESSAGE=%s \"%s %s HTTP/1.%d\" %d %llu %lluus", remote, m, t,
                            version == 10 ? 0 : 1, status, (unsigned long long)bytes,
                            (unsigned long long)duration_us,
                            "PRIORITY=%d", LOG_INFO, "SYSLOG_IDENTIFIER=pyserved",
                            "REMOTE_ADDR=%s", addr, "REQUEST_METHOD=%s", m,
                            "REQUEST_PATH=%s", t, "STATUS=%d", status, "BYTES=%llu",
                            (unsigned long long)bytes, "DURATION_US=%llu",
                            (unsigned long long)duration_us,
                            /* last: without a port, NULL ends the list here */
                            port ? "REMOTE_PORT=%u" : NULL, port, NULL) >= 0)
            return;
    }
    size_t n = prefix(buf, LOG_INFO);
    n += (size_t)snprintf(buf + n, LINE_CAP - n, "%s \"", remote);
    n += log_escape(buf + n, 64, method, method_len);
    if (n < LINE_CAP)
        buf[n++] = ' ';
    n += log_escape(buf + n, LINE_CAP - n - 96, target, target_len);
    n += (size_t)snprintf(buf + n, LINE_CAP - n, " HTTP/1.%d\" %d %llu %lluus",
                          version == 10 ? 0 : 1, status, (unsigned long long)bytes,
                          (unsigned long long)duration_us);
    if (n > LINE_CAP - 1)
        n = LINE_CAP - 1;
    write_line(buf, n);
}
