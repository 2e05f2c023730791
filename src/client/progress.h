/* The progress line pyserve-client draws on a terminal: a bar, bytes,
 * rate and time left when the length is known; bytes, rate and time so far
 * when it is not. Pure formatting; the caller writes and times it. */
#ifndef PSC_PROGRESS_H
#define PSC_PROGRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PROGRESS_MIN_BYTES   (1024 * 1024) /* smaller bodies get no progress line */
#define PROGRESS_INTERVAL_MS 200

/* "999 B", "1.5 KiB", "12.0 MiB"... into out (at least 16 bytes). */
void progress_size(uint64_t bytes, char *out, size_t outsz);

/* "0:07", "12:34", "1:02:03"; "--:--" for UINT64_MAX. */
void progress_time(uint64_t seconds, char *out, size_t outsz);

/* One progress line (no '\r' or '\n') of at most width - 1 columns (width
 * at least 20 is assumed; less gives the text without a bar). total is
 * UINT64_MAX when unknown. final: the transfer ended (time taken instead
 * of time left). Returns the length. */
size_t progress_format(char *out, size_t outsz, unsigned width, uint64_t done, uint64_t total,
                       uint64_t elapsed_ms, bool final);

#endif
