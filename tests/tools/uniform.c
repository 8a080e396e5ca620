/* uniform [--field] FILE...: the leakage test's checker. Reads the records
 * a test build of qnnvm writes (every payload a party received) and applies
 * a chi-square test to the low and the high byte of every 64-bit word of
 * each record of at least 4,096 words; smaller records are pooled per file.
 * --field (protocols over F_p, p = 2^127 - 1): byte 6 stands for the high
 * byte, as an element's high word is below 2^63 and a bounded mask's below
 * 2^62, while bits 48 to 55 of both its words are uniform.
 * Values sent unmasked (small integers, bits, pixels) fail at once. Exit 1
 * if any sample fails (chi-square above 400 for 255 degrees of freedom, a
 * false alarm probability below 1e-7 per sample). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MIN_WORDS 4096
#define LIMIT 400.0

typedef struct {
    uint64_t lo[256], hi[256], n;
} hist;

static int high = 7; /* the byte of a word tested beside the lowest */

static void add_words(hist *h, const uint8_t *b, uint64_t nbytes)
{
    for (uint64_t i = 0; i + 8 <= nbytes; i += 8) {
        h->lo[b[i]]++;
        h->hi[b[i + high]]++;
        h->n++;
    }
}

static double chi2(const uint64_t *c, uint64_t n)
{
    double e = (double)n / 256, s = 0;
    for (int i = 0; i < 256; i++)
        s += ((double)c[i] - e) * ((double)c[i] - e) / e;
    return s;
}

static int check(const char *what, const hist *h, int *samples)
{
    double a = chi2(h->lo, h->n), b = chi2(h->hi, h->n);
    (*samples)++;
    if (a > LIMIT || b > LIMIT) {
        printf("NOT UNIFORM: %s: %llu words, chi-square low byte %.1f, high byte %.1f\n", what,
               (unsigned long long)h->n, a, b);
        return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    int bad = 0, samples = 0;
    uint64_t words = 0;
    int first = 1;
    if (argc > 1 && !strcmp(argv[1], "--field"))
        high = 6, first = 2;
    for (int f = first; f < argc; f++) {
        FILE *in = fopen(argv[f], "rb");
        if (!in) {
            printf("cannot open %s\n", argv[f]);
            return 1;
        }
        hist pool;
        memset(&pool, 0, sizeof pool);
        uint8_t h[16];
        while (fread(h, 1, 16, in) == 16) {
            uint64_t len = (uint64_t)(h[8] | h[9] << 8 | h[10] << 16 | (uint32_t)h[11] << 24) |
                           (uint64_t)(h[12] | h[13] << 8 | h[14] << 16 | (uint32_t)h[15] << 24) << 32;
            uint32_t round = (uint32_t)(h[4] | h[5] << 8 | h[6] << 16 | (uint32_t)h[7] << 24);
            uint8_t *b = malloc(len + 1);
            if (!b || fread(b, 1, len, in) != len) {
                printf("%s: truncated record\n", argv[f]);
                return 1;
            }
            hist one;
            memset(&one, 0, sizeof one);
            add_words(&one, b, len);
            words += one.n;
            if (one.n >= MIN_WORDS) {
                char what[512];
                snprintf(what, sizeof what, "%s round %u from party %u", argv[f], round, h[0]);
                bad |= check(what, &one, &samples);
            } else {
                add_words(&pool, b, len);
            }
            free(b);
        }
        fclose(in);
        if (pool.n >= 256) {
            char what[512];
            snprintf(what, sizeof what, "%s small records pooled", argv[f]);
            bad |= check(what, &pool, &samples);
        }
    }
    printf("uniformity: %d samples, %llu words, %s\n", samples, (unsigned long long)words,
           bad ? "FAILED" : "all uniform");
    return bad || samples == 0;
}
