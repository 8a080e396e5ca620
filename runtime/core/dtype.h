/* dtype: element types and shapes of tensors, shared by files, bytecode and
 * the runtime. Values are held as int64 in memory whatever their dtype. */
#ifndef DTYPE_H
#define DTYPE_H

#include <stdint.h>

#define MAX_DIMS 6

enum dtype { DT_U8, DT_I8, DT_I32, DT__COUNT };

typedef struct {
    uint8_t ndim;
    uint32_t dims[MAX_DIMS];
} tshape;

extern const char *const dtype_names[DT__COUNT];
int dtype_size(int dt);
int64_t dtype_min(int dt);
int64_t dtype_max(int dt);
/* Element count, or cap + 1 when it exceeds cap. */
uint64_t tshape_elems(const tshape *s, uint64_t cap);
/* "1x28x28x1" into buf. */
const char *tshape_str(const tshape *s, char *buf, int len);

#endif
