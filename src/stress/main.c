/* pyserve-stress: command line, the checks before the run (the target
 * answers, --verify references), the threads, the live progress line,
 * the report and the exit status. The only place that exits. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "engine.h"
#include "net.h"
#include "opts.h"
#include "rdec.h"
#include "report.h"
#include "stdfds.h"
#include "urlmix.h"

#define EXIT_RUN_FAILED 1
#define EXIT_USAGE      2
#define URLS_FILE_MAX   (16u << 20)
#define PROGRESS_NS     250000000u
#define FDS_EXTRA       32 /* epoll sets, stdio, the probe */

static const char prog[] = "pyserve-stress";

/* The whole --urls file: a regular file, or what a pipe, a terminal or
 * "-" (standard input) gives until its end; at most URLS_FILE_MAX bytes. */
static char *read_file(const char *path, size_t *len, char *err, size_t errsz)
{
    bool is_stdin = strcmp(path, "-") == 0;
    int fd = is_stdin ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC);
    const char *name = is_stdin ? "standard input" : path;
    struct stat st;
    char *buf = NULL;
    size_t n = 0, cap = 0;

    if (fd < 0 || fstat(fd, &st) < 0) {
        snprintf(err, errsz, "%s: %s", name, strerror(errno));
        goto fail;
    }
    if (S_ISDIR(st.st_mode)) {
        snprintf(err, errsz, "%s: %s", name, strerror(EISDIR));
        goto fail;
    }
    for (;;) {
        if (n == cap) {
            if (cap > URLS_FILE_MAX) {
                snprintf(err, errsz, "%s: larger than %u bytes", name, URLS_FILE_MAX);
                goto fail;
            }
            size_t want = cap ? cap * 2 : 64 * 1024;
            cap = want > (size_t)URLS_FILE_MAX + 1 ? (size_t)URLS_FILE_MAX + 1 : want;
            char *nb = realloc(buf, cap + 1);
            if (!nb) {
                snprintf(err, errsz, "%s: out of memory", name);
                goto fail;
            }
            buf = nb;
        }
        ssize_t r = read(fd, buf + n, cap - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            snprintf(err, errsz, "%s: %s", name, strerror(errno));
            goto fail;
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    if (n > URLS_FILE_MAX) {
        snprintf(err, errsz, "%s: larger than %u bytes", name, URLS_FILE_MAX);
        goto fail;
    }
    if (!is_stdin)
        close(fd);
    if (!buf && !(buf = malloc(1))) {
        snprintf(err, errsz, "%s: out of memory", name);
        return NULL;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
fail:
    if (fd >= 0 && !is_stdin)
        close(fd);
    free(buf);
    return NULL;
}

/* Enough descriptors for every connection. */
static int raise_nofile(unsigned conns, char *err, size_t errsz)
{
    struct rlimit rl;
    rlim_t need = (rlim_t)conns + FDS_EXTRA;
    if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur >= need)
        return 0;
    if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < need) {
        snprintf(err, errsz,
                 "%u connections need %llu file descriptors; the limit is %llu "
                 "(ulimit -n)",
                 conns, (unsigned long long)need, (unsigned long long)rl.rlim_max);
        return -EMFILE;
    }
    rl.rlim_cur = need;
    if (setrlimit(RLIMIT_NOFILE, &rl) < 0) {
        snprintf(err, errsz, "setrlimit(RLIMIT_NOFILE): %s", strerror(errno));
        return -errno;
    }
    return 0;
}

static void progress(const struct stress_thread *th, unsigned n, uint64_t elapsed_ns,
                     uint64_t *last_req, uint64_t *last_ns)
{
    uint64_t req = 0, errs = 0;
    for (unsigned i = 0; i < n; i++) {
        req += atomic_load_explicit(&th[i].live_requests, memory_order_relaxed);
        errs += atomic_load_explicit(&th[i].live_errors, memory_order_relaxed);
    }
    double dt = (double)(elapsed_ns - *last_ns) / 1e9;
    double rate = dt > 0 ? (double)(req - *last_req) / dt : 0.0;
    fprintf(stderr, "\r%7.1fs  %llu requests  %.0f req/s  %llu errors\033[K",
            (double)elapsed_ns / 1e9, (unsigned long long)req, rate, (unsigned long long)errs);
    fflush(stderr);
    *last_req = req;
    *last_ns = elapsed_ns;
}

