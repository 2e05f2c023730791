/* Directory listings (autoindex = yes): an HTML page of a directory's
 * entries, names HTML-escaped and percent-encoded in links, sorted
 * (directories first, then by name), dotfiles hidden unless allowed. */
#ifndef PS_AUTOINDEX_H
#define PS_AUTOINDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define AUTOINDEX_MAX_ENTRIES 10000

struct autoindex_entry {
    const char *name;
    bool is_dir;
    bool is_link; /* size unknown: shown as "-" */
    uint64_t size;
    time_t mtime;
};

/* Render entries (sorted in place) for the directory at request path
 * "/" + rel (rel as from path_resolve, with its trailing slash or empty).
 * truncated adds a note that entries were left out. Returns 0 with a
 * malloc'd page in *out (length *len), or -ENOMEM. Pure but for malloc. */
int autoindex_render(struct autoindex_entry *e, size_t n, const char *rel, size_t rel_len,
                     bool truncated, char **out, size_t *len);

/* Read the directory open at dirfd (not consumed) and render it. Returns 0
 * or -errno, also the error of a readdir that failed (EIO), rather than a
 * listing cut short. */
int autoindex_build(int dirfd, const char *rel, size_t rel_len, bool show_dotfiles, char **out,
                    size_t *len);

#endif
