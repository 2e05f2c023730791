/* Unit tests of the daemon's log (src/pyserved/log.h): log_limited lets one
 * line a second through and counts the others into the next one. Standard
 * error is a temporary file while a test runs. */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "check_run.h"

static FILE *err_file;
static int saved_err = -1;

static void capture_stderr(void)
{
    err_file = tmpfile();
    ck_assert_ptr_nonnull(err_file);
    saved_err = dup(STDERR_FILENO);
    ck_assert_int_ge(saved_err, 0);
    ck_assert_int_eq(dup2(fileno(err_file), STDERR_FILENO), STDERR_FILENO);
    log_init(true); /* a file, not the journal: plain lines */
}

/* What was written to standard error since capture_stderr, NUL-terminated. */
static const char *captured(void)
{
    static char buf[4096];
    ck_assert_int_eq(fseek(err_file, 0, SEEK_SET), 0);
    size_t n = fread(buf, 1, sizeof(buf) - 1, err_file);
    buf[n] = '\0';
    return buf;
}

static void restore_stderr(void)
{
    dup2(saved_err, STDERR_FILENO);
    close(saved_err);
    fclose(err_file);
}

START_TEST(test_limited_once_a_second)
{
    struct log_limit l = {0};
    capture_stderr();
    ck_assert(log_limited(&l, 5000, LOG_WARNING, "one %d", 1));
    ck_assert(!log_limited(&l, 5000, LOG_WARNING, "two"));
    ck_assert(!log_limited(&l, 5999, LOG_WARNING, "three"));
    ck_assert(log_limited(&l, 6000, LOG_WARNING, "four"));
    ck_assert(log_limited(&l, 9000, LOG_ERR, "five"));
    ck_assert(!log_limited(&l, 9001, LOG_ERR, "six"));
    ck_assert(log_limited(&l, 10001, LOG_ERR, "seven"));
    ck_assert_str_eq(captured(), "pyserved: warning: one 1\n"
                                 "pyserved: warning: four (2 more like it not logged)\n"
                                 "pyserved: error: five\n"
                                 "pyserved: error: seven (1 more like it not logged)\n");
    restore_stderr();
}
END_TEST

/* A clock that starts at 0 (a zeroed limit is not "logged at 0"). */
START_TEST(test_limited_first_line_at_zero)
{
    struct log_limit l = {0};
    capture_stderr();
    ck_assert(log_limited(&l, 0, LOG_WARNING, "a"));
    ck_assert(!log_limited(&l, 999, LOG_WARNING, "b"));
    ck_assert_str_eq(captured(), "pyserved: warning: a\n");
    restore_stderr();
}
END_TEST

/* The count is kept when a message fills the line. */
START_TEST(test_limited_long_message)
{
    struct log_limit l = {0};
    char big[3000];
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    capture_stderr();
    ck_assert(log_limited(&l, 0, LOG_WARNING, "%s", big));
    ck_assert(!log_limited(&l, 1, LOG_WARNING, "%s", big));
    ck_assert(log_limited(&l, 1000, LOG_WARNING, "%s", big));
    const char *out = captured();
    const char *second = strchr(out, '\n');
    ck_assert_ptr_nonnull(second);
    ck_assert(strstr(out, "more like it") > second); /* not on the first line */
    const char *end = strchr(second + 1, '\n');
    ck_assert_ptr_nonnull(end);
    ck_assert_ptr_null(strchr(end + 1, '\n'));
    static const char tail[] = "xxx (1 more like it not logged)";
    ck_assert_uint_ge((size_t)(end - second), sizeof(tail));
    ck_assert(memcmp(end - (sizeof(tail) - 1), tail, sizeof(tail) - 1) == 0);
    restore_stderr();
}
END_TEST

/* A client as every log line names it: no port for a unix socket's
 * client ("unix:") or an unknown one ("-"), not ":0". */
START_TEST(test_peer)
{
    char out[80];
    log_peer(out, sizeof(out), "192.0.2.1", 8080, false);
    ck_assert_str_eq(out, "192.0.2.1:8080");
    log_peer(out, sizeof(out), "2001:db8::1", 443, true);
    ck_assert_str_eq(out, "[2001:db8::1]:443");
    log_peer(out, sizeof(out), "unix:", 0, false);
    ck_assert_str_eq(out, "unix:");
    log_peer(out, sizeof(out), "-", 0, false);
    ck_assert_str_eq(out, "-");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("log");
    TCase *tc = tcase_create("log_limited");
    tcase_add_test(tc, test_limited_once_a_second);
    tcase_add_test(tc, test_limited_first_line_at_zero);
    tcase_add_test(tc, test_limited_long_message);
    suite_add_tcase(s, tc);
    tc = tcase_create("log_peer");
    tcase_add_test(tc, test_peer);
    suite_add_tcase(s, tc);
    return ps_check_run(s);
}
