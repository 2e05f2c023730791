/* Resolution beneath a directory: openat2, or the same rules by hand. */
#include "config.h"

#include "beneath.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define WALK_MAX_DEPTH 128
#define WALK_MAX_LINKS 40 /* as the kernel's MAXSYMLINKS */

static atomic_bool have_openat2 = true;
static atomic_bool force_walk;

static int sys_openat2(int dirfd, const char *path, int flags)
{
    struct open_how how = {
        .flags = (unsigned long long)flags,
        .resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
    };
    long fd;
    do
        fd = syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
    while (fd < 0 && errno == EINTR);
    return fd < 0 ? -errno : (int)fd;
}

bool beneath_init(int dirfd)
{
    int fd = sys_openat2(dirfd, ".", O_PATH | O_CLOEXEC);
    if (fd >= 0)
        close(fd);
    atomic_store(&have_openat2, fd != -ENOSYS && fd != -EPERM);
    return atomic_load(&have_openat2);
}

void beneath_force_walk(bool on)
{
    atomic_store(&force_walk, on);
}

struct walk {
    int base;                     /* the caller's dirfd: never closed */
    int cur;                      /* directory we are in */
    int stack[WALK_MAX_DEPTH];    /* the directories above cur, for ".." */
    unsigned depth;
};

static void walk_close(struct walk *w)
{
    if (w->cur != w->base)
        close(w->cur);
    for (unsigned i = 0; i < w->depth; i++)
        if (w->stack[i] != w->base)
            close(w->stack[i]);
    w->depth = 0;
    w->cur = w->base;
}

/* Replace the path so far by target + rest, for a symlink met at the
 * component ending at comp_end (rest, the part after it, is empty or
 * starts with '/', so a trailing slash stays a trailing slash). */
static int splice_link(char *todo, size_t cap, size_t *pos, size_t comp_end, const char *target,
                       size_t tlen)
{
    size_t rest = strlen(todo + comp_end);
    if (tlen + rest + 1 > cap)
        return -ENAMETOOLONG;
    memmove(todo + tlen, todo + comp_end, rest + 1);
    memcpy(todo, target, tlen);
    *pos = 0;
    return 0;
}

static int walk_open(int dirfd, const char *path, int flags)
{
    char todo[PATH_MAX + 1], target[PATH_MAX + 1];
    struct walk w = {.base = dirfd, .cur = dirfd};
    size_t pos = 0;
    unsigned links = 0;
    int r;

    if (strlen(path) >= sizeof(todo))
        return -ENAMETOOLONG;
    strcpy(todo, path);
    for (;;) {
        while (todo[pos] == '/')
            pos++;
        if (todo[pos] == '\0') {
            /* the path ended in a directory we hold */
            r = openat(w.cur, ".", flags | O_DIRECTORY);
            r = r < 0 ? -errno : r;
            walk_close(&w);
            return r;
        }
        size_t comp = pos, end = pos;
        while (todo[end] && todo[end] != '/')
            end++;
        size_t after = end;
        while (todo[after] == '/')
            after++;
        bool last = todo[after] == '\0';
        bool trailing_slash = last && after > end;
        char save = todo[end];
        todo[end] = '\0';
        const char *name = todo + comp;

        if (strcmp(name, ".") == 0) {
            todo[end] = save;
            pos = end;
            continue;
        }
        if (strcmp(name, "..") == 0) {
            todo[end] = save;
            if (w.depth == 0) {
                walk_close(&w);
                return -EXDEV; /* above the base */
            }
            if (w.cur != w.base)
                close(w.cur);
            w.cur = w.stack[--w.depth];
            pos = end;
            continue;
        }
        int fd;
        bool is_link = false;
        if (last) {
            fd = openat(w.cur, name, flags | O_NOFOLLOW | (trailing_slash ? O_DIRECTORY : 0));
            struct stat st;
            if (fd >= 0 && (flags & O_PATH) && fstat(fd, &st) == 0 && S_ISLNK(st.st_mode)) {
                close(fd); /* O_PATH | O_NOFOLLOW opens the link itself */
                fd = -1;
                errno = ELOOP;
            }
            if (fd >= 0) {
                walk_close(&w);
                return fd;
            }
            /* O_NOFOLLOW met a symlink: ELOOP, or ENOTDIR with O_DIRECTORY */
            if (errno != ELOOP && !(errno == ENOTDIR && (trailing_slash || (flags & O_DIRECTORY)))) {
                r = -errno;
                walk_close(&w);
                return r;
            }
            is_link = true;
        } else {
            fd = openat(w.cur, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
            struct stat st;
            if (fd < 0 || fstat(fd, &st) < 0) {
                r = -errno;
                if (fd >= 0)
                    close(fd);
                walk_close(&w);
                return r;
            }
            if (S_ISLNK(st.st_mode)) {
                close(fd);
                is_link = true;
            } else if (!S_ISDIR(st.st_mode)) {
                close(fd);
                walk_close(&w);
                return -ENOTDIR;
            } else {
                if (w.depth == WALK_MAX_DEPTH) {
                    close(fd);
                    walk_close(&w);
                    return -ENAMETOOLONG;
                }
                w.stack[w.depth++] = w.cur;
                w.cur = fd;
                todo[end] = save;
                pos = end;
                continue;
            }
        }
        /* a symlink: splice its target in, as the kernel would */
        if (is_link) {
            int first_errno = errno;
            ssize_t tl = readlinkat(w.cur, name, target, sizeof(target) - 1);
            if (tl < 0) {
                /* EINVAL: not a symlink after all; report the open's error */
                r = errno == EINVAL ? -first_errno : -errno;
                walk_close(&w);
                return r;
            }
            if (++links > WALK_MAX_LINKS) {
                walk_close(&w);
                return -ELOOP;
            }
            if (tl == 0 || target[0] == '/') {
                walk_close(&w);
                return -EXDEV; /* absolute: RESOLVE_BENEATH refuses these too */
            }
            todo[end] = save;
            r = splice_link(todo, sizeof(todo), &pos, end, target, (size_t)tl);
            if (r < 0) {
                walk_close(&w);
                return r;
            }
        }
    }
}

int beneath_open(int dirfd, const char *path, int flags)
{
    if (!atomic_load_explicit(&force_walk, memory_order_relaxed) &&
        atomic_load_explicit(&have_openat2, memory_order_relaxed)) {
        int fd = sys_openat2(dirfd, path[0] ? path : ".", flags);
        if (fd != -ENOSYS)
            return fd;
        atomic_store(&have_openat2, false);
    }
    return walk_open(dirfd, path[0] ? path : ".", flags);
}
