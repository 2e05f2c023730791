/* Service manager notifications (sd_notify(3)); no-ops without
 * NOTIFY_SOCKET. */
#ifndef PS_NOTIFY_H
#define PS_NOTIFY_H

void notify_ready(void);
void notify_reloading(void);
void notify_stopping(void);
void notify_watchdog(void);
void notify_status(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
