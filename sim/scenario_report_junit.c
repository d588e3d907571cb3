/* --junit: JUnit XML as CI servers read it: a test suite per scenario, a test
 * case per expectation, a failure element with the failure line. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "scenario_priv.h"

static void xml(FILE *f, const char *s)
{
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        switch (ch) {
        case '&':
            fputs("&amp;", f);
            break;
        case '<':
            fputs("&lt;", f);
            break;
        case '>':
            fputs("&gt;", f);
            break;
        case '"':
            fputs("&quot;", f);
            break;
        default: {
            size_t n = klefr_scn_utf8_char((const unsigned char *)s);
            if ((ch < 0x20 && ch != '\n' && ch != '\t') || !n) {
                fputc('?', f); /* not allowed in XML 1.0, or a character cut by a buffer */
            } else {
                fwrite(s, 1, n, f);
                s += n - 1;
            }
        }
        }
    }
}

/* "scenarios/ev-charge.json" -> "scenarios.ev-charge"; the path's "." and ".."
 * steps and a leading "/" resolved ("/tmp/a/../b.json" -> "tmp.b", not
 * ".tmp.a....b": CI servers make packages of the dots). */
static void classname(const klefr_scn *s, char *out, size_t n)
{
    char path[4200];
    snprintf(path, sizeof path, "%s", s->file);
    size_t len = strlen(path);
    if (len > 5 && !strcmp(path + len - 5, ".json"))
        path[len - 5] = 0;
    size_t o = 0, mark[256], depth = 0; /* where each component starts in out */
    out[0] = 0;
    for (char *save = NULL, *c = strtok_r(path, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
        if (!strcmp(c, "."))
            continue;
        if (!strcmp(c, "..")) {
            if (depth)
                o = mark[--depth], out[o] = 0;
            continue;
        }
        if (depth < sizeof mark / sizeof *mark)
            mark[depth++] = o;
        int w = snprintf(out + o, n - o, "%s%s", o ? "." : "", c);
        o = w < 0 || (size_t)w >= n - o ? n - 1 : o + (size_t)w;
    }
    if (!out[0])
        snprintf(out, n, "scenario");
}

static void testcase(FILE *f, const klefr_scn *s, const klefr_scn_expect *e, const char *cls)
{
    char name[400];
    if (e->name[0])
        snprintf(name, sizeof name, "%s", e->name);
    else if (e->when == KLEFR_SCN_AT)
        snprintf(name, sizeof name, "line %d: %s at t=%.10g s", e->line, e->what,
                 (double)e->t_us / 1e6);
    else
        snprintf(name, sizeof name, "line %d: %s %s %.10g..%.10g s", e->line, e->what,
                 e->when == KLEFR_SCN_DURING ? "during" : "within", (double)e->t_us / 1e6,
                 (double)e->t2_us / 1e6);
    fputs("    <testcase classname=\"", f);
    xml(f, cls);
    fputs("\" name=\"", f);
    xml(f, name);
    fprintf(f, "\" file=\"");
    xml(f, s->file);
    fprintf(f, "\" line=\"%d\" time=\"0\"", e->line);
    if (e->state == KLEFR_SCN_PASS) {
        fputs("/>\n", f);
        return;
    }
    char line[900];
    klefr_scn_failure_line(s, e, line, sizeof line);
    fputs(">\n      <failure type=\"expectation\" message=\"", f);
    xml(f, e->state == KLEFR_SCN_FAIL ? line : "not decided");
    fputs("\">", f);
    xml(f, e->state == KLEFR_SCN_FAIL ? line : "not decided");
    fputs("</failure>\n    </testcase>\n", f);
}

int klefr_scn_report_junit(klefr_scn *const *s, size_t n, const char *path)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    size_t tests = 0, fails = 0;
    for (size_t k = 0; k < n; k++) {
        tests += s[k]->nex;
        fails += s[k]->nex - s[k]->npass;
    }
    fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
               "<testsuites name=\"klefr-sim scenario\" tests=\"%zu\" failures=\"%zu\" "
               "errors=\"0\">\n",
            tests, fails);
    for (size_t k = 0; k < n; k++) {
        char cls[4200];
        classname(s[k], cls, sizeof cls);
        fputs("  <testsuite name=\"", f);
        xml(f, cls);
        fprintf(f, "\" tests=\"%zu\" failures=\"%zu\" errors=\"0\" skipped=\"0\" time=\"%.3f\">\n",
                s[k]->nex, s[k]->nex - s[k]->npass, s[k]->wall_s);
        if (s[k]->description) {
            fputs("    <properties><property name=\"description\" value=\"", f);
            xml(f, s[k]->description);
            fputs("\"/></properties>\n", f);
        }
        for (size_t e = 0; e < s[k]->nex; e++)
            testcase(f, s[k], &s[k]->ex[e], cls);
        fputs("  </testsuite>\n", f);
    }
    fputs("</testsuites>\n", f);
    return klefr_scn_fclose(f);
}
