/* The progress bar of headless runs (progress.h). */
#include "progress.h"

#include <string.h>
#include <unistd.h>

#include "clock.h"

#define REDRAW_NS 100000000u /* 10 times a second at most */

void klefr_fmt_duration(char *buf, size_t n, double s)
{
    if (!(s >= 0) || s > 1e12)
        snprintf(buf, n, "?");
    else if (s < 60)
        snprintf(buf, n, "%.1f s", s);
    else if (s < 3600)
        snprintf(buf, n, "%dm%02ds", (int)(s / 60), (int)s % 60);
    else if (s < 86400)
        snprintf(buf, n, "%dh%02dm", (int)(s / 3600), (int)(s / 60) % 60);
    else
        snprintf(buf, n, "%dd%02dh", (int)(s / 86400), (int)(s / 3600) % 24);
}

void klefr_progress_start(klefr_progress *p, FILE *f, const char *label, uint64_t t0_us)
{
    memset(p, 0, sizeof *p);
    p->f = f;
    p->on = f && isatty(fileno(f));
    p->wall0_ns = klefr_wall_ns();
    p->t0_us = t0_us;
    /* A long path keeps its end, the file's name ("...os/ev-charge.json"), not
     * its start; cut where a UTF-8 character starts. */
    const char *l = label ? label : "";
    size_t n = strlen(l);
    if (n <= 40) {
        snprintf(p->label, sizeof p->label, "%s", l);
        return;
    }
    l += n - 37;
    while ((*l & 0xC0) == 0x80)
        l++;
    snprintf(p->label, sizeof p->label, "...%s", l);
}

void klefr_progress_update(klefr_progress *p, uint64_t t_us, uint64_t end_us)
{
    if (!p->on)
        return;
    uint64_t now = klefr_wall_ns();
    if (p->drawn && now - p->last_ns < REDRAW_NS)
        return;
    p->last_ns = now;
    double wall = (double)(now - p->wall0_ns) / 1e9;
    double done = (double)(t_us - p->t0_us) / 1e6;
    double speed = wall > 0 ? done / wall : 0;
    double frac = end_us > p->t0_us ? (double)(t_us - p->t0_us) / (double)(end_us - p->t0_us) : 0;
    frac = frac < 0 ? 0 : frac > 1 ? 1 : frac;
    char bar[21], sim[24], total[24], eta[24];
    int full = (int)(frac * 20);
    for (int k = 0; k < 20; k++)
        bar[k] = k < full ? '#' : '.';
    bar[20] = 0;
    klefr_fmt_duration(sim, sizeof sim, (double)t_us / 1e6);
    klefr_fmt_duration(total, sizeof total, (double)end_us / 1e6);
    klefr_fmt_duration(eta, sizeof eta, speed > 0 ? (double)(end_us - t_us) / 1e6 / speed : -1);
    fprintf(p->f, "\r%s [%s] %s / %s  x%.0f  ETA %s\033[K", p->label, bar, sim, total, speed,
            eta);
    fflush(p->f);
    p->drawn = true;
}

void klefr_progress_end(klefr_progress *p)
{
    if (p->on && p->drawn) {
        fprintf(p->f, "\r\033[K");
        fflush(p->f);
    }
    p->drawn = false;
}
