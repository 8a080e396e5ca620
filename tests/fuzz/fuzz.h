/* fuzz: what every harness defines and what the driver gives it
 * (tests/fuzz/README.md). */
#ifndef FUZZ_H
#define FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Feeds one input to the surface under test; returns 0 for any input
 * (refusing it is fine). A crash, sanitizer report, abort or hang is the
 * finding; a harness calls abort() for a broken invariant it checks. */
int fuzz_one(const uint8_t *data, size_t len);

/* A stream that discards what is written (diagnostics, listings). */
FILE *fuzz_sink(void);

/* Why an input was refused, printed when FUZZ_VERBOSE is set (to check
 * that a seed goes as deep as intended). */
void fuzz_note(const char *surface, const char *why);

#endif
