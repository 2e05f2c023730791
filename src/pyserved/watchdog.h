/* The systemd watchdog (WatchdogSec=): WATCHDOG=1 only while every worker
 * makes progress. Each check wakes every worker (worker_pool_poke); a
 * worker whose loop counter has not moved by the next check did not get
 * back to its event loop in a whole interval, i.e. it is stuck, and the
 * missing pings let systemd restart the service. Run by the main thread. */
#ifndef PS_WATCHDOG_H
#define PS_WATCHDOG_H

#include <stdbool.h>
#include <stdint.h>

struct server;

struct watchdog {
    uint64_t interval_ms; /* 0: not asked for */
    uint64_t next_ms;
    unsigned long *seen;
    bool *stalled;
};

/* Set up from sd_watchdog_enabled(3): not asked for, the others do nothing. */
void watchdog_init(struct watchdog *wd, struct server *srv);

/* Check the workers if an interval has passed: WATCHDOG=1 when each made
 * progress since the last check, an error logged for one that did not. */
void watchdog_check(struct watchdog *wd, struct server *srv);

/* Milliseconds until the next check is due (at most 5000). */
int watchdog_timeout(const struct watchdog *wd);

void watchdog_free(struct watchdog *wd);

#endif
