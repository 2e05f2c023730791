/* Unit tests of static_open() (src/pyserved/static.h) over a real tree: the
 * 200 of a file, the 301 of a directory without its slash, the index file
 * (first existing name in order; a directory or other non-regular file is
 * skipped), the listing or 403 without one, search-only directories,
 * non-regular files refused without being opened for reading, symlinks
 * inside and out of the root, the errno to status mapping, and that no
 * descriptor is left open. Every case runs with openat2 and with the
 * component walk of beneath.c.
 *
 * Linked with -Wl,--wrap=fstat,--wrap=fstatat (Makefile.am) for fault
 * injection: an fstat failing with EIO, and a type look (fstatat) that
 * reports a FIFO as a regular file, as a FIFO swapped in between would. */
#include "config.h"

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "beneath.h"
#include "check_run.h"
#include "static.h"

#define NELEMS(a) (sizeof(a) / sizeof((a)[0]))
#define NOBODY    ((uid_t)65534)

/* ------------------------------------------------------------------------ */
/* fault injection                                                          */

int __real_fstat(int fd, struct stat *st);
int __wrap_fstat(int fd, struct stat *st);
int __real_fstatat(int dirfd, const char *path, struct stat *st, int flags);
int __wrap_fstatat(int dirfd, const char *path, struct stat *st, int flags);

/* Fail the Nth fstat of a descriptor that is not O_PATH (static.c's own
 * fstat; the walk's are on O_PATH descriptors) with EIO; 0: never. */
static int fstat_fail_at;
static int fstat_calls;
/* The type look (fstatat) of this path reports a regular file. */
static const char *fake_reg;

int __wrap_fstat(int fd, struct stat *st)
{
    if (fstat_fail_at > 0 && !(fcntl(fd, F_GETFL) & O_PATH) && ++fstat_calls == fstat_fail_at) {
        errno = EIO;
        return -1;
    }
    return __real_fstat(fd, st);
}

int __wrap_fstatat(int dirfd, const char *path, struct stat *st, int flags)
{
    int r = __real_fstatat(dirfd, path, st, flags);
    if (r == 0 && fake_reg && strcmp(path, fake_reg) == 0)
        st->st_mode = S_IFREG | 0644;
    return r;
}

/* ------------------------------------------------------------------------ */
/* the tree                                                                 */

static char top[64]; /* top/r is the root, top/out is outside it */
static int root_fd = -1;
static bool have_dev; /* r/dev, a character device (made only as root) */

static void under(char *p, size_t n, const char *rel)
{
    snprintf(p, n, "%s/r/%s", top, rel);
}

static void put_file(const char *rel, const char *data)
{
    char p[4608];
    under(p, sizeof(p), rel);
    int fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    ck_assert_msg(fd >= 0, "create %s: %s", p, strerror(errno));
    size_t n = strlen(data);
    ck_assert_int_eq(write(fd, data, n), (ssize_t)n);
    ck_assert_int_eq(fchmod(fd, 0644), 0);
    close(fd);
}

static void make_dir(const char *rel)
{
    char p[4608];
    under(p, sizeof(p), rel);
    ck_assert_msg(mkdir(p, 0755) == 0, "mkdir %s: %s", p, strerror(errno));
    ck_assert_int_eq(chmod(p, 0755), 0);
}

static void set_mode(const char *rel, mode_t mode)
{
    char p[4608];
    under(p, sizeof(p), rel);
    ck_assert_int_eq(chmod(p, mode), 0);
}

static void make_link(const char *target, const char *rel)
{
    char p[4608];
    under(p, sizeof(p), rel);
    ck_assert_msg(symlink(target, p) == 0, "symlink %s: %s", p, strerror(errno));
}

static void make_fifo(const char *rel)
{
    char p[4608];
    under(p, sizeof(p), rel);
    ck_assert_msg(mkfifo(p, 0644) == 0, "mkfifo %s: %s", p, strerror(errno));
}

static void remove_tree(const char *path)
{
    char cmd[600];
    /* search-only and unreadable entries first get their modes back, for
     * a run that is not root */
    snprintf(cmd, sizeof(cmd), "chmod -R u+rwx -- '%s' 2>/dev/null; rm -rf -- '%s'", path, path);
    ck_assert_int_eq(system(cmd), 0);
}

