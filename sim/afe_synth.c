/* Synthetic analog front end: a segment of 320 samples at a time
 * (afe_kernel.c: each component from its rotor at the segment's start, in
 * rows from a table of phase steps, in float), rotors carried from segment to segment and
 * reset from the exact phase every KLEFR_SYNTH_RESYNC segments,
 * deterministic noise (runs of a table of normal values at offsets drawn by
 * xorshift64*), DC offsets, the anti-alias filter's response on every
 * component, ADC gain/offset/rounding/clipping (counted only when the load's
 * peak can reach full scale), and the exact truth of the terminal signal
 * (afe.h; the cycle in progress worked out when it is read). */
#include "afe_synth.h"

#include <math.h>
#include <pthread.h>
#include <stdbool.h>
#include <string.h>

#include "afe_filter.h"
#include "klefr/config.h"

#define TWO_PI 6.283185307179586
#define DEG (TWO_PI / 360.0)
/* Gaussian noise by table: GAUSS_N quantiles of the unit normal (built once,
 * normalised to rms 1); NOISE_N values drawn from them (12-bit slices of
 * xorshift64*) make the noise table, and each segment reads a run of
 * KLEFR_SEG of them per channel from an offset drawn per segment: white,
 * normal, no libm and no draw per sample (docs/performance.md). */
#define GAUSS_BITS 12
#define GAUSS_N (1u << GAUSS_BITS)
#define GAUSS_MASK (GAUSS_N - 1u)
#define NOISE_BITS 16
#define NOISE_N (1u << NOISE_BITS)
static float gauss_tab[GAUSS_N];
static float noise_tab[NOISE_N + KLEFR_SEG]; /* the last KLEFR_SEG repeat the first */
static double gauss_max; /* largest |value| in the table */
static pthread_once_t gauss_once = PTHREAD_ONCE_INIT;

static uint64_t rng_next(uint64_t *s);

static void gauss_init(void)
{
    double ss = 0;
    for (unsigned k = 0; k < GAUSS_N / 2; k++) {
        /* Quantile of p = (k + 0.5) / N by bisection on the normal CDF. */
        double p = (k + 0.5) / GAUSS_N, lo = -10, hi = 0;
        for (int it = 0; it < 60; it++) {
            double mid = 0.5 * (lo + hi);
            if (0.5 * erfc(-mid / sqrt(2.0)) < p)
                lo = mid;
            else
                hi = mid;
        }
        gauss_tab[k] = (float)lo;
        gauss_tab[GAUSS_N - 1 - k] = (float)-lo;
        ss += 2 * lo * lo;
    }
    double norm = sqrt(GAUSS_N / ss);
    for (unsigned k = 0; k < GAUSS_N; k++) {
        gauss_tab[k] = (float)(gauss_tab[k] * norm);
        if (fabs(gauss_tab[k]) > gauss_max)
            gauss_max = fabs(gauss_tab[k]);
    }
    uint64_t r = 0x6A09E667F3BCC909ull;
    for (unsigned k = 0; k < NOISE_N; k += 4) {
        uint64_t x = rng_next(&r);
        for (unsigned q = 0; q < 4; q++)
            noise_tab[k + q] = gauss_tab[(x >> (q * GAUSS_BITS)) & GAUSS_MASK];
    }
    memcpy(noise_tab + NOISE_N, noise_tab, KLEFR_SEG * sizeof noise_tab[0]);
}

static uint64_t rng_next(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * 0x2545F4914F6CDD1Dull;
}

/* fmod(x, TWO_PI), the same value, without fmod's cost in the common case:
 * x - q 2pi with q = trunc(x / 2pi) and one rounding (fma) is exact when q
 * is the true quotient (the remainder is representable); the only other q
 * a rounded quotient can give is too large, which shows as a result out of
 * [0, 2pi): then fmod itself (and for x <= 0 or NaN, signed zeros kept). */
