/* cmplogits GOT REF u8|i8 BOUND: compares a secure run's logits with the
 * reference: every element within BOUND, and the same top-1 class unless
 * the reference is a near-tie (the chosen class's reference logit is within
 * twice the measured error of the top one). Prints the errors; exit 1 on
 * failure. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static long rd(const char *path, unsigned char *b, long cap)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    long n = (long)fread(b, 1, (size_t)cap, f);
    fclose(f);
    return n;
}

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: cmplogits GOT REF u8|i8 BOUND\n");
        return 2;
    }
    static unsigned char a[1 << 20], b[1 << 20];
    long n = rd(argv[1], a, sizeof a), m = rd(argv[2], b, sizeof b);
    int i8 = strcmp(argv[3], "i8") == 0, bound = atoi(argv[4]);
    if (n <= 0 || n != m) {
        printf("cmplogits: %s has %ld bytes, %s has %ld\n", argv[1], n, argv[2], m);
        return 1;
    }
    long ga = 0, gb = 0, maxerr = 0;
    double sum = 0;
    for (long i = 0; i < n; i++) {
        long x = i8 ? (signed char)a[i] : a[i], y = i8 ? (signed char)b[i] : b[i];
        long d = x > y ? x - y : y - x;
        sum += (double)d;
        maxerr = d > maxerr ? d : maxerr;
        long xa = i8 ? (signed char)a[ga] : a[ga], yb = i8 ? (signed char)b[gb] : b[gb];
        if (x > xa)
            ga = i;
        if (y > yb)
            gb = i;
    }
    long top = i8 ? (signed char)b[gb] : b[gb], chosen = i8 ? (signed char)b[ga] : b[ga];
    int class_ok = ga == gb || chosen >= top - 2 * maxerr;
    printf("max error %ld, mean %.3f, top-1 %ld (reference %ld%s)\n", maxerr, sum / (double)n, ga, gb,
           ga == gb ? "" : class_ok ? ", a near-tie" : ", WRONG");
    return maxerr <= bound && class_ok ? 0 : 1;
}