static void setup(void)
{
    strcpy(top, "/tmp/check_static.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(top));
    ck_assert_int_eq(chmod(top, 0755), 0); /* the unprivileged cases walk it */
    char p[4608];
    snprintf(p, sizeof(p), "%s/out", top);
    ck_assert_int_eq(mkdir(p, 0755), 0);
    snprintf(p, sizeof(p), "%s/out/secret", top);
    FILE *f = fopen(p, "w");
    ck_assert_ptr_nonnull(f);
    fputs("secret\n", f);
    fclose(f);
    snprintf(p, sizeof(p), "%s/r", top);
    ck_assert_int_eq(mkdir(p, 0755), 0);
    ck_assert_int_eq(chmod(p, 0755), 0);

    put_file("file.txt", "hello\n");
    put_file("empty.txt", "");
    put_file("home.txt", "home\n");
    make_dir("d");
    put_file("d/x.txt", "x\n");
    /* index files: first existing name of index.html, index.htm, default.txt */
    make_dir("i1");
    put_file("i1/index.html", "i1 html\n");
    put_file("i1/index.htm", "i1 htm\n");
    make_dir("i2");
    put_file("i2/index.htm", "i2 htm\n");
    put_file("i2/default.txt", "i2 default\n");
    make_dir("i3");
    make_dir("i3/index.html");
    make_fifo("i3/index.htm");
    put_file("i3/default.txt", "i3 default\n");
    make_dir("i4");
    make_link("../file.txt", "i4/index.html");
    make_dir("i5");
    make_link("../../out/secret", "i5/index.html");
    put_file("i5/default.txt", "i5 default\n");
    make_dir("i6");
    make_link("nowhere", "i6/index.html");
    put_file("i6/index.htm", "i6 htm\n");
    make_dir("i7");
    make_dir("i7/index.html");
    set_mode("i7/index.html", 0111);
    put_file("i7/default.txt", "i7 default\n");
    make_dir("i8");
    make_link("/dev/null", "i8/index.html");
    put_file("i8/index.htm", "i8 htm\n");
    /* search-only directories, an unreadable file (for anyone but root) */
    make_dir("so");
    put_file("so/index.html", "so html\n");
    set_mode("so", 0111);
    make_dir("so2");
    put_file("so2/x.txt", "so2 x\n");
    set_mode("so2", 0111);
    make_dir("pd");
    set_mode("pd", 0);
    put_file("noperm.txt", "noperm\n");
    set_mode("noperm.txt", 0);
    /* non-regular files */
    make_fifo("fifo");
    make_link("/dev/null", "null");
    under(p, sizeof(p), "dev");
    have_dev = mknod(p, S_IFCHR | 0666, makedev(1, 3)) == 0;
    /* symlinks */
    make_link("d/x.txt", "ln");
    make_link("i1", "lnd");
    make_link("../out/secret", "esc");
    snprintf(p, sizeof(p), "%s/out/secret", top);
    make_link(p, "abs");
    make_link("../out", "escdir");
    make_link("nowhere", "dangling");
    make_link("loop2", "loop1");
    make_link("loop1", "loop2");

    snprintf(p, sizeof(p), "%s/r", top);
    root_fd = open(p, O_PATH | O_DIRECTORY | O_CLOEXEC); /* as main.c opens it */
    ck_assert_int_ge(root_fd, 0);
}

static void teardown(void)
{
    close(root_fd);
    root_fd = -1;
    remove_tree(top);
    beneath_force_walk(false);
    fstat_fail_at = 0;
    fake_reg = NULL;
}

/* ------------------------------------------------------------------------ */
/* one static_open and what came of it                                      */

static char n_html[] = "index.html", n_htm[] = "index.htm", n_def[] = "default.txt";
static char n_home[] = "home.txt";
static char *const idx_main[] = {n_html, n_htm, n_def};
static char *const idx_root[] = {n_home};

enum idx_set { NONE, MAIN, ROOT };

struct scase {
    const char *rel;
    bool slash; /* trailing_slash (rel then ends in '/', as path_resolve's) */
    enum idx_set set;
    bool listing;
    int want;            /* the return value */
    const char *target;  /* 200 or a listing: the file or directory served */
    int index;           /* 200: the position of the index name used, or -1 */
    const char *content; /* 200: the file's content */
};

static char *const *set_names(enum idx_set s, unsigned *n)
{
    switch (s) {
    case MAIN: *n = NELEMS(idx_main); return idx_main;
    case ROOT: *n = NELEMS(idx_root); return idx_root;
    default: *n = 0; return NULL;
    }
}

/* Filled in without Check's assertions: also run in a child process. */
struct outcome {
    int ret, err;
    int fd;                   /* f.fd as returned */
    bool fd_cloexec, fd_path; /* FD_CLOEXEC, O_PATH */
    int accmode;              /* O_ACCMODE of f.fd */
    dev_t fd_dev;             /* fstat of f.fd */
    ino_t fd_ino;
    dev_t st_dev; /* f.st */
    ino_t st_ino;
    mode_t st_mode;
    off_t st_size;
    dev_t dir_dev; /* f.dir_st */
    ino_t dir_ino;
    struct timespec dir_mtim;
    int index_i; /* f.index: its position, -1 NULL, -2 another pointer */
    char content[64];
    ssize_t nread;
    int leaked;     /* descriptors open after, less before */
    bool counted;   /* /proc/self/fd could be read */
    int drop_errno; /* the unprivileged child could not drop root */
};

static int count_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n;
}

