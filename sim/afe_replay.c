#include "afe_replay.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "afe_filter.h"
#include "json_pos.h"
#include "klefr/config.h"

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

static int32_t adc_code(double x, double full_scale, bool *clipped)
{
    double c = x / full_scale * KLEFR_ADC_FULL_SCALE;
    bool clip = false;
    if (c > KLEFR_ADC_FULL_SCALE - 1)
        c = KLEFR_ADC_FULL_SCALE - 1, clip = true;
    if (c < -KLEFR_ADC_FULL_SCALE)
        c = -KLEFR_ADC_FULL_SCALE, clip = true;
    if (clipped)
        *clipped = clip;
    return (int32_t)lrint(c);
}

int32_t klefr_adc_code_v(double volts, bool *clipped)
{
    return adc_code(volts, KLEFR_V_FULL_SCALE_PEAK, clipped);
}

int32_t klefr_adc_code_i(double amperes, bool *clipped)
{
    return adc_code(amperes, KLEFR_I_FULL_SCALE_PEAK, clipped);
}

/* ---- CSV ---------------------------------------------------------------- */

#define CSV_LINE_MAX 1024

static bool csv_skip(const char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    return *s == 0 || *s == '#';
}

/* Split a line into fields (modifies it). Returns the field count. */
static int csv_split(char *s, char **field, int max)
{
    int n = 0;
    char *hash = strchr(s, '#');
    if (hash)
        *hash = 0; /* trailing comment */
    for (char *save = NULL, *tok = strtok_r(s, ",; \t\r\n", &save); tok;
         tok = strtok_r(NULL, ",; \t\r\n", &save)) {
        if (n == max)
            return max + 1;
        field[n++] = tok;
    }
    return n;
}

static bool csv_number(const char *s, double *x)
{
    char *e;
    errno = 0;
    *x = strtod(s, &e);
    return e != s && *e == 0 && isfinite(*x) && errno != ERANGE;
}

/* A header names the columns; returns false when the line is data. */
static int csv_header(klefr_replay *r, char **field, int n, char *err, size_t errlen)
{
    r->col_t = r->col_v = r->col_i = -1;
    for (int k = 0; k < n; k++) {
        const char *h = field[k];
        if (!strcasecmp(h, "t") || !strcasecmp(h, "time") || !strcasecmp(h, "time_s") ||
            !strcasecmp(h, "s"))
            r->col_t = k;
        else if (!strcasecmp(h, "v") || !strcasecmp(h, "u") || !strcasecmp(h, "voltage") ||
                 !strcasecmp(h, "v_v"))
            r->col_v = k;
        else if (!strcasecmp(h, "i") || !strcasecmp(h, "current") || !strcasecmp(h, "i_a"))
            r->col_i = k;
        else
            return fail(err, errlen, "%s:%llu: unknown column '%s' (expected time, v, i)", r->path,
                        (unsigned long long)r->line, h);
    }
    if (r->col_v < 0 || r->col_i < 0)
        return fail(err, errlen, "%s:%llu: the header needs columns v and i", r->path,
                    (unsigned long long)r->line);
    r->ncols = n;
    return 0;
}

