/* Privilege drop after binding (see privs.h). The user database is read with
 * the reentrant getpwnam_r/getgrnam_r. */
#include "privs.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DB_BUF_MAX (1u << 20)

__attribute__((format(printf, 4, 5))) static int fail(char *err, size_t errsz, int r,
                                                      const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errsz, fmt, ap);
    va_end(ap);
    return r;
}

static size_t db_buf_size(int name)
{
    long n = sysconf(name);
    return n > 0 && n < (long)DB_BUF_MAX ? (size_t)n : 4096;
}

/* One name looked up, the buffer growing on ERANGE. Returns 0 with *id (and
 * for a user *gid, the primary group) set, ENOENT for no such name, or
 * another errno. */
static int db_lookup(bool group, const char *name, unsigned *id, unsigned *gid)
{
    size_t sz = db_buf_size(group ? _SC_GETGR_R_SIZE_MAX : _SC_GETPW_R_SIZE_MAX);
    for (;;) {
        char *buf = malloc(sz);
        if (!buf)
            return ENOMEM;
        int e;
        bool found = false;
        if (group) {
            struct group gr, *res = NULL;
            e = getgrnam_r(name, &gr, buf, sz, &res);
            if (res) {
                found = true;
                *id = gr.gr_gid;
            }
        } else {
            struct passwd pw, *res = NULL;
            e = getpwnam_r(name, &pw, buf, sz, &res);
            if (res) {
                found = true;
                *id = pw.pw_uid;
                *gid = pw.pw_gid;
            }
        }
        free(buf);
        if (found)
            return 0;
        if (e == ERANGE && sz < DB_BUF_MAX) {
            sz *= 2;
            continue;
        }
        return e == 0 || e == ENOENT || e == ESRCH ? ENOENT : e;
    }
}

static int lookup_fail(char *err, size_t errsz, const char *key, const char *name, int e)
{
    if (e == ENOENT)
        return fail(err, errsz, -ENOENT, "%s: no %s named \"%s\"", key, key, name);
    return fail(err, errsz, -e, "%s: looking up \"%s\": %s", key, name, strerror(e));
}

int privs_lookup(const char *user, const char *group, struct privs *p, char *err, size_t errsz)
{
    unsigned uid = 0, gid = 0, ggid = 0;
    int e = db_lookup(false, user, &uid, &gid);
    if (e)
        return lookup_fail(err, errsz, "user", user, e);
    if (group) {
        e = db_lookup(true, group, &ggid, NULL);
        if (e)
            return lookup_fail(err, errsz, "group", group, e);
        gid = ggid;
    }
    p->uid = (uid_t)uid;
    p->gid = (gid_t)gid;
    return 0;
}

int privs_drop(const char *user, const struct privs *p, char *err, size_t errsz)
{
    if (initgroups(user, p->gid) < 0)
        return fail(err, errsz, -errno, "user: initgroups(%s): %s", user, strerror(errno));
    if (setgid(p->gid) < 0)
        return fail(err, errsz, -errno, "group: setgid(%lu): %s", (unsigned long)p->gid,
                    strerror(errno));
    if (setuid(p->uid) < 0)
        return fail(err, errsz, -errno, "user: setuid(%lu): %s", (unsigned long)p->uid,
                    strerror(errno));
    if (p->uid != 0 && (setuid(0) == 0 || geteuid() == 0))
        return fail(err, errsz, -EPERM, "user: root could be regained after setuid(%lu)",
                    (unsigned long)p->uid);
    return 0;
}
