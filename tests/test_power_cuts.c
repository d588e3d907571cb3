/* Power-cut campaign (issue 13): a meter lives through thousands of power
 * cuts, each at a seeded random point (page, torn bytes, garbled or not) of
 * one EEPROM write path: the periodic save, a settings save from Modbus,
 * M-bus, the optical port and the menu, the voltage-collapse save, the
 * power-fail save and the power-up save. After every restart:
 *  - the image loads (no Err 01);
 *  - registers and settings are exactly those of the last save that
 *    completed or of the one that was cut (never a mixture), energy never
 *    goes backwards, is never more than the truth (the meter's RAM when the
 *    supply went) and at most one save interval of energy behind it;
 *  - the power-down counter is the number of times the meter went off, less
 *    at most the cuts that hit a power-up save (docs/nvm.md).
 * Then both copies corrupted: Err 01, defaults, zero registers, nothing
 * written. KLEFR_POWER_CUTS sets the number of cuts (default 10,000). */
#include "check_run.h"
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "afe_synth.h"
#include "eeprom.h"
#include "klefr/meter.h"
#include "proto/iec62056.h"
#include "proto/mbus.h"
#include "proto/modbus_rtu.h"

typedef enum {
    P_PERIODIC,
    P_MODBUS,
    P_MBUS,
    P_IEC,
    P_MENU,
    P_COLLAPSE,
    P_POWER_FAIL,
    P_POWER_UP,
    P_COUNT
} path;

static const char *const path_names[P_COUNT] = {"periodic", "modbus", "mbus", "iec",
                                                "menu", "voltage collapse", "power fail",
                                                "power up"};

/* The meter, its EEPROM, and what the writes did. */
typedef struct {
    klefr_settings s;
    klefr_regs r;
} content;

static struct {
    klefr_meter m;
    klefr_eeprom ee;
    klefr_uart_cfg cfg[KLEFR_PORT_COUNT];
    uint64_t t;
    bool dead;          /* the supply went during a write: nothing more is written */
    bool cut_armed;     /* the next write is cut */
    uint32_t cut_page, torn, garble;
    content committed;  /* the last image written completely */
    content attempted;  /* the image the cut hit */
    bool have_attempt;
    klefr_regs truth;   /* the meter's RAM when the supply went */
    uint64_t rng;
    unsigned cuts[P_COUNT], tried[P_COUNT];
} L;

static uint64_t rnd(void)
{
    L.rng ^= L.rng >> 12, L.rng ^= L.rng << 25, L.rng ^= L.rng >> 27;
    return L.rng * 0x2545F4914F6CDD1Dull;
}

static int h_read(void *arg, uint32_t a, void *b, uint32_t n)
{
    (void)arg;
    return klefr_eeprom_read(&L.ee, a, b, n);
}

/* Every save writes one whole image at the start of a copy: decode what is
 * being written, then let the EEPROM write it (or cut it). */
static int h_write(void *arg, uint32_t a, const void *b, uint32_t n)
{
    (void)arg;
    if (L.dead)
        return -1; /* the MCU is off */
    content c;
    uint32_t seq;
    ck_assert_uint_eq(a % KLEFR_STORE_SLOT_SIZE, 0);
    ck_assert_int_eq(klefr_store_decode(b, n, &c.s, &c.r, &seq, NULL), KLEFR_COPY_VALID);
    if (L.cut_armed) {
        L.cut_armed = false;
        L.ee.cut_after_pages = (int32_t)L.cut_page;
        L.ee.torn_bytes = L.torn;
        L.ee.torn_garble = L.garble;
    }
    int rc = klefr_eeprom_write(&L.ee, a, b, n);
    if (rc == 0) {
        L.committed = c;
        return 0;
    }
    L.dead = true;
    L.attempted = c;
    L.have_attempt = true;
    L.truth = L.m.regs;
    return rc;
}