static double wrap_2pi(double x)
{
    if (!(x > 0))
        return fmod(x, TWO_PI);
    double r = fma(-trunc(x / TWO_PI), TWO_PI, x);
    return r >= 0 && r < TWO_PI ? r : fmod(x, TWO_PI);
}

/* Rotors e^{j h th} of every component at fundamental phase th, exactly. */
static void rotors_at(const klefr_synth *s, double th, double *re, double *im)
{
    re[0] = cos(th);
    im[0] = sin(th);
    for (unsigned k = 1; k < s->ncomp; k++) {
        double a = wrap_2pi(s->load.harm[k - 1].order * th);
        re[k] = cos(a);
        im[k] = sin(a);
    }
}

static void rotors_reset(klefr_synth *s)
{
    rotors_at(s, s->theta, s->rot_re, s->rot_im);
    s->seg_count = 0;
}

/* The rotors at the next sample to hand out. */
static void rotors_now(const klefr_synth *s, double *re, double *im)
{
    rotors_at(s, wrap_2pi(s->theta + s->seg_pos * s->dtheta), re, im);
}

/* ---- truth ---------------------------------------------------------------- */

static unsigned comp_order(const klefr_synth *s, unsigned c)
{
    return c == 0 ? 1u : s->load.harm[c - 1].order;
}

/* z / (j m) as (re, im). */
static void over_jm(double zr, double zi, double m, double out[2])
{
    out[0] = zi / m;
    out[1] = -zr / m;
}

/* The ripple antiderivative F (afe_synth.h) at rotors (re, im). */
static double truth_f(const klefr_synth *s, const double *re, const double *im)
{
    double f = 0;
    for (unsigned c = 0; c < s->ncomp; c++) {
        f += s->tr_k1[c][0] * re[c] - s->tr_k1[c][1] * im[c];
        for (unsigned d = 0; d < s->ncomp; d++) {
            double pr = re[c] * re[d] - im[c] * im[d], pi = re[c] * im[d] + im[c] * re[d];
            f += s->tr_kp[c][d][0] * pr - s->tr_kp[c][d][1] * pi;
            double mr = re[c] * re[d] + im[c] * im[d], mi = im[c] * re[d] - re[c] * im[d];
            f += s->tr_km[c][d][0] * mr - s->tr_km[c][d][1] * mi;
        }
    }
    return f;
}

