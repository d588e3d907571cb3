/* Settings and non-volatile storage: image layout, two-copy protocol under
 * power cuts, Err 01 / Err 02, power-down counter, periodic save. */
#include "check_run.h"
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sim.h"

#define SLOT KLEFR_STORE_SLOT_SIZE
#define IMG KLEFR_STORE_IMAGE_LEN

static klefr_sim sim;  /* each test runs in its own process (CK_FORK) */
static klefr_sim sim2; /* a second "process" opening the same file */

static void boot(klefr_sim *s, klefr_model model, const char *path)
{
    char err[256];
    ck_assert_msg(klefr_sim_init(s, model, KLEFR_DEFAULT_SERIAL, NULL, path, err, sizeof err) == 0,
                  "%s", err);
}

static void power_cycle(klefr_sim *s)
{
    klefr_sim_power(s, false);
    klefr_sim_power(s, true);
}

/* Distinct, non-default, valid settings and distinct register values. */
static void make_settings(klefr_settings *s)
{
    *s = (klefr_settings){.modbus_id = 247,
                          .mbus_id = 250,
                          .mbus_secondary = 0x87654321,
                          .baud = 2400,
                          .parity = KLEFR_PARITY_ODD,
                          .s0_rate_centi = 1,
                          .calc_code = 10,
                          .lcd_cycle_s = 30,
                          .backlight = KLEFR_BL_OFF,
                          .password = 9999,
                          .obis = true,
                          .tariff = 2,
                          .scroll_mask = 0xA5C3E1F7u};
}

static void make_regs(klefr_regs *r, uint64_t seed)
{
    memset(r, 0, sizeof *r);
    uint64_t v = seed * 0x9E3779B97F4A7C15ull + 0x0102030405060708ull;
    for (int t = 0; t < KLEFR_TARIFFS; t++) {
        r->act_fwd_uwh[t] = v += 0x1111111111ull;
        r->act_rev_uwh[t] = v += 0x2222222222ull;
        r->react_fwd_uvarh[t] = v += 0x3333333333ull;
        r->react_rev_uvarh[t] = v += 0x4444444444ull;
    }
    r->day_fwd_uwh = v + 0xFEDCBA9876543210ull;
    r->power_downs = (uint32_t)(seed * 7u + 3u);
}

static void assert_settings_eq(const klefr_settings *a, const klefr_settings *b)
{
    ck_assert_uint_eq(a->modbus_id, b->modbus_id);
    ck_assert_uint_eq(a->mbus_id, b->mbus_id);
    ck_assert_uint_eq(a->mbus_secondary, b->mbus_secondary);
    ck_assert_uint_eq(a->baud, b->baud);
    ck_assert_int_eq(a->parity, b->parity);
    ck_assert_uint_eq(a->s0_rate_centi, b->s0_rate_centi);
    ck_assert_uint_eq(a->calc_code, b->calc_code);
    ck_assert_uint_eq(a->lcd_cycle_s, b->lcd_cycle_s);
    ck_assert_uint_eq(a->backlight, b->backlight);
    ck_assert_uint_eq(a->password, b->password);
    ck_assert_int_eq(a->obis, b->obis);
    ck_assert_uint_eq(a->tariff, b->tariff);
    ck_assert_uint_eq(a->scroll_mask, b->scroll_mask);
}

static void assert_regs_eq(const klefr_regs *a, const klefr_regs *b)
{
    for (int t = 0; t < KLEFR_TARIFFS; t++) {
        ck_assert_uint_eq(a->act_fwd_uwh[t], b->act_fwd_uwh[t]);
        ck_assert_uint_eq(a->act_rev_uwh[t], b->act_rev_uwh[t]);
        ck_assert_uint_eq(a->react_fwd_uvarh[t], b->react_fwd_uvarh[t]);
        ck_assert_uint_eq(a->react_rev_uvarh[t], b->react_rev_uvarh[t]);
    }
    ck_assert_uint_eq(a->day_fwd_uwh, b->day_fwd_uwh);
    ck_assert_uint_eq(a->power_downs, b->power_downs);
}

static bool regs_eq(const klefr_regs *a, const klefr_regs *b)
{
    for (int t = 0; t < KLEFR_TARIFFS; t++)
        if (a->act_fwd_uwh[t] != b->act_fwd_uwh[t] || a->act_rev_uwh[t] != b->act_rev_uwh[t] ||
            a->react_fwd_uvarh[t] != b->react_fwd_uvarh[t] ||
            a->react_rev_uvarh[t] != b->react_rev_uvarh[t])
            return false;
    return a->day_fwd_uwh == b->day_fwd_uwh && a->power_downs == b->power_downs;
}

static void assert_defaults(const klefr_meter *m)
{
    const klefr_settings *s = &m->settings;
    ck_assert_uint_eq(s->modbus_id, 1);
    ck_assert_uint_eq(s->mbus_id, 0);
    ck_assert_uint_eq(s->mbus_secondary, 0x17060102u);
    ck_assert_uint_eq(s->baud, 9600);
    ck_assert_int_eq(s->parity, KLEFR_PARITY_EVEN);
    ck_assert_uint_eq(s->s0_rate_centi, 100000);
    ck_assert_uint_eq(s->calc_code, 1);
    ck_assert_uint_eq(s->lcd_cycle_s, 10);
    ck_assert_uint_eq(s->backlight, KLEFR_BL_BUTTON);
    ck_assert_uint_eq(s->password, 0);
    ck_assert(!s->obis);
    ck_assert_uint_eq(s->tariff, 1);
    ck_assert_uint_eq(s->scroll_mask, 0);
}

/* Write an image with a valid CRC straight into a slot of the EEPROM. */
static void put_image(klefr_sim *s, unsigned slot, const klefr_settings *st, const klefr_regs *r,
                      uint32_t seq)
{
    uint8_t img[IMG];
    klefr_store_encode(img, st, r, seq, KLEFR_SAVE_POWER_FAIL); /* loads without a count */
    memcpy(s->eeprom.mem + slot * SLOT, img, IMG);
}

/* Power-up of the meter on the EEPROM as it is (the sim's "process" goes on). */
static void reboot_sim(klefr_sim *s)
{
    klefr_meter_init(&s->meter, &s->hal, s->model, s->serial, s->t_us);
}

