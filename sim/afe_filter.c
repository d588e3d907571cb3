/* The anti-alias filter model (afe_filter.h): Kaiser-windowed sinc, tabulated
 * once per process, and its amplitude response. */
#include "afe_filter.h"

#include <math.h>
#include <pthread.h>

#include "klefr/config.h"

#define RES 1024                       /* table points per sample */
#define NTAB (KLEFR_AA_HALF * RES + 1) /* x = 0 .. KLEFR_AA_HALF */
#define FC (0.5 * (KLEFR_AA_PASS_HZ + KLEFR_AA_STOP_HZ) / KLEFR_FS_HZ) /* cycles per sample */
#define BETA 10.06                     /* Kaiser: 0.1102 (100 dB - 8.7) */
#define GAIN_STEP_HZ 2.0
#define GAIN_N 1301 /* 0 .. 2600 Hz */

static double tab[NTAB + 1];
static double gain_tab[GAIN_N];
static pthread_once_t once = PTHREAD_ONCE_INIT;

static double bessel_i0(double x)
{
    double sum = 1, term = 1, q = x * x / 4;
    for (int k = 1; k < 60 && term > 1e-17 * sum; k++) {
        term *= q / ((double)k * k);
        sum += term;
    }
    return sum;
}

static void init(void)
{
    const double i0b = bessel_i0(BETA);
    for (int k = 0; k < NTAB; k++) {
        double x = (double)k / RES, r = x / KLEFR_AA_HALF;
        double h = k == 0 ? 2 * FC : sin(2 * M_PI * FC * x) / (M_PI * x);
        tab[k] = h * bessel_i0(BETA * sqrt(fmax(0.0, 1 - r * r))) / i0b;
    }
    tab[NTAB] = 0;
    /* Unit area (trapezoids over the symmetric kernel). */
    double area = tab[0] + tab[NTAB - 1];
    for (int k = 1; k < NTAB - 1; k++)
        area += 2 * tab[k];
    area /= RES;
    for (int k = 0; k < NTAB; k++)
        tab[k] /= area;
    /* Response: sum over the kernel at 64 points per sample (k * 16 in the
     * table), cos(k theta) by the three-term recurrence. */
    const int sub = 16, m = (NTAB - 1) / sub;
    for (int g = 0; g < GAIN_N; g++) {
        double th = 2 * M_PI * g * GAIN_STEP_HZ / KLEFR_FS_HZ / (RES / sub);
        double c2 = 2 * cos(th), cprev = cos(th), c = 1, sum = tab[0];
        for (int k = 1; k <= m; k++) {
            double cn = c2 * c - cprev;
            cprev = c;
            c = cn;
            sum += 2 * tab[k * sub] * c;
        }
        gain_tab[g] = sum / (RES / sub);
    }
    /* Calibrated at the rated frequency, as a meter is: gain 1 at 50 Hz
     * (the pass-band ripple makes DC 1.6e-6 higher). */
    double g50 = gain_tab[(int)(KLEFR_FN_HZ / GAIN_STEP_HZ)];
    for (int g = 0; g < GAIN_N; g++)
        gain_tab[g] /= g50;
    for (int k = 0; k < NTAB; k++)
        tab[k] /= g50;
}

double klefr_aa_kernel(double x)
{
    pthread_once(&once, init);
    x = fabs(x) * RES;
    if (x >= NTAB - 1)
        return 0;
    int k = (int)x;
    double f = x - k;
    return tab[k] + f * (tab[k + 1] - tab[k]);
}

double klefr_aa_gain(double f_hz)
{
    pthread_once(&once, init);
    double x = fabs(f_hz) / GAIN_STEP_HZ;
    if (x >= GAIN_N - 1)
        return 0;
    int k = (int)x;
    double f = x - k;
    return gain_tab[k] + f * (gain_tab[k + 1] - gain_tab[k]);
}
