/* Response heads and error bodies. Field order follows common practice
 * (Server, Date first); every response carries Content-Length so that
 * persistent connections stay framed (RFC 9112 section 6.3). */
#include "config.h"

#include "http_resp.h"

#include <errno.h>
#include <string.h>

#include "httpdate.h"

const char *http_status_reason(int status)
{
    switch (status) {
    case 200: return "OK";
    case 204: return "No Content";
    case 206: return "Partial Content";
    case 301: return "Moved Permanently";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 412: return "Precondition Failed";
    case 414: return "URI Too Long";
    case 416: return "Range Not Satisfiable";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    case 505: return "HTTP Version Not Supported";
    default: return "Unknown";
    }
}

/* Appending writer that remembers overflow instead of checking each call. */
struct wbuf {
    char *p;
    size_t n, cap;
    bool overflow;
};

/* inlined, so that the lengths of the literal pieces are known at compile
 * time (strlen was 0.4% of the server's CPU on small keep-alive requests) */
static inline __attribute__((always_inline)) void put(struct wbuf *w, const char *s, size_t n)
{
    if (w->overflow || n > w->cap - w->n) {
        w->overflow = true;
        return;
    }
    memcpy(w->p + w->n, s, n);
    w->n += n;
}

static inline __attribute__((always_inline)) void puts_(struct wbuf *w, const char *s)
{
    put(w, s, strlen(s));
}

static void put_u64(struct wbuf *w, uint64_t v)
{
    char tmp[20];
    size_t i = sizeof(tmp);
    do {
        tmp[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    put(w, tmp + i, sizeof(tmp) - i);
}

int http_resp_head(char *out, size_t cap, const struct resp_head *h, const char *date)
{
    struct wbuf w = {out, 0, cap, false};
    char lm[PS_HTTP_DATE_LEN + 1];

    puts_(&w, "HTTP/1.1 ");
    put_u64(&w, (uint64_t)h->status);
    put(&w, " ", 1);
    puts_(&w, http_status_reason(h->status));
    puts_(&w, h->server_tokens ? "\r\nServer: " PS_SERVER_NAME "\r\nDate: "
                               : "\r\nServer: " PS_SERVER_PRODUCT "\r\nDate: ");
    put(&w, date, PS_HTTP_DATE_LEN);
    if (h->content_type) {
        puts_(&w, "\r\nContent-Type: ");
        puts_(&w, h->content_type);
    }
    if (!h->no_length) {
        puts_(&w, "\r\nContent-Length: ");
        put_u64(&w, h->content_length);
    }
    if (h->content_range) {
        puts_(&w, "\r\nContent-Range: bytes ");
        if (h->range_unsatisfied) {
            put(&w, "*", 1);
        } else {
            put_u64(&w, h->range_first);
            put(&w, "-", 1);
            put_u64(&w, h->range_last);
        }
        put(&w, "/", 1);
        put_u64(&w, h->range_size);
    }
    if (h->content_encoding) {
        puts_(&w, "\r\nContent-Encoding: ");
        puts_(&w, h->content_encoding);
    }
    if (h->has_last_modified) {
        if (!h->last_modified_str)
            ps_http_date_format(h->last_modified, lm);
        puts_(&w, "\r\nLast-Modified: ");
        put(&w, h->last_modified_str ? h->last_modified_str : lm, PS_HTTP_DATE_LEN);
    }
    if (h->etag) {
        puts_(&w, "\r\nETag: ");
        put(&w, h->etag, h->etag_len);
    }
    if (h->accept_ranges)
        puts_(&w, "\r\nAccept-Ranges: bytes");
    if (h->vary_accept_encoding)
        puts_(&w, "\r\nVary: Accept-Encoding");
    if (h->cache_control) {
        puts_(&w, "\r\nCache-Control: ");
        puts_(&w, h->cache_control);
    }
    if (h->location) {
        puts_(&w, "\r\nLocation: ");
        put(&w, h->location, h->location_len);
    }
    if (h->nosniff)
        puts_(&w, "\r\nX-Content-Type-Options: nosniff");
    if (h->allow)
        puts_(&w, "\r\nAllow: GET, HEAD, OPTIONS");
    if (h->close)
        puts_(&w, "\r\nConnection: close");
    else if (h->keep_alive)
        puts_(&w, "\r\nConnection: keep-alive");
    puts_(&w, "\r\n\r\n");
    return w.overflow ? -ENOSPC : (int)w.n;
}

int http_error_body(char *out, size_t cap, int status, bool server_tokens)
{
    struct wbuf w = {out, 0, cap, false};
    const char *reason = http_status_reason(status);

    puts_(&w, "<!DOCTYPE html>\n<html><head><title>");
    put_u64(&w, (uint64_t)status);
    put(&w, " ", 1);
    puts_(&w, reason);
    puts_(&w, "</title></head>\n<body><h1>");
    put_u64(&w, (uint64_t)status);
    put(&w, " ", 1);
    puts_(&w, reason);
    puts_(&w, "</h1><hr><p>");
    puts_(&w, server_tokens ? PS_SERVER_NAME : PS_SERVER_PRODUCT);
    puts_(&w, "</p></body></html>\n");
    return w.overflow ? -ENOSPC : (int)w.n;
}