static char tmpdir[256];

static void make_tmpdir(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/klefr-store-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

/* A fresh temporary directory; path gets its eeprom.bin. */
static void tmp_eeprom(char path[300])
{
    make_tmpdir();
    snprintf(path, 300, "%s/eeprom.bin", tmpdir);
}

static void remove_tmpdir(void)
{
    DIR *d = opendir(tmpdir);
    if (!d)
        return;
    struct dirent *de;
    char p[600];
    while ((de = readdir(d)))
        if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) {
            snprintf(p, sizeof p, "%s/%s", tmpdir, de->d_name);
            unlink(p);
        }
    closedir(d);
    rmdir(tmpdir);
}

/* ---- Image format ------------------------------------------------------- */

START_TEST(crc32_check_value)
{
    ck_assert_uint_eq(klefr_crc32("123456789", 9), 0xCBF43926u); /* IEEE CRC-32 check */
    ck_assert_uint_eq(klefr_crc32("", 0), 0);
}
END_TEST

START_TEST(layout_is_fixed_little_endian)
{
    /* Offsets from docs/nvm.md: the bytes must not depend on the compiler. */
    klefr_settings s;
    klefr_regs r;
    make_settings(&s);
    memset(&r, 0, sizeof r);
    r.act_fwd_uwh[KLEFR_T1] = 0x0807060504030201ull;
    r.power_downs = 0xA1B2C3D4u;
    uint8_t img[IMG];
    klefr_store_encode(img, &s, &r, 0x11223344u, KLEFR_SAVE_POWER_FAIL);
    ck_assert_uint_eq(IMG, 119);
    const uint8_t hdr[] = {0x4B, 0x4C, 0x46, 0x52, 0x02, 0x00, 103, 0x00, 0x44, 0x33, 0x22, 0x11};
    ck_assert_mem_eq(img, hdr, sizeof hdr);
    ck_assert_uint_eq(img[12], 247); /* modbus_id */
    ck_assert_uint_eq(img[13], 250); /* mbus_id */
    const uint8_t sec[] = {0x21, 0x43, 0x65, 0x87};
    ck_assert_mem_eq(img + 14, sec, 4);              /* mbus_secondary */
    ck_assert_uint_eq(img[18] | img[19] << 8, 2400); /* baud */
    ck_assert_uint_eq(img[22], KLEFR_PARITY_ODD);    /* parity */
    ck_assert_uint_eq(img[23], 1);                   /* s0_rate_centi */
    ck_assert_uint_eq(img[27], 10);                  /* calc_code */
    ck_assert_uint_eq(img[28], 30);                  /* lcd_cycle_s */
    ck_assert_uint_eq(img[29], KLEFR_BL_OFF);        /* backlight */
    ck_assert_uint_eq(img[30] | img[31] << 8, 9999); /* password */
    ck_assert_uint_eq(img[32], 1);                   /* obis */
    ck_assert_uint_eq(img[33], 2);                   /* tariff */
    const uint8_t mask[] = {0xF7, 0xE1, 0xC3, 0xA5};
    ck_assert_mem_eq(img + 34, mask, 4); /* scroll_mask */
    const uint8_t e1[] = {1, 2, 3, 4, 5, 6, 7, 8};
    ck_assert_mem_eq(img + 38, e1, 8); /* act_fwd T1 */
    const uint8_t pd[] = {0xD4, 0xC3, 0xB2, 0xA1};
    ck_assert_mem_eq(img + 110, pd, 4); /* power_downs */
    ck_assert_uint_eq(img[114], 1);     /* written by the power-fail save */
    uint32_t crc = klefr_crc32(img, 115);
    ck_assert_uint_eq(img[115] | img[116] << 8 | img[117] << 16 | (uint32_t)img[118] << 24, crc);
}
END_TEST

START_TEST(decode_rejects_any_single_bit_error)
{
    klefr_settings s, so;
    klefr_regs r, ro;
    make_settings(&s);
    make_regs(&r, 5);
    uint8_t img[IMG];
    uint32_t seq = 0;
    klefr_store_encode(img, &s, &r, 42, KLEFR_SAVE_RUNNING);
    klefr_save_kind kind = KLEFR_SAVE_POWER_FAIL;
    ck_assert_int_eq(klefr_store_decode(img, IMG, &so, &ro, &seq, &kind), KLEFR_COPY_VALID);
    ck_assert_uint_eq(seq, 42);
    ck_assert_int_eq(kind, KLEFR_SAVE_RUNNING);
    for (unsigned bit = 0; bit < IMG * 8; bit++) {
        img[bit / 8] ^= (uint8_t)(1u << bit % 8);
        ck_assert_int_eq(klefr_store_decode(img, IMG, &so, &ro, &seq, NULL), KLEFR_COPY_CORRUPT);
        img[bit / 8] ^= (uint8_t)(1u << bit % 8);
    }
}
END_TEST

START_TEST(seq_wraps)
{
    ck_assert(klefr_seq_newer(1, 0));
    ck_assert(!klefr_seq_newer(0, 1));
    ck_assert(klefr_seq_newer(0, 0xFFFFFFFFu));
    ck_assert(!klefr_seq_newer(0xFFFFFFFFu, 0));

    /* Copy 1 (seq 0) is newer than copy 0 (seq 0xFFFFFFFF). */
    boot(&sim, KLEFR_MODEL_6924, NULL);
    klefr_settings s;
    klefr_regs a, b;
    klefr_settings_defaults(&s, KLEFR_MODEL_6924, KLEFR_DEFAULT_SERIAL);
    make_regs(&a, 1);
    make_regs(&b, 2);
    put_image(&sim, 0, &s, &a, 0xFFFFFFFFu);
    put_image(&sim, 1, &s, &b, 0);
    klefr_meter_init(&sim.meter, &sim.hal, sim.model, sim.serial, sim.t_us);
    assert_regs_eq(&sim.meter.regs, &b);
    /* Copy 1 was loaded; the power-up save went to the older copy 0, seq 1. */
    ck_assert_uint_eq(sim.meter.store.seq, 1);
    ck_assert_uint_eq(sim.meter.store.slot, 0);

    /* The next save goes to copy 1, seq 2, and wins. */
    make_regs(&sim.meter.regs, 3);
    ck_assert_int_eq(klefr_store_save(&sim.meter, sim.t_us), 0);
    klefr_regs c = sim.meter.regs;
    klefr_sim_power(&sim, false);
    klefr_sim_power(&sim, true);
    c.power_downs++;
    assert_regs_eq(&sim.meter.regs, &c);
}
END_TEST

