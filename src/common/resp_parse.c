/* HTTP/1.x response heads, body framing and chunked decoding. */
#include "resp_parse.h"

#include <errno.h>
#include <string.h>

#include "num.h"

static bool is_tchar(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c && strchr("!#$%&'*+-.^_`|~", c));
}

static char lc(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c | 0x20) : c;
}

/* a[0..n) equals the NUL-terminated b, ignoring ASCII case on both sides. */
static bool eq_ci(const char *a, size_t n, const char *b)
{
    size_t i;
    for (i = 0; i < n; i++)
        if (b[i] == '\0' || lc(a[i]) != lc(b[i]))
            return false;
    return b[i] == '\0';
}

/* Does a comma-separated list contain token (case-insensitive)? */
static bool list_has(const char *v, size_t n, const char *token)
{
    size_t i = 0;
    while (i < n) {
        while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
            i++;
        size_t s = i;
        while (i < n && v[i] != ',')
            i++;
        size_t e = i;
        while (e > s && (v[e - 1] == ' ' || v[e - 1] == '\t'))
            e--;
        if (e > s && eq_ci(v + s, e - s, token))
            return true;
    }
    return false;
}

/* End of the line starting at p (CRLF or bare LF): returns a pointer past
 * it and the content length in *len, or NULL when incomplete. */
static const char *line_end(const char *p, const char *end, size_t *len, bool *bad)
{
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    if (!nl)
        return NULL;
    size_t n = (size_t)(nl - p);
    if (n > 0 && p[n - 1] == '\r')
        n--;
    if (memchr(p, '\r', n))
        *bad = true; /* a bare CR inside a line */
    *len = n;
    return nl + 1;
}

