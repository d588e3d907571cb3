/* --lcd-text and --press for klefr-sim (see lcd_text_out.h). */
#include "lcd_text_out.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
    klefr_sim *sim;
    FILE *f;
    char last[160];
    klefr_lcd_fb fb; /* the frame last turned into text (a cheap "unchanged" test) */
    bool have_fb;
    int backlight; /* -1 unknown */
} follower;

static void check(void *arg, uint64_t t_us)
{
    follower *fl = arg;
    const klefr_lcd_fb *fb = &fl->sim->out.lcd;
    /* Runs every slice: format the text only when the frame changed. */
    if (!fl->have_fb || memcmp(fb, &fl->fb, sizeof *fb) != 0) {
        fl->fb = *fb;
        fl->have_fb = true;
        char text[160];
        klefr_lcd_text_line(fb, text, sizeof text);
        if (strcmp(text, fl->last) != 0) {
            snprintf(fl->last, sizeof fl->last, "%s", text);
            fprintf(fl->f, "lcd %.3f %s\n", (double)t_us / 1e6, text);
            fflush(fl->f);
        }
    }
    if (fl->backlight != (int)fl->sim->out.backlight) {
        fl->backlight = fl->sim->out.backlight;
        fprintf(fl->f, "backlight %.3f %s\n", (double)t_us / 1e6, fl->backlight ? "on" : "off");
        fflush(fl->f);
    }
    klefr_sim_event ev = {
        .t_us = t_us + KLEFR_SIM_SLICE_US, .kind = KLEFR_EV_CALL, .fn = check, .arg = fl};
    klefr_sim_post(fl->sim, &ev);
}

int klefr_lcd_text_follow(klefr_sim *s, FILE *f)
{
    follower *fl = calloc(1, sizeof *fl);
    if (!fl)
        return -1;
    fl->sim = s;
    fl->f = f;
    fl->backlight = -1;
    klefr_sim_event ev = {.t_us = s->t_us, .kind = KLEFR_EV_CALL, .fn = check, .arg = fl};
    return klefr_sim_post(s, &ev) ? 0 : -1;
}

static bool post_buttons(klefr_sim *s, uint8_t held, double t_s)
{
    if (!s)
        return true; /* only checking the spec */
    klefr_sim_event ev = {
        .t_us = (uint64_t)(t_s * 1e6 + 0.5), .kind = KLEFR_EV_BUTTONS, .byte = held};
    return klefr_sim_post(s, &ev);
}

int klefr_press_post(klefr_sim *s, const char *spec)
{
    const char *p = spec;
    while (*p) {
        uint8_t held;
        switch (*p) {
        case 'L':
        case 'l':
            held = KLEFR_BTN_LEFT;
            break;
        case 'R':
        case 'r':
            held = KLEFR_BTN_RIGHT;
            break;
        case 'B':
        case 'b':
            held = KLEFR_BTN_LEFT | KLEFR_BTN_RIGHT;
            break;
        default:
            return -1;
        }
        if (*++p != '@')
            return -1;
        char *end;
        double t = strtod(p + 1, &end), d = 0.2;
        if (end == p + 1 || !(t >= 0 && t <= KLEFR_PRESS_MAX_S))
            return -1;
        p = end;
        if (*p == '+') {
            d = strtod(p + 1, &end);
            if (end == p + 1 || !(d > 0 && d <= KLEFR_PRESS_MAX_S))
                return -1;
            p = end;
        }
        if (!post_buttons(s, held, t) || !post_buttons(s, 0, t + d))
            return -1;
        if (*p == ',')
            p++;
        else if (*p)
            return -1;
    }
    return 0;
}