/* Read the next data line into a point. 1 = got one, 0 = end, -1 = error. */
static int csv_next(klefr_replay *r, klefr_replay_point *p, char *err, size_t errlen)
{
    char line[CSV_LINE_MAX + 2];
    while (fgets(line, sizeof line, r->f)) {
        r->line++;
        if (!strchr(line, '\n') && !feof(r->f))
            return fail(err, errlen, "%s:%llu: line longer than %d characters", r->path,
                        (unsigned long long)r->line, CSV_LINE_MAX);
        if (csv_skip(line))
            continue;
        char *field[KLEFR_CSV_MAX_COLS];
        int n = csv_split(line, field, KLEFR_CSV_MAX_COLS);
        if (n == 0)
            continue;
        double x[KLEFR_CSV_MAX_COLS];
        bool numeric = n <= KLEFR_CSV_MAX_COLS;
        for (int k = 0; numeric && k < n; k++)
            numeric = csv_number(field[k], &x[k]);
        if (r->ncols == 0) { /* first line: a header, or data that fixes the layout */
            if (n > KLEFR_CSV_MAX_COLS)
                return fail(err, errlen, "%s:%llu: too many columns", r->path,
                            (unsigned long long)r->line);
            if (!numeric && isalpha((unsigned char)field[0][0])) {
                if (csv_header(r, field, n, err, errlen) < 0)
                    return -1;
                continue;
            }
            if (n != 2 && n != 3)
                return fail(err, errlen,
                            "%s:%llu: expected 2 (v,i) or 3 (time,v,i) values, found %d", r->path,
                            (unsigned long long)r->line, n);
            r->ncols = n;
            r->col_t = n == 3 ? 0 : -1;
            r->col_v = n == 3 ? 1 : 0;
            r->col_i = n == 3 ? 2 : 1;
        }
        if (n != r->ncols)
            return fail(err, errlen, "%s:%llu: expected %d values, found %d", r->path,
                        (unsigned long long)r->line, r->ncols, n);
        for (int k = 0; k < n; k++)
            if (!csv_number(field[k], &x[k]))
                return fail(err, errlen, "%s:%llu: column %d: '%s' is not a number", r->path,
                            (unsigned long long)r->line, k + 1, field[k]);
        p->v = x[r->col_v];
        p->i = x[r->col_i];
        p->t = r->col_t >= 0 ? x[r->col_t] : (double)r->src_index / r->src_rate_hz;
        return 1;
    }
    if (ferror(r->f))
        return fail(err, errlen, "%s:%llu: read error", r->path, (unsigned long long)r->line);
    return 0;
}

/* Check every line once, then rewind for the run. */
static int csv_open(klefr_replay *r, const klefr_replay_opts *o, char *err, size_t errlen)
{
    klefr_replay_point p, prev = {0};
    double dt_min = INFINITY, dt_max = 0;
    uint64_t prev_line = 0;
    int got;
    r->src_rate_hz = o && o->rate_hz > 0 ? o->rate_hz : 0;
    r->src_rate_hz =
        r->src_rate_hz > 0 ? r->src_rate_hz : 1; /* placeholder until the layout is known */
    while ((got = csv_next(r, &p, err, errlen)) == 1) {
        if (r->src_index == 0 && r->col_t < 0 && !(o && o->rate_hz > 0))
            return fail(err, errlen, "%s:%llu: no time column: give --replay-rate HZ", r->path,
                        (unsigned long long)r->line);
        if (r->src_index > 0 && r->col_t >= 0 && !(p.t > prev.t))
            return fail(err, errlen, "%s:%llu: time %g is not after %g (line %llu)", r->path,
                        (unsigned long long)r->line, p.t, prev.t, (unsigned long long)prev_line);
        if (r->src_index == 0)
            r->t0 = p.t;
        else if (r->col_t >= 0) {
            dt_min = fmin(dt_min, p.t - prev.t);
            dt_max = fmax(dt_max, p.t - prev.t);
        }
        prev = p;
        prev_line = r->line;
        r->src_index++;
    }
    if (got < 0)
        return -1;
    if (r->src_index < 2)
        return fail(err, errlen, "%s:%llu: need at least 2 samples, found %llu", r->path,
                    (unsigned long long)(r->line ? r->line : 1), (unsigned long long)r->src_index);
    r->src_frames = r->src_index;
    r->src_rate_hz = r->col_t < 0 ? o->rate_hz : 0;
    r->duration_s = r->col_t < 0 ? (double)(r->src_frames - 1) / r->src_rate_hz : prev.t - r->t0;
    /* Evenly spaced times (within 0.1 % of a step, as printed times are):
     * the points are the stream, at their mean rate. */
    double mean = (double)(r->src_frames - 1) / r->duration_s;
    r->uniform = r->col_t < 0 || dt_max - dt_min <= 1e-3 / mean;
    r->fs_in = r->col_t < 0 ? o->rate_hz : mean;
    rewind(r->f);
    r->line = 0;
    r->ncols = 0;
    r->src_index = 0;
    return 0;
}

/* ---- WAV ---------------------------------------------------------------- */

