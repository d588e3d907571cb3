/* Settings defaults, validation and the two-copy EEPROM image (docs/nvm.md).
 *
 * The image is serialised field by field in little-endian order, so the bytes
 * in the EEPROM do not depend on the compiler's struct layout. */
#include "store.h"

#include <string.h>

#include "klefr/meter.h"

/* ---- CRC-32 -------------------------------------------------------------- */

uint32_t klefr_crc32(const void *data, uint32_t len)
{
    const uint8_t *p = data;
    uint32_t crc = 0xFFFFFFFFu;
    for (uint32_t k = 0; k < len; k++) {
        crc ^= p[k];
        for (int b = 0; b < 8; b++)
            crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
    }
    return ~crc;
}

bool klefr_seq_newer(uint32_t a, uint32_t b)
{
    return (int32_t)(a - b) > 0;
}

const char *klefr_copy_state_to_str(klefr_copy_state st)
{
    switch (st) {
    case KLEFR_COPY_BLANK:
        return "blank";
    case KLEFR_COPY_VALID:
        return "valid";
    case KLEFR_COPY_CORRUPT:
        return "corrupt";
    }
    return "?";
}

/* ---- Defaults and validation -------------------------------------------- */

void klefr_settings_defaults(klefr_settings *s, klefr_model model, uint32_t serial)
{
    (void)model; /* the same defaults for every model (manual 5.4, 5.5, 7.x) */
    *s = (klefr_settings){.modbus_id = 1,
                          .mbus_id = 0,
                          .mbus_secondary = serial, /* serial is already 8 BCD digits */
                          .baud = 9600,
                          .parity = KLEFR_PARITY_EVEN,
                          .s0_rate_centi = 100000, /* 1000 imp/kWh, docs/nvm.md */
                          .calc_code = 1,
                          .lcd_cycle_s = 10,
                          .backlight = KLEFR_BL_BUTTON,
                          .password = 0,
                          .obis = false,
                          .tariff = 1,
                          .scroll_mask = 0};
}

static const uint32_t mbus_bauds[] = {300, 600, 1200, 2400, 4800, 9600};
static const uint32_t modbus_bauds[] = {1200, 2400, 4800, 9600};

const uint32_t *klefr_bauds(klefr_model model, size_t *n)
{
    if (klefr_model_has_modbus(model)) {
        *n = KLEFR_COUNT(modbus_bauds);
        return modbus_bauds;
    }
    *n = KLEFR_COUNT(mbus_bauds);
    return mbus_bauds;
}

bool klefr_baud_valid(klefr_model model, uint32_t baud)
{
    size_t n;
    const uint32_t *tab = klefr_bauds(model, &n);
    return klefr_u32_in(baud, tab, n);
}

bool klefr_parity_valid(klefr_model model, klefr_parity parity)
{
    if (klefr_model_has_mbus(model))
        return parity == KLEFR_PARITY_EVEN; /* M-bus parity is fixed (manual 7.14) */
    return parity == KLEFR_PARITY_NONE || parity == KLEFR_PARITY_EVEN || parity == KLEFR_PARITY_ODD;
}

bool klefr_bcd8_valid(uint32_t bcd)
{
    for (int k = 0; k < 8; k++, bcd >>= 4)
        if ((bcd & 0xFu) > 9u)
            return false;
    return true;
}

