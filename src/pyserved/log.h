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

/* Decide the output format once, at start-up. */
void log_init(void);

/* One line; control characters in the message are written as \xHH. */
void log_msg(int prio, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Copy s[0..n) into out (at most cap - 1 bytes, not terminated), escaping
 * what could forge a log line or confuse a terminal: controls, '"', '\\'
 * and non-ASCII as \xHH; NULL gives "-". Returns the length written. For
 * bytes from a request: its method and target, a path. */
size_t log_escape(char *out, size_t cap, const char *s, size_t n);

/* One access-log line: ADDR:PORT "METHOD TARGET VERSION" STATUS BYTES
 * DURATIONus (IPv6 addresses in brackets). BYTES counts all that was sent,
 * head and body. method/target may be NULL ("-"); unsafe bytes in them are
 * escaped. In the journal: REMOTE_ADDR (no port), REMOTE_PORT,
 * REQUEST_METHOD, REQUEST_PATH, STATUS, BYTES, DURATION_US fields. */
void log_access(const char *addr, unsigned port, bool v6, const char *method, size_t method_len,
                const char *target, size_t target_len, int version, int status, uint64_t bytes,
                uint64_t duration_us);

#endif