static void do_open(int dirfd, const struct scase *c, struct outcome *o)
{
    unsigned n;
    char *const *names = set_names(c->set, &n);
    struct static_file f;
    memset(&f, 0xa5, sizeof(f)); /* a field left unset does not look right */
    fstat_calls = 0;
    o->ret = static_open(dirfd, c->rel, c->slash, names, n, c->listing, &f);
    fstat_fail_at = 0;
    fake_reg = NULL;
    o->err = f.err;
    o->fd = f.fd;
    o->st_dev = f.st.st_dev;
    o->st_ino = f.st.st_ino;
    o->st_mode = f.st.st_mode;
    o->st_size = f.st.st_size;
    o->dir_dev = f.dir_st.st_dev;
    o->dir_ino = f.dir_st.st_ino;
    o->dir_mtim = f.dir_st.st_mtim;
    o->index_i = f.index == NULL ? -1 : -2;
    for (unsigned i = 0; i < n; i++)
        if (f.index == names[i])
            o->index_i = (int)i;
    if (f.fd >= 0) {
        int fdfl = fcntl(f.fd, F_GETFD), fl = fcntl(f.fd, F_GETFL);
        o->fd_cloexec = fdfl >= 0 && (fdfl & FD_CLOEXEC);
        o->fd_path = fl >= 0 && (fl & O_PATH);
        o->accmode = fl & O_ACCMODE;
        struct stat st;
        if (fstat(f.fd, &st) == 0) {
            o->fd_dev = st.st_dev;
            o->fd_ino = st.st_ino;
        }
        o->nread = pread(f.fd, o->content, sizeof(o->content) - 1, 0);
        close(f.fd);
    }
}

static void run(int dirfd, const struct scase *c, struct outcome *o)
{
    memset(o, 0, sizeof(*o));
    int before = count_fds();
    do_open(dirfd, c, o);
    int after = count_fds();
    o->counted = before >= 0 && after >= 0;
    o->leaked = after - before;
}

/* run() in a child process that is not root: as nobody when the test runs
 * as root, which would bypass the permissions under test. */
static void run_unprivileged(const struct scase *c, bool walk, struct outcome *o)
{
    int p[2];
    ck_assert_int_eq(pipe(p), 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        struct outcome r;
        memset(&r, 0, sizeof(r));
        close(p[0]);
        if (geteuid() == 0 && (setgroups(0, NULL) < 0 || setresgid(NOBODY, NOBODY, NOBODY) < 0 ||
                               setresuid(NOBODY, NOBODY, NOBODY) < 0)) {
            r.drop_errno = errno;
        } else {
            prctl(PR_SET_DUMPABLE, 1); /* /proc/self/fd stays readable */
            beneath_force_walk(walk);
            run(root_fd, c, &r);
        }
        ssize_t w = write(p[1], &r, sizeof(r));
        _exit(w == (ssize_t)sizeof(r) ? 0 : 1);
    }
    close(p[1]);
    ssize_t n = read(p[0], o, sizeof(*o));
    close(p[0]);
    int ws;
    ck_assert_int_eq(waitpid(pid, &ws, 0), pid);
    ck_assert_msg(WIFEXITED(ws) && WEXITSTATUS(ws) == 0, "child: status %#x", ws);
    ck_assert_int_eq(n, (ssize_t)sizeof(*o));
}

static void stat_under(const char *rel, struct stat *st)
{
    char p[4608];
    under(p, sizeof(p), rel);
    ck_assert_msg(stat(p, st) == 0, "stat %s: %s", p, strerror(errno));
}

