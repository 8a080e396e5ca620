/* dtype: element type tables and shape helpers (see dtype.h). */
#include "runtime/core/dtype.h"

#include <stdio.h>

const char *const dtype_names[DT__COUNT] = {"u8", "i8", "i32"};

int dtype_size(int dt) { return dt == DT_I32 ? 4 : 1; }
int64_t dtype_min(int dt) { return dt == DT_U8 ? 0 : dt == DT_I8 ? -128 : INT32_MIN; }
int64_t dtype_max(int dt) { return dt == DT_U8 ? 255 : dt == DT_I8 ? 127 : INT32_MAX; }

uint64_t tshape_elems(const tshape *s, uint64_t cap)
{
    uint64_t n = 1;
    for (int i = 0; i < s->ndim; i++) {
        n *= s->dims[i];
        if (n > cap)
            return cap + 1;
    }
    return n;
}

const char *tshape_str(const tshape *s, char *buf, int len)
{
    int off = 0;
    buf[0] = 0;
    for (int i = 0; i < s->ndim && off < len; i++)
        off += snprintf(buf + off, (size_t)(len - off), i ? "x%u" : "%u", s->dims[i]);
    return buf;
}
