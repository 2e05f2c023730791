/* Location resolution for --location. */
#include "config.h"

#include "redirect.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define LOC_MAX PS_URL_TARGET_MAX

bool redirect_status(int status)
{
    return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

/* RFC 3986 section 5.2.4 on a path that starts with '/', in place (the
 * output never overtakes the input). */
static void remove_dot_segments(char *path)
{
    char *in = path, *out = path;
    while (*in) {
        if (strncmp(in, "/./", 3) == 0) {
            in += 2;
        } else if (strcmp(in, "/.") == 0) {
            in += 1;
            in[0] = '/';
        } else if (strncmp(in, "/../", 4) == 0 || strcmp(in, "/..") == 0) {
            if (in[3] == '\0') {
                in += 2;
                in[0] = '/';
            } else {
                in += 3;
            }
            while (out > path && *--out != '/')
                ; /* drop the last output segment with its '/' */
        } else {
            do
                *out++ = *in++;
            while (*in && *in != '/');
        }
    }
    *out = '\0';
    if (path[0] == '\0') {
        path[0] = '/';
        path[1] = '\0';
    }
}

/* Parse the resolved URL s into out with remove_dot_segments on its path,
 * which RFC 3986 section 5.2.2 applies to every kind of reference. */
static int parse_resolved(const char *s, struct ps_url *out, const char **why)
{
    int r = ps_url_parse(s, out, why);
    if (r < 0)
        return r;
    char query[PS_URL_TARGET_MAX];
    char *q = strchr(out->target, '?');
    snprintf(query, sizeof(query), "%s", q ? q : "");
    if (q)
        *q = '\0';
    remove_dot_segments(out->target); /* never longer: the query still fits */
    size_t pl = strlen(out->target);
    snprintf(out->target + pl, sizeof(out->target) - pl, "%s", query);
    return 0;
}

int redirect_resolve(const struct ps_url *base, const char *loc, size_t n, struct ps_url *out,
                     const char **why)
{
    char ref[LOC_MAX], full[LOC_MAX + PS_URL_HOST_MAX + 16];
    const char *why_local;
    size_t o = 0;

    if (!why)
        why = &why_local;
    while (n > 0 && (*loc == ' ' || *loc == '\t'))
        loc++, n--;
    while (n > 0 && (loc[n - 1] == ' ' || loc[n - 1] == '\t'))
        n--;
    /* a copy without the fragment, non-ASCII and spaces percent-encoded */
    for (size_t i = 0; i < n && loc[i] != '#'; i++) {
        unsigned char c = (unsigned char)loc[i];
        if (c < ' ' || c == 0x7f) {
            *why = "control characters in Location";
            return -EINVAL;
        }
        if (o + 4 > sizeof(ref)) {
            *why = "Location too long";
            return -ERANGE;
        }
        if (c > 0x7f || c == ' ')
            o += (size_t)snprintf(ref + o, 4, "%%%02X", c);
        else
            ref[o++] = (char)c;
    }
    ref[o] = '\0';
    if (o == 0) {
        /* RFC 3986 5.2.2: an empty reference (a fragment at most) is the base */
        *why = n > 0 ? "the Location is only a fragment: it redirects to the same URL"
                     : "empty Location";
        return -EINVAL;
    }

    /* scheme ":" (RFC 3986 section 3.1) */
    size_t s = strspn(ref, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+-.");
    if (s > 0 && ref[s] == ':' &&
        ((ref[0] >= 'a' && ref[0] <= 'z') || (ref[0] >= 'A' && ref[0] <= 'Z'))) {
        if (s != 4 || strncasecmp(ref, "http", 4) != 0) {
            *why = s == 5 && strncasecmp(ref, "https", 5) == 0
                       ? "redirect to https, which this client does not speak"
                       : "redirect to a scheme other than http";
            return -EPROTONOSUPPORT;
        }
        if (strncmp(ref + 5, "//", 2) != 0) {
            *why = "Location \"http:\" without an authority";
            return -EINVAL;
        }
        return parse_resolved(ref, out, why);
    }
    if (ref[0] == '/' && ref[1] == '/') {
        snprintf(full, sizeof(full), "http:%s", ref);
        return parse_resolved(full, out, why);
    }

    char auth[PS_URL_HOST_MAX + 16];
    if (ps_url_host_header(base, auth, sizeof(auth)) < 0) {
        *why = "base URL too long";
        return -ERANGE;
    }
    /* the new path (before '?') and query */
    char path[LOC_MAX * 2];
    const char *bq = strchr(base->target, '?');
    size_t blen = bq ? (size_t)(bq - base->target) : strlen(base->target);
    const char *query;
    if (ref[0] == '?') {
        snprintf(path, sizeof(path), "%.*s", (int)blen, base->target);
        query = ref;
    } else {
        char *q = strchr(ref, '?');
        query = q ? q : "";
        size_t rl = q ? (size_t)(q - ref) : strlen(ref);
        if (ref[0] == '/') {
            snprintf(path, sizeof(path), "%.*s", (int)rl, ref);
        } else {
            /* merge: the base path up to its last '/', then the reference */
            size_t dir = blen;
            while (dir > 0 && base->target[dir - 1] != '/')
                dir--;
            snprintf(path, sizeof(path), "%.*s%.*s", (int)dir, base->target, (int)rl, ref);
            if (path[0] != '/') {
                *why = "bad base path";
                return -EINVAL;
            }
        }
    }
    remove_dot_segments(path);
    int r = snprintf(full, sizeof(full), "http://%s%s%s", auth, path, query);
    if (r < 0 || (size_t)r >= sizeof(full)) {
        *why = "Location too long";
        return -ERANGE;
    }
    return parse_resolved(full, out, why);
}
