/* Directory listings. Everything a file name contributes to the page goes
 * through html_escape (text) or path_pct_encode (links): a name such as
 * "<script>" or one with quotes or a newline stays inert. */
#include "autoindex.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "path.h"

#define PAGE_MAX (16u << 20) /* hard cap on a listing page */

struct sbuf {
    char *p;
    size_t n, cap;
    bool failed;
};

static void sb_put(struct sbuf *b, const char *s, size_t n)
{
    if (b->failed)
        return;
    if (n > b->cap - b->n) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap - b->n < n && cap < PAGE_MAX)
            cap *= 2;
        if (cap - b->n < n) {
            b->failed = true;
            return;
        }
        char *np = realloc(b->p, cap);
        if (!np) {
            b->failed = true;
            return;
        }
        b->p = np;
        b->cap = cap;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
}

static void sb_str(struct sbuf *b, const char *s)
{
    sb_put(b, s, strlen(s));
}

static void html_escape(struct sbuf *b, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        switch (s[i]) {
        case '&': sb_str(b, "&amp;"); break;
        case '<': sb_str(b, "&lt;"); break;
        case '>': sb_str(b, "&gt;"); break;
        case '"': sb_str(b, "&quot;"); break;
        case '\'': sb_str(b, "&#39;"); break;
        default: sb_put(b, s + i, 1); break;
        }
    }
}

/* Everything but RFC 3986 unreserved characters is %-encoded, so the link
 * is a relative path segment whatever the name holds (':' included, so a
 * name like "javascript:x" cannot become a scheme). */
static void link_encode(struct sbuf *b, const char *s, size_t n)
{
    char enc[3 * 256];
    for (size_t i = 0; i < n;) {
        size_t k = n - i < sizeof(enc) / 3 ? n - i : sizeof(enc) / 3;
        sb_put(b, enc, path_pct_encode(s + i, k, false, enc, sizeof(enc)));
        i += k;
    }
}

static int cmp_entry(const void *a, const void *b)
{
    const struct autoindex_entry *x = a, *y = b;
    if (x->is_dir != y->is_dir)
        return x->is_dir ? -1 : 1;
    return strcmp(x->name, y->name);
}

int autoindex_render(struct autoindex_entry *e, size_t n, const char *rel, size_t rel_len,
                     bool truncated, char **out, size_t *len)
{
    struct sbuf b = {0};
    char line[128];

    if (n > 1)
        qsort(e, n, sizeof(*e), cmp_entry);
    sb_str(&b, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Index of /");
    html_escape(&b, rel, rel_len);
    sb_str(&b, "</title></head>\n<body><h1>Index of /");
    html_escape(&b, rel, rel_len);
    sb_str(&b, "</h1>\n<table>\n<tr><th>Name</th><th>Last modified (UTC)</th><th>Size</th></tr>\n");
    if (rel_len > 0)
        sb_str(&b, "<tr><td><a href=\"../\">../</a></td><td></td><td>-</td></tr>\n");
    for (size_t i = 0; i < n; i++) {
        size_t nl = strlen(e[i].name);
        sb_str(&b, "<tr><td><a href=\"");
        link_encode(&b, e[i].name, nl);
        if (e[i].is_dir)
            sb_str(&b, "/");
        sb_str(&b, "\">");
        html_escape(&b, e[i].name, nl);
        if (e[i].is_dir)
            sb_str(&b, "/");
        struct tm tm;
        gmtime_r(&e[i].mtime, &tm);
        if (e[i].is_dir || e[i].is_link)
            snprintf(line, sizeof(line),
                     "</a></td><td>%04d-%02d-%02d %02d:%02d</td><td>-</td></tr>\n",
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min);
        else
            snprintf(line, sizeof(line),
                     "</a></td><td>%04d-%02d-%02d %02d:%02d</td><td>%llu</td></tr>\n",
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                     (unsigned long long)e[i].size);
        sb_str(&b, line);
    }
    sb_str(&b, "</table>\n");
    if (truncated)
        sb_str(&b, "<p>More entries than a listing shows; not all are listed.</p>\n");
    sb_str(&b, "</body></html>\n");
    if (b.failed) {
        free(b.p);
        return -ENOMEM;
    }
    *out = b.p;
    *len = b.n;
    return 0;
}

int autoindex_build(int dirfd, const char *rel, size_t rel_len, bool show_dotfiles, char **out,
                    size_t *len)
{
    int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    DIR *d = fdopendir(fd);
    if (!d) {
        int e = errno;
        close(fd);
        return -e;
    }
    struct autoindex_entry *ents = NULL;
    size_t n = 0, cap = 0;
    bool truncated = false;
    int r = 0;
    for (;;) {
        errno = 0; /* readdir's end and its error look alike but for errno */
        struct dirent *de = readdir(d);
        if (!de) {
            r = -errno; /* 0 at the end (and for a directory removed meanwhile) */
            break;
        }
        const char *nm = de->d_name;
        if (nm[0] == '.' && (nm[1] == '\0' || (nm[1] == '.' && nm[2] == '\0')))
            continue;
        if (nm[0] == '.' && !show_dotfiles)
            continue;
        if (n == AUTOINDEX_MAX_ENTRIES) {
            truncated = true;
            break;
        }
        struct stat st;
        if (fstatat(dirfd, nm, &st, AT_SYMLINK_NOFOLLOW) < 0)
            continue; /* vanished meanwhile */
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 64;
            struct autoindex_entry *ne = realloc(ents, ncap * sizeof(*ne));
            if (!ne) {
                r = -ENOMEM;
                break;
            }
            ents = ne;
            cap = ncap;
        }
        char *copy = strdup(nm);
        if (!copy) {
            r = -ENOMEM;
            break;
        }
        ents[n++] = (struct autoindex_entry){copy, S_ISDIR(st.st_mode), S_ISLNK(st.st_mode),
                                             (uint64_t)st.st_size, st.st_mtim.tv_sec};
    }
    closedir(d);
    if (r == 0)
        r = autoindex_render(ents, n, rel, rel_len, truncated, out, len);
    for (size_t i = 0; i < n; i++)
        free((char *)ents[i].name);
    free(ents);
    return r;
}
