/* The systemd watchdog: see watchdog.h. */
#include "config.h"

#include "watchdog.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-daemon.h>

#include "log.h"
#include "monoclock.h"
#include "notify.h"
#include "worker.h"

void watchdog_free(struct watchdog *wd)
{
    free(wd->seen);
    free(wd->stalled);
    wd->seen = NULL;
    wd->stalled = NULL;
}

void watchdog_init(struct watchdog *wd, struct server *srv)
{
    uint64_t usec = 0;
    memset(wd, 0, sizeof(*wd));
    if (sd_watchdog_enabled(0, &usec) <= 0 || usec == 0)
        return;
    wd->seen = calloc(srv->nworkers, sizeof(unsigned long));
    wd->stalled = calloc(srv->nworkers, sizeof(bool));
    if (!wd->seen || !wd->stalled) {
        watchdog_free(wd);
        log_msg(LOG_WARNING, "watchdog: out of memory; not pinging");
        return;
    }
    wd->interval_ms = usec / 3000 ? usec / 3000 : 1;
    wd->next_ms = ps_mono_ms() + wd->interval_ms;
    for (unsigned i = 0; i < srv->nworkers; i++)
        wd->seen[i] = atomic_load(&srv->workers[i].loops);
    worker_pool_poke(srv);
    log_msg(LOG_INFO, "watchdog: checking the workers every %llu ms",
            (unsigned long long)wd->interval_ms);
}

void watchdog_check(struct watchdog *wd, struct server *srv)
{
    if (!wd->interval_ms || ps_mono_ms() < wd->next_ms)
        return;
    wd->next_ms = ps_mono_ms() + wd->interval_ms;
    bool all = true;
    for (unsigned i = 0; i < srv->nworkers; i++) {
        unsigned long now = atomic_load(&srv->workers[i].loops);
        if (now == wd->seen[i]) {
            all = false;
            if (!wd->stalled[i])
                log_msg(LOG_ERR, "watchdog: worker %u made no progress in %llu ms; "
                                 "not confirming liveness",
                        i, (unsigned long long)wd->interval_ms);
            wd->stalled[i] = true;
        } else {
            wd->stalled[i] = false;
        }
        wd->seen[i] = now;
    }
    if (all)
        notify_watchdog();
    worker_pool_poke(srv);
}

int watchdog_timeout(const struct watchdog *wd)
{
    if (!wd->interval_ms)
        return 5000;
    uint64_t now = ps_mono_ms();
    return wd->next_ms <= now ? 0 : (int)(wd->next_ms - now < 5000 ? wd->next_ms - now : 5000);
}
