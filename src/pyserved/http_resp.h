/* Response heads and error bodies (RFC 9110/9112). Pure: writes into a
 * caller's buffer, no I/O, no allocation. */
#ifndef PS_HTTP_RESP_H
#define PS_HTTP_RESP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define PS_SERVER_PRODUCT "pyserve"
#define PS_SERVER_NAME PS_SERVER_PRODUCT "/" PACKAGE_VERSION

struct resp_head {
    int status;
    const char *content_type; /* NULL: no Content-Type field */
    uint64_t content_length;  /* sent unless no_length (also for HEAD) */
    bool no_length;           /* 304 and 204: no Content-Length */
    bool has_last_modified;   /* a Last-Modified field, */
    time_t last_modified;     /* with this date */
    const char *last_modified_str; /* the same, formatted already (or NULL) */
    const char *etag;         /* quoted entity-tag, NULL: none */
    size_t etag_len;
    bool accept_ranges;       /* "Accept-Ranges: bytes" */
    bool content_range;       /* "Content-Range: bytes FIRST-LAST/SIZE" */
    bool range_unsatisfied;   /* ... or "bytes * /SIZE" (416) */
    uint64_t range_first, range_last, range_size;
    const char *content_encoding; /* NULL: none */
    bool vary_accept_encoding;
    const char *cache_control; /* NULL: none */
    const char *location;     /* 301/302 target, NULL: none */
    size_t location_len;
    bool allow;               /* "Allow: GET, HEAD, OPTIONS" (405, OPTIONS) */
    bool close;               /* "Connection: close" */
    bool keep_alive;          /* "Connection: keep-alive" (an HTTP/1.0 client asked) */
    bool nosniff;             /* "X-Content-Type-Options: nosniff" */
    bool server_tokens;       /* "Server: pyserve/VERSION", else "Server: pyserve" */
};

/* Reason phrase for a status code ("Not Found"); "Unknown" if none. */
const char *http_status_reason(int status);

/* Write the head (status line, fields, empty line) into out[0..cap).
 * date is the 29-byte IMF-fixdate of now. Returns its length, or -ENOSPC
 * when it does not fit (nothing useful is left in out then). */
int http_resp_head(char *out, size_t cap, const struct resp_head *h, const char *date);

/* Write the short HTML body of an error response for status into
 * out[0..cap); its footer names the server, with the version when
 * server_tokens. Returns its length, or -ENOSPC. */
int http_error_body(char *out, size_t cap, int status, bool server_tokens);

#endif
