#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# virtsup, the command-line client, on the qemu driver with real QEMU (TCG,
# a firmware-only guest: no kernel needed): define, list, start, dominfo,
# domstate, dump (progress line, readelf), Ctrl-C of a dump on a pseudo-terminal (script(1): no
# file, the guest runs on), destroy, undefine, each command a new process (the guest
# outlives the one that started it); net-list answers on qemu:///system and is
# refused on qemu:///session. QEMU runs as its own user, never root.
# Skips (77) without qemu-system-x86_64.
set -euo pipefail

B=${B:-build}
V=$(cd "$B" && pwd)/virtsup
[ -x "$V" ] || { echo "missing $V: run make first"; exit 1; }
command -v qemu-system-x86_64 >/dev/null ||
    { echo "skipped: qemu-system-x86_64 is not installed (apt-get install qemu-system-x86)"; exit 77; }
[ -n "${VIRTSUP_WORKER:-}" ] || export VIRTSUP_WORKER=$(cd "$B" && pwd)/virtsup-worker
[ -n "${VIRTSUP_SHIM:-}" ] || export VIRTSUP_SHIM=$(cd "$B" && pwd)/virtsup-shim

T=$(mktemp -d /tmp/virtsup-qemu-cli.XXXXXX)
export VIRTSUP_RUNDIR=$T/jobs
mkdir -m 0700 "$VIRTSUP_RUNDIR"
if [ "$(id -u)" = 0 ]; then mode=system; else mode=session; fi
U="qemu:///$mode?root=$T/tree"

# The QEMU this test started, from its shim's log line; killed by pid
# (checked to be ours: its command line names our tree) if still there.
qemu_pid() { sed -n 's/.*started qemu (pid \([0-9]*\)).*/\1/p' "$T/${1:-tree}/log/cli1.log" 2>/dev/null | tail -n1; }
ours() { [ -n "$1" ] && (tr '\0' ' ' < "/proc/$1/cmdline") 2>/dev/null | grep -F "$T/" >/dev/null; }
spid=
cleanup() {
    local p tree
    if [ -n "$spid" ]; then kill -KILL "$spid" 2>/dev/null || true; fi
    exec 3>&- 2>/dev/null || true
    for tree in tree tree2; do
        p=$(qemu_pid $tree || true)
        if ours "$p"; then kill -KILL "$p" 2>/dev/null || true; fi
    done
    rm -rf "$T"
}
trap cleanup EXIT

failures=0
pass() { echo "ok: $1"; }
fail() { echo "FAIL: $1"; failures=$((failures + 1)); }
# expect DESCRIPTION PATTERN COMMAND...: the command succeeds and prints PATTERN (grep -E).
expect() {
    local desc=$1 pat=$2 out
    shift 2
    if out=$("$@" 2>&1) && grep -E -- "$pat" <<<"$out" >/dev/null; then
        pass "$desc"
    else
        fail "$desc"
        printf '    %s\n' "$out"
    fi
}

cat > "$T/cli1.xml" <<EOF
<domain type='qemu'>
  <name>cli1</name>
  <memory unit='MiB'>32</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64'>hvm</type></os>
  <devices>
    <serial type='file'><source path='$T/console.log'/></serial>
  </devices>
</domain>
EOF

expect "define" "Domain 'cli1' defined" "$V" -c "$U" define "$T/cli1.xml"
expect "list --all: shut off" "cli1 +shut off" "$V" -c "$U" list --all
expect "start (a job)" "Domain 'cli1' started" "$V" -c "$U" start cli1
# A new process: the guest outlived the one that started it.
expect "list: running with an ID" "^ *[0-9]+ +cli1 +running" "$V" -c "$U" list
expect "dominfo" "State: +running" "$V" -c "$U" dominfo cli1
expect "dominfo: memory" "Max memory: +32768 KiB" "$V" -c "$U" dominfo cli1
expect "domstate --reason" "running \(booted\)" "$V" -c "$U" domstate --reason cli1

