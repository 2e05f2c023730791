/* Escaping for messages. */
#include "config.h"

#include "escape.h"

#include <stdio.h>
#include <string.h>

void escape_text(const char *s, size_t n, size_t max, char *out, size_t outsz)
{
    size_t o = 0;
    if (outsz == 0)
        return;
    for (size_t i = 0; i < n && i < max; i++) {
        unsigned char c = (unsigned char)s[i];
        if (o + 5 >= outsz)
            break;
        if (c >= ' ' && c < 0x7f && c != '\\' && c != '"')
            out[o++] = (char)c;
        else if (c == '\r')
            o += (size_t)snprintf(out + o, outsz - o, "\\r");
        else if (c == '\n')
            o += (size_t)snprintf(out + o, outsz - o, "\\n");
        else
            o +=
                (size_t)snprintf(out + o, outsz - o, c == '\\' || c == '"' ? "\\%c" : "\\x%02x", c);
    }
    if (n > max && o + 4 < outsz) {
        memcpy(out + o, "...", 3);
        o += 3;
    }
    out[o] = '\0';
}
