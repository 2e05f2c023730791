/* Content-Range (RFC 9110 section 14.4) and the checks --continue makes on
 * a 206 or 416 answer. Pure. */
#ifndef PSC_RANGES_H
#define PSC_RANGES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct content_range {
    bool unsatisfied;     /* "bytes * / complete" (of a 416) */
    uint64_t first, last; /* inclusive; unset when unsatisfied */
    bool complete_known;  /* false for "/ *" */
    uint64_t complete;    /* the representation's length */
};

/* Parse a Content-Range value v[0..n): "bytes FIRST-LAST/COMPLETE",
 * "bytes FIRST-LAST/ *" or "bytes * /COMPLETE" (without the spaces around
 * '/'). Returns 0 or -EINVAL (malformed, FIRST > LAST, LAST >= COMPLETE). */
int content_range_parse(const char *v, size_t n, struct content_range *cr);

/* Is a 206 to a request without a Range field acceptable? Only when its
 * Content-Range (content_range, may be NULL) is "bytes 0-(N-1)/N", the
 * whole representation, and body_length (the Content-Length, UINT64_MAX
 * when unknown) is N: the body is then what a 200 would have carried. Any
 * other part, even one starting at 0, would be stored as the whole file,
 * or appended by -C at a byte it does not belong to. */
bool range_unasked_whole(const char *content_range, size_t cr_len, uint64_t body_length);

enum resume_verdict {
    RESUME_APPEND,      /* a 206 that starts at the offset: append */
    RESUME_COMPLETE,    /* a 416 saying the remote length is the offset */
    RESUME_IGNORED,     /* a 2xx other than 206: the range was not honoured */
    RESUME_MISMATCH,    /* a 206 at another offset, or without a valid Content-Range */
    RESUME_BAD_LENGTH,  /* a 206 at the offset whose Content-Length is not the range's */
    RESUME_UNSATISFIED, /* a 416 otherwise (local file longer, or no length) */
    RESUME_OTHER,       /* any other status: not about the range */
};

/* What a response to "Range: bytes=OFFSET-" means for the local file.
 * content_range may be NULL (field absent). body_length is the
 * Content-Length, or UINT64_MAX when unknown; a 206 whose length differs
 * from the range it claims is RESUME_BAD_LENGTH. */
enum resume_verdict resume_check(int status, uint64_t offset, const char *content_range,
                                 size_t cr_len, uint64_t body_length);

#endif
