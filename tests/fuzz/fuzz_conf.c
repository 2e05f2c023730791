/* libFuzzer target for the configuration parser: arbitrary text through
 * conf_parse and conf_validate; checks the error contract ("NAME:LINE: ..."
 * NUL-terminated within the buffer), that a parsed conf stays inside every
 * key's bounds, and that conf_clear releases everything (LeakSanitizer). */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NAME "fuzz.conf"

static void violation(const char *what, const char *text, size_t n, const char *err)
{
    fprintf(stderr, "fuzz_conf: invariant violated: %s\n  error: \"%.*s\"\n  input (%zu bytes): \"",
            what, CONF_ERR_SIZE, err ? err : "", n);
    for (size_t i = 0; i < n && i < 1024; i++) {
        unsigned char c = (unsigned char)text[i];
        if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\')
            fputc(c, stderr);
        else
            fprintf(stderr, "\\x%02x", c);
    }
    fputs("\"\n", stderr);
    abort();
}

static bool has_ctl(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return true;
    return false;
}

/* "NAME:LINE: " with 1 <= LINE <= lines of the text (+1 for a last line
 * without a newline), then a reason. */
static void check_parse_error(const char *err, size_t errsz, const char *text, size_t n)
{
    const char *nul = memchr(err, '\0', errsz);
    if (!nul)
        violation("error message not NUL-terminated within its buffer", text, n, NULL);
    size_t len = (size_t)(nul - err), pre = sizeof(NAME ":") - 1;
    if (errsz >= CONF_ERR_SIZE) {
        if (len < pre || memcmp(err, NAME ":", pre) != 0)
            violation("error message does not start with NAME:", text, n, err);
        unsigned long line = 0;
        size_t i = pre;
        while (i < len && err[i] >= '0' && err[i] <= '9' && line < 100000000ul)
            line = line * 10 + (unsigned long)(err[i++] - '0');
        if (i == pre || i + 2 > len || err[i] != ':' || err[i + 1] != ' ' || i + 2 == len)
            violation("error message is not NAME:LINE: reason", text, n, err);
        unsigned long lines = 1;
        for (size_t k = 0; k < n; k++)
            lines += text[k] == '\n';
        if (line < 1 || line > lines)
            violation("error names a line that is not in the text", text, n, err);
    } else if (len + 1 > errsz) {
        violation("error message longer than the buffer", text, n, err);
    }
}

/* conf_validate: "KEY: reason" with a key the table knows. */
static void check_validate_error(const char *err, const char *text, size_t n)
{
    if (!memchr(err, '\0', CONF_ERR_SIZE))
        violation("validate: message not NUL-terminated", text, n, NULL);
    for (unsigned i = 0; conf_key_name(i); i++) {
        size_t kl = strlen(conf_key_name(i));
        if (strncmp(err, conf_key_name(i), kl) == 0 && err[kl] == ':' && err[kl + 1] == ' ' &&
            err[kl + 2])
            return;
    }
    violation("validate: message is not \"KEY: reason\"", text, n, err);
}

#define KIB 1024ull