static void h_config(void *arg, klefr_port p, const klefr_uart_cfg *c, uint64_t t)
{
    (void)arg, (void)t;
    L.cfg[p] = *c;
}

static const klefr_hal HAL = {
    .nvm_read = h_read, .nvm_write = h_write, .uart_config = h_config};

/* 10 ms ticks up to t, as the platform gives them while things happen. */
static void tick_to(uint64_t t)
{
    while (L.t + 10000 <= t) {
        L.t += 10000;
        klefr_meter_tick(&L.m, L.t);
    }
    L.t = t;
}

/* A quiet stretch of meter time in one tick: the store only compares the
 * time with its interval, so this is the save the 10 ms ticks would give. */
static void jump_to(uint64_t t)
{
    L.t = t;
    klefr_meter_tick(&L.m, t);
}

static void send(klefr_port port, const uint8_t *b, size_t n)
{
    const klefr_uart_cfg *c = &L.cfg[port];
    uint32_t ch = (10u + (c->parity != KLEFR_PARITY_NONE) + (c->data_bits == 8)) * 1000000u /
                  (c->baud ? c->baud : 9600);
    for (size_t k = 0; k < n && !L.dead; k++) {
        tick_to(L.t + ch);
        klefr_meter_uart_rx(&L.m, port, b[k], 0, L.t);
    }
}

/* ---- the write paths ---- */

static uint8_t new_calc(void)
{
    static const uint8_t codes[] = {1, 4, 5, 6, 9, 10};
    uint8_t c;
    do
        c = codes[rnd() % 6];
    while (c == L.m.settings.calc_code);
    return c;
}

static void via_modbus(void)
{
    uint8_t f[8] = {L.m.settings.modbus_id, 6, 0x40, 0x0F, 0, new_calc()};
    uint16_t crc = klefr_crc16_modbus(f, 6);
    f[6] = (uint8_t)crc, f[7] = (uint8_t)(crc >> 8);
    send(KLEFR_PORT_BUS, f, 8);
}

static void via_mbus(void)
{
    uint8_t c = new_calc();
    uint8_t body[] = {0x53, L.m.settings.mbus_id, 0x51, 0x09, 0xFD, 0x3A,
                      (uint8_t)((c / 10) << 4 | c % 10)};
    uint8_t f[6 + sizeof body];
    f[0] = f[3] = 0x68, f[1] = f[2] = sizeof body;
    memcpy(f + 4, body, sizeof body);
    f[4 + sizeof body] = klefr_mbus_cs(body, sizeof body);
    f[5 + sizeof body] = 0x16;
    send(KLEFR_PORT_BUS, f, sizeof f);
}

static void iec_msg(const char *cmd, const char *data)
{
    char b[64];
    int n = snprintf(b, sizeof b, "\x01%s\x02%s\x03", cmd, data);
    b[n] = (char)klefr_iec_bcc((const uint8_t *)b + 1, (size_t)n - 1);
    send(KLEFR_PORT_IR, (const uint8_t *)b, (size_t)n + 1);
    tick_to(L.t + 400000);
}

static void via_iec(void)
{
    send(KLEFR_PORT_IR, (const uint8_t *)"/?!\r\n", 5);
    tick_to(L.t + 1000000); /* reaction time + identification at 300 baud */
    send(KLEFR_PORT_IR, (const uint8_t *)"\x06" "051\r\n", 6);
    tick_to(L.t + 700000); /* the switch to 9600, P0 */
    iec_msg("P1", "(0000)");
    char w[32];
    snprintf(w, sizeof w, "C.90.1(%u)", new_calc());
    iec_msg("W1", w);
    iec_msg("B0", "");
}

static void press(uint8_t buttons, uint64_t ms)
{
    klefr_meter_buttons(&L.m, buttons, L.t);
    tick_to(L.t + ms * 1000);
    klefr_meter_buttons(&L.m, 0, L.t);
    tick_to(L.t + 100000);
}

/* The menu: the resettable day counter (main menu page 3, 7.9): hold right
 * 3 s, then 5 s; the reset is saved. */
