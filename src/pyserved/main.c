/* pyserved: command line, configuration snapshots, listening sockets,
 * signals (signalfd) and the service-manager protocol. The only place that
 * exits. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/signalfd.h>
#include <systemd/sd-daemon.h>
#include <time.h>
#include <unistd.h>

#include "conf.h"
#include "listen.h"
#include "log.h"
#include "longopt.h"
#include "mime_cache.h"
#include "monoclock.h"
#include "notify.h"
#include "privs.h"
#include "stdfds.h"
#include "watchdog.h"
#include "beneath.h"
#include "worker.h"

#define EXIT_CONFIG 1
#define EXIT_USAGE 2
#define MAX_OVERRIDES 64
#define DEFAULT_CONFIG SYSCONFDIR "/pyserve.conf"

struct override {
    char key[64]; /* empty for --set: value is the whole "KEY = VALUE" */
    const char *value;
};

struct opts {
    const char *config;
    bool config_given;
    bool check_only;
    struct override ov[MAX_OVERRIDES];
    unsigned nov;
};

static void usage(FILE *f)
{
    fprintf(f,
            "Usage: pyserved [OPTION]...\n"
            "Serve the files under a document root over HTTP/1.1.\n"
            "\n"
            "  -c, --config=FILE      read FILE instead of %s\n"
            "  -l, --listen=ADDR      listen on ADDR: HOST:PORT, [IPV6]:PORT or PORT (all\n"
            "                         addresses); repeatable; replaces the file's listen lines\n"
            "  -r, --root=DIR         serve DIR (overrides root =)\n"
            "      --threads=N        worker threads, 0 = one per CPU (overrides threads =)\n"
            "  -o, --set=KEY=VALUE    set any config key, after the file (repeatable)\n"
            "  -t, --check-config     check the configuration and exit\n"
            "  -h, --help             show this help and exit\n"
            "  -V, --version          show the version and exit\n"
            "\n"
            "Signals: HUP reloads the configuration, TERM and INT stop gracefully.\n"
            "See pyserved(8) and pyserve.conf(5).\n",
            DEFAULT_CONFIG);
}

static int add_override(struct opts *o, const char *key, size_t keylen, const char *value)
{
    if (o->nov == MAX_OVERRIDES) {
        fprintf(stderr, "pyserved: too many command-line settings (at most %d)\n",
                MAX_OVERRIDES);
        return -1;
    }
    if ((keylen == 0 && key) || keylen >= sizeof(o->ov[0].key)) {
        fprintf(stderr, "pyserved: --set: \"%.*s\" is not a key\n", (int)keylen, key);
        return -1;
    }
    if (keylen)
        memcpy(o->ov[o->nov].key, key, keylen);
    o->ov[o->nov].key[keylen] = '\0';
    o->ov[o->nov].value = value;
    o->nov++;
    return 0;
}

/* EXIT_SUCCESS when what went to standard output got there, else a message
 * and EXIT_FAILURE (a full disk, a closed pipe or descriptor). */
static int stdout_written(const char *what)
{
    if (fflush(stdout) == 0 && !ferror(stdout))
        return EXIT_SUCCESS;
    fprintf(stderr, "pyserved: cannot write %s to standard output: %s\n", what, strerror(errno));
    return EXIT_FAILURE;
}

