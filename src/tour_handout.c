/* klefr-sim tour --handout DIR: the meter drawn without a window at the end
 * of every step (the panel's meter-only view), and index.html naming each
 * image, with the caption, the hint and the LCD text beside it. */
#include "tour_handout.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "panel.h"
#include "png.h"
#include "sim.h"

/* The panel draws only the meter when the picture is much taller than wide
 * (assets/panel.json "meter_only"): 438 x 960 points, one pixel each. The
 * handout keeps its front (meter.y + front_y .. + front_h of the same file,
 * with a margin): the LCD, the LED and the buttons, without the terminals. */
#define IMAGE_W 438
#define IMAGE_H 960
#define FRONT_Y0 250
#define FRONT_Y1 716

struct klefr_handout {
    char dir[4096];
    klefr_panel *panel;
    size_t nsteps; /* images written */
    char **lcd;    /* the LCD text of each */
};

static int mkdirs(const char *dir, char *err, size_t errlen)
{
    char path[4096];
    snprintf(path, sizeof path, "%s", dir);
    for (char *p = path + 1;; p++) {
        if (*p == '/' || !*p) {
            char c = *p;
            *p = 0;
            if (mkdir(path, 0777) != 0 && errno != EEXIST) {
                snprintf(err, errlen, "%s: %s", path, strerror(errno));
                return -1;
            }
            *p = c;
            if (!c)
                break;
        }
    }
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "%s: not a directory", dir);
        return -1;
    }
    return 0;
}

klefr_handout *klefr_handout_open(const char *dir, klefr_sim *sim, char *err, size_t errlen)
{
    if (mkdirs(dir, err, errlen) < 0)
        return NULL;
    klefr_handout *h = calloc(1, sizeof *h);
    if (!h) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    snprintf(h->dir, sizeof h->dir, "%s", dir);
    klefr_panel_opts po = {.headless = true};
    char perr[256];
    if (!(h->panel = klefr_panel_open(sim, &po, perr, sizeof perr))) {
        snprintf(err, errlen, "panel: %s", perr);
        free(h);
        return NULL;
    }
    return h;
}

void klefr_handout_image_name(const klefr_scn *s, size_t k, char *out, size_t n)
{
    snprintf(out, n, "step-%0*zu.png", s->nstep > 99 ? 3 : 2, k + 1);
}

int klefr_handout_step(klefr_handout *h, const klefr_scn *s, size_t k, const char *lcd,
                       char *err, size_t errlen)
{
    char name[32], path[4200];
    klefr_handout_image_name(s, k, name, sizeof name);
    snprintf(path, sizeof path, "%s/%s", h->dir, name);
    int w, ht;
    uint32_t *px = NULL;
    if (klefr_panel_screenshot(h->panel, path, IMAGE_W, IMAGE_H) != 0 ||
        !(px = klefr_png_read(path, &w, &ht)) || ht < FRONT_Y1 ||
        klefr_png_write(path, px + (size_t)FRONT_Y0 * (size_t)w, w, FRONT_Y1 - FRONT_Y0) != 0) {
        free(px);
        snprintf(err, errlen, "%s: cannot write the image", path);
        return -1;
    }
    free(px);
    char **n = realloc(h->lcd, (h->nsteps + 1) * sizeof *n);
    if (!n || !(n[h->nsteps] = strdup(lcd))) {
        if (n)
            h->lcd = n;
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    h->lcd = n;
    h->nsteps++;
    return 0;
}

/* ---- the page ----------------------------------------------------------------- */

static void esc(FILE *f, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '&': fputs("&amp;", f); break;
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '"': fputs("&quot;", f); break;
        case '\n': fputs("<br>", f); break;
        default: fputc(*s, f);
        }
    }
}

