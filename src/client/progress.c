/* Progress line formatting. */
#include "config.h"

#include "progress.h"

#include <stdio.h>
#include <string.h>

void progress_size(uint64_t bytes, char *out, size_t outsz)
{
    static const char *const units[] = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
    if (bytes < 1024) {
        snprintf(out, outsz, "%u B", (unsigned)bytes);
        return;
    }
    /* tenths of the unit, rounded down, without floating point */
    unsigned u = 0;
    uint64_t scale = 1024;
    while (u + 1 < sizeof(units) / sizeof(units[0]) && bytes / scale >= 1024) {
        scale *= 1024;
        u++;
    }
    uint64_t whole = bytes / scale, tenth = (bytes % scale) * 10 / scale;
    snprintf(out, outsz, "%llu.%u %s", (unsigned long long)whole, (unsigned)tenth, units[u]);
}

void progress_time(uint64_t s, char *out, size_t outsz)
{
    if (s == UINT64_MAX)
        snprintf(out, outsz, "--:--");
    else if (s < 3600)
        snprintf(out, outsz, "%u:%02u", (unsigned)(s / 60), (unsigned)(s % 60));
    else if (s < 100ull * 3600)
        snprintf(out, outsz, "%u:%02u:%02u", (unsigned)(s / 3600), (unsigned)(s / 60 % 60),
                 (unsigned)(s % 60));
    else
        snprintf(out, outsz, ">99h");
}

size_t progress_format(char *out, size_t outsz, unsigned width, uint64_t done, uint64_t total,
                       uint64_t elapsed_ms, bool final)
{
    char sdone[24], stotal[24], srate[24], stime[16], text[128];
    bool known = total != UINT64_MAX;
    uint64_t rate = elapsed_ms ? done * 1000 / elapsed_ms : 0; /* bytes/s */
    if (done > UINT64_MAX / 1000 && elapsed_ms)
        rate = done / elapsed_ms * 1000;

    if (outsz == 0)
        return 0;
    progress_size(done, sdone, sizeof(sdone));
    if (elapsed_ms)
        progress_size(rate, srate, sizeof(srate));
    else
        snprintf(srate, sizeof(srate), "--");
    if (final || !known)
        progress_time(elapsed_ms / 1000, stime, sizeof(stime));
    else if (rate == 0)
        progress_time(UINT64_MAX, stime, sizeof(stime));
    else
        progress_time(done >= total ? 0 : (total - done + rate - 1) / rate, stime, sizeof(stime));

    unsigned pct = 0;
    if (known) {
        progress_size(total, stotal, sizeof(stotal));
        if (done >= total)
            pct = 100;
        else if (done <= UINT64_MAX / 100)
            pct = (unsigned)(done * 100 / total);
        else
            pct = (unsigned)(done / (total / 100));
        snprintf(text, sizeof(text), " %3u%% %s / %s  %s/s  %s %s", pct, sdone, stotal, srate,
                 final ? "in" : "ETA", stime);
    } else {
        snprintf(text, sizeof(text), "%s  %s/s  %s", sdone, srate, stime);
    }

    size_t tl = strlen(text);
    size_t cols = width > 1 ? width - 1 : 0;
    size_t o = 0;
    /* the bar: "[=====>    ]" taking what the text leaves, at least 10 wide */
    if (known && cols >= tl + 12) {
        size_t inner = cols - tl - 2;
        if (inner > 50)
            inner = 50;
        size_t fill = (size_t)((uint64_t)inner * pct / 100);
        if (o + inner + 2 < outsz) {
            out[o++] = '[';
            for (size_t i = 0; i < inner; i++)
                out[o++] = i < fill ? '=' : (i == fill ? '>' : ' ');
            out[o++] = ']';
        }
    }
    if (tl > cols)
        tl = cols;
    if (o + tl >= outsz)
        tl = outsz - o - 1;
    memcpy(out + o, text, tl);
    o += tl;
    out[o] = '\0';
    return o;
}