/* Did what was printed on standard output (what, for the message) reach
 * it? A report lost to a full disk or a closed descriptor (the guard's
 * placeholder: EBADF) must not pass for a success. The caller clears errno
 * before printing, so that an earlier failed write's errno is the one
 * reported when the last flush had nothing left to fail on. */
static int stdout_written(const char *what)
{
    if (fflush(stdout) != EOF && !ferror(stdout))
        return 0;
    int e = errno ? errno : EIO;
    fprintf(stderr, "%s: cannot write %s to standard output: %s\n", prog, what, strerror(e));
    return -1;
}

/* Why a run got no response: "errors: read 4, timeout 2" (the kinds that
 * happened), or that none failed; and the open loop's unanswered ones. */
static void no_response_why(const struct stress_stats *s, char *buf, size_t sz)
{
    const char *const name[] = {"connect", "read", "write", "timeout", "bad response"};
    const uint64_t count[] = {s->err_connect, s->err_read, s->err_write, s->err_timeout,
                              s->err_bad};
    size_t o = (size_t)snprintf(buf, sz, "errors:");
    bool any = false;
    for (unsigned i = 0; i < sizeof(count) / sizeof(count[0]) && o < sz; i++)
        if (count[i]) {
            o += (size_t)snprintf(buf + o, sz - o, "%s %s %llu", any ? "," : "", name[i],
                                  (unsigned long long)count[i]);
            any = true;
        }
    if (!any)
        o = (size_t)snprintf(buf, sz, "no request failed");
    if (s->unanswered && o < sz)
        snprintf(buf + o, sz - o, "; %llu due and unanswered at the end",
                 (unsigned long long)s->unanswered);
}

/* The share of -n's N requests of the thread with connections [first,
 * first + n) of conns: connection g makes request g, g + conns, g + 2 conns
 * ... of the run, which in the open loop is the order they are due in, so
 * it has N / conns of them, one more when g < N % conns. A thread's share
 * follows its connections (and so its share of -R), and the run takes as
 * long on every thread. */
static uint64_t thread_quota(uint64_t requests, unsigned conns, unsigned first, unsigned n)
{
    uint64_t rem = requests % conns, extra = 0;
    if (first < rem)
        extra = first + n < rem ? n : rem - first;
    return requests / conns * n + extra;
}

/* --verify: one GET per mix entry before the run; its 2xx body length is
 * the reference. */
static int fetch_references(const struct stress_opts *o, const struct urlmix *mix,
                            const struct stress_run *run, uint64_t *ref, char *err, size_t errsz)
{
    struct rdec d;
    rdec_init(&d);
    int r = 0;
    for (unsigned i = 0; i < mix->n && r == 0; i++) {
        char *req = NULL, why[512], url[1024];
        size_t len;
        snprintf(url, sizeof(url), "http://%s%s%s:%u%s", mix->ipv6_literal ? "[" : "", mix->host,
                 mix->ipv6_literal ? "]" : "", mix->port, mix->v[i].target);
        r = urlmix_build_request(mix, "GET", mix->v[i].target, o->headers, o->nheaders, true, &req,
                                 &len);
        if (r < 0) {
            snprintf(err, errsz, "out of memory");
            break;
        }
        rdec_start(&d, false, false);
        r = stress_fetch(&run->addr, run->addrlen, req, len, o->timeout_ms, &d, why, sizeof(why));
        free(req);
        if (r < 0) {
            snprintf(err, errsz, "--verify: reference request for %s: %s", url, why);
        } else if (d.status < 200 || d.status > 299) {
            snprintf(err, errsz, "--verify: reference request for %s answered %d, not 2xx", url,
                     d.status);
            r = -EINVAL;
        } else {
            ref[i] = d.body_len;
        }
    }
    rdec_free(&d);
    return r;
}

