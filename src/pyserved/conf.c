/* Configuration table and parser. One row per key: name, type, where it
 * lives in struct conf, bounds. Generic setters do the parsing, so a new key
 * is one line here plus its documentation. */
#include "conf.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "listen.h"
#include "monoclock.h"
#include "num.h"

enum conf_type {
    CONF_T_PATH,     /* a non-empty string (a path, a name), replaced */
    CONF_T_LISTEN,   /* a string, appended to a list */
    CONF_T_NAMES,    /* space-separated names, replaces the list */
    CONF_T_UINT,     /* integer in [min, max] */
    CONF_T_SIZE,     /* bytes with k/m/g suffix, in [min, max] */
    CONF_T_DURATION, /* milliseconds from ms/s/m/h, in [min, max] */
    CONF_T_BOOL,     /* yes/no, true/false, on/off, 1/0 */
    CONF_T_ENUM,     /* one of the key's words, stored as its value */
    CONF_T_TYPE,     /* "EXT TYPE", appended */
    CONF_T_CHARSET,  /* a WHATWG encoding label or "none" */
    CONF_T_CACHECTL, /* "MATCH VALUE", appended */
};

/* A CONF_T_ENUM key's words and the values they stand for. */
struct conf_word {
    const char *name;
    uint64_t value;
};

struct conf_key {
    const char *name;
    enum conf_type type;
    size_t off;
    uint64_t min, max;
    const struct conf_word *words; /* CONF_T_ENUM: ended by a NULL name */
};

/* Keys that take an argument before '=': "type .log = text/plain" is
 * "type = .log text/plain". */
static bool takes_argument(enum conf_type t)
{
    return t == CONF_T_TYPE || t == CONF_T_CACHECTL;
}

#define F(field) offsetof(struct conf, field)
#define KIB 1024ull
#define HOUR_MS 3600000ull

static const struct conf_word dotfiles_words[] = {
    {"deny", CONF_DOTFILES_DENY}, {"allow", CONF_DOTFILES_ALLOW}, {NULL, 0}};
static const struct conf_word log_level_words[] = {
    {"info", LOG_INFO}, {"debug", LOG_DEBUG}, {NULL, 0}};
static const struct conf_word multiple_ranges_words[] = {{"multipart", CONF_MULTI_MULTIPART},
                                                         {"first", CONF_MULTI_FIRST},
                                                         {"whole", CONF_MULTI_WHOLE},
                                                         {NULL, 0}};

static const struct conf_key keys[] = {
    {"root", CONF_T_PATH, F(root), 0, 0, NULL},
    {"listen", CONF_T_LISTEN, F(listen), 0, 0, NULL},
    {"threads", CONF_T_UINT, F(threads), 0, 1024, NULL},
    {"index", CONF_T_NAMES, F(index), 0, 0, NULL},
    {"access_log", CONF_T_BOOL, F(access_log), 0, 0, NULL},
    {"dotfiles", CONF_T_ENUM, F(dotfiles), 0, 0, dotfiles_words},
    {"max_head_size", CONF_T_SIZE, F(max_head_size), 1 * KIB, 1024 * KIB, NULL},
    {"max_uri_length", CONF_T_SIZE, F(max_uri_length), 256, 64 * KIB, NULL},
    {"max_headers", CONF_T_UINT, F(max_headers), 1, 10000, NULL},
    {"max_connections", CONF_T_UINT, F(max_connections), 1, 1000000, NULL},
    {"header_timeout", CONF_T_DURATION, F(header_timeout_ms), 100, HOUR_MS, NULL},
    {"keepalive_timeout", CONF_T_DURATION, F(keepalive_timeout_ms), 0, HOUR_MS, NULL},
    {"send_timeout", CONF_T_DURATION, F(send_timeout_ms), 100, HOUR_MS, NULL},
    {"shutdown_timeout", CONF_T_DURATION, F(shutdown_timeout_ms), 0, HOUR_MS, NULL},
    {"type", CONF_T_TYPE, F(types), 0, 0, NULL},
    {"default_charset", CONF_T_CHARSET, F(default_charset), 0, 0, NULL},
    {"sniff_extensionless", CONF_T_BOOL, F(sniff_extensionless), 0, 0, NULL},
    {"nosniff", CONF_T_BOOL, F(nosniff), 0, 0, NULL},
    {"mime_cache_entries", CONF_T_UINT, F(mime_cache_entries), 16, 1u << 24, NULL},
    {"log_level", CONF_T_ENUM, F(log_level), 0, 0, log_level_words},
    {"autoindex", CONF_T_BOOL, F(autoindex), 0, 0, NULL},
    {"precompressed", CONF_T_BOOL, F(precompressed), 0, 0, NULL},
    {"max_ranges", CONF_T_UINT, F(max_ranges), 1, 64, NULL},
    {"multiple_ranges", CONF_T_ENUM, F(multiple_ranges), 0, 0, multiple_ranges_words},
    {"cache_control", CONF_T_CACHECTL, F(cache_control), 0, 0, NULL},
    {"file_cache_entries", CONF_T_UINT, F(file_cache_entries), 0, 1u << 20, NULL},
    {"file_cache_max_file", CONF_T_SIZE, F(file_cache_max_file), 0, 16 * KIB * KIB, NULL},
    {"user", CONF_T_PATH, F(user), 0, 0, NULL},
    {"group", CONF_T_PATH, F(group), 0, 0, NULL},
    {"server_tokens", CONF_T_BOOL, F(server_tokens), 0, 0, NULL},
    {"defer_accept", CONF_T_DURATION, F(defer_accept_ms), 0, 600000, NULL},
    {"io_uring", CONF_T_BOOL, F(io_uring), 0, 0, NULL},
};

