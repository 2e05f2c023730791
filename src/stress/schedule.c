/* Open-loop schedule arithmetic (see schedule.h). */
#include "schedule.h"

#define NS_PER_S UINT64_C(1000000000)

uint64_t sched_due_ns(const struct sched *s, uint32_t conn, uint64_t k)
{
    /* n / rate seconds, split so that nothing overflows: n = q * rate + r
     * with r < rate <= 1e8, so r * 1e9 < 1e17. */
    uint64_t n = k * s->nconns + conn;
    uint64_t q = n / s->rate, r = n % s->rate;
    return s->t0_ns + q * NS_PER_S + r * NS_PER_S / s->rate;
}

uint64_t sched_sendable(const struct sched *s, uint32_t conn, uint64_t k, uint64_t now_ns,
                        uint64_t room)
{
    /* room is the pipeline depth (at most a few hundred): a direct count */
    uint64_t n = 0;
    while (n < room && sched_due_ns(s, conn, k + n) <= now_ns)
        n++;
    return n;
}

void sched_latency(uint64_t due_ns, uint64_t sent_ns, uint64_t done_ns, uint64_t *corrected,
                   uint64_t *uncorrected)
{
    uint64_t from = due_ns < sent_ns ? due_ns : sent_ns;
    *corrected = done_ns > from ? done_ns - from : 0;
    *uncorrected = done_ns > sent_ns ? done_ns - sent_ns : 0;
}