static uint32_t le16(const uint8_t *b)
{
    return (uint32_t)b[0] | (uint32_t)b[1] << 8;
}
static uint32_t le32(const uint8_t *b)
{
    return le16(b) | le16(b + 2) << 16;
}

/* FILE.json next to the recording: {"v_scale": volts, "i_scale": amperes}.
 * Other keys are errors: a typo would silently leave the default scale. */
static int wav_sidecar(klefr_replay *r, char *err, size_t errlen)
{
    char side[4200];
    snprintf(side, sizeof side, "%s.json", r->path);
    char *text = klefr_text_file_read(side, err, errlen);
    if (!text && errno == ENOENT) {
        if (errlen) /* no sidecar: not an error, and no message left for a caller to print */
            err[0] = 0;
        return 0;
    }
    if (!text)
        return -1;
    cJSON *j = klefr_json_parse(side, text, err, errlen);
    klefr_json_lines lines = {0};
    int rc = j && klefr_json_lines_init(&lines, j, text) == 0 ? 0 : -1;
    if (j && rc < 0)
        fail(err, errlen, "%s: out of memory", side);
    if (j && rc == 0 && !cJSON_IsObject(j))
        rc = fail(err, errlen, "%s:%d: expected {\"v_scale\": volts, \"i_scale\": amperes}", side,
                  klefr_json_line_of(&lines, j));
    const cJSON *f;
    double scale[2] = {0, 0}; /* v, i */
    if (rc == 0)
        cJSON_ArrayForEach(f, j)
        {
            bool v = !strcmp(f->string, "v_scale"), i = !strcmp(f->string, "i_scale");
            if (!v && !i) {
                rc = fail(err, errlen, "%s:%d: unknown key \"%s\" (expected v_scale, i_scale)",
                          side, klefr_json_line_of(&lines, f), f->string);
                break;
            }
            if (!cJSON_IsNumber(f) || !(f->valuedouble > 0) || !isfinite(f->valuedouble)) {
                rc = fail(err, errlen, "%s:%d: v_scale and i_scale must be numbers > 0", side,
                          klefr_json_line_of(&lines, f));
                break;
            }
            scale[i] = f->valuedouble;
        }
    if (rc == 0) {
        if (scale[0] > 0 && r->v_scale == 0)
            r->v_scale = scale[0];
        if (scale[1] > 0 && r->i_scale == 0)
            r->i_scale = scale[1];
    }
    klefr_json_lines_free(&lines);
    cJSON_Delete(j);
    free(text);
    return rc;
}

