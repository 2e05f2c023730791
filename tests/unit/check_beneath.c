/* Tests of beneath_open(): the openat2 path and the component walk must
 * agree on every case, and neither may ever open something outside. */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "beneath.h"
#include "check_run.h"

static char top[64];
static int root_fd = -1;

static void mk(const char *rel, const char *content)
{
    char p[256];
    snprintf(p, sizeof(p), "%s/%s", top, rel);
    FILE *f = fopen(p, "w");
    ck_assert_ptr_nonnull(f);
    fputs(content, f);
    fclose(f);
}

static void mkd(const char *rel)
{
    char p[256];
    snprintf(p, sizeof(p), "%s/%s", top, rel);
    ck_assert_int_eq(mkdir(p, 0755), 0);
}

static void lnk(const char *target, const char *rel)
{
    char p[256];
    snprintf(p, sizeof(p), "%s/%s", top, rel);
    ck_assert_int_eq(symlink(target, p), 0);
}

/* top/out/secret is outside the root top/r. */
static void setup(void)
{
    strcpy(top, "/tmp/pyserve-beneath.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(top));
    mkd("r");
    mkd("out");
    mk("out/secret", "SECRET");
    mkd("r/d");
    mkd("r/d/e");
    mk("r/d/e/f", "F");
    mk("r/top.txt", "T");
    lnk("d/e", "r/lnk");
    lnk("../../out/secret", "r/esc");
    lnk("../out", "r/escdir");
    lnk("/etc/passwd", "r/abs");
    lnk("/", "r/slash");
    lnk("../", "r/d/e/upp");
    lnk("e", "r/d/ee");
    lnk("e/../e/f", "r/d/rel");
    lnk("loop2", "r/loop1");
    lnk("loop1", "r/loop2");
    lnk("../../../../../../../../etc/passwd", "r/d/deep");
    lnk("/proc/self/root/etc/passwd", "r/magic");
    char p[256];
    snprintf(p, sizeof(p), "%s/r", top);
    root_fd = open(p, O_PATH | O_DIRECTORY | O_CLOEXEC);
    ck_assert_int_ge(root_fd, 0);
}

static void teardown(void)
{
    char cmd[128];
    close(root_fd);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", top);
    ck_assert_int_eq(system(cmd), 0);
    beneath_force_walk(false);
}

static const struct {
    const char *path;
    int want;             /* 0: opens; else -errno */
    const char *content;  /* for files that open */
} cases[] = {
    {"", 0, NULL},
    {".", 0, NULL},
    {"d", 0, NULL},
    {"d/", 0, NULL},
    {"d/e/f", 0, "F"},
    {"top.txt", 0, "T"},
    {"d/e/f/", -ENOTDIR, NULL},
    {"d/e/f/x", -ENOTDIR, NULL},
    {"nope", -ENOENT, NULL},
    {"d/nope/x", -ENOENT, NULL},
    {"lnk/f", 0, "F"},
    {"lnk", 0, NULL},
    {"lnk/", 0, NULL},
    {"d/ee/f", 0, "F"},
    {"d/ee/", 0, NULL},
    {"d/rel", 0, "F"},
    {"d/e/upp/e/f", 0, "F"},
    {"lnk/../../d/e/f", 0, "F"},
    {"..", -EXDEV, NULL},
    {"../r/top.txt", -EXDEV, NULL},
    {"d/../..", -EXDEV, NULL},
    {"d/e/upp/../..", -EXDEV, NULL},
    {"esc", -EXDEV, NULL},
    {"escdir/secret", -EXDEV, NULL},
    {"abs", -EXDEV, NULL},
    {"slash/etc/passwd", -EXDEV, NULL},
    {"d/deep", -EXDEV, NULL},
    {"magic", -EXDEV, NULL},
    {"loop1", -ELOOP, NULL},
};

#define NCASES (sizeof(cases) / sizeof(cases[0]))

START_TEST(test_case)
{
    for (int walk = 0; walk < 2; walk++) {
        beneath_force_walk(walk);
        int fd = beneath_open(root_fd, cases[_i].path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
        if (cases[_i].want == 0) {
            ck_assert_msg(fd >= 0, "%s \"%s\": %s", walk ? "walk" : "openat2", cases[_i].path,
                          strerror(-fd));
            if (cases[_i].content) {
                char buf[16] = {0};
                ck_assert_int_gt(read(fd, buf, sizeof(buf) - 1), 0);
                ck_assert_str_eq(buf, cases[_i].content);
            }
            close(fd);
        } else {
            ck_assert_msg(fd == cases[_i].want, "%s \"%s\": got %s, want %s",
                          walk ? "walk" : "openat2", cases[_i].path,
                          fd >= 0 ? "an fd" : strerror(-fd), strerror(-cases[_i].want));
        }
    }
}
END_TEST

/* O_PATH opens (with O_DIRECTORY or not) reach what O_RDONLY opens reach,
 * or fail the same way: with O_NOFOLLOW, the walk's O_PATH open of a last
 * component would otherwise be the symlink itself. */
START_TEST(test_case_o_path)
{
    for (int walk = 0; walk < 2; walk++) {
        beneath_force_walk(walk);
        for (int dir = 0; dir < 2; dir++) {
            int extra = O_CLOEXEC | (dir ? O_DIRECTORY : 0);
            int fp = beneath_open(root_fd, cases[_i].path, O_PATH | extra);
            int fr = beneath_open(root_fd, cases[_i].path, O_RDONLY | O_NONBLOCK | extra);
            const char *how = walk ? "walk" : "openat2";
            if (fp >= 0 && fr >= 0) {
                struct stat a, b;
                ck_assert_int_eq(fstat(fp, &a), 0);
                ck_assert_int_eq(fstat(fr, &b), 0);
                ck_assert_msg(a.st_ino == b.st_ino && a.st_dev == b.st_dev && !S_ISLNK(a.st_mode),
                              "%s \"%s\": O_PATH opened another file", how, cases[_i].path);
            } else {
                ck_assert_msg(fp == fr, "%s \"%s\"%s: O_PATH %s, O_RDONLY %s", how,
                              cases[_i].path, dir ? " O_DIRECTORY" : "",
                              fp >= 0 ? "an fd" : strerror(-fp), fr >= 0 ? "an fd" : strerror(-fr));
            }
            if (fp >= 0)
                close(fp);
            if (fr >= 0)
                close(fr);
        }
    }
}
END_TEST

/* Whatever fails, the outside file is never what comes back. */
START_TEST(test_never_outside)
{
    static const char *const tries[] = {"esc", "escdir/secret", "../out/secret",
                                        "d/../../out/secret", "d/e/upp/../../out/secret"};
    for (int walk = 0; walk < 2; walk++) {
        beneath_force_walk(walk);
        for (size_t i = 0; i < sizeof(tries) / sizeof(tries[0]); i++) {
            int fd = beneath_open(root_fd, tries[i], O_RDONLY | O_CLOEXEC);
            if (fd >= 0) {
                char buf[16] = {0};
                ssize_t n = read(fd, buf, sizeof(buf) - 1);
                close(fd);
                ck_assert_msg(n < 0 || strcmp(buf, "SECRET") != 0, "%s escaped", tries[i]);
            }
        }
    }
}
END_TEST

/* A symlink chain of 41 links is refused (the kernel's limit is 40). */
START_TEST(test_link_limit)
{
    char name[32], target[32];
    for (int i = 0; i < 41; i++) {
        snprintf(name, sizeof(name), "r/c%d", i);
        if (i == 40)
            snprintf(target, sizeof(target), "top.txt");
        else
            snprintf(target, sizeof(target), "c%d", i + 1);
        lnk(target, name);
    }
    beneath_force_walk(true);
    ck_assert_int_eq(beneath_open(root_fd, "c0", O_RDONLY | O_CLOEXEC), -ELOOP);
    int fd = beneath_open(root_fd, "c2", O_RDONLY | O_CLOEXEC);
    ck_assert_int_ge(fd, 0);
    close(fd);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("beneath");
    TCase *tc = tcase_create("resolve");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_loop_test(tc, test_case, 0, (int)NCASES);
    tcase_add_loop_test(tc, test_case_o_path, 0, (int)NCASES);
    tcase_add_test(tc, test_never_outside);
    tcase_add_test(tc, test_link_limit);
    suite_add_tcase(s, tc);
    return ps_check_run(s);
}
