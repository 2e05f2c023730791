/* Answering requests. The order for a file follows RFC 9110: method, target,
 * path, open; then the representation (a precompressed variant when
 * allowed), its validators, the preconditions of section 13.2.2, then
 * Range (section 14) for GET only. Everything ends as a send plan. */
#include "config.h"

#include "respond.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "autoindex.h"
#include "conf.h"
#include "conn.h"
#include "fcache.h"
#include "http_cond.h"
#include "http_parse.h"
#include "http_resp.h"
#include "log.h"
#include "mime.h"
#include "path.h"
#include "static.h"

#define LOG_PATH_MAX 1024 /* an escaped path in a log line, cut there */
/* Listing pages one worker's responses may hold at once; a listing asked
 * for beyond it gets 503 (pyserve.conf(5), autoindex). */
#define LISTING_BUDGET (32u << 20)

/* --- the send plan ------------------------------------------------------- */

static void plan_reset(struct conn *c)
{
    c->segs = (struct send_seg *)(void *)(c->buf + CONN_SEGS_OFF(c->in_cap, c->head_cap));
    c->nsegs = 0;
    c->seg_i = 0;
    c->seg_done = 0;
}

static void plan_add(struct conn *c, enum seg_kind kind, uint64_t off, uint64_t len)
{
    if (len == 0 && kind != SEG_PART && kind != SEG_TRAILER)
        return;
    c->segs[c->nsegs++] = (struct send_seg){(uint8_t)kind, off, len};
}

static bool closing_status(int status)
{
    /* After these the stream may be out of sync or the client misbehaving. */
    return status == 400 || status == 408 || status == 414 || status == 431 || status == 500 ||
           status == 501 || status == 503 || status == 505;
}

/* Write a head into the out area and make it the plan's first segment. */
static int plan_head(struct conn *c, struct resp_head *h)
{
    h->close = !c->keep_alive;
    h->keep_alive = c->keep_alive && c->version == 10;
    h->nosniff = c->w->conf->nosniff;
    h->server_tokens = c->w->conf->server_tokens;
    int n = http_resp_head(conn_out(c), c->head_cap, h, c->w->date);
    if (n < 0)
        return n;
    plan_reset(c);
    plan_add(c, SEG_OUT, 0, (uint64_t)n);
    c->status = h->status;
    return n;
}

/* Let go of the response's file (closing it unless the cache owns it). */
static void drop_file(struct conn *c)
{
    if (c->file_fd >= 0 && !c->centry)
        close(c->file_fd);
    c->file_fd = -1;
}

/* A head with a body from memory (an error page) after it in the out
 * area. When a long head (a Location) leaves no room for the page, the
 * response has none (Content-Length: 0, for HEAD too): the length sent is
 * always the length that follows. Returns plan_head's result. */
static int plan_page(struct conn *c, struct resp_head *h, const char *body, size_t blen,
                     bool head_only)
{
    h->content_length = blen;
    int n = plan_head(c, h);
    if (n >= 0 && blen > c->head_cap - (size_t)n) {
        h->content_length = blen = 0;
        n = plan_head(c, h);
    }
    if (n >= 0 && !head_only && blen > 0) {
        memcpy(conn_out(c) + n, body, blen);
        c->segs[0].len += (uint64_t)blen;
    }
    return n;
}

/* The head h with its status's error page as the body. Returns
 * plan_page's result. */
static int plan_error_page(struct conn *c, struct resp_head *h, bool head_only)
{
    char body[512];
    int blen = http_error_body(body, sizeof(body), h->status, c->w->conf->server_tokens);
    h->content_type = "text/html; charset=utf-8";
    return plan_page(c, h, body, blen > 0 ? (size_t)blen : 0, head_only);
}