static void check_outcome(const struct scase *c, const struct outcome *o, const char *how)
{
    char label[160];
    snprintf(label, sizeof(label), "%s \"%.60s\"%s%s set %d", how, c->rel, c->slash ? " slash" : "",
             c->listing ? " listing" : "", (int)c->set);
    ck_assert_msg(o->ret == c->want, "%s: returned %d, want %d", label, o->ret, c->want);
    ck_assert_msg(o->counted, "%s: /proc/self/fd unreadable", label);
    ck_assert_msg(o->leaked == 0, "%s: %d descriptor(s) left open", label, o->leaked);
    if (c->want != 200 && c->want != STATIC_LISTING) {
        ck_assert_msg(o->fd == -1, "%s: fd %d, want -1", label, o->fd);
        ck_assert_msg(o->index_i == -1, "%s: index not NULL", label);
        return;
    }
    ck_assert_msg(o->fd >= 0, "%s: no fd", label);
    ck_assert_msg(o->fd_cloexec, "%s: fd without FD_CLOEXEC", label);
    ck_assert_msg(!o->fd_path && o->accmode == O_RDONLY, "%s: fd not open for reading", label);
    struct stat t;
    stat_under(c->target, &t);
    ck_assert_msg(o->fd_dev == t.st_dev && o->fd_ino == t.st_ino, "%s: fd is not %s", label,
                  c->target);
    ck_assert_msg(o->st_dev == t.st_dev && o->st_ino == t.st_ino, "%s: st is not %s's", label,
                  c->target);
    ck_assert_msg((o->st_mode & S_IFMT) == (t.st_mode & S_IFMT), "%s: st_mode", label);
    ck_assert_msg(o->index_i == c->index, "%s: index %d, want %d", label, o->index_i, c->index);
    if (c->want == STATIC_LISTING) {
        ck_assert_msg(S_ISDIR(o->st_mode), "%s: listing of a non-directory", label);
        return;
    }
    ck_assert_msg(S_ISREG(o->st_mode), "%s: 200 for a non-regular file", label);
    ck_assert_msg(o->st_size == t.st_size, "%s: st_size", label);
    size_t cl = strlen(c->content);
    ck_assert_msg(o->nread == (ssize_t)cl && memcmp(o->content, c->content, cl) == 0,
                  "%s: read %zd bytes \"%.*s\", want \"%s\"", label, o->nread,
                  o->nread > 0 ? (int)o->nread : 0, o->content, c->content);
    if (c->index >= 0) {
        struct stat d;
        stat_under(c->rel, &d); /* the directory, through a symlink too */
        ck_assert_msg(o->dir_dev == d.st_dev && o->dir_ino == d.st_ino,
                      "%s: dir_st is not the directory's", label);
        ck_assert_msg(o->dir_mtim.tv_sec == d.st_mtim.tv_sec &&
                          o->dir_mtim.tv_nsec == d.st_mtim.tv_nsec,
                      "%s: dir_st's mtime is not the directory's", label);
    }
}

/* ------------------------------------------------------------------------ */
/* the cases                                                                */

