/* Unit tests of pyserve-stress's pre-run fetch (net.h): stress_fetch must
 * end at its deadline also when the response never stops coming.
 *
 * A real server on loopback cannot be made faster than the reader on every
 * run, so this file puts its own read() in front of the C library's: while
 * a fake is on, a read from a socket is answered here, at once and in full,
 * as from a server that is always ahead; the socket never looks drained.
 * The connection itself is real (a listener on 127.0.0.1 port 0 that never
 * accepts: the kernel completes the handshake). Every other read goes to
 * the kernel. */
#include "config.h"

#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "net.h"
#include "rdec.h"
#include "check_run.h"

#define FAKE_LIMIT_MS 3000 /* then the fake reports EOF: the old loop ends too */

struct fake {
    bool on;
    const char *head; /* returned by the first read */
    const char *unit; /* then repeated as often as fits, every read */
    bool once;        /* EOF after the head (a complete response) */
    unsigned reads;   /* reads answered here */
    bool head_sent;
    uint64_t t0_ms;
};

static struct fake fake;

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static ssize_t real_read(int fd, void *buf, size_t n)
{
    return (ssize_t)syscall(SYS_read, fd, buf, n);
}

ssize_t read(int fd, void *buf, size_t n)
{
    struct stat st;
    if (!fake.on || fstat(fd, &st) < 0 || !S_ISSOCK(st.st_mode))
        return real_read(fd, buf, n);
    fake.reads++;
    if (!fake.head_sent) {
        size_t len = strlen(fake.head);
        ck_assert_uint_ge(n, len);
        memcpy(buf, fake.head, len);
        fake.head_sent = true;
        fake.t0_ms = now_ms();
        return (ssize_t)len;
    }
    if (fake.once || now_ms() - fake.t0_ms > FAKE_LIMIT_MS)
        return 0;
    size_t u = strlen(fake.unit), off = 0;
    while (off + u <= n) {
        memcpy((char *)buf + off, fake.unit, u);
        off += u;
    }
    ck_assert_uint_gt(off, 0);
    return (ssize_t)off;
}

/* A listener on 127.0.0.1 port 0; its address in *sa. */
static int listener(struct sockaddr_storage *sa, socklen_t *len)
{
    struct sockaddr_in in = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&in, sizeof(in)), 0);
    ck_assert_int_eq(listen(fd, 8), 0);
    *len = sizeof(in);
    ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&in, len), 0);
    memset(sa, 0, sizeof(*sa));
    memcpy(sa, &in, sizeof(in));
    return fd;
}

static const char req[] = "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";

/* Run stress_fetch with the fake on; the elapsed time in *ms. */
static int fetch(struct rdec *d, uint64_t timeout_ms, char *err, size_t errsz, uint64_t *ms)
{
    struct sockaddr_storage sa;
    socklen_t len;
    int lfd = listener(&sa, &len);
    rdec_init(d);
    rdec_start(d, false, false);
    fake.on = true;
    uint64_t t0 = now_ms();
    int r = stress_fetch(&sa, len, req, sizeof(req) - 1, timeout_ms, d, err, errsz);
    *ms = now_ms() - t0;
    fake.on = false;
    close(lfd);
    return r;
}

START_TEST(test_fetch_complete_response)
{
    /* the fake itself: a whole response in one read, then EOF */
    struct rdec d;
    char err[256] = "";
    uint64_t ms;
    fake = (struct fake){.head = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", .once = true};
    ck_assert_int_eq(fetch(&d, 2000, err, sizeof(err), &ms), 0);
    ck_assert_uint_ge(fake.reads, 1); /* read() was ours */
    ck_assert_int_eq(d.status, 200);
    ck_assert_uint_eq(d.body_len, 5);
    rdec_free(&d);
}
END_TEST

/* Responses that never end, each read full to the brim. */
static const struct {
    const char *head, *unit;
} endless[] = {
    {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", "1\r\nx\r\n"},
    {"HTTP/1.1 200 OK\r\nContent-Length: 4611686018427387904\r\n\r\n", "xxxxxxxxxxxxxxxx"},
    {"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n", "xxxxxxxxxxxxxxxx"},
    {"HTTP/1.1 100 Continue\r\n\r\n", "HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n"},
};

START_TEST(test_fetch_deadline_with_endless_response)
{
    struct rdec d;
    char err[256] = "";
    uint64_t ms;
    fake = (struct fake){.head = endless[_i].head, .unit = endless[_i].unit};
    int r = fetch(&d, 200, err, sizeof(err), &ms);
    ck_assert_uint_gt(fake.reads, 1); /* read() was ours, and read more than once */
    ck_assert_msg(r == -ETIMEDOUT, "stress_fetch returned %d (%s) after %llu ms", r, err,
                  (unsigned long long)ms);
    ck_assert_msg(ms < 200 + 300, "stress_fetch took %llu ms with a 200 ms timeout",
                  (unsigned long long)ms);
    ck_assert_msg(strstr(err, "not complete within the timeout") != NULL, "%s", err);
    rdec_free(&d);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("stress_net");
    TCase *tc = tcase_create("fetch");
    tcase_set_timeout(tc, 10);
    tcase_add_test(tc, test_fetch_complete_response);
    tcase_add_loop_test(tc, test_fetch_deadline_with_endless_response, 0,
                        sizeof(endless) / sizeof(endless[0]));
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return ps_check_run(suite());
}
