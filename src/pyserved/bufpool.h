/* A worker's pool of I/O buffers, all of one size, so that the steady state
 * allocates nothing. A burst (a thousand requests at once) can fill it, and
 * its buffers would then keep their memory long after the burst. So the
 * buffers are whole pages, and a pooled buffer can give its pages back while
 * it stays in the pool (bufpool_trim). */
#ifndef PS_BUFPOOL_H
#define PS_BUFPOOL_H

#include <stddef.h>

struct bufpool {
    char **v;         /* a stack: v[n - 1] is the next one out */
    unsigned n, cap;
    unsigned nclean;  /* v[0, nclean) gave their pages back; v[nclean, n) did not */
    unsigned low;     /* the least n since the last trim */
    unsigned freed;   /* buffers freed since the last trim because the pool was full */
    size_t bytes;     /* the size of each buffer: whole pages */
};

/* An empty pool for at most cap buffers of at least bytes bytes each.
 * Returns 0, or -ENOMEM. */
int bufpool_init(struct bufpool *p, unsigned cap, size_t bytes);

/* A buffer of p->bytes bytes, page-aligned, contents undefined (zeroed
 * pages if it gave them back); NULL when out of memory. */
char *bufpool_get(struct bufpool *p);

/* Give b (from bufpool_get, of this pool's size) back; freed if the pool is
 * full. */
void bufpool_put(struct bufpool *p, char *b);

/* Buffers below the low-water mark were not taken since the last trim: of
 * those, all but the keep nearest the top give their pages back
 * (MADV_DONTNEED), at most most of them, the lowest first (each is a
 * system call that may interrupt the other threads' CPUs to flush their
 * TLBs; the rest go at the next trim if still unused). If a burst overflowed the pool since the last trim, the
 * allocator is asked to give back the free pages it kept (malloc_trim).
 * Starts the next period. Returns how many buffers gave their pages back. */
unsigned bufpool_trim(struct bufpool *p, unsigned keep, unsigned most);

/* Free the pooled buffers; new ones will have size bytes. */
void bufpool_resize(struct bufpool *p, size_t bytes);

/* Free the pooled buffers and the pool. */
void bufpool_free(struct bufpool *p);

#endif
