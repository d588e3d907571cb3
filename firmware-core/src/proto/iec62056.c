/* IEC 62056-21 optical port slave engine, mode C: sign-on, identification,
 * option select, data readout and programming mode. One handler per state;
 * the meter only through its view (iec62056.h).
 *
 *   master  /?[addr]!CRLF          ACK 0 Z Y CRLF
 *   meter          |tr| /KLF5ident CRLF      <switch to Z>|tr| data or P0 ...
 *           300 baud ----------------------------------->|<- Z baud ------->
 *
 *   IDLE --sign-on--> IDENTIFIED --Y=0--> READOUT --data left--> IDLE (300)
 *                                --Y=1--> PROGRAMMING --B0 / 120 s--> IDLE (300)
 *
 * The line is 7E1; on a pty parity is invisible, so bit 7 of every received
 * byte is ignored, and the meter sends plain 7-bit ASCII. */
#include "proto/iec62056.h"

#include <string.h>

#include "proto/trace_text.h"
#include "proto/uart_time.h"

static const char *const state_names[KLEFR_IEC_STATE_COUNT] = {
    [KLEFR_IEC_IDLE] = "IDLE",
    [KLEFR_IEC_IDENTIFIED] = "IDENTIFIED",
    [KLEFR_IEC_READOUT] = "READOUT",
    [KLEFR_IEC_PROGRAMMING] = "PROGRAMMING",
};

const char *klefr_iec_state_to_str(klefr_iec_state st)
{
    return st < KLEFR_IEC_STATE_COUNT ? state_names[st] : "?";
}

uint8_t klefr_iec_bcc(const uint8_t *data, size_t len)
{
    uint8_t b = 0;
    for (size_t k = 0; k < len; k++)
        b ^= data[k];
    return b & 0x7Fu;
}

uint32_t klefr_iec_baud_of(char z)
{
    static const uint32_t bauds[] = {300, 600, 1200, 2400, 4800, 9600, 19200};
    return z >= '0' && z <= '6' ? bauds[z - '0'] : 0;
}

/* The optical port's line: 7E1 at baud. */
static klefr_uart_cfg line_cfg(uint32_t baud)
{
    return (klefr_uart_cfg){
        .baud = baud, .data_bits = 7, .parity = KLEFR_PARITY_EVEN, .stop_bits = 1};
}

/* ---- trace: text with control characters named ---- */
static void trace(klefr_iec *s, const char *what, const uint8_t *d, size_t n, uint64_t t_us)
{
    static const char *const names[] = {"<NUL>", "<SOH>", "<STX>", "<ETX>", "<EOT>", "?", "<ACK>"};
    if (!klefr_tracing(&s->view.trace))
        return;
    char line[240];
    klefr_tbuf b = {line, 0, sizeof line};
    klefr_tb_str(&b, "iec: ");
    klefr_tb_str(&b, what);
    bool has_bcc =
        n > 2 && (d[0] == KLEFR_IEC_SOH || d[0] == KLEFR_IEC_STX) && d[n - 2] == KLEFR_IEC_ETX;
    for (size_t i = 0; i < n && b.n + 24 < b.cap; i++) { /* room left for the time */
        uint8_t c = d[i] & 0x7Fu;
        char text[2] = {(char)c, 0};
        klefr_tb_str(&b, i == n - 1 && has_bcc ? "<BCC>"
                         : c < 7               ? names[c]
                         : c == '\r'           ? "<CR>"
                         : c == '\n'           ? "<LF>"
                         : c == KLEFR_IEC_NAK  ? "<NAK>"
                         : c >= 32 && c < 127  ? text
                                               : "?");
    }
    klefr_tb_time(&b, t_us);
    klefr_trace_line(&s->view.trace, line);
}

static void set_state(klefr_iec *s, klefr_iec_state st, uint64_t t_us)
{
    if (s->state == st)
        return;
    if (klefr_tracing(&s->view.trace)) {
        char what[64] = "state ";
        strcat(what, klefr_iec_state_to_str(s->state));
        strcat(what, " -> ");
        strcat(what, klefr_iec_state_to_str(st));
        trace(s, what, NULL, 0, t_us);
    }
    s->state = st;
    s->len = 0;
    s->bad = false;
    s->want_bcc = false;
    s->in_msg = false;
}

/* Traffic for this meter: the communication icon stays lit from end_us. */
static void icon(const klefr_iec *s, uint64_t end_us)
{
    if (s->view.frame_for_me)
        s->view.frame_for_me(s->view.arg, end_us);
}