/* What the key table promises about a parsed configuration. */
static void check_conf(const struct conf *c, const char *text, size_t n)
{
    if (c->root && !c->root[0])
        violation("empty root accepted", text, n, NULL);
    if (c->nlisten > CONF_MAX_LISTEN || c->nindex > CONF_MAX_INDEX || c->nindex == 0 ||
        c->ntypes > CONF_MAX_TYPES || c->ncache_control > CONF_MAX_CACHE_CONTROL)
        violation("a list out of its bounds", text, n, NULL);
    for (unsigned i = 0; i < c->nlisten; i++)
        if (!c->listen[i] || !c->listen[i][0])
            violation("empty listen address", text, n, NULL);
    for (unsigned i = 0; i < c->nindex; i++) {
        const char *s = c->index[i];
        if (!s || !s[0] || strchr(s, '/') || strcmp(s, ".") == 0 || strcmp(s, "..") == 0 ||
            strchr(s, ' ') || strchr(s, '\t'))
            violation("index name is not a plain file name", text, n, s);
    }
    for (unsigned i = 0; i < c->ntypes; i++) {
        const char *e = c->types[i].ext, *t = c->types[i].type;
        if (!e || !e[0] || strchr(e, '.') || strchr(e, '/') || !t || !strchr(t, '/') || has_ctl(t))
            violation("type rule out of shape (it goes into a header)", text, n, t);
        for (const char *q = e; *q; q++)
            if (*q >= 'A' && *q <= 'Z')
                violation("type extension not lowercased", text, n, e);
        for (unsigned j = 0; j < i; j++)
            if (strcmp(c->types[j].ext, e) == 0)
                violation("type extension listed twice", text, n, e);
    }
    for (unsigned i = 0; i < c->ncache_control; i++) {
        const char *m = c->cache_control[i].match, *v = c->cache_control[i].value;
        if (!m || (m[0] != '/' && m[0] != '.') || !v || !v[0] || has_ctl(v))
            violation("cache_control rule out of shape (it goes into a header)", text, n, v);
    }
    if (c->default_charset && (!c->default_charset[0] || has_ctl(c->default_charset)))
        violation("default_charset out of shape", text, n, c->default_charset);
    if (c->threads > 1024 || c->dotfiles > CONF_DOTFILES_ALLOW || c->max_head_size < 1 * KIB ||
        c->max_head_size > 1024 * KIB || c->max_uri_length < 256 || c->max_uri_length > 64 * KIB ||
        c->max_headers < 1 || c->max_headers > 10000 || c->max_connections < 1 ||
        c->max_connections > 1000000 || c->header_timeout_ms < 100 || c->send_timeout_ms < 100 ||
        c->mime_cache_entries < 16 || c->mime_cache_entries > (1u << 24) || c->max_ranges < 1 ||
        c->max_ranges > 64 || c->multiple_ranges > CONF_MULTI_WHOLE)
        violation("a value outside its key's bounds", text, n, NULL);

    /* The Cache-Control lookup returns one of the rules' values or NULL. */
    static const char *const paths[] = {"", "index.html", "assets/app.css", "a/b/c.JS", ".hidden"};
    for (size_t k = 0; k < sizeof(paths) / sizeof(paths[0]); k++) {
        const char *v = conf_cache_control_for(c, paths[k], strlen(paths[k]));
        bool found = v == NULL;
        for (unsigned i = 0; i < c->ncache_control && !found; i++)
            found = v == c->cache_control[i].value;
        if (!found)
            violation("cache_control lookup returned a foreign pointer", text, n, NULL);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    struct conf c, c2;
    char *err = malloc(CONF_ERR_SIZE), *err2 = malloc(CONF_ERR_SIZE);
    if (!err || !err2)
        abort();

    memset(err, 0x55, CONF_ERR_SIZE);
    conf_init(&c);
    int r = conf_parse(&c, text, size, NAME, err, CONF_ERR_SIZE);
    if (r > 0 || (r < 0 && r != -EINVAL && r != -ENOMEM && r != -ERANGE))
        violation("result is not 0 or a negative errno", text, size, NULL);
    if (r < 0) {
        check_parse_error(err, CONF_ERR_SIZE, text, size);
    } else {
        check_conf(&c, text, size);
        memset(err, 0x55, CONF_ERR_SIZE);
        int v = conf_validate(&c, err, CONF_ERR_SIZE);
        if (v < 0)
            check_validate_error(err, text, size);
        else if (!c.root || c.max_uri_length >= c.max_head_size)
            violation("validate accepted a conf without root or with uri >= head", text, size,
                      NULL);
    }

    /* Deterministic: the same text gives the same answer. */
    memset(err2, 0x55, CONF_ERR_SIZE);
    conf_init(&c2);
    int r2 = conf_parse(&c2, text, size, NAME, err2, CONF_ERR_SIZE);
    if (r2 != r || (r < 0 && strcmp(err, err2) != 0))
        violation("a second parse differs", text, size, err2);
    conf_clear(&c2);

    /* A short error buffer is truncated, never overrun (ASan: exact size). */
    if (r < 0) {
        for (size_t sz = 1; sz <= 17; sz += 8) {
            char *small = malloc(sz);
            if (!small)
                abort();
            memset(small, 0x55, sz);
            conf_init(&c2);
            if (conf_parse(&c2, text, size, NAME, small, sz) != r)
                violation("the error buffer's size changed the result", text, size, NULL);
            check_parse_error(small, sz, text, size);
            if (strncmp(small, err, sz - 1) != 0)
                violation("a short error is not a prefix of the whole one", text, size, small);
            conf_clear(&c2);
            free(small);
        }
    }

    /* Parsing again on top (a reload over the same conf) must not leak. */
    conf_parse(&c, text, size, NAME, err, CONF_ERR_SIZE);
    conf_clear(&c);
    free(err);
    free(err2);
    return 0;
}