static const char css[] =
    "body{font-family:'DejaVu Sans',Arial,sans-serif;margin:2em auto;max-width:52em;"
    "color:#222;line-height:1.4}\n"
    "h1{font-size:1.6em;margin-bottom:.2em}\n"
    ".meta{color:#555;margin-top:0}\n"
    ".legend{background:#f3f4f1;border-radius:6px;padding:.6em 1em;font-size:.95em}\n"
    ".step{display:flex;gap:1.4em;align-items:flex-start;border-top:1px solid #ccc;"
    "padding:1em 0;page-break-inside:avoid;break-inside:avoid}\n"
    ".step img{width:16em;height:auto;flex:none;border-radius:6px}\n"
    ".step h2{font-size:1.2em;margin:0 0 .4em}\n"
    ".n{display:inline-block;min-width:1.6em;height:1.6em;border-radius:.8em;background:#1d5f9e;"
    "color:#fff;text-align:center;margin-right:.4em;font-size:.9em;line-height:1.6em}\n"
    ".hint{font-weight:bold;color:#8a4b00}\n"
    ".lcd code{background:#aab4a6;padding:.15em .4em;border-radius:3px;font-size:1.05em}\n"
    ".fail{color:#b00000;font-weight:bold}\n"
    "footer{color:#777;font-size:.85em;border-top:1px solid #ccc;padding-top:.6em}\n"
    "@media print{body{margin:0;max-width:none}.step img{width:13em}}\n";

static int write_html(const klefr_handout *h, const klefr_scn *s, const char *path)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    fprintf(f, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>");
    esc(f, s->name);
    fprintf(f, "</title>\n<style>\n%s</style>\n</head>\n<body>\n<h1>", css);
    esc(f, s->name);
    fprintf(f, "</h1>\n<p class=\"meta\">KLEFR %d ", (int)klefr_scn_meter_model(s, s->tour_meter));
    esc(f, klefr_scn_meter_id(s, s->tour_meter)); /* of an installation */
    if (s->tour_manual[0]) {
        fputs(" &middot; user manual ", f);
        esc(f, s->tour_manual);
    }
    fprintf(f, " &middot; %zu steps</p>\n", s->nstep);
    if (s->description) {
        fputs("<p>", f);
        esc(f, s->description);
        fputs("</p>\n", f);
    }
    fputs("<p class=\"legend\">R = the right button, L = the left button, L+R = both together. "
          "&ldquo;Press&rdquo; is a short press (less than 3 s); &ldquo;hold R 3 s&rdquo; means "
          "keep it pressed until the display changes (3 s). Each picture shows the meter at the "
          "end of its step.</p>\n", f);
    for (size_t k = 0; k < h->nsteps && k < s->nstep; k++) {
        const klefr_scn_step *st = &s->step[k];
        const klefr_scn_expect *e = &s->ex[st->lcd_ex];
        char img[32];
        klefr_handout_image_name(s, k, img, sizeof img);
        fprintf(f, "<section class=\"step\" id=\"step-%zu\">\n<img src=\"%s\" alt=\"", k + 1, img);
        fprintf(f, "The meter after step %zu, its display showing ", k + 1);
        esc(f, h->lcd[k]);
        fprintf(f, "\">\n<div>\n<h2><span class=\"n\">%zu</span>", k + 1);
        esc(f, st->title);
        fputs("</h2>\n", f);
        if (st->text) {
            fputs("<p>", f);
            esc(f, st->text);
            fputs("</p>\n", f);
        }
        if (st->hint[0]) {
            fputs("<p class=\"hint\">Do: ", f);
            esc(f, st->hint);
            fputs("</p>\n", f);
        }
        fputs("<p class=\"lcd\">The display: <code>", f);
        esc(f, h->lcd[k]);
        fputs("</code></p>\n", f);
        if (e->state == KLEFR_SCN_FAIL) {
            fputs("<p class=\"fail\">Not what the tour expects: <code>", f);
            esc(f, st->lcd);
            fputs("</code></p>\n", f);
        }
        fputs("</div>\n</section>\n", f);
    }
    fputs("<footer>Made with <code>klefr-sim tour --handout</code> from ", f);
    const char *base = strrchr(s->file, '/') ? strrchr(s->file, '/') + 1 : s->file;
    esc(f, base);
    fputs(".</footer>\n</body>\n</html>\n", f);
    bool ok = !ferror(f) && fflush(f) == 0;
    return fclose(f) == 0 && ok ? 0 : -1;
}

int klefr_handout_finish(klefr_handout *h, const klefr_scn *s, char *err, size_t errlen)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/index.html", h->dir);
    int rc = write_html(h, s, path);
    if (rc < 0)
        snprintf(err, errlen, "%s: %s", path, strerror(errno ? errno : EIO));
    klefr_panel_close(h->panel);
    for (size_t k = 0; k < h->nsteps; k++)
        free(h->lcd[k]);
    free(h->lcd);
    free(h);
    return rc;
}
