/* parser: the grammar of the .qnn DSL (docs/dsl.md). It builds the AST and
 * recovers from a syntax error at the end of the line, so that one run
 * reports every error. */
%{
#include <stdlib.h>
#include <string.h>
#include "compiler/dsl/ast.h"
#include "compiler/diag.h"

int qnnlex(void);

void qnnerror(const char *msg);
static program_ast *out;
static stmt cur;
static call cur_call;
static loc L(int line, int col) { loc l = {line, col}; return l; }
#define AT(x) L((x).first_line, (x).first_column)
void parser_set_output(program_ast *p) { out = p; }
%}

%define api.prefix {qnn}
%define parse.error verbose
%locations

%union {
    char *str;
    struct value *val;
}

%token NETWORK "'network'" PARTY "'party'" INPUT "'input'" OUTPUT "'output'"
%token FROM "'from'" TO "'to'" ARROW "'->'" NEWLINE "end of line"
%token BADCHAR "bad character"
%token <str> IDENT "name" INT "integer" NUM "number"
%type <val> value list items number

%destructor { free($$); } <str>
%destructor { ast_value_free($$); } <val>

%%
program : /* empty */
        | program line
        ;

line    : NEWLINE
        | stmt NEWLINE   { ast_add_stmt(out, &cur); memset(&cur, 0, sizeof cur); }
        | error NEWLINE  { ast_stmt_free(&cur); ast_call_free(&cur_call); yyerrok; }
        ;

stmt    : NETWORK IDENT  { cur.kind = S_NETWORK; cur.at = AT(@1); cur.name = $2; cur.name_at = AT(@2); }
        | PARTY IDENT '=' INT {
              cur.kind = S_PARTY; cur.at = AT(@1); cur.name = $2; cur.name_at = AT(@2);
              cur.party_id = strtoll($4, NULL, 10); free($4); }
        | INPUT IDENT ':' IDENT list quant_opt FROM IDENT {
              cur.kind = S_INPUT; cur.at = AT(@1); cur.name = $2; cur.name_at = AT(@2);
              cur.dtype = $4; cur.dtype_at = AT(@4); cur.shape = $5;
              cur.from = $8; cur.from_at = AT(@8); }
        | IDENT '=' fcall result_opt {
              cur.kind = S_LAYER; cur.at = AT(@1); cur.name = $1; cur.name_at = AT(@1);
              cur.fn = cur_call; memset(&cur_call, 0, sizeof cur_call); }
        | OUTPUT fcall TO IDENT {
              cur.kind = S_OUTPUT; cur.at = AT(@1); cur.fn = cur_call;
              memset(&cur_call, 0, sizeof cur_call); cur.to = $4; cur.to_at = AT(@4); }
        | OUTPUT IDENT TO IDENT {
              cur.kind = S_OUTPUT; cur.at = AT(@1); cur.name = $2; cur.name_at = AT(@2);
              cur.to = $4; cur.to_at = AT(@4); }
        ;

fcall   : IDENT '(' args_opt ')' { cur_call.name = $1; cur_call.at = AT(@1); }
        ;

args_opt: /* empty */
        | args
        ;

args    : arg
        | args ',' arg
        ;

arg     : value            { ast_call_add(&cur_call, NULL, $1->at, $1); }
        | IDENT '=' value  { ast_call_add(&cur_call, $1, AT(@1), $3); }
        ;

result_opt : /* empty */
        | ARROW quant
        | ARROW IDENT quant { cur.dtype = $2; cur.dtype_at = AT(@2); }
        | ARROW IDENT       { cur.dtype = $2; cur.dtype_at = AT(@2); } /* secret quantization */
        ;

quant_opt : /* empty */
        | quant
        ;

quant   : qname '(' value ',' value ')' {
              cur.q.present = 1; cur.q.at = AT(@1); cur.q.scales = $3; cur.q.zps = $5; }
        | qname '(' value ',' value ',' IDENT '=' value ')' {
              cur.q.present = 1; cur.q.at = AT(@1); cur.q.scales = $3; cur.q.zps = $5;
              cur.q.axis = $9;
              if (strcmp($7, "axis") != 0)
                  diag_error(AT(@7), "unknown quantization option '%s' (expected axis)", $7);
              free($7); }
        ;

/* 'q' is not reserved: tensors and parties may be called q */
qname   : IDENT {
              if (strcmp($1, "q") != 0)
                  diag_error(AT(@1), "expected q(scale, zero_point), not '%s'", $1);
              free($1); }
        ;

value   : IDENT   { $$ = ast_value(V_IDENT, AT(@1), $1); }
        | number
        | list
        ;

number  : INT     { $$ = ast_value(V_INT, AT(@1), $1); }
        | NUM     { $$ = ast_value(V_NUM, AT(@1), $1); }
        ;

list    : '[' ']'       { $$ = ast_value(V_LIST, AT(@1), NULL); }
        | '[' items ']' { $$ = $2; $$->at = AT(@1); }
        ;

items   : value           { loc l = {0, 0}; $$ = ast_list_append(ast_value(V_LIST, l, NULL), $1); }
        | items ',' value { $$ = ast_list_append($1, $3); }
        ;
%%

/* Frees what a statement cut short by the end of the file still holds. */
void parser_cleanup(void)
{
    ast_stmt_free(&cur);
    ast_call_free(&cur_call);
}

void qnnerror(const char *msg)
{
    if (qnnchar == BADCHAR) /* the lexer has reported it */
        return;
    loc l = {qnnlloc.first_line, qnnlloc.first_column};
    const char *p = strncmp(msg, "syntax error, ", 14) == 0 ? msg + 14 : msg;
    char buf[512];
    size_t n = 0;
    for (; *p && n + 1 < sizeof buf; p++) /* bison quotes aliases such as "'from'" */
        if (*p != '"')
            buf[n++] = *p;
    buf[n] = 0;
    diag_error(l, "%s", buf);
}
