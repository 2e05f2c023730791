/* Opening files beneath the document root (beneath.h: no path or symlink
 * can leave root_fd), picking a directory's index file, refusing what is
 * not a regular file. O_NONBLOCK keeps a FIFO from blocking the worker. */
#include "static.h"

#include <errno.h>
#include <fcntl.h>
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
    case ENAMETOOLONG:
        return -414;
    case EMFILE:
    case ENFILE:
    case ENOMEM:
        return -503;
    default:
        return -500;
    }
}

int static_open(int root_fd, const char *rel, bool trailing_slash, char *const *index,
                unsigned nindex, bool listing, struct static_file *f)
{
    int fd = open_beneath(root_fd, rel);
    f->fd = -1;
    f->index = NULL;
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
        int status = listing ? STATIC_LISTING : -403; /* no index file */
        for (unsigned i = 0; i < nindex; i++) {
            int ifd = open_beneath(fd, index[i]);
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