/* Returns 0 to go on, or an exit status (EXIT_SUCCESS for --help). */
static int parse_args(int argc, char **argv, struct opts *o, bool *done)
{
    enum { OPT_THREADS = 256 };
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'},
        {"listen", required_argument, NULL, 'l'},
        {"root", required_argument, NULL, 'r'},
        {"threads", required_argument, NULL, OPT_THREADS},
        {"set", required_argument, NULL, 'o'},
        {"check-config", no_argument, NULL, 't'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    int ch;

    o->config = DEFAULT_CONFIG;
    opterr = 0;
    while ((ch = getopt_long(argc, argv, ":c:l:r:o:thV", longopts, NULL)) != -1) {
        switch (ch) {
        case 'c':
            if (!*optarg) {
                fprintf(stderr, "pyserved: --config: empty file name\n");
                return EXIT_USAGE;
            }
            o->config = optarg;
            o->config_given = true;
            break;
        case 'l':
            if (add_override(o, "listen", 6, optarg) < 0)
                return EXIT_USAGE;
            break;
        case 'r':
            if (add_override(o, "root", 4, optarg) < 0)
                return EXIT_USAGE;
            break;
        case OPT_THREADS:
            if (add_override(o, "threads", 7, optarg) < 0)
                return EXIT_USAGE;
            break;
        case 'o':
            if (!strchr(optarg, '=')) {
                fprintf(stderr, "pyserved: --set %s: expected KEY=VALUE\n", optarg);
                return EXIT_USAGE;
            }
            if (add_override(o, NULL, 0, optarg) < 0) /* split as a config line is */
                return EXIT_USAGE;
            break;
        case 't':
            o->check_only = true;
            break;
        case 'h':
            usage(stdout);
            *done = true;
            return stdout_written("the help");
        case 'V':
            printf("pyserved %s\n", PACKAGE_VERSION);
            *done = true;
            return stdout_written("the version");
        case ':':
            fprintf(stderr, "pyserved: option %s needs an argument\n", argv[optind - 1]);
            return EXIT_USAGE;
        default:
            if (ps_longopt_given_value(longopts, optopt, argv[optind - 1])) /* --help=x */
                fprintf(stderr, "pyserved: option %.*s takes no value\n",
                        (int)strcspn(argv[optind - 1], "="), argv[optind - 1]);
            else if (optopt)
                fprintf(stderr, "pyserved: unknown option -%c\n", optopt);
            else
                fprintf(stderr, "pyserved: unknown option %s\n", argv[optind - 1]);
            fprintf(stderr, "Try 'pyserved --help'.\n");
            return EXIT_USAGE;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "pyserved: unexpected argument \"%s\"\nTry 'pyserved --help'.\n",
                argv[optind]);
        return EXIT_USAGE;
    }
    return 0;
}

/* Where the settings came from, for messages. */
static const char *config_source(const struct opts *o)
{
    static char both[4200];
    bool file = o->config_given || access(o->config, F_OK) == 0;
    if (!o->nov)
        return file ? o->config : "(built-in defaults)";
    if (!file)
        return "(built-in defaults and command line)";
    /* a check across keys may fail on a value from either */
    snprintf(both, sizeof(both), "%s and command line", o->config);
    return both;
}

static bool under(const char *path, const char *dir)
{
    size_t n = strlen(dir);
    return strncmp(path, dir, n) == 0 && (path[n] == '/' || path[n] == '\0');
}

/* A root that cannot be opened under systemd (INVOCATION_ID is set for
 * every unit it runs) may be one that pyserve.service's sandbox hides. */
static const char *sandbox_hint(const char *root, int e)
{
    if (!getenv("INVOCATION_ID"))
        return "";
    /* ProtectHome=yes makes those directories inaccessible (EACCES);
     * PrivateTmp= gives an empty /tmp (ENOENT). Other errors are others'. */
    if (e == EACCES && (under(root, "/home") || under(root, "/root") || under(root, "/run/user")))
        return " (under systemd, ProtectHome=yes hides /home, /root and /run/user: for a root "
               "there, see ProtectHome=tmpfs and BindReadOnlyPaths= in pyserved(8), SYSTEMD)";
    if (e == ENOENT && (under(root, "/tmp") || under(root, "/var/tmp")))
        return " (under systemd, PrivateTmp=yes gives the service a /tmp and /var/tmp of its "
               "own: see pyserved(8), SYSTEMD)";
    return "";
}

/* Build a complete snapshot: the file (like NULL) or the text like was
 * parsed from (to reopen the root: edits nobody signalled yet neither stop
 * it nor go live), then the command line, then checks, then the root
 * directory opened. On failure returns NULL, *status says which exit
 * status fits and err says why. */
static struct conf *build_conf(const struct opts *o, const struct conf *like, int *status,
                               char *err, size_t errsz)
{
    char sub[CONF_ERR_SIZE];
    struct conf *c = malloc(sizeof(*c));
    if (!c) {
        snprintf(err, errsz, "out of memory");
        *status = EXIT_FAILURE;
        return NULL;
    }
    conf_init(c);
    static uint64_t generation;
    c->generation = ++generation;
    *status = EXIT_CONFIG;

    int r = 0;
    if (like && like->source) {
        c->source = malloc(like->source_len + 1);
        if (!c->source) {
            snprintf(err, errsz, "out of memory");
            goto fail;
        }
        memcpy(c->source, like->source, like->source_len + 1);
        c->source_len = like->source_len;
    } else if (!like) {
        r = conf_read_file(o->config, &c->source, &c->source_len, err, errsz);
        if (r == -ENOENT && !o->config_given)
            r = 0; /* no file at the default place: built-in defaults */
    }
    if (r == 0 && c->source)
        r = conf_parse(c, c->source, c->source_len, o->config, err, errsz);
    if (r < 0)
        goto fail;
    bool listen_cleared = false;
    for (unsigned i = 0; i < o->nov; i++) {
        char *key = (char *)o->ov[i].key, *value = (char *)o->ov[i].value;
        char line[CONF_LINE_MAX + 1], joined[CONF_LINE_MAX + 2];
        if (!key[0]) {
            r = -EINVAL;
            if (strlen(value) >= sizeof(line))
                snprintf(sub, sizeof(sub), "--set: longer than %d bytes", CONF_LINE_MAX);
            else
                r = conf_split_setting(strcpy(line, value), &key, &value, joined,
                                       sizeof(joined), sub, sizeof(sub));
        }
        if (key[0] && strcmp(key, "listen") == 0 && !listen_cleared) {
            conf_clear_listen(c);
            listen_cleared = true;
        }
        if (key[0])
            r = conf_set(c, key, value, sub, sizeof(sub));
        if (r < 0) {
            snprintf(err, errsz, "command line: %s", sub);
            *status = EXIT_USAGE;
            goto fail;
        }
    }
    r = conf_validate(c, sub, sizeof(sub));
    if (r < 0) {
        snprintf(err, errsz, "%s: %s", config_source(o), sub);
        goto fail;
    }
    c->root_fd = open(c->root, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (c->root_fd < 0) {
        int e = errno;
        snprintf(err, errsz, "root: %s: %s%s", c->root, strerror(e), sandbox_hint(c->root, e));
        goto fail;
    }
    static bool probed;
    if (!probed) {
        probed = true;
        const char *no2 = getenv("PYSERVED_TEST_NO_OPENAT2");
        if (no2 && strcmp(no2, "1") == 0) {
            beneath_force_walk(true); /* the test suite's way to cover the walk */
            log_msg(LOG_NOTICE, "PYSERVED_TEST_NO_OPENAT2=1: resolving paths beneath the root "
                                "component by component");
        } else if (!beneath_init(c->root_fd))
            log_msg(LOG_NOTICE, "openat2(2) is not available (old kernel, or a seccomp filter "
                                "such as systemd's RestrictSUIDSGID=); resolving paths beneath "
                                "the root component by component");
    }
    int fd = beneath_open(c->root_fd, "", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errsz, "root: %s: %s", c->root, strerror(-fd));
        goto fail;
    }
    close(fd);
    return c;
fail:
    conf_clear(c);
    free(c);
    return NULL;
}

static unsigned thread_count(const struct conf *c)
{
    if (c->threads > 0)
        return (unsigned)c->threads;
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (unsigned)n : 1;
}

static void raise_fd_limit(const struct conf *c)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
        return;
    if (rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    /* Each connection holds a socket (and a file while sending). */
    if (rl.rlim_cur != RLIM_INFINITY && c->max_connections + 64 > rl.rlim_cur)
        log_msg(LOG_WARNING,
                "max_connections = %llu is above what the file descriptor limit (%llu) allows; "
                "connections over it are shed",
                (unsigned long long)c->max_connections, (unsigned long long)rl.rlim_cur);
}

static bool same_listen(const struct conf *a, const struct conf *b)
{
    if (a->nlisten != b->nlisten)
        return false;
    for (unsigned i = 0; i < a->nlisten; i++)
        if (strcmp(a->listen[i], b->listen[i]) != 0)
            return false;
    return true;
}

static bool same_name(const char *a, const char *b)
{
    return a == b || (a && b && strcmp(a, b) == 0);
}

/* Keys a running process cannot change, compared with what it started with
 * (boot): each reload says which of them the file now sets otherwise. */
static void restart_notices(const struct conf *c, const struct conf *boot)
{
    if (!same_listen(c, boot) || c->defer_accept_ms != boot->defer_accept_ms)
        log_msg(LOG_NOTICE, "listen, defer_accept: changes take effect after a restart");
    if (thread_count(c) != thread_count(boot))
        log_msg(LOG_NOTICE, "threads: changes take effect after a restart");
    if (c->io_uring != boot->io_uring)
        log_msg(LOG_NOTICE, "io_uring: changes take effect after a restart");
    if (!same_name(c->user, boot->user) || !same_name(c->group, boot->group))
        log_msg(LOG_NOTICE, "user, group: changes take effect after a restart");
    if (c->mime_cache_entries != boot->mime_cache_entries)
        log_msg(LOG_NOTICE, "mime_cache_entries: changes take effect after a restart");
}

/* A copy of the keys restart_notices compares, as the process started with
 * them: not a reference to that configuration, whose root descriptor would
 * keep the first root (and its file system) busy for good. NULL on ENOMEM
 * (no notices then). */
static struct conf *restart_snapshot(const struct conf *c)
{
    struct conf *s = malloc(sizeof(*s));
    if (!s)
        return NULL;
    conf_init(s);
    bool ok = true;
    for (unsigned i = 0; i < c->nlisten; i++)
        ok &= (s->listen[s->nlisten++] = strdup(c->listen[i])) != NULL;
    s->defer_accept_ms = c->defer_accept_ms;
    s->threads = c->threads;
    s->io_uring = c->io_uring;
    s->mime_cache_entries = c->mime_cache_entries;
    if (c->user)
        ok &= (s->user = strdup(c->user)) != NULL;
    if (c->group)
        ok &= (s->group = strdup(c->group)) != NULL;
    if (!ok) {
        conf_unref(s);
        return NULL;
    }
    return s;
}

static void go_live(struct server *srv, struct conf **cur, struct conf *c)
{
    if (worker_pool_set_conf(srv, c, 2000) < 0)
        log_msg(LOG_WARNING, "a worker did not take the new configuration within 2 s; "
                             "it will when it gets to it");
    conf_unref(*cur);
    *cur = c;
}

/* Returns whether a new configuration went live. */
static bool reload(const struct opts *o, struct server *srv, struct conf **cur,
                   const struct conf *boot)
{
    char err[CONF_ERR_SIZE + 64];
    int status;

    notify_reloading();
    struct conf *c = build_conf(o, NULL, &status, err, sizeof(err));
    if (!c) {
        log_msg(LOG_ERR, "reload failed, the running configuration stays: %s", err);
    } else {
        if (boot)
            restart_notices(c, boot);
        go_live(srv, cur, c);
        log_msg(LOG_INFO, "configuration reloaded from %s", config_source(o));
    }
    notify_ready();
    return c != NULL;
}

/* The document root replaced (mv new www), removed and created again, or
 * moved away: root_fd still names the old directory, so requests would see
 * the old tree. Once a second the path is compared with the open fd. When it
 * names another directory, the root is reopened with the running
 * configuration's text. While it names nothing (or the replacement cannot be
 * opened), requests get 404 (conf.root_gone), and this says so once. A path
 * this process may not look up (a parent the user of a privilege drop
 * cannot search) is no sign of either: requests are still served through
 * root_fd, and only a replacement goes unnoticed, which is said once. */
enum root_state { ROOT_OK, ROOT_GONE, ROOT_UNCHECKED };

struct root_check {
    enum root_state state;
    dev_t failed_dev; /* the last replacement that could not be opened */
    ino_t failed_ino;
};

static void root_gone(struct conf *c, bool gone)
{
    atomic_store_explicit(&c->root_gone, gone, memory_order_relaxed);
}

static void check_root(const struct opts *o, struct server *srv, struct conf **cur,
                       struct root_check *rc)
{
    struct conf *c = *cur;
    struct stat open_st, path_st;
    if (fstat(c->root_fd, &open_st) < 0)
        return;
    int e = stat(c->root, &path_st) < 0 ? errno : S_ISDIR(path_st.st_mode) ? 0 : ENOTDIR;
    if (e && e != ENOENT && e != ENOTDIR && e != ELOOP) {
        /* no sign that the root went (EACCES, or EIO, ENOMEM, ESTALE...):
         * what is open goes on being served */
        bool perm = e == EACCES || e == EPERM;
        if (rc->state != ROOT_UNCHECKED)
            log_msg(LOG_WARNING, "document root %s: %s; %s", c->root, strerror(e),
                    perm ? "a replacement of it is not noticed (its path must be searchable "
                           "by the user pyserved runs as)"
                         : "not checked this time");
        rc->state = ROOT_UNCHECKED;
        root_gone(c, false);
        return;
    }
    if (e) {
        if (rc->state != ROOT_GONE)
            log_msg(LOG_ERR, "document root %s: %s; requests get 404 until it is back", c->root,
                    strerror(e));
        rc->state = ROOT_GONE;
        root_gone(c, true);
        return;
    }
    if (open_st.st_dev == path_st.st_dev && open_st.st_ino == path_st.st_ino) {
        if (rc->state == ROOT_GONE)
            log_msg(LOG_NOTICE, "document root %s is back", c->root);
        rc->state = ROOT_OK;
        rc->failed_dev = 0;
        rc->failed_ino = 0;
        root_gone(c, false);
        return;
    }
    char err[CONF_ERR_SIZE + 64];
    int status;
    struct conf *n = build_conf(o, c, &status, err, sizeof(err));
    if (!n) {
        if (rc->failed_dev != path_st.st_dev || rc->failed_ino != path_st.st_ino)
            log_msg(LOG_ERR, "document root %s was replaced, and the new one cannot be opened "
                             "(%s); requests get 404 until it can",
                    c->root, err);
        rc->failed_dev = path_st.st_dev;
        rc->failed_ino = path_st.st_ino;
        rc->state = ROOT_GONE;
        root_gone(c, true);
        return;
    }
    log_msg(LOG_NOTICE, "document root %s was replaced; serving the new one", c->root);
    rc->state = ROOT_OK;
    rc->failed_dev = 0;
    rc->failed_ino = 0;
    go_live(srv, cur, n);
}

/* Started as root: become the configured user now that the sockets are
 * bound, before any thread starts (-t looks the names up only). Not root:
 * there is nothing to give up, and a configured user cannot be taken on. */
static int drop_privileges(const struct conf *c, bool check_only, char *err, size_t errsz)
{
    struct privs p;
    if (c->user && privs_lookup(c->user, c->group, &p, err, errsz) < 0)
        return -1;
    if (check_only)
        return 0;
    if (geteuid() != 0) {
        if (c->user)
            log_msg(LOG_WARNING, "user = %s: ignored, pyserved was not started as root",
                    c->user);
        return 0;
    }
    if (!c->user) {
        log_msg(LOG_WARNING, "running as root: set user = (and group =) in the configuration so "
                             "that pyserved gives up root after binding its sockets");
        return 0;
    }
    if (privs_drop(c->user, &p, err, errsz) < 0)
        return -1;
    log_msg(LOG_INFO, "running as user %s (uid %lu, gid %lu)", c->user, (unsigned long)p.uid,
            (unsigned long)p.gid);
    return 0;
}

static void report_status(struct server *srv)
{
    unsigned long reqs = 0;
    for (unsigned i = 0; i < srv->nworkers; i++)
        reqs += atomic_load_explicit(&srv->workers[i].requests, memory_order_relaxed);
    unsigned conns = atomic_load(&srv->nconns);
    notify_status("%u connection%s, %lu request%s served", conns, conns == 1 ? "" : "s", reqs,
                  reqs == 1 ? "" : "s");
}

int main(int argc, char **argv)
{
    struct opts o = {0};
    bool done = false;
    char err[CONF_ERR_SIZE + 64];
    int status;

    /* a listener or a client's connection must not take the number of a
     * closed stderr, where messages go before the journal is reached */
    if (ps_guard_std_fds("pyserved") < 0)
        return EXIT_FAILURE;
    signal(SIGPIPE, SIG_IGN); /* a closed pipe is a write error */
    int r = parse_args(argc, argv, &o, &done);
    if (done || r != 0)
        return r;
    /* --check-config (ExecReload=) exits at once: its error must reach
     * journalctl -u all the same (log_init) */
    log_init(!o.check_only);

    struct conf *cur = build_conf(&o, NULL, &status, err, sizeof(err));
    if (!cur) {
        log_msg(LOG_ERR, "%s", err);
        return status;
    }
    if (o.check_only) {
        if (drop_privileges(cur, true, err, sizeof(err)) < 0) {
            log_msg(LOG_ERR, "%s: %s", config_source(&o), err);
            conf_unref(cur);
            return EXIT_CONFIG;
        }
        fprintf(stderr, "pyserved: configuration %s is valid\n", config_source(&o));
        conf_unref(cur);
        return EXIT_SUCCESS;
    }

    /* Signals go to signalfd; the workers block them all. */
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGHUP);
    sigprocmask(SIG_BLOCK, &mask, NULL);
    int sfd = signalfd(-1, &mask, SFD_CLOEXEC);
    if (sfd < 0) {
        log_msg(LOG_ERR, "signalfd: %s", strerror(errno));
        conf_unref(cur);
        return EXIT_FAILURE;
    }

    raise_fd_limit(cur);
    struct server srv = {0};
    const char *faults = getenv("PYSERVED_TEST_FAULTS");
    srv.test_faults = faults && strcmp(faults, "1") == 0;
    if (srv.test_faults)
        log_msg(LOG_WARNING, "PYSERVED_TEST_FAULTS=1: test fault paths are enabled");
    srv.ack_fd = eventfd(0, EFD_SEMAPHORE | EFD_NONBLOCK | EFD_CLOEXEC);
    if (srv.ack_fd < 0) {
        log_msg(LOG_ERR, "eventfd: %s", strerror(errno));
        conf_unref(cur);
        close(sfd);
        return EXIT_FAILURE;
    }
    r = listen_open_all(cur, &srv.ls, err, sizeof(err));
    if (r < 0) {
        log_msg(LOG_ERR, "%s", err);
        conf_unref(cur);
        close(srv.ack_fd);
        close(sfd);
        return EXIT_FAILURE;
    }
    srv.nls = (unsigned)r;
    if (drop_privileges(cur, false, err, sizeof(err)) < 0) {
        log_msg(LOG_ERR, "%s", err);
        status = EXIT_FAILURE;
        goto out;
    }

    unsigned nthreads = thread_count(cur);
    srv.mime_cache = mime_cache_new((unsigned)cur->mime_cache_entries);
    if (!srv.mime_cache) {
        log_msg(LOG_ERR, "content-type cache: out of memory");
        status = EXIT_FAILURE;
        goto out;
    }
    r = worker_pool_init(&srv, nthreads, cur, err, sizeof(err));
    if (r < 0) {
        log_msg(LOG_ERR, "%s", err);
    } else {
        r = worker_pool_start(&srv);
        if (r < 0)
            log_msg(LOG_ERR, "starting %u worker threads: %s", nthreads, strerror(-r));
    }
    if (r < 0) {
        worker_pool_stop(&srv);
        worker_pool_join(&srv);
        status = EXIT_FAILURE;
        goto out;
    }
    log_msg(LOG_INFO, "pyserved %s serving %s with %u thread%s (%s)", PACKAGE_VERSION, cur->root,
            nthreads, nthreads == 1 ? "" : "s", srv.io_uring ? "io_uring" : "epoll");
    for (unsigned i = 0; i < srv.nls; i++)
        log_msg(LOG_INFO, "listening on %s", srv.ls[i].name);
    notify_ready();
    report_status(&srv);

    struct watchdog wd;
    watchdog_init(&wd, &srv);
    uint64_t next_status = ps_mono_ms() + 5000, next_root = ps_mono_ms() + 1000;
    struct root_check root_check = {ROOT_OK, 0, 0};
    struct conf *boot = restart_snapshot(cur); /* what a restart would change */
    for (;;) {
        struct pollfd p = {.fd = sfd, .events = POLLIN};
        int timeout = watchdog_timeout(&wd);
        int n = poll(&p, 1, timeout > 1000 ? 1000 : timeout);
        watchdog_check(&wd, &srv);
        uint64_t now = ps_mono_ms();
        if (now >= next_status) {
            report_status(&srv);
            next_status = now + 5000;
        }
        if (now >= next_root) {
            next_root = now + 1000;
            check_root(&o, &srv, &cur, &root_check);
        }
        if (n == 0)
            continue;
        if (n < 0) {
            if (errno == EINTR)
                continue;
            log_msg(LOG_ERR, "poll: %s", strerror(errno));
            break;
        }
        struct signalfd_siginfo si;
        if (read(sfd, &si, sizeof(si)) != sizeof(si))
            continue;
        if (si.ssi_signo == SIGHUP) {
            if (reload(&o, &srv, &cur, boot))
                root_check = (struct root_check){ROOT_OK, 0, 0}; /* a new root_fd */
            continue;
        }
        log_msg(LOG_INFO, "%s: stopping (in-flight responses get up to %llu ms)",
                strsignal((int)si.ssi_signo), (unsigned long long)cur->shutdown_timeout_ms);
        break;
    }
    notify_stopping(cur->shutdown_timeout_ms);
    conf_unref(boot);
    watchdog_free(&wd);
    worker_pool_stop(&srv);
    worker_pool_join(&srv);
    log_msg(LOG_INFO, "stopped");
    status = EXIT_SUCCESS;
out:
    for (unsigned i = 0; i < srv.nls; i++)
        close(srv.ls[i].fd);
    free(srv.ls);
    mime_cache_free(srv.mime_cache);
    conf_unref(cur);
    close(srv.ack_fd);
    close(sfd);
    return status;
}
