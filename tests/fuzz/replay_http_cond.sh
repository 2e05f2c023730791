#!/bin/sh
# Replays the http_cond fuzz corpus through the target's invariant checks (run by make check).
: "${TOP_SRCDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${TOP_BUILDDIR:=.}"
"$TOP_BUILDDIR/tests/fuzz/replay_http_cond" "$TOP_SRCDIR/tests/fuzz/corpus/http_cond"
exit $?