/* Truth coefficients of the terminal signal (no ADC gain, offset or noise). */
static void truth_setup(klefr_synth *s)
{
    const klefr_load *l = &s->load;
    double a[1 + KLEFR_MAX_HARMONICS][2], b[1 + KLEFR_MAX_HARMONICS][2];
    double av = sqrt(2.0) * l->v_rms, ai = sqrt(2.0) * l->i_rms;
    a[0][0] = av, a[0][1] = 0;
    b[0][0] = ai * cos(-l->phi_deg * DEG), b[0][1] = ai * sin(-l->phi_deg * DEG);
    for (unsigned c = 1; c < s->ncomp; c++) {
        const klefr_harmonic *h = &l->harm[c - 1];
        double hv = av * h->v_pct / 100.0, hi = ai * h->i_pct / 100.0;
        a[c][0] = hv * cos(h->v_phase_deg * DEG), a[c][1] = hv * sin(h->v_phase_deg * DEG);
        b[c][0] = hi * cos(h->i_phase_deg * DEG), b[c][1] = hi * sin(h->i_phase_deg * DEG);
    }
    double dv = l->dc_v, di = l->dc_i;
    double p = dv * di;
    memset(s->tr_kp, 0, sizeof s->tr_kp);
    memset(s->tr_km, 0, sizeof s->tr_km);
    for (unsigned c = 0; c < s->ncomp; c++) {
        double hc = comp_order(s, c);
        over_jm(dv * b[c][0] + di * a[c][0], dv * b[c][1] + di * a[c][1], hc, s->tr_k1[c]);
        for (unsigned d = 0; d < s->ncomp; d++) {
            double hd = comp_order(s, d);
            /* Re(A) Re(B) = (Re(A B) + Re(A conj B)) / 2 */
            double pr = a[c][0] * b[d][0] - a[c][1] * b[d][1];
            double pi = a[c][0] * b[d][1] + a[c][1] * b[d][0];
            over_jm(pr / 2, pi / 2, hc + hd, s->tr_kp[c][d]);
            double mr = a[c][0] * b[d][0] + a[c][1] * b[d][1];
            double mi = a[c][1] * b[d][0] - a[c][0] * b[d][1];
            if (hc == hd)
                p += mr / 2;
            else
                over_jm(mr / 2, mi / 2, hc - hd, s->tr_km[c][d]);
        }
    }
    s->tr_p = p;
    s->tr_q1 = 0.5 * (a[0][1] * b[0][0] - a[0][0] * b[0][1]); /* Im(a0 conj b0) / 2 */
    /* Boundary: rising zero crossing of cos(th), th = 3 pi / 2. */
    double re[1 + KLEFR_MAX_HARMONICS] = {0}, im[1 + KLEFR_MAX_HARMONICS] = {0};
    for (unsigned c = 0; c < s->ncomp; c++) {
        double x = fmod(comp_order(s, c) * 1.5, 2.0) * M_PI;
        re[c] = cos(x);
        im[c] = sin(x);
    }
    s->tr_fb = truth_f(s, re, im);
    /* At frequency 0 the signal stands still: its instantaneous power. */
    double v = dv, i = di;
    for (unsigned c = 0; c < s->ncomp; c++) {
        v += a[c][0] * s->rot_re[c] - a[c][1] * s->rot_im[c];
        i += b[c][0] * s->rot_re[c] - b[c][1] * s->rot_im[c];
    }
    s->tr_p0 = v * i;
}

/* Energy of the open interval since its last rebase (joules, var*s). */
static void truth_open_part(const klefr_synth *s, double *j, double *qs)
{
    *j = *qs = 0;
    if (s->dtheta == 0)
        return; /* accumulated per fill */
    double w = TWO_PI * s->load.freq_hz;
    double re[1 + KLEFR_MAX_HARMONICS], im[1 + KLEFR_MAX_HARMONICS];
    rotors_now(s, re, im);
    *j = (s->tr_p * (s->tr_ph - s->tr_ph_ref) + truth_f(s, re, im) - s->tr_f_ref) / w;
    *qs = s->tr_q1 * (s->tr_ph - s->tr_ph_ref) / w;
}

/* n samples were handed out: close the cycles they completed (the truth of
 * the cycle in progress waits for truth_sync). */
static inline void truth_advance(klefr_synth *s, size_t n)
{
    if (s->dtheta == 0) {
        s->tr.pend_j += s->tr_p0 * (double)n / KLEFR_FS_HZ;
        s->tr_idle += n;
        if (s->tr_idle >= KLEFR_FS_HZ / 10) { /* no cycles: close every 0.1 s */
            klefr_truth_commit(&s->tr);
            s->tr_idle = 0;
        }
    } else {
        double w = TWO_PI * s->load.freq_hz, ph = s->tr_ph + (double)n * s->dtheta;
        while (ph >= TWO_PI) {
            s->tr.pend_j += (s->tr_p * (TWO_PI - s->tr_ph_ref) + s->tr_fb - s->tr_f_ref) / w;
            s->tr.pend_qs += s->tr_q1 * (TWO_PI - s->tr_ph_ref) / w;
            klefr_truth_commit(&s->tr);
            s->tr_ph_ref = 0;
            s->tr_f_ref = s->tr_fb;
            ph -= TWO_PI;
        }
        s->tr_ph = ph;
    }
    s->truth_stale = true;
}