#define NKEYS (sizeof(keys) / sizeof(keys[0]))

static void free_list(char **list, unsigned *n)
{
    for (unsigned i = 0; i < *n; i++) {
        free(list[i]);
        list[i] = NULL;
    }
    *n = 0;
}

static void clear_types(struct conf *c)
{
    for (unsigned i = 0; i < c->ntypes; i++) {
        free((char *)c->types[i].ext);
        free((char *)c->types[i].type);
    }
    c->ntypes = 0;
}

void conf_clear_listen(struct conf *c)
{
    free_list(c->listen, &c->nlisten);
}

const char *conf_key_name(unsigned i)
{
    return i < NKEYS ? keys[i].name : NULL;
}

void conf_init(struct conf *c)
{
    memset(c, 0, sizeof(*c));
    c->threads = 0;
    c->access_log = false;
    c->dotfiles = CONF_DOTFILES_DENY;
    c->max_head_size = 16 * KIB;
    c->max_uri_length = 8 * KIB;
    c->max_headers = 100;
    c->max_connections = 16384;
    c->header_timeout_ms = 10000;
    c->keepalive_timeout_ms = 60000;
    c->send_timeout_ms = 30000;
    c->shutdown_timeout_ms = 10000;
    c->defer_accept_ms = 1000;
    c->io_uring = true;
    c->index[0] = strdup("index.html");
    c->nindex = c->index[0] ? 1 : 0;
    c->default_charset = strdup("utf-8");
    c->sniff_extensionless = true;
    c->nosniff = true;
    c->mime_cache_entries = 4096;
    c->log_level = LOG_INFO;
    c->max_ranges = 16;
    c->file_cache_entries = 1024;
    c->file_cache_max_file = 16 * KIB;
    c->multiple_ranges = CONF_MULTI_MULTIPART;
    c->root_fd = -1;
    atomic_init(&c->refs, 1);
}

void conf_clear(struct conf *c)
{
    free(c->root);
    c->root = NULL;
    free(c->user);
    c->user = NULL;
    free(c->group);
    c->group = NULL;
    free_list(c->listen, &c->nlisten);
    free_list(c->index, &c->nindex);
    clear_types(c);
    for (unsigned i = 0; i < c->ncache_control; i++) {
        free(c->cache_control[i].match);
        free(c->cache_control[i].value);
    }
    c->ncache_control = 0;
    free(c->default_charset);
    c->default_charset = NULL;
    if (c->root_fd >= 0)
        close(c->root_fd);
    c->root_fd = -1;
    free(c->source);
    c->source = NULL;
    c->source_len = 0;
}

