/* The body destination decision. */
#include "config.h"

#include "dest.h"

enum dest dest_plan(const struct dest_in *in)
{
    bool ok = in->status >= 200 && in->status <= 299;
    if (!in->has_body) /* -o FILE gets the 2xx's empty body all the same */
        return ok && in->out == CLI_OUT_FILE ? DEST_FILE : DEST_NONE;
    if (in->out == CLI_OUT_STDOUT)
        return in->kind == BODY_BINARY && in->stdout_tty ? DEST_REFUSE : DEST_STDOUT;
    if (!ok)
        return in->kind == BODY_TEXT ? DEST_STDOUT : DEST_DISCARD;
    if (in->resume && in->status == 206)
        return DEST_APPEND;
    switch (in->out) {
    case CLI_OUT_FILE: return DEST_FILE;
    case CLI_OUT_REMOTE: return in->resume ? DEST_FILE : DEST_NEW_FILE;
    case CLI_OUT_AUTO:
    case CLI_OUT_STDOUT:
    default: return in->kind == BODY_TEXT ? DEST_STDOUT : DEST_NEW_FILE;
    }
}