/* afe.truth_sync: the closed cycles plus the one in progress. */
static void truth_sync(klefr_afe *self)
{
    klefr_synth *s = (klefr_synth *)self;
    if (!s->truth_stale)
        return;
    double j, qs;
    truth_open_part(s, &j, &qs);
    klefr_truth_acc c = s->tr;
    c.pend_j += j;
    klefr_truth_publish(&c, qs, s->tr_p, s->tr_q1, s->n, &s->afe.truth);
    s->truth_stale = false;
}

/* ---- generator ------------------------------------------------------------- */

/* Coefficients for the current load and ADC model. */
static void setup(klefr_synth *s)
{
    const klefr_load *l = &s->load;
    double kv = s->adc.gain_v * KLEFR_ADC_FULL_SCALE / KLEFR_V_FULL_SCALE_PEAK;
    double ki = s->adc.gain_i * KLEFR_ADC_FULL_SCALE / KLEFR_I_FULL_SCALE_PEAK;
    /* The front end's anti-alias filter (afe_filter.h) weights every
     * component alike on both channels: above 2 kHz nothing is left to alias. */
    double g1 = klefr_aa_gain(l->freq_hz);
    double av = sqrt(2.0) * l->v_rms * kv * g1, ai = sqrt(2.0) * l->i_rms * ki * g1;
    s->dtheta = TWO_PI * l->freq_hz / KLEFR_FS_HZ;
    s->ncomp = 1 + (l->n_harm < KLEFR_MAX_HARMONICS ? l->n_harm : KLEFR_MAX_HARMONICS);
    s->cv_re[0] = av;
    s->cv_im[0] = 0.0;
    s->ci_re[0] = ai * cos(-l->phi_deg * DEG);
    s->ci_im[0] = ai * sin(-l->phi_deg * DEG);
    s->step_re[0] = cos(s->dtheta);
    s->step_im[0] = sin(s->dtheta);
    for (unsigned k = 1; k < s->ncomp; k++) {
        const klefr_harmonic *h = &l->harm[k - 1];
        double gh = g1 > 0 ? klefr_aa_gain(h->order * l->freq_hz) / g1 : 0.0;
        double hv = av * h->v_pct / 100.0 * gh, hi = ai * h->i_pct / 100.0 * gh;
        s->cv_re[k] = hv * cos(h->v_phase_deg * DEG);
        s->cv_im[k] = hv * sin(h->v_phase_deg * DEG);
        s->ci_re[k] = hi * cos(h->i_phase_deg * DEG);
        s->ci_im[k] = hi * sin(h->i_phase_deg * DEG);
        s->step_re[k] = cos(h->order * s->dtheta);
        s->step_im[k] = sin(h->order * s->dtheta);
    }
    klefr_seg_in *g = &s->seg_in;
    for (unsigned k = 0; k < s->ncomp; k++) {
        double a = comp_order(s, k) * s->dtheta;
        klefr_seg_steps(g, k, a);
        s->seg_re[k] = cos(a * KLEFR_SEG);
        s->seg_im[k] = sin(a * KLEFR_SEG);
    }
    s->dc_v_code = l->dc_v * kv + s->adc.offset_v;
    s->dc_i_code = l->dc_i * ki + s->adc.offset_i;
    s->noise_v_code = l->noise_v_rms * kv;
    s->noise_i_code = l->noise_i_rms * ki;
    /* Can a sample reach full scale? Only then are clipped samples counted. */
    double pv = fabs(s->dc_v_code) + gauss_max * fabs(s->noise_v_code);
    double pi = fabs(s->dc_i_code) + gauss_max * fabs(s->noise_i_code);
    for (unsigned k = 0; k < s->ncomp; k++) {
        pv += hypot(s->cv_re[k], s->cv_im[k]);
        pi += hypot(s->ci_re[k], s->ci_im[k]);
    }
    s->may_clip = pv >= KLEFR_ADC_FULL_SCALE - 1.0 || pi >= KLEFR_ADC_FULL_SCALE - 1.0;
    rotors_reset(s);
    truth_setup(s);
}