#define L STATIC_LISTING
static const struct scase cases[] = {
    /* regular files */
    {"file.txt", false, MAIN, true, 200, "file.txt", -1, "hello\n"},
    {"file.txt", false, NONE, false, 200, "file.txt", -1, "hello\n"},
    {"empty.txt", false, MAIN, false, 200, "empty.txt", -1, ""},
    {"d/x.txt", false, MAIN, true, 200, "d/x.txt", -1, "x\n"},
    /* the root */
    {"", true, MAIN, true, L, "", -1, NULL},
    {"", true, MAIN, false, -403, NULL, -1, NULL},
    {"", true, ROOT, true, 200, "home.txt", 0, "home\n"},
    {"", true, ROOT, false, 200, "home.txt", 0, "home\n"},
    {"", false, ROOT, true, 301, NULL, -1, NULL},
    {"", false, MAIN, false, 301, NULL, -1, NULL},
    /* a directory without its slash */
    {"d", false, MAIN, true, 301, NULL, -1, NULL},
    {"d", false, NONE, false, 301, NULL, -1, NULL},
    {"i1", false, MAIN, true, 301, NULL, -1, NULL},
    {"lnd", false, MAIN, true, 301, NULL, -1, NULL},
    /* no index file: a listing, or 403 */
    {"d/", true, MAIN, true, L, "d", -1, NULL},
    {"d/", true, MAIN, false, -403, NULL, -1, NULL},
    {"i1/", true, NONE, true, L, "i1", -1, NULL},
    {"i1/", true, NONE, false, -403, NULL, -1, NULL},
    {"i3/index.html/", true, MAIN, true, L, "i3/index.html", -1, NULL},
    /* the first index name that is a regular file */
    {"i1/", true, MAIN, false, 200, "i1/index.html", 0, "i1 html\n"},
    {"i1/", true, MAIN, true, 200, "i1/index.html", 0, "i1 html\n"},
    {"i2/", true, MAIN, true, 200, "i2/index.htm", 1, "i2 htm\n"},
    {"i3/", true, MAIN, true, 200, "i3/default.txt", 2, "i3 default\n"}, /* dir, FIFO */
    {"i4/", true, MAIN, true, 200, "file.txt", 0, "hello\n"},            /* a symlink in the root */
    {"i6/", true, MAIN, true, 200, "i6/index.htm", 1, "i6 htm\n"},       /* dangling: next */
    {"i8/", true, MAIN, true, 200, "i8/index.htm", 1, "i8 htm\n"},       /* a device: next */
    {"lnd/", true, MAIN, true, 200, "i1/index.html", 0, "i1 html\n"},
    /* an index name leaving the root refuses the directory, the later
     * names are not tried */
    {"i5/", true, MAIN, true, -403, NULL, -1, NULL},
    /* not regular files */
    {"fifo", false, MAIN, true, -403, NULL, -1, NULL},
    {"null", false, MAIN, true, -403, NULL, -1, NULL},
    {"i3/index.htm", false, MAIN, true, -403, NULL, -1, NULL},
    /* symlinks */
    {"ln", false, MAIN, true, 200, "d/x.txt", -1, "x\n"},
    {"esc", false, MAIN, true, -403, NULL, -1, NULL},
    {"abs", false, MAIN, true, -403, NULL, -1, NULL},
    {"escdir", false, MAIN, true, -403, NULL, -1, NULL},
    {"escdir/", true, MAIN, true, -403, NULL, -1, NULL},
    {"escdir/secret", false, MAIN, true, -403, NULL, -1, NULL},
    {"dangling", false, MAIN, true, -404, NULL, -1, NULL},
    {"loop1", false, MAIN, true, -403, NULL, -1, NULL}, /* ELOOP */
    {"loop1/x", false, MAIN, true, -403, NULL, -1, NULL},
    /* missing, and through a regular file (ENOTDIR) */
    {"missing", false, MAIN, true, -404, NULL, -1, NULL},
    {"missing/", true, MAIN, true, -404, NULL, -1, NULL},
    {"d/missing/x", false, MAIN, true, -404, NULL, -1, NULL},
    {"file.txt/x", false, MAIN, true, -404, NULL, -1, NULL},
    {"file.txt/", true, MAIN, true, -404, NULL, -1, NULL},
};
#define NCASES (sizeof(cases) / sizeof(cases[0]))

/* _i: the case, with openat2 (first half) and with the walk */
START_TEST(test_case)
{
    bool walk = _i >= (int)NCASES;
    const struct scase *c = &cases[_i % (int)NCASES];
    struct outcome o;
    beneath_force_walk(walk);
    run(root_fd, c, &o);
    check_outcome(c, &o, walk ? "walk" : "openat2");
}
END_TEST

/* Where root would bypass the permissions, these run as nobody. A search-
 * only directory (mode 0111) has its redirect and its index file, but no
 * listing; an unreadable file or index name is a 403. */
static const struct scase unpriv_cases[] = {
    {"so", false, MAIN, true, 301, NULL, -1, NULL},
    {"so/", true, MAIN, true, 200, "so/index.html", 0, "so html\n"},
    {"so/", true, MAIN, false, 200, "so/index.html", 0, "so html\n"},
    {"so/", true, NONE, true, -403, NULL, -1, NULL},
    {"so2/", true, MAIN, true, -403, NULL, -1, NULL},
    {"so2", false, MAIN, true, 301, NULL, -1, NULL},
    {"so2/x.txt", false, MAIN, true, 200, "so2/x.txt", -1, "so2 x\n"},
    {"noperm.txt", false, MAIN, true, -403, NULL, -1, NULL}, /* EACCES */
    {"pd/", true, MAIN, true, -403, NULL, -1, NULL},         /* mode 0 */
    {"pd/x", false, MAIN, true, -403, NULL, -1, NULL},
    /* an index name that is a search-only directory is not skipped as a
     * readable directory is (i3): it is a 403 */
    {"i7/", true, MAIN, true, -403, NULL, -1, NULL},
    {"i1/", true, MAIN, true, 200, "i1/index.html", 0, "i1 html\n"},
    {"d/", true, MAIN, true, L, "d", -1, NULL},
};
#define NUNPRIV (sizeof(unpriv_cases) / sizeof(unpriv_cases[0]))
#undef L