/* ---- line settings: change only when the meter's last message left ---- */
static void apply_cfg(klefr_iec *s, uint64_t t_us)
{
    if (!s->cfg_pending || t_us < s->tx_end_us)
        return;
    s->cfg_pending = false;
    s->baud = s->next_baud;
    klefr_uart_cfg cfg = line_cfg(s->baud);
    if (s->view.uart_config)
        s->view.uart_config(s->view.arg, &cfg, t_us);
}

static void switch_baud(klefr_iec *s, uint32_t baud, uint64_t t_us)
{
    s->next_baud = baud;
    s->cfg_pending = true;
    apply_cfg(s, t_us);
}

static void to_idle(klefr_iec *s, uint64_t t_us)
{
    set_state(s, KLEFR_IEC_IDLE, t_us);
    s->logged_in = false;
    switch_baud(s, KLEFR_IEC_START_BAUD, t_us);
}

/* ---- transmit: pieces of KLEFR_IEC_CHUNK, back to back on the line ---- */
typedef struct {
    klefr_iec *s;
    uint8_t buf[KLEFR_IEC_CHUNK];
    size_t n;
    uint64_t t;     /* start of the next piece on the line */
    uint8_t bcc;    /* running BCC */
    bool in_bcc;    /* after the first SOH/STX */
    bool trace_all; /* trace the message as one text (short messages) */
} writer;

static void w_flush(writer *w)
{
    klefr_iec *s = w->s;
    if (!w->n)
        return;
    if (s->view.uart_write)
        s->view.uart_write(s->view.arg, w->buf, w->n, w->t);
    klefr_uart_cfg cfg = line_cfg(s->baud);
    w->t += (uint64_t)w->n * klefr_uart_char_us(&cfg);
    s->tx_end_us = w->t;
    icon(s, w->t);
    w->n = 0;
}

static void w_byte(writer *w, uint8_t c)
{
    if (w->in_bcc)
        w->bcc ^= c;
    else if (c == KLEFR_IEC_SOH || c == KLEFR_IEC_STX)
        w->in_bcc = true;
    if (w->n == sizeof w->buf)
        w_flush(w);
    w->buf[w->n++] = c;
}

static void w_str(writer *w, const char *s)
{
    while (*s)
        w_byte(w, (uint8_t)*s++);
}

static void w_bcc(writer *w)
{
    w_byte(w, w->bcc & 0x7Fu);
}

static writer w_begin(klefr_iec *s, uint64_t t_us)
{
    return (writer){.s = s, .t = t_us + KLEFR_IEC_REACTION_US};
}

/* A short programming-mode reply: kept for a NAK to repeat. */
static void reply(klefr_iec *s, const uint8_t *d, size_t n, uint64_t t_us)
{
    if (n > KLEFR_IEC_LAST)
        n = KLEFR_IEC_LAST;
    if (d != s->last)
        memcpy(s->last, d, n);
    s->last_len = (uint16_t)n;
    trace(s, "tx ", d, n, t_us + KLEFR_IEC_REACTION_US);
    writer w = w_begin(s, t_us);
    for (size_t k = 0; k < n; k++)
        w_byte(&w, d[k]);
    w_flush(&w);
}

/* STX text ETX BCC (a programming-mode data message). */
static void reply_data(klefr_iec *s, const char *text, uint64_t t_us)
{
    uint8_t b[KLEFR_IEC_LAST];
    size_t n = 0;
    b[n++] = KLEFR_IEC_STX;
    while (*text && n < sizeof b - 2)
        b[n++] = (uint8_t)*text++;
    b[n++] = KLEFR_IEC_ETX;
    b[n] = klefr_iec_bcc(b + 1, n - 1);
    reply(s, b, n + 1, t_us);
}

static void reply_error(klefr_iec *s, uint64_t t_us)
{
    reply_data(s, "(ERROR)", t_us);
}

static void reply_byte(klefr_iec *s, uint8_t c, uint64_t t_us)
{
    reply(s, &c, 1, t_us);
}

/* ---- messages ---- */

/* Digits without leading zeros (an address of only zeros is "0"). */
static size_t skip_zeros(const char *s, size_t n, const char **out)
{
    while (n > 1 && *s == '0') {
        s++;
        n--;
    }
    *out = s;
    return n;
}

/* "/?" [address] "!" CR LF: empty address or our serial (leading zeros
 * ignored on both sides). */
