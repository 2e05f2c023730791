/* Open-file cache of one worker: a chained hash table on the request path
 * plus an LRU list, both bounded by max_entries, and an inotify instance
 * whose watches (the cached files and their directories) are all dropped
 * whenever the cache is emptied. */
#include "config.h"

#include "fcache.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <unistd.h>

#define RECHECK_MS 1000 /* a watched entry is still confirmed this often */
/* One fcache_sweep call looks at this many entries at most, and confirms
 * this many (an fstatat is 1-2 us): the loop is never held long. */
#define SWEEP_LOOK 1024
#define SWEEP_CHECK 32
/* Watched on each directory from the root down: a name appearing, going,
 * moving (which may change what a path resolves to), a permission change,
 * and the directory itself going away. Data changes of other files in it
 * do not matter. */
#define DIR_EVENTS                                                                                  \
    (IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_ATTRIB | IN_DELETE_SELF |            \
     IN_MOVE_SELF | IN_ONLYDIR)
/* ... and on the file: its content, size, times, permissions, links. */
#define FILE_EVENTS (IN_MODIFY | IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF)
/* ... and on a listed directory, also the data of the files in it (a
 * directory's watch reports its children's IN_ATTRIB already). */
#define LISTED_EVENTS IN_MODIFY

struct fcache {
    struct fcache_entry **buckets;
    unsigned nbuckets; /* power of two */
    unsigned count, max_entries;
    size_t max_file;
    struct fcache_entry *lru_head, *lru_tail; /* head: most recent */
    struct fcache_entry *sweep_next; /* where fcache_sweep goes on; NULL: the tail */
    unsigned unwatched; /* entries in the table fcache_sweep confirms */
    int ino_fd;    /* -1: no inotify, every hit is confirmed with fstatat */
    int *wds;      /* watches added since the cache was last emptied */
    unsigned nwds, wds_cap;
    uint64_t synced; /* the queue was last read after the caller's read number synced */
    size_t listing_bytes; /* listing pages in the table */
    int watch_err;        /* fcache_watch_error() */
};

static uint64_t hash_key(const char *k, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)k[i]) * 1099511628211ull;
    return h;
}

struct fcache *fcache_new(unsigned max_entries, size_t max_file)
{
    struct fcache *fc = calloc(1, sizeof(*fc));
    if (!fc)
        return NULL;
    fc->max_entries = max_entries;
    fc->max_file = max_file;
    fc->nbuckets = 16;
    while (fc->nbuckets < max_entries && fc->nbuckets < (1u << 24))
        fc->nbuckets <<= 1;
    fc->buckets = calloc(fc->nbuckets, sizeof(*fc->buckets));
    if (!fc->buckets) {
        free(fc);
        return NULL;
    }
    fc->ino_fd = max_entries ? inotify_init1(IN_NONBLOCK | IN_CLOEXEC) : -1;
    if (max_entries && fc->ino_fd < 0)
        fc->watch_err = errno;
    return fc;
}

int fcache_watch_error(const struct fcache *fc)
{
    return fc->watch_err;
}

int fcache_event_fd(const struct fcache *fc)
{
    return fc->ino_fd;
}

size_t fcache_max_file(const struct fcache *fc)
{
    return fc->max_file;
}

static void entry_free(struct fcache_entry *e)
{
    if (e->fd >= 0)
        close(e->fd);
    free(e->key);
    free(e->path);
    free(e->content);
    free(e->ctype);
    free(e);
}

void fcache_release(struct fcache *fc, struct fcache_entry *e)
{
    (void)fc;
    if (e && --e->refs == 0)
        entry_free(e);
}

static void lru_unlink(struct fcache *fc, struct fcache_entry *e)
{
    if (fc->sweep_next == e)
        fc->sweep_next = e->lru_prev;
    if (e->lru_prev)
        e->lru_prev->lru_next = e->lru_next;
    else
        fc->lru_head = e->lru_next;
    if (e->lru_next)
        e->lru_next->lru_prev = e->lru_prev;
    else
        fc->lru_tail = e->lru_prev;
    e->lru_prev = e->lru_next = NULL;
}

static void lru_push_front(struct fcache *fc, struct fcache_entry *e)
{
    e->lru_prev = NULL;
    e->lru_next = fc->lru_head;
    if (fc->lru_head)
        fc->lru_head->lru_prev = e;
    fc->lru_head = e;
    if (!fc->lru_tail)
        fc->lru_tail = e;
}