START_TEST(test_unprivileged)
{
    bool walk = _i >= (int)NUNPRIV;
    const struct scase *c = &unpriv_cases[_i % (int)NUNPRIV];
    struct outcome o;
    run_unprivileged(c, walk, &o);
    if (o.drop_errno) {
        fprintf(stderr, "check_static: cannot become uid %u (%s): \"%s\" not tested\n",
                (unsigned)NOBODY, strerror(o.drop_errno), c->rel);
        return;
    }
    check_outcome(c, &o, walk ? "walk, unprivileged" : "openat2, unprivileged");
}
END_TEST

/* A device node inside the root (made only as root; the tree may be on a
 * nodev mount, which changes nothing here: it is refused before any open). */
START_TEST(test_device_node)
{
    static const struct scase c = {"dev", false, MAIN, true, -403, NULL, -1, NULL};
    if (!have_dev) {
        fprintf(stderr, "check_static: mknod needs root: no device node in the root\n");
        return;
    }
    for (int walk = 0; walk < 2; walk++) {
        struct outcome o;
        beneath_force_walk(walk);
        run(root_fd, &c, &o);
        check_outcome(&c, &o, walk ? "walk" : "openat2");
    }
}
END_TEST

/* ------------------------------------------------------------------------ */
/* FIFOs are not opened for reading                                         */

/* A writer blocked in open(O_WRONLY) of the FIFO until a reader comes:
 * it reports 'Y' on *rfd as soon as it is through, that is as soon as
 * anyone opened the FIFO for reading. */
static pid_t start_writer(const char *rel, int *rfd)
{
    char p[4608];
    int sp[2];
    under(p, sizeof(p), rel);
    ck_assert_int_eq(pipe(sp), 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        close(sp[0]);
        alarm(20);
        int fd = open(p, O_WRONLY | O_CLOEXEC);
        if (fd >= 0 && write(sp[1], "Y", 1) != 1)
            _exit(1);
        pause();
        _exit(0);
    }
    close(sp[1]);
    *rfd = sp[0];
    /* until it sleeps (in open(2): it does nothing else) */
    char sp_path[64], buf[256];
    snprintf(sp_path, sizeof(sp_path), "/proc/%d/stat", (int)pid);
    for (int i = 0; i < 5000; i++) {
        FILE *f = fopen(sp_path, "r");
        ck_assert_ptr_nonnull(f);
        char *s = fgets(buf, sizeof(buf), f);
        fclose(f);
        char *rp = s ? strrchr(buf, ')') : NULL;
        if (rp && rp[1] == ' ' && rp[2] == 'S')
            break;
        usleep(1000);
    }
    usleep(50000);
    return pid;
}

/* Whether the writer got through within ms; it is gone after. */
static bool writer_released(pid_t pid, int rfd, int ms)
{
    struct pollfd pfd = {.fd = rfd, .events = POLLIN};
    char c = 0;
    bool through = poll(&pfd, 1, ms) == 1 && read(rfd, &c, 1) == 1 && c == 'Y';
    close(rfd);
    kill(pid, SIGKILL);
    int ws;
    ck_assert_int_eq(waitpid(pid, &ws, 0), pid);
    return through;
}

START_TEST(test_fifo_not_opened)
{
    static const struct scase c[] = {
        {"fifo", false, MAIN, true, -403, NULL, -1, NULL},
        {"i3/", true, MAIN, true, 200, "i3/default.txt", 2, "i3 default\n"},
    };
    const char *fifo[] = {"fifo", "i3/index.htm"};
    alarm(10); /* an open that blocks must not hang the suite */
    for (int walk = 0; walk < 2; walk++) {
        beneath_force_walk(walk);
        for (size_t i = 0; i < NELEMS(c); i++) {
            int rfd;
            pid_t w = start_writer(fifo[i], &rfd);
            struct outcome o;
            run(root_fd, &c[i], &o);
            bool opened = writer_released(w, rfd, 300);
            check_outcome(&c[i], &o, walk ? "walk" : "openat2");
            ck_assert_msg(!opened, "%s: %s was opened for reading", walk ? "walk" : "openat2",
                          fifo[i]);
        }
    }
    alarm(0);
}
END_TEST

