#include "serial_port.h"

#include <stdio.h>
#include <string.h>

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
