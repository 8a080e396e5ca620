/* run: `qnnvm run`: evaluates a program in clear, as one party of a
 * networked run (-p I -N N --hosts F), or as N local party processes
 * (--local N), and reports outputs, time, traffic and rounds beside the cost
 * model's prediction. */
#ifndef RUN_H
#define RUN_H

int run_command(int argc, char **argv);

#endif