/* ---- Load / save -------------------------------------------------------- */

static char trace_buf[512];
static void trace_collect(void *arg, const char *line)
{
    (void)arg;
    strncat(trace_buf, line, sizeof trace_buf - strlen(trace_buf) - 2);
    strcat(trace_buf, "\n");
}

/* The boot trace says what each copy held. */
START_TEST(load_traces_each_copy)
{
    boot(&sim, KLEFR_MODEL_6924, NULL);
    sim.trace = trace_collect;
    memset(sim.eeprom.mem + SLOT, 0xFF, SLOT); /* copy 1 blank again */
    klefr_meter_init(&sim.meter, &sim.hal, sim.model, sim.serial, sim.t_us);
    ck_assert_ptr_nonnull(strstr(trace_buf, "store: copy 0 valid\n"));
    ck_assert_ptr_nonnull(strstr(trace_buf, "store: copy 1 blank\n"));
    ck_assert_ptr_nonnull(strstr(trace_buf, "store: loaded copy 0\n"));
    /* copy 0 was the power-up save, not the power-fail save's */
    ck_assert_ptr_nonnull(strstr(trace_buf, "store: power-down without its save, counted now\n"));
}
END_TEST

START_TEST(blank_eeprom_gives_defaults)
{
    boot(&sim, KLEFR_MODEL_6924, NULL);
    ck_assert_int_eq(sim.meter.error, KLEFR_ERR_NONE);
    assert_defaults(&sim.meter);
    klefr_regs zero;
    memset(&zero, 0, sizeof zero);
    assert_regs_eq(&sim.meter.regs, &zero);
    /* The power-up writes one running image (docs/nvm.md, power downs). */
    ck_assert_uint_eq(sim.eeprom.bytes_written, IMG);
    klefr_settings s;
    klefr_regs r;
    uint32_t seq;
    klefr_save_kind kind;
    ck_assert_int_eq(klefr_store_decode(sim.eeprom.mem, IMG, &s, &r, &seq, &kind),
                     KLEFR_COPY_VALID);
    ck_assert_int_eq(kind, KLEFR_SAVE_RUNNING);
    ck_assert_uint_eq(r.power_downs, 0); /* a new meter was never turned off */
}
END_TEST

START_TEST(secondary_address_defaults_to_serial)
{
    char err[128];
    ck_assert_int_eq(
        klefr_sim_init(&sim, KLEFR_MODEL_6923, 0x00123456u, NULL, NULL, err, sizeof err), 0);
    ck_assert_uint_eq(sim.meter.settings.mbus_secondary, 0x00123456u);
}
END_TEST

START_TEST(round_trip_every_field)
{
    boot(&sim, KLEFR_MODEL_6924, NULL);
    klefr_settings s;
    klefr_regs r;
    make_settings(&s);
    make_regs(&r, 9);
    sim.meter.settings = s;
    sim.meter.regs = r;
    ck_assert_int_eq(klefr_store_save(&sim.meter, sim.t_us), 0);
    /* A fresh boot on the same EEPROM (no power-fail save in between: that
     * power-down is counted at the power-up). */
    klefr_meter_init(&sim.meter, &sim.hal, KLEFR_MODEL_6924, KLEFR_DEFAULT_SERIAL, sim.t_us);
    ck_assert_int_eq(sim.meter.error, KLEFR_ERR_NONE);
    assert_settings_eq(&sim.meter.settings, &s);
    r.power_downs++;
    assert_regs_eq(&sim.meter.regs, &r);
    ck_assert_uint_eq(sim.meter.tariff, 2); /* the saved tariff is active after boot */
}
END_TEST

START_TEST(settings_survive_power_cycle_in_file)
{
    char path[300];
    tmp_eeprom(path);
    boot(&sim, KLEFR_MODEL_6924, path);
    klefr_settings s;
    klefr_regs r;
    make_settings(&s);
    make_regs(&r, 4);
    sim.meter.settings = s;
    sim.meter.regs = r;
    ck_assert(klefr_sim_run_until(&sim, 1000000));
    power_cycle(&sim);
    r.power_downs++;
    assert_settings_eq(&sim.meter.settings, &s);
    assert_regs_eq(&sim.meter.regs, &r);

    /* Another process opens the file: same contents, no temporary left
     * (the first meter never saw its supply go: one more power-down). */
    boot(&sim2, KLEFR_MODEL_6924, path);
    ck_assert_int_eq(sim2.meter.error, KLEFR_ERR_NONE);
    assert_settings_eq(&sim2.meter.settings, &s);
    r.power_downs++;
    assert_regs_eq(&sim2.meter.regs, &r);
    char tmp[320];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    ck_assert_int_ne(access(tmp, F_OK), 0);
    remove_tmpdir();
}
END_TEST

START_TEST(wrong_size_file_is_an_error)
{
    make_tmpdir();
    char path[300];
    snprintf(path, sizeof path, "%s/short.bin", tmpdir);
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    fwrite("\xFF\xFF\xFF", 1, 3, f);
    fclose(f);
    char err[512] = "";
    ck_assert_int_eq(
        klefr_sim_init(&sim, KLEFR_MODEL_6921, KLEFR_DEFAULT_SERIAL, NULL, path, err, sizeof err),
        -1);
    ck_assert_msg(strncmp(err, path, strlen(path)) == 0 && strstr(err, ": ") &&
                      strstr(err, "3 bytes"),
                  "message: %s", err);

    /* One byte too long is refused as well. */
    f = fopen(path, "wb");
    for (unsigned k = 0; k < KLEFR_NVM_SIZE + 1; k++)
        fputc(0xFF, f);
    fclose(f);
    ck_assert_int_eq(
        klefr_sim_init(&sim, KLEFR_MODEL_6921, KLEFR_DEFAULT_SERIAL, NULL, path, err, sizeof err),
        -1);

    /* A directory in the way: "path: message". */
    ck_assert_int_eq(
        klefr_sim_init(&sim, KLEFR_MODEL_6921, KLEFR_DEFAULT_SERIAL, NULL, tmpdir, err, sizeof err),
        -1);
    ck_assert_msg(strncmp(err, tmpdir, strlen(tmpdir)) == 0 && err[strlen(tmpdir)] == ':',
                  "message: %s", err);
    /* ... that says what it is (it said "found 4096 bytes"). */
    ck_assert_msg(strstr(err, ": is a directory, not an EEPROM image"), "message: %s", err);
    remove_tmpdir();
}
END_TEST