static void via_menu(void)
{
    for (int k = 0; k < 4; k++)
        press(KLEFR_BTN_RIGHT, 200);
    press(KLEFR_BTN_RIGHT, 3200);
    press(KLEFR_BTN_RIGHT, 5200);
    press(KLEFR_BTN_LEFT, 200);
}

/* The supply sags below 100 V: the metering module saves (no current, so
 * no energy moves while it does). */
static void via_collapse(void)
{
    static klefr_synth syn;
    klefr_load l;
    memset(&l, 0, sizeof l);
    l.v_rms = 60;
    l.freq_hz = 50;
    klefr_synth_init(&syn, &l, NULL);
    int32_t v[40], i[40];
    for (int k = 0; k < 100 && !L.dead; k++) { /* 1 s */
        syn.afe.fill(&syn.afe, v, i, 40);
        klefr_meter_adc(&L.m, v, i, 40, L.t);
        tick_to(L.t + 10000);
    }
}

/* ---- one life: power-up, energy, a write, maybe a cut ---- */

#define P_MAX_UW 23000000000ull /* 23 kW in microwatts */

/* s seconds at up to 23 kW (6,388,888 uWh a second), never nothing. */
static void add_energy(uint64_t s)
{
    uint64_t uwh = P_MAX_UW / 3600u * s * (1 + rnd() % 1000) / 1000;
    int t = (int)(rnd() % 2);
    L.m.regs.act_fwd_uwh[t] += uwh;
    L.m.regs.day_fwd_uwh += uwh;
    L.m.regs.react_rev_uvarh[t] += uwh / 3;
    if (rnd() % 4 == 0)
        L.m.regs.act_rev_uwh[1 - t] += uwh / 2;
}

static uint64_t energy(const klefr_regs *r)
{
    return r->act_fwd_uwh[0] + r->act_fwd_uwh[1] + r->act_rev_uwh[0] + r->act_rev_uwh[1] +
           r->react_fwd_uvarh[0] + r->react_fwd_uvarh[1] + r->react_rev_uvarh[0] +
           r->react_rev_uvarh[1];
}

static bool same(const content *a, const klefr_settings *s, const klefr_regs *r)
{
    uint8_t x[KLEFR_STORE_IMAGE_LEN], y[KLEFR_STORE_IMAGE_LEN];
    klefr_regs ra = a->r, rb = *r;
    ra.power_downs = rb.power_downs = 0; /* checked on its own */
    klefr_store_encode(x, &a->s, &ra, 0, KLEFR_SAVE_RUNNING);
    klefr_store_encode(y, s, &rb, 0, KLEFR_SAVE_RUNNING);
    return !memcmp(x, y, sizeof x);
}

