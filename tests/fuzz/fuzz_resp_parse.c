/* libFuzzer target for the response-head parser and the chunked decoder
 * (src/common/resp_parse.h): checks their invariants and aborts on a
 * violation. */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "resp_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAXF     64
#define BODY_MAX (1u << 20)

static void violation(const char *what, size_t size, long r)
{
    fprintf(stderr, "fuzz_resp_parse: invariant violated: %s (size %zu, result %ld)\n", what, size,
            r);
    abort();
}

static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        abort();
    return p;
}

static bool is_tchar(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c && strchr("!#$%&'*+-.^_`|~", c));
}

static bool name_is(const struct ps_field *f, const char *lower)
{
    size_t n = strlen(lower);
    if (f->name_len != n)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = f->name[i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c | 0x20);
        if (c != lower[i])
            return false;
    }
    return true;
}

static void check_head(const char *buf, size_t size, int r, bool head_req,
                       const struct ps_response *q, unsigned maxf)
{
    if (q->version != 10 && q->version != 11)
        violation("version not 10 or 11", size, r);
    if (q->status < 100 || q->status > 999)
        violation("status out of 100..999", size, r);
    if (q->nfields > maxf)
        violation("more fields than max_fields", size, r);
    if (buf[r - 1] != '\n')
        violation("head does not end with a line feed", size, r);
    if (q->reason_len && (q->reason < buf || q->reason + q->reason_len > buf + r))
        violation("reason outside the head", size, r);
    bool has_cl = false, has_te = false;
    for (unsigned i = 0; i < q->nfields; i++) {
        const struct ps_field *f = &q->fields[i];
        if (f->name_len == 0 || f->name < buf || f->name + f->name_len > buf + r)
            violation("field name outside the head or empty", size, r);
        if (f->value_len && (f->value < buf || f->value + f->value_len > buf + r))
            violation("field value outside the head", size, r);
        for (size_t k = 0; k < f->name_len; k++)
            if (!is_tchar((unsigned char)f->name[k]))
                violation("field name with a non-token byte", size, r);
        for (size_t k = 0; k < f->value_len; k++) {
            unsigned char c = (unsigned char)f->value[k];
            if ((c < ' ' && c != '\t') || c == 0x7f)
                violation("control byte in a field value", size, r);
        }
        if (f->value_len &&
            (f->value[0] == ' ' || f->value[0] == '\t' || f->value[f->value_len - 1] == ' ' ||
             f->value[f->value_len - 1] == '\t'))
            violation("field value not trimmed", size, r);
        if (name_is(f, "content-length")) {
            has_cl = true;
            /* a number, or a list of that same number (RFC 9110 section 8.6) */
            uint64_t v = 0;
            size_t digits = 0;
            for (size_t k = 0; k <= f->value_len; k++) {
                char c = k < f->value_len ? f->value[k] : ',';
                if (c == ' ' || c == '\t') {
                    if (digits && k + 1 < f->value_len && f->value[k + 1] >= '0' &&
                        f->value[k + 1] <= '9')
                        violation("Content-Length digits split by a space accepted", size, r);
                    continue;
                }
                if (c == ',') {
                    if (digits == 0)
                        violation("empty Content-Length list element accepted", size, r);
                    if (v != q->content_length)
                        violation("content_length differs from a Content-Length value", size, r);
                    v = 0;
                    digits = 0;
                    continue;
                }
                if (c < '0' || c > '9')
                    violation("non-digit Content-Length accepted", size, r);
                if (v > UINT64_MAX / 10 - 10)
                    violation("huge Content-Length accepted", size, r);
                v = v * 10 + (uint64_t)(c - '0');
                digits++;
            }
        }
        if (name_is(f, "transfer-encoding"))
            has_te = true;
        /* the lookup finds this field or an earlier one of the same name */
        char lower[256];
        if (f->name_len < sizeof(lower)) {
            for (size_t k = 0; k < f->name_len; k++)
                lower[k] =
                    (char)(f->name[k] >= 'A' && f->name[k] <= 'Z' ? f->name[k] | 0x20 : f->name[k]);
            lower[f->name_len] = '\0';
            const struct ps_field *g = ps_resp_field(q, lower);
            if (!g || g > f || !name_is(g, lower))
                violation("ps_resp_field misses a field", size, r);
        }
    }
    bool no_body = head_req || q->status < 200 || q->status == 204 || q->status == 304;
    if (no_body && q->framing != PS_BODY_NONE)
        violation("a body for HEAD, 1xx, 204 or 304", size, r);
    if (!no_body && q->framing == PS_BODY_NONE)
        violation("no body for a response that has one", size, r);
    if (q->framing == PS_BODY_CHUNKED && !has_te)
        violation("chunked without Transfer-Encoding", size, r);
    if (q->framing == PS_BODY_LENGTH && (!has_cl || has_te))
        violation("length framing without Content-Length or with Transfer-Encoding", size, r);
    if (q->framing == PS_BODY_CLOSE && (has_cl || has_te))
        violation("read-until-close despite a length or coding", size, r);
    if (q->framing == PS_BODY_CLOSE && q->keep_alive)
        violation("keep-alive with a read-until-close body", size, r);
}