static bool sign_on_for_us(const klefr_iec *s, const uint8_t *b, size_t n)
{
    if (n < 5 || b[0] != '/' || b[1] != '?' || b[n - 3] != '!' || b[n - 2] != '\r' ||
        b[n - 1] != '\n')
        return false;
    size_t alen = n - 5;
    if (!alen)
        return true;
    char serial[9];
    s->view.address(s->view.arg, serial);
    const char *a, *sn;
    size_t al = skip_zeros((const char *)b + 2, alen, &a);
    size_t sl = skip_zeros(serial, 8, &sn);
    return al == sl && !memcmp(a, sn, sl);
}

static void send_identification(klefr_iec *s, uint64_t t_us)
{
    writer w = w_begin(s, t_us);
    w_str(&w, "/" KLEFR_IEC_MANUFACTURER);
    w_byte(&w, KLEFR_IEC_BAUD_CHAR);
    w_str(&w, s->view.ident);
    w_str(&w, "\r\n");
    trace(s, "tx ", w.buf, w.n, w.t);
    w_flush(&w);
}

/* STX data lines "!" CR LF ETX BCC, at the new baud. */
static void send_readout(klefr_iec *s, uint64_t t_us)
{
    writer w = w_begin(s, t_us);
    trace(s, "tx data readout", NULL, 0, w.t);
    w_byte(&w, KLEFR_IEC_STX);
    size_t pos = 0;
    const char *code;
    char v[KLEFR_IEC_VALUE];
    while (s->view.readout(s->view.arg, &pos, &code, v)) {
        w_str(&w, code);
        w_byte(&w, '(');
        w_str(&w, v);
        w_str(&w, ")\r\n");
    }
    w_str(&w, "!\r\n");
    w_byte(&w, KLEFR_IEC_ETX);
    w_bcc(&w);
    w_flush(&w);
    /* The port is back at 300 baud from the readout's last stop bit (the
     * state follows at the next tick or byte): a sign-on right after it is
     * heard whole. */
    klefr_uart_cfg idle = line_cfg(KLEFR_IEC_START_BAUD);
    if (s->view.uart_config)
        s->view.uart_config(s->view.arg, &idle, s->tx_end_us);
}

static void send_p0(klefr_iec *s, uint64_t t_us)
{
    char serial[9];
    s->view.address(s->view.arg, serial);
    uint8_t b[24];
    size_t n = 0;
    b[n++] = KLEFR_IEC_SOH;
    b[n++] = 'P';
    b[n++] = '0';
    b[n++] = KLEFR_IEC_STX;
    b[n++] = '(';
    memcpy(b + n, serial, 8);
    n += 8;
    b[n++] = ')';
    b[n++] = KLEFR_IEC_ETX;
    b[n] = klefr_iec_bcc(b + 1, n - 1);
    reply(s, b, n + 1, t_us);
}

/* The data set "addr(value)" after STX: split into address and value. */
static bool data_set(const uint8_t *d, size_t n, const char **addr, size_t *alen, char *val,
                     size_t vcap)
{
    const uint8_t *open = memchr(d, '(', n);
    if (!open || n < 2 || d[n - 1] != ')')
        return false;
    size_t vl = (size_t)(d + n - 1 - open - 1);
    if (vl >= vcap || memchr(open + 1, '(', vl) || memchr(open + 1, ')', vl))
        return false;
    *addr = (const char *)d;
    *alen = (size_t)(open - d);
    memcpy(val, open + 1, vl);
    val[vl] = 0;
    return true;
}

/* P1 (password): 1..8 digits, compared by value with the 4-digit password,
 * so "1234" and "00001234" both open a meter whose password is 1234. */
static bool password_ok(const klefr_iec *s, const char *v)
{
    size_t n = strlen(v);
    uint32_t x = 0;
    if (n < 1 || n > 8)
        return false;
    for (size_t k = 0; k < n; k++) {
        if (v[k] < '0' || v[k] > '9')
            return false;
        x = x * 10u + (uint32_t)(v[k] - '0');
    }
    return x == s->view.password(s->view.arg);
}

