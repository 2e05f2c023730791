/* Human and JSON reports. */
#include "config.h"

#include "report.h"

#include <math.h>
#include <stdbool.h>
#include <string.h>

const double stress_report_percentiles[] = {50, 75, 90, 99, 99.9, 99.99, 99.999, 100};
const unsigned stress_report_npercentiles =
    sizeof(stress_report_percentiles) / sizeof(stress_report_percentiles[0]);

const char *stress_fmt_time(char *buf, size_t sz, double ns)
{
    if (ns < 1e6)
        snprintf(buf, sz, "%.2fus", ns / 1e3);
    else if (ns < 1e9)
        snprintf(buf, sz, "%.2fms", ns / 1e6);
    else if (ns < 60e9)
        snprintf(buf, sz, "%.2fs", ns / 1e9);
    else
        snprintf(buf, sz, "%.2fm", ns / 60e9);
    return buf;
}

static const char *fmt_count(char *buf, size_t sz, double v)
{
    if (v < 1e3)
        snprintf(buf, sz, "%.2f", v);
    else if (v < 1e6)
        snprintf(buf, sz, "%.2fk", v / 1e3);
    else
        snprintf(buf, sz, "%.2fM", v / 1e6);
    return buf;
}

static const char *fmt_bytes(char *buf, size_t sz, double v)
{
    static const char *units[] = {"B", "KB", "MB", "GB", "TB"};
    unsigned u = 0;
    while (v >= 1024 && u < 4) {
        v /= 1024;
        u++;
    }
    snprintf(buf, sz, "%.2f%s", v, units[u]);
    return buf;
}

static const char *pct_label(char *buf, size_t sz, double p)
{
    snprintf(buf, sz, "%g%%", p);
    return buf;
}

static void text_latency_block(FILE *f, const char *title, const struct ps_hist *h)
{
    char a[32], b[32];
    fprintf(f, "  %s\n", title);
    for (unsigned i = 0; i < stress_report_npercentiles; i++)
        fprintf(f, "  %8s  %s\n", pct_label(a, sizeof(a), stress_report_percentiles[i]),
                stress_fmt_time(b, sizeof(b),
                                (double)ps_hist_percentile(h, stress_report_percentiles[i])));
}

/* note: more after the count ("" for nothing) */
static void text_short_dist(FILE *f, const char *title, const struct ps_hist *h, const char *note)
{
    char a[32], b[32], c[32], d[32];
    if (h->total == 0) {
        fprintf(f, "  %-14s (none)\n", title);
        return;
    }
    fprintf(f, "  %-14s avg %s  p50 %s  p99 %s  max %s  (%llu%s)\n", title,
            stress_fmt_time(a, sizeof(a), ps_hist_mean(h)),
            stress_fmt_time(b, sizeof(b), (double)ps_hist_percentile(h, 50)),
            stress_fmt_time(c, sizeof(c), (double)ps_hist_percentile(h, 99)),
            stress_fmt_time(d, sizeof(d), (double)h->max), (unsigned long long)h->total, note);
}