int klefr_settings_validate(klefr_settings *s, klefr_model model, uint32_t serial)
{
    klefr_settings d;
    klefr_settings_defaults(&d, model, serial);
    int fixed = 0;
#define KLEFR_FIX(ok, field)                                                                       \
    do {                                                                                           \
        if (!(ok)) {                                                                               \
            s->field = d.field;                                                                    \
            fixed++;                                                                               \
        }                                                                                          \
    } while (0)
    KLEFR_FIX(s->modbus_id >= 1 && s->modbus_id <= 247, modbus_id);
    KLEFR_FIX(s->mbus_id <= 250, mbus_id);
    KLEFR_FIX(klefr_bcd8_valid(s->mbus_secondary), mbus_secondary);
    KLEFR_FIX(klefr_baud_valid(model, s->baud), baud);
    KLEFR_FIX(klefr_parity_valid(model, s->parity), parity);
    KLEFR_FIX(klefr_s0_rate_valid(s->s0_rate_centi), s0_rate_centi);
    KLEFR_FIX(klefr_calc_code_valid(s->calc_code), calc_code);
    KLEFR_FIX(s->lcd_cycle_s >= 1 && s->lcd_cycle_s <= 30, lcd_cycle_s);
    KLEFR_FIX(s->backlight <= KLEFR_BL_OFF, backlight);
    KLEFR_FIX(s->password <= 9999, password);
    KLEFR_FIX(s->tariff == 1 || (s->tariff == 2 && klefr_model_has_tariffs(model)), tariff);
#undef KLEFR_FIX
    return fixed;
}

/* ---- Little-endian serialisation ---------------------------------------- */

typedef struct {
    uint8_t *p;
    uint32_t pos;
} klefr_wbuf;

typedef struct {
    const uint8_t *p;
    uint32_t pos;
} klefr_rbuf;

static void put_le(klefr_wbuf *w, uint64_t v, int bytes)
{
    for (int k = 0; k < bytes; k++)
        w->p[w->pos++] = (uint8_t)(v >> (8 * k));
}

static uint64_t get_le(klefr_rbuf *r, int bytes)
{
    uint64_t v = 0;
    for (int k = 0; k < bytes; k++)
        v |= (uint64_t)r->p[r->pos++] << (8 * k);
    return v;
}

/* Layout version 1 payload: the order here IS the format (docs/nvm.md). */
static void payload_v1_put(klefr_wbuf *w, const klefr_settings *s, const klefr_regs *r)
{
    put_le(w, s->modbus_id, 1);
    put_le(w, s->mbus_id, 1);
    put_le(w, s->mbus_secondary, 4);
    put_le(w, s->baud, 4);
    put_le(w, (uint8_t)s->parity, 1);
    put_le(w, s->s0_rate_centi, 4);
    put_le(w, s->calc_code, 1);
    put_le(w, s->lcd_cycle_s, 1);
    put_le(w, s->backlight, 1);
    put_le(w, s->password, 2);
    put_le(w, s->obis ? 1u : 0u, 1);
    put_le(w, s->tariff, 1);
    put_le(w, s->scroll_mask, 4);
    for (int t = 0; t < KLEFR_TARIFFS; t++)
        put_le(w, r->act_fwd_uwh[t], 8);
    for (int t = 0; t < KLEFR_TARIFFS; t++)
        put_le(w, r->act_rev_uwh[t], 8);
    for (int t = 0; t < KLEFR_TARIFFS; t++)
        put_le(w, r->react_fwd_uvarh[t], 8);
    for (int t = 0; t < KLEFR_TARIFFS; t++)
        put_le(w, r->react_rev_uvarh[t], 8);
    put_le(w, r->day_fwd_uwh, 8);
    put_le(w, r->power_downs, 4);
}

static void payload_v2_put(klefr_wbuf *w, const klefr_settings *s, const klefr_regs *r,
                           klefr_save_kind kind)
{
    payload_v1_put(w, s, r);
    put_le(w, (uint8_t)kind, 1);
}