/* A FIFO swapped in after the type look (which is made to see a regular
 * file): the open does not block (O_NONBLOCK; without a writer it would
 * never return), and the descriptor's own type refuses it. With a writer
 * waiting, the open is seen: this also shows that the check above can
 * see one. */
START_TEST(test_fifo_swapped_in)
{
    static const struct scase c = {"fifo", false, MAIN, true, -403, NULL, -1, NULL};
    alarm(10);
    for (int walk = 0; walk < 2; walk++) {
        struct outcome o;
        const char *how = walk ? "walk" : "openat2";
        beneath_force_walk(walk);
        fake_reg = "fifo";
        run(root_fd, &c, &o);
        check_outcome(&c, &o, how);

        int rfd;
        pid_t w = start_writer("fifo", &rfd);
        fake_reg = "fifo";
        run(root_fd, &c, &o);
        bool opened = writer_released(w, rfd, 5000);
        check_outcome(&c, &o, how);
        ck_assert_msg(opened, "%s: the writer never saw the FIFO opened", how);
    }
    alarm(0);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* errors: 404 for a name too long, 503 and 500 with err set                */

START_TEST(test_name_too_long)
{
    char name[300], sub[310];
    memset(name, 'a', 256); /* NAME_MAX is 255 */
    name[256] = '\0';
    snprintf(sub, sizeof(sub), "d/%s/", name);
    const struct scase c[] = {
        {name, false, MAIN, true, -404, NULL, -1, NULL},
        {sub, true, MAIN, true, -404, NULL, -1, NULL},
    };
    for (int walk = 0; walk < 2; walk++) {
        beneath_force_walk(walk);
        for (size_t i = 0; i < NELEMS(c); i++) {
            struct outcome o;
            run(root_fd, &c[i], &o);
            check_outcome(&c[i], &o, walk ? "walk" : "openat2");
        }
    }
}
END_TEST

/* dir/ + index name longer than PATH_MAX - 1 is -404 (open_index's own
 * bound); exactly PATH_MAX - 1 still opens. */
START_TEST(test_index_path_max)
{
    static char rel[4200], fit[256], over[256];
    char comp[251];
    memset(comp, 'c', 250);
    comp[250] = '\0';
    char p[4608];
    size_t dl = 0;
    rel[0] = '\0';
    for (int i = 0; i < 16; i++) { /* 16 * 251 = 4016 bytes, "c...c/" */
        memcpy(rel + dl, comp, 250);
        dl += 250;
        rel[dl++] = '/';
        rel[dl] = '\0';
        under(p, sizeof(p), rel);
        ck_assert_msg(mkdir(p, 0755) == 0, "mkdir: %s", strerror(errno));
    }
    size_t nl = 4095 - dl; /* dir/ + name: 4095 bytes and the NUL */
    ck_assert_uint_lt(nl, 255);
    memset(fit, 'n', nl);
    fit[nl] = '\0';
    memset(over, 'n', nl + 1);
    over[nl + 1] = '\0';
    char full[4608];
    snprintf(full, sizeof(full), "%s%s", rel, fit);
    int wfd = openat(root_fd, full, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    ck_assert_msg(wfd >= 0, "create: %s", strerror(errno));
    ck_assert_int_eq(write(wfd, "fits\n", 5), 5);
    close(wfd);

    char *names_fit[] = {fit};
    char *names_over[] = {over, fit};
    for (int walk = 0; walk < 2; walk++) {
        const char *how = walk ? "walk" : "openat2";
        beneath_force_walk(walk);
        struct static_file f;
        int before = count_fds();
        int r = static_open(root_fd, rel, true, names_fit, 1, true, &f);
        ck_assert_msg(r == 200, "%s: %zu bytes: %d", how, dl + nl, r);
        ck_assert_ptr_eq(f.index, fit);
        char buf[8] = {0};
        ck_assert_int_eq(pread(f.fd, buf, sizeof(buf) - 1, 0), 5);
        ck_assert_str_eq(buf, "fits\n");
        close(f.fd);
        r = static_open(root_fd, rel, true, names_over, 2, true, &f);
        ck_assert_msg(r == -404, "%s: %zu bytes: %d", how, dl + nl + 1, r);
        ck_assert_int_eq(f.fd, -1);
        ck_assert_int_eq(count_fds(), before);
    }
}
END_TEST

static int lowest_free_fd(void)
{
    int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    ck_assert_int_ge(fd, 0);
    close(fd);
    return fd;
}

/* Out of descriptors: -503 with err EMFILE, for the file itself and for
 * the index file after the directory took the last one. */
START_TEST(test_out_of_fds)
{
    static const struct scase c[] = {
        {"file.txt", false, MAIN, true, -503, NULL, -1, NULL},
        {"i1/", true, MAIN, true, -503, NULL, -1, NULL},
        {"d/", true, MAIN, true, -503, NULL, -1, NULL}, /* the directory's own */
    };
    static const int spare[] = {0, 1, 0};
    struct rlimit old;
    ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &old), 0);
    for (int walk = 0; walk < 2; walk++) {
        const char *how = walk ? "walk" : "openat2";
        beneath_force_walk(walk);
        for (size_t i = 0; i < NELEMS(c); i++) {
            int before = count_fds();
            struct rlimit rl = old;
            rl.rlim_cur = (rlim_t)(lowest_free_fd() + spare[i]);
            ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &rl), 0);
            struct outcome o;
            memset(&o, 0, sizeof(o));
            do_open(root_fd, &c[i], &o);
            ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &old), 0);
            o.counted = true;
            o.leaked = count_fds() - before;
            check_outcome(&c[i], &o, how);
            ck_assert_msg(o.err == EMFILE, "%s \"%s\": err %d", how, c[i].rel, o.err);
        }
    }
}
END_TEST

