/* Plain data shared by all firmware modules: model, settings, registers,
 * instantaneous measurements. */
#ifndef KLEFR_TYPES_H
#define KLEFR_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "klefr/hal.h"

typedef enum {
    KLEFR_MODEL_6921 = 6921, /* single tariff */
    KLEFR_MODEL_6922 = 6922, /* multi tariff, external tariff input */
    KLEFR_MODEL_6923 = 6923, /* M-bus */
    KLEFR_MODEL_6924 = 6924  /* Modbus RTU */
} klefr_model;

bool klefr_model_valid(int model);
bool klefr_model_has_modbus(klefr_model model);
bool klefr_model_has_mbus(klefr_model model);
bool klefr_model_has_tariff_input(klefr_model model);
/* T2 exists (registers, icon, commands): every model but the single-tariff 6921. */
bool klefr_model_has_tariffs(klefr_model model);

/* True when v is one of the n values of list (a setting's allowed values). */
bool klefr_u32_in(uint32_t v, const uint32_t *list, size_t n);
#define KLEFR_COUNT(a) (sizeof(a) / sizeof((a)[0]))

enum { KLEFR_ERR_NONE = 0, KLEFR_ERR_EEPROM = 1, KLEFR_ERR_PROGRAM = 2 };

enum { KLEFR_BTN_LEFT = 1u, KLEFR_BTN_RIGHT = 2u };

typedef enum { KLEFR_BL_BUTTON = 0, KLEFR_BL_ON = 1, KLEFR_BL_OFF = 2 } klefr_backlight_mode;

enum { KLEFR_T1 = 0, KLEFR_T2 = 1, KLEFR_TARIFFS = 2 };

/* User settings, kept in the EEPROM image. */
typedef struct {
    uint8_t modbus_id;       /* 1..247, default 1 */
    uint8_t mbus_id;         /* 0..250, default 0 */
    uint32_t mbus_secondary; /* 8 BCD digits, default = last 8 digits of the serial */
    uint32_t baud;           /* bus port: Modbus 1200..9600, M-bus 300..9600; default 9600 */
    klefr_parity parity;     /* Modbus: even (default), none, odd; M-bus always even */
    uint32_t s0_rate_centi;  /* S0 imp/kWh x 100: 1000000 (=10000) .. 1 (=0.01); default 100000 */
    uint8_t calc_code;       /* 1, 4, 5, 6, 9, 10; default 1 */
    uint8_t lcd_cycle_s;     /* 1..30, default 10 */
    uint8_t backlight;       /* klefr_backlight_mode, default button */
    uint16_t password;       /* 0..9999, default 0 */
    bool obis;               /* OBIS codes in the lower row, default off */
    uint8_t tariff;          /* saved tariff 1 or 2, default 1 */
    uint32_t scroll_mask;    /* pages in automatic scroll (bit per page, ui/) */
} klefr_settings;

/* Energy registers and counters, kept in the EEPROM image. Integer units:
 * micro-watt-hours and micro-var-hours, so nothing drifts. */
typedef struct {
    uint64_t act_fwd_uwh[KLEFR_TARIFFS];    /* forward (import) active, per tariff */
    uint64_t act_rev_uwh[KLEFR_TARIFFS];    /* reverse (export) active, per tariff */
    uint64_t react_fwd_uvarh[KLEFR_TARIFFS]; /* Q+ (quadrants 1, 2) */
    uint64_t react_rev_uvarh[KLEFR_TARIFFS]; /* Q- (quadrants 3, 4) */
    uint64_t day_fwd_uwh;                   /* resettable day counter (forward active) */
    uint32_t power_downs;                   /* power down counter (manual 7.15) */
} klefr_regs;

/* Instantaneous values, refreshed every measurement block. */
typedef struct {
    float v_rms;    /* V */
    float i_rms;    /* A */
    float freq_hz;  /* Hz */
    float p_w;      /* active power W, negative = reverse */
    float q_var;    /* reactive power var, positive = inductive (lagging) */
    float s_va;     /* apparent power VA */
    float pf;       /* power factor P/S, signed like P */
    uint8_t quadrant; /* 1..4: P+Q+ 1, P-Q+ 2, P-Q- 3, P+Q- 4 */
    bool reverse;   /* energy flows reverse (P < 0) */
    bool valid;     /* at least one block measured */
} klefr_measure;

#endif