static int wav_open(klefr_replay *r, const klefr_replay_opts *o, char *err, size_t errlen)
{
    uint8_t h[12];
    if (fread(h, 1, 12, r->f) != 12 || memcmp(h, "RIFF", 4) || memcmp(h + 8, "WAVE", 4))
        return fail(err, errlen, "%s: not a RIFF/WAVE file", r->path);
    bool have_fmt = false;
    unsigned channels = 0, bits = 0, tag = 0;
    uint32_t rate = 0;
    for (;;) {
        uint8_t c[8];
        long at = ftell(r->f);
        if (fread(c, 1, 8, r->f) != 8)
            return fail(err, errlen, "%s: no data chunk", r->path);
        uint32_t size = le32(c + 4);
        if (!memcmp(c, "fmt ", 4)) {
            uint8_t fmt[40];
            if (size < 16 || size > sizeof fmt || fread(fmt, 1, size, r->f) != size)
                return fail(err, errlen, "%s: offset %ld: bad fmt chunk", r->path, at);
            if (size & 1)
                fseek(r->f, 1, SEEK_CUR);
            tag = le16(fmt);
            channels = le16(fmt + 2);
            rate = le32(fmt + 4);
            bits = le16(fmt + 14);
            if (tag == 0xFFFE &&
                size >= 26) /* WAVE_FORMAT_EXTENSIBLE: the GUID starts with the tag */
                tag = le16(fmt + 24);
            have_fmt = true;
        } else if (!memcmp(c, "data", 4)) {
            if (!have_fmt)
                return fail(err, errlen, "%s: offset %ld: data chunk before fmt chunk", r->path,
                            at);
            r->data_left = size;
            break;
        } else if (fseek(r->f, (long)size + (size & 1), SEEK_CUR) != 0) {
            return fail(err, errlen, "%s: offset %ld: truncated chunk", r->path, at);
        }
    }
    if (channels != 2)
        return fail(err, errlen, "%s: %u channels; expected 2 (V, I)", r->path, channels);
    if (tag == 1 && (bits == 16 || bits == 24 || bits == 32))
        r->fmt_float = 0;
    else if (tag == 3 && (bits == 32 || bits == 64))
        r->fmt_float = 1;
    else
        return fail(err, errlen, "%s: format %u with %u bits; expected PCM 16/24/32 or float 32/64",
                    r->path, tag, bits);
    if (rate < 100 || rate > 10000000)
        return fail(err, errlen, "%s: sample rate %u Hz out of range", r->path, rate);
    r->bytes_per_sample = (int)bits / 8;
    /* Recorders that stream write a huge data size: trust the file's length. */
    long pos = ftell(r->f);
    fseek(r->f, 0, SEEK_END);
    long end = ftell(r->f);
    fseek(r->f, pos, SEEK_SET);
    uint64_t avail = end > pos ? (uint64_t)(end - pos) : 0;
    if (r->data_left > avail)
        r->data_left = avail;
    uint64_t frame = 2u * (uint64_t)r->bytes_per_sample;
    r->data_left -= r->data_left % frame;
    r->src_frames = r->data_left / frame;
    if (r->src_frames < 2)
        return fail(err, errlen, "%s: need at least 2 frames, found %llu", r->path,
                    (unsigned long long)r->src_frames);
    r->src_rate_hz = rate;
    r->duration_s = (double)(r->src_frames - 1) / rate;
    r->v_scale = o ? o->v_scale : 0;
    r->i_scale = o ? o->i_scale : 0;
    if (wav_sidecar(r, err, errlen) < 0)
        return -1;
    if (r->v_scale <= 0)
        r->v_scale = KLEFR_WAV_V_SCALE;
    if (r->i_scale <= 0)
        r->i_scale = KLEFR_WAV_I_SCALE;
    return 0;
}

static double wav_sample(const klefr_replay *r, const uint8_t *b)
{
    switch (r->bytes_per_sample * 2 + r->fmt_float) {
    case 4:
        return (double)(int16_t)le16(b) / 32768.0;
    case 6: {
        int32_t x =
            (int32_t)((uint32_t)b[0] << 8 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 24) >> 8;
        return (double)x / 8388608.0;
    }
    case 8:
        return (double)(int32_t)le32(b) / 2147483648.0;
    case 9: {
        uint32_t u = le32(b);
        float x;
        memcpy(&x, &u, 4);
        return x;
    }
    case 17: {
        uint64_t u = le32(b) | (uint64_t)le32(b + 4) << 32;
        double x;
        memcpy(&x, &u, 8);
        return x;
    }
    }
    return 0;
}

static int wav_next(klefr_replay *r, klefr_replay_point *p)
{
    uint8_t b[16];
    size_t frame = 2u * (size_t)r->bytes_per_sample;
    if (r->data_left < frame || fread(b, 1, frame, r->f) != frame)
        return 0;
    r->data_left -= frame;
    p->t = (double)r->src_index / r->src_rate_hz;
    p->v = wav_sample(r, b) * r->v_scale;
    p->i = wav_sample(r, b + r->bytes_per_sample) * r->i_scale;
    if (!isfinite(p->v) || !isfinite(p->i))
        p->v = p->i = 0;
    return 1;
}

/* ---- the stream ---------------------------------------------------------- */

static bool next_point(klefr_replay *r, klefr_replay_point *p)
{
    char err[8];
    int got = r->kind == KLEFR_REPLAY_CSV ? csv_next(r, p, err, sizeof err) : wav_next(r, p);
    if (got != 1)
        return false; /* CSV was checked at open: only a file changed under us fails here */
    if (r->kind == KLEFR_REPLAY_CSV)
        p->t -= r->t0;
    r->src_index++;
    return true;
}

/* Grid rate for a CSV whose times are not evenly spaced: at least 16 kHz, a
 * multiple of the ADC rate. */
