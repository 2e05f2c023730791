#!/bin/sh
# Replays the resp_parse fuzz corpus through the target's invariant checks (run by make check).
: "${TOP_SRCDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${TOP_BUILDDIR:=.}"
"$TOP_BUILDDIR/tests/fuzz/replay_resp_parse" "$TOP_SRCDIR/tests/fuzz/corpus/resp_parse"
exit $?
