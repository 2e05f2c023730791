/* Giving up root: pyserved started as root binds its sockets, then becomes
 * the configured user (and group) for good, before it opens any file it
 * serves or starts a thread. */
#ifndef PS_PRIVS_H
#define PS_PRIVS_H

#include <stddef.h>
#include <sys/types.h>

struct privs {
    uid_t uid;
    gid_t gid;
};

/* Look up user (and group, NULL: the user's primary group) in the user
 * database. Returns 0, or -ENOENT/-errno with "user: ..." in err. */
int privs_lookup(const char *user, const char *group, struct privs *p, char *err, size_t errsz);

/* Become p's user: supplementary groups of user, then gid, then uid, and
 * check that root cannot be regained. Returns 0, or -errno with the failing
 * step in err. */
int privs_drop(const char *user, const struct privs *p, char *err, size_t errsz);

#endif