void respond_error(struct conn *c, int status, bool head_only, const char *location,
                   size_t location_len)
{
    if (closing_status(status) || server_stopping(c->w->srv))
        c->keep_alive = false;
    drop_file(c);
    struct resp_head h = {
        .status = status,
        .location = location,
        .location_len = location_len,
        .allow = status == 405,
    };
    if (plan_error_page(c, &h, head_only) < 0) {
        if (location) {
            /* A Location longer than the head area holds: percent-encoding
             * makes a path up to three times the request's bytes. */
            respond_error(c, 414, head_only, NULL, 0);
            return;
        }
        c->keep_alive = false; /* cannot happen: nothing to send but the close */
        plan_reset(c);
    }
    conn_begin_send(c);
}

/* --- helpers ------------------------------------------------------------- */

/* A resolved path for a log message, escaped as in the access log: it
 * comes from the request (or a file name) and may hold any byte. */
static const char *log_path(char *out, size_t cap, const char *p, size_t n)
{
    out[log_escape(out, cap, p, n)] = '\0';
    return out;
}

/* Build "/path/" plus "?query" for a directory redirect into out, from the
 * resolved path, not the raw one: "//host/../dir" must not become a
 * Location that names another host. */
static size_t build_location(const struct http_request *r, const char *rel, size_t rel_len,
                             char *out, size_t cap)
{
    size_t n = path_encode(rel, rel_len, out, cap);
    if (n == 0 || n + 1 + (r->query.n ? 1 + r->query.n : 0) > cap)
        return 0;
    out[n++] = '/';
    if (r->query.n) {
        out[n++] = '?';
        memcpy(out + n, r->query.p, r->query.n);
        n += r->query.n;
    }
    return n;
}

static void new_boundary(struct conn *c, char *out)
{
    static const char hex[] = "0123456789abcdef";
    uint64_t x = ++c->w->boundary_seq * 0x9e3779b97f4a7c15ull ^ c->w->boundary_seed;
    memcpy(out, "pyserve-", 8);
    for (int i = 0; i < 16; i++)
        out[8 + i] = hex[(x >> (60 - 4 * i)) & 15];
    out[24] = '\0';
}

/* A multipart part header for bytes first..last of size (RFC 9110 14.6). */
static int part_header(char *out, size_t cap, const char *boundary, const char *ctype,
                       uint64_t first, uint64_t last, uint64_t size)
{
    int n = snprintf(out, cap, "\r\n--%s\r\nContent-Type: %s\r\nContent-Range: bytes %llu-%llu/%llu\r\n\r\n",
                     boundary, ctype, (unsigned long long)first, (unsigned long long)last,
                     (unsigned long long)size);
    return n < 0 || (size_t)n >= cap ? -ENOSPC : n;
}

int respond_fill_part(struct conn *c, const struct send_seg *s)
{
    char *area = conn_part_area(c);
    const char *boundary = area, *ctype = area + CONN_BOUNDARY_MAX;
    /* made aside, then copied: what it is made from is in the same area */
    char tmp[CONN_PART_MAX];
    int n;
    if (s->kind == SEG_TRAILER) {
        n = snprintf(tmp, sizeof(tmp), "\r\n--%s--\r\n", boundary);
    } else {
        const struct send_seg *data = s + 1; /* the SEG_FILE it announces */
        n = part_header(tmp, sizeof(tmp), boundary, ctype, data->off,
                        data->off + data->len - 1, c->file_size);
    }
    if (n < 0 || (size_t)n >= sizeof(tmp))
        return -ENOSPC;
    memcpy(area + CONN_BOUNDARY_MAX + CONN_CTYPE_MAX, tmp, (size_t)n);
    return n;
}

/* --- precompressed variants -------------------------------------------- */

static const struct {
    enum coding coding;
    const char *suffix, *name;
} variants[] = {
    {CODING_BR, ".br", "br"},
    {CODING_GZIP, ".gz", "gzip"},
};

/* Replace f by file.br / file.gz when the client accepts it, it exists,
 * is a regular file and is not older. Returns the Content-Encoding or NULL. */
