/* Command-line helpers shared by the tools (getopt_long). Pure. */
#ifndef PS_LONGOPT_H
#define PS_LONGOPT_H

#include <getopt.h>
#include <stdbool.h>

/* getopt_long reports "--NAME=VALUE" for a long option that takes no
 * argument as '?' with optopt set to that option's val, which reads like
 * an unknown short option. Is word such a "--NAME=VALUE": NAME the full
 * name of an option of longopts, or a prefix of it as getopt_long takes
 * it, whose val is val (getopt's optopt) and that takes no argument? */
bool ps_longopt_given_value(const struct option *longopts, int val, const char *word);

#endif
