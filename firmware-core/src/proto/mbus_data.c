/* The 6923 M-bus application layer (manual A2.2): the RSP_UD telegram and
 * the CI 51 write records. A read block or a write record is one table row.
 * Multi-byte data is LSB first (EN 13757-3), BCD where the DIF says so. */
#include "proto/mbus_data.h"

#include <string.h>

#include "klefr/meter.h"
#include "metering/metering.h"
#include "proto/mbus.h"

/* ---- read blocks: exactly the nine of the manual, in its order ---- */
typedef struct {
    uint8_t dif[2]; /* DIF, DIFE (0 = none) */
    int tariff;     /* -1 total, KLEFR_T1, KLEFR_T2 */
    int kind;       /* 0 total per calc code, 1 forward, 2 reverse */
} block;

static const block blocks[] = {
    {{0x0C, 0x00}, -1, 0},       {{0x8C, 0x10}, KLEFR_T1, 0}, {{0x8C, 0x20}, KLEFR_T2, 0},
    {{0x1C, 0x00}, -1, 1},       {{0x9C, 0x10}, KLEFR_T1, 1}, {{0x9C, 0x20}, KLEFR_T2, 1},
    {{0x2C, 0x00}, -1, 2},       {{0xAC, 0x10}, KLEFR_T1, 2}, {{0xAC, 0x20}, KLEFR_T2, 2},
};

#define VIF_ENERGY_10WH 0x04u

void klefr_mbus_bcd8_10wh(int64_t uwh, uint8_t out[4])
{
    bool neg = uwh < 0;
    uint64_t units = (uint64_t)(neg ? -uwh : uwh) / 10000000u; /* 10 Wh, truncated */
    /* 8 digits roll over like the register; a negative value keeps 7. */
    units %= neg ? 10000000u : 100000000u;
    for (int k = 0; k < 4; k++) {
        out[k] = (uint8_t)(units % 10u | (units / 10u % 10u) << 4);
        units /= 100u;
    }
    if (neg)
        out[3] |= 0xF0u;
}

static void put_bcd8(uint32_t bcd, uint8_t *out)
{
    for (int k = 0; k < 4; k++)
        out[k] = (uint8_t)(bcd >> (8 * k));
}

size_t klefr_mbus_user_data(const klefr_meter *m, uint8_t access, uint8_t *out)
{
    size_t n = 0;
    put_bcd8(m->settings.mbus_secondary, out);
    n += 4;
    out[n++] = (uint8_t)(KLEFR_MBUS_MANUFACTURER & 0xFFu); /* CD 25: LSB first */
    out[n++] = (uint8_t)(KLEFR_MBUS_MANUFACTURER >> 8);
    out[n++] = KLEFR_MBUS_VERSION;
    out[n++] = KLEFR_MBUS_MEDIUM;
    out[n++] = access;
    out[n++] = m->error ? 0x02u : 0x00u; /* manual: 00 OK, 02 error */
    out[n++] = 0;                        /* signature 00 00 */
    out[n++] = 0;
    for (size_t b = 0; b < sizeof blocks / sizeof blocks[0]; b++) {
        const block *r = &blocks[b];
        out[n++] = r->dif[0];
        if (r->dif[0] & 0x80u)
            out[n++] = r->dif[1];
        out[n++] = VIF_ENERGY_10WH;
        int64_t uwh = r->kind == 0   ? klefr_total_active_uwh(m, r->tariff)
                      : r->kind == 1 ? (int64_t)klefr_act_fwd_uwh(&m->regs, r->tariff)
                                     : (int64_t)klefr_act_rev_uwh(&m->regs, r->tariff);
        klefr_mbus_bcd8_10wh(uwh, out + n);
        n += 4;
    }
    return n;
}

/* ---- write records (CI 51) ---- */
static bool bcd_value(const uint8_t *d, size_t n, uint32_t *v)
{
    uint32_t r = 0;
    for (size_t k = n; k-- > 0;) {
        unsigned hi = d[k] >> 4, lo = d[k] & 0xFu;
        if (hi > 9 || lo > 9)
            return false;
        r = r * 100u + hi * 10u + lo;
    }
    *v = r;
    return true;
}

/* Check the value; apply it only when apply is set. */
typedef bool (*rec_fn)(klefr_meter *m, const uint8_t *v, bool apply, uint64_t t);

static bool w_primary(klefr_meter *m, const uint8_t *v, bool apply, uint64_t t)
{
    if (v[0] > KLEFR_MBUS_ADDR_MAX) /* binary (DIF 01), 0..250 (manual 7.12) */
        return false;
    if (apply) {
        m->settings.mbus_id = v[0];
        klefr_meter_settings_changed(m, t);
    }
    return true;
}

static bool w_secondary(klefr_meter *m, const uint8_t *v, bool apply, uint64_t t)
{
    uint32_t x;
    if (!bcd_value(v, 4, &x)) /* 8 BCD digits, LSB first as read */
        return false;
    if (apply) {
        m->settings.mbus_secondary = (uint32_t)v[0] | (uint32_t)v[1] << 8 |
                                     (uint32_t)v[2] << 16 | (uint32_t)v[3] << 24;
        klefr_meter_settings_changed(m, t);
    }
    return true;
}

