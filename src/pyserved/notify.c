/* sd_notify wrappers. RELOADING=1 carries MONOTONIC_USEC so that systemd
 * versions with Type=notify-reload accept it (sd_notify(3)). The periodic
 * messages (STATUS=, WATCHDOG=1) are sent without blocking: sd_notify()
 * blocks when the receiver's queue is full, and a main thread stuck there
 * would handle no signal. */
#include "config.h"

#include "notify.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <systemd/sd-daemon.h>
#include <time.h>
#include <unistd.h>

#include "monoclock.h"

/* Send one datagram to NOTIFY_SOCKET (a path or an abstract "@name") with
 * MSG_DONTWAIT; a full queue drops it. */
static void notify_nonblocking(const char *msg)
{
    const char *e = getenv("NOTIFY_SOCKET");
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    size_t n;
    if (!e || (e[0] != '/' && e[0] != '@') || (n = strlen(e)) >= sizeof(sa.sun_path))
        return;
    memcpy(sa.sun_path, e, n);
    if (sa.sun_path[0] == '@')
        sa.sun_path[0] = '\0';
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return;
    ssize_t r = sendto(fd, msg, strlen(msg), MSG_DONTWAIT | MSG_NOSIGNAL, (struct sockaddr *)&sa,
                       (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n));
    (void)r;
    close(fd);
}

void notify_watchdog(void)
{
    notify_nonblocking("WATCHDOG=1");
}

void notify_ready(void)
{
    sd_notify(0, "READY=1");
}

void notify_reloading(void)
{
    sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%llu", (unsigned long long)ps_mono_us());
}

void notify_stopping(uint64_t shutdown_timeout_ms)
{
    /* The stop may take shutdown_timeout, which can be above the unit's
     * TimeoutStopSec=: ask for that long and a margin, or systemd would
     * SIGKILL responses that were allowed to finish (sd_notify(3); a
     * shorter extension than TimeoutStopSec= changes nothing). */
    sd_notifyf(0, "STOPPING=1\nEXTEND_TIMEOUT_USEC=%llu",
               (unsigned long long)(shutdown_timeout_ms + NOTIFY_STOP_MARGIN_MS) * 1000ull);
}

void notify_status(const char *fmt, ...)
{
    static char last[256 + 8];
    char buf[256 + 8];
    va_list ap;
    memcpy(buf, "STATUS=", 7);
    va_start(ap, fmt);
    vsnprintf(buf + 7, sizeof(buf) - 7, fmt, ap);
    va_end(ap);
    if (strcmp(buf + 7, last) == 0)
        return; /* only changes are news */
    snprintf(last, sizeof(last), "%s", buf + 7);
    notify_nonblocking(buf);
}