static int fail(char *err, size_t errsz, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int fail(char *err, size_t errsz, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (err && errsz)
        vsnprintf(err, errsz, fmt, ap);
    va_end(ap);
    return code;
}

static int parse_bool(const char *v, bool *out)
{
    static const char *const yes[] = {"yes", "true", "on", "1"};
    static const char *const no[] = {"no", "false", "off", "0"};
    for (size_t i = 0; i < 4; i++) {
        if (strcmp(v, yes[i]) == 0) {
            *out = true;
            return 0;
        }
        if (strcmp(v, no[i]) == 0) {
            *out = false;
            return 0;
        }
    }
    return -EINVAL;
}

/* A CONF_T_ENUM key: the value of the word v into field; any other word is
 * refused with the list of those the key takes ("a, b or c"). */
static int set_word(const struct conf_key *k, void *field, const char *v, char *err,
                    size_t errsz)
{
    const struct conf_word *w;
    for (w = k->words; w->name; w++) {
        if (strcmp(v, w->name) == 0) {
            *(uint64_t *)field = w->value;
            return 0;
        }
    }
    char list[128];
    size_t n = 0;
    list[0] = '\0';
    for (w = k->words; w->name && n < sizeof(list); w++) {
        const char *sep = w == k->words ? "" : w[1].name ? ", " : " or ";
        int l = snprintf(list + n, sizeof(list) - n, "%s%s", sep, w->name);
        n += l > 0 ? (size_t)l : 0;
    }
    return fail(err, errsz, -EINVAL, "%s: \"%s\" is not %s", k->name, v, list);
}

static int set_names(struct conf *c, const struct conf_key *k, const char *v, char *err,
                     size_t errsz)
{
    char *list[CONF_MAX_INDEX];
    unsigned n = 0;
    const char *p = v;

    while (*p) {
        while (*p == ' ' || *p == '\t')
            p++;
        if (!*p)
            break;
        const char *s = p;
        while (*p && *p != ' ' && *p != '\t')
            p++;
        size_t len = (size_t)(p - s);
        if (memchr(s, '/', len) || (len == 1 && s[0] == '.') ||
            (len == 2 && s[0] == '.' && s[1] == '.')) {
            free_list(list, &n);
            return fail(err, errsz, -EINVAL, "%s: \"%.*s\" is not a plain file name", k->name,
                        (int)len, s);
        }
        if (n == CONF_MAX_INDEX) {
            free_list(list, &n);
            return fail(err, errsz, -EINVAL, "%s: more than %d names", k->name, CONF_MAX_INDEX);
        }
        list[n] = strndup(s, len);
        if (!list[n])
            return free_list(list, &n), fail(err, errsz, -ENOMEM, "%s: out of memory", k->name);
        n++;
    }
    if (n == 0)
        return fail(err, errsz, -EINVAL, "%s: needs at least one file name", k->name);
    free_list(c->index, &c->nindex);
    memcpy(c->index, list, n * sizeof(list[0]));
    c->nindex = n;
    return 0;
}

/* "EXT TYPE": EXT without or with a leading dot, TYPE a type/subtype with
 * optional parameters; no control characters (it goes into a header). */
static int set_type(struct conf *c, const struct conf_key *k, const char *v, char *err,
                    size_t errsz)
{
    const char *e = v;
    if (*e == '.')
        e++;
    size_t elen = strcspn(e, " \t");
    const char *t = e + elen;
    while (*t == ' ' || *t == '\t')
        t++;
    if (elen == 0 || elen >= 16 || memchr(e, '.', elen) || memchr(e, '/', elen) || !*t)
        return fail(err, errsz, -EINVAL, "%s: \"%s\" is not \"EXTENSION TYPE\"", k->name, v);
    const char *slash = strchr(t, '/');
    if (!slash || slash == t || !slash[1])
        return fail(err, errsz, -EINVAL, "%s: \"%s\" is not a media type (type/subtype)",
                    k->name, t);
    for (const char *q = t; *q; q++)
        if ((unsigned char)*q < 0x20 || *q == 0x7f)
            return fail(err, errsz, -EINVAL, "%s: control character in \"%s\"", k->name, t);
    if (c->ntypes == CONF_MAX_TYPES)
        return fail(err, errsz, -EINVAL, "%s: more than %d types", k->name, CONF_MAX_TYPES);
    char *ext = strndup(e, elen), *type = strdup(t);
    if (!ext || !type) {
        free(ext);
        free(type);
        return fail(err, errsz, -ENOMEM, "%s: out of memory", k->name);
    }
    for (char *q = ext; *q; q++)
        if (*q >= 'A' && *q <= 'Z')
            *q = (char)(*q | 0x20);
    /* a later line for the same extension wins */
    for (unsigned i = 0; i < c->ntypes; i++)
        if (strcmp(c->types[i].ext, ext) == 0) {
            free(ext);
            free((char *)c->types[i].type);
            c->types[i].type = type;
            return 0;
        }
    c->types[c->ntypes].ext = ext;
    c->types[c->ntypes].type = type;
    c->ntypes++;
    return 0;
}

/* "MATCH VALUE": MATCH a path prefix ("/assets/") or an extension
 * (".css"); VALUE the Cache-Control field value, no control characters. */
static int set_cache_control(struct conf *c, const struct conf_key *k, const char *v, char *err,
                             size_t errsz)
{
    size_t mlen = strcspn(v, " \t");
    const char *val = v + mlen;
    while (*val == ' ' || *val == '\t')
        val++;
    if (mlen == 0 || !*val || (v[0] != '/' && v[0] != '.') || (v[0] == '.' && mlen == 1))
        return fail(err, errsz, -EINVAL,
                    "%s: \"%s\" is not \"/PATH/PREFIX VALUE\" or \".EXT VALUE\"", k->name, v);
    for (const char *q = val; *q; q++)
        if ((unsigned char)*q < 0x20 || *q == 0x7f)
            return fail(err, errsz, -EINVAL, "%s: control character in \"%s\"", k->name, val);
    /* a later rule for the same match replaces the earlier one (the last
     * line counts, and the command line comes after the file) */
    unsigned i = 0;
    while (i < c->ncache_control &&
           !(strlen(c->cache_control[i].match) == mlen &&
             (v[0] == '.' ? strncasecmp(c->cache_control[i].match, v, mlen)
                          : strncmp(c->cache_control[i].match, v, mlen)) == 0))
        i++;
    if (i == CONF_MAX_CACHE_CONTROL)
        return fail(err, errsz, -EINVAL, "%s: more than %d rules", k->name,
                    CONF_MAX_CACHE_CONTROL);
    char *m = strndup(v, mlen), *value = strdup(val);
    if (!m || !value) {
        free(m);
        free(value);
        return fail(err, errsz, -ENOMEM, "%s: out of memory", k->name);
    }
    if (i < c->ncache_control) {
        free(c->cache_control[i].match);
        free(c->cache_control[i].value);
        c->cache_control[i].match = m;
        c->cache_control[i].value = value;
        return 0;
    }
    c->cache_control[c->ncache_control].match = m;
    c->cache_control[c->ncache_control].value = value;
    c->ncache_control++;
    return 0;
}

const char *conf_cache_control_for(const struct conf *c, const char *rel, size_t len)
{
    const char *best = NULL, *by_ext = NULL;
    size_t best_len = 0;
    const char *dot = NULL;
    for (size_t i = len; i > 0 && rel[i - 1] != '/'; i--)
        if (rel[i - 1] == '.') {
            dot = rel + i - 1;
            break;
        }
    for (unsigned i = 0; i < c->ncache_control; i++) {
        const char *m = c->cache_control[i].match;
        size_t ml = strlen(m);
        if (m[0] == '/') {
            /* rel has no leading '/': compare m + 1 */
            if (ml - 1 <= len && memcmp(rel, m + 1, ml - 1) == 0 && ml >= best_len) {
                best = c->cache_control[i].value;
                best_len = ml;
            }
        } else if (dot && (size_t)(rel + len - dot) == ml && strncasecmp(dot, m, ml) == 0) {
            by_ext = c->cache_control[i].value;
        }
    }
    return best ? best : by_ext;
}

static const char *range_unit(enum conf_type t)
{
    return t == CONF_T_DURATION ? "ms" : t == CONF_T_SIZE ? " bytes" : "";
}

static const struct conf_key *find_key(const char *key)
{
    for (size_t i = 0; i < NKEYS; i++)
        if (strcmp(keys[i].name, key) == 0)
            return &keys[i];
    return NULL;
}

int conf_set(struct conf *c, const char *key, const char *v, char *err, size_t errsz)
{
    const struct conf_key *k = find_key(key);
    int r;

    if (!k)
        return fail(err, errsz, -ENOENT, "%s: unknown key", key);
    if (v[0] == '\0')
        return fail(err, errsz, -EINVAL, "%s: empty value", key);

    void *field = (char *)c + k->off;
    uint64_t u;
    switch (k->type) {
    case CONF_T_PATH: {
        char *s = strdup(v);
        if (!s)
            return fail(err, errsz, -ENOMEM, "%s: out of memory", key);
        free(*(char **)field);
        *(char **)field = s;
        return 0;
    }
    case CONF_T_LISTEN: {
        struct sockaddr_storage ss;
        socklen_t sl;
        char why[160];
        if (listen_parse(v, &ss, &sl, why, sizeof(why)) < 0)
            return fail(err, errsz, -EINVAL, "%s: %s", key, why);
        if (c->nlisten == CONF_MAX_LISTEN)
            return fail(err, errsz, -EINVAL, "%s: more than %d addresses", key, CONF_MAX_LISTEN);
        char *s = strdup(v);
        if (!s)
            return fail(err, errsz, -ENOMEM, "%s: out of memory", key);
        c->listen[c->nlisten++] = s;
        return 0;
    }
    case CONF_T_NAMES:
        return set_names(c, k, v, err, errsz);
    case CONF_T_TYPE:
        return set_type(c, k, v, err, errsz);
    case CONF_T_CACHECTL:
        return set_cache_control(c, k, v, err, errsz);
    case CONF_T_CHARSET: {
        const char *label = strcmp(v, "none") == 0 ? NULL : mime_whatwg_label(v);
        if (strcmp(v, "none") != 0 && !label)
            return fail(err, errsz, -EINVAL,
                        "%s: \"%s\" is not an encoding browsers accept (e.g. utf-8, "
                        "windows-1252, none)",
                        key, v);
        char *s = label ? strdup(label) : NULL;
        if (label && !s)
            return fail(err, errsz, -ENOMEM, "%s: out of memory", key);
        free(c->default_charset);
        c->default_charset = s;
        return 0;
    }
    case CONF_T_BOOL:
        if (parse_bool(v, (bool *)field) < 0)
            return fail(err, errsz, -EINVAL, "%s: \"%s\" is not yes or no", key, v);
        return 0;
    case CONF_T_ENUM:
        return set_word(k, field, v, err, errsz);
    case CONF_T_UINT:
        r = ps_parse_u64(v, UINT64_MAX, &u);
        if (r == -EINVAL)
            return fail(err, errsz, r, "%s: \"%s\" is not a number", key, v);
        break;
    case CONF_T_SIZE:
        r = ps_parse_size(v, UINT64_MAX, &u);
        if (r == -EINVAL)
            return fail(err, errsz, r, "%s: \"%s\" is not a size (e.g. 8192, 8k, 1m)", key, v);
        break;
    case CONF_T_DURATION:
        r = ps_parse_duration_ms(v, UINT64_MAX, &u);
        if (r == -EINVAL)
            return fail(err, errsz, r, "%s: \"%s\" is not a duration (e.g. 10s, 500ms, 2m)", key,
                        v);
        break;
    default:
        return fail(err, errsz, -EINVAL, "%s: internal error", key);
    }
    if (r < 0 || u < k->min || u > k->max)
        return fail(err, errsz, -EINVAL, "%s: %s is out of range %llu..%llu%s", key, v,
                    (unsigned long long)k->min, (unsigned long long)k->max, range_unit(k->type));
    *(uint64_t *)field = u;
    return 0;
}

int conf_split_setting(char *s, char **key, char **value, char *joined, size_t joinedsz,
                       char *err, size_t errsz)
{
    while (*s == ' ' || *s == '\t')
        s++;
    char *e = s + strlen(s);
    while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
        e--;
    *e = '\0';
    char *eq = strchr(s, '=');
    if (!eq)
        return fail(err, errsz, -EINVAL, "syntax error: expected \"key = value\"");
    char *ke = eq;
    while (ke > s && (ke[-1] == ' ' || ke[-1] == '\t'))
        ke--;
    *ke = '\0';
    char *v = eq + 1;
    while (*v == ' ' || *v == '\t')
        v++;
    if (*s == '\0')
        return fail(err, errsz, -EINVAL, "syntax error: missing key before '='");
    /* "KEY ARG = VALUE" for the keys that take an argument */
    char *sp = s + strcspn(s, " \t");
    if (*sp) {
        *sp++ = '\0';
        while (*sp == ' ' || *sp == '\t')
            sp++;
        const struct conf_key *k = find_key(s);
        if (!k)
            return fail(err, errsz, -EINVAL, "%s: unknown key", s);
        if (!takes_argument(k->type))
            return fail(err, errsz, -EINVAL,
                        "%s: unexpected \"%s\" before '=' (this key takes no argument)", s, sp);
        if ((size_t)snprintf(joined, joinedsz, "%s %s", sp, v) >= joinedsz)
            return fail(err, errsz, -EINVAL, "%s: value too long", s);
        v = joined;
    }
    *key = s;
    *value = v;
    return 0;
}

int conf_parse(struct conf *c, const char *text, size_t len, const char *name, char *err,
               size_t errsz)
{
    const char *p = text, *end = text + len;
    unsigned lineno = 0;
    char line[CONF_LINE_MAX + 1], sub[CONF_ERR_SIZE];

    if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0)
        p += 3; /* a UTF-8 byte order mark, as some editors write */

    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        size_t n = (size_t)(le - p);
        lineno++;
        if (n > 0 && p[n - 1] == '\r')
            n--;
        if (n > CONF_LINE_MAX)
            return fail(err, errsz, -EINVAL, "%s:%u: line longer than %d bytes", name, lineno,
                        CONF_LINE_MAX);
        if (memchr(p, '\0', n))
            return fail(err, errsz, -EINVAL, "%s:%u: NUL byte in line", name, lineno);
        memcpy(line, p, n);
        line[n] = '\0';
        p = nl ? nl + 1 : end;

        /* Strip a comment: '#' at the start or after whitespace. */
        for (char *h = line; (h = strchr(h, '#')); h++)
            if (h == line || h[-1] == ' ' || h[-1] == '\t') {
                *h = '\0';
                break;
            }
        char *s = line + strspn(line, " \t");
        if (*s == '\0')
            continue;

        char joined[CONF_LINE_MAX + 2];
        char *k, *v;
        if (conf_split_setting(s, &k, &v, joined, sizeof(joined), sub, sizeof(sub)) < 0)
            return fail(err, errsz, -EINVAL, "%s:%u: %s", name, lineno, sub);
        int r = conf_set(c, k, v, sub, sizeof(sub));
        if (r < 0)
            return fail(err, errsz, r == -ENOENT ? -EINVAL : r, "%s:%u: %s", name, lineno, sub);
    }
    return 0;
}

