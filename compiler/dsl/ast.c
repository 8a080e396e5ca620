/* ast: constructors and destructor for the parse tree (see ast.h). */
#include "compiler/dsl/ast.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q) {
        fputs("qnnc: out of memory\n", stderr);
        exit(2);
    }
    return q;
}

value *ast_value(enum value_kind k, loc at, char *text)
{
    value *v = xrealloc(NULL, sizeof *v);
    memset(v, 0, sizeof *v);
    v->kind = k;
    v->at = at;
    v->text = text;
    if (k == V_INT)
        v->ival = strtoll(text, NULL, 10);
    return v;
}

value *ast_list_append(value *list, value *item)
{
    list->items = xrealloc(list->items, sizeof(value *) * (size_t)(list->nitems + 1));
    list->items[list->nitems++] = item;
    return list;
}

void ast_call_add(call *c, char *key, loc key_at, value *v)
{
    c->args = xrealloc(c->args, sizeof(arg) * (size_t)(c->nargs + 1));
    c->args[c->nargs].key = key;
    c->args[c->nargs].key_at = key_at;
    c->args[c->nargs].val = v;
    c->nargs++;
}

void ast_add_stmt(program_ast *p, const stmt *s)
{
    if (p->nstmts == p->cap) {
        p->cap = p->cap ? p->cap * 2 : 16;
        p->stmts = xrealloc(p->stmts, sizeof(stmt) * (size_t)p->cap);
    }
    p->stmts[p->nstmts++] = *s;
}

void ast_value_free(value *v)
{
    if (!v)
        return;
    for (int i = 0; i < v->nitems; i++)
        ast_value_free(v->items[i]);
    free(v->items);
    free(v->text);
    free(v);
}

void ast_call_free(call *c)
{
    for (int j = 0; j < c->nargs; j++) {
        free(c->args[j].key);
        ast_value_free(c->args[j].val);
    }
    free(c->args);
    free(c->name);
    memset(c, 0, sizeof *c);
}

void ast_stmt_free(stmt *s)
{
    free(s->name);
    free(s->dtype);
    free(s->from);
    free(s->to);
    ast_value_free(s->shape);
    ast_value_free(s->q.scales);
    ast_value_free(s->q.zps);
    ast_value_free(s->q.axis);
    ast_call_free(&s->fn);
    memset(s, 0, sizeof *s);
}

void ast_free(program_ast *p)
{
    for (int i = 0; i < p->nstmts; i++)
        ast_stmt_free(&p->stmts[i]);
    free(p->stmts);
    memset(p, 0, sizeof *p);
}