static const char *pick_variant(struct conn *c, const struct http_request *r, const char *path,
                                size_t len, struct static_file *f)
{
    unsigned q[2];
    for (int i = 0; i < 2; i++)
        q[i] = http_coding_q(r->accept_encoding, variants[i].coding);
    char *name = c->w->scratch + c->w->scratch_cap / 2;
    if (len + 4 > c->w->scratch_cap / 2)
        return NULL;
    for (int pass = 0; pass < 2; pass++) {
        /* the higher q first; br wins a tie */
        int i = (q[1] > q[0]) ? (pass == 0 ? 1 : 0) : pass;
        if (q[i] == 0)
            continue;
        memcpy(name, path, len);
        strcpy(name + len, variants[i].suffix);
        struct static_file v;
        if (static_open(c->w->conf->root_fd, name, false, NULL, 0, false, &v) != 200)
            continue;
        if (v.st.st_mtim.tv_sec < f->st.st_mtim.tv_sec ||
            (v.st.st_mtim.tv_sec == f->st.st_mtim.tv_sec &&
             v.st.st_mtim.tv_nsec < f->st.st_mtim.tv_nsec)) {
            close(v.fd); /* stale: older than the file it compresses */
            continue;
        }
        close(f->fd);
        *f = v;
        return variants[i].name;
    }
    return NULL;
}

/* --- files ----------------------------------------------------------------- */

/* The first time this worker's cache could not add a watch for want of
 * resources, say so once; it goes on confirming what it cannot watch with
 * fstatat (a worker without an inotify instance at all is logged when its
 * cache is made, worker.c). */
static void note_unwatched(struct worker *w)
{
    int e = fcache_watch_error(w->fcache);
    if (w->watch_warned || e == 0 || fcache_event_fd(w->fcache) < 0)
        return;
    w->watch_warned = true;
    log_msg(LOG_WARNING,
            "worker %u: file cache: inotify_add_watch: %s%s; what cannot be watched is "
            "confirmed with fstatat on each hit, and listings are made anew",
            w->id, strerror(e), e == ENOSPC ? " (fs.inotify.max_user_watches)" : "");
}

/* The pages of listings still being sent are all in memory (up to 16 MiB
 * each, and a cached page evicted while it is sent lives on until it has
 * been): clients that do not read must not make the worker hold more. */
static bool listing_over_budget(struct conn *c, const struct http_request *r)
{
    if (c->w->heap_bytes < LISTING_BUDGET)
        return false;
    respond_error(c, 503, r->method == HTTP_M_HEAD, NULL, 0);
    return true;
}

/* Send a listing page: page is c->heap, or the content of c->centry. */
static void send_listing(struct conn *c, const struct http_request *r, const char *rel,
                         size_t rel_len, size_t len)
{
    const struct conf *cf = c->w->conf;
    /* counted while it is sent, even when shared with the cache */
    c->heap_len = len;
    c->w->heap_bytes += len;
    struct resp_head h = {
        .status = 200,
        .content_type = "text/html; charset=utf-8",
        .content_length = len,
        .cache_control = conf_cache_control_for(cf, rel, rel_len),
    };
    if (plan_head(c, &h) < 0) {
        respond_error(c, 500, r->method == HTTP_M_HEAD, NULL, 0);
        return;
    }
    if (r->method != HTTP_M_HEAD)
        plan_add(c, c->heap ? SEG_HEAP : SEG_CACHE, 0, len);
    conn_begin_send(c);
}

/* May the listing of the directory open at dirfd be kept? Not when one
 * of the index names is a symbolic link there (a dangling one counts as no
 * index): what it points to may appear where no watch would tell. */
static bool index_names_plain(const struct conf *cf, int dirfd)
{
    struct stat st;
    for (unsigned i = 0; i < cf->nindex; i++)
        if (fstatat(dirfd, cf->index[i], &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode))
            return false;
    return true;
}

/* A listing made now from the directory open at dirfd (consumed), and
 * kept in the cache when it can be: watched is fcache_listing_watch's
 * answer, from before the path was opened (fcache.h). */
