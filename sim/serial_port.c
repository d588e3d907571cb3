#include "serial_port.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

size_t klefr_parmrk_decode(klefr_parmrk *st, const uint8_t *in, size_t n, uint8_t *out,
                           uint8_t *flags, uint8_t err)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        uint8_t c = in[i];
        switch (st->state) {
        case 0:
            if (c == 0xFF)
                st->state = 1;
            else {
                out[k] = c;
                flags[k++] = 0;
            }
            break;
        case 1:
            if (c == 0xFF) { /* a literal FF */
                out[k] = 0xFF;
                flags[k++] = 0;
                st->state = 0;
            } else if (c == 0x00) {
                st->state = 2;
            } else { /* not a marker (the tty was not in PARMRK yet): both as they are */
                out[k] = 0xFF;
                flags[k++] = 0;
                out[k] = c;
                flags[k++] = 0;
                st->state = 0;
            }
            break;
        default: /* FF 00 x: x had an error; FF 00 00 is a break */
            out[k] = c;
            flags[k++] = c == 0x00 ? KLEFR_RX_ERR_FRAMING : err;
            st->state = 0;
            break;
        }
    }
    return k;
}

int klefr_serial_mark_errors(int fd)
{
    struct termios t;
    if (tcgetattr(fd, &t))
        return -1;
    t.c_iflag |= INPCK | PARMRK;
    t.c_iflag &= ~(tcflag_t)(IGNPAR | ISTRIP | IGNBRK | BRKINT);
    return tcsetattr(fd, TCSANOW, &t);
}

static uint8_t err_flag(const klefr_serial *s)
{
    return s->applied.parity != KLEFR_PARITY_NONE ? KLEFR_RX_ERR_PARITY : KLEFR_RX_ERR_FRAMING;
}

int klefr_serial_read(klefr_serial *s, uint8_t *data, uint8_t *flags, size_t cap)
{
    uint8_t raw[512];
    if (cap < 2)
        return 0;
    /* At most one character per byte read, plus an FF held back by the last
     * read when the byte after it turns out not to be a marker. */
    if (cap > sizeof raw + 1)
        cap = sizeof raw + 1;
    ssize_t r = read(s->fd, raw, cap - 1);
    if (r < 0)
        return errno == EAGAIN || errno == EINTR ? 0 : -1;
    return (int)klefr_parmrk_decode(&s->mrk, raw, (size_t)r, data, flags, err_flag(s));
}

int klefr_serial_write(klefr_serial *s, const uint8_t *data, size_t n)
{
    ssize_t w = write(s->fd, data, n);
    if (w < 0)
        return errno == EAGAIN || errno == EINTR ? 0 : -1;
    return (int)w;
}

#ifdef KLEFR_HAVE_LIBSERIALPORT
#include <libserialport.h>

static int apply(struct sp_port *p, const klefr_uart_cfg *c)
{
    enum sp_parity par = c->parity == KLEFR_PARITY_EVEN  ? SP_PARITY_EVEN
                         : c->parity == KLEFR_PARITY_ODD ? SP_PARITY_ODD
                                                         : SP_PARITY_NONE;
    if (sp_set_baudrate(p, (int)c->baud) != SP_OK || sp_set_bits(p, c->data_bits) != SP_OK ||
        sp_set_parity(p, par) != SP_OK || sp_set_stopbits(p, c->stop_bits) != SP_OK ||
        sp_set_flowcontrol(p, SP_FLOWCONTROL_NONE) != SP_OK)
        return -1;
    /* libserialport rewrites c_iflag (IGNPAR for no parity): mark errors again */
    int fd;
    if (sp_get_port_handle(p, &fd) != SP_OK || klefr_serial_mark_errors(fd))
        return -1;
    return 0;
}

int klefr_serial_open(klefr_serial *s, const char *name, const klefr_uart_cfg *cfg, char *err,
                      int errlen)
{
    struct sp_port *p;
    memset(s, 0, sizeof *s);
    s->fd = -1;
    if (sp_get_port_by_name(name, &p) != SP_OK) {
        snprintf(err, (size_t)errlen, "%s: no such serial port", name);
        return -1;
    }
    if (sp_open(p, SP_MODE_READ_WRITE) != SP_OK || apply(p, cfg)) {
        char *msg = sp_last_error_message();
        snprintf(err, (size_t)errlen, "%s: %s", name, msg ? msg : "cannot open");
        sp_free_error_message(msg);
        sp_close(p);
        sp_free_port(p);
        return -1;
    }
    int fd;
    sp_get_port_handle(p, &fd);
    s->sp = p;
    s->fd = fd;
    s->applied = *cfg;
    return 0;
}

static int same(const klefr_uart_cfg *a, const klefr_uart_cfg *b)
{
    return a->baud == b->baud && a->data_bits == b->data_bits && a->parity == b->parity &&
           a->stop_bits == b->stop_bits;
}

int klefr_serial_config(klefr_serial *s, const klefr_uart_cfg *cfg)
{
    if (!s->sp || same(&s->applied, cfg))
        return 0;
    sp_drain(s->sp);
    s->applied = *cfg;
    return apply(s->sp, cfg);
}

void klefr_serial_close(klefr_serial *s)
{
    if (s->sp) {
        sp_close(s->sp);
        sp_free_port(s->sp);
    }
    s->sp = NULL;
    s->fd = -1;
}
#else
int klefr_serial_open(klefr_serial *s, const char *name, const klefr_uart_cfg *cfg, char *err,
                      int errlen)
{
    (void)cfg;
    memset(s, 0, sizeof *s);
    s->fd = -1;
    snprintf(err, (size_t)errlen, "%s: built without libserialport", name);
    return -1;
}
int klefr_serial_config(klefr_serial *s, const klefr_uart_cfg *cfg)
{
    (void)s;
    (void)cfg;
    return -1;
}
void klefr_serial_close(klefr_serial *s)
{
    (void)s;
}
#endif
