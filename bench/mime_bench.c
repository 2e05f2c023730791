/* Micro-benchmark of the Content-Type engine (src/pyserved/mime.h): the
 * cost of one lookup for a few typical files, uncached (a new configuration
 * generation every time, so each lookup misses and runs libmagic and,
 * for 8-bit text, uchardet) and cached (the same key again and again).
 * Prints a table; asserts nothing about timing.
 *
 *   mime_bench [UNCACHED_ITERATIONS [CACHED_ITERATIONS]]   (200, 1000000)
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "conf.h"
#include "mime.h"
#include "mime_cache.h"

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint32_t rng = 0x2545f491u;

static unsigned char next_byte(void)
{
    rng = rng * 1664525u + 1013904223u;
    return (unsigned char)(rng >> 24);
}

struct buf {
    unsigned char *p;
    size_t n, cap;
};

static void add(struct buf *b, const void *data, size_t n)
{
    if (b->n + n > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->n + n)
            cap *= 2;
        unsigned char *p = realloc(b->p, cap);
        if (!p) {
            perror("realloc");
            exit(1);
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->n, data, n);
    b->n += n;
}

static void adds(struct buf *b, const char *s)
{
    add(b, s, strlen(s));
}

static void be32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

/* A PNG signature and IHDR followed by an IDAT chunk of random bytes (the
 * detection only looks at the header; CRCs are not checked). */
static void make_pngish(struct buf *b, size_t idat)
{
    static const unsigned char sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    unsigned char hdr[8];
    add(b, sig, sizeof(sig));
    be32(hdr, 13);
    memcpy(hdr + 4, "IHDR", 4);
    add(b, hdr, 8);
    unsigned char ihdr[17] = {0, 0, 1, 0, 0, 0, 1, 0, 8, 6, 0, 0, 0};
    add(b, ihdr, sizeof(ihdr)); /* 13 bytes of data and a (dummy) CRC */
    be32(hdr, (uint32_t)idat);
    memcpy(hdr + 4, "IDAT", 4);
    add(b, hdr, 8);
    for (size_t i = 0; i < idat + 4; i++) {
        unsigned char c = next_byte();
        add(b, &c, 1);
    }
    static const unsigned char iend[12] = {0, 0, 0, 0, 'I', 'E', 'N', 'D', 0xae, 0x42, 0x60, 0x82};
    add(b, iend, sizeof(iend));
}

struct sample {
    const char *name;
    struct buf data;
};

static void make_samples(struct sample *s)
{
    char line[256];
    s[0].name = "style.css";
    for (int i = 0; i < 60; i++) {
        snprintf(line, sizeof(line), ".c%d { color: #%06x; margin: %dpx auto; }\n", i,
                 (unsigned)(i * 40503) & 0xffffff, i);
        adds(&s[0].data, line);
    }
    s[1].name = "page.html";
    adds(&s[1].data, "<!DOCTYPE html>\n<html lang=\"fr\"><head><meta charset=\"utf-8\">"
                     "<title>Caf\xc3\xa9</title></head><body>\n");
    for (int i = 0; i < 60; i++)
        adds(&s[1].data, "<p>Le caf\xc3\xa9 est servi \xc3\xa0 la terrasse, pr\xc3\xa8s "
                         "de la fen\xc3\xaatre.</p>\n");
    adds(&s[1].data, "</body></html>\n");
    s[2].name = "image.png";
    make_pngish(&s[2].data, 8192);
    s[3].name = "data.json";
    adds(&s[3].data, "{\"items\": [\n");
    for (int i = 0; i < 80; i++) {
        snprintf(line, sizeof(line), "  {\"id\": %d, \"name\": \"item %d\", \"ok\": %s}%s\n", i,
                 i, i % 2 ? "true" : "false", i < 79 ? "," : "");
        adds(&s[3].data, line);
    }
    adds(&s[3].data, "]}\n");
    s[4].name = "latin1.txt";
    for (int i = 0; i < 30; i++)
        adds(&s[4].data, "Le c\xe9l\xe8" "bre po\xe8te fran\xe7" "ais \xe9" "crivait \xe0 "
                         "c\xf4t\xe9 de la fen\xea" "tre, pr\xe8s du ch\xe2teau.\n");
    s[5].name = "random.bin";
    for (size_t i = 0; i < 64 * 1024; i++) {
        unsigned char c = next_byte();
        add(&s[5].data, &c, 1);
    }
}

#define NSAMPLES 6

static int write_file(const char *path, const struct buf *b)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return -1;
    size_t done = 0;
    while (done < b->n) {
        ssize_t w = write(fd, b->p + done, b->n - done);
        if (w <= 0) {
            close(fd);
            return -1;
        }
        done += (size_t)w;
    }
    return close(fd);
}

