/* Service manager notifications (sd_notify(3)); no-ops without
 * NOTIFY_SOCKET. */
#ifndef PS_NOTIFY_H
#define PS_NOTIFY_H

#include <stdint.h>

void notify_ready(void);
void notify_reloading(void);
/* STOPPING=1 with EXTEND_TIMEOUT_USEC= of the shutdown timeout plus
 * NOTIFY_STOP_MARGIN_MS (closing and joining the workers after it). */
#define NOTIFY_STOP_MARGIN_MS 5000
void notify_stopping(uint64_t shutdown_timeout_ms);
void notify_watchdog(void);
void notify_status(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
