/* Answering a parsed request: method and target checks, the static file
 * (conditional requests, ranges, precompressed variants, Cache-Control),
 * directory listings and error responses. Fills in the connection's send
 * plan; conn_send.c sends it. */
#ifndef PS_RESPOND_H
#define PS_RESPOND_H

#include <stdbool.h>
#include <stddef.h>

struct conn;
struct http_request;

/* Plan the response to r on c (c->keep_alive, c->version... are set). */
void respond_request(struct conn *c, const struct http_request *r);

struct send_seg;

/* Write the multipart part header (or closing delimiter) that segment s
 * stands for into c's part area, when conn_send.c comes to send it. Returns its
 * length (as planned) or -ENOSPC. */
int respond_fill_part(struct conn *c, const struct send_seg *s);

/* Plan an error response (or a 301 with location) and its short HTML body
 * (no body when head_only). */
void respond_error(struct conn *c, int status, bool head_only, const char *location,
                   size_t location_len);

#endif
