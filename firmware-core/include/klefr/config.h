/* Build-time configuration of the KLEFR 692x firmware: one place to port it. */
#ifndef KLEFR_CONFIG_H
#define KLEFR_CONFIG_H

#include <stdint.h>

/* ADC sample rate of both channels (V and I), samples per second per channel.
 * 4000 Hz gives exactly 80 samples per 50 Hz period. */
#define KLEFR_FS_HZ 4000u
#define KLEFR_TS_US 250u /* 1e6 / KLEFR_FS_HZ */

/* Analog front end scaling: a 24-bit signed ADC code of +-2^23 full scale
 * corresponds to these peak values at the meter terminals. The simulator's
 * ADC model uses the same nominal figures (its own gain/offset errors are
 * what calibration would correct). Headroom (docs/metering.md): the current
 * channel takes a crest factor of 4 at Imax (400 A peak: a sine up to 283 A,
 * a rectifier load of crest factor 2.8 up to 141 A rms); the voltage channel
 * 500 V peak, 1.5 x the peak at 115 % Un. */
#define KLEFR_ADC_BITS 24
#define KLEFR_ADC_FULL_SCALE 8388608.0 /* 2^23 */
#define KLEFR_V_FULL_SCALE_PEAK 500.0  /* volts at full scale */
#define KLEFR_I_FULL_SCALE_PEAK 400.0  /* amperes at full scale: 4 x Imax */

/* Ratings (manual section 5). */
#define KLEFR_UN_V 230.0
#define KLEFR_IB_A 5.0
#define KLEFR_IMAX_A 100.0
#define KLEFR_FN_HZ 50.0
#define KLEFR_LED_IMP_PER_KWH 10000u

/* Starting current and no-load: the meter must start at 0.004 Ib (20 mA). */
#define KLEFR_START_CURRENT_A 0.015
/* Below this Vrms the supply is collapsing: save to NVM (power-fail). */
#define KLEFR_POWER_FAIL_V 100.0

/* Periodic save of the energy registers, in seconds of meter time. */
#define KLEFR_SAVE_INTERVAL_S 900u

/* Size of the EEPROM the firmware expects (bytes). */
#define KLEFR_NVM_SIZE 2048u

/* Identity defaults (documented in docs/architecture.md). */
#define KLEFR_SW_VERSION 2.18f
#define KLEFR_HW_VERSION 1.00f
#define KLEFR_PROTO_VERSION 1.00f
#define KLEFR_DEFAULT_SERIAL 0x17060102u /* shown as 17060102 */

#endif
