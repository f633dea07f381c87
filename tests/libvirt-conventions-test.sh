#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# tests/compat/conventions.c, written against libvirt's API only, built
# through the uninstalled libvirtsup-compat pkg-config file and run: each
# call's return value, error code and error domain as libvirt's. Where
# libvirt's development files and library are installed, the same program
# is also built against libvirt and run on libvirt's own test driver, so
# every expectation is checked against the real thing too.
set -euo pipefail

B=${B:-build}
CC=${CC:-cc}
command -v pkg-config >/dev/null || { echo "pkg-config is not installed"; exit 77; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
export VIRTSUP_RUNDIR=$T/run
mkdir -m 0700 "$VIRTSUP_RUNDIR"
[ -n "${VIRTSUP_WORKER:-}" ] || export VIRTSUP_WORKER=$(cd "$B" && pwd)/virtsup-worker

# The build tree's pkg-config files: libvirtsup-compat-uninstalled.pc is
# preferred by pkg-config over an installed one.
export PKG_CONFIG_PATH=$(cd "$B" && pwd)/pkgconfig-uninstalled
san=$(nm -D "$B/libvirtsup.so" 2>/dev/null | grep '__asan_init' >/dev/null && echo "-fsanitize=address,undefined" || true)
# shellcheck disable=SC2046,SC2086
"$CC" -std=gnu11 -Wall -Wextra -Werror $san -o "$T/conventions" tests/compat/conventions.c \
    $(pkg-config --cflags --libs libvirtsup-compat)
echo "ok: conventions.c builds with pkg-config libvirtsup-compat"
rc=0
"$T/conventions" >"$T/ours.log" 2>"$T/ours.err" || rc=$?
cat "$T/ours.log"
[ $rc = 0 ] || { echo "FAIL: against libvirtsup (exit $rc)"; sed 's/^/    stderr: /' "$T/ours.err"; exit 1; }

if [ -f /usr/include/libvirt/libvirt.h ] && pkg-config --exists libvirt 2>/dev/null; then
    # shellcheck disable=SC2046
    "$CC" -std=gnu11 -w -o "$T/conventions-libvirt" tests/compat/conventions.c \
        $(pkg-config --cflags --libs libvirt)
    rc=0
    "$T/conventions-libvirt" >"$T/libvirt.log" 2>"$T/libvirt.err" || rc=$?
    if [ $rc != 0 ]; then
        echo "FAIL: the same expectations do not hold against libvirt itself:"
        grep FAIL -A1 "$T/libvirt.log" | sed 's/^/    /'
        exit 1
    fi
    echo "ok: the same $(grep -c '^ok:' "$T/libvirt.log") expectations hold against libvirt $(pkg-config --modversion libvirt)'s test driver"
else
    echo "note: libvirt-dev is not installed: expectations not cross-checked against libvirt"
fi
echo "all conventions checked"
