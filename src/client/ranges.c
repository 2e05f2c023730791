/* Content-Range parsing and the --continue verdict. */
#include "config.h"

#include "ranges.h"

#include <errno.h>
#include <strings.h>

#include "num.h"

/* Decimal digits at s[*i..n), advancing *i; at most 18 (no overflow). */
static int number(const char *s, size_t n, size_t *i, uint64_t *out)
{
    size_t b = *i;
    while (*i < n && s[*i] >= '0' && s[*i] <= '9')
        (*i)++;
    if (*i - b == 0 || *i - b > 18)
        return -EINVAL;
    return ps_parse_u64n(s + b, *i - b, UINT64_MAX, out);
}

int content_range_parse(const char *v, size_t n, struct content_range *cr)
{
    size_t i = 0;
    cr->unsatisfied = false;
    cr->first = cr->last = cr->complete = 0;
    cr->complete_known = false;
    while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t'))
        n--;
    while (i < n && (v[i] == ' ' || v[i] == '\t'))
        i++;
    if (n - i < 6 || strncasecmp(v + i, "bytes", 5) != 0 || v[i + 5] != ' ')
        return -EINVAL;
    i += 6;
    if (i < n && v[i] == '*') {
        cr->unsatisfied = true;
        i++;
        if (i >= n || v[i] != '/')
            return -EINVAL;
        i++;
        if (number(v, n, &i, &cr->complete) < 0 || i != n)
            return -EINVAL;
        cr->complete_known = true;
        return 0;
    }
    if (number(v, n, &i, &cr->first) < 0 || i >= n || v[i] != '-')
        return -EINVAL;
    i++;
    if (number(v, n, &i, &cr->last) < 0 || i >= n || v[i] != '/' || cr->last < cr->first)
        return -EINVAL;
    i++;
    if (i + 1 == n && v[i] == '*')
        return 0;
    if (number(v, n, &i, &cr->complete) < 0 || i != n || cr->last >= cr->complete)
        return -EINVAL;
    cr->complete_known = true;
    return 0;
}

bool range_unasked_whole(const char *content_range, size_t cr_len, uint64_t body_length)
{
    struct content_range cr;
    if (!content_range || content_range_parse(content_range, cr_len, &cr) < 0 || cr.unsatisfied ||
        !cr.complete_known)
        return false;
    return cr.first == 0 && cr.last + 1 == cr.complete &&
           (body_length == UINT64_MAX || body_length == cr.complete);
}

enum resume_verdict resume_check(int status, uint64_t offset, const char *content_range,
                                 size_t cr_len, uint64_t body_length)
{
    struct content_range cr;
    bool have = content_range && content_range_parse(content_range, cr_len, &cr) == 0;
    if (status == 206) {
        if (!have || cr.unsatisfied || cr.first != offset)
            return RESUME_MISMATCH;
        if (body_length != UINT64_MAX && body_length != cr.last - cr.first + 1)
            return RESUME_BAD_LENGTH;
        return RESUME_APPEND;
    }
    if (status == 416) {
        if (have && cr.unsatisfied && cr.complete == offset)
            return RESUME_COMPLETE;
        return RESUME_UNSATISFIED;
    }
    if (status >= 200 && status < 300)
        return RESUME_IGNORED;
    return RESUME_OTHER;
}