/* Found by an outside campaign: a dangling eeprom.bin symlink silently
 * started a blank meter and was replaced by a file. */
START_TEST(symlinks_are_followed_or_refused)
{
    make_tmpdir();
    char path[300], target[300];
    snprintf(path, sizeof path, "%s/eeprom.bin", tmpdir);
    snprintf(target, sizeof target, "%s/meter-a.bin", tmpdir);
    ck_assert_int_eq(symlink("meter-a.bin", path), 0);
    char err[600] = "";
    ck_assert_int_eq(
        klefr_sim_init(&sim, KLEFR_MODEL_6924, KLEFR_DEFAULT_SERIAL, NULL, path, err, sizeof err),
        -1);
    ck_assert_msg(strstr(err, path) == err && strstr(err, ": symlink to meter-a.bin: No such file"),
                  "message: %s", err);

    /* A link to a real image: the image is read and written, the link stays. */
    boot(&sim2, KLEFR_MODEL_6924, target);
    sim2.meter.regs.act_fwd_uwh[KLEFR_T1] = 4242;
    klefr_sim_power(&sim2, false);
    boot(&sim, KLEFR_MODEL_6924, path);
    ck_assert_uint_eq(sim.meter.regs.act_fwd_uwh[KLEFR_T1], 4242);
    sim.meter.regs.act_fwd_uwh[KLEFR_T1] = 4343;
    klefr_sim_power(&sim, false);
    struct stat st;
    ck_assert_int_eq(lstat(path, &st), 0);
    ck_assert(S_ISLNK(st.st_mode));
    boot(&sim2, KLEFR_MODEL_6924, target);
    ck_assert_uint_eq(sim2.meter.regs.act_fwd_uwh[KLEFR_T1], 4343);
    remove_tmpdir();
}
END_TEST

/* Found by an outside campaign: on a full disk the run ended with exit 0
 * and the host's failure shown as the meter's Err 01. The simulated part is
 * fine; only the PC failed: no Err 01, the failure is counted for the
 * program to report (exit 1). A file size limit makes write() fail with
 * EFBIG, unprivileged (no small filesystem to mount). */
START_TEST(host_disk_full_is_not_err01)
{
    char path[300];
    tmp_eeprom(path);
    boot(&sim, KLEFR_MODEL_6924, path);
    ck_assert_uint_eq(sim.eeprom.host_failures, 0);
    signal(SIGXFSZ, SIG_IGN);
    struct rlimit old, small;
    ck_assert_int_eq(getrlimit(RLIMIT_FSIZE, &old), 0);
    small = old;
    small.rlim_cur = 1024; /* half the image file */
    ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &small), 0);

    sim.meter.regs.act_fwd_uwh[KLEFR_T1] = 1280000000; /* 1.28 kWh since the last save */
    ck_assert(klefr_sim_run_until(&sim, (KLEFR_SAVE_INTERVAL_S + 1) * 1000000ull));
    ck_assert_int_eq(sim.meter.error, KLEFR_ERR_NONE); /* not the meter's fault */
    ck_assert_uint_eq(sim.eeprom.host_failures, 1);
    ck_assert_int_eq(sim.eeprom.host_errno, EFBIG);
    klefr_sim_power(&sim, false);
    ck_assert_uint_eq(sim.eeprom.host_failures, 2);
    /* The meter itself rebooted from its (RAM) EEPROM keeps everything. */
    klefr_sim_power(&sim, true);
    ck_assert_int_eq(sim.meter.error, KLEFR_ERR_NONE);
    ck_assert_uint_eq(sim.meter.regs.act_fwd_uwh[KLEFR_T1], 1280000000);

    /* Room again: the next save lands and the last error clears. */
    ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &old), 0);
    klefr_sim_power(&sim, false);
    ck_assert_int_eq(sim.eeprom.host_errno, 0);
    boot(&sim2, KLEFR_MODEL_6924, path);
    ck_assert_uint_eq(sim2.meter.regs.act_fwd_uwh[KLEFR_T1], 1280000000);
    remove_tmpdir();
}
END_TEST

/* ---- Power cuts --------------------------------------------------------- */

/* A power cut at page `cut` of the power-fail save, after `prior` good saves.
 * After restart the meter must hold exactly the old or the new registers. */
static void cut_case(int prior, int cut, uint32_t torn, bool garble)
{
    boot(&sim, KLEFR_MODEL_6924, NULL);
    klefr_regs old;
    memset(&old, 0, sizeof old);
    for (int k = 0; k < prior; k++) {
        make_regs(&sim.meter.regs, (uint64_t)k + 1);
        ck_assert_int_eq(klefr_store_save(&sim.meter, sim.t_us), 0);
        old = sim.meter.regs;
    }
    make_regs(&sim.meter.regs, 100); /* energy counted since the last save */
    klefr_regs fresh = sim.meter.regs;
    fresh.power_downs++;

    sim.eeprom.cut_after_pages = cut;
    sim.eeprom.torn_bytes = torn;
    sim.eeprom.torn_garble = garble;
    klefr_sim_power(&sim, false);
    /* A torn last page may still hold all its bytes: then the new image
     * landed although the write reported the cut. */
    const uint32_t last = IMG - (IMG - 1) / KLEFR_EEPROM_PAGE_SIZE * KLEFR_EEPROM_PAGE_SIZE;
    bool landed = cut == (int)((IMG - 1) / KLEFR_EEPROM_PAGE_SIZE) && torn >= last;
    bool was_cut = sim.eeprom.cuts == 1 && !landed;
    klefr_sim_power(&sim, true);

    ck_assert_msg(sim.meter.error == KLEFR_ERR_NONE, "prior %d cut %d torn %u: Err %02u", prior,
                  cut, torn, sim.meter.error);
    /* Cut: the energy of the last good save, and the power-down counted all
     * the same (at the power-up, from the kind of that save). */
    old.power_downs++;
    if (was_cut)
        ck_assert_msg(regs_eq(&sim.meter.regs, &old),
                      "prior %d cut %d torn %u: not the old registers", prior, cut, torn);
    else
        ck_assert_msg(regs_eq(&sim.meter.regs, &fresh), "prior %d cut %d: not the new registers",
                      prior, cut);

    /* The meter goes on: the next save repairs the torn copy. */
    make_regs(&sim.meter.regs, 200);
    klefr_regs next = sim.meter.regs;
    next.power_downs++;
    power_cycle(&sim);
    assert_regs_eq(&sim.meter.regs, &next);
}

