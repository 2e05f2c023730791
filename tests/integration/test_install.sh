#!/bin/bash
# make install keeps an edited configuration file: twice into a scratch
# DESTDIR, the file edited in between; make uninstall leaves it while it is
# edited and removes it once it is the sample again. Environment:
# TOP_BUILDDIR and TOP_SRCDIR (set by "make check").
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -u
[ -n "${TOP_BUILDDIR:-}" ] && [ -f "$TOP_BUILDDIR/Makefile" ] ||
    { echo "TOP_BUILDDIR does not name a configured build directory: skipping"; exit 77; }
sample=$TOP_SRCDIR/etc/pyserve.conf
dest=$(mktemp -d "${TMPDIR:-/tmp}/pyserve-install.XXXXXX") || exit 1
trap 'rm -rf "$dest"' EXIT
nfail=0
ok() { echo "PASS: $*"; }
bad() { echo "FAIL: $*"; nfail=$((nfail + 1)); }
run() { # run LOG make-target
    if ! ${MAKE:-make} -s -C "$TOP_BUILDDIR" "$2" DESTDIR="$dest" >"$dest.$1.log" 2>&1; then
        bad "make $2 DESTDIR=... ($1)"
        sed 's/^/    | /' "$dest.$1.log" | tail -n 20
        rm -f "$dest.$1.log"
        exit 1
    fi
    cat "$dest.$1.log"
    rm -f "$dest.$1.log"
}

run first install
conf=$(find "$dest" -name pyserve.conf -type f | head -n 1)
if [ -n "$conf" ] && cmp -s "$sample" "$conf"; then
    ok "the first make install puts the sample at ${conf#"$dest"}"
else
    bad "no pyserve.conf like the sample after the first make install"
    (cd "$dest" && find . -type f) | sed 's/^/    | /'
    exit 1
fi
printf '# edited\nroot = /srv/edited\n' >"$conf"
run second install
if [ "$(cat "$conf")" = $'# edited\nroot = /srv/edited' ]; then
    ok "a second make install keeps the edited ${conf#"$dest"}"
else
    bad "a second make install overwrote the edited ${conf#"$dest"}"
fi
run uninstall uninstall
if [ -f "$conf" ] && [ "$(cat "$conf")" = $'# edited\nroot = /srv/edited' ]; then
    ok "make uninstall keeps the edited ${conf#"$dest"}"
else
    bad "make uninstall removed or changed the edited ${conf#"$dest"}"
fi
cp "$sample" "$conf"
run uninstall-sample uninstall
if [ ! -e "$conf" ] && [ -z "$(find "$dest" -type f)" ]; then
    ok "make uninstall removes an unchanged ${conf#"$dest"}, and leaves no file"
else
    bad "after make uninstall with the sample in place: $(cd "$dest" && find . -type f | tr '\n' ' ')"
fi
[ "$nfail" = 0 ]
