/* Per-worker cache of open files: what a request path resolved to (the fd,
 * its stat, Content-Type, ETag, Last-Modified, and the whole content of a
 * small file), so that a hit needs no open, fstat, read or close; head and
 * small body leave in one send. One worker owns each cache: no locks.
 * Entries are reference counted, so one evicted while a response still
 * sends from it lives on until that response ends.
 *
 * Validity: each entry is watched with inotify (the file, and every
 * directory from the root down to it), and any event on a watched object
 * empties the whole cache. Events are queued before the changing system
 * call returns, so a change made before a request was read is seen as long
 * as the queue is read after the request: a hit reads the queue first
 * unless it was already read after the request (the caller numbers its
 * socket reads, and reads all the sockets of an epoll batch before
 * answering any, so one non-blocking read of the queue serves the batch).
 * Where watching is not possible (a symbolic link on the path, no inotify,
 * the watch limit reached), and in any case once a second per entry as a
 * safety net for changes inotify does not report (writes through a shared
 * mapping, network file systems), a hit costs one fstatat() that confirms
 * the path still names the same unchanged file (device, inode, size, mtime,
 * ctime). The worker also reads the events when its epoll reports them,
 * and confirms unwatched entries once a second (fcache_sweep), so an idle
 * cache lets go of changed files. */
#ifndef PS_FCACHE_H
#define PS_FCACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include "http_cond.h"
#include "httpdate.h"

struct fcache_entry {
    struct fcache_entry *hnext;             /* hash chain */
    struct fcache_entry *lru_prev, *lru_next;
    unsigned refs;                          /* the table's and responses' */
    bool in_table;
    uint64_t hash;
    char *key;         /* the resolved request path, e.g. "d/" or "a/b.css" */
    size_t key_len;
    char *path;        /* the file's own path: key, or key + index name */
    size_t path_len;
    bool via_index;    /* key names a directory; dir_st is its stat */
    struct stat dir_st;
    int fd;            /* -1 when content holds the whole file */
    struct stat st;
    char *content;
    char *ctype;
    char etag[HTTP_ETAG_MAX];
    size_t etag_len;
    char last_modified[PS_HTTP_DATE_LEN + 1];
    bool watched;      /* every object on its path is watched */
    bool listing;      /* content is key's listing page, st.st_size its length */
    uint64_t checked_ms; /* last fstatat() confirmation; a listing: when made */
};

struct fcache;

/* max_entries 0: a cache that never stores (lookups miss). */
struct fcache *fcache_new(unsigned max_entries, size_t max_file);
void fcache_free(struct fcache *fc);

/* Drop every entry (a new configuration: root, index list or types may
 * differ). Entries in use stay alive until released. */
void fcache_clear(struct fcache *fc);

/* A valid entry for key (one reference taken), or NULL. Validity is checked
 * against the file system relative to root_fd when the entry is not watched
 * or was last checked a second or more before now_ms. A watched entry is
 * trusted once the inotify queue has been read after the request was:
 * read_seq is the caller's count of socket reads when the request's last
 * bytes were read, now_seq the count now; the queue is read first unless
 * it was read after read number read_seq already (see fcache_on_events). */
struct fcache_entry *fcache_get(struct fcache *fc, int root_fd, const char *key, size_t key_len,
                                uint64_t now_ms, uint64_t read_seq, uint64_t now_seq);

/* Store what key resolved to. fd is the open file (ownership passes to the
 * cache, which may close it after reading a small file whole); index is the
 * index file name when key names a directory (dir_st its stat). Returns
 * the entry with one reference for the caller, or NULL (not cacheable, out
 * of memory: the caller keeps using fd, which is then still the caller's). */
struct fcache_entry *fcache_put(struct fcache *fc, int root_fd, const char *key, size_t key_len,
                                const char *index, const struct stat *dir_st, int fd,
                                const struct stat *st, const char *ctype, uint64_t now_ms);

/* Listing pages (autoindex). Building one reads and stats every entry of
 * a directory (tens of milliseconds for thousands), so the page is kept,
 * under the directory's key, while nothing changes: every directory from
 * the root down to it is watched, the listed one also for changes to the
 * files in it (their sizes and times are on the page). With no fstatat
 * that could confirm a page, the once-a-second safety net is its age: a
 * page older than a second is made anew. Pages are kept only when all of
 * this can be watched, and up to FCACHE_LISTING_BYTES in all.
 *
 * Three steps, each before what it guards. fcache_listing_watch() reads
 * the pending events and watches the directories from the root down to
 * key's, before the path is opened: whether it is a listing at all (no
 * index file, a directory there) rests on the names in them.
 * fcache_listing_watch_files(), once it is a listing and before the
 * directory is read, adds the listed directory's files' data (so that a
 * directory with an index file is not watched for them). Each returns
 * whether its watches could all be added. fcache_listing_put(), once the
 * page is made, stores it unless an event arrived since the first step.
 * On success the page is the cache's, and the entry comes with one
 * reference for the caller; otherwise (NULL) the page is still the
 * caller's. */
#define FCACHE_LISTING_BYTES (8u << 20)
bool fcache_listing_watch(struct fcache *fc, int root_fd, const char *key, size_t key_len,
                          uint64_t now_seq);
bool fcache_listing_watch_files(struct fcache *fc, int root_fd, const char *key, size_t key_len);
struct fcache_entry *fcache_listing_put(struct fcache *fc, const char *key, size_t key_len,
                                        char *page, size_t len, uint64_t now_ms,
                                        uint64_t now_seq);

/* Why entries go unwatched, for the log: the errno of inotify_init1 (no
 * instance: fs.inotify.max_user_instances) or of the first watch refused
 * for want of resources (ENOSPC: fs.inotify.max_user_watches), or 0. */
int fcache_watch_error(const struct fcache *fc);

/* The inotify descriptor the worker polls (EPOLLIN), or -1 without one. */
int fcache_event_fd(const struct fcache *fc);

/* From the worker's loop: confirm entries that are not watched and were not
 * confirmed for a second, hit or not, and drop those whose path names
 * another file now; so the descriptor of a file removed or replaced behind a
 * symbolic link is closed (and its disk space freed) soon, not when the path
 * is asked for again. A call does a bounded part of a pass over the cache
 * and returns true when the pass is complete (call again at once while it
 * returns false, and a second after it returned true). */
bool fcache_sweep(struct fcache *fc, int root_fd, uint64_t now_ms);

/* Read the pending events (the descriptor is non-blocking); any change
 * empties the cache. now_seq is the caller's count of socket reads so far:
 * a request read by one of them needs no further look at the queue.
 * Returns whether the cache was emptied. */
bool fcache_on_events(struct fcache *fc, uint64_t now_seq);

/* Release a reference from fcache_get/fcache_put. The entry need not be
 * fc's any more: after a reload the worker releases entries of a cache it
 * has freed (an entry outside a table lives on its references alone). */
void fcache_release(struct fcache *fc, struct fcache_entry *e);

/* Largest file kept in memory whole. */
size_t fcache_max_file(const struct fcache *fc);

#endif
