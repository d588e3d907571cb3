/* Runs a libFuzzer target without libFuzzer (any compiler): over every file
 * given and every file in the directories given, and with --truncations over
 * every prefix of each, so CI exercises each target on its seeds and on
 * thousands of cut-off inputs. Exit 1 on a file it cannot read. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t runs;

static int run_file(const char *path, int prefixes)
{
    static uint8_t buf[1 << 20];
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        return -1;
    }
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    for (size_t len = prefixes ? 0 : n; len <= n; len++, runs++)
        LLVMFuzzerTestOneInput(buf, len);
    return 0;
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
    return strcmp((*a)->d_name, (*b)->d_name);
}

int main(int argc, char **argv)
{
    int prefixes = argc > 1 && !strcmp(argv[1], "--truncations");
    for (int k = 1 + prefixes; k < argc; k++) {
        struct stat st;
        if (stat(argv[k], &st) == 0 && S_ISDIR(st.st_mode)) {
            struct dirent **e;
            int n = scandir(argv[k], &e, NULL, by_name);
            if (n < 0) {
                perror(argv[k]);
                return 1;
            }
            int bad = 0;
            for (int j = 0; j < n; j++) {
                char path[4096];
                snprintf(path, sizeof path, "%s/%s", argv[k], e[j]->d_name);
                if (!bad && e[j]->d_name[0] != '.' && stat(path, &st) == 0 &&
                    S_ISREG(st.st_mode))
                    bad = run_file(path, prefixes) < 0;
                free(e[j]);
            }
            free(e);
            if (bad)
                return 1;
        } else if (run_file(argv[k], prefixes) < 0) {
            return 1;
        }
    }
    printf("%zu inputs run\n", runs);
    return 0;
}