static int parse(const char *buf, size_t n, bool head_req, struct ps_response *q,
                 struct ps_field *f, unsigned maxf)
{
    memset(q, 0x5a, sizeof(*q));
    q->fields = f;
    q->max_fields = maxf;
    return ps_resp_parse(buf, n, head_req, q);
}

static void run_head(const char *buf, size_t size, bool head_req)
{
    static struct ps_field f[MAXF], f2[MAXF];
    struct ps_response q, q2;
    int r = parse(buf, size, head_req, &q, f, MAXF);
    if (!(r == 0 || r == -EBADMSG || r == -E2BIG || (r > 0 && (size_t)r <= size)))
        violation("result out of range", size, r);
    if (r > 0)
        check_head(buf, size, r, head_req, &q, MAXF);

    /* deterministic */
    int r2 = parse(buf, size, head_req, &q2, f2, MAXF);
    if (r2 != r ||
        (r > 0 && (q2.status != q.status || q2.framing != q.framing || q2.nfields != q.nfields ||
                   q2.keep_alive != q.keep_alive || q2.content_length != q.content_length)))
        violation("second parse differs", size, r2);

    if (r > 0) {
        /* exactly as many field slots as fields suffice; one fewer does not */
        r2 = parse(buf, size, head_req, &q2, f2, q.nfields);
        if (r2 != r)
            violation("max_fields == nfields changes the result", size, r2);
        if (q.nfields > 0 && parse(buf, size, head_req, &q2, f2, q.nfields - 1) != -E2BIG)
            violation("one field slot too few is not -E2BIG", size, r);

        /* bytes after the head change nothing */
        static const char more[] = "HTTP/1.1 200 OK\r\nX: y\r\n\r\n\0\r\n";
        char *longer = xmalloc(size + sizeof(more));
        memcpy(longer, buf, size);
        memcpy(longer + size, more, sizeof(more));
        r2 = parse(longer, size + sizeof(more), head_req, &q2, f2, MAXF);
        free(longer);
        if (r2 != r || q2.status != q.status || q2.framing != q.framing || q2.nfields != q.nfields)
            violation("appending bytes changed a complete head", size, r2);

        /* a proper prefix of a complete head is never complete nor an error */
        size_t cuts[3] = {(size_t)r - 1, (size_t)r / 2, (unsigned char)buf[0] % (size_t)r};
        for (size_t i = 0; i < 3; i++) {
            char *pre = xmalloc(cuts[i]);
            memcpy(pre, buf, cuts[i]);
            r2 = parse(pre, cuts[i], head_req, &q2, f2, MAXF);
            free(pre);
            if (r2 != 0)
                violation("a prefix of a complete head is not \"more\"", cuts[i], r2);
        }
    } else if (r < 0) {
        /* an error does not go away when more bytes arrive */
        char *longer = xmalloc(size + 4);
        memcpy(longer, buf, size);
        memcpy(longer + size, "\r\n\r\n", 4);
        r2 = parse(longer, size + 4, head_req, &q2, f2, MAXF);
        free(longer);
        if (r2 >= 0)
            violation("an error turned into a success with more bytes", size, r2);
    }
}

