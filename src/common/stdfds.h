/* Standard descriptors a program may have been started without. */
#ifndef PS_STDFDS_H
#define PS_STDFDS_H

/* Put /dev/null, opened read-only, on each of descriptors 0, 1 and 2 that
 * is closed, so that no socket or file the program opens later takes its
 * number: output meant for a closed stdout or stderr would otherwise go to
 * that socket or file. Writes to such a placeholder fail with EBADF, as
 * they would on the closed descriptor. Returns 0, or -errno when /dev/null
 * cannot be opened, having said so on stderr as prog. */
int ps_guard_std_fds(const char *prog);

#endif