/* fstat failing (EIO): -500 with err set and the descriptor closed, for
 * the file, the directory, and the index file. */
START_TEST(test_fstat_fails)
{
    static const struct scase c[] = {
        {"file.txt", false, MAIN, true, -500, NULL, -1, NULL},
        {"i1/", true, MAIN, true, -500, NULL, -1, NULL},
        {"i1/", true, MAIN, true, -500, NULL, -1, NULL},
        {"d", false, MAIN, true, -500, NULL, -1, NULL},
    };
    static const int nth[] = {1, 1, 2, 1};
    for (int walk = 0; walk < 2; walk++) {
        const char *how = walk ? "walk" : "openat2";
        beneath_force_walk(walk);
        for (size_t i = 0; i < NELEMS(c); i++) {
            struct outcome o;
            fstat_fail_at = nth[i];
            run(root_fd, &c[i], &o);
            check_outcome(&c[i], &o, how);
            ck_assert_msg(o.err == EIO, "%s \"%s\" fstat %d: err %d", how, c[i].rel, nth[i], o.err);
        }
    }
}
END_TEST

/* The root directory removed while it is open: -404, nothing left open. */
START_TEST(test_removed_root)
{
    char p[128];
    snprintf(p, sizeof(p), "%s/gone", top);
    ck_assert_int_eq(mkdir(p, 0755), 0);
    int gone = open(p, O_PATH | O_DIRECTORY | O_CLOEXEC);
    ck_assert_int_ge(gone, 0);
    ck_assert_int_eq(rmdir(p), 0);
    static const struct scase c[] = {
        {"", true, MAIN, true, -404, NULL, -1, NULL},
        {"", false, MAIN, true, -404, NULL, -1, NULL},
    };
    for (int walk = 0; walk < 2; walk++) {
        beneath_force_walk(walk);
        for (size_t i = 0; i < NELEMS(c); i++) {
            struct outcome o;
            run(gone, &c[i], &o);
            check_outcome(&c[i], &o, walk ? "walk" : "openat2");
        }
    }
    close(gone);
}
END_TEST

static Suite *static_suite(void)
{
    Suite *s = suite_create("static");
    TCase *tc = tcase_create("open");
    tcase_set_timeout(tc, 120);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_loop_test(tc, test_case, 0, 2 * (int)NCASES);
    tcase_add_loop_test(tc, test_unprivileged, 0, 2 * (int)NUNPRIV);
    tcase_add_test(tc, test_device_node);
    tcase_add_test(tc, test_fifo_not_opened);
    tcase_add_test(tc, test_fifo_swapped_in);
    tcase_add_test(tc, test_name_too_long);
    tcase_add_test(tc, test_index_path_max);
    tcase_add_test(tc, test_out_of_fds);
    tcase_add_test(tc, test_fstat_fails);
    tcase_add_test(tc, test_removed_root);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return ps_check_run(static_suite());
}
