/* The virtual serial wire (line.h): characters on channels at wire times,
 * and one UART receiver per endpoint that samples the wire as hardware does.
 *
 * The wire. Each character a sender queues becomes a bit pattern with a
 * start and end time (ns inside, us at the API): start bit 0, data bits LSB
 * first, parity, stop bits 1. The level of a channel at a time is the
 * wired-AND of every character on it then (a 0 from anyone wins: the M-bus
 * current of two slaves, a dominant driver on RS-485); idle is 1.
 *
 * A receiver. Like a real UART it waits for a falling edge, then samples in
 * the middle of each bit of ITS OWN format (start, data, parity, first stop
 * bit): a start sample of 1 is a glitch; a stop sample of 0 is a framing
 * error; a parity mismatch a parity error. It hears every channel character
 * of the others, never its own. It looks for the next start bit from the
 * middle of the stop bit it just sampled. It delivers the byte at the end of
 * its frame: for a matching sender, exactly the end of the sender's stop bit.
 *
 *   wire     ‾‾‾\_s_/‾d0‾\_d1_/ ... ‾par‾|‾‾stop‾‾|
 *   samples        ^     ^      ...   ^      ^   ^ delivered
 *                  start                     stop sample: next hunt from here
 *
 * Rules that follow (docs/serial.md): a receiver at another baud, with
 * other data bits or parity, decodes whatever its samples give, usually
 * with framing or parity errors; a character overlapped by another sender's
 * (a collision) reaches every receiver as the wired-AND of the two with
 * KLEFR_RX_ERR_FRAMING, since a real bus detects the fight electrically.
 *
 * When the receiver's format equals the sender's and nothing overlapped,
 * sampling would give the sender's byte back: that case skips the sampling
 * (a line of many meters decodes each character in O(1) per meter).
 *
 * Time: the line is driven by its owner's clock (events at virtual times).
 * It decides a reception only once the present has passed the end of the
 * receiver's frame; characters can only be queued to start at or after the
 * present, so what it decided never changes. */
#include "line.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/uart_time.h"

#define NO_TIME UINT64_MAX
#define FMT_HIST 8
#define MAX_QUEUED 65536u /* characters one endpoint may have on the wire */
#define DEFAULT_FMT ((klefr_uart_cfg){9600, 8, KLEFR_PARITY_EVEN, 1})

typedef struct {
    uint64_t t0, t1;  /* ns: start of the start bit, end of the last stop bit */
    uint32_t sender;  /* endpoint id */
    uint16_t pattern; /* bit k = level during bit k */
    uint8_t nbits;
    uint8_t byte;  /* the data bits as sent */
    uint8_t flags; /* from the sender's UART (send_flagged) */
    bool collided;
    klefr_uart_cfg fmt;
} wchar;

typedef struct {
    wchar *c;
    size_t base, n, cap; /* live characters: c[base..n), sorted by t0 */
    size_t mon;          /* next to report to the monitor */
    uint64_t max_len;    /* longest character seen, ns (bounds backward scans) */
} channel;

typedef struct {
    uint64_t t_us;
    klefr_uart_cfg fmt;
} fmt_entry;

struct klefr_line_ep {
    klefr_line *line;
    uint32_t id;
    char name[32];
    klefr_line_role role;
    klefr_line_rx_fn rx;
    void *rx_arg;
    fmt_entry fmt[FMT_HIST]; /* sorted by time; fmt[0] holds before all others */
    int nfmt;
    const klefr_line_ep *ref;
    unsigned follow;
    void (*probe)(void *arg, klefr_uart_cfg *fmt);
    void *probe_arg;
    uint64_t tx_end_us;
    uint64_t hunt;    /* ns: the receiver looks for a start bit from here */
    uint64_t last_rx; /* ns: when it delivered its last character */
    int tx_ch, rx_ch; /* channels it sends on and listens to */
    klefr_line_stats st;
};

struct klefr_line {
    char name[32];
    klefr_line_kind kind;
    klefr_line_clock clock;
    bool timing;
    channel ch[2];
    int nch;
    klefr_line_ep **ep;
    size_t nep, cap_ep;
    uint32_t gen; /* counts attaches and detaches */
    uint32_t next_id;
    uint64_t now;     /* ns: the present, as far as the line was told */
    uint64_t wake_us; /* earliest wake-up posted and not yet run */
    bool in_process;  /* re-entrancy guard of process() */
    bool dirty;       /* characters were queued while in process() */
    void (*monitor)(void *arg, const klefr_line_char *c);
    void *monitor_arg;
    struct rx_record *rec; /* receive() notes its deliveries here (process()'s memo) */
};

static void process(klefr_line *l);

/* ---- formats ---- */