void stress_report_text(FILE *f, const struct stress_result *r)
{
    const struct stress_opts *o = r->o;
    const struct stress_stats *s = r->s;
    char a[32], b[32], c[32];
    double secs = (double)r->measured_ns / 1e9;

    if (o->once)
        fprintf(f, "%u clients, one request each @ %s\n", o->connections, r->target);
    else if (o->duration_ms)
        fprintf(f, "Running %s test @ %s%s\n",
                stress_fmt_time(a, sizeof(a), (double)o->duration_ms * 1e6), r->target,
                r->nurls > 1 ? " (and more URLs)" : "");
    else
        fprintf(f, "Running %llu requests @ %s%s\n", (unsigned long long)o->requests, r->target,
                r->nurls > 1 ? " (and more URLs)" : "");
    fprintf(f, "  %u threads and %u connections, %s", r->threads, o->connections,
            o->once ? "one request each" : o->keep_alive ? "keep-alive" : "no keep-alive");
    if (o->pipeline > 1)
        fprintf(f, ", pipeline %u", o->pipeline);
    if (o->rate)
        fprintf(f, ", open loop at %llu req/s\n", (unsigned long long)o->rate);
    else
        fprintf(f, ", closed loop\n");

    fprintf(f, "  Thread Stats   Avg      Stdev     Max   +/- Stdev\n");
    fprintf(f, "    Latency %10s %9s %9s %9.2f%%\n",
            stress_fmt_time(a, sizeof(a), ps_hist_mean(&s->latency)),
            stress_fmt_time(b, sizeof(b), ps_hist_stdev(&s->latency)),
            stress_fmt_time(c, sizeof(c), (double)s->latency.max),
            ps_hist_within_stdev(&s->latency));
    if (s->rps.total)
        fprintf(f, "    Req/Sec %10s %9s %9s %9.2f%%\n",
                fmt_count(a, sizeof(a), ps_hist_mean(&s->rps)),
                fmt_count(b, sizeof(b), ps_hist_stdev(&s->rps)),
                fmt_count(c, sizeof(c), (double)s->rps.max), ps_hist_within_stdev(&s->rps));
    if (o->rate) {
        text_latency_block(f, "Latency Distribution (corrected: from the scheduled start)",
                           &s->latency);
        text_latency_block(f, "Uncorrected Latency (from the actual send)", &s->uncorrected);
    } else {
        text_latency_block(f, "Latency Distribution", &s->latency);
    }
    char warm[64] = "";
    if (s->connects_warmup == s->connects && s->connects)
        snprintf(warm, sizeof(warm), ", all opened in the warm-up");
    else if (s->connects_warmup)
        snprintf(warm, sizeof(warm), ", %llu opened in the warm-up",
                 (unsigned long long)s->connects_warmup);
    text_short_dist(f, "Connect", &s->connect, warm);
    text_short_dist(f, "First byte", &s->ttfb, "");

    fprintf(f, "  %llu requests in %.2fs, %s read\n", (unsigned long long)s->requests, secs,
            fmt_bytes(a, sizeof(a), (double)s->bytes));
    if (o->once)
        fprintf(f, "  Wall time: %s\n", stress_fmt_time(a, sizeof(a), (double)r->wall_ns));
    fprintf(f, "  Status:");
    bool any = false;
    for (unsigned k = 1; k < 6; k++) {
        if (!s->status_class[k])
            continue;
        fprintf(f, " %uxx: %llu (", k, (unsigned long long)s->status_class[k]);
        bool first = true;
        for (unsigned code = k * 100; code < k * 100 + 100; code++) {
            if (!s->status_code[code])
                continue;
            fprintf(f, "%s%u: %llu", first ? "" : ", ", code,
                    (unsigned long long)s->status_code[code]);
            first = false;
        }
        fprintf(f, ")");
        any = true;
    }
    if (s->status_class[0])
        fprintf(f, " other: %llu", (unsigned long long)s->status_class[0]);
    fprintf(f, "%s\n", any || s->status_class[0] ? "" : " none");
    if (stress_stats_errors(s))
        fprintf(f,
                "  Socket errors: connect %llu, read %llu, write %llu, timeout %llu\n"
                "  Bad responses: %llu, verify failures: %llu\n",
                (unsigned long long)s->err_connect, (unsigned long long)s->err_read,
                (unsigned long long)s->err_write, (unsigned long long)s->err_timeout,
                (unsigned long long)s->err_bad, (unsigned long long)s->err_verify);
    if (stress_stats_non_2xx_3xx(s))
        fprintf(f, "  Non-2xx or 3xx responses: %llu\n",
                (unsigned long long)stress_stats_non_2xx_3xx(s));
    if (s->unanswered)
        fprintf(f,
                "  Due but unanswered at the end: %llu (in the corrected latency as waiting "
                "until the end)\n",
                (unsigned long long)s->unanswered);
    if (r->interrupted)
        fprintf(f, "  (interrupted)\n");
    fprintf(f, "Requests/sec: %10.2f\n", secs > 0 ? (double)s->requests / secs : 0.0);
    fprintf(f, "Transfer/sec: %10s\n",
            fmt_bytes(a, sizeof(a), secs > 0 ? (double)s->bytes / secs : 0.0));
}