p=$(qemu_pid || true)
if [ -n "$p" ] && [ -r "/proc/$p/status" ]; then
    uid=$(awk '/^Uid:/ { print $3 }' "/proc/$p/status")
    nnp=$(awk '/^NoNewPrivs:/ { print $2 }' "/proc/$p/status")
    seccomp=$(awk '/^Seccomp:/ { print $2 }' "/proc/$p/status")
    if [ "$mode" = session ] || [ "$uid" != 0 ]; then pass "QEMU's uid is $uid"; else fail "QEMU runs as root"; fi
    [ "$nnp" = 1 ] && pass "QEMU has no_new_privs" || fail "QEMU lacks no_new_privs ($nnp)"
    [ "$seccomp" = 2 ] && pass "QEMU is under seccomp" || fail "QEMU's seccomp mode is $seccomp"
else
    fail "no QEMU pid in the shim's log"
fi

# A core dump: virsh's progress line, the ELF core QEMU wrote through the
# worker, the job's record (another process reads it: same connection
# here), and the guest runs on.
out=$("$V" -c "$U" "dump --verbose cli1 $T/cli1.core; domjobinfo --completed cli1; domstate cli1" 2>&1) || true
if grep -q "Dump: \[100 %\]" <<<"$out" && grep -qx "Domain 'cli1' dumped to $T/cli1.core" <<<"$out" &&
   grep -Eqx "Operation: +Dump *" <<<"$out" && grep -Eqx "Job type: +Completed *" <<<"$out" &&
   grep -qx "running" <<<"$out"; then
    pass "dump --verbose: progress line, job record, guest running"
else
    fail "dump --verbose: progress line, job record, guest running"; printf '    %s\n' "$out"
fi
if command -v readelf >/dev/null && readelf -h "$T/cli1.core" 2>&1 | grep -q "CORE (Core file)"; then
    pass "dump: readelf reads an ELF core"
else
    fail "dump: readelf reads an ELF core"; readelf -h "$T/cli1.core" 2>&1 | head -5
fi
rm -f "$T/cli1.core"

# Ctrl-C of a dump on a pseudo-terminal (as an operator presses it): the
# dump paced at 1 MiB/s (bandwidth=) is interrupted once it shows
# progress; virtsup exits 130 saying cancelled, no core (nor a temporary
# name) is left, and the guest QEMU paused for the dump runs again.
if command -v script >/dev/null; then
    rm -f "$T/ctl.fifo" "$T/ctrlc.log"
    mkfifo "$T/ctl.fifo"
    script -qfec "'$V' -c '$U&bandwidth=1' dump cli1 '$T/slow.core'" "$T/ctrlc.log" \
        <"$T/ctl.fifo" >/dev/null &
    spid=$!
    exec 3>"$T/ctl.fifo"
    end=$((SECONDS + 90))
    until grep -Eq ' ([1-9]|[1-9][0-9])%' "$T/ctrlc.log" 2>/dev/null || [ $SECONDS -ge $end ]; do
        sleep 0.05
    done
    printf '\003' >&3
    rc=0
    wait "$spid" || rc=$?
    spid=
    exec 3>&-
    if [ "$rc" = 130 ] && grep -q 'cancelling (press Ctrl-C again' "$T/ctrlc.log" &&
       grep -q "virtsup: core dump of domain 'cli1' to $T/slow.core: cancelled" "$T/ctrlc.log"; then
        pass "Ctrl-C of a dump: exit 130, cancelled"
    else
        fail "Ctrl-C of a dump: exit 130, cancelled (exit $rc)"; tr '\r' '\n' <"$T/ctrlc.log" | sed 's/^/    /'
    fi
    if ls -A "$T" | grep -q 'slow\.core'; then
        fail "Ctrl-C of a dump: nothing left"; ls -A "$T" | sed 's/^/    /'
    else
        pass "Ctrl-C of a dump: nothing left"
    fi
    # (QEMU resumes it as its dump fails: the state may follow a moment later)
    end=$((SECONDS + 30))
    until st=$("$V" -c "$U" domstate cli1 2>&1) && [ "$st" = running ] || [ $SECONDS -ge $end ]; do
        sleep 0.1
    done
    [ "$st" = running ] && pass "Ctrl-C of a dump: the guest runs again" ||
        fail "Ctrl-C of a dump: the guest runs again (state: $st)"
    p2=$(qemu_pid || true)
    [ "$p2" = "$p" ] && pass "Ctrl-C of a dump: the same QEMU" ||
        fail "Ctrl-C of a dump: the same QEMU ($p2, was $p)"
