/* Validators, conditional requests (RFC 9110 section 13), byte ranges
 * (section 14) and content-coding negotiation (section 12.5.3). Pure: slices
 * of a parsed request in, decisions out. */
#ifndef PS_HTTP_COND_H
#define PS_HTTP_COND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <time.h>

#include "http_parse.h"

#define HTTP_ETAG_MAX 64

/* Strong entity-tag of a file version, quoted: "inode-size-ctime_ns" in
 * hex (the change time moves with every write, also one whose old mtime is
 * put back). Returns its length. */
size_t http_etag(const struct stat *st, char out[HTTP_ETAG_MAX]);

/* Evaluate If-Match, If-Unmodified-Since, If-None-Match and
 * If-Modified-Since in the order of RFC 9110 section 13.2.2 for a GET or
 * HEAD of a representation with this etag and Last-Modified time.
 * Returns 200 (go on), 304 or 412. */
int http_conditional(const struct http_request *r, const char *etag, size_t etag_len,
                     time_t last_modified);

/* If-Range (section 13.1.5): true when absent or when it still matches
 * (strong comparison of an entity-tag, or an exactly equal date while
 * date_strong: the date may stand for the bytes, see respond.c). */
bool http_if_range(struct ps_slice if_range, const char *etag, size_t etag_len,
                   time_t last_modified, bool date_strong);

struct byte_range {
    uint64_t first, last; /* inclusive */
};

enum range_result {
    RANGE_NONE = 0,        /* no Range, not bytes, malformed, or too many: send 200 */
    RANGE_OK,              /* *n satisfiable ranges in out */
    RANGE_UNSATISFIABLE,   /* 416 with Content-Range: bytes * / size */
};

/* Parse a Range field value for a representation of size bytes into out
 * (room for max entries). Overlapping or adjacent ranges are merged as they
 * are read (then the result is sorted by offset; otherwise the requested
 * order is kept); holding more than max distinct ranges at any point while
 * reading, or more than 1024 range-specs at all, gives RANGE_NONE, so
 * thousands of tiny ranges cannot amplify a response. A suffix range on an
 * empty representation is RANGE_NONE (200, empty). */
enum range_result http_range_parse(struct ps_slice v, uint64_t size, struct byte_range *out,
                                   unsigned max, unsigned *n);

enum coding {
    CODING_IDENTITY = 0,
    CODING_GZIP = 1,
    CODING_BR = 2,
};

/* The q-value (0..1000) Accept-Encoding gives a coding, taking "*" into
 * account. Without a mention (or without the field) br and gzip get 0 (we
 * only send precompressed variants the client asked for) and identity 1000
 * (RFC 9110 12.5.3). */
unsigned http_coding_q(struct ps_slice accept_encoding, enum coding c);

#endif
