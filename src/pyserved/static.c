/* Opening files beneath the document root (beneath.h: no path or symlink
 * can leave root_fd), picking a directory's index file, refusing what is
 * not a regular file before it is opened for reading. */
#include "config.h"

#include "static.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>

#include "beneath.h"

/* Open path beneath dirfd for reading, if it is a regular file or a
 * directory. Opening a device node or a FIFO may act of itself (arm a
 * watchdog, rewind a tape, release a FIFO's writer waiting in open(2)), so
 * its type is looked at first with fstatat, which opens nothing. The look
 * only decides whether to open: beneath_open still decides what may be
 * opened, and a look that fails changes nothing. A look that goes through
 * a link out of the root can only refuse, with the 403 the open would
 * have got. Against a FIFO swapped in between, the open has O_NONBLOCK and
 * the descriptor's own type is checked again. This costs one path lookup
 * more than a plain open; reopening an O_PATH descriptor through
 * /proc/self/fd instead cost about 4 us per uncached request. Returns the
 * descriptor with *st, -ENODEV for another type, or -errno; a directory
 * that may be searched but not read is returned as an O_PATH descriptor
 * with *search_only set. */
static int open_checked(int dirfd, const char *path, struct stat *st, bool *search_only)
{
    struct stat pre;
    *search_only = false;
    if (fstatat(dirfd, path, &pre, 0) == 0 && !S_ISREG(pre.st_mode) && !S_ISDIR(pre.st_mode))
        return -ENODEV;
    int fd = beneath_open(dirfd, path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd == -EACCES) {
        /* A directory that may be searched but not read (mode 0711)
         * still has its redirect and its index file; not its listing. */
        fd = beneath_open(dirfd, path, O_PATH | O_CLOEXEC | O_DIRECTORY);
        if (fd < 0)
            return -EACCES;
        *search_only = true;
    }
    if (fd < 0)
        return fd;
    if (fstat(fd, st) < 0) {
        int e = errno;
        close(fd);
        return -e;
    }
    if (!S_ISREG(st->st_mode) && !S_ISDIR(st->st_mode)) {
        close(fd);
        return -ENODEV;
    }
    return fd;
}

static int errno_status(int e)
{
    switch (e) {
    case ENOENT:
    case ENOTDIR:
    case ENAMETOOLONG: /* a name longer than the file system allows */
        return -404;
    case EACCES:
    case EPERM:
    case EXDEV: /* resolution would leave the root */
    case ELOOP:
    case ENXIO: /* a socket, or a device without its driver */
    case ENODEV: /* also: not a regular file or a directory (open_checked) */
    case EOPNOTSUPP:
    case ETXTBSY:
        return -403;
    case EMFILE:
    case ENFILE:
    case ENOMEM:
        return -503;
    default:
        return -500;
    }
}

/* dir/ + name beneath root_fd: from the root, so that an index file may be
 * a symlink to elsewhere under the root, as any other file may. */
static int open_index(int root_fd, const char *dir, const char *name, struct stat *st)
{
    char path[PATH_MAX];
    bool search_only;
    size_t dl = strlen(dir), nl = strlen(name);
    if (dl + nl + 1 > sizeof(path))
        return -ENAMETOOLONG;
    memcpy(path, dir, dl);
    memcpy(path + dl, name, nl + 1);
    int fd = open_checked(root_fd, path, st, &search_only);
    if (fd >= 0 && search_only) {
        close(fd);
        return -EACCES;
    }
    return fd;
}

int static_open(int root_fd, const char *rel, bool trailing_slash, char *const *index,
                unsigned nindex, bool listing, struct static_file *f)
{
    bool search_only = false;
    int fd = open_checked(root_fd, rel, &f->st, &search_only);
    f->fd = -1;
    f->index = NULL;
    f->err = fd < 0 ? -fd : 0;
    if (fd < 0)
        return errno_status(-fd);
    if (S_ISDIR(f->st.st_mode)) {
        if (f->st.st_nlink == 0) {
            close(fd);
            return -404; /* removed (the root itself, while it is gone) */
        }
        if (!trailing_slash) {
            close(fd);
            return 301;
        }
        int status = listing && !search_only ? STATIC_LISTING : -403; /* no index file */
        for (unsigned i = 0; i < nindex; i++) {
            struct stat ist;
            int ifd = open_index(root_fd, rel, index[i], &ist);
            if (ifd < 0) {
                if (ifd == -ENOENT || ifd == -ENODEV)
                    continue; /* none, or not a file: the next name */
                f->err = -ifd;
                status = errno_status(-ifd);
                break;
            }
            if (S_ISREG(ist.st_mode)) {
                f->dir_st = f->st;
                f->st = ist;
                close(fd);
                f->fd = ifd;
                f->index = index[i];
                return 200;
            }
            close(ifd);
        }
        if (status == STATIC_LISTING) {
            f->fd = fd;
            return status;
        }
        close(fd);
        return status;
    }
    if (!S_ISREG(f->st.st_mode)) {
        close(fd);
        return -403;
    }
    f->fd = fd;
    return 200;
}
