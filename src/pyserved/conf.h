/* Configuration: /etc/pyserve.conf ("key = value" lines, '#' comments) and
 * command-line overrides, described by one table of keys. The parser is pure
 * (text in, struct out, errors as "FILE:LINE: KEY: reason"); a loaded conf is
 * an immutable snapshot shared by the workers through a reference count. */
#ifndef PS_CONF_H
#define PS_CONF_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mime_decide.h"

#define CONF_MAX_LISTEN 32
#define CONF_MAX_INDEX 16
#define CONF_MAX_TYPES 128
#define CONF_MAX_CACHE_CONTROL 64
#define CONF_MAX_FILE_SIZE (1024 * 1024)
#define CONF_ERR_SIZE 512

enum conf_dotfiles { CONF_DOTFILES_DENY = 0, CONF_DOTFILES_ALLOW = 1 };
enum conf_multirange { CONF_MULTI_MULTIPART = 0, CONF_MULTI_FIRST, CONF_MULTI_WHOLE };

struct conf_cache_control {
    char *match; /* "/path/prefix" or ".ext" */
    char *value; /* the Cache-Control field value */
};

struct conf {
    char *root;
    char *listen[CONF_MAX_LISTEN];
    unsigned nlisten;
    char *index[CONF_MAX_INDEX];
    unsigned nindex;
    uint64_t threads; /* 0: one per online CPU */
    bool access_log;
    uint64_t dotfiles; /* enum conf_dotfiles */
    uint64_t max_head_size;
    uint64_t max_uri_length;
    uint64_t max_headers;
    uint64_t max_connections;
    uint64_t header_timeout_ms;
    uint64_t keepalive_timeout_ms;
    uint64_t send_timeout_ms;
    uint64_t shutdown_timeout_ms;
    struct mime_override types[CONF_MAX_TYPES]; /* "type = EXT TYPE" lines */
    unsigned ntypes;
    char *default_charset; /* NULL: "none" */
    bool sniff_extensionless;
    bool nosniff;
    uint64_t mime_cache_entries;
    uint64_t log_level; /* LOG_INFO or LOG_DEBUG */
    bool autoindex;
    bool precompressed;
    uint64_t max_ranges;
    uint64_t multiple_ranges; /* enum conf_multirange */
    uint64_t file_cache_entries;
    uint64_t file_cache_max_file;
    struct conf_cache_control cache_control[CONF_MAX_CACHE_CONTROL];
    unsigned ncache_control;
    char *user;         /* started as root: switch to this user (NULL: stay) */
    char *group;        /* ... and group (NULL: the user's primary group) */
    bool server_tokens; /* the version in Server: and error pages */
    uint64_t defer_accept_ms; /* TCP_DEFER_ACCEPT on sockets bound here, 0: off */
    bool io_uring;            /* workers use io_uring where the kernel allows it */

    /* Set by the daemon when the snapshot goes live, not by the parser. */
    int root_fd;
    atomic_bool root_gone; /* the root's path names nothing: requests get 404 */
    char *source;          /* the file's text it was parsed from (NULL: none) */
    size_t source_len;
    uint64_t generation; /* distinguishes snapshots in shared caches */
    atomic_uint refs;
};

/* Fill c with the built-in defaults (no root, no listen). */
void conf_init(struct conf *c);

/* Release what c owns (strings, source, root_fd if >= 0); c can be conf_init'ed again. */
void conf_clear(struct conf *c);

/* Forget the listen addresses (a command-line --listen replaces the file's). */
void conf_clear_listen(struct conf *c);

/* Set one key from its textual value, as a config line or a command-line
 * override would. A repeatable key (listen, index) appends for "listen" and
 * replaces the whole list for "index" (a space-separated list).
 * Returns 0, or -EINVAL/-ENOENT(unknown key)/-ENOMEM with
 * "KEY: reason" in err. */
int conf_set(struct conf *c, const char *key, const char *value, char *err, size_t errsz);

/* The longest line of a config file, in bytes. */
#define CONF_LINE_MAX 4096

/* Split one setting, "KEY = VALUE" or "KEY ARG = VALUE" (blanks around
 * each part optional), as a config line or --set gives it: s is modified in
 * place; *key and *value point into s, or *value into joined ("ARG VALUE")
 * for the keys that take an argument. Returns 0, or -EINVAL with the reason
 * in err. */
int conf_split_setting(char *s, char **key, char **value, char *joined, size_t joinedsz,
                       char *err, size_t errsz);

/* Parse a whole config text of len bytes on top of c. name is used in error
 * messages ("NAME:LINE: KEY: reason"). Stops at the first error. Returns 0 or
 * a negative errno. */
int conf_parse(struct conf *c, const char *text, size_t len, const char *name, char *err,
               size_t errsz);

/* Read and parse FILE (at most CONF_MAX_FILE_SIZE bytes) on top of c.
 * Errors name the file ("FILE: No such file or directory"). */
int conf_load(struct conf *c, const char *path, char *err, size_t errsz);

/* The whole text of the file at path (a regular file, a character device,
 * or a FIFO read while its writer keeps it coming, as conf_load does), NUL
 * terminated, in *text for the caller to free. 0 or -errno with err set. */
int conf_read_file(const char *path, char **text, size_t *text_len, char *err, size_t errsz);

/* Cross-key checks after every source was applied (root set, URI limit
 * below head limit...). Returns 0 or -EINVAL with a message in err. */
int conf_validate(const struct conf *c, char *err, size_t errsz);

/* The Cache-Control value for a request path (decoded, relative, as from
 * path_resolve) or NULL: the longest matching path prefix, else an
 * extension rule. */
const char *conf_cache_control_for(const struct conf *c, const char *rel, size_t len);

/* Iterate the key table (for the unit test that holds it to the documented
 * keys). Returns the name of key i, or NULL past the end. */
const char *conf_key_name(unsigned i);

/* Reference counting of a live snapshot (allocated with malloc). */
struct conf *conf_ref(struct conf *c);
void conf_unref(struct conf *c);

#endif