/* Take e out of the table (the table's reference goes). */
static void remove_entry(struct fcache *fc, struct fcache_entry *e)
{
    struct fcache_entry **pp = &fc->buckets[e->hash & (fc->nbuckets - 1)];
    while (*pp && *pp != e)
        pp = &(*pp)->hnext;
    if (*pp)
        *pp = e->hnext;
    e->hnext = NULL;
    lru_unlink(fc, e);
    e->in_table = false;
    fc->count--;
    fc->unwatched -= !e->watched && !e->listing;
    if (e->listing)
        fc->listing_bytes -= (size_t)e->st.st_size;
    fcache_release(fc, e);
}

void fcache_clear(struct fcache *fc)
{
    while (fc->lru_head)
        remove_entry(fc, fc->lru_head);
    /* the events removing a watch queues (IN_IGNORED) are skipped */
    for (unsigned i = 0; i < fc->nwds; i++)
        inotify_rm_watch(fc->ino_fd, fc->wds[i]);
    fc->nwds = 0;
}

void fcache_free(struct fcache *fc)
{
    if (!fc)
        return;
    fcache_clear(fc);
    if (fc->ino_fd >= 0)
        close(fc->ino_fd);
    free(fc->wds);
    free(fc->buckets);
    free(fc);
}

/* The queue is looked at under inotify's own lock: FIONREAD counts it
 * there (180 ns; an empty read costs 260), and only a queue with events in
 * it is read. A lock-free look (a zero-timeout epoll_wait on an epoll
 * instance holding only ino_fd, 95 ns) is not exact: an event that merges
 * into one still being queued returns before that one's wake-up has put
 * the descriptor on any ready list, so a request sent after the second
 * change could be served from the cache. */
bool fcache_on_events(struct fcache *fc, uint64_t now_seq)
{
    char buf[4096];
    bool changed = false;
    int queued = 1;
    if (ioctl(fc->ino_fd, FIONREAD, &queued) == 0 && queued == 0) {
        fc->synced = now_seq;
        return false;
    }
    for (;;) {
        ssize_t n = read(fc->ino_fd, buf, sizeof(buf));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        for (const char *p = buf; p + sizeof(struct inotify_event) <= buf + n;) {
            struct inotify_event ev; /* copied: no cast of a char pointer (alignment) */
            memcpy(&ev, p, sizeof(ev));
            if (!(ev.mask & IN_IGNORED))
                changed = true; /* IN_Q_OVERFLOW included: something was lost */
            p += sizeof(ev) + ev.len;
        }
    }
    fc->synced = now_seq;
    if (changed)
        fcache_clear(fc);
    return changed;
}

/* Watch path (relative to the root, "" for the root itself) through
 * /proc/self/fd: the root's descriptor, not its name, which may have been
 * replaced since it was opened. Returns false when it cannot be watched. */
static bool add_watch(struct fcache *fc, int root_fd, const char *path, size_t len, uint32_t mask)
{
    char full[64 + PATH_MAX];
    int n = snprintf(full, sizeof(full), "/proc/self/fd/%d/%.*s", root_fd, (int)len, path);
    if (n < 0 || (size_t)n >= sizeof(full))
        return false;
    if (fc->nwds == fc->wds_cap) {
        unsigned cap = fc->wds_cap ? 2 * fc->wds_cap : 64;
        int *nw = realloc(fc->wds, cap * sizeof(*nw));
        if (!nw)
            return false;
        fc->wds = nw;
        fc->wds_cap = cap;
    }
    /* below the root, a symbolic link swapped in since the caller's check
     * is not followed (and, for a directory, not watched: IN_ONLYDIR);
     * IN_MASK_ADD: a directory watched for a listing keeps LISTED_EVENTS
     * when a file in it is watched afterwards */
    mask |= IN_MASK_ADD;
    int wd = inotify_add_watch(fc->ino_fd, full, len ? mask | IN_DONT_FOLLOW : mask);
    if (wd < 0) {
        if ((errno == ENOSPC || errno == ENOMEM) && !fc->watch_err)
            fc->watch_err = errno;
        return false;
    }
    /* the same object again gives the same wd: record each once (wds only
     * grow within an instance, so a new one is above all recorded) */
    if (fc->nwds == 0 || wd > fc->wds[fc->nwds - 1])
        fc->wds[fc->nwds++] = wd;
    return true;
}

/* Watch the root and each directory of path (the part before each '/').
 * A symbolic link anywhere on the path may lead through directories that
 * are not watched: false, and the caller confirms its entry with fstatat
 * on every hit instead. */
static bool watch_dirs(struct fcache *fc, int root_fd, const char *path, size_t len)
{
    if (fc->ino_fd < 0 || !add_watch(fc, root_fd, "", 0, DIR_EVENTS))
        return false;
    struct stat st;
    for (size_t i = 0; i < len; i++) {
        if (path[i] != '/')
            continue;
        char dir[PATH_MAX];
        if (i >= sizeof(dir))
            return false;
        memcpy(dir, path, i);
        dir[i] = '\0';
        if (fstatat(root_fd, dir, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode) ||
            !add_watch(fc, root_fd, path, i, DIR_EVENTS))
            return false;
    }
    return true;
}

