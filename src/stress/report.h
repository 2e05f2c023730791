/* The result of a pyserve-stress run: a wrk-like summary for people and a
 * JSON document for scripts. Formatting only. */
#ifndef STRESS_REPORT_H
#define STRESS_REPORT_H

#include <stdint.h>
#include <stdio.h>

#include "opts.h"
#include "stats.h"

struct stress_result {
    const struct stress_opts *o;
    const char *target; /* the first URL, as given */
    unsigned nurls;     /* entries in the mix */
    unsigned threads;
    uint64_t measured_ns;         /* from the end of --warmup to the end */
    uint64_t wall_ns;             /* from the first connect to the end */
    const struct stress_stats *s; /* all threads merged */
    int interrupted;              /* stopped by a signal */
};

/* The percentiles every report lists. */
extern const double stress_report_percentiles[];
extern const unsigned stress_report_npercentiles;

void stress_report_text(FILE *f, const struct stress_result *r);
void stress_report_json(FILE *f, const struct stress_result *r);

/* "1.23ms"-style duration of ns nanoseconds into buf (wrk's units). */
const char *stress_fmt_time(char *buf, size_t sz, double ns);

#endif