START_TEST(power_cut_at_every_page)
{
    const int pages = (IMG + KLEFR_EEPROM_PAGE_SIZE - 1) / KLEFR_EEPROM_PAGE_SIZE;
    const uint32_t torn[] = {0, 1, 13, KLEFR_EEPROM_PAGE_SIZE - 1};
    int cuts = 0;
    for (int prior = 0; prior <= 3; prior++)
        for (int cut = 0; cut <= pages; cut++)
            for (size_t t = 0; t < sizeof torn / sizeof torn[0]; t++)
                for (int g = 0; g < 2; g++) {
                    cut_case(prior, cut, torn[t], g);
                    cuts += sim.eeprom.cuts;
                }
    /* cut == pages is past the last page: the save completes (not a cut). */
    ck_assert_int_eq(cuts, 4 * pages * 4 * 2);
}
END_TEST

START_TEST(energy_loss_bounded_by_save_interval)
{
    /* Periodic save at 900 s; the supply fails at 1700 s and the
     * power-fail save is cut. The restart holds the 900 s registers. */
    boot(&sim, KLEFR_MODEL_6924, NULL);
    const uint64_t wh = 1000000; /* 1 Wh in uWh */
    for (uint64_t t = 100; t <= 1700; t += 100) {
        sim.meter.regs.act_fwd_uwh[KLEFR_T1] = t * wh; /* 1 Wh per second */
        ck_assert(klefr_sim_run_until(&sim, t * 1000000));
    }
    sim.eeprom.cut_after_pages = 1;
    klefr_sim_power(&sim, false);
    ck_assert_uint_eq(sim.eeprom.cuts, 1);
    klefr_sim_power(&sim, true);
    uint64_t kept = sim.meter.regs.act_fwd_uwh[KLEFR_T1];
    ck_assert_uint_eq(kept, 900 * wh);
    ck_assert_uint_le(1700 * wh - kept, (uint64_t)KLEFR_SAVE_INTERVAL_S * wh);
}
END_TEST

START_TEST(first_save_cut_is_a_blank_meter)
{
    /* A new meter (blank EEPROM) whose first save, the power-up save, is cut. */
    boot(&sim, KLEFR_MODEL_6924, NULL);
    memset(sim.eeprom.mem, 0xFF, sizeof sim.eeprom.mem);
    sim.eeprom.cut_after_pages = 2;
    reboot_sim(&sim);
    ck_assert_uint_eq(sim.eeprom.cuts, 1);
    reboot_sim(&sim);
    ck_assert_int_eq(sim.meter.error, KLEFR_ERR_NONE);
    assert_defaults(&sim.meter);
    ck_assert_uint_eq(sim.meter.regs.power_downs, 0);
}
END_TEST

/* Found by an outside campaign: 932 of 1,017 cuts during the power-fail save
 * lost the power-down they were. The manual (7.15): the counter "registers
 * the number of times that the meter has been turned off", so every cut
 * counts, whether its save completed or not. */
START_TEST(torn_power_fail_save_still_counts)
{
    const int pages = (IMG + KLEFR_EEPROM_PAGE_SIZE - 1) / KLEFR_EEPROM_PAGE_SIZE;
    boot(&sim, KLEFR_MODEL_6924, NULL);
    uint32_t offs = 0;
    for (int round = 0; round < 3; round++)
        for (int cut = 0; cut < pages; cut++)
            for (uint32_t torn = 0; torn < KLEFR_EEPROM_PAGE_SIZE; torn += 7) {
                ck_assert(klefr_sim_run_until(&sim, sim.t_us + 20000));
                sim.eeprom.cut_after_pages = cut;
                sim.eeprom.torn_bytes = torn;
                sim.eeprom.torn_garble = torn % 2;
                klefr_sim_power(&sim, false);
                offs++;
                klefr_sim_power(&sim, true);
                ck_assert_int_eq(sim.meter.error, KLEFR_ERR_NONE);
                ck_assert_msg(sim.meter.regs.power_downs == offs,
                              "round %d cut %d torn %u: %u power downs, want %u", round, cut, torn,
                              sim.meter.regs.power_downs, offs);
            }
    /* Also a new meter whose very first power-fail save is cut. */
    boot(&sim, KLEFR_MODEL_6924, NULL);
    sim.eeprom.cut_after_pages = 1;
    power_cycle(&sim);
    ck_assert_uint_eq(sim.meter.regs.power_downs, 1);
    /* A power-down with no save at all (the process killed): counted too. */
    klefr_meter_init(&sim.meter, &sim.hal, sim.model, sim.serial, sim.t_us);
    ck_assert_uint_eq(sim.meter.regs.power_downs, 2);
}
END_TEST

/* An image written by the layout-1 firmware (which counted in its power-fail
 * save) loads with every field and no invented power-down. */
