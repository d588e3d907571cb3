/* Fuzz target: the EEPROM image (firmware-core/src/store). The input is the
 * EEPROM (the rest 0xFF). A meter powering up on it: settings in range; the
 * registers those of the newest valid copy (one power-down more when that
 * copy is not the power-fail save's), all zero when no copy is valid;
 * Err 01 only when every copy is corrupt. Then a power cycle keeps every
 * register and counts one power-down. */
#include "slave.h"

static bool regs_eq(const klefr_regs *a, const klefr_regs *b)
{
    return !memcmp(a->act_fwd_uwh, b->act_fwd_uwh, sizeof a->act_fwd_uwh) &&
           !memcmp(a->act_rev_uwh, b->act_rev_uwh, sizeof a->act_rev_uwh) &&
           !memcmp(a->react_fwd_uvarh, b->react_fwd_uvarh, sizeof a->react_fwd_uvarh) &&
           !memcmp(a->react_rev_uvarh, b->react_rev_uvarh, sizeof a->react_rev_uvarh) &&
           a->day_fwd_uwh == b->day_fwd_uwh && a->power_downs == b->power_downs;
}

static void check_reply(fuzz_slave *f, klefr_port port, const uint8_t *d, size_t n)
{
    (void)f, (void)port, (void)d, (void)n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const klefr_model models[] = {KLEFR_MODEL_6921, KLEFR_MODEL_6922, KLEFR_MODEL_6923,
                                         KLEFR_MODEL_6924};
    memset(&F, 0, sizeof F);
    klefr_eeprom_open(&F.ee, NULL, NULL, 0);
    klefr_model model = models[size ? data[0] % 4 : 0];
    if (size) {
        data++, size--;
    }
    memcpy(F.ee.mem, data, size < KLEFR_NVM_SIZE ? size : KLEFR_NVM_SIZE);

    /* What the copies hold, decoded independently of the load. */
    int best = -1, corrupt = 0, blank = 0;
    klefr_settings s[2];
    klefr_regs r[2];
    uint32_t seq[2];
    klefr_save_kind kind[2];
    for (int c = 0; c < 2; c++) {
        klefr_copy_state st = klefr_store_decode(F.ee.mem + c * KLEFR_STORE_SLOT_SIZE,
                                                 KLEFR_STORE_IMAGE_LEN, &s[c], &r[c], &seq[c],
                                                 &kind[c]);
        corrupt += st == KLEFR_COPY_CORRUPT;
        blank += st == KLEFR_COPY_BLANK;
        if (st == KLEFR_COPY_VALID && (best < 0 || klefr_seq_newer(seq[c], seq[best])))
            best = c;
    }

    F.t = 1000000;
    klefr_meter_init(&F.m, &F_HAL, model, KLEFR_DEFAULT_SERIAL, F.t);
    check_settings(&F.m);
    klefr_regs want;
    memset(&want, 0, sizeof want);
    if (best >= 0) {
        want = r[best];
        want.power_downs += kind[best] != KLEFR_SAVE_POWER_FAIL;
    }
    FUZZ_ASSERT(regs_eq(&F.m.regs, &want), "registers after power-up");
    FUZZ_ASSERT((F.m.error == KLEFR_ERR_EEPROM) == (best < 0 && corrupt == 2),
                "Err %u with %d corrupt, %d blank copies", F.m.error, corrupt, blank);

    klefr_regs before = F.m.regs;
    klefr_settings set_before = F.m.settings;
    klefr_meter_power_fail(&F.m, F.t + 1000);
    klefr_meter_init(&F.m, &F_HAL, model, KLEFR_DEFAULT_SERIAL, F.t + 2000000);
    before.power_downs++;
    FUZZ_ASSERT(F.m.error != KLEFR_ERR_EEPROM, "Err 01 after a good save");
    FUZZ_ASSERT(regs_eq(&F.m.regs, &before), "registers after a power cycle");
    uint8_t a[KLEFR_STORE_IMAGE_LEN], b[KLEFR_STORE_IMAGE_LEN];
    klefr_store_encode(a, &F.m.settings, &before, 0, KLEFR_SAVE_RUNNING);
    klefr_store_encode(b, &set_before, &before, 0, KLEFR_SAVE_RUNNING);
    FUZZ_ASSERT(!memcmp(a, b, sizeof a), "settings after a power cycle");
    return 0;
}