int main(int argc, char **argv)
{
    struct stress_opts o;
    struct urlmix mix;
    struct stress_run run;
    struct stress_thread *th = NULL;
    struct stress_stats total;
    uint32_t *cycle = NULL;
    uint64_t *ref = NULL;
    char *urls_text = NULL;
    char err[2048]; /* room for a --verify message with a long URL */
    unsigned started = 0, inited = 0;
    int status = EXIT_RUN_FAILED, interrupted = 0;
    sigset_t sigs;

    /* a connection must not take the number of a closed stdout: the
     * report would be sent to the server */
    if (ps_guard_std_fds(prog) < 0)
        return EXIT_RUN_FAILED;
    /* a closed pipe is a write error, reported as such (--help, the report) */
    signal(SIGPIPE, SIG_IGN);
    urlmix_init(&mix);
    memset(&run, 0, sizeof(run));
    if (stress_opts_parse(argc, argv, &o, err, sizeof(err)) < 0) {
        fprintf(stderr, "%s: %s\nTry '%s --help'.\n", prog, err, prog);
        return EXIT_USAGE;
    }
    if (o.help) {
        errno = 0;
        stress_usage(stdout);
        return stdout_written("the help") < 0 ? EXIT_RUN_FAILED : EXIT_SUCCESS;
    }
    if (o.version) {
        errno = 0;
        printf("%s (pyserve) %s\n", prog, PACKAGE_VERSION);
        return stdout_written("the version") < 0 ? EXIT_RUN_FAILED : EXIT_SUCCESS;
    }

    /* the request mix */
    for (unsigned i = 0; i < o.nurls; i++)
        if (urlmix_add(&mix, o.urls[i], 1, err, sizeof(err)) < 0) {
            status = EXIT_USAGE;
            goto fail_msg;
        }
    if (o.urls_file) {
        size_t len;
        char why[sizeof(err) - 16];
        urls_text = read_file(o.urls_file, &len, why, sizeof(why));
        if (!urls_text ||
            urlmix_parse_text(&mix, o.urls_file, urls_text, len, why, sizeof(why)) < 0) {
            snprintf(err, sizeof(err), "--urls: %s", why);
            status = EXIT_USAGE;
            goto fail_msg;
        }
    }
    run.o = &o;
    run.nreq = mix.n;
    run.req = calloc(mix.n, sizeof(*run.req));
    run.req_len = calloc(mix.n, sizeof(*run.req_len));
    if (!run.req || !run.req_len || urlmix_cycle(&mix, &cycle, &run.ncycle) < 0) {
        snprintf(err, sizeof(err), "out of memory");
        goto fail_msg;
    }
    run.cycle = cycle;
    for (unsigned i = 0; i < mix.n; i++)
        if (urlmix_build_request(&mix, o.head ? "HEAD" : "GET", mix.v[i].target, o.headers,
                                 o.nheaders, !o.keep_alive || o.once, &run.req[i],
                                 &run.req_len[i]) < 0) {
            snprintf(err, sizeof(err), "out of memory");
            goto fail_msg;
        }

    if (raise_nofile(o.connections, err, sizeof(err)) < 0)
        goto fail_msg;
    /* the target must take a connection before the load starts */
    if (stress_probe(mix.host, mix.port, o.timeout_ms, &run.addr, &run.addrlen, err, sizeof(err)) <
        0)
        goto fail_msg;
    if (o.verify) {
        ref = calloc(mix.n, sizeof(*ref));
        if (!ref) {
            snprintf(err, sizeof(err), "out of memory");
            goto fail_msg;
        }
        if (fetch_references(&o, &mix, &run, ref, err, sizeof(err)) < 0)
            goto fail_msg;
        run.ref_len = ref;
    }

    /* SIGINT/SIGTERM end the run early with a report: blocked in every
     * thread, taken by the main thread with sigtimedwait. */
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);

    th = calloc(o.threads, sizeof(*th));
    if (!th) {
        snprintf(err, sizeof(err), "out of memory");
        goto fail_msg;
    }
    run.total_conns = o.connections;
    atomic_init(&run.stop, false);
    run.t0_ns = stress_now_ns();
    run.measure_ns = run.t0_ns + o.warmup_ms * 1000000u;
    run.end_ns = o.duration_ms ? run.measure_ns + o.duration_ms * 1000000u : UINT64_MAX;
    for (unsigned i = 0, first = 0; i < o.threads; i++) {
        unsigned n = o.connections / o.threads + (i < o.connections % o.threads);
        uint64_t quota = UINT64_MAX;
        if (o.once)
            quota = n;
        else if (o.requests)
            quota = thread_quota(o.requests, o.connections, first, n);
        inited++; /* even a failed init has something to free */
        if (stress_thread_init(&th[i], &run, i, first, n, quota, err, sizeof(err)) < 0)
            goto fail_threads;
        first += n;
    }
    for (unsigned i = 0; i < o.threads; i++) {
        int r = pthread_create(&th[i].tid, NULL, stress_thread_main, &th[i]);
        if (r != 0) {
            snprintf(err, sizeof(err), "pthread_create: %s", strerror(r));
            atomic_store(&run.stop, true);
            goto fail_threads;
        }
        started++;
    }

    bool show = isatty(STDERR_FILENO);
    uint64_t last_req = 0, last_ns = 0;
    for (;;) {
        unsigned done = 0;
        for (unsigned i = 0; i < o.threads; i++)
            done += atomic_load_explicit(&th[i].finished, memory_order_acquire);
        if (done == o.threads)
            break;
        struct timespec ts = {0, PROGRESS_NS};
        int sig = sigtimedwait(&sigs, NULL, &ts);
        if (sig == SIGINT || sig == SIGTERM) {
            interrupted = 1;
            atomic_store(&run.stop, true);
        }
        if (show)
            progress(th, o.threads, stress_now_ns() - run.t0_ns, &last_req, &last_ns);
    }
    if (show)
        fprintf(stderr, "\r\033[K");

    stress_stats_init(&total);
    uint64_t finish = run.t0_ns;
    const char *fatal = NULL;
    for (unsigned i = 0; i < o.threads; i++) {
        pthread_join(th[i].tid, NULL);
        started--;
        stress_stats_merge(&total, &th[i].st);
        if (th[i].finish_ns > finish)
            finish = th[i].finish_ns;
        if (th[i].fatal[0])
            fatal = th[i].fatal;
    }
    struct stress_result res = {
        .o = &o,
        .target = o.nurls ? o.urls[0] : o.urls_file,
        .nurls = mix.n,
        .threads = o.threads,
        .measured_ns = finish > run.measure_ns ? finish - run.measure_ns : 0,
        .wall_ns = finish - run.t0_ns,
        .s = &total,
        .interrupted = interrupted,
    };
    errno = 0;
    if (o.json)
        stress_report_json(stdout, &res);
    else
        stress_report_text(stdout, &res);
    bool lost = stdout_written("the report") < 0;

    status = lost ? EXIT_RUN_FAILED : EXIT_SUCCESS;
    if (fatal) {
        fprintf(stderr, "%s: %s\n", prog, fatal);
        status = EXIT_RUN_FAILED;
    } else if (total.requests == 0) {
        no_response_why(&total, err, sizeof(err));
        fprintf(stderr, "%s: no response received (%s)\n", prog, err);
        status = EXIT_RUN_FAILED;
    } else if (o.fail_on_error &&
               (stress_stats_errors(&total) || stress_stats_non_2xx_3xx(&total))) {
        fprintf(stderr, "%s: %llu requests failed, %llu responses not 2xx or 3xx\n", prog,
                (unsigned long long)stress_stats_errors(&total),
                (unsigned long long)stress_stats_non_2xx_3xx(&total));
        status = EXIT_RUN_FAILED;
    }
    goto out;

fail_threads:
    for (unsigned i = 0; i < started; i++)
        pthread_join(th[i].tid, NULL);
    started = 0;
fail_msg:
    fprintf(stderr, "%s: %s\n", prog, err);
    if (status == EXIT_USAGE)
        fprintf(stderr, "Try '%s --help'.\n", prog);
out:
    for (unsigned i = 0; i < inited; i++)
        stress_thread_free(&th[i]);
    free(th);
    for (unsigned i = 0; run.req && i < run.nreq; i++)
        free(run.req[i]);
    free(run.req);
    free(run.req_len);
    free(cycle);
    free(ref);
    free(urls_text);
    urlmix_free(&mix);
    return status;
}