static double grid_rate(double mean_hz)
{
    double q = ceil(mean_hz / KLEFR_FS_HZ) * KLEFR_FS_HZ;
    return q < 4.0 * KLEFR_FS_HZ ? 4.0 * KLEFR_FS_HZ : q;
}

/* The next frame of the stream; false at its end. */
static bool next_frame(klefr_replay *r, double *v, double *i)
{
    if (r->uniform) {
        klefr_replay_point p;
        if (!next_point(r, &p))
            return false;
        *v = p.v, *i = p.i;
        return true;
    }
    double t = (double)r->in_n / r->fs_in;
    while (r->pb_ok && r->pb.t < t) {
        r->pa = r->pb;
        r->pb_ok = next_point(r, &r->pb);
    }
    if (!r->pb_ok) { /* only the last point itself */
        if (r->pa.t != t)
            return false;
        *v = r->pa.v, *i = r->pa.i;
        return true;
    }
    double u = (t - r->pa.t) / (r->pb.t - r->pa.t);
    *v = r->pa.v + u * (r->pb.v - r->pa.v);
    *i = r->pa.i + u * (r->pb.i - r->pa.i);
    return true;
}

/* Pull frames into the ring up to index j (or the stream's end). */
static void pull(klefr_replay *r, int64_t j)
{
    while ((int64_t)r->in_n <= j && r->in_n < r->in_total) {
        double v, i;
        if (!next_frame(r, &v, &i)) { /* shorter than announced (file changed) */
            r->in_total = r->in_n;
            break;
        }
        r->rv[r->in_n & r->ring_mask] = v;
        r->ri[r->in_n & r->ring_mask] = i;
        r->in_n++;
    }
}

static void frame_at(const klefr_replay *r, int64_t j, double *v, double *i)
{
    uint64_t m;
    if (r->kind == KLEFR_REPLAY_PERIODIC) {
        int64_t p = (int64_t)r->period;
        m = (uint64_t)(((j % p) + p) % p);
    } else {
        m = (uint64_t)j & r->ring_mask;
    }
    *v = r->rv[m];
    *i = r->ri[m];
}

/* The truth takes the frames before stream position u (the time covered by
 * the output samples so far). */
static void truth_to(klefr_replay *r, double u)
{
    while ((double)r->truth_n < u && (r->kind == KLEFR_REPLAY_PERIODIC || r->truth_n < r->in_n)) {
        double v, i;
        frame_at(r, (int64_t)r->truth_n, &v, &i);
        klefr_stream_truth_add(&r->truth, v, i);
        r->truth_n++;
    }
}

/* ---- the anti-alias filter ------------------------------------------------- */

/* Kernel weights of the taps floor(u) + woff + t for fractional part frac,
 * normalised to the filter's DC gain (the table's interpolation error and the
 * recording's rate would otherwise leave a ripple with the phase). */
static void weights(const klefr_replay *r, double frac, double *w)
{
    double sum = 0;
    for (uint32_t t = 0; t < r->wtaps; t++) {
        w[t] = klefr_aa_kernel((frac - (double)(r->woff + (int32_t)t)) * r->kx);
        sum += w[t];
    }
    double g = klefr_aa_gain(0) / sum;
    for (uint32_t t = 0; t < r->wtaps; t++)
        w[t] *= g;
}

static uint32_t gcd32(uint32_t a, uint32_t b)
{
    while (b) {
        uint32_t t = a % b;
        a = b;
        b = t;
    }
    return a;
}

/* Set up the filter for the stream rate fs_in; ring of frames for files.
 * Returns -1 when out of memory. */
