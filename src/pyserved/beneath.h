/* Opening a path beneath a directory fd so that nothing (.., symlinks,
 * absolute links, /proc magic links) can leave it: openat2(RESOLVE_BENEATH |
 * RESOLVE_NO_MAGICLINKS) where the kernel offers it, else a component-by-
 * component walk with the same rules. The walk exists because openat2 can be
 * missing even on new kernels: systemd's RestrictSUIDSGID= (implied by
 * DynamicUser=) makes it fail with ENOSYS, since seccomp cannot look into
 * its flags. */
#ifndef PS_BENEATH_H
#define PS_BENEATH_H

#include <stdbool.h>

/* Probe openat2 on dirfd once; later calls use the walk if it is missing.
 * Returns true when openat2 is used. */
bool beneath_init(int dirfd);

/* Tests: force the walk (true) or go back to the probe's choice. */
void beneath_force_walk(bool on);

/* Open path (relative; "" or "." is dirfd itself) beneath dirfd with flags
 * (O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY and the like; never O_CREAT).
 * Returns an fd or -errno: -EXDEV when resolution would leave dirfd (".."
 * above it, an absolute symlink), -ELOOP (too many links), -ENOENT... */
int beneath_open(int dirfd, const char *path, int flags);

#endif
