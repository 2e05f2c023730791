#include "stdfds.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int cannot(const char *prog, int e)
{
    fprintf(stderr, "%s: cannot open /dev/null for a closed standard descriptor: %s\n", prog,
            strerror(e));
    return -e;
}

int ps_guard_std_fds(const char *prog)
{
    for (int fd = 0; fd <= 2; fd++) {
        if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF)
            continue;
        /* the lower ones are open: open(2) takes the lowest free number */
        int nul = open("/dev/null", O_RDONLY);
        if (nul < 0)
            return cannot(prog, errno);
        if (nul != fd) {
            int r = dup2(nul, fd);
            int e = errno;
            close(nul);
            if (r < 0)
                return cannot(prog, e);
        }
    }
    return 0;
}