static bool w_tariff(klefr_meter *m, const uint8_t *v, bool apply, uint64_t t)
{
    if (v[0] != 0x01 && v[0] != 0x02)
        return false;
    if (apply)
        klefr_meter_set_tariff(m, v[0], true, t);
    return true;
}

static bool w_calc(klefr_meter *m, const uint8_t *v, bool apply, uint64_t t)
{
    uint32_t c;
    if (!bcd_value(v, 1, &c) || !klefr_calc_code_valid(c)) /* 10 is sent as 0x10 */
        return false;
    if (apply) {
        m->settings.calc_code = (uint8_t)c;
        klefr_meter_settings_changed(m, t);
    }
    return true;
}

static bool w_s0(klefr_meter *m, const uint8_t *v, bool apply, uint64_t t)
{
    uint32_t centi; /* imp/kWh x 100: 00 00 01 00 = 10000 = 100 imp/kWh */
    if (!bcd_value(v, 4, &centi) || !klefr_s0_rate_valid(centi))
        return false;
    if (apply) {
        m->settings.s0_rate_centi = centi;
        klefr_meter_settings_changed(m, t);
    }
    return true;
}

static bool w_day_reset(klefr_meter *m, const uint8_t *v, bool apply, uint64_t t)
{
    (void)v; /* value ignored, always 0 */
    if (apply) {
        klefr_day_counter_reset(m, t);
        klefr_meter_settings_changed(m, t);
    }
    return true;
}

static bool w_pdc_reset(klefr_meter *m, const uint8_t *v, bool apply, uint64_t t)
{
    (void)v; /* value ignored, always 0 */
    if (apply) {
        m->regs.power_downs = 0;
        klefr_meter_settings_changed(m, t);
    }
    return true;
}

typedef struct {
    uint8_t head[5]; /* DIF, VIF(s) and anything before the value */
    uint8_t head_len;
    uint8_t data_len;
    rec_fn fn;
    const char *name;
} record;

static const record records[] = {
    {{0x01, 0x7A}, 2, 1, w_primary, "primary_address"},
    {{0x0C, 0x79}, 2, 4, w_secondary, "secondary_address"},
    /* VIF 7C: plain-text unit follows, length 01, "T"; DIF 09: 2-digit BCD. */
    {{0x09, 0x7C, 0x01, 0x54}, 4, 1, w_tariff, "tariff"},
    {{0x09, 0xFD, 0x3A}, 3, 1, w_calc, "calc_code"},
    {{0x0C, 0xFD, 0x3A}, 3, 4, w_s0, "s0_rate"},
    {{0x0C, 0x04}, 2, 4, w_day_reset, "resettable_kwh_reset"},
    {{0x0A, 0xFD, 0x60}, 3, 2, w_pdc_reset, "power_down_counter_reset"},
};
#define NRECORDS (sizeof records / sizeof records[0])

static const record *find(const uint8_t *d, size_t n)
{
    for (size_t k = 0; k < NRECORDS; k++) {
        const record *r = &records[k];
        if (n >= (size_t)r->head_len + r->data_len && !memcmp(d, r->head, r->head_len))
            return r;
    }
    return NULL;
}

const char *klefr_mbus_record_name(const uint8_t *d, size_t n)
{
    const record *r = find(d, n);
    return r ? r->name : "unknown";
}

/* Two passes: check every record, then apply them all. */
bool klefr_mbus_write(klefr_meter *m, const uint8_t *d, size_t n, uint64_t t_us)
{
    if (n == 0)
        return false;
    for (int apply = 0; apply < 2; apply++) {
        size_t k = 0;
        while (k < n) {
            const record *r = find(d + k, n - k);
            if (!r || !r->fn(m, d + k + r->head_len, apply != 0, t_us))
                return false;
            k += (size_t)r->head_len + r->data_len;
        }
    }
    return true;
}

void klefr_mbus_describe(klefr_tbuf *b, const uint8_t *ud, size_t n)
{
    static const char *names[] = {"total",   "total_t1",   "total_t2",
                                  "forward", "forward_t1", "forward_t2",
                                  "reverse", "reverse_t1", "reverse_t2"};
    size_t k = 12; /* after the header */
    for (size_t r = 0; r < sizeof names / sizeof names[0] && k < n; r++) {
        k += (ud[k] & 0x80u) ? 3 : 2; /* DIF [DIFE] VIF */
        if (k + 4 > n)
            break;
        const uint8_t *v = ud + k;
        k += 4;
        klefr_tb_str(b, " ");
        klefr_tb_str(b, names[r]);
        klefr_tb_str(b, "=");
        bool neg = (v[3] >> 4) == 0xF;
        uint64_t x = 0;
        for (int j = 3; j >= 0; j--)
            x = x * 100u + ((j == 3 && neg) ? 0u : (v[j] >> 4) * 10u) + (v[j] & 0xFu);
        if (neg)
            klefr_tb_str(b, "-");
        klefr_tb_uint(b, x / 100u, 1);
        klefr_tb_str(b, ".");
        klefr_tb_uint(b, x % 100u, 2);
    }
}
