#include "rfc2217.h"

#include <string.h>

/* telnet */
#define IAC 255
#define DONT 254
#define DO 253
#define WONT 252
#define WILL 251
#define SB 250
#define SE 240
#define OPT_BINARY 0
#define OPT_SGA 3
#define OPT_COMPORT 44

/* COM-PORT-OPTION commands (client -> server; the answer is + 100) */
#define CP_SIGNATURE 0
#define CP_SET_BAUDRATE 1
#define CP_SET_DATASIZE 2
#define CP_SET_PARITY 3
#define CP_SET_STOPSIZE 4
#define CP_SET_CONTROL 5
#define CP_NOTIFY_LINESTATE 6
#define CP_NOTIFY_MODEMSTATE 7
#define CP_SET_LINESTATE_MASK 10
#define CP_SET_MODEMSTATE_MASK 11
#define CP_PURGE_DATA 12
#define CP_SERVER 100

#define LS_PARITY 0x04
#define LS_FRAMING 0x08
#define MS_CD_DSR_CTS 0xB0 /* a device server with its port connected */

enum { M_DATA, M_IAC, M_NEG, M_SB, M_SB_IAC };

static void put(klefr_bytes *b, uint8_t c)
{
    if (b->n < b->cap)
        b->p[b->n++] = c;
    else
        b->lost++;
}

static void put3(klefr_bytes *b, uint8_t a, uint8_t c, uint8_t d)
{
    put(b, a);
    put(b, c);
    put(b, d);
}

/* IAC SB COM-PORT cmd value.. IAC SE, IAC in the value doubled */
static void sub(klefr_bytes *b, uint8_t cmd, const uint8_t *v, size_t n)
{
    put3(b, IAC, SB, OPT_COMPORT);
    put(b, cmd);
    for (size_t k = 0; k < n; k++) {
        put(b, v[k]);
        if (v[k] == IAC)
            put(b, IAC);
    }
    put(b, IAC);
    put(b, SE);
}

/* Bit of an option we support, 0 for others. */
static uint8_t opt_bit(uint8_t opt)
{
    return opt == OPT_BINARY ? 1 : opt == OPT_SGA ? 2 : opt == OPT_COMPORT ? 4 : 0;
}

void klefr_rfc2217_start(klefr_rfc2217 *t, const klefr_uart_cfg *cfg, klefr_bytes *out)
{
    memset(t, 0, sizeof *t);
    t->cfg = *cfg;
    t->modemstate_mask = 0xFF;
    t->dtr = t->rts = true;
    /* offer what a serial port server does; the client answers each once */
    static const uint8_t offer[][2] = {{WILL, OPT_BINARY}, {DO, OPT_BINARY}, {WILL, OPT_SGA},
                                       {DO, OPT_SGA},      {WILL, OPT_COMPORT}};
    for (size_t k = 0; k < sizeof offer / sizeof offer[0]; k++) {
        put3(out, IAC, offer[k][0], offer[k][1]);
        if (offer[k][0] == WILL)
            t->us |= opt_bit(offer[k][1]);
        else
            t->them |= opt_bit(offer[k][1]);
    }
}

/* DO/DONT/WILL/WONT: agree to what we support, refuse the rest, and answer
 * only a change (no negotiation loops). */
static void negotiate(klefr_rfc2217 *t, uint8_t cmd, uint8_t opt, klefr_bytes *out)
{
    uint8_t bit = opt_bit(opt);
    switch (cmd) {
    case DO:
        if (!bit)
            put3(out, IAC, WONT, opt);
        else if (!(t->us & bit)) {
            t->us |= bit;
            put3(out, IAC, WILL, opt);
        }
        break;
    case DONT:
        if (t->us & bit) {
            t->us &= (uint8_t)~bit;
            put3(out, IAC, WONT, opt);
        }
        break;
    case WILL:
        if (!bit)
            put3(out, IAC, DONT, opt);
        else if (!(t->them & bit)) {
            t->them |= bit;
            put3(out, IAC, DO, opt);
        }
        if (opt == OPT_COMPORT)
            t->comport = true;
        break;
    case WONT:
        if (t->them & bit) {
            t->them &= (uint8_t)~bit;
            put3(out, IAC, DONT, opt);
        }
        if (opt == OPT_COMPORT)
            t->comport = false;
        break;
    }
}

static uint8_t parity_code(klefr_parity p)
{
    return p == KLEFR_PARITY_ODD ? 2 : p == KLEFR_PARITY_EVEN ? 3 : 1;
}

/* SET-CONTROL: the value in force for a request or a setting. */
static uint8_t control(klefr_rfc2217 *t, uint8_t v)
{
    switch (v) {
    case 0:  /* request flow control setting */
    case 1:  /* no flow control */
    case 2:  /* XON/XOFF: not on this port */
    case 3:  /* RTS/CTS: not on this port */
        return 1;
    case 4: /* request break state */
    case 6: /* break off */
        return 6;
    case 5: /* break on: held by the client, nothing to send on the line */
        return 5;
    case 7: /* request DTR */
        return t->dtr ? 8 : 9;
    case 8:
    case 9:
        t->dtr = v == 8;
        return v;
    case 10: /* request RTS */
        return t->rts ? 11 : 12;
    case 11:
    case 12:
        t->rts = v == 11;
        return v;
    default: /* inbound flow control: none */
        return 14;
    }
}

