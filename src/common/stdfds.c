#include "stdfds.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

int ps_guard_std_fds(void)
{
    for (int fd = 0; fd <= 2; fd++) {
        if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF)
            continue;
        /* the lower ones are open: open(2) takes the lowest free number */
        int nul = open("/dev/null", O_RDONLY);
        if (nul < 0)
            return -errno;
        if (nul != fd) {
            int r = dup2(nul, fd);
            int e = errno;
            close(nul);
            if (r < 0)
                return -e;
        }
    }
    return 0;
}