static void payload_v1_get(klefr_rbuf *rb, klefr_settings *s, klefr_regs *r, uint8_t *kind)
{
    *kind = KLEFR_SAVE_POWER_FAIL; /* v1 firmware counted in its power-fail save */
    s->modbus_id = (uint8_t)get_le(rb, 1);
    s->mbus_id = (uint8_t)get_le(rb, 1);
    s->mbus_secondary = (uint32_t)get_le(rb, 4);
    s->baud = (uint32_t)get_le(rb, 4);
    s->parity = (klefr_parity)get_le(rb, 1); /* range-checked by validate */
    s->s0_rate_centi = (uint32_t)get_le(rb, 4);
    s->calc_code = (uint8_t)get_le(rb, 1);
    s->lcd_cycle_s = (uint8_t)get_le(rb, 1);
    s->backlight = (uint8_t)get_le(rb, 1);
    s->password = (uint16_t)get_le(rb, 2);
    uint8_t obis = (uint8_t)get_le(rb, 1);
    s->obis = obis == 1; /* anything but 1 reads as the default, off */
    s->tariff = (uint8_t)get_le(rb, 1);
    s->scroll_mask = (uint32_t)get_le(rb, 4);
    for (int t = 0; t < KLEFR_TARIFFS; t++)
        r->act_fwd_uwh[t] = get_le(rb, 8);
    for (int t = 0; t < KLEFR_TARIFFS; t++)
        r->act_rev_uwh[t] = get_le(rb, 8);
    for (int t = 0; t < KLEFR_TARIFFS; t++)
        r->react_fwd_uvarh[t] = get_le(rb, 8);
    for (int t = 0; t < KLEFR_TARIFFS; t++)
        r->react_rev_uvarh[t] = get_le(rb, 8);
    r->day_fwd_uwh = get_le(rb, 8);
    r->power_downs = (uint32_t)get_le(rb, 4);
}

static void payload_v2_get(klefr_rbuf *rb, klefr_settings *s, klefr_regs *r, uint8_t *kind)
{
    payload_v1_get(rb, s, r, kind);
    /* Any byte but "running" reads as counted: nothing is invented. */
    *kind = get_le(rb, 1) == KLEFR_SAVE_RUNNING ? KLEFR_SAVE_RUNNING : KLEFR_SAVE_POWER_FAIL;
}

/* Layouts this firmware can read. A new layout adds a row; the reader of an
 * old layout fills the fields it lacks with defaults (already in *s / *r). */
typedef struct {
    uint16_t version;
    uint16_t payload_len;
    void (*get)(klefr_rbuf *rb, klefr_settings *s, klefr_regs *r, uint8_t *kind);
} klefr_layout;

static const klefr_layout layouts[] = {
    {1, KLEFR_STORE_PAYLOAD_V1_LEN, payload_v1_get},
    {2, KLEFR_STORE_PAYLOAD_V2_LEN, payload_v2_get},
};

void klefr_store_encode(uint8_t *img, const klefr_settings *s, const klefr_regs *r, uint32_t seq,
                        klefr_save_kind kind)
{
    klefr_wbuf w = {img, 0};
    put_le(&w, KLEFR_STORE_MAGIC, 4);
    put_le(&w, KLEFR_STORE_VERSION, 2);
    put_le(&w, KLEFR_STORE_PAYLOAD_V2_LEN, 2);
    put_le(&w, seq, 4);
    payload_v2_put(&w, s, r, kind);
    uint32_t crc = klefr_crc32(img, w.pos);
    put_le(&w, crc, 4);
}

