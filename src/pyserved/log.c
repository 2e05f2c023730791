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
#include <systemd/sd-journal.h>
#include <unistd.h>

static bool journal_prefix; /* stderr is the journal: "<N>" prefixes */
static bool journal_native; /* ... and sd_journal_send() is used first */

void log_init(void)
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
    journal_native = journal_prefix;
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

void log_msg(int prio, const char *fmt, ...)
{
    char buf[LINE_CAP + 1];
    va_list ap;

    if (journal_native) {
        va_start(ap, fmt);
        vsnprintf(buf, LINE_CAP, fmt, ap);
        va_end(ap);
        if (sd_journal_send("MESSAGE=%s", buf, "PRIORITY=%d", prio & 7,
                            "SYSLOG_IDENTIFIER=pyserved", NULL) >= 0)
            return;
    }
    size_t n = prefix(buf, prio);
    va_start(ap, fmt);
    int m = vsnprintf(buf + n, LINE_CAP - n, fmt, ap);
    va_end(ap);
    if (m < 0)
        m = 0;
    n += (size_t)m;
    if (n > LINE_CAP - 1)
        n = LINE_CAP - 1;
    write_line(buf, n);
}

/* Copy s into out, escaping bytes that could forge a log line or confuse a
 * terminal: controls, '"', '\\' and non-ASCII as \xHH. */
static size_t escape(char *out, size_t cap, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    if (!s) {
        if (cap > 0)
            out[o++] = '-';
        return o;
    }
    for (size_t i = 0; i < n && o + 4 < cap; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\') {
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

void log_access(const char *addr, unsigned port, bool v6, const char *method, size_t method_len,
                const char *target, size_t target_len, int version, int status, uint64_t bytes,
                uint64_t duration_us)
{
    char buf[LINE_CAP + 1], remote[INET6_ADDRSTRLEN + 16];
    snprintf(remote, sizeof(remote), v6 ? "[%s]:%u" : "%s:%u", addr, port);

    if (journal_native) {
        char m[80], t[LINE_CAP / 2];
        size_t ml = escape(m, sizeof(m), method, method_len);
        size_t tl = escape(t, sizeof(t), target, target_len);
        m[ml] = '\0';
        t[tl] = '\0';
        if (sd_journal_send("MESSAGE=%s \"%s %s HTTP/1.%d\" %d %llu %lluus", remote, m, t,
                            version == 10 ? 0 : 1, status, (unsigned long long)bytes,
                            (unsigned long long)duration_us,
                            "PRIORITY=%d", LOG_INFO, "SYSLOG_IDENTIFIER=pyserved",
                            "REMOTE_ADDR=%s", addr, "REMOTE_PORT=%u", port, "REQUEST_METHOD=%s", m,
                            "REQUEST_PATH=%s", t, "STATUS=%d", status, "BYTES=%llu",
                            (unsigned long long)bytes, "DURATION_US=%llu",
                            (unsigned long long)duration_us, NULL) >= 0)
            return;
    }
    size_t n = prefix(buf, LOG_INFO);
    n += (size_t)snprintf(buf + n, LINE_CAP - n, "%s \"", remote);
    n += escape(buf + n, 64, method, method_len);
    if (n < LINE_CAP)
        buf[n++] = ' ';
    n += escape(buf + n, LINE_CAP - n - 96, target, target_len);
    n += (size_t)snprintf(buf + n, LINE_CAP - n, " HTTP/1.%d\" %d %llu %lluus",
                          version == 10 ? 0 : 1, status, (unsigned long long)bytes,
                          (unsigned long long)duration_us);
    if (n > LINE_CAP - 1)
        n = LINE_CAP - 1;
    write_line(buf, n);
}