/* Makes the segment that starts at theta (rotors at theta). */
static void segment_make(klefr_synth *s)
{
    klefr_seg_in *g = &s->seg_in;
    g->ncomp = s->ncomp;
    g->dc_v = s->dc_v_code, g->dc_i = s->dc_i_code;
    g->nv = s->noise_v_code, g->ni = s->noise_i_code;
    g->noise_v = g->noise_i = NULL;
    for (unsigned c = 0; c < s->ncomp; c++) {
        /* the component's code phasors at the rotor: cv r, ci r */
        g->bv[c][0] = s->cv_re[c] * s->rot_re[c] - s->cv_im[c] * s->rot_im[c];
        g->bv[c][1] = s->cv_re[c] * s->rot_im[c] + s->cv_im[c] * s->rot_re[c];
        g->bi[c][0] = s->ci_re[c] * s->rot_re[c] - s->ci_im[c] * s->rot_im[c];
        g->bi[c][1] = s->ci_re[c] * s->rot_im[c] + s->ci_im[c] * s->rot_re[c];
    }
    if (s->noise_v_code != 0.0 || s->noise_i_code != 0.0) {
        uint64_t r = rng_next(&s->rng);
        g->noise_v = noise_tab + (r & (NOISE_N - 1));
        g->noise_i = noise_tab + ((r >> 32) & (NOISE_N - 1));
    }
    klefr_synth_segment(g, s->buf_v + KLEFR_SYNTH_LEAD, s->buf_i + KLEFR_SYNTH_LEAD,
                        s->may_clip ? s->seg_clip : NULL);
    s->seg_pos = 0;
}

/* On to the next segment: its phase, its rotors (a multiply; exact again
 * every KLEFR_SYNTH_RESYNC segments), its samples. */
static void segment_next(klefr_synth *s)
{
    s->theta = wrap_2pi(s->theta + KLEFR_SEG * s->dtheta);
    if (++s->seg_count >= KLEFR_SYNTH_RESYNC) {
        rotors_reset(s);
    } else {
        for (unsigned c = 0; c < s->ncomp; c++) {
            double re = s->rot_re[c] * s->seg_re[c] - s->rot_im[c] * s->seg_im[c];
            s->rot_im[c] = s->rot_re[c] * s->seg_im[c] + s->rot_im[c] * s->seg_re[c];
            s->rot_re[c] = re;
        }
    }
    segment_make(s);
}

/* Samples [seg_pos, seg_pos + m) of the segment are handed out: clipped
 * ones counted (when the load may clip). */
static inline void hand_out(klefr_synth *s, size_t m)
{
    if (s->may_clip)
        for (size_t k = 0; k < m; k++) {
            unsigned c = s->seg_clip[s->seg_pos + k];
            s->afe.clipped += (c & 1u) + (c >> 1);
            s->afe.clipped_i += c >> 1;
        }
    s->seg_pos += (unsigned)m;
}

static size_t synth_fill(klefr_afe *self, int32_t *v, int32_t *i, size_t n)
{
    klefr_synth *s = (klefr_synth *)self;
    size_t j = 0;
    while (j < n) {
        if (s->seg_pos == KLEFR_SEG)
            segment_next(s);
        size_t m = KLEFR_SEG - s->seg_pos;
        m = n - j < m ? n - j : m;
        memcpy(v + j, s->buf_v + KLEFR_SYNTH_LEAD + s->seg_pos, m * sizeof *v);
        memcpy(i + j, s->buf_i + KLEFR_SYNTH_LEAD + s->seg_pos, m * sizeof *i);
        hand_out(s, m);
        j += m;
    }
    s->n += n;
    truth_advance(s, n);
    return n;
}

/* afe.take: the same samples as fill, read in place. When they span two
 * segments, the old one's last r samples go just before the new one (r <
 * n <= KLEFR_SYNTH_LEAD: a short copy once every few slices). */
