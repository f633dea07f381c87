#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# make install into a DESTDIR, then use the installed tree as a user would:
# compile examples/save-watch.c with pkg-config (shared, and static with
# --static), run it against the installed library and worker, run the
# installed tools, render the man pages, and make uninstall leaves nothing.
set -euo pipefail

B=${B:-build}
command -v pkg-config >/dev/null || { echo "pkg-config is not installed"; exit 77; }
if nm -D "$B/libvirtsup.so" 2>/dev/null | grep '__asan_init\|__tsan_init\|__ubsan_handle' >/dev/null; then
    echo "a sanitizer build: its installed library needs the sanitizer runtime"
    exit 77
fi

T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
D=$T/dest
P=/usr/local
export VIRTSUP_RUNDIR=$T/run
mkdir -m 0700 "$VIRTSUP_RUNDIR"

failures=0
pass() { echo "ok: $1"; }
fail() { echo "FAIL: $1"; failures=$((failures + 1)); }
check() {
    local desc=$1
    shift
    if "$@"; then pass "$desc"; else fail "$desc"; fi
}

# The parent make's variables (B, SANITIZE, ...) come through MAKEFLAGS.
make -s --no-print-directory B="$B" install DESTDIR="$D" PREFIX=$P >"$T/install.log" 2>&1 ||
    { cat "$T/install.log"; echo "make install failed"; exit 1; }
pass "make install DESTDIR=... PREFIX=$P"

for f in bin/virtsup bin/virtsup-stat libexec/virtsup-worker lib/libvirtsup.a \
         lib/pkgconfig/libvirtsup.pc include/libvirtsup/libvirtsup.h \
         share/man/man1/virtsup.1 share/man/man1/virtsup-stat.1 share/man/man3/libvirtsup.3; do
    check "installed $P/$f" test -s "$D$P/$f"
done
check "versioned shared library with its soname links" \
    eval '[ -f "$D$P"/lib/libvirtsup.so.*.*.* ] && [ "$(readlink "$D$P/lib/libvirtsup.so")" = libvirtsup.so.0 ] && [ -L "$D$P/lib/libvirtsup.so.0" ]'
check "soname libvirtsup.so.0" eval 'readelf -d "$D$P/lib/libvirtsup.so" | grep "SONAME.*libvirtsup.so.0" >/dev/null'
check "the library looks for the worker in $P/libexec" grep -q "$P/libexec/virtsup-worker" "$D$P/lib/libvirtsup.so"
check "libvirtsup.pc names the prefix" grep -qx "prefix=$P" "$D$P/lib/pkgconfig/libvirtsup.pc"

export PKG_CONFIG_PATH=$D$P/lib/pkgconfig PKG_CONFIG_SYSROOT_DIR=$D
flags=$(pkg-config --cflags --libs libvirtsup)
check "pkg-config points into the DESTDIR" eval '[[ "$flags" == *"-I$D$P/include"* && "$flags" == *"-L$D$P/lib"* ]]'

# shellcheck disable=SC2086
cc -std=gnu11 -Wall -Wextra -Werror -o "$T/save-watch" examples/save-watch.c $flags
pass "examples/save-watch.c compiles against the installed tree"
check "it loads the installed library" \
    eval 'LD_LIBRARY_PATH="$D$P/lib" ldd "$T/save-watch" | grep "libvirtsup.so.0 => $D$P/lib/" >/dev/null'

run_installed() {
    LD_LIBRARY_PATH=$D$P/lib VIRTSUP_WORKER=$D$P/libexec/virtsup-worker "$@"
}
# The default domain's 64 MiB of data at 128 MiB/s: half a second, time
# for save-watch to cancel its second save.
rc=0
run_installed "$T/save-watch" 'test:///default?bandwidth=128' "$T/img" >"$T/sw.log" 2>&1 || rc=$?
check "save-watch runs with the installed library and worker" test $rc = 0
check "its save completed" grep -q '^job [0-9]* completed' "$T/sw.log"
check "its cancelled save was cancelled" grep -q '^job [0-9]* cancelled' "$T/sw.log"