/* A programming command with a good BCC: b = C D [STX data] ETX. */
static void command(klefr_iec *s, const uint8_t *b, size_t n, uint64_t t_us)
{
    char cmd = (char)b[0], d = n > 1 ? (char)b[1] : 0;
    if (cmd == 'B') { /* break: no reply, back to 300 baud */
        to_idle(s, t_us);
        return;
    }
    const char *addr = NULL;
    size_t alen = 0;
    char val[KLEFR_IEC_BUF];
    if (n < 5 || b[2] != KLEFR_IEC_STX || d != '1' ||
        !data_set(b + 3, n - 4, &addr, &alen, val, sizeof val)) {
        reply_error(s, t_us);
        return;
    }
    if (cmd == 'P') {
        s->logged_in = alen == 0 && password_ok(s, val);
        if (s->logged_in)
            reply_byte(s, KLEFR_IEC_ACK, t_us);
        else
            reply_error(s, t_us);
        return;
    }
    if (cmd == 'R') {
        char v[KLEFR_IEC_VALUE];
        /* no item's code is longer: a longer address is no item */
        if (alen > 15 || !s->view.read(s->view.arg, addr, alen, s->logged_in, v)) {
            reply_error(s, t_us);
            return;
        }
        char text[16 + 1 + KLEFR_IEC_VALUE + 1]; /* addr ( value ) */
        memcpy(text, addr, alen);
        size_t k = alen;
        text[k++] = '(';
        strcpy(text + k, v);
        strcat(text, ")");
        reply_data(s, text, t_us);
        return;
    }
    if (cmd == 'W') {
        const char *name = "";
        if (!s->logged_in || !s->view.write(s->view.arg, addr, alen, val, t_us, &name)) {
            reply_error(s, t_us);
            return;
        }
        trace(s, "written ", (const uint8_t *)name, strlen(name), t_us);
        reply_byte(s, KLEFR_IEC_ACK, t_us);
        return;
    }
    reply_error(s, t_us);
}

/* ---- one handler per state ---- */

/* Throw away what was collected (junk, or a message cut short). */
static void discard(klefr_iec *s)
{
    s->dropped += s->len;
    s->len = 0;
    s->bad = false;
    s->in_msg = false;
}

static void append(klefr_iec *s, uint8_t c)
{
    if (s->len == KLEFR_IEC_BUF) { /* too long for any message: junk */
        discard(s);
        return;
    }
    s->buf[s->len++] = c;
}

/* IDLE and IDENTIFIED: collect a line that begins with start and ends with
 * LF (anything before start is junk); true when c completed it. */
static bool collect_line(klefr_iec *s, uint8_t c, bool err, uint8_t start)
{
    if (c == start) {
        discard(s);
    } else if (!s->len) {
        if (c) /* leading NULs are wake-up characters */
            s->dropped++;
        return false;
    }
    s->bad |= err;
    append(s, c);
    return c == '\n' && s->len;
}

/* IDLE: collect "/" ... LF, answer a sign-on for us. */
static void on_idle(klefr_iec *s, uint8_t c, bool err, uint64_t t_us)
{
    if (!collect_line(s, c, err, '/'))
        return;
    trace(s, "rx ", s->buf, s->len, t_us);
    bool ok = !s->bad && sign_on_for_us(s, s->buf, s->len);
    s->len = 0;
    s->bad = false;
    if (!ok)
        return;
    icon(s, t_us);
    set_state(s, KLEFR_IEC_IDENTIFIED, t_us);
    send_identification(s, t_us);
}

/* IDENTIFIED: ACK 0 Z Y CR LF selects the mode and the baud. */
static void on_identified(klefr_iec *s, uint8_t c, bool err, uint64_t t_us)
{
    if (c == '/') { /* a new sign-on instead */
        set_state(s, KLEFR_IEC_IDLE, t_us);
        on_idle(s, c, err, t_us);
        return;
    }
    if (!collect_line(s, c, err, KLEFR_IEC_ACK))
        return;
    trace(s, "rx ", s->buf, s->len, t_us);
    const uint8_t *b = s->buf;
    bool ok = !s->bad && s->len == 6 && b[1] == '0' && b[2] >= '0' && b[2] <= KLEFR_IEC_BAUD_CHAR &&
              (b[3] == '0' || b[3] == '1') && b[4] == '\r';
    if (!ok) { /* not a valid option select: the session ends */
        to_idle(s, t_us);
        return;
    }
    bool prog = b[3] == '1';
    s->sessions++;
    icon(s, t_us);
    switch_baud(s, klefr_iec_baud_of((char)b[2]), t_us);
    if (prog) {
        set_state(s, KLEFR_IEC_PROGRAMMING, t_us);
        s->logged_in = false;
        send_p0(s, t_us);
    } else {
        set_state(s, KLEFR_IEC_READOUT, t_us);
        send_readout(s, t_us);
    }
}

/* READOUT: the data message is going out; the line is not listened to. */
static void on_readout(klefr_iec *s, uint8_t c, bool err, uint64_t t_us)
{
    (void)c;
    (void)err;
    (void)t_us;
    s->dropped++;
}