static unsigned comport(klefr_rfc2217 *t, const uint8_t *s, size_t n, klefr_bytes *out)
{
    if (n < 1)
        return 0;
    uint8_t cmd = s[0];
    const uint8_t *v = s + 1;
    size_t vn = n - 1;
    unsigned set = 0;
    switch (cmd) {
    case CP_SIGNATURE: {
        static const char sig[] = "klefr-sim";
        sub(out, CP_SERVER + cmd, (const uint8_t *)sig, sizeof sig - 1);
        break;
    }
    case CP_SET_BAUDRATE: {
        if (vn >= 4) {
            uint32_t b = (uint32_t)v[0] << 24 | (uint32_t)v[1] << 16 | (uint32_t)v[2] << 8 | v[3];
            if (b >= 50 && b <= 4000000) {
                t->cfg.baud = b;
                set |= KLEFR_2217_SET_BAUD;
            }
        }
        uint8_t a[4] = {(uint8_t)(t->cfg.baud >> 24), (uint8_t)(t->cfg.baud >> 16),
                        (uint8_t)(t->cfg.baud >> 8), (uint8_t)t->cfg.baud};
        sub(out, CP_SERVER + cmd, a, 4);
        break;
    }
    case CP_SET_DATASIZE:
        if (vn >= 1 && v[0] >= 5 && v[0] <= 8) {
            t->cfg.data_bits = v[0];
            set |= KLEFR_2217_SET_DATA_BITS;
        }
        sub(out, CP_SERVER + cmd, &t->cfg.data_bits, 1);
        break;
    case CP_SET_PARITY: {
        if (vn >= 1 && v[0] >= 1 && v[0] <= 3) { /* mark and space: not supported */
            t->cfg.parity = v[0] == 2 ? KLEFR_PARITY_ODD : v[0] == 3 ? KLEFR_PARITY_EVEN
                                                                     : KLEFR_PARITY_NONE;
            set |= KLEFR_2217_SET_PARITY;
        }
        uint8_t a = parity_code(t->cfg.parity);
        sub(out, CP_SERVER + cmd, &a, 1);
        break;
    }
    case CP_SET_STOPSIZE: {
        if (vn >= 1 && (v[0] == 1 || v[0] == 2)) { /* 3 = 1.5: not supported */
            t->cfg.stop_bits = v[0];
            set |= KLEFR_2217_SET_STOP_BITS;
        }
        sub(out, CP_SERVER + cmd, &t->cfg.stop_bits, 1);
        break;
    }
    case CP_SET_CONTROL:
        if (vn >= 1) {
            uint8_t a = control(t, v[0]);
            sub(out, CP_SERVER + cmd, &a, 1);
        }
        break;
    case CP_NOTIFY_MODEMSTATE: {
        uint8_t a = MS_CD_DSR_CTS & t->modemstate_mask;
        sub(out, CP_SERVER + cmd, &a, 1);
        break;
    }
    case CP_SET_LINESTATE_MASK:
    case CP_SET_MODEMSTATE_MASK:
        if (vn >= 1) {
            *(cmd == CP_SET_LINESTATE_MASK ? &t->linestate_mask : &t->modemstate_mask) = v[0];
            sub(out, CP_SERVER + cmd, v, 1);
        }
        break;
    case CP_PURGE_DATA: /* nothing is buffered between the client and the line */
        if (vn >= 1)
            sub(out, CP_SERVER + cmd, v, 1);
        break;
    default: /* NOTIFY-LINESTATE from a client, flow control suspend/resume: nothing */
        break;
    }
    return set;
}

unsigned klefr_rfc2217_input(klefr_rfc2217 *t, const uint8_t *in, size_t n, klefr_bytes *data,
                             klefr_bytes *out)
{
    unsigned set = 0;
    for (size_t k = 0; k < n; k++) {
        uint8_t c = in[k];
        switch (t->mode) {
        case M_DATA:
            if (c == IAC)
                t->mode = M_IAC;
            else
                put(data, c);
            break;
        case M_IAC:
            if (c == IAC) {
                put(data, IAC);
                t->mode = M_DATA;
            } else if (c == SB) {
                t->sbn = 0;
                t->sb_long = false;
                t->mode = M_SB;
            } else if (c >= WILL && c <= DONT) {
                t->neg = c;
                t->mode = M_NEG;
            } else { /* NOP, AYT, BRK...: nothing to do for a meter's line */
                t->mode = M_DATA;
            }
            break;
        case M_NEG:
            negotiate(t, t->neg, c, out);
            t->mode = M_DATA;
            break;
        case M_SB:
            if (c == IAC)
                t->mode = M_SB_IAC;
            else if (t->sbn < sizeof t->sb)
                t->sb[t->sbn++] = c;
            else
                t->sb_long = true;
            break;
        case M_SB_IAC:
            if (c == IAC) {
                if (t->sbn < sizeof t->sb)
                    t->sb[t->sbn++] = IAC;
                t->mode = M_SB;
            } else { /* SE (or a broken one): the subnegotiation is complete */
                if (!t->sb_long && t->sbn >= 1 && t->sb[0] == OPT_COMPORT)
                    set |= comport(t, t->sb + 1, t->sbn - 1, out);
                t->mode = M_DATA;
            }
            break;
        }
    }
    return set;
}

void klefr_rfc2217_data(const uint8_t *d, size_t n, klefr_bytes *out)
{
    for (size_t k = 0; k < n; k++) {
        put(out, d[k]);
        if (d[k] == IAC)
            put(out, IAC);
    }
}

void klefr_rfc2217_linestate(const klefr_rfc2217 *t, uint8_t flags, klefr_bytes *out)
{
    uint8_t ls = (uint8_t)((flags & KLEFR_RX_ERR_FRAMING ? LS_FRAMING : 0) |
                           (flags & KLEFR_RX_ERR_PARITY ? LS_PARITY : 0));
    ls &= t->linestate_mask;
    if (ls)
        sub(out, CP_SERVER + CP_NOTIFY_LINESTATE, &ls, 1);
}
