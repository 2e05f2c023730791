/* Static files: open a resolved relative path beneath the document root
 * with openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS), pick the index file
 * of a directory, and refuse what is not a regular file (or a directory)
 * without opening it for reading. */
#ifndef PS_STATIC_H
#define PS_STATIC_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>

struct static_file {
    int fd;          /* open for reading, O_CLOEXEC */
    struct stat st;
    const char *index; /* the index file name used, or NULL */
    struct stat dir_st; /* with an index: the directory's, taken before the
                           index was chosen (the file cache checks it) */
    int err;           /* after -500 or -503: the errno, for the log */
};

/* Returned for a directory without an index file when listings are on:
 * f->fd is then the directory, open for reading. */
#define STATIC_LISTING 1

/* Open rel (from path_resolve; "" is the root) beneath root_fd. Returns
 * 200 with *f filled in, 301 for a directory requested without a trailing
 * slash, STATIC_LISTING, or minus an HTTP status: -403 (not a regular file,
 * no index and no listing, permission, a symlink leaving the root), -404
 * (also for a name longer than the file system allows), -503 (out of file
 * descriptors or memory), -500. A directory that can be searched but not
 * read has its redirect and index file, and no listing (-403). */
int static_open(int root_fd, const char *rel, bool trailing_slash, char *const *index,
                unsigned nindex, bool listing, struct static_file *f);

#endif
