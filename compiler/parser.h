/* A Bison parser, made by GNU Bison 3.8.2.  */

/* Bison interface for Yacc-like parsers in C

   Copyright (C) 1984, 1989-1990, 2000-2015, 2018-2021 Free Software Foundation,
   Inc.

   This program is free software: you can redistribute it and/or modify
   it under the terms of the GNU General Public License as published by
   the Free Software Foundation, either version 3 of the License, or
   (at your option) any later version.

   This program is distributed in the hope that it will be useful,
   but WITHOUT ANY WARRANTY; without even the implied warranty of
   MERCHANTABILITY or FITNESS FOR A PARTICULAR PURPOSE.  See the
   GNU General Public License for more details.

   You should have received a copy of the GNU General Public License
   along with this program.  If not, see <https://www.gnu.org/licenses/>.  */

/* As a special exception, you may create a larger work that contains
   part or all of the Bison parser skeleton and distribute that work
   under terms of your choice, so long as that work isn't itself a
   parser generator using the skeleton or a modified version thereof
   as a parser skeleton.  Alternatively, if you modify or redistribute
   the parser skeleton itself, you may (at your option) remove this
   special exception, which will cause the skeleton and the resulting
   Bison output files to be licensed under the GNU General Public
   License without this special exception.

   This special exception was added by the Free Software Foundation in
   version 2.2 of Bison.  */

/* DO NOT RELY ON FEATURES THAT ARE NOT DOCUMENTED in the manual,
   especially those whose name start with YY_ or yy_.  They are
   private implementation details that can be changed or removed.  */

#ifndef YY_QNN_PARSER_H_INCLUDED
# define YY_QNN_PARSER_H_INCLUDED
/* Debug traces.  */
#ifndef QNNDEBUG
# if defined YYDEBUG
#if YYDEBUG
#   define QNNDEBUG 1
#  else
#   define QNNDEBUG 0
#  endif
# else /* ! defined YYDEBUG */
#  define QNNDEBUG 0
# endif /* ! defined YYDEBUG */
#endif  /* ! defined QNNDEBUG */
#if QNNDEBUG
extern int qnndebug;
#endif

/* Token kinds.  */
#ifndef QNNTOKENTYPE
# define QNNTOKENTYPE
  enum qnntokentype
  {
    QNNEMPTY = -2,
    QNNEOF = 0,                    /* "end of file"  */
    QNNerror = 256,                /* error  */
    QNNUNDEF = 257,                /* "invalid token"  */
    NETWORK = 258,                 /* NETWORK  */
    PARTY = 259,                   /* PARTY  */
    INPUT = 260,                   /* INPUT  */
    OUTPUT = 261,                  /* OUTPUT  */
    FROM = 262,                    /* FROM  */
    TO = 263,                      /* TO  */
    Q = 264,                       /* Q  */
    ARROW = 265,                   /* ARROW  */
    NEWLINE = 266,                 /* NEWLINE  */
    IDENT = 267,                   /* IDENT  */
    INT = 268,                     /* INT  */
    NUM = 269                      /* NUM  */
  };
  typedef enum qnntokentype qnntoken_kind_t;
#endif

/* Value type.  */
#if ! defined QNNSTYPE && ! defined QNNSTYPE_IS_DECLARED
union QNNSTYPE
{
#line 24 "parser.y"

    char *str;
    struct value *val;

#line 91 "parser.h"

};
typedef union QNNSTYPE QNNSTYPE;
# define QNNSTYPE_IS_TRIVIAL 1
# define QNNSTYPE_IS_DECLARED 1
#endif

/* Location type.  */
#if ! defined QNNLTYPE && ! defined QNNLTYPE_IS_DECLARED
typedef struct QNNLTYPE QNNLTYPE;
struct QNNLTYPE
{
  int first_line;
  int first_column;
  int last_line;
  int last_column;
};
# define QNNLTYPE_IS_DECLARED 1
# define QNNLTYPE_IS_TRIVIAL 1
#endif


extern QNNSTYPE qnnlval;
extern QNNLTYPE qnnlloc;

int qnnparse (void);


#endif /* !YY_QNN_PARSER_H_INCLUDED  */