static void respond_listing(struct conn *c, const struct http_request *r, int dirfd,
                            const char *rel, size_t rel_len, bool watched)
{
    struct worker *w = c->w;
    const struct conf *cf = w->conf;
    char *page;
    size_t len;
    if (listing_over_budget(c, r)) {
        close(dirfd);
        return;
    }
    c->costly = true;
    worker_flush(w); /* what is queued goes out before this long work */
    if (watched) {
        watched = fcache_listing_watch_files(w->fcache, cf->root_fd, rel, rel_len);
        if (!watched)
            note_unwatched(w);
        watched = watched && index_names_plain(cf, dirfd);
    }
    int e = autoindex_build(dirfd, rel, rel_len, cf->dotfiles == CONF_DOTFILES_ALLOW, &page,
                            &len);
    close(dirfd);
    if (e < 0) {
        char lp[LOG_PATH_MAX];
        log_msg(LOG_ERR, "listing /%s: %s", log_path(lp, sizeof(lp), rel, rel_len),
                strerror(-e));
        respond_error(c, e == -ENOMEM ? 503 : 500, r->method == HTTP_M_HEAD, NULL, 0);
        return;
    }
    struct fcache_entry *ce =
        watched ? fcache_listing_put(w->fcache, rel, rel_len, page, len, w->now_ms, w->rseq)
                : NULL;
    if (ce)
        c->centry = ce; /* released when the response ends */
    else
        c->heap = page;
    send_listing(c, r, rel, rel_len, len);
}

/* What a file response is made from, cached or not. The body comes from
 * content (a cached small file) or from c->file_fd. */
struct repr {
    const char *content;
    const struct stat *st;
    const char *ctype;
    const char *etag;
    size_t etag_len;
    const char *last_modified; /* formatted, or NULL */
    const char *encoding;
    const char *path;
    size_t path_len;
};

/* A body range as a segment: from memory or by sendfile. */
static void plan_body(struct conn *c, const struct repr *rep, uint64_t off, uint64_t len)
{
    plan_add(c, rep->content ? SEG_CACHE : SEG_FILE, off, len);
}

