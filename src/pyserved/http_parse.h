/* HTTP/1.x request-head parser (RFC 9112). Pure: bytes in, a struct of
 * slices into those bytes out; no allocation, no I/O, no logging. The caller
 * keeps the buffer alive while it uses the request. */
#ifndef PS_HTTP_PARSE_H
#define PS_HTTP_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ps_slice {
    const char *p;
    size_t n;
};

enum http_method {
    HTTP_M_UNKNOWN = 0, /* a valid token we do not know: 501 */
    HTTP_M_GET,
    HTTP_M_HEAD,
    HTTP_M_POST,
    HTTP_M_PUT,
    HTTP_M_DELETE,
    HTTP_M_CONNECT,
    HTTP_M_OPTIONS,
    HTTP_M_TRACE,
    HTTP_M_PATCH,
};

enum http_target_form {
    HTTP_T_ORIGIN = 0, /* "/path?query" */
    HTTP_T_ABSOLUTE,   /* "http://host/path?query" (RFC 9112 section 3.2.2) */
    HTTP_T_ASTERISK,   /* "*" */
    HTTP_T_OTHER,      /* authority-form or anything else */
};

struct http_limits {
    size_t max_head;    /* whole head, request line included: else 431 */
    size_t max_uri;     /* request-target length: else 414 */
    unsigned max_headers; /* number of header fields: else 431 */
};

struct http_request {
    enum http_method method;
    struct ps_slice method_name;
    enum http_target_form form;
    struct ps_slice target; /* raw request-target */
    struct ps_slice path;   /* raw (still percent-encoded) path, no query */
    struct ps_slice query;  /* after '?', without it; n == 0 if none */
    int version;            /* 10 or 11 */
    struct ps_slice host;   /* absolute-form authority, else Host field */
    bool has_host_field;
    bool keep_alive;        /* from version and Connection (RFC 9112 9.3) */
    bool has_body;          /* Content-Length > 0 or Transfer-Encoding */
    uint64_t content_length;
    unsigned nheaders;
    /* Fields later stages use; n == 0 when absent. Of a field given in
     * more than one line, the first line, and its HTTP_REP_* bit in
     * repeated. */
    struct ps_slice if_modified_since;
    struct ps_slice if_none_match;
    struct ps_slice if_match;
    struct ps_slice if_unmodified_since;
    struct ps_slice range;
    struct ps_slice if_range;
    struct ps_slice accept_encoding;
    struct ps_slice user_agent;
    struct ps_slice referer;
    unsigned repeated;      /* HTTP_REP_* */
    struct ps_slice fields; /* all the field lines, each with its line end */
};

/* Bits of http_request.repeated. Several lines of a list field are one
 * list (RFC 9110 section 5.3): If-Match and If-None-Match are looked for
 * again in fields. The others hold one value: several lines of them make
 * an invalid value. */
enum {
    HTTP_REP_IF_MATCH = 1u << 0,
    HTTP_REP_IF_NONE_MATCH = 1u << 1,
    HTTP_REP_IF_MODIFIED_SINCE = 1u << 2,
    HTTP_REP_IF_UNMODIFIED_SINCE = 1u << 3,
    HTTP_REP_IF_RANGE = 1u << 4,
    HTTP_REP_RANGE = 1u << 5,
};

/* Return values of http_parse_request besides a positive head length. */
#define HTTP_PARSE_AGAIN 0

/* Parse one request head from buf[0..len). Returns:
 *   > 0  the head is complete; the value is its length in bytes (the next
 *        pipelined request starts there); *req is filled in;
 *   0    (HTTP_PARSE_AGAIN) incomplete: read more and call again with the
 *        whole buffer; when len already reached lim->max_head the parser
 *        returns -431 (or -414 while still inside the request line) instead;
 *   < 0  minus the HTTP status to answer before closing: -400 (syntax,
 *        missing or repeated Host on HTTP/1.1, bad Content-Length, both
 *        Content-Length and Transfer-Encoding), -414, -431, -505 (a
 *        well-formed version other than 1.0/1.1), -501 (Transfer-Encoding
 *        other than chunked).
 * Whatever the result, req->method is the request line's method once its
 * token and the space after it were read (else HTTP_M_UNKNOWN): a refused
 * HEAD is still answered without a body.
 * Method semantics (405/501 for methods) are the caller's: the parser only
 * classifies the method token. Empty lines before the request line are
 * skipped (RFC 9112 section 2.2); a bare LF ends a line as CRLF does. */
int http_parse_request(const char *buf, size_t len, const struct http_limits *lim,
                       struct http_request *req);

/* Cheap check, before parsing again, whether buf[0..len) holds the end of a
 * head ("\n\n" or "\n\r\n"). *scan is where the previous call stopped
 * (start with 0, reset when the buffer is consumed). Returns the offset just
 * past the terminator, or 0 when none was seen yet. Empty lines before the
 * request line are not a terminator. A hit is a hint only: the parser has
 * the last word. */
size_t http_head_complete(const char *buf, size_t len, size_t *scan);

/* Case-insensitive comparison of a slice with a NUL-terminated lowercase
 * ASCII string. */
bool ps_slice_eq_lower(struct ps_slice s, const char *lower);

#endif
