/* Checked number parsing shared by pyserved and the tools: no locale, no
 * silent wrap-around, no trailing garbage. Never logs. */
#ifndef PS_NUM_H
#define PS_NUM_H

#include <stddef.h>
#include <stdint.h>

/* Parse exactly n bytes of decimal digits into *out, refusing values above
 * max. Returns 0, -EINVAL (empty, non-digit) or -ERANGE (> max). */
int ps_parse_u64n(const char *s, size_t n, uint64_t max, uint64_t *out);

/* NUL-terminated variant of ps_parse_u64n. */
int ps_parse_u64(const char *s, uint64_t max, uint64_t *out);

/* A byte size: digits with an optional k, m or g suffix (powers of 1024,
 * case-insensitive), e.g. "8192", "8k", "1M". Returns 0, -EINVAL, -ERANGE. */
int ps_parse_size(const char *s, uint64_t max, uint64_t *out);

/* A duration in milliseconds: a decimal number, whole ("10") or with up to
 * nine digits after a point ("1.5", "0.25"), with an optional unit ms, s, m
 * or h; no unit means seconds ("10" == "10s"). A fraction of a millisecond
 * rounds up ("0.0001" is 1 ms). Returns 0, -EINVAL, -ERANGE. */
int ps_parse_duration_ms(const char *s, uint64_t max_ms, uint64_t *out);

/* A Content-Length value v[0..n), of a request or a response: a decimal
 * number, or a comma-separated list of the same number ("5, 5", read as
 * one: RFC 9110 section 8.6).
 * Returns 0 with *out set, -EINVAL (not such a list, or a number over
 * 2^62) or -EDOM (a list of differing numbers). */
int ps_parse_content_length(const char *v, size_t n, uint64_t *out);

/* Value of a hexadecimal digit of either case, or -1. */
static inline int ps_hex_digit(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c |= 0x20;
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

#endif