/* Watch e's file and each directory from the root down to it. */
static bool watch_entry(struct fcache *fc, int root_fd, const struct fcache_entry *e)
{
    struct stat st;
    if (!watch_dirs(fc, root_fd, e->path, e->path_len) ||
        fstatat(root_fd, e->path, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
        return false;
    return add_watch(fc, root_fd, e->path, e->path_len, FILE_EVENTS);
}

/* Evicted entries leave their watches behind; start afresh before they
 * outnumber what the entries need by far. */
static void trim_watches(struct fcache *fc)
{
    if (fc->nwds > 8 * fc->max_entries + 64)
        fcache_clear(fc);
}

static bool same_file(const struct stat *a, const struct stat *b)
{
    return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
           a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
           a->st_ctim.tv_sec == b->st_ctim.tv_sec && a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

/* Does the path still name the very file we hold? fstatat follows links
 * freely, but only to compare: a path that now leads elsewhere (even out of
 * the root) names another inode, so it is a miss and the caller resolves it
 * beneath the root again; nothing is read through this lookup. */
static bool still_valid(int root_fd, const struct fcache_entry *e)
{
    struct stat st;
    if (e->via_index) {
        /* a new or removed file in the directory may change which index
         * file wins: the directory's mtime and ctime tell */
        if (fstatat(root_fd, e->key_len ? e->key : ".", &st, 0) < 0 ||
            !same_file(&st, &e->dir_st))
            return false;
    }
    return fstatat(root_fd, e->path, &st, 0) == 0 && same_file(&st, &e->st);
}

struct fcache_entry *fcache_get(struct fcache *fc, int root_fd, const char *key, size_t key_len,
                                uint64_t now_ms, uint64_t read_seq, uint64_t now_seq)
{
    if (fc->max_entries == 0)
        return NULL;
    uint64_t h = hash_key(key, key_len);
    struct fcache_entry *e = fc->buckets[h & (fc->nbuckets - 1)];
    while (e && !(e->hash == h && e->key_len == key_len && memcmp(e->key, key, key_len) == 0))
        e = e->hnext;
    if (!e)
        return NULL;
    /* Events are queued before the change's system call returns, so a
     * queue read empty after the request was read means nothing changed
     * before it. The worker reads the sockets of an epoll batch first, so
     * one look at the queue covers the whole batch. */
    if (e->watched && read_seq > fc->synced && fcache_on_events(fc, now_seq))
        return NULL; /* emptied */
    if (e->listing && now_ms - e->checked_ms >= RECHECK_MS) {
        remove_entry(fc, e); /* no fstatat can confirm a page: made anew */
        return NULL;
    }
    if (!e->watched || now_ms - e->checked_ms >= RECHECK_MS) {
        if (!still_valid(root_fd, e)) {
            remove_entry(fc, e);
            return NULL;
        }
        e->checked_ms = now_ms;
    }
    lru_unlink(fc, e);
    lru_push_front(fc, e);
    e->refs++;
    return e;
}

bool fcache_sweep(struct fcache *fc, int root_fd, uint64_t now_ms)
{
    if (fc->unwatched == 0) {
        fc->sweep_next = NULL; /* inotify sees to every entry: nothing to walk */
        return true;
    }
    unsigned looked = 0, checked = 0;
    struct fcache_entry *e = fc->sweep_next ? fc->sweep_next : fc->lru_tail;
    while (e && looked < SWEEP_LOOK && checked < SWEEP_CHECK) {
        struct fcache_entry *older_first = e->lru_prev; /* from the tail to the head */
        looked++;
        if (!e->watched && !e->listing && now_ms - e->checked_ms >= RECHECK_MS) {
            checked++;
            if (still_valid(root_fd, e))
                e->checked_ms = now_ms;
            else
                remove_entry(fc, e);
        }
        e = older_first;
    }
    fc->sweep_next = e;
    return e == NULL;
}

/* Put e in the table in place of an older entry for its key, making room
 * (the least recently used go); e has a reference for the table and one
 * for the caller. */
static void insert(struct fcache *fc, struct fcache_entry *e)
{
    uint64_t h = hash_key(e->key, e->key_len);
    for (struct fcache_entry *o = fc->buckets[h & (fc->nbuckets - 1)]; o; o = o->hnext)
        if (o->hash == h && o->key_len == e->key_len && memcmp(o->key, e->key, e->key_len) == 0) {
            remove_entry(fc, o);
            break;
        }
    while (fc->count >= fc->max_entries && fc->lru_tail)
        remove_entry(fc, fc->lru_tail);
    e->hash = h;
    e->hnext = fc->buckets[h & (fc->nbuckets - 1)];
    fc->buckets[h & (fc->nbuckets - 1)] = e;
    e->in_table = true;
    e->refs = 2; /* the table's and the caller's */
    fc->count++;
    fc->unwatched += !e->watched && !e->listing;
    lru_push_front(fc, e);
}

struct fcache_entry *fcache_put(struct fcache *fc, int root_fd, const char *key, size_t key_len,
                                const char *index, const struct stat *dir_st, int fd,
                                const struct stat *st, const char *ctype, uint64_t now_ms)
{
    if (fc->max_entries == 0)
        return NULL;
    struct fcache_entry *e = calloc(1, sizeof(*e));
    if (!e)
        return NULL;
    size_t il = index ? strlen(index) : 0;
    e->fd = -1;
    e->key = strndup(key, key_len);
    e->key_len = key_len;
    e->path = malloc(key_len + il + 1);
    e->ctype = strdup(ctype);
    if (!e->key || !e->path || !e->ctype) {
        entry_free(e);
        return NULL;
    }
    memcpy(e->path, key, key_len);
    memcpy(e->path + key_len, index ? index : "", il + 1);
    e->path_len = key_len + il;
    e->via_index = index != NULL;
    if (dir_st)
        e->dir_st = *dir_st;
    e->st = *st;
    e->etag_len = http_etag(st, e->etag);
    ps_http_date_format(st->st_mtim.tv_sec, e->last_modified);

    trim_watches(fc);
    /* Watch first, then confirm: a change between the caller's open and
     * the watches is caught by the confirmation, one after them by an
     * event. */
    e->watched = watch_entry(fc, root_fd, e);
    if (!still_valid(root_fd, e)) {
        entry_free(e); /* fd is still the caller's */
        return NULL;
    }
    e->checked_ms = now_ms;

    if ((uint64_t)st->st_size <= fc->max_file) {
        /* small: keep it whole and let the fd go */
        size_t n = (size_t)st->st_size, got = 0;
        e->content = malloc(n ? n : 1);
        if (!e->content) {
            entry_free(e);
            return NULL;
        }
        while (got < n) {
            ssize_t r = pread(fd, e->content + got, n - got, (off_t)got);
            if (r < 0 && errno == EINTR)
                continue;
            if (r <= 0)
                break;
            got += (size_t)r;
        }
        if (got != n) { /* changed under us: do not cache */
            entry_free(e);
            return NULL;
        }
        close(fd);
    } else {
        e->fd = fd;
    }

    insert(fc, e);
    return e;
}

bool fcache_listing_watch(struct fcache *fc, int root_fd, const char *key, size_t key_len,
                          uint64_t now_seq)
{
    if (fc->max_entries == 0 || fc->ino_fd < 0)
        return false;
    /* events from before: read now, so that fcache_listing_put sees only
     * those that came after the watches */
    fcache_on_events(fc, now_seq);
    trim_watches(fc);
    return watch_dirs(fc, root_fd, key, key_len);
}

bool fcache_listing_watch_files(struct fcache *fc, int root_fd, const char *key, size_t key_len)
{
    /* "a/b/" lists "a/b", "" the root; the queue is not read here: what
     * came since fcache_listing_watch is for fcache_listing_put to see */
    size_t dl = key_len ? key_len - 1 : 0;
    return fc->ino_fd >= 0 && add_watch(fc, root_fd, key, dl, DIR_EVENTS | LISTED_EVENTS);
}

struct fcache_entry *fcache_listing_put(struct fcache *fc, const char *key, size_t key_len,
                                        char *page, size_t len, uint64_t now_ms,
                                        uint64_t now_seq)
{
    if (fc->max_entries == 0 || len > FCACHE_LISTING_BYTES || fcache_on_events(fc, now_seq))
        return NULL; /* a change since the watches: the page may show the old state */
    struct fcache_entry *e = calloc(1, sizeof(*e));
    if (!e)
        return NULL;
    e->fd = -1;
    e->key = strndup(key, key_len);
    e->path = strndup(key, key_len);
    if (!e->key || !e->path) {
        entry_free(e);
        return NULL;
    }
    e->key_len = e->path_len = key_len;
    e->listing = true;
    e->watched = true;
    e->checked_ms = now_ms;
    e->st.st_size = (off_t)len;
    /* the oldest pages go first to keep within the bound */
    for (struct fcache_entry *o = fc->lru_tail; o && fc->listing_bytes + len > FCACHE_LISTING_BYTES;) {
        struct fcache_entry *prev = o->lru_prev;
        if (o->listing)
            remove_entry(fc, o);
        o = prev;
    }
    e->content = page;
    insert(fc, e);
    fc->listing_bytes += len;
    return e;
}