/* --- JSON ---------------------------------------------------------------- */

/* The length of the well-formed UTF-8 sequence at p (RFC 3629: shortest
 * form, no surrogates, at most U+10FFFF), or 0. */
static size_t utf8_seq(const unsigned char *p)
{
    static const uint32_t least[] = {0, 0, 0x80, 0x800, 0x10000};
    if (p[0] < 0xc2 || p[0] > 0xf4)
        return 0; /* not a lead byte, or one of an overlong or too large form */
    size_t len = p[0] >= 0xf0 ? 4 : p[0] >= 0xe0 ? 3 : 2;
    uint32_t cp = p[0] & (0x7fu >> len);
    for (size_t i = 1; i < len; i++) {
        if ((p[i] & 0xc0) != 0x80) /* the NUL at the end stops it too */
            return 0;
        cp = cp << 6 | (p[i] & 0x3fu);
    }
    if (cp < least[len] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return len;
}

/* s as a JSON string. The arguments it comes from are bytes: what is not
 * UTF-8 becomes U+FFFD, so that the document stays valid JSON. */
static void json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p;) {
        size_t n = *p < 0x80 ? 1 : utf8_seq(p);
        if (n == 0)
            fputs("\\ufffd", f);
        else if (*p == '"' || *p == '\\')
            fprintf(f, "\\%c", *p);
        else if (*p < 0x20 || *p == 0x7f)
            fprintf(f, "\\u%04x", *p);
        else
            fwrite(p, 1, n, f);
        p += n ? n : 1;
    }
    fputc('"', f);
}

/* A distribution in microseconds (ns / 1000, three decimals). */
static void json_dist(FILE *f, const char *name, const struct ps_hist *h, double scale, bool last)
{
    fprintf(f,
            "  \"%s\": {\"count\": %llu, \"min\": %.3f, \"mean\": %.3f, \"stdev\": %.3f, "
            "\"max\": %.3f, \"percentiles\": {",
            name, (unsigned long long)h->total, h->total ? (double)h->min / scale : 0.0,
            ps_hist_mean(h) / scale, ps_hist_stdev(h) / scale, (double)h->max / scale);
    for (unsigned i = 0; i < stress_report_npercentiles; i++)
        fprintf(f, "%s\"%g\": %.3f", i ? ", " : "", stress_report_percentiles[i],
                (double)ps_hist_percentile(h, stress_report_percentiles[i]) / scale);
    fprintf(f, "}}%s\n", last ? "" : ",");
}