static void respond_repr(struct conn *c, const struct http_request *r, const struct repr *rep)
{
    const struct conf *cf = c->w->conf;
    bool head_only = r->method == HTTP_M_HEAD;
    time_t lm = rep->st->st_mtim.tv_sec;
    const char *lm_str = rep->last_modified;
    if (lm > c->w->date_sec) {
        /* RFC 9110 8.8.2.1: a modification time in the future is sent,
         * and compared, as the response's Date */
        lm = c->w->date_sec;
        lm_str = c->w->date;
    }
    uint64_t size = (uint64_t)rep->st->st_size;
    struct resp_head h = {
        .status = 200,
        .content_type = rep->ctype,
        .content_length = size,
        .has_last_modified = true,
        .last_modified = lm,
        .last_modified_str = lm_str,
        .etag = rep->etag,
        .etag_len = rep->etag_len,
        .accept_ranges = true,
        .content_encoding = rep->encoding,
        .vary_accept_encoding = cf->precompressed,
        .cache_control = conf_cache_control_for(cf, rep->path, rep->path_len),
    };

    int cond = http_conditional(r, rep->etag, rep->etag_len, lm);
    if (cond == 412) {
        drop_file(c);
        respond_error(c, 412, head_only, NULL, 0);
        return;
    }
    if (cond == 304) {
        /* RFC 9110 15.4.5: the validators and caching fields, no body */
        drop_file(c);
        h.status = 304;
        h.no_length = true;
        h.content_type = NULL;
        h.accept_ranges = false;
        h.content_encoding = NULL;
        if (plan_head(c, &h) < 0) {
            respond_error(c, 500, head_only, NULL, 0);
            return;
        }
        conn_begin_send(c);
        return;
    }

    struct byte_range rg[CONN_MAX_RANGES];
    unsigned nr = 0;
    enum range_result rr = RANGE_NONE;
    /* Range and If-Range hold one value: several lines of either make it
     * invalid, and the whole representation is sent. */
    /* A date stands for the bytes (RFC 9110 8.8.2.2) only while the inode
     * changed last in the second of its mtime: a write that put an older
     * mtime back (cp -p, rsync -t), or a later chmod, moved the change time
     * on, and a range of the new bytes must not be spliced onto the old. */
    bool date_strong = rep->st->st_ctim.tv_sec == rep->st->st_mtim.tv_sec;
    if (r->method == HTTP_M_GET && r->range.n &&
        !(r->repeated & (HTTP_REP_RANGE | HTTP_REP_IF_RANGE)) &&
        http_if_range(r->if_range, rep->etag, rep->etag_len, lm, date_strong))
        rr = http_range_parse(r->range, size, rg, (unsigned)cf->max_ranges, &nr);
    if (rr == RANGE_OK && nr > 1 && cf->multiple_ranges == CONF_MULTI_FIRST)
        nr = 1;
    if (rr == RANGE_OK && nr > 1 && cf->multiple_ranges == CONF_MULTI_WHOLE)
        rr = RANGE_NONE;

    if (rr == RANGE_UNSATISFIABLE) {
        drop_file(c);
        struct resp_head e = {
            .status = 416,
            .content_range = true,
            .range_unsatisfied = true,
            .range_size = size,
        };
        if (plan_error_page(c, &e, head_only) < 0)
            goto fail;
        conn_begin_send(c);
        return;
    }

    c->file_size = size;
    if (rr == RANGE_OK && nr == 1) {
        h.status = 206;
        h.content_range = true;
        h.range_first = rg[0].first;
        h.range_last = rg[0].last;
        h.range_size = size;
        h.content_length = rg[0].last - rg[0].first + 1;
        if (plan_head(c, &h) < 0)
            goto fail;
        plan_body(c, rep, rg[0].first, h.content_length);
    } else if (rr == RANGE_OK) {
        /* multipart/byteranges: length computed from the exact part headers */
        char *area = conn_part_area(c);
        new_boundary(c, area);
        snprintf(area + CONN_BOUNDARY_MAX, CONN_CTYPE_MAX, "%s", rep->ctype);
        char ct[96], tmp[CONN_PART_MAX];
        snprintf(ct, sizeof(ct), "multipart/byteranges; boundary=%s", area);
        int trailer = snprintf(tmp, sizeof(tmp), "\r\n--%s--\r\n", area);
        uint64_t total = (uint64_t)trailer;
        uint16_t part_len[CONN_MAX_RANGES]; /* each part header's, as sent later */
        for (unsigned i = 0; i < nr; i++) {
            int ph = part_header(tmp, sizeof(tmp), area, area + CONN_BOUNDARY_MAX,
                                 rg[i].first, rg[i].last, size);
            if (ph < 0)
                goto fail;
            part_len[i] = (uint16_t)ph;
            total += (uint64_t)ph + rg[i].last - rg[i].first + 1;
        }
        h.status = 206;
        h.content_type = ct;
        h.content_length = total;
        if (plan_head(c, &h) < 0)
            goto fail;
        for (unsigned i = 0; i < nr; i++) {
            plan_add(c, SEG_PART, 0, part_len[i]);
            plan_body(c, rep, rg[i].first, rg[i].last - rg[i].first + 1);
        }
        plan_add(c, SEG_TRAILER, 0, (uint64_t)trailer);
    } else {
        if (plan_head(c, &h) < 0)
            goto fail;
        plan_body(c, rep, 0, size);
    }
    if (head_only) {
        c->nsegs = 1; /* the same head, no body */
        drop_file(c);
    }
    conn_begin_send(c);
    return;
fail:
    drop_file(c);
    respond_error(c, 500, head_only, NULL, 0);
}

/* The Content-Type of the open file f called path (a debug line when it
 * had to be detected rather than taken from the cache). */
static const char *detect_type(struct worker *w, const struct static_file *f, const char *path,
                               size_t len)
{
    bool detected;
    const char *ctype = mime_content_type(w->mime, w->conf, f->fd, &f->st, path, len, &detected);
    char lp[LOG_PATH_MAX];
    if (detected && w->conf->log_level >= LOG_DEBUG)
        log_msg(LOG_DEBUG, "content type of /%s: %s (detected)",
                log_path(lp, sizeof(lp), path, len), ctype);
    return ctype;
}