START_TEST(layout_v1_image_still_loads)
{
    boot(&sim, KLEFR_MODEL_6924, NULL);
    klefr_settings s;
    klefr_regs r;
    make_settings(&s);
    make_regs(&r, 6);
    uint8_t img[IMG];
    klefr_store_encode(img, &s, &r, 77, KLEFR_SAVE_RUNNING);
    img[4] = 1;                             /* version 1 */
    img[6] = KLEFR_STORE_PAYLOAD_V1_LEN;    /* no save-kind byte */
    uint32_t crc = klefr_crc32(img, 114);
    for (int k = 0; k < 4; k++)
        img[114 + k] = (uint8_t)(crc >> 8 * k);
    img[118] = 0xFF;
    memset(sim.eeprom.mem, 0xFF, sizeof sim.eeprom.mem);
    memcpy(sim.eeprom.mem + SLOT, img, IMG);
    reboot_sim(&sim);
    ck_assert_int_eq(sim.meter.error, KLEFR_ERR_NONE);
    assert_settings_eq(&sim.meter.settings, &s);
    assert_regs_eq(&sim.meter.regs, &r);
    /* The power-up save wrote the current layout over the other copy. */
    klefr_settings s2;
    klefr_regs r2;
    uint32_t seq;
    ck_assert_int_eq(klefr_store_decode(sim.eeprom.mem, IMG, &s2, &r2, &seq, NULL),
                     KLEFR_COPY_VALID);
    ck_assert_uint_eq(sim.eeprom.mem[4], KLEFR_STORE_VERSION);
    ck_assert_uint_eq(seq, 78);
}
END_TEST

/* ---- Errors ------------------------------------------------------------- */

/* The power-up save is copy 0, seq 1; then a in copy 1, b in copy 0. The
 * a and b returned carry the power-down a reboot counts (running saves). */
static void two_saves(klefr_regs *a, klefr_regs *b)
{
    boot(&sim, KLEFR_MODEL_6924, NULL);
    make_regs(&sim.meter.regs, 1);
    ck_assert_int_eq(klefr_store_save(&sim.meter, sim.t_us), 0); /* copy 1, seq 2 */
    *a = sim.meter.regs;
    make_regs(&sim.meter.regs, 2);
    ck_assert_int_eq(klefr_store_save(&sim.meter, sim.t_us), 0); /* copy 0, seq 3 */
    *b = sim.meter.regs;
    a->power_downs++;
    b->power_downs++;
}

static void reboot(void)
{
    reboot_sim(&sim);
}

START_TEST(one_corrupt_copy_uses_the_other)
{
    klefr_regs a, b;
    two_saves(&a, &b);
    sim.eeprom.mem[60] ^= 0x10; /* newest copy damaged */
    reboot();
    ck_assert_int_eq(sim.meter.error, KLEFR_ERR_NONE);
    assert_regs_eq(&sim.meter.regs, &a);

    two_saves(&a, &b);
    sim.eeprom.mem[SLOT + 3] = 0; /* older copy's magic damaged */
    reboot();
    ck_assert_int_eq(sim.meter.error, KLEFR_ERR_NONE);
    assert_regs_eq(&sim.meter.regs, &b);
}
END_TEST

START_TEST(both_copies_corrupt_is_err01)
{
    klefr_regs a, b;
    two_saves(&a, &b);
    sim.meter.settings.modbus_id = 99;
    ck_assert_int_eq(klefr_store_save(&sim.meter, sim.t_us), 0);
    sim.eeprom.mem[20] ^= 0xFF;
    sim.eeprom.mem[SLOT + IMG - 1] ^= 0x01; /* CRC byte */
    ck_assert_int_lt(klefr_store_load(&sim.meter, sim.t_us), 0);
    reboot();
    ck_assert_int_eq(sim.meter.error, KLEFR_ERR_EEPROM);
    assert_defaults(&sim.meter);
    klefr_regs zero;
    memset(&zero, 0, sizeof zero);
    assert_regs_eq(&sim.meter.regs, &zero);

    /* The meter keeps running; its power-fail save writes a good copy, so a
     * working EEPROM boots without the error next time (docs/nvm.md). */
    power_cycle(&sim);
    ck_assert_int_eq(sim.meter.error, KLEFR_ERR_NONE);
    ck_assert_uint_eq(sim.meter.regs.power_downs, 1);
}
END_TEST

START_TEST(unknown_layout_version_is_corrupt)
{
    boot(&sim, KLEFR_MODEL_6924, NULL);
    klefr_settings s;
    klefr_regs r;
    make_settings(&s);
    make_regs(&r, 1);
    for (unsigned c = 0; c < 2; c++) {
        uint8_t *img = sim.eeprom.mem + c * SLOT;
        klefr_store_encode(img, &s, &r, c + 1, KLEFR_SAVE_POWER_FAIL);
        img[4] = 3; /* a newer layout this firmware cannot read */
        uint32_t crc = klefr_crc32(img, IMG - 4);
        for (int k = 0; k < 4; k++)
            img[IMG - 4 + k] = (uint8_t)(crc >> 8 * k);
    }
    reboot();
    ck_assert_int_eq(sim.meter.error, KLEFR_ERR_EEPROM);
    assert_defaults(&sim.meter);
}
END_TEST

START_TEST(program_checksum_is_err02)
{
    boot(&sim, KLEFR_MODEL_6921, NULL);
    ck_assert_int_eq(sim.meter.error, KLEFR_ERR_NONE);
    klefr_sim_power(&sim, false);
    sim.program_corrupt = true;
    klefr_sim_power(&sim, true);
    ck_assert_int_eq(sim.meter.error, KLEFR_ERR_PROGRAM);
    klefr_sim_power(&sim, false);
    sim.program_corrupt = false;
    klefr_sim_power(&sim, true);
    ck_assert_int_eq(sim.meter.error, KLEFR_ERR_NONE);
}
END_TEST

/* Err 02 injected at power-up (--fault program-crc, a scenario's fault at 0):
 * the meter boots again with it, as if for the first time. klefr_sim_unboot
 * takes back the first boot's power-up save, so nothing counts twice, the
 * image the file held is what loads, and the file's registers and settings
 * stay. */
START_TEST(fault_at_power_up_boots_once)
{
    char path[300];
    tmp_eeprom(path);
    boot(&sim, KLEFR_MODEL_6924, path);
    ck_assert(klefr_sim_run_until(&sim, sim.t_us + 50000));
    sim.meter.settings.calc_code = 5;
    sim.meter.regs.act_fwd_uwh[0] = 123456789;
    klefr_sim_power(&sim, false); /* the power-fail save: 1 power-down */
    ck_assert_uint_eq(sim.meter.regs.power_downs, 1);
    boot(&sim2, KLEFR_MODEL_6924, path); /* the next run: its power-up save */
    klefr_sim_inject(&sim2, KLEFR_FAULT_PROGRAM_CRC);
    ck_assert_int_eq(sim2.meter.error, KLEFR_ERR_PROGRAM);
    ck_assert_uint_eq(sim2.meter.regs.power_downs, 1);
    ck_assert_uint_eq(sim2.meter.settings.calc_code, 5);
    ck_assert_uint_eq(sim2.meter.regs.act_fwd_uwh[0], 123456789);
    klefr_sim_power(&sim2, false); /* and the count goes on from there */
    sim2.program_corrupt = false;
    klefr_sim_power(&sim2, true);
    ck_assert_uint_eq(sim2.meter.regs.power_downs, 2);
    remove_tmpdir();
}
END_TEST

