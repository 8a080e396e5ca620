/* diag: error reporting with source context (see diag.h). */
#include "compiler/diag.h"

#include <stdarg.h>
#include <stdio.h>

static const char *file_name = "<input>";
static const char *source;
static size_t source_len;
static int errors;
static FILE *sink;

void diag_init(const char *file, const char *src, size_t len, FILE *out)
{
    sink = out ? out : stderr;
    file_name = file;
    source = src;
    source_len = len;
    errors = 0;
}

static void print_line(int line, int col)
{
    size_t i = 0;
    for (int l = 1; l < line && i < source_len; i++)
        if (source[i] == '\n')
            l++;
    if (i >= source_len && line > 1)
        return;
    size_t end = i;
    while (end < source_len && source[end] != '\n')
        end++;
    fprintf(sink, "    %.*s\n    ", (int)(end - i), source + i);
    for (int c = 1; c < col; c++)
        fputc(i + (size_t)c - 1 < end && source[i + (size_t)c - 1] == '\t' ? '\t' : ' ', sink);
    fputs("^\n", sink);
}

void diag_error(loc at, const char *fmt, ...)
{
    errors++;
    fprintf(sink, "%s:%d:%d: error: ", file_name, at.line, at.col);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(sink, fmt, ap);
    va_end(ap);
    fputc('\n', sink);
    if (source && at.line > 0)
        print_line(at.line, at.col);
}

int diag_count(void) { return errors; }