klefr_copy_state klefr_store_decode(const uint8_t *img, uint32_t len, klefr_settings *s,
                                    klefr_regs *r, uint32_t *seq, klefr_save_kind *kind)
{
    bool blank = true;
    for (uint32_t k = 0; k < len && blank; k++)
        blank = img[k] == 0xFFu;
    if (blank)
        return KLEFR_COPY_BLANK;
    if (len < KLEFR_STORE_HEADER_LEN + 4u)
        return KLEFR_COPY_CORRUPT;

    klefr_rbuf rb = {img, 0};
    uint32_t magic = (uint32_t)get_le(&rb, 4);
    uint16_t version = (uint16_t)get_le(&rb, 2);
    uint16_t plen = (uint16_t)get_le(&rb, 2);
    uint32_t sq = (uint32_t)get_le(&rb, 4);
    if (magic != KLEFR_STORE_MAGIC)
        return KLEFR_COPY_CORRUPT;
    const klefr_layout *lay = NULL;
    for (size_t k = 0; k < sizeof layouts / sizeof layouts[0]; k++)
        if (layouts[k].version == version)
            lay = &layouts[k];
    if (!lay || plen != lay->payload_len || KLEFR_STORE_HEADER_LEN + plen + 4u > len)
        return KLEFR_COPY_CORRUPT;

    uint32_t body = KLEFR_STORE_HEADER_LEN + plen;
    klefr_rbuf cb = {img, body};
    if ((uint32_t)get_le(&cb, 4) != klefr_crc32(img, body))
        return KLEFR_COPY_CORRUPT;
    uint8_t k;
    lay->get(&rb, s, r, &k);
    *seq = sq;
    if (kind)
        *kind = (klefr_save_kind)k;
    return KLEFR_COPY_VALID;
}

/* ---- Load / save --------------------------------------------------------- */

/* Checksum of what a save would write, without the sequence number: equal
 * means nothing changed since the last save. */
static uint32_t content_crc(const klefr_meter *m)
{
    uint8_t img[KLEFR_STORE_IMAGE_LEN];
    klefr_store_encode(img, &m->settings, &m->regs, 0, KLEFR_SAVE_RUNNING);
    return klefr_crc32(img, KLEFR_STORE_IMAGE_LEN - 4u);
}

int klefr_store_load(klefr_meter *m, uint64_t t_us)
{
    klefr_settings def;
    klefr_settings_defaults(&def, m->model, m->serial);

    klefr_store *st = &m->store;
    *st = (klefr_store){.last_save_us = t_us};

    klefr_copy_state state[KLEFR_STORE_COPIES];
    klefr_settings set[KLEFR_STORE_COPIES];
    klefr_regs regs[KLEFR_STORE_COPIES];
    uint32_t seq[KLEFR_STORE_COPIES] = {0};
    klefr_save_kind kind[KLEFR_STORE_COPIES] = {KLEFR_SAVE_RUNNING, KLEFR_SAVE_RUNNING};
    uint8_t img[KLEFR_STORE_IMAGE_LEN];
    int best = -1;
    for (unsigned c = 0; c < KLEFR_STORE_COPIES; c++) {
        set[c] = def;
        memset(&regs[c], 0, sizeof regs[c]);
        if (m->hal->nvm_read(m->hal->arg, c * KLEFR_STORE_SLOT_SIZE, img, sizeof img) != 0)
            state[c] = KLEFR_COPY_CORRUPT;
        else
            state[c] = klefr_store_decode(img, sizeof img, &set[c], &regs[c], &seq[c], &kind[c]);
        if (state[c] == KLEFR_COPY_VALID && (best < 0 || klefr_seq_newer(seq[c], seq[best])))
            best = (int)c;
        char line[32] = "store: copy ";
        line[12] = (char)('0' + c);
        strcat(line, " ");
        strcat(line, klefr_copy_state_to_str(state[c]));
        klefr_meter_trace(m, line);
    }

    if (best >= 0) {
        m->settings = set[best];
        m->regs = regs[best];
        if (klefr_settings_validate(&m->settings, m->model, m->serial) > 0)
            klefr_meter_trace(m, "store: out-of-range settings replaced by defaults");
        st->seq = seq[best];
        st->slot = (uint8_t)best;
        st->have_copy = true;
        st->saved_crc = content_crc(m);
        st->loaded_kind = kind[best];
        klefr_meter_trace(m, best == 0 ? "store: loaded copy 0" : "store: loaded copy 1");
        return 0;
    }

    m->settings = def;
    memset(&m->regs, 0, sizeof m->regs);
    bool any_corrupt = false, any_blank = false;
    for (unsigned c = 0; c < KLEFR_STORE_COPIES; c++) {
        any_corrupt |= state[c] == KLEFR_COPY_CORRUPT;
        any_blank |= state[c] == KLEFR_COPY_BLANK;
    }
    if (!any_corrupt) {
        klefr_meter_trace(m, "store: blank EEPROM, defaults");
        return 1;
    }
    if (any_blank) {
        /* Blank + corrupt: the very first save was cut by a power failure;
         * nothing was ever committed, so this is a blank meter (docs/nvm.md). */
        klefr_meter_trace(m, "store: first save was interrupted, defaults");
        return 1;
    }
    klefr_meter_trace(m, "store: both copies corrupt, defaults (Err 01)");
    return -1;
}

