/* What the two halves of the connection state machine share: conn.c reads
 * heads and drives the states, conn_send.c sends a response's plan. Private
 * to those two files. */
#ifndef PS_CONN_INT_H
#define PS_CONN_INT_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conn.h"

/* What a state's step left: go on, wait for the socket, yield the turn to
 * the other connections, or the connection is closed (and freed). */
enum step { STEP_CONTINUE, STEP_BLOCK, STEP_YIELD, STEP_CLOSED };

/* Put c on timer list l with a deadline timeout_ms from now. */
void conn_arm(struct conn *c, struct conn_list *l, uint64_t timeout_ms);

/* The client for a message, as the access log names it (log_peer), in
 * out[PEER_NAME_MAX]. */
#define PEER_NAME_MAX (INET6_ADDRSTRLEN + 16) /* [ADDR]:PORT */
const char *conn_peer_name(struct conn *c, char *out, size_t cap);

/* The response is out: log it, then keep the connection or close it. */
enum step conn_finish_response(struct conn *c);

/* Send the plan from where it stands, at most *budget bytes of it this
 * turn (lowered by what went). CONN_SEND's step. */
enum step conn_send_plan(struct conn *c, size_t *budget);

/* sent bytes of the plan's memory segments went out, starting at the
 * current one; more: they went with MSG_MORE. */
void conn_sent(struct conn *c, uint64_t sent, bool more);

#endif
