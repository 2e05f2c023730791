/* HTTP-date formatting and parsing (RFC 9110 section 5.6.7), without
 * strftime/strptime: locale-independent and cheap enough per request. */
#include "httpdate.h"

#include <errno.h>
#include <string.h>

static const char wdays[7][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

static void put2(char *p, int v)
{
    p[0] = (char)('0' + v / 10);
    p[1] = (char)('0' + v % 10);
}

void ps_http_date_format(time_t t, char out[PS_HTTP_DATE_LEN + 1])
{
    struct tm tm;

    if (!gmtime_r(&t, &tm) || tm.tm_year + 1900 > 9999 || tm.tm_year + 1900 < 0) {
        t = 0;
        gmtime_r(&t, &tm);
    }
    memcpy(out, wdays[tm.tm_wday], 3);
    out[3] = ',';
    out[4] = ' ';
    put2(out + 5, tm.tm_mday);
    out[7] = ' ';
    memcpy(out + 8, months[tm.tm_mon], 3);
    out[11] = ' ';
    int y = tm.tm_year + 1900;
    put2(out + 12, y / 100);
    put2(out + 14, y % 100);
    out[16] = ' ';
    put2(out + 17, tm.tm_hour);
    out[19] = ':';
    put2(out + 20, tm.tm_min);
    out[22] = ':';
    put2(out + 23, tm.tm_sec);
    memcpy(out + 25, " GMT", 5);
}

/* Cursor over the input with small matching helpers. */
struct cur {
    const char *p, *end;
};

static int digits(struct cur *c, int min, int max, int *v)
{
    int n = 0, x = 0;
    while (c->p < c->end && *c->p >= '0' && *c->p <= '9' && n < max) {
        x = x * 10 + (*c->p - '0');
        c->p++;
        n++;
    }
    if (n < min)
        return -1;
    *v = x;
    return 0;
}

static int lit(struct cur *c, const char *s)
{
    size_t n = strlen(s);
    if ((size_t)(c->end - c->p) < n || memcmp(c->p, s, n) != 0)
        return -1;
    c->p += n;
    return 0;
}

static int month(struct cur *c, int *m)
{
    for (int i = 0; i < 12; i++)
        if (lit(c, months[i]) == 0) {
            *m = i;
            return 0;
        }
    return -1;
}

static int hms(struct cur *c, int *h, int *mi, int *s)
{
    if (digits(c, 2, 2, h) || lit(c, ":") || digits(c, 2, 2, mi) || lit(c, ":") ||
        digits(c, 2, 2, s))
        return -1;
    return (*h > 23 || *mi > 59 || *s > 60) ? -1 : 0;
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian), m in 0..11. */
static long long days_from_civil(int y, int m, int d)
{
    y -= m < 2;
    int mm = m + 1;
    long long era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (unsigned)((153 * (mm + (mm > 2 ? -3 : 9)) + 2) / 5 + d - 1);
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (long long)doe - 719468;
}

static const int mdays[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

int ps_http_date_parse(const char *s, size_t n, time_t *out)
{
    struct cur c = {s, s + n};
    int d, m, y, h, mi, sec;
    const char *comma = memchr(s, ',', n);

    if (comma && comma - s == 3) {
        /* IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT" */
        c.p = comma + 1;
        if (lit(&c, " ") || digits(&c, 2, 2, &d) || lit(&c, " ") || month(&c, &m) ||
            lit(&c, " ") || digits(&c, 4, 4, &y) || lit(&c, " ") || hms(&c, &h, &mi, &sec) ||
            lit(&c, " GMT"))
            return -EINVAL;
    } else if (comma) {
        /* RFC 850: "Sunday, 06-Nov-94 08:49:37 GMT"; two-digit years are
         * taken as 1970..2069 (RFC 9110 says within 50 years of now). */
        c.p = comma + 1;
        if (lit(&c, " ") || digits(&c, 2, 2, &d) || lit(&c, "-") || month(&c, &m) ||
            lit(&c, "-") || digits(&c, 2, 2, &y) || lit(&c, " ") || hms(&c, &h, &mi, &sec) ||
            lit(&c, " GMT"))
            return -EINVAL;
        y += y < 70 ? 2000 : 1900;
    } else {
        /* asctime: "Sun Nov  6 08:49:37 1994" */
        if (n < 4)
            return -EINVAL;
        c.p += 4;
        if (month(&c, &m) || lit(&c, " "))
            return -EINVAL;
        if (c.p < c.end && *c.p == ' ')
            c.p++;
        if (digits(&c, 1, 2, &d) || lit(&c, " ") || hms(&c, &h, &mi, &sec) || lit(&c, " ") ||
            digits(&c, 4, 4, &y))
            return -EINVAL;
    }
    if (c.p != c.end || d < 1 || d > mdays[m])
        return -EINVAL;
    long long days = days_from_civil(y, m, d);
    *out = (time_t)(days * 86400 + h * 3600 + mi * 60 + (sec > 59 ? 59 : sec));
    return 0;
}