/* How long a pipe or terminal given as the file may keep us waiting, in
 * all: the main thread, which reads it on a reload, has signals and the
 * watchdog to see to. */
#define CONF_PIPE_WAIT_MS 5000

/* Readable before the monotonic deadline (ms)? */
static bool readable_by(int fd, int64_t deadline)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    for (;;) {
        int64_t left = deadline - (int64_t)ps_mono_ms();
        if (left <= 0)
            return false;
        int r = poll(&p, 1, (int)left);
        if (r > 0)
            return true;
        if (r == 0 || errno != EINTR)
            return false;
    }
}

int conf_read_file(const char *path, char **text, size_t *text_len, char *err, size_t errsz)
{
    /* O_NONBLOCK: opening a FIFO would wait for a writer */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0)
        return fail(err, errsz, -errno, "%s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) < 0) {
        int e = errno;
        close(fd);
        return fail(err, errsz, -e, "%s: %s", path, strerror(e));
    }
    /* /dev/null is fine; so is a pipe (-c <(...), or /dev/stdin), read
     * while its writer keeps it coming */
    if (!S_ISREG(st.st_mode) && !S_ISCHR(st.st_mode) && !S_ISFIFO(st.st_mode)) {
        close(fd);
        return fail(err, errsz, -EINVAL, "%s: not a regular file (%s)", path,
                    S_ISDIR(st.st_mode) ? "a directory" : "a socket or block device");
    }
    /* before a writer comes, a read of a FIFO says end of file */
    int64_t deadline = (int64_t)ps_mono_ms() + CONF_PIPE_WAIT_MS;
    if (S_ISFIFO(st.st_mode) && !readable_by(fd, deadline)) {
        close(fd);
        return fail(err, errsz, -ETIMEDOUT, "%s: a FIFO with no writer for %d s", path,
                    CONF_PIPE_WAIT_MS / 1000);
    }

    char *buf = malloc(CONF_MAX_FILE_SIZE + 1);
    if (!buf) {
        close(fd);
        return fail(err, errsz, -ENOMEM, "%s: out of memory", path);
    }
    size_t len = 0;
    for (;;) {
        ssize_t n = read(fd, buf + len, CONF_MAX_FILE_SIZE + 1 - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN && readable_by(fd, deadline))
            continue;
        if (n < 0 && errno == EAGAIN) {
            free(buf);
            close(fd);
            return fail(err, errsz, -ETIMEDOUT, "%s: not read to its end within %d s", path,
                        CONF_PIPE_WAIT_MS / 1000);
        }
        if (n < 0) {
            int e = errno;
            free(buf);
            close(fd);
            return fail(err, errsz, -e, "%s: %s", path, strerror(e));
        }
        if (n == 0)
            break;
        len += (size_t)n;
        if (len > CONF_MAX_FILE_SIZE) {
            free(buf);
            close(fd);
            return fail(err, errsz, -EFBIG, "%s: larger than %d bytes", path,
                        CONF_MAX_FILE_SIZE);
        }
    }
    close(fd);
    if (len == 0 && S_ISFIFO(st.st_mode)) {
        /* a spent pipe (-c <(...) read again on a reload): not the empty
         * configuration of the built-in defaults */
        free(buf);
        return fail(err, errsz, -ENODATA, "%s: a pipe that gave nothing (a pipe is read once; "
                    "reloads need a file)", path);
    }
    char *fit = realloc(buf, len + 1); /* kept while the configuration runs */
    if (fit)
        buf = fit;
    buf[len] = '\0';
    *text = buf;
    *text_len = len;
    return 0;
}