START_TEST(worn_out_eeprom_is_err01_at_periodic_save)
{
    boot(&sim, KLEFR_MODEL_6924, NULL);
    sim.eeprom.worn_out = true;
    sim.meter.regs.act_fwd_uwh[KLEFR_T1] = 123;
    ck_assert(klefr_sim_run_until(&sim, (KLEFR_SAVE_INTERVAL_S + 1) * 1000000ull));
    ck_assert_int_eq(sim.meter.error, KLEFR_ERR_EEPROM);
}
END_TEST

/* ---- Validation --------------------------------------------------------- */

START_TEST(out_of_range_settings_take_defaults)
{
    boot(&sim, KLEFR_MODEL_6924, NULL);
    klefr_settings bad = {.modbus_id = 0,
                          .mbus_id = 251,
                          .mbus_secondary = 0x1234567A,
                          .baud = 300 /* M-bus only */,
                          .parity = (klefr_parity)3,
                          .s0_rate_centi = 12345,
                          .calc_code = 2,
                          .lcd_cycle_s = 31,
                          .backlight = 3,
                          .password = 10000,
                          .obis = true,
                          .tariff = 3,
                          .scroll_mask = 0x55};
    klefr_regs r;
    make_regs(&r, 3);
    put_image(&sim, 0, &bad, &r, 1);
    reboot();
    ck_assert_int_eq(sim.meter.error, KLEFR_ERR_NONE);
    klefr_settings want;
    klefr_settings_defaults(&want, KLEFR_MODEL_6924, KLEFR_DEFAULT_SERIAL);
    want.obis = true; /* valid values are kept */
    want.scroll_mask = 0x55;
    assert_settings_eq(&sim.meter.settings, &want);
    assert_regs_eq(&sim.meter.regs, &r); /* registers are never "defaulted" */

    klefr_settings edge = want;
    edge.modbus_id = 1;
    edge.mbus_id = 0;
    edge.lcd_cycle_s = 1;
    edge.password = 9999;
    ck_assert_int_eq(klefr_settings_validate(&edge, KLEFR_MODEL_6924, KLEFR_DEFAULT_SERIAL), 0);
    edge.modbus_id = 248;
    ck_assert_int_eq(klefr_settings_validate(&edge, KLEFR_MODEL_6924, KLEFR_DEFAULT_SERIAL), 1);
    ck_assert_uint_eq(edge.modbus_id, 1);
}
END_TEST

START_TEST(baud_and_parity_per_model)
{
    ck_assert(klefr_baud_valid(KLEFR_MODEL_6923, 300));
    ck_assert(klefr_baud_valid(KLEFR_MODEL_6923, 600));
    ck_assert(!klefr_baud_valid(KLEFR_MODEL_6924, 300));
    ck_assert(!klefr_baud_valid(KLEFR_MODEL_6924, 600));
    ck_assert(klefr_baud_valid(KLEFR_MODEL_6924, 1200));
    ck_assert(!klefr_baud_valid(KLEFR_MODEL_6924, 19200));
    ck_assert(klefr_parity_valid(KLEFR_MODEL_6924, KLEFR_PARITY_NONE));
    ck_assert(klefr_parity_valid(KLEFR_MODEL_6924, KLEFR_PARITY_ODD));
    ck_assert(!klefr_parity_valid(KLEFR_MODEL_6923, KLEFR_PARITY_NONE)); /* M-bus: always even */
    ck_assert(klefr_parity_valid(KLEFR_MODEL_6923, KLEFR_PARITY_EVEN));

    /* An M-bus meter keeps 300 baud but not odd parity. */
    boot(&sim, KLEFR_MODEL_6923, NULL);
    klefr_settings s;
    klefr_settings_defaults(&s, KLEFR_MODEL_6923, KLEFR_DEFAULT_SERIAL);
    s.baud = 300;
    s.parity = KLEFR_PARITY_ODD;
    klefr_regs r;
    memset(&r, 0, sizeof r);
    put_image(&sim, 0, &s, &r, 1);
    reboot();
    ck_assert_uint_eq(sim.meter.settings.baud, 300);
    ck_assert_int_eq(sim.meter.settings.parity, KLEFR_PARITY_EVEN);
}
END_TEST

/* ---- Counters and periodic save ---------------------------------------- */

START_TEST(power_down_counter_persists)
{
    char path[300];
    tmp_eeprom(path);
    boot(&sim, KLEFR_MODEL_6921, path);
    for (uint32_t k = 1; k <= 5; k++) {
        ck_assert(klefr_sim_run_until(&sim, sim.t_us + 50000));
        power_cycle(&sim);
        ck_assert_uint_eq(sim.meter.regs.power_downs, k);
    }
    klefr_sim_power(&sim, false);
    boot(&sim2, KLEFR_MODEL_6921, path);
    ck_assert_uint_eq(sim2.meter.regs.power_downs, 6);
    remove_tmpdir();
}
END_TEST

