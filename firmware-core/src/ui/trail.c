/* The menu trail in words, for a trainer's display beside the meter: which
 * menu, which page, and what the buttons do there now, e.g.
 * "Program mode 3 > S0 output > editing". Built from the menu state only. */
#include "ui_priv.h"

#include <string.h>

typedef struct {
    char *buf;
    size_t size, len;
} trail_out;

static void append(trail_out *o, const char *s)
{
    size_t n = strlen(s);
    if (n > o->size - 1 - o->len)
        n = o->size - 1 - o->len; /* cut to the buffer */
    memcpy(o->buf + o->len, s, n);
    o->len += n;
    o->buf[o->len] = 0;
}

static void put(trail_out *o, const char *s)
{
    if (o->len > 0)
        append(o, " > ");
    append(o, s);
}

size_t klefr_ui_trail(const klefr_meter *m, char *buf, size_t size)
{
    if (!size)
        return 0;
    trail_out o = {buf, size, 0};
    buf[0] = 0;
    const klefr_ui *ui = &m->ui;
    const klefr_page *p = &klefr_pages[ui->page];
    if (ui->state == KLEFR_MENU_AUTO)
        put(&o, "Automatic scroll");
    else if (p->menu == KLEFR_M_MAIN)
        put(&o, "Main menu");
    else
        put(&o, klefr_pages[klefr_page_parent(p->menu)].name);
    put(&o, p->name);
    switch (ui->state) {
    case KLEFR_MENU_PASSWORD:
        put(&o, "password");
        break;
    case KLEFR_MENU_EDIT:
        put(&o, "editing");
        break;
    case KLEFR_MENU_DAY_RESET:
        put(&o, "reset");
        break;
    case KLEFR_MENU_MESSAGE:
        put(&o, strcmp(ui->msg_mid, "Err") == 0 ? "Err" : ui->msg_low);
        break;
    default:
        break;
    }
    return o.len;
}