/* Decode in[0..n) fed in pieces of step bytes (0: one piece). Returns 1
 * done (*used: bytes consumed), 0 more needed, -1 error; the body goes to
 * out (at most BODY_MAX). */
static int decode(const char *in, size_t n, size_t step, char *out, size_t *olen, size_t *used)
{
    struct ps_chunked c;
    memset(&c, 0, sizeof(c));
    size_t off = 0;
    *olen = 0;
    *used = 0;
    for (size_t guard = 0; guard <= 2 * n + 2; guard++) {
        size_t piece = step == 0 || n - off < step ? n - off : step;
        char *copy = xmalloc(piece); /* exact size: reads past it are caught */
        memcpy(copy, in + off, piece);
        const char *d = NULL;
        size_t dl = 0;
        bool done = false;
        ssize_t r = ps_chunked_step(&c, copy, piece, &d, &dl, &done);
        if (r >= 0) {
            if ((size_t)r > piece)
                violation("chunked: used more than given", n, (long)r);
            if (dl > (size_t)r || (dl && (d < copy || d + dl > copy + r)))
                violation("chunked: data outside the bytes used", n, (long)r);
            if (*olen + dl > BODY_MAX || *olen + dl > n)
                violation("chunked: more body than input", n, (long)r);
            if (dl)
                memcpy(out + *olen, d, dl);
            *olen += dl;
        }
        free(copy);
        if (r < 0) {
            if (r != -EBADMSG)
                violation("chunked: error other than -EBADMSG", n, (long)r);
            *used = off;
            return -1;
        }
        off += (size_t)r;
        if (done) {
            *used = off;
            /* done stays done and uses nothing more */
            const char *d2;
            size_t dl2 = 1;
            bool done2 = false;
            if (ps_chunked_step(&c, "x", 1, &d2, &dl2, &done2) != 0 || !done2 || dl2 != 0)
                violation("chunked: not idle after the end", n, 0);
            return 1;
        }
        if (r == 0 && piece > 0)
            violation("chunked: no progress, no data, not done", n, 0);
        if (off == n) {
            *used = off;
            return 0;
        }
    }
    violation("chunked: decoder loops", n, 0);
    return -1;
}

static void run_chunked(const char *in, size_t n, size_t odd_step)
{
    if (n > BODY_MAX)
        return;
    static char a[BODY_MAX], b[BODY_MAX];
    size_t la, lb, ua, ub;
    int ra = decode(in, n, 0, a, &la, &ua);
    static const size_t steps[] = {1, 0};
    for (size_t i = 0; i < 2; i++) {
        size_t step = steps[i] ? steps[i] : odd_step;
        int rb = decode(in, n, step, b, &lb, &ub);
        if (rb != ra || lb != la || memcmp(a, b, la) != 0)
            violation("chunked: the result depends on how the input is split", n, rb);
        if (ra == 1 && ub != ua)
            violation("chunked: the end is found at another offset when split", n, (long)ub);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *buf = (const char *)data;
    run_head(buf, size, false);
    run_head(buf, size, true);

    /* the decoder on the whole input, and on what follows a head */
    size_t odd = size ? 2 + data[size - 1] % 13 : 2;
    run_chunked(buf, size, odd);
    static struct ps_field f[MAXF];
    struct ps_response q;
    int r = parse(buf, size, false, &q, f, MAXF);
    if (r > 0 && (size_t)r < size)
        run_chunked(buf + r, size - (size_t)r, odd);
    return 0;
}
