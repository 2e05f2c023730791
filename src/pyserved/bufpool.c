/* The I/O buffer pool: see bufpool.h. */
#include "config.h"

#include "bufpool.h"

#include <errno.h>
#ifdef HAVE_MALLOC_TRIM
#include <malloc.h>
#endif
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

static size_t page_size(void)
{
    long ps = sysconf(_SC_PAGESIZE);
    return ps > 0 ? (size_t)ps : 4096;
}

static size_t whole_pages(size_t bytes)
{
    size_t ps = page_size();
    return (bytes + ps - 1) / ps * ps;
}

int bufpool_init(struct bufpool *p, unsigned cap, size_t bytes)
{
    *p = (struct bufpool){.cap = cap, .bytes = whole_pages(bytes)};
    p->v = calloc(cap ? cap : 1, sizeof(*p->v));
    return p->v ? 0 : -ENOMEM;
}

char *bufpool_get(struct bufpool *p)
{
    if (p->n == 0)
        return aligned_alloc(page_size(), p->bytes);
    char *b = p->v[--p->n];
    if (p->nclean > p->n)
        p->nclean = p->n;
    if (p->low > p->n)
        p->low = p->n;
    return b;
}

void bufpool_put(struct bufpool *p, char *b)
{
    if (p->n < p->cap) {
        p->v[p->n++] = b;
    } else {
        free(b);
        p->freed++;
    }
}

unsigned bufpool_trim(struct bufpool *p, unsigned keep, unsigned most)
{
    unsigned given = 0;
    while (p->low > keep && p->nclean < p->low - keep && given < most) {
        (void)madvise(p->v[p->nclean++], p->bytes, MADV_DONTNEED);
        given++;
    }
    p->low = p->n;
    if (p->freed) {
        p->freed = 0;
#ifdef HAVE_MALLOC_TRIM
        malloc_trim(0);
#endif
    }
    return given;
}

static void drain(struct bufpool *p)
{
    while (p->n > 0)
        free(p->v[--p->n]);
    p->nclean = p->low = 0;
}

void bufpool_resize(struct bufpool *p, size_t bytes)
{
    drain(p);
    p->bytes = whole_pages(bytes);
}

void bufpool_free(struct bufpool *p)
{
    drain(p);
    free(p->v);
    p->v = NULL;
    p->cap = 0;
}
