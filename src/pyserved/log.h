/* Daemon logging: to stderr, with sd-daemon "<N>" priority prefixes when
 * stderr is the journal (JOURNAL_STREAM), plain "pyserved: " lines otherwise.
 * One write(2) per line, so lines from several threads never interleave. */
#ifndef PS_LOG_H
#define PS_LOG_H

#include <stddef.h>
#include <stdint.h>
#include <syslog.h>

/* Decide the output format once, at start-up. */
void log_init(void);

void log_msg(int prio, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* One access-log line: REMOTE "METHOD TARGET VERSION" STATUS BYTES DURATIONus.
 * method/target may be NULL ("-"); unsafe bytes in them are escaped. */
void log_access(const char *remote, const char *method, size_t method_len, const char *target,
                size_t target_len, int version, int status, uint64_t bytes, uint64_t duration_us);

#endif