int ps_resp_parse(const char *buf, size_t len, bool head_request, struct ps_response *r)
{
    const char *p = buf, *end = buf + len, *next;
    size_t n;
    bool bad = false, has_te = false, has_cl = false, conn_close = false, conn_keep = false;

    r->nfields = 0;
    r->content_length = 0;
    next = line_end(p, end, &n, &bad);
    if (!next)
        return 0;
    /* HTTP-version SP 3DIGIT SP [reason] (RFC 9112 section 4). A higher
     * minor version than 1.1 is read as 1.1 (RFC 9110 section 2.5). */
    if (bad || n < 12 || memcmp(p, "HTTP/1.", 7) != 0 || p[7] < '0' || p[7] > '9' ||
        p[8] != ' ' || p[9] < '1' || p[9] > '9' || p[10] < '0' || p[10] > '9' || p[11] < '0' ||
        p[11] > '9' || (n > 12 && p[12] != ' '))
        return -EBADMSG;
    r->version = p[7] == '0' ? 10 : 11;
    r->minor = p[7] - '0';
    r->status = (p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0');
    r->reason = n > 13 ? p + 13 : p + n;
    r->reason_len = n > 13 ? n - 13 : 0;
    for (size_t i = 0; i < r->reason_len; i++)
        if ((unsigned char)r->reason[i] < ' ' && r->reason[i] != '\t')
            return -EBADMSG;
    p = next;
    /* RFC 9112 6.1: Transfer-Encoding on a response to HEAD or on a 304
     * names the coding a GET would have had; neither has a body (6.3) */
    bool te_unapplied = head_request || r->status == 304;

    for (;;) {
        next = line_end(p, end, &n, &bad);
        if (!next)
            return 0;
        if (bad)
            return -EBADMSG;
        if (n == 0) {
            p = next;
            break;
        }
        if (p[0] == ' ' || p[0] == '\t')
            return -EBADMSG; /* obs-fold */
        size_t k = 0;
        while (k < n && is_tchar((unsigned char)p[k]))
            k++;
        if (k == 0 || k == n || p[k] != ':')
            return -EBADMSG;
        const char *v = p + k + 1, *ve = p + n;
        while (v < ve && (*v == ' ' || *v == '\t'))
            v++;
        while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
            ve--;
        for (const char *q = v; q < ve; q++)
            if (((unsigned char)*q < ' ' && *q != '\t') || *q == 0x7f)
                return -EBADMSG;
        if (r->nfields == r->max_fields)
            return -E2BIG;
        struct ps_field *f = &r->fields[r->nfields++];
        f->name = p;
        f->name_len = k;
        f->value = v;
        f->value_len = (size_t)(ve - v);
        if (eq_ci(p, k, "content-length")) {
            uint64_t cl;
            if (ps_parse_content_length(v, f->value_len, &cl) < 0 ||
                (has_cl && cl != r->content_length))
                return -EBADMSG;
            r->content_length = cl;
            has_cl = true;
        } else if (eq_ci(p, k, "transfer-encoding")) {
            if (!te_unapplied && !eq_ci(v, f->value_len, "chunked"))
                return -EBADMSG; /* we decode chunked only */
            has_te = true;
        } else if (eq_ci(p, k, "connection")) {
            conn_close |= list_has(v, f->value_len, "close");
            conn_keep |= list_has(v, f->value_len, "keep-alive");
        }
        p = next;
    }

    /* Framing: RFC 9112 section 6.3, in its order. */
    if (head_request || r->status < 200 || r->status == 204 || r->status == 304)
        r->framing = PS_BODY_NONE;
    else if (has_te)
        r->framing = PS_BODY_CHUNKED; /* Transfer-Encoding overrides Content-Length */
    else if (has_cl)
        r->framing = PS_BODY_LENGTH;
    else
        r->framing = PS_BODY_CLOSE;
    /* Transfer-Encoding in an HTTP/1.0 response, or with a Content-Length
     * too, is framing we cannot trust for the next message (RFC 9112 6.1,
     * 6.3). */
    r->keep_alive = r->framing != PS_BODY_CLOSE && !conn_close && (r->version == 11 || conn_keep) &&
                    !(has_te && has_cl) && !(has_te && r->version == 10);
    return (int)(p - buf);
}

const struct ps_field *ps_resp_field(const struct ps_response *r, const char *name)
{
    for (unsigned i = 0; i < r->nfields; i++)
        if (eq_ci(r->fields[i].name, r->fields[i].name_len, name))
            return &r->fields[i];
    return NULL;
}

enum {
    CH_SIZE = 0, /* hex digits */
    CH_SIZE_WS,  /* whitespace after them, before ';' or the line end */
    CH_EXT,      /* chunk-ext up to the line end */
    CH_SIZE_LF,  /* CR of the chunk-size line seen */
    CH_DATA,
    CH_DATA_CR,  /* CRLF after data */
    CH_DATA_LF,
    CH_TRAILER_START, /* start of a trailer line, or the final empty line */
    CH_TRAILER_NAME,  /* a trailer field's name, up to its colon */
    CH_TRAILER_VALUE, /* its value, up to the line end */
    CH_TRAILER_LF,    /* CR of a trailer line seen */
    CH_LAST_LF,       /* CR of the final line seen */
    CH_DONE,
};

#define CHUNK_LINE_MAX 4096

/* A byte that may stand in a chunk extension or a trailer field's value:
 * visible, space, tab or obs-text. */
static bool field_byte(unsigned char ch)
{
    return ch >= ' ' ? ch != 0x7f : ch == '\t';
}

/* The chunk-size line ended (at its LF): on to the data, or to the trailer
 * section after the last chunk. */
static void chunk_size_done(struct ps_chunked *c)
{
    c->line_len = 0;
    c->state = c->remaining ? CH_DATA : CH_TRAILER_START;
}

/* A trailer line ended (at its LF): another one, or the final empty line. */
static void trailer_line_done(struct ps_chunked *c)
{
    c->line_len = 0;
    c->state = CH_TRAILER_START;
}

/* chunk = chunk-size [ chunk-ext ] CRLF chunk-data CRLF; last-chunk =
 * 1*"0" [ chunk-ext ] CRLF; then trailer field lines and CRLF (RFC 9112
 * section 7.1). A bare LF is taken for CRLF; a bare CR is not. */
ssize_t ps_chunked_step(struct ps_chunked *c, const char *in, size_t n, const char **data,
                        size_t *dlen, bool *done)
{
    size_t i = 0;
    *data = NULL;
    *dlen = 0;
    *done = c->state == CH_DONE;
    while (i < n && c->state != CH_DONE) {
        unsigned char ch = (unsigned char)in[i];
        if (c->state != CH_DATA && ++c->line_len > CHUNK_LINE_MAX)
            return -EBADMSG;
        switch (c->state) {
        case CH_SIZE: {
            int d = (ch >= '0' && ch <= '9')   ? ch - '0'
                    : (ch >= 'a' && ch <= 'f') ? ch - 'a' + 10
                    : (ch >= 'A' && ch <= 'F') ? ch - 'A' + 10
                                               : -1;
            if (d >= 0) {
                if (c->remaining >> 56) /* 60 bits of size is plenty */
                    return -EBADMSG;
                c->remaining = c->remaining << 4 | (uint64_t)d;
                break;
            }
            if (c->line_len == 1) /* no digit */
                return -EBADMSG;
            c->state = CH_SIZE_WS; /* and this byte is the first after the digits */
        }
            /* fall through */
        case CH_SIZE_WS:
            if (ch == ';')
                c->state = CH_EXT;
            else if (ch == '\r')
                c->state = CH_SIZE_LF;
            else if (ch == '\n')
                chunk_size_done(c);
            else if (ch != ' ' && ch != '\t')
                return -EBADMSG; /* "0x10" is not a size of 0 */
            break;
        case CH_EXT:
            if (ch == '\r')
                c->state = CH_SIZE_LF;
            else if (ch == '\n')
                chunk_size_done(c);
            else if (!field_byte(ch))
                return -EBADMSG;
            break;
        case CH_SIZE_LF:
            if (ch != '\n')
                return -EBADMSG;
            chunk_size_done(c);
            break;
        case CH_DATA: {
            size_t take = n - i;
            if (take > c->remaining)
                take = (size_t)c->remaining;
            *data = in + i;
            *dlen = take;
            c->remaining -= take;
            if (c->remaining == 0)
                c->state = CH_DATA_CR;
            return (ssize_t)(i + take);
        }
        case CH_DATA_CR:
            if (ch == '\r') {
                c->state = CH_DATA_LF;
                break;
            }
            c->state = CH_DATA_LF; /* a bare LF is tolerated */
            continue;
        case CH_DATA_LF:
            if (ch != '\n')
                return -EBADMSG;
            c->state = CH_SIZE;
            c->remaining = 0;
            c->line_len = 0;
            break;
        case CH_TRAILER_START:
            if (ch == '\r')
                c->state = CH_LAST_LF;
            else if (ch == '\n')
                c->state = CH_DONE;
            else if (is_tchar(ch))
                c->state = CH_TRAILER_NAME;
            else
                return -EBADMSG; /* no name, or a folded line */
            break;
        case CH_TRAILER_NAME:
            if (ch == ':')
                c->state = CH_TRAILER_VALUE;
            else if (!is_tchar(ch))
                return -EBADMSG;
            break;
        case CH_TRAILER_VALUE:
            if (ch == '\r')
                c->state = CH_TRAILER_LF;
            else if (ch == '\n')
                trailer_line_done(c);
            else if (!field_byte(ch))
                return -EBADMSG;
            break;
        case CH_TRAILER_LF:
            if (ch != '\n')
                return -EBADMSG;
            trailer_line_done(c);
            break;
        case CH_LAST_LF:
            if (ch != '\n')
                return -EBADMSG;
            c->state = CH_DONE;
            break;
        default:
            return -EBADMSG;
        }
        i++;
    }
    *done = c->state == CH_DONE;
    return (ssize_t)i;
}