static uint8_t nbits_of(const klefr_uart_cfg *f)
{
    return (uint8_t)(1u + f->data_bits + (f->parity != KLEFR_PARITY_NONE) + f->stop_bits);
}

static bool same_fmt(const klefr_uart_cfg *a, const klefr_uart_cfg *b)
{
    return a->baud == b->baud && a->data_bits == b->data_bits && a->parity == b->parity &&
           a->stop_bits == b->stop_bits;
}

static klefr_uart_cfg sane(klefr_uart_cfg f)
{
    if (!f.baud)
        f.baud = 9600;
    if (f.data_bits < 5 || f.data_bits > 8)
        f.data_bits = 8;
    if (f.stop_bits < 1 || f.stop_bits > 2)
        f.stop_bits = 1;
    if (f.parity > KLEFR_PARITY_ODD)
        f.parity = KLEFR_PARITY_NONE;
    return f;
}

static klefr_uart_cfg fmt_at(const klefr_line_ep *ep, uint64_t t_us, int depth)
{
    int k = 0;
    while (k + 1 < ep->nfmt && ep->fmt[k + 1].t_us <= t_us)
        k++;
    klefr_uart_cfg f = ep->fmt[k].fmt;
    if (ep->probe)
        ep->probe(ep->probe_arg, &f);
    if (ep->ref && ep->follow && depth < 4) {
        klefr_uart_cfg r = fmt_at(ep->ref, t_us, depth + 1);
        if (ep->follow & KLEFR_LINE_FOLLOW_BAUD)
            f.baud = r.baud;
        if (ep->follow & KLEFR_LINE_FOLLOW_DATA_BITS)
            f.data_bits = r.data_bits;
        if (ep->follow & KLEFR_LINE_FOLLOW_PARITY)
            f.parity = r.parity;
        if (ep->follow & KLEFR_LINE_FOLLOW_STOP_BITS)
            f.stop_bits = r.stop_bits;
    }
    return sane(f);
}

klefr_uart_cfg klefr_line_format(const klefr_line_ep *ep, uint64_t t_us)
{
    return fmt_at(ep, t_us, 0);
}

static uint64_t now_us(const klefr_line *l)
{
    return (l->now + 999) / 1000;
}

void klefr_line_set_format(klefr_line_ep *ep, const klefr_uart_cfg *fmt, uint64_t t_us)
{
    uint64_t now = now_us(ep->line);
    if (t_us < now)
        t_us = now;
    /* Later entries are replaced: a new decision for the same or an earlier
     * time overrides what was planned after it. */
    int k = ep->nfmt;
    while (k > 0 && ep->fmt[k - 1].t_us >= t_us)
        k--;
    if (k == 0) {
        ep->fmt[0] = (fmt_entry){0, *fmt};
        ep->nfmt = 1;
        process(ep->line);
        return;
    }
    if (k == FMT_HIST) { /* forget the oldest: it no longer matters */
        memmove(ep->fmt, ep->fmt + 1, sizeof ep->fmt[0] * (FMT_HIST - 1));
        k--;
    }
    ep->fmt[k] = (fmt_entry){t_us, *fmt};
    ep->nfmt = k + 1;
    process(ep->line); /* a reception may now end sooner */
}

void klefr_line_follow(klefr_line_ep *ep, const klefr_line_ep *ref, unsigned mask)
{
    ep->ref = ref && ref != ep ? ref : NULL;
    ep->follow = ep->ref ? mask : 0;
}

void klefr_line_set_probe(klefr_line_ep *ep, void (*probe)(void *arg, klefr_uart_cfg *fmt),
                          void *arg)
{
    ep->probe = probe;
    ep->probe_arg = arg;
}

/* ---- characters on a channel ---- */

static uint16_t pattern_of(uint8_t byte, const klefr_uart_cfg *f)
{
    uint16_t p = 0; /* bit 0: start = 0 */
    unsigned k = 1, ones = 0;
    for (unsigned b = 0; b < f->data_bits; b++, k++)
        if (byte >> b & 1u) {
            p |= (uint16_t)(1u << k);
            ones++;
        }
    if (f->parity != KLEFR_PARITY_NONE) {
        bool bit = f->parity == KLEFR_PARITY_EVEN ? (ones & 1u) : !(ones & 1u);
        if (bit)
            p |= (uint16_t)(1u << k);
        k++;
    }
    for (unsigned s = 0; s < f->stop_bits; s++, k++)
        p |= (uint16_t)(1u << k);
    return p;
}

/* Start of bit k of c (ns). */
static uint64_t bit_start(const wchar *c, unsigned k)
{
    uint64_t len = c->t1 - c->t0;
    return c->t0 + (len * k + c->nbits - 1) / c->nbits;
}