/* A file without the cache: the cache is off, precompressed variants are
 * on, or the cache did not take it (fcache_put returned NULL). */
static void respond_file(struct conn *c, const struct http_request *r, struct static_file *f,
                         const char *path, size_t path_len)
{
    struct worker *w = c->w;
    const struct conf *cf = w->conf;

    /* The type is the original's, whatever variant is sent. */
    const char *ctype = detect_type(w, f, path, path_len);
    const char *encoding = cf->precompressed ? pick_variant(c, r, path, path_len, f) : NULL;

    char etag[HTTP_ETAG_MAX];
    struct repr rep = {
        .st = &f->st,
        .ctype = ctype,
        .etag = etag,
        .etag_len = http_etag(&f->st, etag),
        .encoding = encoding,
        .path = path,
        .path_len = path_len,
    };
    c->file_fd = f->fd;
    respond_repr(c, r, &rep);
}

/* A file from the open-file cache. */
static void respond_cached(struct conn *c, const struct http_request *r, struct fcache_entry *e)
{
    c->centry = e; /* released when the response ends */
    c->file_fd = e->fd;
    struct repr rep = {
        .content = e->content,
        .st = &e->st,
        .ctype = e->ctype,
        .etag = e->etag,
        .etag_len = e->etag_len,
        .last_modified = e->last_modified,
        .path = e->path,
        .path_len = e->path_len,
    };
    respond_repr(c, r, &rep);
}

/* Test-suite fault (only with PYSERVED_TEST_FAULTS=1): this worker stops
 * making progress for good, as a deadlocked one would, so that the
 * watchdog test can see the service restarted. */
static void test_stall(struct worker *w)
{
    log_msg(LOG_WARNING, "test fault: worker %u stalls", w->id);
    for (;;)
        sleep(3600);
}

/* Test-suite fault: this worker waits, inside its loop, until the test
 * opens and closes the FIFO named by PYSERVED_TEST_PAUSE_FIFO (so that a
 * test can change files and queue connections while it is busy); then the
 * request goes on as any other (404). */
static void test_pause(struct worker *w)
{
    const char *fifo = getenv("PYSERVED_TEST_PAUSE_FIFO");
    if (!fifo)
        return;
    log_msg(LOG_WARNING, "test fault: worker %u pauses", w->id);
    int fd = open(fifo, O_RDONLY | O_CLOEXEC); /* blocks until the test opens it */
    if (fd >= 0) {
        char b[64];
        while (read(fd, b, sizeof(b)) > 0)
            ;
        close(fd);
    }
    log_msg(LOG_WARNING, "test fault: worker %u resumes", w->id);
}