static int save(klefr_meter *m, uint64_t t_us, klefr_save_kind kind)
{
    klefr_store *st = &m->store;
    uint32_t seq = st->seq + 1u;
    uint8_t slot = st->have_copy ? (uint8_t)(1u - st->slot) : 0u;
    uint32_t addr = slot * KLEFR_STORE_SLOT_SIZE;
    uint8_t img[KLEFR_STORE_IMAGE_LEN];
    klefr_store_encode(img, &m->settings, &m->regs, seq, kind);

    st->last_save_us = t_us;
    if (m->hal->nvm_write(m->hal->arg, addr, img, sizeof img) != 0) {
        klefr_meter_trace(m, "store: write failed");
        return -1;
    }
    /* Read back: a worn-out cell fails here, not at the next power-up. */
    uint8_t chk[KLEFR_STORE_IMAGE_LEN];
    if (m->hal->nvm_read(m->hal->arg, addr, chk, sizeof chk) != 0 ||
        memcmp(chk, img, sizeof img) != 0) {
        klefr_meter_trace(m, "store: verify failed");
        return -2;
    }
    st->seq = seq;
    st->slot = slot;
    st->have_copy = true;
    st->saved_crc = content_crc(m);
    return 0;
}

int klefr_store_save(klefr_meter *m, uint64_t t_us)
{
    return save(m, t_us, KLEFR_SAVE_RUNNING);
}

int klefr_store_save_power_fail(klefr_meter *m, uint64_t t_us)
{
    return save(m, t_us, KLEFR_SAVE_POWER_FAIL);
}

void klefr_store_power_up(klefr_meter *m, uint64_t t_us)
{
    /* The meter is powering up, so it was turned off: if the newest image is
     * not the power-fail save's, that save was cut (or never ran) and the
     * power-down is not in the count yet. A blank meter was never off. */
    if (m->store.have_copy && m->store.loaded_kind != KLEFR_SAVE_POWER_FAIL) {
        m->regs.power_downs++;
        klefr_meter_trace(m, "store: power-down without its save, counted now");
    }
    /* A running image over the older copy: the power-fail save of this run
     * may be cut too, and the power-up after it must see this one. */
    if (klefr_store_save(m, t_us) != 0 && m->error == KLEFR_ERR_NONE)
        m->error = KLEFR_ERR_EEPROM;
}

void klefr_store_tick(klefr_meter *m, uint64_t t_us)
{
    klefr_store *st = &m->store;
    if (t_us < st->last_save_us)
        st->last_save_us = t_us; /* clock restarted: count the interval from now */
    if (t_us - st->last_save_us < (uint64_t)KLEFR_SAVE_INTERVAL_S * 1000000u)
        return;
    /* Nothing changed since the last save: no write, no wear. */
    if (st->have_copy && content_crc(m) == st->saved_crc) {
        st->last_save_us = t_us;
        return;
    }
    /* The supply is up, so a failed write is a failing EEPROM: Err 01
     * (unless Err 02 is already shown). */
    if (klefr_store_save(m, t_us) != 0 && m->error == KLEFR_ERR_NONE)
        m->error = KLEFR_ERR_EEPROM;
}