static void campaign(klefr_model model, unsigned cuts_wanted, uint64_t seed)
{
    memset(&L, 0, sizeof L);
    L.rng = seed;
    klefr_eeprom_open(&L.ee, NULL, NULL, 0);
    L.t = 1000000;
    klefr_meter_init(&L.m, &HAL, model, KLEFR_DEFAULT_SERIAL, L.t);
    uint32_t offs = 0, powerup_cuts = 0;
    uint64_t last_energy = 0;
    path p_list[P_COUNT];
    int np = 0;
    for (int p = 0; p < P_COUNT; p++)
        if ((p != P_MODBUS || klefr_model_has_modbus(model)) &&
            (p != P_MBUS || klefr_model_has_mbus(model)))
            p_list[np++] = (path)p;
    unsigned cuts = 0;
    for (unsigned round = 0; cuts < cuts_wanted; round++) {
        path p = p_list[round % (unsigned)np];
        L.tried[p]++;
        /* Run a while: energy and time in steps of up to 60 s, periodic
         * saves as they fall due. */
        for (int k = (int)(rnd() % 40); k >= 0; k--) {
            uint64_t s = 1 + rnd() % 60;
            add_energy(s);
            jump_to(L.t + s * 1000000u);
        }
        bool cut = rnd() % 8 != 0; /* one write in eight completes */
        L.cut_armed = cut;
        L.cut_page = (uint32_t)(rnd() % 4);
        L.torn = (uint32_t)(rnd() % 33);
        L.garble = (uint32_t)(rnd() % 2);
        L.have_attempt = false;
        switch (p) {
        case P_PERIODIC:
            add_energy(1 + rnd() % 60);
            jump_to(L.m.store.last_save_us + (uint64_t)KLEFR_SAVE_INTERVAL_S * 1000000u + 10000);
            break;
        case P_MODBUS:
            via_modbus();
            break;
        case P_MBUS:
            via_mbus();
            break;
        case P_IEC:
            via_iec();
            break;
        case P_MENU:
            via_menu();
            break;
        case P_COLLAPSE:
            via_collapse();
            break;
        case P_POWER_FAIL: /* the cut waits for the power-fail save below */
        case P_POWER_UP:
        case P_COUNT:
            break;
        }
        if (p == P_POWER_UP) {
            /* a clean power-fail first; the cut hits the power-up after it */
            L.cut_armed = false;
            klefr_meter_power_fail(&L.m, L.t);
            offs++;
            L.cut_armed = cut;
            L.t += 1000000;
            klefr_meter_init(&L.m, &HAL, model, KLEFR_DEFAULT_SERIAL, L.t);
            if (L.dead)
                powerup_cuts++;
        }
        ck_assert_msg(p == P_POWER_FAIL || !L.cut_armed || !cut, "%s: the path made no write",
                      path_names[p]);
        if (!L.dead) {
            /* The supply goes: the power-fail save (cut here on that path). */
            klefr_meter_power_fail(&L.m, L.t);
            if (!L.dead)
                L.truth = L.m.regs; /* else h_write took it at the cut */
        }
        offs++;
        if (L.dead) {
            L.cuts[p]++;
            cuts++;
        }
        L.cut_armed = false;
        /* Restart. */
        L.dead = false;
        L.t += 1000000 + rnd() % 1000000;
        klefr_meter_init(&L.m, &HAL, model, KLEFR_DEFAULT_SERIAL, L.t);
        const klefr_meter *m = &L.m;
        ck_assert_msg(m->error == KLEFR_ERR_NONE, "cut %u (%s): Err %02u", cuts, path_names[p],
                      m->error);
        bool old = same(&L.committed, &m->settings, &m->regs);
        bool cut_one = L.have_attempt && same(&L.attempted, &m->settings, &m->regs);
        ck_assert_msg(old || cut_one, "cut %u (%s, page %u, torn %u): a mixture of images",
                      cuts, path_names[p], L.cut_page, L.torn);
        uint64_t e = energy(&m->regs), truth = energy(&L.truth);
        ck_assert_msg(e >= last_energy, "cut %u (%s): energy went back", cuts, path_names[p]);
        ck_assert_msg(e <= truth, "cut %u (%s): more energy than counted", cuts, path_names[p]);
        /* At most one save interval at 23 kW (+ the test's 60 s steps: the
         * energy of a step is counted at its start), in each of the three
         * registers add_energy feeds (1 + 1/2 + 1/3 of it). */
        ck_assert_msg(truth - e <= P_MAX_UW / 3600 * (KLEFR_SAVE_INTERVAL_S + 120) * 11 / 6,
                      "cut %u (%s): lost %llu uWh", cuts, path_names[p],
                      (unsigned long long)(truth - e));
        last_energy = e;
        ck_assert_msg(m->regs.power_downs <= offs && m->regs.power_downs + powerup_cuts >= offs,
                      "cut %u (%s): %u power downs after %u offs (%u cut power-up saves)", cuts,
                      path_names[p], m->regs.power_downs, offs, powerup_cuts);
        L.committed.s = m->settings; /* what the power-up save wrote */
        L.committed.r = m->regs;
    }
}