static size_t synth_take(klefr_afe *self, const int32_t **v, const int32_t **i, size_t n)
{
    klefr_synth *s = (klefr_synth *)self;
    if (n > KLEFR_SYNTH_LEAD)
        return 0;
    size_t at = KLEFR_SYNTH_LEAD + s->seg_pos, r = KLEFR_SEG - s->seg_pos;
    if (r < n) {
        memcpy(s->buf_v + KLEFR_SYNTH_LEAD - r, s->buf_v + at, r * sizeof s->buf_v[0]);
        memcpy(s->buf_i + KLEFR_SYNTH_LEAD - r, s->buf_i + at, r * sizeof s->buf_i[0]);
        hand_out(s, r);
        segment_next(s);
        hand_out(s, n - r);
        at = KLEFR_SYNTH_LEAD - r;
    } else {
        hand_out(s, n);
    }
    *v = s->buf_v + at;
    *i = s->buf_i + at;
    s->n += n;
    truth_advance(s, n);
    return n;
}

void klefr_synth_init(klefr_synth *s, const klefr_load *load, const klefr_adc_model *adc)
{
    pthread_once(&gauss_once, gauss_init);
    memset(s, 0, sizeof *s);
    s->afe.fill = synth_fill;
    s->afe.take = synth_take;
    s->afe.truth_sync = truth_sync;
    s->load = *load;
    s->adc = adc ? *adc : (klefr_adc_model){.gain_v = 1.0, .gain_i = 1.0};
    s->rng = load->seed ? load->seed : 0x9E3779B97F4A7C15ull;
    s->theta = 0.0;
    setup(s);
    segment_make(s);
    /* th = 0 is the voltage's positive peak: a quarter cycle past the boundary. */
    s->tr_ph = s->tr_ph_ref = M_PI / 2;
    s->tr_f_ref = truth_f(s, s->rot_re, s->rot_im);
    klefr_truth_publish(&s->tr, 0, s->tr_p, s->tr_q1, 0, &s->afe.truth);
}

void klefr_synth_set_load(klefr_synth *s, const klefr_load *load)
{
    /* Phase reached so far with the old frequency; keep it (continuous). */
    unsigned done = s->seg_pos;
    /* Truth: the open interval so far belongs to the old load. */
    double j, qs;
    truth_open_part(s, &j, &qs);
    s->tr.pend_j += j;
    s->tr.pend_qs += qs;
    s->tr_ph_ref = s->tr_ph;
    s->theta = wrap_2pi(s->theta + done * s->dtheta);
    uint64_t seed = s->load.seed;
    s->load = *load;
    if (load->seed != seed) /* a new seed restarts the noise sequence */
        s->rng = load->seed ? load->seed : 0x9E3779B97F4A7C15ull;
    setup(s);
    segment_make(s); /* a new segment from here */
    s->tr_f_ref = truth_f(s, s->rot_re, s->rot_im);
    s->truth_stale = true;
}

double klefr_load_active_w(const klefr_load *l)
{
    double p = l->v_rms * l->i_rms * cos(l->phi_deg * DEG);
    for (unsigned k = 0; k < l->n_harm && k < KLEFR_MAX_HARMONICS; k++) {
        const klefr_harmonic *h = &l->harm[k];
        p += l->v_rms * h->v_pct / 100.0 * l->i_rms * h->i_pct / 100.0 *
             cos((h->v_phase_deg - h->i_phase_deg) * DEG);
    }
    return p;
}

double klefr_load_reactive_var(const klefr_load *l)
{
    double q = l->v_rms * l->i_rms * sin(l->phi_deg * DEG);
    for (unsigned k = 0; k < l->n_harm && k < KLEFR_MAX_HARMONICS; k++) {
        const klefr_harmonic *h = &l->harm[k];
        q += l->v_rms * h->v_pct / 100.0 * l->i_rms * h->i_pct / 100.0 *
             sin((h->v_phase_deg - h->i_phase_deg) * DEG);
    }
    return q;
}
