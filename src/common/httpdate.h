/* HTTP dates (RFC 9110 section 5.6.7): formatting the IMF-fixdate form and
 * parsing it together with the two obsolete forms recipients must accept. */
#ifndef PS_HTTPDATE_H
#define PS_HTTPDATE_H

#include <stddef.h>
#include <time.h>

#define PS_HTTP_DATE_LEN 29 /* "Sun, 06 Nov 1994 08:49:37 GMT" */

/* Write the IMF-fixdate for t into out (PS_HTTP_DATE_LEN bytes plus NUL). */
void ps_http_date_format(time_t t, char out[PS_HTTP_DATE_LEN + 1]);

/* Parse an HTTP date of n bytes (IMF-fixdate, RFC 850 or asctime form).
 * Returns 0 and sets *out, or -EINVAL. */
int ps_http_date_parse(const char *s, size_t n, time_t *out);

#endif