static unsigned long parse_count(const char *s, const char *what)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno || *end || v == 0 || v > 100000000ul) {
        fprintf(stderr, "mime_bench: bad %s \"%s\"\n", what, s);
        exit(2);
    }
    return v;
}

int main(int argc, char **argv)
{
    unsigned long uncached_iters = 200, cached_iters = 1000000;
    if (argc > 3 || (argc > 1 && strcmp(argv[1], "--help") == 0)) {
        fprintf(stderr, "usage: mime_bench [UNCACHED_ITERATIONS [CACHED_ITERATIONS]]\n");
        return 2;
    }
    if (argc > 1)
        uncached_iters = parse_count(argv[1], "uncached iteration count");
    if (argc > 2)
        cached_iters = parse_count(argv[2], "cached iteration count");

    char dir[] = "/tmp/mime_bench.XXXXXX";
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    struct sample samples[NSAMPLES];
    memset(samples, 0, sizeof(samples));
    make_samples(samples);

    char err[256];
    struct mime_cache *cache = mime_cache_new(4096);
    struct mime_ctx *m = cache ? mime_ctx_new(cache, err, sizeof(err)) : NULL;
    if (!m) {
        fprintf(stderr, "mime_bench: %s\n", cache ? err : "out of memory");
        rmdir(dir);
        return 1;
    }
    struct conf c;
    conf_init(&c);
    uint64_t gen = 1;
    int status = 0;
    unsigned long sink = 0;

    printf("%-11s %7s  %-34s %12s %6s %8s %10s\n", "file", "bytes", "content type",
           "uncached ns", "magic", "uchardet", "cached ns");
    for (int i = 0; i < NSAMPLES; i++) {
        struct sample *s = &samples[i];
        char path[PATH_MAX];
        snprintf(path, sizeof(path), "%s/%s", dir, s->name);
        int fd = -1;
        struct stat st;
        if (write_file(path, &s->data) != 0 || (fd = open(path, O_RDONLY | O_CLOEXEC)) < 0 ||
            fstat(fd, &st) != 0) {
            fprintf(stderr, "mime_bench: %s: %s\n", path, strerror(errno));
            status = 1;
            if (fd >= 0)
                close(fd);
            break;
        }
        size_t nlen = strlen(s->name);
        bool detected = false;
        const char *type = NULL;
        unsigned long mc0, cc0, mc1, cc1, misses = 0;

        /* uncached: a configuration generation never seen before */
        mime_ctx_counters(m, &mc0, &cc0);
        uint64_t t0 = now_ns();
        for (unsigned long it = 0; it < uncached_iters; it++) {
            c.generation = ++gen;
            type = mime_content_type(m, &c, fd, &st, s->name, nlen, &detected);
            misses += detected;
            sink += (unsigned char)type[0];
        }
        uint64_t t1 = now_ns();
        mime_ctx_counters(m, &mc1, &cc1);
        double uncached_ns = (double)(t1 - t0) / (double)uncached_iters;
        if (misses != uncached_iters)
            fprintf(stderr, "mime_bench: %s: %lu of %lu uncached lookups hit the cache\n",
                    s->name, uncached_iters - misses, uncached_iters);

        /* cached: the same key (the last generation's entry is there) */
        unsigned long hits = 0;
        t0 = now_ns();
        for (unsigned long it = 0; it < cached_iters; it++) {
            type = mime_content_type(m, &c, fd, &st, s->name, nlen, &detected);
            hits += !detected;
            sink += (unsigned char)type[0];
        }
        t1 = now_ns();
        double cached_ns = (double)(t1 - t0) / (double)cached_iters;
        if (hits != cached_iters)
            fprintf(stderr, "mime_bench: %s: %lu of %lu cached lookups missed\n", s->name,
                    cached_iters - hits, cached_iters);

        printf("%-11s %7zu  %-34s %12.0f %6.2f %8.2f %10.1f\n", s->name, s->data.n, type,
               uncached_ns, (double)(mc1 - mc0) / (double)uncached_iters,
               (double)(cc1 - cc0) / (double)uncached_iters, cached_ns);
        close(fd);
        unlink(path);
    }
    printf("(%lu uncached and %lu cached lookups per file; magic and uchardet: calls per "
           "uncached lookup; checksum %lu)\n",
           uncached_iters, cached_iters, sink);

    conf_clear(&c);
    mime_ctx_free(m);
    mime_cache_free(cache);
    for (int i = 0; i < NSAMPLES; i++)
        free(samples[i].data.p);
    rmdir(dir);
    return status;
}
