/* Unit tests of the per-worker open-file cache (src/pyserved/fcache.h):
 * hits and misses, the LRU bound, reference counting, and validity (inotify
 * events, the ordering contract of read_seq/now_seq, fstatat confirmation
 * of unwatched entries and once a second of watched ones). Each test works
 * in a fresh directory under /tmp; no test sleeps: time is a counter (but
 * for wait_tick, at most a clock tick for a change time to move). */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fcache.h"
#include "check_run.h"

#define BIG (1u << 16) /* max_file: every file of these tests is kept whole */

/* base: one directory for the run (made and removed by the unchecked
 * fixture, in the parent process, so that a failing test, whose forked
 * child ends at the failed assertion, leaves nothing behind); top: a fresh
 * directory under it for each test, the cache's root. */
static char base[64];
static char top[96];
static int root_fd = -1;

static void rm_rf(const char *dir)
{
    char cmd[160];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
}

static void suite_setup(void)
{
    strcpy(base, "/tmp/pyserve-fcache.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(base));
}

static void suite_teardown(void)
{
    rm_rf(base);
}

static void setup(void)
{
    snprintf(top, sizeof(top), "%s/t.XXXXXX", base);
    ck_assert_ptr_nonnull(mkdtemp(top));
    root_fd = open(top, O_PATH | O_DIRECTORY | O_CLOEXEC);
    ck_assert_int_ge(root_fd, 0);
}

static void teardown(void)
{
    close(root_fd);
    root_fd = -1;
    rm_rf(top);
}

/* Create (or truncate) rel under the root with content. */
static void wfile(const char *rel, const char *content)
{
    int fd = openat(root_fd, rel, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    ck_assert_int_ge(fd, 0);
    size_t n = strlen(content);
    ck_assert_int_eq(write(fd, content, n), (ssize_t)n);
    close(fd);
}

/* Append to rel: a change of content and size (so fstatat sees it whatever
 * the timestamp granularity), and IN_MODIFY on the file. */
static void append(const char *rel, const char *content)
{
    int fd = openat(root_fd, rel, O_WRONLY | O_APPEND | O_CLOEXEC);
    ck_assert_int_ge(fd, 0);
    size_t n = strlen(content);
    ck_assert_int_eq(write(fd, content, n), (ssize_t)n);
    close(fd);
}

/* Wait (at most a second) until the kernel's coarse clock, which file
 * timestamps come from, is past t: a change made then has later times. */
static void wait_tick(const struct timespec *t)
{
    struct timespec now;
    const struct timespec ms = {0, 1000000};
    for (int i = 0; i < 1000; i++) {
        ck_assert_int_eq(clock_gettime(CLOCK_REALTIME_COARSE, &now), 0);
        if (now.tv_sec > t->tv_sec || (now.tv_sec == t->tv_sec && now.tv_nsec > t->tv_nsec))
            return;
        nanosleep(&ms, NULL);
    }
    ck_abort_msg("the clock did not pass %lld.%09ld", (long long)t->tv_sec, t->tv_nsec);
}

static void mkd(const char *rel)
{
    ck_assert_int_eq(mkdirat(root_fd, rel, 0755), 0);
}

/* real/ and ln -> real: what is reached through ln/ is not watched */
static void mk_linked_dir(void)
{
    mkd("real");
    ck_assert_int_eq(symlinkat("real", root_fd, "ln"), 0);
}

static bool fd_open(int fd)
{
    return fcntl(fd, F_GETFD) != -1 || errno != EBADF;
}

/* What respond.c does for a plain file: open it, fstat it, offer it to the
 * cache. The cache owns the fd when it returns an entry; otherwise it is
 * still ours (checked) and closed here. */
static struct fcache_entry *put(struct fcache *fc, const char *rel, uint64_t now_ms)
{
    int fd = openat(root_fd, rel, O_RDONLY | O_CLOEXEC);
    ck_assert_int_ge(fd, 0);
    struct stat st;
    ck_assert_int_eq(fstat(fd, &st), 0);
    struct fcache_entry *e =
        fcache_put(fc, root_fd, rel, strlen(rel), NULL, NULL, fd, &st, "text/plain", now_ms);
    if (!e) {
        ck_assert_msg(fd_open(fd), "a refused put closed the caller's fd");
        close(fd);
    }
    return e;
}

/* put() of a plain file that must be cached and watched; the reference is
 * given back, the entry returned for comparisons */
static struct fcache_entry *put_watched(struct fcache *fc, const char *rel, uint64_t now_ms)
{
    struct fcache_entry *e = put(fc, rel, now_ms);
    ck_assert_ptr_nonnull(e);
    ck_assert(e->watched);
    fcache_release(fc, e);
    return e;
}

/* Store directory key (dir, as fstatat names it) with its index file at
 * path, as respond.c does; the entry must be stored, via the index, and
 * watched as watched says. */
static struct fcache_entry *put_index_w(struct fcache *fc, const char *key, const char *dir,
                                        const char *index, const char *path, bool watched)
{
    struct stat dir_st, st;
    ck_assert_int_eq(fstatat(root_fd, dir, &dir_st, 0), 0);
    int fd = openat(root_fd, path, O_RDONLY | O_CLOEXEC);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(fstat(fd, &st), 0);
    struct fcache_entry *e =
        fcache_put(fc, root_fd, key, strlen(key), index, &dir_st, fd, &st, "text/html", 0);
    ck_assert_ptr_nonnull(e);
    ck_assert(e->via_index);
    ck_assert(e->watched == watched);
    ck_assert_str_eq(e->key, key);
    ck_assert_str_eq(e->path, path);
    return e;
}

static struct fcache_entry *put_index(struct fcache *fc, const char *key, const char *dir,
                                      const char *index, const char *path)
{
    return put_index_w(fc, key, dir, index, path, true);
}

static struct fcache_entry *get(struct fcache *fc, const char *rel, uint64_t now_ms,
                                uint64_t read_seq, uint64_t now_seq)
{
    return fcache_get(fc, root_fd, rel, strlen(rel), now_ms, read_seq, now_seq);
}

/* e holds rel's content whole, equal to want */
static void ck_content(const struct fcache_entry *e, const char *want)
{
    size_t n = strlen(want);
    ck_assert_int_eq(e->fd, -1);
    ck_assert_ptr_nonnull(e->content);
    ck_assert_int_eq((long long)e->st.st_size, (long long)n);
    ck_assert_int_eq(memcmp(e->content, want, n), 0);
}

/* 1. put then get: the same entry for the same key, a miss for another. */
START_TEST(test_put_get)
{
    wfile("a.txt", "AAA");
    wfile("b.txt", "BBB");
    struct fcache *fc = fcache_new(8, BIG);
    ck_assert_ptr_nonnull(fc);
    ck_assert_int_ge(fcache_event_fd(fc), 0);
    ck_assert_uint_eq(fcache_max_file(fc), BIG);

    struct fcache_entry *e = put(fc, "a.txt", 0);
    ck_assert_ptr_nonnull(e);
    ck_assert_uint_eq(e->refs, 2); /* the table's and ours */
    ck_assert(e->in_table);
    ck_assert_str_eq(e->key, "a.txt");
    ck_assert_str_eq(e->path, "a.txt");
    ck_assert(!e->via_index);
    ck_assert_str_eq(e->ctype, "text/plain");
    ck_assert_uint_gt(e->etag_len, 0);
    ck_content(e, "AAA");

    struct fcache_entry *g = get(fc, "a.txt", 0, 0, 0);
    ck_assert_ptr_eq(g, e);
    ck_assert_uint_eq(e->refs, 3);
    fcache_release(fc, g);
    ck_assert_uint_eq(e->refs, 2);
    fcache_release(fc, e);
    ck_assert_uint_eq(e->refs, 1); /* the table's */

    ck_assert_ptr_null(get(fc, "b.txt", 0, 0, 0));
    ck_assert_ptr_null(get(fc, "a.tx", 0, 0, 0));
    ck_assert_ptr_null(get(fc, "a.txt/", 0, 0, 0));
    /* only key_len bytes of the key count */
    g = fcache_get(fc, root_fd, "a.txtX", 5, 0, 0, 0);
    ck_assert_ptr_eq(g, e);
    fcache_release(fc, g);
    fcache_free(fc);
}
END_TEST

/* 1. max_entries 0: never stores, the fd stays the caller's, no inotify. */
START_TEST(test_no_store)
{
    wfile("a.txt", "AAA");
    struct fcache *fc = fcache_new(0, BIG);
    ck_assert_ptr_nonnull(fc);
    ck_assert_int_eq(fcache_event_fd(fc), -1);
    ck_assert_ptr_null(put(fc, "a.txt", 0)); /* put() checks the fd is still open */
    ck_assert_ptr_null(get(fc, "a.txt", 0, 0, 0));
    ck_assert_ptr_null(get(fc, "a.txt", 0, 1, 1));
    fcache_clear(fc);
    fcache_free(fc);
}
END_TEST

/* A file up to max_file is read whole and its fd closed; a larger one keeps
 * the fd the caller gave. */
START_TEST(test_whole_or_fd)
{
    wfile("small", "1234");
    wfile("large", "12345");
    struct fcache *fc = fcache_new(8, 4);

    int fd = openat(root_fd, "small", O_RDONLY | O_CLOEXEC);
    ck_assert_int_ge(fd, 0);
    struct stat st;
    ck_assert_int_eq(fstat(fd, &st), 0);
    struct fcache_entry *s = fcache_put(fc, root_fd, "small", 5, NULL, NULL, fd, &st, "x/y", 0);
    ck_assert_ptr_nonnull(s);
    ck_content(s, "1234");
    ck_assert(!fd_open(fd)); /* nothing opened since: the number is free */

    fd = openat(root_fd, "large", O_RDONLY | O_CLOEXEC);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(fstat(fd, &st), 0);
    struct fcache_entry *l = fcache_put(fc, root_fd, "large", 5, NULL, NULL, fd, &st, "x/y", 0);
    ck_assert_ptr_nonnull(l);
    ck_assert_int_eq(l->fd, fd);
    ck_assert_ptr_null(l->content);
    ck_assert(fd_open(fd));

    fcache_release(fc, s);
    fcache_release(fc, l);
    fcache_free(fc);
    ck_assert(!fd_open(fd)); /* the cache closed it with the entry */
}
END_TEST

/* A second put for a key replaces the first entry. */
START_TEST(test_replace_same_key)
{
    wfile("a.txt", "one");
    struct fcache *fc = fcache_new(8, BIG);
    struct fcache_entry *e1 = put(fc, "a.txt", 0);
    ck_assert_ptr_nonnull(e1);
    wfile("a.txt", "two!"); /* queues events, which nothing below reads */
    struct fcache_entry *e2 = put(fc, "a.txt", 1);
    ck_assert_ptr_nonnull(e2);
    ck_assert(!e1->in_table);
    ck_assert_uint_eq(e1->refs, 1); /* only ours is left */
    ck_content(e1, "one");
    struct fcache_entry *g = get(fc, "a.txt", 1, 0, 0);
    ck_assert_ptr_eq(g, e2);
    ck_content(g, "two!");
    fcache_release(fc, g);
    fcache_release(fc, e2);
    fcache_release(fc, e1);
    fcache_free(fc);
}
END_TEST

/* 2. A plain file in a plain directory is watched, and stays valid while
 * nothing changes, whether the queue is read (read_seq > synced) or the
 * once-a-second fstatat confirmation runs. */
START_TEST(test_watched_valid)
{
    mkd("d");
    wfile("d/f.txt", "content");
    struct fcache *fc = fcache_new(8, BIG);
    struct fcache_entry *e = put_watched(fc, "d/f.txt", 0); /* synced is 0 */
    ck_assert_uint_eq(e->checked_ms, 0);

    /* read 1 comes after the last look at the queue: it is read, empty */
    struct fcache_entry *g = get(fc, "d/f.txt", 10, 1, 1);
    ck_assert_ptr_eq(g, e);
    ck_content(g, "content");
    fcache_release(fc, g);
    g = get(fc, "d/f.txt", 20, 2, 3);
    ck_assert_ptr_eq(g, e);
    fcache_release(fc, g);
    ck_assert_uint_eq(e->checked_ms, 0); /* no fstatat on those hits */

    /* a second later: confirmed with fstatat, still the same file */
    g = get(fc, "d/f.txt", 5000, 3, 3);
    ck_assert_ptr_eq(g, e);
    ck_assert_uint_eq(e->checked_ms, 5000);
    fcache_release(fc, g);
    ck_assert(!fcache_on_events(fc, 4));
    fcache_free(fc);
}
END_TEST

/* 3. The ordering contract. */
START_TEST(test_ordering)
{
    wfile("f.txt", "old");
    struct fcache *fc = fcache_new(8, BIG);
    struct fcache_entry *e = put_watched(fc, "f.txt", 0);
    struct fcache_entry *g = get(fc, "f.txt", 0, 1, 1);
    ck_assert_ptr_eq(g, e);
    fcache_release(fc, g);

    /* the queue is read after socket read number 5: nothing pending */
    ck_assert(!fcache_on_events(fc, 5));
    append("f.txt", "+new");

    /* (a) A request read by read 5 or earlier was read before the queue
     * was last read, hence possibly before the change: serving it the old
     * file is what the contract allows (the change may as well have come
     * after it), and saves the look at the queue. This is intended. */
    g = get(fc, "f.txt", 0, 5, 6);
    ck_assert_ptr_eq(g, e);
    ck_content(g, "old");
    fcache_release(fc, g);

    /* (b) Read 6 came after that look: the change may precede it, so the
     * queue is read, the event found, the cache emptied: a miss. */
    ck_assert_ptr_null(get(fc, "f.txt", 0, 6, 6));
    ck_assert_ptr_null(get(fc, "f.txt", 0, 6, 6));
    ck_assert_ptr_null(get(fc, "f.txt", 0, 1, 7));
    ck_assert(!fcache_on_events(fc, 7)); /* the get drained the queue */

    /* the new content caches again */
    e = put(fc, "f.txt", 0);
    ck_assert_ptr_nonnull(e);
    ck_content(e, "old+new");
    fcache_release(fc, e);
    fcache_free(fc);
}
END_TEST

/* After a change named name (or none): the queue read at seq shows it
 * exactly when changes, and is then drained; e is gone from the cache when
 * it changed and still there under key when not. */
static void ck_after_change(struct fcache *fc, const char *key, struct fcache_entry *e,
                            bool changes, const char *name, uint64_t seq)
{
    ck_assert_msg(fcache_on_events(fc, seq) == changes, "%s: fcache_on_events() should be %s",
                  name, changes ? "true" : "false");
    ck_assert(!fcache_on_events(fc, seq + 1)); /* drained */
    /* read_seq seq <= synced: the queue is not the reason of what follows */
    struct fcache_entry *g = get(fc, key, 0, seq, seq + 1);
    if (changes) {
        ck_assert_msg(g == NULL, "%s: still cached", name);
    } else {
        ck_assert_msg(g == e, "%s: lost", name);
        fcache_release(fc, g);
    }
}

/* 4. Events on a watched file or its directories empty the cache. */
enum change {
    CH_NOTHING,
    CH_SIBLING_DATA, /* data of another file in the directory: no matter */
    CH_UNLINK,
    CH_RENAME_PARENT,
    CH_RENAME_OVER,
    CH_CREATE_SIBLING,
    CH_CHMOD,
    CH_UTIME,
    CH_WRITE,
    CH_ROOT_ATTRIB,
    CH_CHMOD_VIA_LINK, /* through a hard link in a directory not watched: */
    CH_WRITE_VIA_LINK, /* only the file's own watch can tell */
    NCHANGES
};

static const char *const change_names[] = {
    "nothing", "sibling data", "unlink", "rename parent", "rename over",
    "create sibling", "chmod", "utime", "write", "root attrib",
    "chmod via link", "write via link",
};

START_TEST(test_events)
{
    enum change ch = (enum change)_i;
    mkd("sub");
    wfile("sub/f.txt", "F");
    wfile("sub/other.txt", "O");
    mkd("elsewhere");
    ck_assert_int_eq(linkat(root_fd, "sub/f.txt", root_fd, "elsewhere/hl", 0), 0);
    struct fcache *fc = fcache_new(8, BIG);
    struct fcache_entry *e = put(fc, "sub/f.txt", 0);
    ck_assert_ptr_nonnull(e);
    ck_assert(e->watched);
    fcache_release(fc, e);
    ck_assert(!fcache_on_events(fc, 1)); /* the put itself queued nothing */

    bool changes = true;
    switch (ch) {
    case CH_NOTHING:
        changes = false;
        break;
    case CH_SIBLING_DATA:
        append("sub/other.txt", "more");
        changes = false;
        break;
    case CH_UNLINK:
        ck_assert_int_eq(unlinkat(root_fd, "sub/f.txt", 0), 0);
        break;
    case CH_RENAME_PARENT:
        ck_assert_int_eq(renameat(root_fd, "sub", root_fd, "sub2"), 0);
        break;
    case CH_RENAME_OVER:
        ck_assert_int_eq(renameat(root_fd, "sub/other.txt", root_fd, "sub/f.txt"), 0);
        break;
    case CH_CREATE_SIBLING:
        wfile("sub/new.txt", "N");
        break;
    case CH_CHMOD:
        ck_assert_int_eq(fchmodat(root_fd, "sub/f.txt", 0600, 0), 0);
        break;
    case CH_UTIME: {
        const struct timespec ts[2] = {{1000000, 0}, {1000000, 0}};
        ck_assert_int_eq(utimensat(root_fd, "sub/f.txt", ts, 0), 0);
        break;
    }
    case CH_WRITE:
        append("sub/f.txt", "more");
        break;
    case CH_ROOT_ATTRIB:
        ck_assert_int_eq(fchmodat(root_fd, ".", 0755, 0), 0);
        break;
    case CH_CHMOD_VIA_LINK:
        ck_assert_int_eq(fchmodat(root_fd, "elsewhere/hl", 0600, 0), 0);
        break;
    case CH_WRITE_VIA_LINK:
        append("elsewhere/hl", "more");
        break;
    case NCHANGES:
        break;
    }
    ck_after_change(fc, "sub/f.txt", e, changes, change_names[ch], 2);
    fcache_free(fc);
}
END_TEST

/* 4b. Change after change on one cache, each seen: after looks that found
 * the queue empty, after the IN_IGNORED events that emptying the cache
 * queues, and for two writes in a row (which the queue may merge). */
START_TEST(test_events_again)
{
    wfile("f.txt", "1");
    struct fcache *fc = fcache_new(8, BIG);
    uint64_t seq = 1;
    for (int round = 0; round < 4; round++) {
        struct fcache_entry *e = put(fc, "f.txt", 0);
        ck_assert_ptr_nonnull(e);
        ck_assert(e->watched);
        fcache_release(fc, e);
        ck_assert_msg(!fcache_on_events(fc, seq++), "round %d: empty queue seen as a change",
                      round);
        ck_assert(!fcache_on_events(fc, seq++));
        append("f.txt", "+");
        if (round % 2)
            append("f.txt", "+");
        ck_assert_msg(fcache_on_events(fc, seq++), "round %d: change not seen", round);
        ck_assert(!fcache_on_events(fc, seq++));
        ck_assert_ptr_null(get(fc, "f.txt", 0, seq, seq));
    }
    fcache_free(fc);
}
END_TEST

/* 5. Through a symbolic link on the path an entry is not watched, and each
 * hit confirms it with fstatat. */
START_TEST(test_symlink_dir)
{
    mkd("real");
    wfile("real/f.txt", "first");
    wfile("real/g.txt", "second");
    ck_assert_int_eq(symlinkat("real", root_fd, "ln"), 0);
    struct fcache *fc = fcache_new(8, BIG);
    struct fcache_entry *e = put(fc, "ln/f.txt", 0);
    ck_assert_ptr_nonnull(e);
    ck_assert(!e->watched);
    ck_content(e, "first");
    fcache_release(fc, e);
    ck_assert(!fcache_on_events(fc, 1)); /* synced = 1 */

    struct fcache_entry *g = get(fc, "ln/f.txt", 0, 1, 1);
    ck_assert_ptr_eq(g, e);
    fcache_release(fc, g);

    ck_assert_int_eq(renameat(root_fd, "real/g.txt", root_fd, "real/f.txt"), 0);
    /* same now_ms (no once-a-second recheck due), read_seq <= synced (the
     * queue is not read): only fstatat can tell */
    ck_assert_ptr_null(get(fc, "ln/f.txt", 0, 1, 1));
    ck_assert_ptr_null(get(fc, "ln/f.txt", 0, 1, 1));
    /* and it did: nothing watched changed (real/ is not watched) */
    ck_assert(!fcache_on_events(fc, 2));

    e = put(fc, "ln/f.txt", 0);
    ck_assert_ptr_nonnull(e);
    ck_content(e, "second");
    fcache_release(fc, e);
    fcache_free(fc);
}
END_TEST

/* An unwatched entry is confirmed by more than size and mtime: a file
 * rewritten with other bytes of the same size, its mtime put back (cp -p,
 * rsync -t), has moved its change time, and is a miss. */
START_TEST(test_unwatched_ctime)
{
    mk_linked_dir();
    wfile("real/f.txt", "first");
    struct fcache *fc = fcache_new(8, BIG);
    struct fcache_entry *e = put(fc, "ln/f.txt", 0);
    ck_assert_ptr_nonnull(e);
    ck_assert(!e->watched);
    fcache_release(fc, e);
    ck_assert(!fcache_on_events(fc, 1));

    struct stat old = e->st, st;
    wait_tick(&old.st_ctim);
    wfile("real/f.txt", "FIRST");
    const struct timespec times[2] = {old.st_atim, old.st_mtim};
    ck_assert_int_eq(utimensat(root_fd, "real/f.txt", times, 0), 0);
    ck_assert_int_eq(fstatat(root_fd, "real/f.txt", &st, 0), 0);
    /* only the change time tells */
    ck_assert(st.st_ino == old.st_ino && st.st_size == old.st_size);
    ck_assert(st.st_mtim.tv_sec == old.st_mtim.tv_sec &&
              st.st_mtim.tv_nsec == old.st_mtim.tv_nsec);
    ck_assert_ptr_null(get(fc, "ln/f.txt", 0, 1, 1));

    e = put(fc, "ln/f.txt", 0);
    ck_assert_ptr_nonnull(e);
    ck_content(e, "FIRST");
    fcache_release(fc, e);
    fcache_free(fc);
}
END_TEST

/* The index page of a directory reached through a symbolic link is not
 * watched: a new file in the directory (which may change which index file
 * wins) is seen by fstatat of the directory, though the index file itself
 * is unchanged. */
START_TEST(test_unwatched_index)
{
    mk_linked_dir();
    wfile("real/index.html", "<p>hi</p>");
    struct fcache *fc = fcache_new(8, BIG);
    struct fcache_entry *e = put_index_w(fc, "ln/", "ln/", "index.html", "ln/index.html", false);
    ck_content(e, "<p>hi</p>");
    fcache_release(fc, e);
    ck_assert(!fcache_on_events(fc, 1));

    struct fcache_entry *g = get(fc, "ln/", 0, 1, 1);
    ck_assert_ptr_eq(g, e);
    fcache_release(fc, g);

    wait_tick(&e->dir_st.st_mtim);
    wait_tick(&e->dir_st.st_ctim);
    wfile("real/index.htm", "other");
    ck_assert_ptr_null(get(fc, "ln/", 0, 1, 1));
    fcache_free(fc);
}
END_TEST

/* fcache_sweep confirms unwatched entries a second after their last
 * confirmation, hit or not, and lets go of those whose file is gone; it
 * leaves watched entries to the event queue. */
START_TEST(test_sweep)
{
    mkd("real");
    wfile("real/big.txt", "held by its descriptor");
    wfile("real/kept.txt", "still there");
    wfile("plain.txt", "watched");
    ck_assert_int_eq(symlinkat("real", root_fd, "ln"), 0);
    struct fcache *fc = fcache_new(8, 1); /* every file held as a descriptor */
    struct fcache_entry *big = put(fc, "ln/big.txt", 0);
    struct fcache_entry *kept = put(fc, "ln/kept.txt", 0);
    ck_assert_ptr_nonnull(big);
    ck_assert_ptr_nonnull(kept);
    ck_assert(!big->watched && !kept->watched);
    int fd = big->fd;
    ck_assert_int_ge(fd, 0);
    fcache_release(fc, big);
    fcache_release(fc, kept);
    struct fcache_entry *w = put_watched(fc, "plain.txt", 0);

    ck_assert_int_eq(unlinkat(root_fd, "real/big.txt", 0), 0);
    append("plain.txt", "+changed");
    ck_assert(fcache_sweep(fc, root_fd, 999)); /* not due; a pass of three entries */
    ck_assert(fd_open(fd));
    ck_assert(fcache_sweep(fc, root_fd, 1000));
    ck_assert_msg(!fd_open(fd), "the removed file's descriptor is still open");
    ck_assert_uint_eq(kept->checked_ms, 1000); /* confirmed */
    ck_assert_uint_eq(w->checked_ms, 0);       /* not the sweep's */
    ck_assert_ptr_null(get(fc, "ln/big.txt", 1000, 1, 1));
    struct fcache_entry *g = get(fc, "ln/kept.txt", 1000, 1, 1);
    ck_assert_ptr_eq(g, kept);
    fcache_release(fc, g);
    fcache_free(fc);
}
END_TEST

/* A sweep's pass is done in slices (at most 32 confirmations a call), and
 * goes on where it stopped, whatever the hits do to the LRU order. */
START_TEST(test_sweep_slices)
{
    mkd("real");
    ck_assert_int_eq(symlinkat("real", root_fd, "ln"), 0);
    struct fcache *fc = fcache_new(256, 1);
    char rel[32];
    for (int i = 0; i < 100; i++) {
        snprintf(rel, sizeof(rel), "real/f%d", i);
        wfile(rel, "x");
        snprintf(rel, sizeof(rel), "ln/f%d", i);
        struct fcache_entry *e = put(fc, rel, 0);
        ck_assert_ptr_nonnull(e);
        fcache_release(fc, e);
    }
    unsigned calls = 0;
    bool done = false;
    while (!done && calls < 100) {
        done = fcache_sweep(fc, root_fd, 1000);
        calls++;
        /* a hit in the middle of a pass moves an entry to the head */
        struct fcache_entry *g = get(fc, "ln/f50", 1000, 1, 1);
        ck_assert_ptr_nonnull(g);
        fcache_release(fc, g);
    }
    ck_assert(done);
    ck_assert_uint_eq(calls, 4); /* 100 due entries, 32 a call */
    for (int i = 0; i < 100; i++) {
        snprintf(rel, sizeof(rel), "ln/f%d", i);
        struct fcache_entry *g = get(fc, rel, 1000, 1, 1);
        ck_assert_ptr_nonnull(g);
        ck_assert_msg(g->checked_ms == 1000, "%s was not confirmed", rel);
        fcache_release(fc, g);
    }
    fcache_free(fc);
}
END_TEST

/* Once a second (RECHECK_MS, 1000) a watched entry is confirmed with
 * fstatat even when the queue is not read. */
START_TEST(test_recheck)
{
    wfile("f.txt", "old");
    struct fcache *fc = fcache_new(8, BIG);
    struct fcache_entry *e = put_watched(fc, "f.txt", 100);
    ck_assert(!fcache_on_events(fc, 1));
    append("f.txt", "+new");

    /* 999 ms on, the queue not read (read_seq <= synced): trusted */
    struct fcache_entry *g = get(fc, "f.txt", 1099, 1, 2);
    ck_assert_ptr_eq(g, e);
    fcache_release(fc, g);
    ck_assert_uint_eq(e->checked_ms, 100);
    /* 1000 ms on: fstatat sees the new size */
    ck_assert_ptr_null(get(fc, "f.txt", 1100, 1, 2));
    /* the event is still queued: the miss was fstatat's */
    ck_assert(fcache_on_events(fc, 2));
    fcache_free(fc);
}
END_TEST

/* A directory key with an index file (as respond.c stores "d/"). */
START_TEST(test_index)
{
    mkd("d");
    wfile("d/index.html", "<p>hi</p>");
    struct fcache *fc = fcache_new(8, BIG);
    struct fcache_entry *e = put_index(fc, "d/", "d/", "index.html", "d/index.html");
    ck_content(e, "<p>hi</p>");
    fcache_release(fc, e);

    struct fcache_entry *g = get(fc, "d/", 5000, 1, 1); /* both checks */
    ck_assert_ptr_eq(g, e);
    fcache_release(fc, g);
    ck_assert_ptr_null(get(fc, "d/index.html", 5000, 1, 1)); /* the key is the request's */

    /* a new name in d/ may change which index wins */
    wfile("d/index.htm", "other");
    ck_assert_ptr_null(get(fc, "d/", 5000, 2, 2));
    fcache_free(fc);
}
END_TEST

/* The root's own index page: its key is "", which names the root. */
START_TEST(test_root_index)
{
    wfile("index.html", "<p>home</p>");
    struct fcache *fc = fcache_new(8, BIG);
    struct fcache_entry *e = put_index(fc, "", ".", "index.html", "index.html");
    ck_content(e, "<p>home</p>");
    fcache_release(fc, e);
    struct fcache_entry *g = get(fc, "", 5000, 1, 1); /* both checks */
    ck_assert_ptr_eq(g, e);
    fcache_release(fc, g);
    wfile("index.htm", "other");
    ck_assert_ptr_null(get(fc, "", 5000, 2, 2));
    fcache_free(fc);
}
END_TEST

/* 6. At most max_entries entries: the least recently used go. */
START_TEST(test_lru)
{
    enum { N = 4, K = 3 };
    char name[16];
    for (int i = 0; i < N + K; i++) {
        snprintf(name, sizeof(name), "f%d", i);
        wfile(name, name);
    }
    struct fcache *fc = fcache_new(N, BIG);
    for (int i = 0; i < N + K; i++) {
        snprintf(name, sizeof(name), "f%d", i);
        struct fcache_entry *e = put(fc, name, (uint64_t)i);
        ck_assert_ptr_nonnull(e);
        fcache_release(fc, e);
    }
    for (int i = 0; i < N + K; i++) {
        snprintf(name, sizeof(name), "f%d", i);
        struct fcache_entry *g = get(fc, name, 10, 1, 1);
        if (i < K) {
            ck_assert_msg(g == NULL, "%s should have been evicted", name);
        } else {
            ck_assert_msg(g != NULL, "%s should be cached", name);
            ck_assert_str_eq(g->key, name);
            ck_content(g, name);
            fcache_release(fc, g);
        }
    }
    fcache_free(fc);
}
END_TEST

/* 6. A hit makes an entry the most recently used. */
START_TEST(test_lru_refresh)
{
    wfile("a", "a");
    wfile("b", "b");
    wfile("c", "c");
    wfile("d", "d");
    struct fcache *fc = fcache_new(3, BIG);
    const char *first[] = {"a", "b", "c"};
    for (int i = 0; i < 3; i++) {
        struct fcache_entry *e = put(fc, first[i], 0);
        ck_assert_ptr_nonnull(e);
        fcache_release(fc, e);
    }
    struct fcache_entry *g = get(fc, "a", 0, 0, 0);
    ck_assert_ptr_nonnull(g);
    fcache_release(fc, g);
    g = put(fc, "d", 0);
    ck_assert_ptr_nonnull(g);
    fcache_release(fc, g);
    ck_assert_ptr_null(get(fc, "b", 0, 0, 0));
    const char *kept[] = {"a", "c", "d"};
    for (int i = 0; i < 3; i++) {
        g = get(fc, kept[i], 0, 0, 0);
        ck_assert_msg(g != NULL, "%s should be cached", kept[i]);
        fcache_release(fc, g);
    }
    fcache_free(fc);
}
END_TEST

/* An evicted entry still referenced lives on until released. */
START_TEST(test_evicted_referenced)
{
    wfile("a", "AAAA");
    wfile("b", "BBBB");
    struct fcache *fc = fcache_new(1, BIG);
    struct fcache_entry *a = put(fc, "a", 0);
    ck_assert_ptr_nonnull(a);
    struct fcache_entry *b = put(fc, "b", 0);
    ck_assert_ptr_nonnull(b);
    ck_assert(!a->in_table);
    ck_assert_uint_eq(a->refs, 1);
    ck_content(a, "AAAA");
    ck_assert_ptr_null(get(fc, "a", 0, 0, 0));
    fcache_release(fc, a);
    fcache_release(fc, b);
    fcache_free(fc);
}
END_TEST

/* 7. fcache_clear drops every entry; one still referenced stays usable
 * (content, fd) until released. Its removed watches queue only IN_IGNORED,
 * which is no change. */
START_TEST(test_clear_referenced)
{
    wfile("small", "abc");
    wfile("large", "0123456789");
    struct fcache *fc = fcache_new(8, 4);
    struct fcache_entry *s = put(fc, "small", 0);
    struct fcache_entry *l = put(fc, "large", 0);
    ck_assert_ptr_nonnull(s);
    ck_assert_ptr_nonnull(l);
    int lfd = l->fd;
    ck_assert_int_ge(lfd, 0);

    fcache_clear(fc);
    ck_assert(!s->in_table);
    ck_assert(!l->in_table);
    ck_assert_uint_eq(s->refs, 1);
    ck_assert_uint_eq(l->refs, 1);
    ck_assert_ptr_null(get(fc, "small", 0, 0, 0));
    ck_assert_ptr_null(get(fc, "large", 0, 0, 0));
    ck_assert(!fcache_on_events(fc, 1));

    ck_content(s, "abc");
    ck_assert_str_eq(s->key, "small");
    ck_assert_str_eq(l->ctype, "text/plain");
    char buf[16];
    ck_assert_int_eq(pread(lfd, buf, sizeof(buf), 0), 10);
    ck_assert_int_eq(memcmp(buf, "0123456789", 10), 0);

    fcache_release(fc, s);
    fcache_release(fc, l);
    ck_assert(!fd_open(lfd));

    /* the cleared cache works on */
    s = put(fc, "small", 1);
    ck_assert_ptr_nonnull(s);
    ck_assert(s->watched);
    fcache_release(fc, s);
    struct fcache_entry *g = get(fc, "small", 1, 2, 2);
    ck_assert_ptr_eq(g, s);
    fcache_release(fc, g);
    fcache_free(fc);
}
END_TEST

/* 7. As worker.c does on a new configuration: the cache freed while a
 * response still holds an entry, released later against the new cache. */
START_TEST(test_free_referenced)
{
    wfile("large", "0123456789");
    struct fcache *fc = fcache_new(8, 4);
    struct fcache_entry *l = put(fc, "large", 0);
    ck_assert_ptr_nonnull(l);
    int lfd = l->fd;
    fcache_free(fc);
    struct fcache *nf = fcache_new(8, 4);
    ck_assert_ptr_nonnull(nf);
    ck_assert_str_eq(l->key, "large");
    ck_assert(fd_open(lfd));
    fcache_release(nf, l);
    ck_assert(!fd_open(lfd));
    fcache_free(nf);
}
END_TEST

/* --- listing pages ------------------------------------------------------- */

/* What respond.c does for a listing: watch, make the page, offer it. The
 * page is a malloc'd copy of text; a refused one is freed here (still
 * ours: valgrind would see a double free otherwise). */
static struct fcache_entry *put_listing(struct fcache *fc, const char *key, const char *text,
                                        uint64_t now_ms, uint64_t seq)
{
    if (!fcache_listing_watch(fc, root_fd, key, strlen(key), seq) ||
        !fcache_listing_watch_files(fc, root_fd, key, strlen(key)))
        return NULL;
    char *page = strdup(text);
    ck_assert_ptr_nonnull(page);
    struct fcache_entry *e =
        fcache_listing_put(fc, key, strlen(key), page, strlen(text), now_ms, seq);
    if (!e)
        free(page);
    else
        ck_assert_ptr_eq(e->content, page);
    return e;
}

/* 11. A page is stored under its directory's key, found again, and kept
 * at most a second (no fstatat can confirm it). */
START_TEST(test_listing_put_get)
{
    mkd("d");
    wfile("d/a.txt", "A");
    struct fcache *fc = fcache_new(8, BIG);
    struct fcache_entry *e = put_listing(fc, "d/", "<page d>", 100, 1);
    ck_assert_ptr_nonnull(e);
    ck_assert(e->listing);
    ck_assert(e->watched);
    ck_assert_uint_eq(e->refs, 2);
    ck_assert_int_eq((long long)e->st.st_size, 8);
    fcache_release(fc, e);
    struct fcache *root_only = fcache_new(8, BIG);
    struct fcache_entry *r = put_listing(root_only, "", "<root>", 100, 1);
    ck_assert_ptr_nonnull(r);
    fcache_release(root_only, r);
    ck_assert_ptr_eq(fcache_get(root_only, root_fd, "", 0, 100, 1, 2), r);
    fcache_release(root_only, r);
    fcache_free(root_only);

    ck_assert_ptr_null(get(fc, "d", 100, 1, 2));
    struct fcache_entry *g = get(fc, "d/", 1099, 2, 2);
    ck_assert_ptr_eq(g, e);
    ck_assert_int_eq(memcmp(g->content, "<page d>", 8), 0);
    fcache_release(fc, g);
    ck_assert_ptr_null(get(fc, "d/", 1100, 2, 2)); /* a second old: made anew */
    ck_assert_ptr_null(get(fc, "d/", 1100, 2, 2));
    fcache_free(fc);
}
END_TEST

/* 12. What empties a cache holding a page of d/: anything that changes
 * the page (a name, a file's data or attributes), not a change elsewhere. */
enum lchange { LC_NOTHING, LC_DATA_ELSEWHERE, LC_DATA, LC_TRUNCATE, LC_UTIME, LC_CREATE,
               LC_UNLINK, LC_RENAME_IN, LC_MKDIR, NLCHANGES };
static const char *const lchange_names[] = {
    "nothing", "data elsewhere", "data", "truncate", "utime", "create", "unlink", "rename in",
    "mkdir",
};

START_TEST(test_listing_events)
{
    enum lchange ch = (enum lchange)_i;
    mkd("d");
    wfile("d/a.txt", "A");
    wfile("outside.txt", "O");
    struct fcache *fc = fcache_new(8, BIG);
    struct fcache_entry *e = put_listing(fc, "d/", "<page>", 0, 1);
    ck_assert_ptr_nonnull(e);
    fcache_release(fc, e);
    ck_assert(!fcache_on_events(fc, 2));
    bool changes = true;
    switch (ch) {
    case LC_NOTHING:
        changes = false;
        break;
    case LC_DATA_ELSEWHERE:
        append("outside.txt", "more");
        changes = false;
        break;
    case LC_DATA:
        append("d/a.txt", "more");
        break;
    case LC_TRUNCATE: {
        int fd = openat(root_fd, "d/a.txt", O_WRONLY | O_CLOEXEC);
        ck_assert_int_ge(fd, 0);
        ck_assert_int_eq(ftruncate(fd, 0), 0);
        close(fd);
        break;
    }
    case LC_UTIME: {
        const struct timespec ts[2] = {{1000000, 0}, {1000000, 0}};
        ck_assert_int_eq(utimensat(root_fd, "d/a.txt", ts, 0), 0);
        break;
    }
    case LC_CREATE:
        wfile("d/b.txt", "B");
        break;
    case LC_UNLINK:
        ck_assert_int_eq(unlinkat(root_fd, "d/a.txt", 0), 0);
        break;
    case LC_RENAME_IN:
        ck_assert_int_eq(renameat(root_fd, "outside.txt", root_fd, "d/in.txt"), 0);
        break;
    case LC_MKDIR:
        mkd("d/sub");
        break;
    case NLCHANGES:
        break;
    }
    ck_after_change(fc, "d/", e, changes, lchange_names[ch], 3);
    fcache_free(fc);
}
END_TEST

/* 13. A change after the first step (fcache_listing_watch, made before the
 * path is opened): whether the path is a listing, or the page, may show the
 * old state, so it is not stored (the page is still the caller's). Loop:
 * a file's data while the directory is read (after the second step), and
 * before the second step an index file appearing and the directory
 * replaced. */
START_TEST(test_listing_change_while_made)
{
    mkd("d");
    wfile("d/a.txt", "A");
    struct fcache *fc = fcache_new(8, BIG);
    ck_assert(fcache_listing_watch(fc, root_fd, "d/", 2, 1));
    if (_i == 0) {
        ck_assert(fcache_listing_watch_files(fc, root_fd, "d/", 2));
        append("d/a.txt", "more");
    } else if (_i == 1) {
        wfile("d/index.html", "I");
        ck_assert(fcache_listing_watch_files(fc, root_fd, "d/", 2));
    } else {
        ck_assert_int_eq(renameat(root_fd, "d", root_fd, "d.old"), 0);
        mkd("d");
        ck_assert(fcache_listing_watch_files(fc, root_fd, "d/", 2));
    }
    char *page = strdup("<old>");
    ck_assert_ptr_nonnull(page);
    ck_assert_ptr_null(fcache_listing_put(fc, "d/", 2, page, 5, 0, 2));
    free(page);
    ck_assert_ptr_null(get(fc, "d/", 0, 2, 2));
    /* the next one is stored */
    struct fcache_entry *e = put_listing(fc, "d/", "<new>", 0, 3);
    ck_assert_ptr_nonnull(e);
    fcache_release(fc, e);
    fcache_free(fc);
}
END_TEST

/* 14. A file in the listed directory cached after the page: its
 * directory's watch is added again, and must keep the page's events. */
START_TEST(test_listing_then_file)
{
    mkd("d");
    wfile("d/a.txt", "A");
    wfile("d/b.txt", "B");
    struct fcache *fc = fcache_new(8, BIG);
    struct fcache_entry *e = put_listing(fc, "d/", "<page>", 0, 1);
    ck_assert_ptr_nonnull(e);
    fcache_release(fc, e);
    put_watched(fc, "d/a.txt", 0);
    ck_assert(!fcache_on_events(fc, 2));
    append("d/b.txt", "more"); /* not the cached file: only the page cares */
    ck_assert(fcache_on_events(fc, 3));
    ck_assert_ptr_null(get(fc, "d/", 0, 3, 3));
    fcache_free(fc);
}
END_TEST

/* 14b. The first step alone (a directory that turns out to have an index
 * file) watches names, not the data of the files in the directory. */
START_TEST(test_listing_first_step_names_only)
{
    mkd("d");
    wfile("d/a.txt", "A");
    struct fcache *fc = fcache_new(8, BIG);
    ck_assert(fcache_listing_watch(fc, root_fd, "d/", 2, 1));
    append("d/a.txt", "more");
    ck_assert(!fcache_on_events(fc, 2));
    wfile("d/b.txt", "B");
    ck_assert(fcache_on_events(fc, 3));
    fcache_free(fc);
}
END_TEST

/* 15. Not kept: through a symbolic link (not all watched), from a cache
 * that stores nothing, a page over FCACHE_LISTING_BYTES. Pages together
 * stay within it, the oldest going first, files staying. */
START_TEST(test_listing_not_kept_and_bound)
{
    mkd("real");
    ck_assert_int_eq(symlinkat("real", root_fd, "link"), 0);
    mkd("d1");
    mkd("d2");
    mkd("d3");
    wfile("f.txt", "F");
    struct fcache *fc = fcache_new(8, BIG);
    ck_assert(!fcache_listing_watch(fc, root_fd, "link/", 5, 1));
    struct fcache *none = fcache_new(0, BIG);
    ck_assert(!fcache_listing_watch(none, root_fd, "real/", 5, 1));
    fcache_free(none);

    put_watched(fc, "f.txt", 0);
    size_t big = FCACHE_LISTING_BYTES / 2 + 1;
    char *page = malloc(FCACHE_LISTING_BYTES + 1);
    ck_assert_ptr_nonnull(page);
    memset(page, 'x', FCACHE_LISTING_BYTES + 1);
    ck_assert(fcache_listing_watch(fc, root_fd, "d1/", 3, 1));
    ck_assert_ptr_null(fcache_listing_put(fc, "d1/", 3, page, FCACHE_LISTING_BYTES + 1, 0, 1));
    struct fcache_entry *p1 = fcache_listing_put(fc, "d1/", 3, page, big, 0, 1);
    ck_assert_ptr_nonnull(p1);
    fcache_release(fc, p1);
    char *page2 = malloc(big);
    ck_assert_ptr_nonnull(page2);
    ck_assert(fcache_listing_watch(fc, root_fd, "d2/", 3, 1));
    struct fcache_entry *p2 = fcache_listing_put(fc, "d2/", 3, page2, big, 0, 1);
    ck_assert_ptr_nonnull(p2);
    fcache_release(fc, p2);
    ck_assert_ptr_null(get(fc, "d1/", 0, 1, 1)); /* made room for d2/ */
    struct fcache_entry *g = get(fc, "d2/", 0, 1, 1);
    ck_assert_ptr_eq(g, p2);
    fcache_release(fc, g);
    g = get(fc, "f.txt", 0, 1, 1);
    ck_assert_ptr_nonnull(g);
    fcache_release(fc, g);
    struct fcache_entry *p3 = put_listing(fc, "d3/", "<small>", 0, 1);
    ck_assert_ptr_nonnull(p3); /* fits beside d2/ */
    fcache_release(fc, p3);
    g = get(fc, "d2/", 0, 1, 1);
    ck_assert_ptr_eq(g, p2);
    fcache_release(fc, g);
    fcache_free(fc);
}
END_TEST

static Suite *fcache_suite(void)
{
    Suite *s = suite_create("fcache");
    TCase *tc = tcase_create("fcache");
    tcase_add_unchecked_fixture(tc, suite_setup, suite_teardown);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_put_get);
    tcase_add_test(tc, test_no_store);
    tcase_add_test(tc, test_whole_or_fd);
    tcase_add_test(tc, test_replace_same_key);
    tcase_add_test(tc, test_watched_valid);
    tcase_add_test(tc, test_ordering);
    tcase_add_loop_test(tc, test_events, 0, NCHANGES);
    tcase_add_test(tc, test_events_again);
    tcase_add_test(tc, test_symlink_dir);
    tcase_add_test(tc, test_unwatched_ctime);
    tcase_add_test(tc, test_unwatched_index);
    tcase_add_test(tc, test_sweep);
    tcase_add_test(tc, test_sweep_slices);
    tcase_add_test(tc, test_recheck);
    tcase_add_test(tc, test_index);
    tcase_add_test(tc, test_root_index);
    tcase_add_test(tc, test_lru);
    tcase_add_test(tc, test_lru_refresh);
    tcase_add_test(tc, test_evicted_referenced);
    tcase_add_test(tc, test_clear_referenced);
    tcase_add_test(tc, test_free_referenced);
    tcase_add_test(tc, test_listing_put_get);
    tcase_add_loop_test(tc, test_listing_events, 0, NLCHANGES);
    tcase_add_loop_test(tc, test_listing_change_while_made, 0, 3);
    tcase_add_test(tc, test_listing_then_file);
    tcase_add_test(tc, test_listing_first_step_names_only);
    tcase_add_test(tc, test_listing_not_kept_and_bound);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return ps_check_run(fcache_suite());
}
