/* Daemon logging. When stderr is the journal (JOURNAL_STREAM names it),
 * natively with sd_journal_send() and structured fields (access lines carry
 * REMOTE_ADDR, REQUEST_METHOD, REQUEST_PATH, STATUS, BYTES, DURATION_US);
 * should that fail, "<N>"-prefixed stderr lines (sd-daemon(3)); plain
 * "pyserved: " lines on a terminal. One write per line, so lines from
 * several threads never interleave. */
#ifndef PS_LOG_H
#define PS_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <syslog.h>

/* Decide the output format once, at start-up. native false: no
 * sd_journal_send(), "<N>" lines on the journal's stream instead (for a
 * process that exits at once: journald attributes a datagram from a
 * process already gone to no unit, while the stream systemd opened for
 * the unit carries it). */
void log_init(bool native);

/* One line; control characters in the message are written as \xHH. */
void log_msg(int prio, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A message that can come once per request or connection (out of
 * descriptors or memory: a client retrying makes hundreds a second) is
 * let through at most once a second, so that it does not bury the rest of
 * the log or cost as much as the requests; the next line tells how many
 * were held back. Zeroed to start; not locked: one per thread. */
struct log_limit {
    uint64_t last_ms;         /* when a line was last let through */
    unsigned long suppressed; /* held back since */
    bool logged;              /* one was let through */
};

/* One line as log_msg, unless another went through l less than a second
 * before now_ms (a monotonic clock); after lines were held back, the line
 * ends with " (N more like it not logged)". Returns whether it was logged. */
bool log_limited(struct log_limit *l, uint64_t now_ms, int prio, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* A client as the log names it: ADDR:PORT, [ADDR]:PORT for IPv6, or ADDR
 * alone without a port (0: a unix socket's client, "unix:", or none known,
 * "-"). */
void log_peer(char *out, size_t cap, const char *addr, unsigned port, bool v6);

/* Copy s[0..n) into out (at most cap - 1 bytes, not terminated), escaping
 * what could forge a log line or confuse a terminal: controls, '"', '\\'
 * and non-ASCII as \xHH; NULL gives "-". Returns the length written. For
 * bytes from a request: its method and target, a path. */
size_t log_escape(char *out, size_t cap, const char *s, size_t n);

/* One request for the access log. A NULL string is logged as "-". */
struct log_access_entry {
    const char *addr; /* the client's address alone (log_peer) */
    unsigned port;    /* 0: none (a unix socket's client) */
    bool v6;
    const char *method, *target, *referer, *user_agent;
    size_t method_len, target_len, referer_len, user_agent_len;
    int version; /* 10 or 11 */
    int status;
    uint64_t bytes; /* all that was sent, head and body */
    uint64_t duration_us;
};

/* One access-log line, as nginx's "combined" format has the request's
 * Referer and User-Agent:
 *   ADDR:PORT "METHOD TARGET VERSION" STATUS BYTES DURATIONus "REFERER" "USER_AGENT"
 * (the client as log_peer gives it). Unsafe bytes in the parts taken from
 * the request are escaped, and each is cut to a bound. In the journal:
 * REMOTE_ADDR (no port), REMOTE_PORT (when there is one), REQUEST_METHOD,
 * REQUEST_PATH, STATUS, BYTES, DURATION_US, and HTTP_REFERER and
 * HTTP_USER_AGENT when the request had them. */
void log_access(const struct log_access_entry *e);

#endif
