/* ast: the parsed DSL program. The parser only builds it; all meaning
 * (layer kinds, argument names, shapes) is given by lower.c, so that every
 * error carries the location of the value it is about. */
#ifndef AST_H
#define AST_H

#include <stddef.h>

typedef struct {
    int line, col;
} loc;

enum value_kind { V_IDENT, V_INT, V_NUM, V_LIST };

typedef struct value value;
struct value {
    enum value_kind kind;
    loc at;
    char *text;       /* IDENT name; INT and NUM as written (with sign) */
    long long ival;   /* INT */
    value **items;    /* LIST */
    int nitems;
};

typedef struct {
    char *key; /* NULL for positional */
    loc key_at;
    value *val;
} arg;

typedef struct {
    char *name; /* function name */
    loc at;
    arg *args;
    int nargs;
} call;

typedef struct {
    int present;
    loc at;
    value *scales, *zps; /* V_NUM/V_INT or V_LIST */
    value *axis;         /* optional */
} quant;

enum stmt_kind { S_NETWORK, S_PARTY, S_INPUT, S_LAYER, S_OUTPUT };

typedef struct {
    enum stmt_kind kind;
    loc at;
    char *name;        /* network / party / input / layer result name */
    loc name_at;
    long long party_id; /* S_PARTY */
    /* S_INPUT: dtype[shape] quant from party */
    char *dtype;
    loc dtype_at;
    value *shape;      /* V_LIST */
    quant q;
    char *from;
    loc from_at;
    /* S_LAYER: name = call -> [dtype] quant ; S_OUTPUT: output call|ident to party */
    call fn;           /* S_OUTPUT with a bare tensor: fn.name == NULL, target in name */
    char *to;
    loc to_at;
} stmt;

typedef struct {
    stmt *stmts;
    int nstmts, cap;
} program_ast;

value *ast_value(enum value_kind k, loc at, char *text);
value *ast_list_append(value *list, value *item);
void ast_call_add(call *c, char *key, loc key_at, value *v);
void ast_add_stmt(program_ast *p, const stmt *s);
void ast_value_free(value *v);
void ast_call_free(call *c);
void ast_stmt_free(stmt *s);
void ast_free(program_ast *p);

#endif
