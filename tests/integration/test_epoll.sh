#!/bin/bash
# The daemon's integration tests again, with io_uring = no: the epoll loop
# is what a worker falls back to where the kernel refuses io_uring, so it
# must pass the same tests as the io_uring loop that "make check" runs them
# with by default. Environment as for the Python tests (PYSERVED, TOP_SRCDIR).
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -u
[ -n "${PYSERVED:-}" ] || { echo "PYSERVED is not set: skipping"; exit 77; }
dir=$(cd "$(dirname "$0")" && pwd)
export PYSERVE_TEST_IO_URING=no
failed=()
for t in test_http test_http_depth test_limits test_lifecycle test_mime test_faults; do
    echo "=== $t.py with io_uring = no"
    if ! python3 "$dir/$t.py"; then
        failed+=("$t")
    fi
done
if [ ${#failed[@]} -gt 0 ]; then
    echo "FAILED with io_uring = no: ${failed[*]}"
    exit 1
fi
echo "all passed with io_uring = no"
