/* libFuzzer target for the path resolver: checks the shape of every accepted path, aborts on a violation. */
#include "config.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "path.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define OUTSZ 4096

static void violation(const char *what, const char *raw, size_t n, unsigned flags, int r)
{
    fprintf(stderr, "fuzz_path: invariant violated: %s (flags %u, result %d, input %zu bytes: \"",
            what, flags, r, n);
    for (size_t i = 0; i < n && i < 512; i++) {
        unsigned char c = (unsigned char)raw[i];
        if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\')
            fputc(c, stderr);
        else
            fprintf(stderr, "\\x%02x", c);
    }
    fputs("\")\n", stderr);
    abort();
}

/* The output of a successful resolve: a clean relative path. */
static void check_output(const char *out, const struct path_result *res, unsigned flags,
                         const char *raw, size_t n)
{
    if (res->len >= OUTSZ || out[res->len] != '\0')
        violation("len does not match the NUL", raw, n, flags, 0);
    if (memchr(out, '\0', res->len))
        violation("NUL inside the result", raw, n, flags, 0);
    if (res->len && out[0] == '/')
        violation("result starts with /", raw, n, flags, 0);
    /* a final '/' in the result is exactly the trailing_slash flag */
    if (res->len && (out[res->len - 1] == '/') != res->trailing_slash)
        violation("final / and trailing_slash disagree", raw, n, flags, 0);
    if (memmem(out, res->len, "//", 2))
        violation("result contains //", raw, n, flags, 0);
    if (memchr(out, '\\', res->len))
        violation("result contains a backslash", raw, n, flags, 0);
    size_t i = 0, seg = 0;
    while (i < res->len) {
        size_t e = i;
        while (e < res->len && out[e] != '/')
            e++;
        size_t len = e - i;
        if (len == 0 && e < res->len)
            violation("empty segment", raw, n, flags, 0);
        if ((len == 1 && out[i] == '.') || (len == 2 && out[i] == '.' && out[i + 1] == '.'))
            violation("result has a dot segment", raw, n, flags, 0);
        if (!(flags & PATH_ALLOW_DOTFILES) && len > 0 && out[i] == '.' &&
            !(seg == 0 && len == 11 && memcmp(out + i, ".well-known", 11) == 0))
            violation("dotfile segment accepted under deny", raw, n, flags, 0);
        i = e + 1;
        seg++;
    }
}

/* Resolve with flags; return the status, output in out/res. */
static int resolve(const char *raw, size_t n, unsigned flags, char *out, struct path_result *res)
{
    memset(out, 0x55, OUTSZ);
    int r = path_resolve(raw, n, flags, out, OUTSZ, res);
    if (r != 0 && r != -400 && r != -403 && r != -414)
        violation("result out of range", raw, n, flags, r);
    if (r == -414 && n < OUTSZ)
        violation("414 although outsz > n", raw, n, flags, r);
    if (r == -403 && (flags & PATH_ALLOW_DOTFILES))
        violation("403 although dotfiles are allowed", raw, n, flags, r);
    if (r == 0) {
        check_output(out, res, flags, raw, n);
        /* deterministic */
        char again[OUTSZ];
        struct path_result res2;
        if (path_resolve(raw, n, flags, again, OUTSZ, &res2) != 0 || res2.len != res->len ||
            res2.trailing_slash != res->trailing_slash || memcmp(again, out, res->len + 1) != 0)
            violation("second resolve differs", raw, n, flags, r);
        /* outsz > n always suffices (path.h); one byte less than the
         * result needs is 414 */
        char *big = malloc(n + 1);
        if (!big)
            abort();
        int r2 = path_resolve(raw, n, flags, big, n + 1, &res2);
        if (r2 != 0 || res2.len != res->len || memcmp(big, out, res->len + 1) != 0)
            violation("output buffer of n + 1 bytes refused", raw, n, flags, r2);
        free(big);
        char *small = malloc(res->len ? res->len : 1);
        if (!small)
            abort();
        r2 = path_resolve(raw, n, flags, small, res->len, &res2);
        if (r2 != -414)
            violation("output buffer one byte short not 414", raw, n, flags, r2);
        free(small);
        /* A result without '%' is a fixed point: "/" + out resolves to out. */
        if (!memchr(out, '%', res->len) && res->len + 1 < OUTSZ) {
            char *raw2 = malloc(res->len + 1);
            if (!raw2)
                abort();
            raw2[0] = '/';
            memcpy(raw2 + 1, out, res->len);
            r2 = path_resolve(raw2, res->len + 1, flags, again, OUTSZ, &res2);
            if (r2 != 0 || res2.len != res->len || memcmp(again, out, res->len) != 0)
                violation("result is not stable when resolved again", raw, n, flags, r2);
            free(raw2);
        }
    }
    return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *raw = (const char *)data;
    static char out_deny[OUTSZ], out_allow[OUTSZ];
    struct path_result res_deny, res_allow;

    int rd = resolve(raw, size, 0, out_deny, &res_deny);
    int ra = resolve(raw, size, PATH_ALLOW_DOTFILES, out_allow, &res_allow);

    /* The policy only ever turns a success into a 403. */
    if (rd == 0 && (ra != 0 || res_allow.len != res_deny.len ||
                    memcmp(out_allow, out_deny, res_deny.len) != 0 ||
                    res_allow.trailing_slash != res_deny.trailing_slash))
        violation("allowing dotfiles changed a permitted path", raw, size, 0, ra);
    if (ra == 0 && rd != 0 && rd != -403)
        violation("denying dotfiles gave another error than 403", raw, size, 0, rd);
    return 0;
}