static unsigned cuts_wanted(void)
{
    const char *e = getenv("KLEFR_POWER_CUTS");
    return e && atoi(e) > 0 ? (unsigned)atoi(e) : 10000u;
}

START_TEST(cuts_across_every_write_path)
{
    static const klefr_model models[] = {KLEFR_MODEL_6924, KLEFR_MODEL_6923, KLEFR_MODEL_6922,
                                         KLEFR_MODEL_6921};
    static const unsigned share[] = {40, 30, 15, 15}; /* % of the cuts: the bus models' */
    unsigned total[P_COUNT] = {0};
    for (size_t k = 0; k < 4; k++) {
        campaign(models[k], (cuts_wanted() * share[k] + 99) / 100, 0x9E3779B97F4A7C15ull * (k + 1));
        for (int p = 0; p < P_COUNT; p++)
            total[p] += L.cuts[p];
    }
    unsigned sum = 0;
    for (int p = 0; p < P_COUNT; p++) {
        printf("power cuts during the %s save: %u\n", path_names[p], total[p]);
        ck_assert_msg(total[p] >= cuts_wanted() / 40, "too few cuts on the %s path", path_names[p]);
        sum += total[p];
    }
    printf("%u power cuts, every restart checked\n", sum);
    ck_assert_uint_ge(sum, cuts_wanted());
}
END_TEST

/* Both copies corrupt: Err 01, defaults, zero registers, and the power-up
 * writes nothing (no invented image); a real save then repairs it. */
START_TEST(both_copies_corrupt_invent_nothing)
{
    L.rng = 77;
    for (int k = 0; k < 300; k++) {
        memset(&L, 0, sizeof L);
        L.rng = 77 + (uint64_t)k;
        klefr_eeprom_open(&L.ee, NULL, NULL, 0);
        L.t = 1000000;
        klefr_meter_init(&L.m, &HAL, KLEFR_MODEL_6924, KLEFR_DEFAULT_SERIAL, L.t);
        add_energy(500);
        klefr_meter_power_fail(&L.m, L.t);
        for (unsigned c = 0; c < 2; c++) { /* a random byte of each copy's image */
            uint8_t *b = L.ee.mem + c * KLEFR_STORE_SLOT_SIZE + rnd() % KLEFR_STORE_IMAGE_LEN;
            *b = (uint8_t)(*b ^ (1 + rnd() % 255));
        }
        uint8_t before[KLEFR_NVM_SIZE];
        memcpy(before, L.ee.mem, sizeof before);
        klefr_meter_init(&L.m, &HAL, KLEFR_MODEL_6924, KLEFR_DEFAULT_SERIAL, L.t + 1000000);
        ck_assert_int_eq(L.m.error, KLEFR_ERR_EEPROM);
        ck_assert_uint_eq(energy(&L.m.regs), 0);
        ck_assert_uint_eq(L.m.regs.power_downs, 0);
        ck_assert_uint_eq(L.m.regs.day_fwd_uwh, 0);
        klefr_settings d;
        klefr_settings_defaults(&d, KLEFR_MODEL_6924, KLEFR_DEFAULT_SERIAL);
        content dc = {.s = d};
        ck_assert(same(&dc, &L.m.settings, &L.m.regs));
        ck_assert(!memcmp(before, L.ee.mem, sizeof before));
        klefr_meter_power_fail(&L.m, L.t + 2000000);
        klefr_meter_init(&L.m, &HAL, KLEFR_MODEL_6924, KLEFR_DEFAULT_SERIAL, L.t + 3000000);
        ck_assert_int_eq(L.m.error, KLEFR_ERR_NONE);
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("power-cuts");
    TCase *tc = tcase_create("campaign");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, cuts_across_every_write_path);
    tcase_add_test(tc, both_copies_corrupt_invent_nothing);
    suite_add_tcase(s, tc);
    return klefr_check_run(s);
}
