#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The libvirt-style clients of examples/libvirt/ (written against libvirt's
# API only: <libvirt/libvirt.h>, <libvirt/virterror.h>) build unchanged
# with `pkg-config --cflags --libs libvirtsup-compat`, also where libvirt's
# own headers are installed, link libvirtsup and not libvirt, run on
# test:///default and say what libvirt's test driver would.
set -euo pipefail

B=${B:-build}
CC=${CC:-cc}
command -v pkg-config >/dev/null || { echo "pkg-config is not installed"; exit 77; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
export VIRTSUP_RUNDIR=$T/run
mkdir -m 0700 "$VIRTSUP_RUNDIR"
[ -n "${VIRTSUP_WORKER:-}" ] || export VIRTSUP_WORKER=$(cd "$B" && pwd)/virtsup-worker
export PKG_CONFIG_PATH=$(cd "$B" && pwd)/pkgconfig-uninstalled

failures=0
pass() { echo "ok: $1"; }
fail() { echo "FAIL: $1"; failures=$((failures + 1)); }
check() {
    local desc=$1
    shift
    if "$@"; then pass "$desc"; else fail "$desc"; fi
}
# run NAME ARGS...: run a client, output in $T/NAME.out/.err; sets RC.
run() {
    local name=$1
    shift
    RC=0
    timeout 300 "$T/$name" "$@" >"$T/$name.out" 2>"$T/$name.err" </dev/null || RC=$?
    if [ $RC != 0 ]; then
        sed 's/^/    out: /' "$T/$name.out"
        sed 's/^/    err: /' "$T/$name.err"
    fi
}

flags=$(pkg-config --cflags --libs libvirtsup-compat)
san=$(nm -D "$B/libvirtsup.so" 2>/dev/null | grep '__asan_init' >/dev/null && echo "-fsanitize=address,undefined" || true)
for src in examples/libvirt/*.c; do
    name=$(basename "$src" .c)
    # shellcheck disable=SC2086
    if "$CC" -std=gnu11 -Wall -Wextra -Werror -pthread $san -o "$T/$name" "$src" $flags; then
        pass "$name.c builds unchanged with pkg-config libvirtsup-compat"
    else
        fail "$name.c does not build"
    fi
done
if [ -f /usr/include/libvirt/libvirt.h ]; then
    printf '#include <libvirt/libvirt.h>\n#ifndef LIBVIRTSUP_COMPAT\n#error not ours\n#endif\n' >"$T/which.c"
    # shellcheck disable=SC2086
    check "with libvirt's headers installed too, <libvirt/libvirt.h> is libvirtsup's" \
        "$CC" -fsyntax-only $flags "$T/which.c"
fi
# (ldd's output kept first: grep -q leaving early would SIGPIPE ldd under pipefail)
libs=$(ldd "$T/hello")
check "the clients link libvirtsup, not libvirt" \
    eval '[[ "$libs" == *libvirtsup.so* && "$libs" != *libvirt.so* ]]'

run hello
check "hello: exit 0" test $RC = 0
check "hello: the connection and the driver" \
    eval 'grep -qx "Connected to hypervisor at \"test:///default\"" "$T/hello.out" &&
          grep -qx "Hypervisor: TEST 0.0.2" "$T/hello.out"'
check "hello: one active domain, with ID 1, listed both ways" \
    eval 'grep -qx "There are 1 active and 0 inactive domains" "$T/hello.out" &&
          grep -qx "  active   id 1: test" "$T/hello.out" &&
          grep -qx "virConnectListAllDomains: 1 domains" "$T/hello.out"'
check "hello: no reference leaked (virConnectClose returned 0)" \
    grep -qx "Disconnected from hypervisor" "$T/hello.out"

run auth test:///default alice secret
check "auth: exit 0, read-only refuses changes" \
    eval '[ $RC = 0 ] && grep -qx "Read-only connection refuses changes: yes" "$T/auth.out"'

run info test:///default 1
check "info: the test domain by ID, libvirt's figures" \
    eval '[ $RC = 0 ] && grep -qx "Domain 1: test" "$T/info.out" &&
          grep -q "UUID: *6695eb01-f6a4-8304-79aa-97f2502e193f" "$T/info.out" &&
          grep -q "state: *running (as virDomainGetState says" "$T/info.out" &&
          grep -q "active: *1" "$T/info.out" && grep -q "persistent: *1" "$T/info.out"'
run info test:///default 42 2>/dev/null
check "info: an unknown ID fails with the library's message" \
    eval '[ $RC = 1 ] && grep -q "Failed to find domain 42" "$T/info.err"'

run suspend
check "suspend: paused (user), then running (unpaused)" \
    eval '[ $RC = 0 ] && grep -qx "suspended: state 3, reason 1" "$T/suspend.out" &&
          grep -qx "resumed: state 1, reason 5" "$T/suspend.out"'

run top test:///default 3 100
check "top: three rounds, a CPU figure from the second" \
    eval '[ $RC = 0 ] && [ "$(grep -c "^ *ID NAME" "$T/top.out")" = 3 ] &&
          grep -Eq "^ +1 test +running +[0-9]+\.[0-9] " "$T/top.out"'

# Two connections to test:///default: the watcher hears what the other does.
run events test:///default test "$T/events.img"
check "events: exit 0, every event seen" eval '[ $RC = 0 ] && grep -qx "8 events seen" "$T/events.out"'
check "events: delivered in the event loop's thread" \
    eval '! grep "in the loop thread: no" "$T/events.out"'
check "events: suspended, resumed, saved, restored, in order" \
    eval '[ "$(grep -o "Suspended Paused\|Resumed Unpaused\|Stopped Saved\|Started Restored" "$T/events.out" | tr "\n" ,)" = "Suspended Paused,Resumed Unpaused,Stopped Saved,Started Restored," ]'
check "events: the end of each job" \
    eval 'grep -q "job completed: operation save, [0-9]* bytes" "$T/events.out" &&
          grep -q "job completed: operation restore" "$T/events.out"'
check "events: the network stopped and started" \
    eval 'grep -qx "event: network default: Stopped" "$T/events.out" &&
          grep -qx "event: network default: Started" "$T/events.out"'

# The default domain (64 MiB of data, the rest zero runs) at 16 MiB/s: 4 s, long
# enough to abort.
run save-progress "test:///default?bandwidth=16" test "$T/save.img"
check "save-progress: exit 0" test $RC = 0
check "save-progress: the first save aborted from the other connection" \
    eval 'grep -q "^save: failed (aborted)" "$T/save-progress.out" &&
          grep -qx "after the abort: no image, the domain still runs" "$T/save-progress.out"'
check "save-progress: virsh's progress line on stderr, up to 100 %" \
    eval 'grep -Eq "Save: \[ *[0-9]+ %\]" "$T/save-progress.err" && grep -q "Save: \[100 %\]" "$T/save-progress.err"'
check "save-progress: saved, then restored" \
    eval 'grep -qx "after the save: shut off (saved)" "$T/save-progress.out" &&
          grep -qx "after the restore: running (restored)" "$T/save-progress.out"'

if [ $failures -ne 0 ]; then
    echo "$failures check(s) failed"
    exit 1
fi
echo "all libvirt-style clients behave"