static int filter_setup(klefr_replay *r)
{
    double scale = r->fs_in < KLEFR_FS_HZ ? r->fs_in / KLEFR_FS_HZ : 1.0;
    r->kx = KLEFR_FS_HZ * scale / r->fs_in; /* kernel samples per frame */
    r->half = KLEFR_AA_HALF / r->kx;
    r->woff = (int32_t)floor(-r->half);
    r->wtaps = (uint32_t)(floor(r->half + 1.0) - r->woff + 1);
    r->wtmp = malloc(r->wtaps * sizeof *r->wtmp);
    if (!r->wtmp)
        return -1;
    double ri = round(r->fs_in);
    r->in_rate = fabs(r->fs_in - ri) <= 1e-6 * r->fs_in && ri < 4e9 ? (uint32_t)ri : 0;
    if (r->in_rate) {
        r->fs_in = ri;
        r->wphases = KLEFR_FS_HZ / gcd32(r->in_rate, KLEFR_FS_HZ);
        if ((uint64_t)r->wphases * r->wtaps <= (1u << 21)) {
            r->wcache = malloc((size_t)r->wphases * r->wtaps * sizeof *r->wcache);
            if (!r->wcache)
                return -1;
            /* Phase p: fractional position p * gcd / KLEFR_FS_HZ. */
            for (uint32_t p = 0; p < r->wphases; p++)
                weights(r, (double)p / r->wphases, r->wcache + (size_t)p * r->wtaps);
        }
    }
    if (r->kind != KLEFR_REPLAY_PERIODIC) {
        uint64_t need = r->wtaps + (uint64_t)(r->fs_in / KLEFR_FS_HZ) + 16, size = 64;
        while (size < need)
            size <<= 1;
        r->ring_mask = size - 1;
        r->rv = malloc(size * sizeof *r->rv);
        r->ri = malloc(size * sizeof *r->ri);
        if (!r->rv || !r->ri)
            return -1;
    }
    klefr_stream_truth_init(&r->truth, r->fs_in);
    return 0;
}

static size_t replay_fill(klefr_afe *afe, int32_t *v, int32_t *i, size_t n)
{
    klefr_replay *r = (klefr_replay *)afe;
    const bool periodic = r->kind == KLEFR_REPLAY_PERIODIC;
    size_t k = 0;
    while (k < n && !r->ended) {
        /* Position of this output in the stream: jc + frac. */
        int64_t jc;
        double frac;
        const double *w;
        if (r->in_rate) {
            uint64_t num = r->out_n * r->in_rate;
            jc = (int64_t)(num / KLEFR_FS_HZ);
            uint32_t ph = (uint32_t)(num % KLEFR_FS_HZ);
            frac = (double)ph / KLEFR_FS_HZ;
            w = r->wcache ? r->wcache + (size_t)(ph / (KLEFR_FS_HZ / r->wphases)) * r->wtaps : NULL;
        } else {
            double u = (double)r->out_n * r->fs_in / KLEFR_FS_HZ;
            jc = (int64_t)floor(u);
            frac = u - (double)jc;
            w = NULL;
        }
        if (!periodic && (jc > (int64_t)r->in_total - 1 ||
                          (jc == (int64_t)r->in_total - 1 && frac > 0))) {
            r->ended = true; /* past the last sample's time */
            break;
        }
        truth_to(r, (double)jc + frac);
        int64_t j0 = jc + r->woff, j1 = j0 + (int64_t)r->wtaps - 1;
        if (!periodic)
            pull(r, j1);
        if (!w) {
            weights(r, frac, r->wtmp);
            w = r->wtmp;
        }
        double vv = 0, ii = 0;
        if (periodic || (j0 >= 0 && j1 < (int64_t)r->in_n)) {
            if (!periodic && ((uint64_t)j0 & r->ring_mask) + r->wtaps <= r->ring_mask + 1) {
                const double *pv = r->rv + ((uint64_t)j0 & r->ring_mask);
                const double *pi = r->ri + ((uint64_t)j0 & r->ring_mask);
                for (uint32_t t = 0; t < r->wtaps; t++) {
                    vv += w[t] * pv[t];
                    ii += w[t] * pi[t];
                }
            } else {
                for (uint32_t t = 0; t < r->wtaps; t++) {
                    double a, b;
                    frame_at(r, j0 + t, &a, &b);
                    vv += w[t] * a;
                    ii += w[t] * b;
                }
            }
        } else { /* an end of the recording: the kernel cut and renormalised */
            double sum = 0;
            for (uint32_t t = 0; t < r->wtaps; t++) {
                int64_t j = j0 + t;
                if (j < 0 || j >= (int64_t)r->in_n)
                    continue;
                double a, b;
                frame_at(r, j, &a, &b);
                vv += w[t] * a;
                ii += w[t] * b;
                sum += w[t];
            }
            vv *= klefr_aa_gain(0) / sum;
            ii *= klefr_aa_gain(0) / sum;
        }
        bool cv, ci;
        v[k] = klefr_adc_code_v(vv, &cv);
        i[k] = klefr_adc_code_i(ii, &ci);
        r->afe.clipped += cv + ci;
        r->afe.clipped_i += ci;
        k++;
        r->out_n++;
    }
    truth_to(r, (double)r->out_n * r->fs_in / KLEFR_FS_HZ);
    klefr_stream_truth_publish(&r->truth, r->out_n, &r->afe.truth);
    return k;
}

