/* Unit tests of directory listings (src/pyserved/autoindex.h): escaping of
 * hostile names, link encoding, order, sizes and dates, and the reading of a
 * real directory. */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "autoindex.h"
#include "check_run.h"

#define NELEMS(a) (sizeof(a) / sizeof((a)[0]))
#define T0 ((time_t)1700000000) /* 2023-11-14 22:13:20 UTC */

/* A rendered page as a NUL-terminated string (the renderer returns a
 * length; the page must not contain NUL bytes). */
struct page {
    char *p;
    size_t n;
};

static struct page render(struct autoindex_entry *e, size_t n, const char *rel, bool truncated)
{
    struct page pg = {NULL, 0};
    int r = autoindex_render(e, n, rel, strlen(rel), truncated, &pg.p, &pg.n);
    ck_assert_int_eq(r, 0);
    ck_assert_ptr_nonnull(pg.p);
    ck_assert_uint_gt(pg.n, 0);
    ck_assert_msg(memchr(pg.p, '\0', pg.n) == NULL, "NUL byte in the page");
    char *s = malloc(pg.n + 1);
    ck_assert_ptr_nonnull(s);
    memcpy(s, pg.p, pg.n);
    s[pg.n] = '\0';
    free(pg.p);
    pg.p = s;
    return pg;
}

#define ck_assert_has(pg, sub)                                                                 \
    ck_assert_msg(strstr((pg).p, (sub)) != NULL, "page lacks \"%s\":\n%s", (sub), (pg).p)
#define ck_assert_lacks(pg, sub)                                                               \
    ck_assert_msg(strstr((pg).p, (sub)) == NULL, "page has \"%s\":\n%s", (sub), (pg).p)

static size_t count(const char *hay, const char *needle)
{
    size_t k = 0, nl = strlen(needle);
    for (const char *p = hay; (p = strstr(p, needle)); p += nl)
        k++;
    return k;
}

static void check_html_shell(const struct page *pg)
{
    ck_assert_has(*pg, "<html");
    ck_assert_has(*pg, "</html>");
    ck_assert_has(*pg, "<table");
    ck_assert_has(*pg, "</table>");
}

/* ------------------------------------------------------------------------ */
/* hostile names                                                            */

struct name_case {
    const char *name;
    bool is_dir;
    const char *href; /* the exact href attribute value */
    const char *text; /* the exact (escaped) link text */
    const char *raw;  /* must not appear anywhere in the page (NULL: none) */
};

static const struct name_case name_cases[] = {
    {"<script>alert(1)</script>", false, "%3Cscript%3Ealert%281%29%3C%2Fscript%3E",
     "&lt;script&gt;alert(1)&lt;/script&gt;", "<script"},
    {"<img src=x onerror=alert(1)>", false, "%3Cimg%20src%3Dx%20onerror%3Dalert%281%29%3E",
     "&lt;img src=x onerror=alert(1)&gt;", "<img"},
    {"q\"uote", false, "q%22uote", "q&quot;uote", "q\"uote"},
    {"it's", false, "it%27s", "it&#39;s", "it's"},
    {"\"><a href=x>", false, "%22%3E%3Ca%20href%3Dx%3E", "&quot;&gt;&lt;a href=x&gt;",
     "\"><a href=x>"},
    {"a&b", false, "a%26b", "a&amp;b", "a&b"},
    {"&amp;", false, "%26amp%3B", "&amp;amp;", NULL},
    {"a b.txt", false, "a%20b.txt", "a b.txt", "href=\"a b"},
    {"caf\xc3\xa9 \xe2\x98\x83.txt", false, "caf%C3%A9%20%E2%98%83.txt",
     "caf\xc3\xa9 \xe2\x98\x83.txt", NULL},
    {"new\nline", false, "new%0Aline", "new\nline", "href=\"new\n"},
    {"tab\there", false, "tab%09here", "tab\there", "href=\"tab\t"},
    {"javascript:alert(1)", false, "javascript%3Aalert%281%29", "javascript:alert(1)",
     "href=\"javascript:"},
    {"%2e%2e", false, "%252e%252e", "%2e%2e", "href=\"%2e"},
    {"q?x=1#frag", false, "q%3Fx%3D1%23frag", "q?x=1#frag", "href=\"q?"},
    {"back\\slash", false, "back%5Cslash", "back\\slash", NULL},
    {"dir <b>", true, "dir%20%3Cb%3E/", "dir &lt;b&gt;/", "<b>"},
    {"plain-name_1.0~x", false, "plain-name_1.0~x", "plain-name_1.0~x", NULL},
};