START_TEST(periodic_save_at_interval)
{
    boot(&sim, KLEFR_MODEL_6924, NULL); /* the power-up save: copy 0, seq 1 */
    ck_assert_uint_eq(sim.eeprom.bytes_written, IMG);
    const uint64_t interval = (uint64_t)KLEFR_SAVE_INTERVAL_S * 1000000u;
    sim.meter.regs.act_fwd_uwh[KLEFR_T1] = 5000000;
    ck_assert(klefr_sim_run_until(&sim, interval - KLEFR_SIM_SLICE_US));
    ck_assert_uint_eq(sim.eeprom.bytes_written, IMG);
    ck_assert(klefr_sim_run_until(&sim, interval));
    ck_assert_uint_eq(sim.eeprom.bytes_written, 2 * IMG);

    klefr_settings s;
    klefr_regs r;
    uint32_t seq;
    ck_assert_int_eq(klefr_store_decode(sim.eeprom.mem + SLOT, IMG, &s, &r, &seq, NULL),
                     KLEFR_COPY_VALID);
    ck_assert_uint_eq(r.act_fwd_uwh[KLEFR_T1], 5000000);
    ck_assert_uint_eq(seq, 2);

    /* Nothing changed: no write (EEPROM wear). */
    ck_assert(klefr_sim_run_until(&sim, 2 * interval));
    ck_assert_uint_eq(sim.eeprom.bytes_written, 2 * IMG);

    /* Energy counted: the next interval writes the other copy. */
    sim.meter.regs.act_fwd_uwh[KLEFR_T1] = 7000000;
    ck_assert(klefr_sim_run_until(&sim, 3 * interval - KLEFR_SIM_SLICE_US));
    ck_assert_uint_eq(sim.eeprom.bytes_written, 2 * IMG);
    ck_assert(klefr_sim_run_until(&sim, 3 * interval));
    ck_assert_uint_eq(sim.eeprom.bytes_written, 3 * IMG);
    ck_assert_int_eq(klefr_store_decode(sim.eeprom.mem, IMG, &s, &r, &seq, NULL),
                     KLEFR_COPY_VALID);
    ck_assert_uint_eq(r.act_fwd_uwh[KLEFR_T1], 7000000);
    ck_assert_uint_eq(seq, 3);
}
END_TEST

START_TEST(settings_change_saves_at_once)
{
    boot(&sim, KLEFR_MODEL_6922, NULL);
    ck_assert(klefr_meter_set_tariff(&sim.meter, 2, true, sim.t_us));
    klefr_settings s;
    klefr_regs r;
    uint32_t seq;
    ck_assert_int_eq(klefr_store_decode(sim.eeprom.mem + SLOT, IMG, &s, &r, &seq, NULL),
                     KLEFR_COPY_VALID);
    ck_assert_uint_eq(s.tariff, 2);
}
END_TEST

/* ---- The simulated EEPROM ----------------------------------------------- */

START_TEST(eeprom_writes_in_pages_and_cuts)
{
    static klefr_eeprom e;
    char err[128];
    ck_assert_int_eq(klefr_eeprom_open(&e, NULL, err, sizeof err), 0);
    uint8_t data[40];
    memset(data, 0x11, sizeof data);
    /* 20..59 spans pages 0 and 1: two page writes. */
    ck_assert_int_eq(klefr_eeprom_write(&e, 20, data, sizeof data), 0);
    ck_assert_uint_eq(e.pages_written, 2);
    ck_assert_uint_eq(e.bytes_written, 40);

    memset(data, 0x22, sizeof data);
    e.cut_after_pages = 1;
    e.torn_bytes = 5;
    ck_assert_int_eq(klefr_eeprom_write(&e, 20, data, sizeof data), -1);
    ck_assert_uint_eq(e.cuts, 1);
    ck_assert_int_eq(e.cut_after_pages, -1); /* one-shot */
    ck_assert_uint_eq(e.mem[31], 0x22);      /* first page written */
    ck_assert_uint_eq(e.mem[36], 0x22);      /* torn: 5 bytes of page 2 */
    ck_assert_uint_eq(e.mem[37], 0x11);
    ck_assert_uint_eq(e.mem[59], 0x11);
    ck_assert_uint_eq(e.mem[60], 0xFF);

    ck_assert_int_eq(klefr_eeprom_write(&e, KLEFR_NVM_SIZE - 1, data, 2), -1); /* past the end */
    ck_assert_int_eq(klefr_eeprom_read(&e, KLEFR_NVM_SIZE - 1, data, 2), -1);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("store");
    TCase *tc = tcase_create("image");
    tcase_add_test(tc, crc32_check_value);
    tcase_add_test(tc, layout_is_fixed_little_endian);
    tcase_add_test(tc, decode_rejects_any_single_bit_error);
    tcase_add_test(tc, seq_wraps);
    suite_add_tcase(s, tc);

    tc = tcase_create("load-save");
    tcase_add_test(tc, blank_eeprom_gives_defaults);
    tcase_add_test(tc, load_traces_each_copy);
    tcase_add_test(tc, secondary_address_defaults_to_serial);
    tcase_add_test(tc, round_trip_every_field);
    tcase_add_test(tc, settings_survive_power_cycle_in_file);
    tcase_add_test(tc, wrong_size_file_is_an_error);
    tcase_add_test(tc, symlinks_are_followed_or_refused);
    tcase_add_test(tc, host_disk_full_is_not_err01);
    suite_add_tcase(s, tc);

    tc = tcase_create("power-cut");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, power_cut_at_every_page);
    tcase_add_test(tc, energy_loss_bounded_by_save_interval);
    tcase_add_test(tc, first_save_cut_is_a_blank_meter);
    tcase_add_test(tc, torn_power_fail_save_still_counts);
    tcase_add_test(tc, layout_v1_image_still_loads);
    suite_add_tcase(s, tc);

    tc = tcase_create("errors");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, one_corrupt_copy_uses_the_other);
    tcase_add_test(tc, both_copies_corrupt_is_err01);
    tcase_add_test(tc, unknown_layout_version_is_corrupt);
    tcase_add_test(tc, program_checksum_is_err02);
    tcase_add_test(tc, fault_at_power_up_boots_once);
    tcase_add_test(tc, worn_out_eeprom_is_err01_at_periodic_save);
    suite_add_tcase(s, tc);

    tc = tcase_create("validation");
    tcase_add_test(tc, out_of_range_settings_take_defaults);
    tcase_add_test(tc, baud_and_parity_per_model);
    suite_add_tcase(s, tc);

    tc = tcase_create("counters");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, power_down_counter_persists);
    tcase_add_test(tc, periodic_save_at_interval);
    tcase_add_test(tc, settings_change_saves_at_once);
    suite_add_tcase(s, tc);

    tc = tcase_create("sim-eeprom");
    tcase_add_test(tc, eeprom_writes_in_pages_and_cuts);
    suite_add_tcase(s, tc);

    return klefr_check_run(s);
}