void stress_report_json(FILE *f, const struct stress_result *r)
{
    const struct stress_opts *o = r->o;
    const struct stress_stats *s = r->s;
    double secs = (double)r->measured_ns / 1e9;

    fprintf(f, "{\n  \"tool\": \"pyserve-stress\",\n  \"version\": \"%s\",\n", PACKAGE_VERSION);
    fprintf(f, "  \"parameters\": {\"urls\": [");
    for (unsigned i = 0; i < o->nurls; i++) {
        fprintf(f, "%s", i ? ", " : "");
        json_str(f, o->urls[i]);
    }
    fprintf(f, "], \"urls_file\": ");
    if (o->urls_file)
        json_str(f, o->urls_file);
    else
        fprintf(f, "null");
    fprintf(f,
            ", \"mix_entries\": %u, \"connections\": %u, \"threads\": %u, "
            "\"duration_ms\": %llu, \"requests\": %llu, \"warmup_ms\": %llu, "
            "\"timeout_ms\": %llu, \"rate\": %llu, \"pipeline\": %u, \"keep_alive\": %s, "
            "\"method\": \"%s\", \"once\": %s, \"verify\": %s, \"expect_sha256\": %s, "
            "\"headers\": [",
            r->nurls, o->connections, r->threads, (unsigned long long)o->duration_ms,
            (unsigned long long)o->requests, (unsigned long long)o->warmup_ms,
            (unsigned long long)o->timeout_ms, (unsigned long long)o->rate, o->pipeline,
            o->keep_alive ? "true" : "false", o->head ? "HEAD" : "GET", o->once ? "true" : "false",
            o->verify ? "true" : "false", o->have_sha256 ? "true" : "false");
    for (unsigned i = 0; i < o->nheaders; i++) {
        fprintf(f, "%s", i ? ", " : "");
        json_str(f, o->headers[i]);
    }
    fprintf(f, "]},\n");
    fprintf(f, "  \"interrupted\": %s,\n", r->interrupted ? "true" : "false");
    fprintf(f, "  \"duration_s\": %.6f,\n  \"wall_s\": %.6f,\n", secs, (double)r->wall_ns / 1e9);
    fprintf(f, "  \"requests\": %llu,\n  \"requests_per_s\": %.2f,\n",
            (unsigned long long)s->requests, secs > 0 ? (double)s->requests / secs : 0.0);
    fprintf(f, "  \"unanswered\": %llu,\n", (unsigned long long)s->unanswered);
    fprintf(f, "  \"bytes\": %llu,\n  \"bytes_per_s\": %.2f,\n", (unsigned long long)s->bytes,
            secs > 0 ? (double)s->bytes / secs : 0.0);
    fprintf(f, "  \"connections_opened\": %llu,\n  \"connections_from_warmup\": %llu,\n",
            (unsigned long long)s->connects, (unsigned long long)s->connects_warmup);
    fprintf(f,
            "  \"status\": {\"1xx\": %llu, \"2xx\": %llu, \"3xx\": %llu, \"4xx\": %llu, "
            "\"5xx\": %llu, \"other\": %llu, \"codes\": {",
            (unsigned long long)s->status_class[1], (unsigned long long)s->status_class[2],
            (unsigned long long)s->status_class[3], (unsigned long long)s->status_class[4],
            (unsigned long long)s->status_class[5], (unsigned long long)s->status_class[0]);
    bool first = true;
    for (unsigned code = 100; code < 1000; code++) {
        if (!s->status_code[code])
            continue;
        fprintf(f, "%s\"%u\": %llu", first ? "" : ", ", code,
                (unsigned long long)s->status_code[code]);
        first = false;
    }
    fprintf(f, "}},\n");
    fprintf(f, "  \"non_2xx_3xx\": %llu,\n", (unsigned long long)stress_stats_non_2xx_3xx(s));
    fprintf(f,
            "  \"errors\": {\"connect\": %llu, \"read\": %llu, \"write\": %llu, "
            "\"timeout\": %llu, \"bad_response\": %llu, \"verify\": %llu, \"total\": %llu},\n",
            (unsigned long long)s->err_connect, (unsigned long long)s->err_read,
            (unsigned long long)s->err_write, (unsigned long long)s->err_timeout,
            (unsigned long long)s->err_bad, (unsigned long long)s->err_verify,
            (unsigned long long)stress_stats_errors(s));
    json_dist(f, "latency_us", &s->latency, 1e3, false);
    if (o->rate)
        json_dist(f, "latency_uncorrected_us", &s->uncorrected, 1e3, false);
    else
        fprintf(f, "  \"latency_uncorrected_us\": null,\n");
    json_dist(f, "connect_us", &s->connect, 1e3, false);
    json_dist(f, "ttfb_us", &s->ttfb, 1e3, false);
    json_dist(f, "thread_requests_per_s", &s->rps, 1.0, true);
    fprintf(f, "}\n");
}