START_TEST(test_hostile_name)
{
    const struct name_case *tc = &name_cases[_i];
    struct autoindex_entry e[2] = {
        {tc->name, tc->is_dir, false, 1234, T0},
        {"zz-neighbour", false, false, 1, T0},
    };
    struct page pg = render(e, 2, "", false);
    check_html_shell(&pg);
    char want[512];
    snprintf(want, sizeof(want), "href=\"%s\"", tc->href);
    ck_assert_has(pg, want);
    snprintf(want, sizeof(want), "href=\"%s\">%s</a>", tc->href, tc->text);
    ck_assert_has(pg, want);
    if (tc->raw)
        ck_assert_lacks(pg, tc->raw);
    /* each name gives exactly one link, and there is no "../" at the root */
    ck_assert_uint_eq(count(pg.p, "<a "), 2);
    ck_assert_lacks(pg, "href=\"../\"");
    free(pg.p);
}
END_TEST

/* All of them on one page: still one link each, nothing raw. */
START_TEST(test_hostile_all_together)
{
    struct autoindex_entry e[NELEMS(name_cases)];
    for (size_t i = 0; i < NELEMS(name_cases); i++)
        e[i] = (struct autoindex_entry){name_cases[i].name, name_cases[i].is_dir, false, i, T0};
    struct page pg = render(e, NELEMS(name_cases), "", false);
    check_html_shell(&pg);
    ck_assert_uint_eq(count(pg.p, "<a "), NELEMS(name_cases));
    ck_assert_uint_eq(count(pg.p, "</a>"), NELEMS(name_cases));
    ck_assert_lacks(pg, "<script");
    ck_assert_lacks(pg, "<img");
    ck_assert_lacks(pg, "<b>");
    ck_assert_lacks(pg, "javascript:alert(1)\"");
    for (size_t i = 0; i < NELEMS(name_cases); i++) {
        char want[512];
        snprintf(want, sizeof(want), "href=\"%s\">%s</a>", name_cases[i].href,
                 name_cases[i].text);
        ck_assert_has(pg, want);
    }
    /* every href value is made of unreserved characters, '%', and a
     * directory's trailing '/' */
    for (const char *p = pg.p; (p = strstr(p, "href=\""));) {
        p += 6;
        const char *q = strchr(p, '"');
        ck_assert_ptr_nonnull(q);
        for (const char *c = p; c < q; c++)
            ck_assert_msg(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                 "0123456789-._~%",
                                 *c) ||
                              (*c == '/' && c + 1 == q),
                          "byte 0x%02x in href \"%.*s\"", (unsigned char)*c, (int)(q - p), p);
        p = q;
    }
    free(pg.p);
}
END_TEST

