/* Command-line helpers shared by the tools. */
#include "longopt.h"

#include <string.h>

bool ps_longopt_given_value(const struct option *longopts, int val, const char *word)
{
    if (val == 0 || strncmp(word, "--", 2) != 0)
        return false;
    size_t n = strcspn(word + 2, "=");
    if (n == 0 || word[2 + n] != '=')
        return false;
    for (const struct option *lo = longopts; lo->name; lo++)
        if (lo->val == val && lo->has_arg == no_argument && strncmp(lo->name, word + 2, n) == 0)
            return true;
    return false;
}