else
    echo "skipped: Ctrl-C of a dump (script(1) from util-linux is not installed)"
fi

expect "start again: refused" "already running|is running|already active" \
    bash -c "! '$V' -c '$U' start cli1"

# Save and restore with virsh's progress line (a firmware-only guest: a
# small stream, whatever it holds).
if out=$("$V" -c "$U" "save --verbose cli1 $T/cli1.img; domstate --reason cli1" 2>&1) &&
   grep -q "Save: \[100 %\]" <<<"$out" && grep -q "Domain 'cli1' saved to $T/cli1.img" <<<"$out" &&
   grep -q "shut off (saved)" <<<"$out" && [ -s "$T/cli1.img" ] &&
   [ "$(head -c 8 "$T/cli1.img")" = VSUPQIMG ]; then
    pass "save --verbose: progress line, shut off (saved), the image"
else
    fail "save --verbose"; printf '    %s\n' "$out"
fi
if ours "$p"; then fail "QEMU $p is still there after the save"; else pass "QEMU is gone after the save"; fi
if out=$("$V" -c "$U" "restore --verbose $T/cli1.img; domstate --reason cli1" 2>&1) &&
   grep -q "Restore: \[100 %\]" <<<"$out" && grep -q "running (restored)" <<<"$out"; then
    pass "restore --verbose: progress line, running (restored)"
else
    fail "restore --verbose"; printf '    %s\n' "$out"
fi
p=$(qemu_pid || true)
printf 'not an image at all, just text' > "$T/bad.img"
expect "restore of a file that is not an image: refused, saying why" "not a save image|too short" \
    bash -c "! '$V' -c '$U' restore '$T/bad.img' 2>&1"
expect "destroy, then the state in the same connection" "shut off \(destroyed\)" \
    "$V" -c "$U" "destroy cli1; domstate --reason cli1"
if ours "$p"; then
    fail "QEMU $p is still there after destroy"
else
    pass "QEMU is gone after destroy"
fi
expect "list --all: shut off again" "cli1 +shut off" "$V" -c "$U" list --all
expect "undefine" "undefined" "$V" -c "$U" undefine cli1
if out=$("$V" -c "$U" list --all 2>&1) && ! grep cli1 <<<"$out" >/dev/null; then
    pass "list --all: gone"
else
    fail "list --all: gone"; printf '    %s\n' "$out"
fi

# qemu:///system answers the network calls (its networks under the
# tree's network/); only listed here: this test runs on the host's network.
if [ "$mode" = system ]; then
    expect "net-list --all on qemu:///system" "^ Name +State +UUID" "$V" -c "$U" net-list --all
    [ -d "$T/tree/network" ] && pass "qemu:///system?root=: networks under the tree" ||
        fail "qemu:///system?root=: networks under the tree"
fi

# Root's session runs QEMU as QEMU's own user too, never as root.
if [ "$(id -u)" = 0 ]; then
    # A session has no networks: refused, saying why.
    if out=$("$V" -c "qemu:///session?root=$T/tree2" net-list --all 2>&1); then
        fail "net-list on qemu:///session: refused"; printf '    %s\n' "$out"
    elif grep -F "CAP_NET_ADMIN" <<<"$out" >/dev/null; then
        pass "net-list on qemu:///session: refused ($out)"
    else
        fail "net-list on qemu:///session: refused, saying why"; printf '    %s\n' "$out"
    fi
    U2="qemu:///session?root=$T/tree2"
    expect "root's session: define and start" "Domain 'cli1' started" \
        "$V" -c "$U2" "define $T/cli1.xml; start cli1"
    p=$(qemu_pid tree2 || true)
    uid=$(awk '/^Uid:/ { print $3 }' "/proc/$p/status" 2>/dev/null || echo "?")
    [ "$uid" != 0 ] && [ "$uid" != "?" ] && pass "root's session: QEMU's uid is $uid" ||
        fail "root's session: QEMU's uid is $uid"
    expect "root's session: destroy" "destroyed" "$V" -c "$U2" destroy cli1
fi

if [ "$failures" -ne 0 ]; then
    echo "$failures check(s) failed"
    exit 1
fi
echo "all checks passed"