static unsigned bit_index(const wchar *c, uint64_t t)
{
    return (unsigned)((t - c->t0) * c->nbits / (c->t1 - c->t0));
}

static bool visible(const klefr_line_ep *ep, const wchar *c)
{
    return c->sender != ep->id;
}

/* Index of the first live character starting after t. */
static size_t first_after(const channel *ch, uint64_t t)
{
    size_t lo = ch->base, hi = ch->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (ch->c[mid].t0 <= t)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Calls f(c) for the characters ep hears that are on the wire at t. */
#define FOR_CONTAINING(ch, ep, t, c, body)                                                    \
    for (size_t i_ = first_after(ch, t); i_-- > (ch)->base;) {                              \
        const wchar *c = &(ch)->c[i_];                                                      \
        if (c->t0 + (ch)->max_len <= (t))                                                   \
            break;                                                                          \
        if (c->t1 > (t) && visible(ep, c)) {                                                \
            body                                                                            \
        }                                                                                   \
    }

static int level_at(const channel *ch, const klefr_line_ep *ep, uint64_t t)
{
    int lv = 1;
    FOR_CONTAINING(ch, ep, t, c, {
        if (!(c->pattern >> bit_index(c, t) & 1u))
            lv = 0;
    })
    return lv;
}

/* The first time >= t at which the level is 1. */
static uint64_t next_high(const channel *ch, const klefr_line_ep *ep, uint64_t t)
{
    for (;;) {
        uint64_t x = t;
        FOR_CONTAINING(ch, ep, t, c, {
            unsigned k = bit_index(c, t);
            if (!(c->pattern >> k & 1u)) {
                while (k < c->nbits && !(c->pattern >> k & 1u))
                    k++;
                uint64_t up = k < c->nbits ? bit_start(c, k) : c->t1;
                if (up > x)
                    x = up;
            }
        })
        if (x == t)
            return t;
        t = x;
    }
}

/* The first time >= t (the level being 1 at t) at which it falls to 0, and
 * the character whose start bit that is (or NULL: a bit inside one). */
static uint64_t next_low(const channel *ch, const klefr_line_ep *ep, uint64_t t, const wchar **at)
{
    uint64_t best = NO_TIME;
    *at = NULL;
    FOR_CONTAINING(ch, ep, t, c, {
        for (unsigned k = bit_index(c, t) + 1; k < c->nbits; k++)
            if (!(c->pattern >> k & 1u)) {
                uint64_t z = bit_start(c, k);
                if (z < best) {
                    best = z;
                    *at = NULL;
                }
                break;
            }
    })
    for (size_t i = first_after(ch, t); i < ch->n; i++) {
        const wchar *c = &ch->c[i];
        if (c->t0 >= best)
            break;
        if (visible(ep, c)) {
            best = c->t0;
            *at = c;
            break;
        }
    }
    return best;
}

/* A falling edge at t: the character starting there, if one does. */
static uint64_t starting_at(const channel *ch, const klefr_line_ep *ep, uint64_t t, const wchar **at)
{
    *at = NULL;
    FOR_CONTAINING(ch, ep, t, c, {
        if (c->t0 == t)
            *at = c;
    })
    return t;
}

/* ---- receiving ---- */

/* Sample the wire as ep's UART with format f from the falling edge at e. */
static uint8_t sample(const channel *ch, const klefr_line_ep *ep, const klefr_uart_cfg *f,
                      uint64_t e, uint64_t len, uint8_t *flags, bool *glitch)
{
    unsigned nb = nbits_of(f);
    uint64_t half = len / (2u * nb);
    *glitch = level_at(ch, ep, e + half) != 0;
    if (*glitch)
        return 0;
    uint8_t v = 0;
    unsigned ones = 0, k = 1;
    for (unsigned b = 0; b < f->data_bits; b++, k++)
        if (level_at(ch, ep, e + (2u * k + 1u) * len / (2u * nb))) {
            v |= (uint8_t)(1u << b);
            ones++;
        }
    if (f->parity != KLEFR_PARITY_NONE) {
        int p = level_at(ch, ep, e + (2u * k + 1u) * len / (2u * nb));
        bool want = f->parity == KLEFR_PARITY_EVEN ? (ones & 1u) : !(ones & 1u);
        if (p != (int)want)
            *flags |= KLEFR_RX_ERR_PARITY;
        k++;
    }
    if (!level_at(ch, ep, e + (2u * k + 1u) * len / (2u * nb)))
        *flags |= KLEFR_RX_ERR_FRAMING;
    return v;
}

/* What the characters under the frame [e, done) add: collisions, the
 * sender's own UART errors. */
static uint8_t overlap_flags(const channel *ch, const klefr_line_ep *ep, uint64_t e, uint64_t done)
{
    uint8_t fl = 0;
    for (size_t i = first_after(ch, done); i-- > ch->base;) {
        const wchar *c = &ch->c[i];
        if (c->t0 + ch->max_len <= e)
            break;
        if (c->t1 > e && c->t0 < done && visible(ep, c)) {
            fl |= c->flags;
            if (c->collided)
                fl |= KLEFR_RX_ERR_FRAMING;
        }
    }
    return fl;
}

/* What one receive() delivered, so that receivers in the same state can be
 * given the same without decoding again (process()). */
#define REC_MAX 64

struct rx_record {
    size_t n;
    bool overflow;
    klefr_line_rxchar c[REC_MAX];
};

static void note(struct rx_record *r, uint8_t byte, uint8_t flags, uint64_t t_us)
{
    if (!r)
        return;
    if (r->n == REC_MAX) {
        r->overflow = true;
        return;
    }
    r->c[r->n++] = (klefr_line_rxchar){byte, flags, t_us};
}

/* Deliver what ep has fully received by the present; returns the time it
 * next needs to look (ns), NO_TIME if nothing is coming. */
static uint64_t receive(klefr_line *l, klefr_line_ep *ep)
{
    const channel *ch = &l->ch[ep->rx_ch];
    for (;;) {
        /* The line low just before the hunt point: no edge until it rose. */
        uint64_t t = ep->hunt;
        if (t > 0 && !level_at(ch, ep, t - 1))
            t = next_high(ch, ep, t);
        const wchar *c = NULL;
        uint64_t e;
        if (!level_at(ch, ep, t)) /* it falls right here */
            e = starting_at(ch, ep, t, &c);
        else
            e = next_low(ch, ep, t, &c);
        if (e == NO_TIME) { /* quiet as far as anything is known */
            if (t < l->now && ep->hunt < l->now)
                ep->hunt = l->now;
            return NO_TIME;
        }
        klefr_uart_cfg f = fmt_at(ep, e / 1000, 0);
        uint64_t len = (uint64_t)klefr_uart_char_us(&f) * 1000u;
        uint64_t done = e + len;
        if (done > l->now) {
            /* A host may change its format any time (probe): look again
             * when the sender's character ends, in case it did. */
            if (ep->probe && c && c->t1 < done && c->t1 > l->now)
                return c->t1;
            return done;
        }
        unsigned nb = nbits_of(&f);
        uint64_t stop_sample = e + (2u * (1u + f.data_bits + (f.parity != KLEFR_PARITY_NONE)) + 1u) *
                                       len / (2u * nb);
        uint8_t flags = 0, byte;
        if (c && !c->collided && same_fmt(&c->fmt, &f)) { /* clean and matching */
            byte = c->byte;
            flags = c->flags;
        } else {
            bool glitch;
            byte = sample(ch, ep, &f, e, len, &flags, &glitch);
            if (glitch) { /* no start bit after all: look again after it */
                ep->hunt = e + len / (2u * nb);
                continue;
            }
            flags |= overlap_flags(ch, ep, e, done);
        }
        ep->hunt = stop_sample;
        ep->st.rx_chars++;
        if (flags)
            ep->st.rx_errors++;
        /* In order: after a switch to a faster format a character can end
         * before the previous (slower) one's last stop bit would have. */
        if (done < ep->last_rx)
            done = ep->last_rx;
        ep->last_rx = done;
        note(l->rec, byte, flags, (done + 999) / 1000);
        ep->rx(ep->rx_arg, byte, flags, (done + 999) / 1000);
    }
}

/* ---- the line's clock ---- */

static void on_wake(void *arg, uint64_t t_us)
{
    klefr_line *l = arg;
    if (t_us >= l->wake_us)
        l->wake_us = NO_TIME;
    if (t_us * 1000u > l->now)
        l->now = t_us * 1000u;
    process(l);
}

static void want_wake(klefr_line *l, uint64_t t_ns)
{
    if (t_ns == NO_TIME)
        return;
    if (t_ns <= l->now) /* never a wake-up for the present: it would come back forever */
        t_ns = l->now + 1000u;
    uint64_t t = (t_ns + 999) / 1000;
    if (t >= l->wake_us)
        return;
    if (l->clock.post && l->clock.post(l->clock.arg, t, on_wake, l))
        l->wake_us = t;
}

static void report(klefr_line *l, channel *ch)
{
    while (ch->mon < ch->n && ch->c[ch->mon].t1 <= l->now) {
        const wchar *c = &ch->c[ch->mon++];
        if (!l->monitor)
            continue;
        const char *name = "(detached)";
        for (size_t k = 0; k < l->nep; k++)
            if (l->ep[k]->id == c->sender)
                name = l->ep[k]->name;
        klefr_line_char lc = {name, c->byte, c->flags, c->collided, c->t0 / 1000, c->t1 / 1000};
        l->monitor(l->monitor_arg, &lc);
    }
}

/* Drop characters every receiver is past and the monitor has reported. */
static void retire(klefr_line *l, int k)
{
    channel *ch = &l->ch[k];
    uint64_t horizon = l->now;
    for (size_t e = 0; e < l->nep; e++)
        if (l->ep[e]->rx && l->ep[e]->rx_ch == k && l->ep[e]->hunt < horizon)
            horizon = l->ep[e]->hunt;
    while (ch->base < ch->mon && ch->c[ch->base].t1 <= horizon)
        ch->base++;
    if (ch->base > 1024 && ch->base * 2 > ch->n) {
        memmove(ch->c, ch->c + ch->base, (ch->n - ch->base) * sizeof ch->c[0]);
        ch->n -= ch->base;
        ch->mon -= ch->base;
        ch->base = 0;
    }
}

/* Deliver everything due by the present and ask to be woken for the rest. */
/* A receiver that decodes exactly what the one before did: many meters on
 * one line sit in the same state (hunting from the same point, in the same
 * format, none of them sending), so process() decodes for the first and
 * hands the others the same characters: a line of 1000 meters costs one
 * decode per character, not 1000 (docs/performance.md). */
typedef struct {
    bool have;
    int rx_ch;
    uint64_t hunt, last_rx;   /* before */
    fmt_entry fmt[FMT_HIST];  /* its format history, before */
    int nfmt;
    uint64_t hunt1, last_rx1; /* after */
    uint64_t next;
    uint64_t rx_chars, rx_errors;
    struct rx_record rec;
} memo;

/* Its receptions depend only on its state: no host probe or followed
 * endpoint, and none of its own characters on its channel since it last
 * listened (a receiver never hears itself). */
static bool memo_able(const klefr_line *l, const klefr_line_ep *ep)
{
    return !ep->probe && !(ep->ref && ep->follow) &&
           (ep->tx_ch != ep->rx_ch || ep->tx_end_us * 1000u < ep->hunt || !l->timing);
}

static bool memo_matches(const memo *m, const klefr_line_ep *ep)
{
    return m->have && ep->rx_ch == m->rx_ch && ep->hunt == m->hunt && ep->last_rx == m->last_rx &&
           ep->nfmt == m->nfmt && !memcmp(ep->fmt, m->fmt, (size_t)m->nfmt * sizeof m->fmt[0]);
}

static uint64_t receive_memo(klefr_line *l, klefr_line_ep *ep, memo *m)
{
    if (!memo_able(l, ep))
        return receive(l, ep);
    if (memo_matches(m, ep)) {
        ep->hunt = m->hunt1;
        ep->last_rx = m->last_rx1;
        ep->st.rx_chars += m->rx_chars;
        ep->st.rx_errors += m->rx_errors;
        for (size_t k = 0; k < m->rec.n; k++)
            ep->rx(ep->rx_arg, m->rec.c[k].byte, m->rec.c[k].flags, m->rec.c[k].t_us);
        return m->next;
    }
    m->have = false;
    m->rx_ch = ep->rx_ch;
    m->hunt = ep->hunt;
    m->last_rx = ep->last_rx;
    m->nfmt = ep->nfmt;
    memcpy(m->fmt, ep->fmt, (size_t)ep->nfmt * sizeof ep->fmt[0]);
    uint64_t chars = ep->st.rx_chars, errors = ep->st.rx_errors;
    m->rec.n = 0;
    m->rec.overflow = false;
    l->rec = &m->rec;
    m->next = receive(l, ep);
    l->rec = NULL;
    m->hunt1 = ep->hunt;
    m->last_rx1 = ep->last_rx;
    m->rx_chars = ep->st.rx_chars - chars;
    m->rx_errors = ep->st.rx_errors - errors;
    m->have = !m->rec.overflow;
    return m->next;
}

/* Deliver everything due by the present and ask to be woken for the rest. */
static void process(klefr_line *l)
{
    if (l->in_process) { /* a receiver sent something: the outer call goes on */
        l->dirty = true;
        return;
    }
    l->in_process = true;
    uint64_t next;
    memo m;
    /* A receiver's callback may queue characters (a meter answering); they
     * start at or after the present, so one more pass sees them. */
    do {
        l->dirty = false;
        next = NO_TIME;
        m.have = false;
        for (size_t k = 0; k < l->nep; k++) {
            klefr_line_ep *ep = l->ep[k];
            if (!ep->rx)
                continue;
            uint64_t t = receive_memo(l, ep, &m);
            if (t < next)
                next = t;
        }
    } while (l->dirty);
    for (int k = 0; k < l->nch; k++) {
        report(l, &l->ch[k]);
        if (l->monitor && l->ch[k].mon < l->ch[k].n) { /* reported in start order */
            uint64_t first = l->ch[k].c[l->ch[k].mon].t1;
            if (first < next)
                next = first;
        }
        retire(l, k);
    }
    l->in_process = false;
    want_wake(l, next);
}

/* ---- sending ---- */

static klefr_line_ep *ep_by_id(klefr_line *l, uint32_t id);

static void collide(klefr_line *l, wchar *c)
{
    if (c->collided)
        return;
    c->collided = true;
    klefr_line_ep *ep = ep_by_id(l, c->sender);
    if (ep)
        ep->st.collisions++;
}

static int insert(klefr_line *l, channel *ch, const wchar *w)
{
    if (ch->n == ch->cap) {
        size_t cap = ch->cap ? ch->cap * 2 : 256;
        wchar *c = realloc(ch->c, cap * sizeof *c);
        if (!c)
            return -1;
        ch->c = c;
        ch->cap = cap;
    }
    size_t i = ch->n;
    while (i > ch->base && ch->c[i - 1].t0 > w->t0)
        i--;
    memmove(ch->c + i + 1, ch->c + i, (ch->n - i) * sizeof ch->c[0]);
    ch->c[i] = *w;
    ch->n++;
    if (i < ch->mon)
        ch->mon++;
    uint64_t len = w->t1 - w->t0;
    if (len > ch->max_len)
        ch->max_len = len;
    /* Another sender's character overlapping it: both collide. */
    wchar *n = &ch->c[i];
    for (size_t j = first_after(ch, n->t0 > ch->max_len ? n->t0 - ch->max_len : 0); j < ch->n; j++) {
        wchar *c = &ch->c[j];
        if (c->t0 >= n->t1)
            break;
        if (j != i && c->sender != n->sender && c->t1 > n->t0) {
            collide(l, c);
            collide(l, n);
        }
    }
    return 0;
}

static klefr_line_ep *ep_by_id(klefr_line *l, uint32_t id)
{
    for (size_t k = 0; k < l->nep; k++)
        if (l->ep[k]->id == id)
            return l->ep[k];
    return NULL;
}

/* Wire timing off: every receiver gets the bytes now, unchanged, flagged
 * when the formats differ (byte by byte to all receivers, in order). The
 * formats are looked up once per call: nothing on the line takes time, so
 * none can change in between (the benchmark path: a reply is ~100 bytes). */
#define INSTANT_CACHE 8

static uint8_t mismatch(const klefr_uart_cfg *s, const klefr_uart_cfg *r)
{
    if (r->baud != s->baud || r->data_bits != s->data_bits || r->stop_bits != s->stop_bits)
        return KLEFR_RX_ERR_FRAMING;
    return r->parity != s->parity ? KLEFR_RX_ERR_PARITY : 0;
}

static void send_instant_all(klefr_line_ep *ep, const uint8_t *data, const uint8_t *flags, size_t n,
                         uint64_t t_us)
{
    klefr_line *l = ep->line;
    klefr_uart_cfg s = fmt_at(ep, t_us, 0);
    uint8_t mask = (uint8_t)((1u << s.data_bits) - 1u);
    klefr_uart_cfg cache[INSTANT_CACHE];
    uint32_t cached[INSTANT_CACHE] = {0}; /* endpoint ids (0 = none) */
    for (size_t i = 0; i < n; i++) {
        uint8_t b = data[i] & mask, fl0 = flags ? flags[i] : 0;
        ep->st.tx_chars++;
        if (l->monitor) {
            klefr_line_char lc = {ep->name, b, fl0, false, t_us, t_us};
            l->monitor(l->monitor_arg, &lc);
        }
        for (size_t k = 0; k < l->nep; k++) {
            klefr_line_ep *r = l->ep[k];
            if (r == ep || !r->rx || r->rx_ch != ep->tx_ch)
                continue;
            klefr_uart_cfg f;
            if (k < INSTANT_CACHE && cached[k] == r->id) {
                f = cache[k];
            } else {
                f = fmt_at(r, t_us, 0);
                if (k < INSTANT_CACHE) {
                    cache[k] = f;
                    cached[k] = r->id;
                }
            }
            uint8_t fl = fl0 | mismatch(&s, &f);
            r->st.rx_chars++;
            if (fl)
                r->st.rx_errors++;
            r->rx(r->rx_arg, (uint8_t)(b & ((1u << f.data_bits) - 1u)), fl, t_us);
        }
    }
}

/* The same with few receivers (a meter and a host port, the benchmark path):
 * who gets the bytes, and with which mask and flags, worked out once per
 * call rather than per byte; again if one attaches or detaches meanwhile (a
 * receiver's callback may do that). */
static void send_instant(klefr_line_ep *ep, const uint8_t *data, const uint8_t *flags, size_t n,
                         uint64_t t_us)
{
    klefr_line *l = ep->line;
    klefr_uart_cfg s = fmt_at(ep, t_us, 0);
    uint8_t mask = (uint8_t)((1u << s.data_bits) - 1u);
    struct {
        klefr_line_ep *r;
        uint8_t mask, fl;
    } rcv[INSTANT_CACHE];
    size_t nr = 0;
    uint32_t gen = l->gen;
    for (size_t k = 0; k < l->nep; k++) {
        klefr_line_ep *r = l->ep[k];
        if (r == ep || !r->rx || r->rx_ch != ep->tx_ch)
            continue;
        if (nr == INSTANT_CACHE) {
            send_instant_all(ep, data, flags, n, t_us);
            return;
        }
        klefr_uart_cfg f = fmt_at(r, t_us, 0);
        rcv[nr].r = r;
        rcv[nr].mask = (uint8_t)((1u << f.data_bits) - 1u);
        rcv[nr++].fl = mismatch(&s, &f);
    }
    for (size_t i = 0; i < n; i++) {
        if (l->gen != gen) { /* the receivers changed: the rest the long way */
            send_instant_all(ep, data + i, flags ? flags + i : NULL, n - i, t_us);
            return;
        }
        uint8_t b = data[i] & mask, fl0 = flags ? flags[i] : 0;
        ep->st.tx_chars++;
        if (l->monitor) {
            klefr_line_char lc = {ep->name, b, fl0, false, t_us, t_us};
            l->monitor(l->monitor_arg, &lc);
        }
        for (size_t k = 0; k < nr; k++) {
            klefr_line_ep *r = rcv[k].r;
            uint8_t fl = fl0 | rcv[k].fl;
            r->st.rx_chars++;
            if (fl)
                r->st.rx_errors++;
            r->rx(r->rx_arg, b & rcv[k].mask, fl, t_us);
        }
    }
}

uint64_t klefr_line_send_flagged(klefr_line_ep *ep, const uint8_t *data, const uint8_t *flags,
                                 size_t n, uint64_t t_us)
{
    klefr_line *l = ep->line;
    if (!l->timing) {
        send_instant(ep, data, flags, n, t_us);
        return t_us;
    }
    uint64_t t = t_us;
    if (t < ep->tx_end_us)
        t = ep->tx_end_us;
    if (t < now_us(l))
        t = now_us(l);
    channel *ch = &l->ch[ep->tx_ch];
    size_t queued = klefr_line_tx_pending(ep, now_us(l));
    for (size_t k = 0; k < n; k++) {
        if (queued + k >= MAX_QUEUED) {
            ep->st.cut += n - k;
            break;
        }
        klefr_uart_cfg f = fmt_at(ep, t, 0);
        uint64_t len = klefr_uart_char_us(&f);
        uint8_t b = (uint8_t)(data[k] & ((1u << f.data_bits) - 1u));
        wchar w = {.t0 = t * 1000u,
                   .t1 = (t + len) * 1000u,
                   .sender = ep->id,
                   .pattern = pattern_of(b, &f),
                   .nbits = nbits_of(&f),
                   .byte = b,
                   .flags = flags ? flags[k] : 0,
                   .fmt = f};
        if (insert(l, ch, &w)) {
            ep->st.cut += n - k;
            break;
        }
        ep->st.tx_chars++;
        t += len;
    }
    ep->tx_end_us = t;
    process(l);
    return t;
}

uint64_t klefr_line_send(klefr_line_ep *ep, const uint8_t *data, size_t n, uint64_t t_us)
{
    return klefr_line_send_flagged(ep, data, NULL, n, t_us);
}

uint64_t klefr_line_tx_end(const klefr_line_ep *ep)
{
    return ep->tx_end_us;
}

size_t klefr_line_tx_pending(const klefr_line_ep *ep, uint64_t t_us)
{
    if (ep->tx_end_us <= t_us)
        return 0;
    const channel *ch = &ep->line->ch[ep->tx_ch];
    size_t n = 0;
    for (size_t i = ch->n; i-- > ch->base;) {
        const wchar *c = &ch->c[i];
        if (c->t1 <= t_us * 1000u && c->t0 + ch->max_len <= t_us * 1000u)
            break;
        if (c->sender == ep->id && c->t1 > t_us * 1000u)
            n++;
    }
    return n;
}

/* ---- lines and endpoints ---- */

klefr_line *klefr_line_new(const char *name, klefr_line_kind kind, klefr_line_clock clock)
{
    klefr_line *l = calloc(1, sizeof *l);
    if (!l)
        return NULL;
    snprintf(l->name, sizeof l->name, "%s", name ? name : "");
    l->kind = kind;
    l->clock = clock;
    l->timing = true;
    l->nch = kind == KLEFR_LINE_BUS ? 1 : 2;
    l->wake_us = NO_TIME;
    l->next_id = 1;
    return l;
}

void klefr_line_free(klefr_line *l)
{
    if (!l)
        return;
    for (size_t k = 0; k < l->nep; k++)
        free(l->ep[k]);
    free(l->ep);
    for (int k = 0; k < 2; k++)
        free(l->ch[k].c);
    free(l);
}

const char *klefr_line_name(const klefr_line *l)
{
    return l->name;
}

klefr_line_kind klefr_line_get_kind(const klefr_line *l)
{
    return l->kind;
}

void klefr_line_set_timing(klefr_line *l, bool on)
{
    l->timing = on;
}

bool klefr_line_timing(const klefr_line *l)
{
    return l->timing;
}

void klefr_line_set_monitor(klefr_line *l, void (*fn)(void *arg, const klefr_line_char *c),
                            void *arg)
{
    l->monitor = fn;
    l->monitor_arg = arg;
}

klefr_line_ep *klefr_line_attach(klefr_line *l, const char *name, klefr_line_role role,
                                 const klefr_uart_cfg *fmt, klefr_line_rx_fn rx, void *rx_arg)
{
    if (l->nep == l->cap_ep) {
        size_t cap = l->cap_ep ? l->cap_ep * 2 : 4;
        klefr_line_ep **e = realloc(l->ep, cap * sizeof *e);
        if (!e)
            return NULL;
        l->ep = e;
        l->cap_ep = cap;
    }
    klefr_line_ep *ep = calloc(1, sizeof *ep);
    if (!ep)
        return NULL;
    ep->line = l;
    ep->id = l->next_id++;
    snprintf(ep->name, sizeof ep->name, "%s", name ? name : "");
    ep->role = role;
    ep->rx = rx;
    ep->rx_arg = rx_arg;
    ep->fmt[0] = (fmt_entry){0, fmt ? *fmt : DEFAULT_FMT};
    ep->nfmt = 1;
    ep->hunt = l->now;
    if (l->kind == KLEFR_LINE_BUS) {
        ep->tx_ch = ep->rx_ch = 0;
    } else {
        ep->tx_ch = role == KLEFR_LINE_MASTER ? 0 : 1;
        ep->rx_ch = role == KLEFR_LINE_MASTER ? 1 : 0;
    }
    l->ep[l->nep++] = ep;
    l->gen++;
    return ep;
}

void klefr_line_detach(klefr_line_ep *ep)
{
    if (!ep)
        return;
    klefr_line *l = ep->line;
    /* Its characters still to come reach nobody. */
    channel *ch = &l->ch[ep->tx_ch];
    size_t w = ch->base;
    for (size_t r = ch->base; r < ch->n; r++) {
        if (ch->c[r].sender == ep->id && ch->c[r].t1 > l->now) {
            if (r < ch->mon)
                ch->mon--;
            continue;
        }
        ch->c[w++] = ch->c[r];
    }
    ch->n = w;
    for (size_t k = 0; k < l->nep; k++)
        if (l->ep[k]->ref == ep)
            klefr_line_follow(l->ep[k], NULL, 0);
    for (size_t k = 0; k < l->nep; k++)
        if (l->ep[k] == ep) {
            memmove(l->ep + k, l->ep + k + 1, (l->nep - k - 1) * sizeof l->ep[0]);
            l->nep--;
            l->gen++;
            break;
        }
    free(ep);
}

const char *klefr_line_ep_name(const klefr_line_ep *ep)
{
    return ep->name;
}

size_t klefr_line_ep_bytes(void)
{
    return sizeof(klefr_line_ep);
}

klefr_line *klefr_line_ep_line(const klefr_line_ep *ep)
{
    return ep->line;
}

klefr_line_stats klefr_line_ep_stats(const klefr_line_ep *ep)
{
    return ep->st;
}

/* ---- capture ---- */

void klefr_line_capture_rx(void *arg, uint8_t byte, uint8_t flags, uint64_t t_us)
{
    klefr_line_capture *c = arg;
    if (c->n == KLEFR_LINE_CAPTURE_MAX) {
        c->lost++;
        return;
    }
    c->c[c->n++] = (klefr_line_rxchar){byte, flags, t_us};
}

void klefr_line_capture_clear(klefr_line_capture *c)
{
    c->n = 0;
    c->lost = 0;
}
