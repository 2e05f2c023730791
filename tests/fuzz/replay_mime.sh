#!/bin/sh
# Replays the mime fuzz corpus through the target's invariant checks (run by make check).
: "${TOP_SRCDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${TOP_BUILDDIR:=.}"
"$TOP_BUILDDIR/tests/fuzz/replay_mime" "$TOP_SRCDIR/tests/fuzz/corpus/mime"
exit $?
