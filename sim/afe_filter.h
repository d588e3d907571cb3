/* The meter's anti-alias filter as the simulator models it: one linear-phase
 * low-pass standing for the chain of a metering front end (analog RC
 * anti-alias filter at the sensor, oversampling sigma-delta modulator,
 * sinc^3 decimator and a droop-compensating low-pass decimation FIR down to
 * KLEFR_FS_HZ), identical on the V and I channels.
 *
 *   type        Kaiser-windowed sinc FIR (linear phase), beta 10.06
 *   pass band   0 .. 1600 Hz (0.4 fs), ripple < +-0.0001 dB (1.3e-5), gain
 *               1 at 50 Hz (calibrated there)
 *   stop band   from 2000 Hz (0.5 fs: nothing folds back), 98.5 dB there,
 *               >= 100 dB from 2010 Hz
 *   -6 dB       1800 Hz
 *   group delay 8 ms on both channels (kernel 16 ms long); replay and
 *               synthesis compensate it (the twin's t = 0 is the recording's
 *               t = 0), which changes no measured value: both channels are
 *               delayed alike.
 *
 * Replay convolves the recording with the kernel (band-limited resampling,
 * sim/afe_replay.c); synthesis weights each component by klefr_aa_gain()
 * (a harmonic above 2 kHz is filtered, not aliased). docs/metering.md has the
 * reasoning and the measured response. */
#ifndef KLEFR_SIM_AFE_FILTER_H
#define KLEFR_SIM_AFE_FILTER_H

#define KLEFR_AA_PASS_HZ 1600.0
#define KLEFR_AA_STOP_HZ 2000.0
#define KLEFR_AA_HALF 32 /* kernel half-length in samples at KLEFR_FS_HZ (8 ms) */

/* The kernel at x (in samples of KLEFR_FS_HZ, |x| <= KLEFR_AA_HALF; 0 beyond),
 * with unit gain at 50 Hz (calibrated there, as a meter is; its area, the DC
 * gain, is klefr_aa_gain(0) = 1 + 1.6e-6). From a table (1/1024 sample
 * steps, linear interpolation). */
double klefr_aa_kernel(double x);

/* Amplitude response at f Hz (1 in the pass band, 0 in the stop band). */
double klefr_aa_gain(double f_hz);

#endif