/* The directory's own path goes into the title and heading, escaped. */
START_TEST(test_title_escaped)
{
    struct autoindex_entry e[1] = {{"f", false, false, 1, T0}};
    struct page pg = render(e, 1, "a<b>&\"c'/", false);
    ck_assert_has(pg, "Index of /a&lt;b&gt;&amp;&quot;c&#39;/");
    ck_assert_lacks(pg, "a<b>");
    ck_assert_has(pg, "href=\"../\"");
    free(pg.p);

    pg = render(e, 1, "", false);
    ck_assert_has(pg, "Index of /<");
    free(pg.p);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* order, sizes, dates                                                      */

static const char *link_pos(const struct page *pg, const char *href)
{
    char want[256];
    snprintf(want, sizeof(want), "href=\"%s\"", href);
    const char *p = strstr(pg->p, want);
    ck_assert_msg(p != NULL, "no link %s in:\n%s", want, pg->p);
    return p;
}

START_TEST(test_sort_order)
{
    /* given in a scrambled order */
    struct autoindex_entry e[] = {
        {"b", false, false, 1, T0},      {"zdir", true, false, 0, T0},
        {"\xc3\xa9", false, false, 1, T0}, {"B", false, false, 1, T0},
        {"_u", false, false, 1, T0},     {"Adir", true, false, 0, T0},
        {"a", false, false, 1, T0},      {"a.txt", false, false, 1, T0},
        {"a-", false, false, 1, T0},     {"10", false, false, 1, T0},
        {"9", false, false, 1, T0},      {"mdir", true, false, 0, T0},
    };
    /* directories first, then files, each by byte order (strcmp) */
    static const char *order[] = {"Adir/", "mdir/", "zdir/", "10",  "9",   "B",
                                  "_u",    "a",     "a-",    "a.txt", "b", "%C3%A9"};
    struct page pg = render(e, NELEMS(e), "sub/", false);
    const char *prev = link_pos(&pg, "../");
    for (size_t i = 0; i < NELEMS(order); i++) {
        const char *p = link_pos(&pg, order[i]);
        ck_assert_msg(p > prev, "%s is not after the previous entry:\n%s", order[i], pg.p);
        prev = p;
    }
    free(pg.p);
}
END_TEST

START_TEST(test_sizes_and_dates)
{
    struct autoindex_entry e[] = {
        {"empty", false, false, 0, 0},
        {"big", false, false, UINT64_C(18446744073709551615), T0},
        {"mid", false, false, 1234567, (time_t)951782400}, /* 2000-02-29 00:00:00 */
        {"d", true, false, 4096, (time_t)1709251199},       /* 2024-02-29 23:59:59 */
        {"ln", false, true, 11, T0},
    };
    struct page pg = render(e, NELEMS(e), "", false);
    ck_assert_has(pg, ">empty</a></td><td>1970-01-01 00:00</td><td>0</td>");
    ck_assert_has(pg, ">big</a></td><td>2023-11-14 22:13</td><td>18446744073709551615</td>");
    ck_assert_has(pg, ">mid</a></td><td>2000-02-29 00:00</td><td>1234567</td>");
    /* a directory and a symlink have no size */
    ck_assert_has(pg, ">d/</a></td><td>2024-02-29 23:59</td><td>-</td>");
    ck_assert_has(pg, ">ln</a></td><td>2023-11-14 22:13</td><td>-</td>");
    ck_assert_lacks(pg, "4096");
    free(pg.p);
}
END_TEST

START_TEST(test_truncated_note)
{
    struct autoindex_entry e[] = {{"a", false, false, 1, T0}, {"b", false, false, 2, T0}};
    struct page full = render(e, 2, "x/", false);
    struct page cut = render(e, 2, "x/", true);
    /* the same table, and a note after it only when truncated */
    const char *ft = strstr(full.p, "</table>"), *ct = strstr(cut.p, "</table>");
    ck_assert_ptr_nonnull(ft);
    ck_assert_ptr_nonnull(ct);
    ck_assert_uint_eq((size_t)(ft - full.p), (size_t)(ct - cut.p));
    ck_assert(memcmp(full.p, cut.p, (size_t)(ft - full.p)) == 0);
    ck_assert_uint_gt(strlen(ct), strlen(ft));
    ck_assert_uint_eq(count(cut.p, "<a "), count(full.p, "<a "));
    free(full.p);
    free(cut.p);
}
END_TEST

START_TEST(test_root_and_subdir)
{
    struct autoindex_entry e[] = {{"f.txt", false, false, 3, T0}};
    struct page pg = render(e, 1, "", false);
    ck_assert_lacks(pg, "href=\"../\"");
    ck_assert_lacks(pg, "..");
    ck_assert_has(pg, "Index of /<");
    free(pg.p);

    pg = render(e, 1, "a/b/", false);
    ck_assert_has(pg, "href=\"../\"");
    ck_assert_uint_eq(count(pg.p, "href=\"../\""), 1);
    ck_assert_has(pg, "Index of /a/b/<");
    /* "../" comes before the entries */
    ck_assert(strstr(pg.p, "href=\"../\"") < strstr(pg.p, "href=\"f.txt\""));
    free(pg.p);
}
END_TEST

START_TEST(test_empty_directory)
{
    struct page pg = render(NULL, 0, "", false);
    check_html_shell(&pg);
    ck_assert_uint_eq(count(pg.p, "<a "), 0);
    free(pg.p);
    pg = render(NULL, 0, "e/", false);
    ck_assert_uint_eq(count(pg.p, "<a "), 1);
    ck_assert_has(pg, "href=\"../\"");
    free(pg.p);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* autoindex_build over a real directory                                    */

static char tmpdir[64];

static void make_tmpdir(void)
{
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/check_autoindex.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void put_file(const char *name, const char *data, time_t mtime)
{
    char p[512];
    snprintf(p, sizeof(p), "%s/%s", tmpdir, name);
    int fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    ck_assert_msg(fd >= 0, "create %s: %s", p, strerror(errno));
    size_t n = strlen(data);
    ck_assert_int_eq(write(fd, data, n), (ssize_t)n);
    struct timespec ts[2] = {{mtime, 0}, {mtime, 0}};
    ck_assert_int_eq(futimens(fd, ts), 0);
    close(fd);
}

static void remove_tree(const char *path)
{
    char cmd[600];
    snprintf(cmd, sizeof(cmd), "rm -rf -- '%s'", path);
    ck_assert_int_eq(system(cmd), 0);
}

static struct page build(int dirfd, const char *rel, bool dots)
{
    struct page pg = {NULL, 0};
    int r = autoindex_build(dirfd, rel, strlen(rel), dots, &pg.p, &pg.n);
    ck_assert_msg(r == 0, "autoindex_build: %s", strerror(-r));
    char *s = malloc(pg.n + 1);
    ck_assert_ptr_nonnull(s);
    memcpy(s, pg.p, pg.n);
    s[pg.n] = '\0';
    free(pg.p);
    pg.p = s;
    return pg;
}

START_TEST(test_build_directory)
{
    make_tmpdir();
    put_file("b.txt", "bee", T0);
    put_file("a b.txt", "", (time_t)951782400);
    put_file(".hidden", "secret", T0);
    put_file("<x>&\"y\".txt", "12345", T0);
    put_file("new\nline", "nl", T0);
    char p[512];
    snprintf(p, sizeof(p), "%s/sub dir", tmpdir);
    ck_assert_int_eq(mkdir(p, 0755), 0);
    snprintf(p, sizeof(p), "%s/.git", tmpdir);
    ck_assert_int_eq(mkdir(p, 0755), 0);
    snprintf(p, sizeof(p), "%s/ln", tmpdir);
    ck_assert_int_eq(symlink("b.txt", p), 0);
    snprintf(p, sizeof(p), "%s/dangling", tmpdir);
    ck_assert_int_eq(symlink("nowhere", p), 0);

    int dfd = open(tmpdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    ck_assert_int_ge(dfd, 0);

    struct page pg = build(dfd, "", false);
    check_html_shell(&pg);
    ck_assert_has(pg, "href=\"sub%20dir/\">sub dir/</a>");
    ck_assert_has(pg, "href=\"b.txt\">b.txt</a></td><td>2023-11-14 22:13</td><td>3</td>");
    ck_assert_has(pg, "href=\"a%20b.txt\">a b.txt</a></td><td>2000-02-29 00:00</td><td>0</td>");
    ck_assert_has(pg, "href=\"%3Cx%3E%26%22y%22.txt\">&lt;x&gt;&amp;&quot;y&quot;.txt</a>");
    ck_assert_has(pg, "href=\"new%0Aline\"");
    ck_assert_has(pg, "href=\"ln\">ln</a>");
    ck_assert_has(pg, "href=\"dangling\">dangling</a>");
    /* dotfiles hidden, and never "." or ".." */
    ck_assert_lacks(pg, "hidden");
    ck_assert_lacks(pg, ".git");
    ck_assert_lacks(pg, "href=\"./\"");
    ck_assert_lacks(pg, "href=\"../\"");
    ck_assert_lacks(pg, "href=\".\"");
    ck_assert_lacks(pg, "href=\"..\"");
    ck_assert_lacks(pg, "<x>");
    ck_assert_uint_eq(count(pg.p, "<a "), 7);
    /* the directory comes first */
    ck_assert(strstr(pg.p, "href=\"sub%20dir/\"") < strstr(pg.p, "href=\"a%20b.txt\""));
    free(pg.p);

    /* dotfiles shown when allowed; "." and ".." still never */
    pg = build(dfd, "d/", true);
    ck_assert_has(pg, "href=\".hidden\">.hidden</a>");
    ck_assert_has(pg, "href=\".git/\">.git/</a>");
    ck_assert_uint_eq(count(pg.p, "href=\"../\""), 1);
    ck_assert_lacks(pg, "href=\"./\"");
    ck_assert_lacks(pg, "href=\".\"");
    ck_assert_lacks(pg, "href=\"..\"");
    ck_assert_uint_eq(count(pg.p, "<a "), 10);
    ck_assert_has(pg, "Index of /d/<");
    free(pg.p);

    /* the descriptor was not consumed (nor its position spoilt) */
    struct stat st;
    ck_assert_int_eq(fstat(dfd, &st), 0);
    ck_assert(S_ISDIR(st.st_mode));
    pg = build(dfd, "", false);
    ck_assert_uint_eq(count(pg.p, "<a "), 7);
    free(pg.p);
    ck_assert_int_eq(close(dfd), 0);
    remove_tree(tmpdir);
}
END_TEST

START_TEST(test_build_empty_directory)
{
    make_tmpdir();
    int dfd = open(tmpdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    ck_assert_int_ge(dfd, 0);
    struct page pg = build(dfd, "", false);
    check_html_shell(&pg);
    ck_assert_uint_eq(count(pg.p, "<a "), 0);
    free(pg.p);
    close(dfd);
    remove_tree(tmpdir);
}
END_TEST

START_TEST(test_build_not_a_directory)
{
    make_tmpdir();
    put_file("f", "x", T0);
    char p[512];
    snprintf(p, sizeof(p), "%s/f", tmpdir);
    int fd = open(p, O_RDONLY | O_CLOEXEC);
    ck_assert_int_ge(fd, 0);
    char *out = NULL;
    size_t len = 0;
    int r = autoindex_build(fd, "", 0, false, &out, &len);
    ck_assert_int_lt(r, 0);
    close(fd);
    remove_tree(tmpdir);
}
END_TEST

/* More entries than a listing shows: AUTOINDEX_MAX_ENTRIES and a note. */
START_TEST(test_build_truncated)
{
    make_tmpdir();
    int dfd = open(tmpdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    ck_assert_int_ge(dfd, 0);
    for (int i = 0; i < 20; i++) {
        char n[32];
        snprintf(n, sizeof(n), "f%05d", i);
        put_file(n, "", T0);
    }
    struct page small = build(dfd, "", false);
    ck_assert_uint_eq(count(small.p, "<a "), 20);
    for (int i = 20; i < AUTOINDEX_MAX_ENTRIES + 5; i++) {
        char n[32];
        snprintf(n, sizeof(n), "f%05d", i);
        int fd = openat(dfd, n, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        ck_assert_int_ge(fd, 0);
        close(fd);
    }
    struct page big = build(dfd, "", false);
    ck_assert_uint_eq(count(big.p, "<a "), AUTOINDEX_MAX_ENTRIES);
    /* something after the table that the complete listing does not have */
    const char *bt = strstr(big.p, "</table>"), *st = strstr(small.p, "</table>");
    ck_assert_ptr_nonnull(bt);
    ck_assert_ptr_nonnull(st);
    ck_assert_uint_gt(strlen(bt), strlen(st));
    free(small.p);
    free(big.p);
    close(dfd);
    remove_tree(tmpdir);
}
END_TEST

static Suite *autoindex_suite(void)
{
    Suite *s = suite_create("autoindex");
    TCase *tc;

    tc = tcase_create("render");
    tcase_add_loop_test(tc, test_hostile_name, 0, NELEMS(name_cases));
    tcase_add_test(tc, test_hostile_all_together);
    tcase_add_test(tc, test_title_escaped);
    tcase_add_test(tc, test_sort_order);
    tcase_add_test(tc, test_sizes_and_dates);
    tcase_add_test(tc, test_truncated_note);
    tcase_add_test(tc, test_root_and_subdir);
    tcase_add_test(tc, test_empty_directory);
    suite_add_tcase(s, tc);

    tc = tcase_create("build");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_build_directory);
    tcase_add_test(tc, test_build_empty_directory);
    tcase_add_test(tc, test_build_not_a_directory);
    tcase_add_test(tc, test_build_truncated);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return ps_check_run(autoindex_suite());
}