int conf_load(struct conf *c, const char *path, char *err, size_t errsz)
{
    char *text;
    size_t len;
    int r = conf_read_file(path, &text, &len, err, errsz);
    if (r < 0)
        return r;
    r = conf_parse(c, text, len, path, err, errsz);
    free(text);
    return r;
}

int conf_validate(const struct conf *c, char *err, size_t errsz)
{
    if (c->nindex == 0)
        return fail(err, errsz, -ENOMEM, "index: out of memory");
    if (!c->root)
        return fail(err, errsz, -EINVAL, "root: not set (set root = DIR or use --root)");
    if (c->group && !c->user)
        return fail(err, errsz, -EINVAL, "group: needs user = as well");
    if (c->max_uri_length >= c->max_head_size)
        return fail(err, errsz, -EINVAL,
                    "max_uri_length: %llu must be smaller than max_head_size (%llu)",
                    (unsigned long long)c->max_uri_length, (unsigned long long)c->max_head_size);
    return 0;
}

struct conf *conf_ref(struct conf *c)
{
    atomic_fetch_add_explicit(&c->refs, 1, memory_order_relaxed);
    return c;
}

void conf_unref(struct conf *c)
{
    if (c && atomic_fetch_sub_explicit(&c->refs, 1, memory_order_acq_rel) == 1) {
        conf_clear(c);
        free(c);
    }
}
