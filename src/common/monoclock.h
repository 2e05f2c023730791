/* Readings of the monotonic clock, for deadlines and durations: in
 * microseconds or milliseconds, and the coarse clock (a tick's precision,
 * no system call) where milliseconds of timer slack do not matter. */
#ifndef PS_MONOCLOCK_H
#define PS_MONOCLOCK_H

#include <stdint.h>
#include <time.h>

static inline uint64_t ps_mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static inline uint64_t ps_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static inline uint64_t ps_mono_coarse_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

#endif
