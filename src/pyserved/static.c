/* Opening files beneath the document root (beneath.h: no path or symlink
 * can leave root_fd), picking a directory's index file, refusing what is
 * not a regular file. O_NONBLOCK keeps a FIFO from blocking the worker. */
#include "config.h"

#include "static.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>

#include "beneath.h"

static int open_beneath(int dirfd, const char *path)
{
    return beneath_open(dirfd, path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
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
    case ENODEV:
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
static int open_index(int root_fd, const char *dir, const char *name)
{
    char path[PATH_MAX];
    size_t dl = strlen(dir), nl = strlen(name);
    if (dl + nl + 1 > sizeof(path))
        return -ENAMETOOLONG;
    memcpy(path, dir, dl);
    memcpy(path + dl, name, nl + 1);
    return open_beneath(root_fd, path);
}

int static_open(int root_fd, const char *rel, bool trailing_slash, char *const *index,
                unsigned nindex, bool listing, struct static_file *f)
{
    int fd = open_beneath(root_fd, rel);
    bool search_only = false;
    f->fd = -1;
    f->index = NULL;
    if (fd == -EACCES) {
        /* A directory that may be searched but not read (mode 0711)
         * still has its redirect and its index file; not its listing. */
        int pfd = beneath_open(root_fd, rel, O_PATH | O_CLOEXEC | O_DIRECTORY);
        if (pfd >= 0) {
            fd = pfd;
            search_only = true;
        }
    }
    if (fd < 0)
        return errno_status(-fd);
    if (fstat(fd, &f->st) < 0) {
        int e = errno;
        close(fd);
        return errno_status(e);
    }
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
            int ifd = open_index(root_fd, rel, index[i]);
            if (ifd < 0) {
                if (ifd == -ENOENT)
                    continue;
                status = errno_status(-ifd);
                break;
            }
            if (fstat(ifd, &f->st) == 0 && S_ISREG(f->st.st_mode)) {
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
