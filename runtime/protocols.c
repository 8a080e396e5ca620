/* protocols: the table of protocol modules, looked up by name. */
#include <stdlib.h>
#include <string.h>

#include "proto.h"

#include "../vm/opcodes.h"

static const protocol *const table[] = {&proto_clear, &proto_rep3, &proto_semi2k, &proto_spdz2k};

const protocol *proto_find(const char *name)
{
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        if (strcmp(table[i]->name, name) == 0)
            return table[i];
    return NULL;
}

const char *proto_names(void)
{
    static char buf[256];
    buf[0] = 0;
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
        if (i)
            strncat(buf, ", ", sizeof buf - strlen(buf) - 1);
        strncat(buf, table[i]->name, sizeof buf - strlen(buf) - 1);
    }
    return buf;
}

void *proto_alloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        abort();
    return p;
}

void *proto_zalloc(size_t n)
{
    void *p = calloc(1, n ? n : 1);
    if (!p)
        abort();
    return p;
}

void *proto_state(pop *op, size_t size)
{
    if (!op->state)
        op->state = proto_zalloc(size);
    return op->state;
}

word proto_trunc_mult(const pop *op, size_t i, uint8_t *d)
{
    if (op->op == OP_REQUANT) {
        int64_t m0 = op->c1[i % op->nc1], sh = op->c2[i % op->nc2];
        *d = (uint8_t)(31 + (sh > 0 ? 0 : -sh));
        return (word)m0 << (sh > 0 ? sh : 0);
    }
    int64_t dv = op->c1[i % op->nc1];
    *d = dv == 1 ? 0 : 32;
    return dv == 1 ? 1 : (word)((((uint64_t)1 << 32) + (uint64_t)dv / 2) / (uint64_t)dv);
}

/* With u = msb c, C = (c mod 2^63) >> d: y = C - R + 2^(63-d)(u xor v) - 2^(62-d),
 * and u xor v = u + (1 - 2u) v. */
void proto_trunc_open(word c, int d, word *pub, word *coef)
{
    word u = c >> 63, C = (c & (((word)1 << 63) - 1)) >> d;
    *coef = ((word)1 << (63 - d)) * (1 - 2 * u);
    *pub = C + ((word)1 << (63 - d)) * u - ((word)1 << (62 - d));
}
