/* Runs a libFuzzer target over files (without libFuzzer): every file given,
 * and with --truncations every prefix of each, so CI exercises the target on
 * the corpus and on thousands of cut-off inputs. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int main(int argc, char **argv)
{
    int prefixes = argc > 1 && !strcmp(argv[1], "--truncations");
    size_t runs = 0;
    for (int k = 1 + prefixes; k < argc; k++) {
        FILE *f = fopen(argv[k], "rb");
        if (!f) {
            perror(argv[k]);
            return 1;
        }
        static uint8_t buf[1 << 20];
        size_t n = fread(buf, 1, sizeof buf, f);
        fclose(f);
        for (size_t len = prefixes ? 0 : n; len <= n; len++, runs++)
            LLVMFuzzerTestOneInput(buf, len);
    }
    printf("%zu inputs parsed\n", runs);
    return 0;
}