static void replay_init(klefr_replay *r)
{
    memset(r, 0, sizeof *r);
    r->afe.fill = replay_fill;
}

int klefr_replay_open(klefr_replay *r, const char *path, const klefr_replay_opts *o, char *err,
                      size_t errlen)
{
    replay_init(r);
    snprintf(r->path, sizeof r->path, "%s", path);
    r->f = fopen(path, "rb");
    if (!r->f)
        return fail(err, errlen, "%s: %s", path, strerror(errno));
    uint8_t magic[4] = {0};
    size_t got = fread(magic, 1, 4, r->f);
    rewind(r->f);
    size_t plen = strlen(path);
    bool wav_name = plen > 4 && !strcasecmp(path + plen - 4, ".wav");
    r->kind =
        (got == 4 && !memcmp(magic, "RIFF", 4)) || wav_name ? KLEFR_REPLAY_WAV : KLEFR_REPLAY_CSV;
    if (r->kind == KLEFR_REPLAY_CSV && o && o->rate_hz < 0) {
        fail(err, errlen, "--replay-rate must be > 0");
        klefr_replay_close(r);
        return -1;
    }
    int rc =
        r->kind == KLEFR_REPLAY_WAV ? wav_open(r, o, err, errlen) : csv_open(r, o, err, errlen);
    if (rc < 0) {
        klefr_replay_close(r);
        return -1;
    }
    if (r->kind == KLEFR_REPLAY_WAV) {
        r->uniform = true;
        r->fs_in = r->src_rate_hz;
    }
    if (r->uniform) {
        r->in_total = r->src_frames;
    } else {
        r->fs_in = grid_rate(r->fs_in);
        r->in_total = (uint64_t)floor(r->duration_s * r->fs_in + 1e-9) + 1;
        r->pb_ok = next_point(r, &r->pa) && next_point(r, &r->pb);
    }
    if (filter_setup(r) < 0) {
        fail(err, errlen, "%s: out of memory", path);
        klefr_replay_close(r);
        return -1;
    }
    return 0;
}

int klefr_replay_open_periodic(klefr_replay *r, const double *v, const double *i, size_t n,
                               double rate_hz)
{
    replay_init(r);
    r->kind = KLEFR_REPLAY_PERIODIC;
    snprintf(r->path, sizeof r->path, "(periodic waveform)");
    if (n < 2 || !(rate_hz >= 100 && rate_hz <= 1e7))
        return -1;
    r->uniform = true;
    r->fs_in = r->src_rate_hz = rate_hz;
    r->src_frames = r->period = n;
    r->in_total = UINT64_MAX;
    r->duration_s = INFINITY;
    r->rv = malloc(n * sizeof *r->rv);
    r->ri = malloc(n * sizeof *r->ri);
    if (!r->rv || !r->ri || filter_setup(r) < 0) {
        klefr_replay_close(r);
        return -1;
    }
    memcpy(r->rv, v, n * sizeof *v);
    memcpy(r->ri, i, n * sizeof *i);
    r->in_n = n;
    return 0;
}

void klefr_replay_close(klefr_replay *r)
{
    if (r->f)
        fclose(r->f);
    r->f = NULL;
    free(r->rv);
    free(r->ri);
    free(r->wcache);
    free(r->wtmp);
    r->rv = r->ri = r->wcache = r->wtmp = NULL;
}