void respond_request(struct conn *c, const struct http_request *r)
{
    struct worker *w = c->w;
    const struct conf *cf = w->conf;
    bool head_only = r->method == HTTP_M_HEAD;

    if (r->method == HTTP_M_OPTIONS) {
        /* OPTIONS * and OPTIONS /path: what this server does (RFC 9110 9.3.7).
         * Any other form (authority-form is CONNECT's) is a bad target. */
        if (r->form == HTTP_T_OTHER) {
            respond_error(c, 400, false, NULL, 0);
            return;
        }
        struct resp_head h = {.status = 204, .no_length = true, .allow = true};
        if (plan_head(c, &h) < 0)
            respond_error(c, 500, false, NULL, 0);
        else
            conn_begin_send(c);
        return;
    }
    if (r->method != HTTP_M_GET && r->method != HTTP_M_HEAD) {
        respond_error(c, r->method == HTTP_M_UNKNOWN ? 501 : 405, false, NULL, 0);
        return;
    }
    if (r->form != HTTP_T_ORIGIN && r->form != HTTP_T_ABSOLUTE) {
        respond_error(c, 400, head_only, NULL, 0);
        return;
    }
    struct ps_slice path = r->path.n ? r->path : (struct ps_slice){"/", 1};
    static const char stall[] = "/__pyserve_fault/stall", pause[] = "/__pyserve_fault/pause";
    if (w->srv->test_faults && path.n == sizeof(stall) - 1 && memcmp(path.p, stall, path.n) == 0)
        test_stall(w);
    if (w->srv->test_faults && path.n == sizeof(pause) - 1 && memcmp(path.p, pause, path.n) == 0)
        test_pause(w);

    /* scratch: first half the resolved path, second half variant names */
    char *rel = w->scratch;
    size_t half = w->scratch_cap / 2;
    struct path_result pr;
    unsigned flags = cf->dotfiles == CONF_DOTFILES_ALLOW ? PATH_ALLOW_DOTFILES : 0;
    int st = path_resolve(path.p, path.n, flags, rel, half, &pr);
    if (st < 0) {
        respond_error(c, -st, head_only, NULL, 0);
        return;
    }
    /* the root's path names nothing now (moved away): nothing is served */
    if (atomic_load_explicit(&cf->root_gone, memory_order_relaxed)) {
        respond_error(c, 404, head_only, NULL, 0);
        return;
    }
    bool use_cache = cf->file_cache_entries > 0 && !cf->precompressed;
    if (use_cache) {
        struct fcache_entry *e = fcache_get(w->fcache, cf->root_fd, rel, pr.len, w->now_ms,
                                              c->rseq, w->rseq);
        if (e && e->listing) {
            if (listing_over_budget(c, r)) {
                fcache_release(w->fcache, e);
                return;
            }
            c->centry = e;
            send_listing(c, r, rel, pr.len, (size_t)e->st.st_size);
            return;
        }
        if (e) {
            respond_cached(c, r, e);
            return;
        }
    }
    /* A listing's page may be kept only if what decides that there is one
     * (the names on the path) is watched before the path is opened. */
    bool listing_watched = false;
    if (use_cache && cf->autoindex && pr.trailing_slash) {
        listing_watched = fcache_listing_watch(w->fcache, cf->root_fd, rel, pr.len, w->rseq);
        if (!listing_watched)
            note_unwatched(w);
    }
    struct static_file f;
    st = static_open(cf->root_fd, rel, pr.trailing_slash, cf->index, cf->nindex, cf->autoindex,
                     &f);
    if (st == 301) {
        char *loc = w->scratch + half;
        size_t n = build_location(r, rel, pr.len, loc, half);
        if (n == 0)
            respond_error(c, 414, head_only, NULL, 0);
        else
            respond_error(c, 301, head_only, loc, n);
        return;
    }
    if (st == STATIC_LISTING) {
        respond_listing(c, r, f.fd, rel, pr.len, listing_watched);
        return;
    }
    if (st < 0) {
        char lp[LOG_PATH_MAX];
        /* once per request while it lasts (out of descriptors): limited */
        if (st == -500 || st == -503)
            log_limited(&w->open_log, w->now_ms, LOG_ERR, "open /%s under %s: %s; status %d",
                        log_path(lp, sizeof(lp), rel, pr.len), cf->root, strerror(f.err), -st);
        respond_error(c, -st, head_only, NULL, 0);
        return;
    }
    /* The representation's own path: with an index file, dir/ + index,
     * appended in place (the cache key stays rel[0..pr.len)). */
    size_t plen = pr.len;
    if (f.index) {
        size_t il = strlen(f.index);
        if (plen + il + 1 > half) {
            close(f.fd);
            respond_error(c, 414, head_only, NULL, 0);
            return;
        }
        memcpy(rel + plen, f.index, il + 1);
        plen += il;
    }
    if (use_cache) {
        /* with an index, the directory's stat (f.dir_st) tells the cache
         * later whether the choice may have changed */
        const char *ctype = detect_type(w, &f, rel, plen);
        struct fcache_entry *e = fcache_put(w->fcache, cf->root_fd, rel, pr.len, f.index,
                                            f.index ? &f.dir_st : NULL, f.fd, &f.st, ctype,
                                            w->now_ms);
        if (e && !e->watched)
            note_unwatched(w);
        if (e) {
            respond_cached(c, r, e);
            return;
        }
    }
    respond_file(c, r, &f, rel, plen);
}