/* PROGRAMMING: SOH ... ETX BCC messages, or a bare NAK. */
static void on_programming(klefr_iec *s, uint8_t c, bool err, uint64_t t_us)
{
    if (s->want_bcc) {
        uint8_t calc = klefr_iec_bcc(s->buf, s->len);
        bool ok = !s->bad && !err && calc == c;
        uint8_t msg[KLEFR_IEC_BUF];
        size_t n = s->len;
        memcpy(msg, s->buf, n);
        s->len = 0;
        s->bad = false;
        s->want_bcc = false;
        s->in_msg = false;
        if (klefr_tracing(&s->view.trace)) {
            uint8_t t[KLEFR_IEC_BUF + 2];
            t[0] = KLEFR_IEC_SOH;
            memcpy(t + 1, msg, n);
            t[n + 1] = c;
            trace(s, ok ? "rx " : "rx (bad BCC) ", t, n + 2, t_us);
        }
        icon(s, t_us);
        if (!ok) {
            s->bcc_errors++;
            reply_byte(s, KLEFR_IEC_NAK, t_us);
            return;
        }
        command(s, msg, n, t_us);
        return;
    }
    if (err) { /* a garbled character is no control character */
        if (!s->in_msg) {
            s->dropped++;
            return;
        }
        s->bad = true;
        append(s, c);
        return;
    }
    if (c == KLEFR_IEC_SOH) {
        discard(s);
        s->in_msg = true;
        return;
    }
    if (!s->in_msg) {
        if (c == KLEFR_IEC_NAK && s->last_len) {
            trace(s, "rx <NAK>: repeat", NULL, 0, t_us);
            reply(s, s->last, s->last_len, t_us);
        } else {
            s->dropped++;
        }
        return;
    }
    append(s, c);
    if (c == KLEFR_IEC_ETX && s->len)
        s->want_bcc = true;
}

typedef void (*rx_handler)(klefr_iec *s, uint8_t c, bool err, uint64_t t_us);
static const rx_handler handlers[KLEFR_IEC_STATE_COUNT] = {
    [KLEFR_IEC_IDLE] = on_idle,
    [KLEFR_IEC_IDENTIFIED] = on_identified,
    [KLEFR_IEC_READOUT] = on_readout,
    [KLEFR_IEC_PROGRAMMING] = on_programming,
};

void klefr_iec_init(klefr_iec *s, const klefr_iec_view *view, uint64_t t_us)
{
    memset(s, 0, sizeof *s);
    s->view = *view;
    s->state = KLEFR_IEC_IDLE;
    s->last_us = t_us;
    switch_baud(s, KLEFR_IEC_START_BAUD, t_us);
}

/* The optical port is half duplex: a master that sends has heard the end
 * of our last message (it may be early in virtual time when the platform
 * delivers bytes without line timing), so the line is ours again. */
static void line_turned(klefr_iec *s, uint64_t t_us)
{
    if (s->tx_end_us > t_us)
        s->tx_end_us = t_us;
}

/* The readout has left the wire: back to 300 baud from its last stop bit,
 * not from a later tick, so a sign-on right after it is heard. */
static void readout_done(klefr_iec *s, uint64_t t_us)
{
    if (s->state == KLEFR_IEC_READOUT && t_us >= s->tx_end_us)
        to_idle(s, s->tx_end_us);
}

void klefr_iec_rx(klefr_iec *s, uint8_t byte, uint8_t flags, uint64_t t_us)
{
    if (!flags)
        line_turned(s, t_us);
    readout_done(s, t_us);
    apply_cfg(s, t_us);
    s->last_us = t_us;
    /* 7E1: bit 7 is the parity bit (or 0 on a line without parity). */
    handlers[s->state](s, byte & 0x7Fu, flags != 0, t_us);
}

void klefr_iec_tick(klefr_iec *s, uint64_t t_us)
{
    apply_cfg(s, t_us);
    uint64_t quiet_since = s->last_us > s->tx_end_us ? s->last_us : s->tx_end_us;
    switch (s->state) {
    case KLEFR_IEC_READOUT:
        readout_done(s, t_us);
        break;
    case KLEFR_IEC_IDENTIFIED:
        if (t_us > quiet_since + KLEFR_IEC_ACK_TIMEOUT_US)
            to_idle(s, t_us);
        break;
    case KLEFR_IEC_PROGRAMMING:
        if (t_us > quiet_since + KLEFR_IEC_INACTIVITY_US) {
            trace(s, "inactivity timeout", NULL, 0, t_us);
            to_idle(s, t_us);
        }
        break;
    default:
        break;
    }
}