# A libvirt client, unchanged, through the installed libvirtsup-compat.pc.
check "libvirtsup-compat.pc and <libvirt/libvirt.h> installed under libvirtsup/compat" \
    eval '[ -s "$D$P/lib/pkgconfig/libvirtsup-compat.pc" ] && [ -s "$D$P/include/libvirtsup/compat/libvirt/libvirt.h" ]'
cflags=$(pkg-config --cflags --libs libvirtsup-compat)
# shellcheck disable=SC2086
check "examples/libvirt/hello.c compiles unchanged with pkg-config libvirtsup-compat" \
    cc -std=gnu11 -Wall -Wextra -Werror -o "$T/hello" examples/libvirt/hello.c $cflags
rc=0
run_installed "$T/hello" >"$T/hello.log" 2>&1 || rc=$?
check "it runs with the installed library" \
    eval '[ $rc = 0 ] && grep -qx "Disconnected from hypervisor" "$T/hello.log"'

# The example of README.md, as printed there.
sed -n '/^```c$/,/^```$/p' README.md | sed '1d;$d' >"$T/readme.c"
# shellcheck disable=SC2086
check "README.md's example compiles against the installed tree" \
    cc -std=gnu11 -Wall -Wextra -Werror -o "$T/readme" "$T/readme.c" $flags
rc=0
(cd "$T" && run_installed ./readme >readme.log 2>&1) || rc=$?
check "README.md's example saves the domain" eval '[ $rc = 0 ] && tail -n1 "$T/readme.log" | grep -x saved >/dev/null'

# Static: the archive and the private requirements from pkg-config --static.
# A failed link is a FAIL line like any other check, and the checks after
# it still run (set -e would end the script without a word).
# shellcheck disable=SC2046
check "save-watch links with the static library (pkg-config --static)" \
    cc -std=gnu11 -o "$T/save-watch-static" examples/save-watch.c $(pkg-config --cflags libvirtsup) \
    "$D$P/lib/libvirtsup.a" $(pkg-config --static --libs-only-other --libs-only-l libvirtsup | sed 's/-lvirtsup//')
rc=0
VIRTSUP_WORKER=$D$P/libexec/virtsup-worker "$T/save-watch-static" 'test:///default?bandwidth=128' "$T/img2" \
    >"$T/sws.log" 2>&1 || rc=$?
check "the static save-watch runs" test $rc = 0

rc=0
out=$(run_installed "$D$P/bin/virtsup" --version) || rc=$?
check "installed virtsup --version" eval '[ $rc = 0 ] && [[ "$out" == virtsup\ * ]]'
rc=0
run_installed "$D$P/bin/virtsup" list >"$T/list" 2>&1 || rc=$?
check "installed virtsup list" eval '[ $rc = 0 ] && grep -Eq "^ 1 +test +running" "$T/list"'

if command -v man >/dev/null; then
    for m in "$D$P"/share/man/man*/*; do
        err=$(MANWIDTH=80 man --warnings -l "$m" 2>&1 >/dev/null || echo "man failed")
        check "man -l $(basename "$m") renders without warnings" test -z "$err"
    done
else
    echo "man is not installed: man pages not rendered"
fi

make -s --no-print-directory B="$B" uninstall DESTDIR="$D" PREFIX=$P >"$T/uninstall.log" 2>&1 ||
    { cat "$T/uninstall.log"; fail "make uninstall"; }
left=$(find "$D" \( -type f -o -type l \) | sed "s|^$D||")
check "make uninstall removes every installed file" test -z "$left"
[ -z "$left" ] || echo "$left"

if [ $failures -ne 0 ]; then
    echo "$failures check(s) failed"
    exit 1
fi
echo "all install checks passed"
