#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# tools/demo.sh BUILDDIR: the guided tour that `make demo` runs.
#
# Everything happens on test nodes (test:///default and a node description
# written here) and, when qemu-system-x86_64 is installed, one firmware-only
# QEMU guest of the qemu driver (its tree under ?root=) in a temporary directory, with its own run directory for the
# status segments; at the end the directory is removed and the script checks
# that no process it started (virtsup, workers, spawn helper) is left.
set -euo pipefail

B=$(cd "${1:-build}" && pwd)
V=$B/virtsup
STAT=$B/virtsup-stat
WORKER=$B/virtsup-worker
for p in "$V" "$STAT" "$WORKER"; do
    [ -x "$p" ] || { echo "demo: missing $p: run make first" >&2; exit 1; }
done

T=$(mktemp -d "${TMPDIR:-/tmp}/virtsup-demo.XXXXXX")
export VIRTSUP_RUNDIR=$T/run
mkdir -m 0700 "$VIRTSUP_RUNDIR"
started=$SECONDS
bgpids=()
workers=()
cleanup() {
    for p in "${bgpids[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
    rm -rf "$T"
}
trap cleanup EXIT
cd "$T"

if [ -t 1 ]; then
    H=$'\033[1m' N=$'\033[0m'
else
    H= N=
fi
step() { printf '\n%s==> %s%s\n' "$H" "$*" "$N"; }
say() { printf '    %s\n' "$*"; }
# Print a command as it could be typed (quoted where the shell needs it), run it.
show() {
    local a line=""
    for a in "$@"; do
        if [[ $a =~ ^[A-Za-z0-9_./:=@%+,-]+$ ]]; then line+="$a "; else line+="'$a' "; fi
    done
    printf '%s$ %s%s\n' "$H" "${line% }" "$N"
    "$@"
}
# Wait (bounded) until FILE has a line matching the extended regex.
wait_for() {
    local end=$((SECONDS + 30))
    until grep -Eq "$2" "$1" 2>/dev/null; do
        if [ $SECONDS -ge $end ]; then
            echo "demo: timed out waiting for '$2' in $1" >&2
            return 1
        fi
        sleep 0.05
    done
}
# Worker pids virtsup-stat shows (last column of the table), to check later
# that they are gone.
note_workers() {
    local p
    for p in $("$STAT" --all | awk 'NR > 1 && $10 ~ /^[0-9]+$/ { print $10 }'); do
        workers+=("$p")
    done
}
# Processes running our worker binary (workers and the spawn helper).
worker_procs() {
    local exe p
    exe=$(readlink -f "$WORKER")
    for p in /proc/[0-9]*; do
        [ "$(readlink "$p/exe" 2>/dev/null)" = "$exe" ] && echo "${p#/proc/}"
    done
    return 0
}
before=" $(worker_procs | tr '\n' ' ') "

cat <<EOF
${H}libvirtsup demo${N}: long virtual-machine operations as supervised jobs, each
in its own isolated worker process. Steps 1-6 run on the built-in test
driver, step 7 on real QEMU (when installed), all in $T.
EOF

# ---------------------------------------------------------------------------
step "1. The test node: one running domain, one network (virtsup is virsh-like)"
show "$V" list --all
show "$V" net-list

step "2. Save the domain 'test' (8 GiB, 64 MiB of it data) as a job, with progress"
say "Its zero memory is stored as runs: the image is its 64 MiB of data."
say "The connection caps job I/O at 32 MiB/s so there is something to watch."
show "$V" -c 'test:///default?bandwidth=32' save test test.img
show ls -l test.img

step "3. Restore it"
say "Each virtsup run starts a fresh test:///default where 'test' runs, so the"
say "run destroys it first; ';' separates commands run on one connection."
show "$V" -c 'test:///default?bandwidth=32' destroy test \; restore test.img \; list

step "4. Dump its memory as an ELF core"
show "$V" -c 'test:///default?bandwidth=32' dump test test.core
if command -v readelf >/dev/null; then
    printf '%s$ readelf -h -l test.core%s (excerpt)\n' "$H" "$N"
    readelf -h -l test.core | grep -E 'Class:|Type:|Machine:|There are|NOTE|LOAD' | sed 's/^/    /'
    readelf -h test.core | grep 'CORE (Core file)' >/dev/null || { echo "demo: test.core is not an ELF core" >&2; exit 1; }
else
    say "readelf is not installed (binutils): skipping the check of the core file"
fi

# ---------------------------------------------------------------------------
cat >node.xml <<'EOF'
<node>
  <domain type='test' xmlns:test='http://libvirtsup.org/schemas/test/1.0'>
    <name>web</name>
    <memory unit='MiB'>128</memory>
    <test:rate bytes-per-second='33554432'/>
  </domain>
  <domain type='test' xmlns:test='http://libvirtsup.org/schemas/test/1.0'>
    <name>db</name>
    <memory unit='MiB'>96</memory>
    <test:rate bytes-per-second='33554432'/>
  </domain>
  <domain type='test' xmlns:test='http://libvirtsup.org/schemas/test/1.0'>
    <name>flaky</name>
    <memory unit='MiB'>64</memory>
    <!-- its save worker dies of SIGSEGV at 40 % -->
    <test:fault op='save' at='40' action='segv'/>
    <test:rate bytes-per-second='33554432'/>
  </domain>
  <domain type='test' xmlns:test='http://libvirtsup.org/schemas/test/1.0'>
    <name>big</name>
    <memory unit='MiB'>512</memory>
    <test:rate bytes-per-second='33554432'/>
  </domain>
</node>
EOF
URI=test://$T/node.xml

step "5. Three saves at once (--async); the worker of 'flaky' crashes at 40 %"
say "Node description: $URI (domains web, db, flaky, big; paced to 32 MiB/s)."
printf '%s$ %s -c %s save --async web web.img db db.img flaky flaky.img > async.log 2>&1 &%s\n' \
    "$H" "$V" "$URI" "$N"
rc=0
"$V" -c "$URI" save --async web web.img db db.img flaky flaky.img >async.log 2>&1 &
vpid=$!
bgpids+=("$vpid")
wait_for async.log '^job [0-9]+ save .*[0-9]+%'
say "While they run, the operator's view (any process's jobs on this host):"
show "$STAT"
note_workers
wait_for async.log 'flaky.*failed'
say "'flaky' has crashed; the others go on:"
show "$STAT" --all
note_workers
wait "$vpid" || rc=$?
sed 's/^/    /' async.log
say "virtsup exited $rc (1: one job failed); files: $(ls ./*.img | tr '\n' ' ')"
[ $rc = 1 ] && [ -s web.img ] && [ -s db.img ] && [ ! -e flaky.img ] ||
    { echo "demo: unexpected outcome of the three saves" >&2; exit 1; }

# ---------------------------------------------------------------------------
step "6. Cancel a save with Ctrl-C (SIGINT) once it has shown progress"
printf '%s$ %s -c %s save big big.img > cancel.log 2>&1 &%s\n' "$H" "$V" "$URI" "$N"
rc=0
"$V" -c "$URI" save big big.img >cancel.log 2>&1 &
vpid=$!
bgpids+=("$vpid")
wait_for cancel.log '^job [0-9]+ save big.*[0-9]+%'
show "$STAT"
note_workers
show kill -INT "$vpid"
wait "$vpid" || rc=$?
sed 's/^/    /' cancel.log
say "virtsup exited $rc (130: cancelled by Ctrl-C); big.img exists: $([ -e big.img ] && echo yes || echo no)"
[ $rc = 130 ] && [ ! -e big.img ] || { echo "demo: the cancel did not end as expected" >&2; exit 1; }

# ---------------------------------------------------------------------------
step "7. A real QEMU guest (the qemu driver)"
if command -v qemu-system-x86_64 >/dev/null; then
    export VIRTSUP_SHIM=${VIRTSUP_SHIM:-$B/virtsup-shim}
    if [ "$(id -u)" = 0 ]; then QU="qemu:///system?root=$T/qemu"; else QU="qemu:///session?root=$T/qemu"; fi
    say "?root= keeps the driver's whole tree (definitions, run state, logs) in $T/qemu."
    say "The guest has firmware only (no kernel): enough to show the machinery."
    printf '%s\n' "<domain type='qemu'>" "  <name>demo</name>" \
        "  <memory unit='MiB'>32</memory>" "  <vcpu>1</vcpu>" \
        "  <os><type arch='x86_64'>hvm</type></os>" "</domain>" > guest.xml
    show "$V" -c "$QU" define guest.xml
    show "$V" -c "$QU" start demo
    qpid=$(sed -n 's/.*started qemu (pid \([0-9]*\)).*/\1/p' "$T/qemu/log/demo.log" | tail -n1)
    [ -n "$qpid" ] && bgpids+=("$qpid")
    say "virtsup has exited; the guest runs on under its virtsup-shim. A new process:"
    show "$V" -c "$QU" list \; dominfo demo
    if [ -n "$qpid" ]; then
        say "QEMU (pid $qpid) runs as $(ps -o user= -p "$qpid"): $(grep -E '^(NoNewPrivs|Seccomp):' "/proc/$qpid/status" | tr '\n\t' '  ')"
    fi
    say "Saved: QEMU migrates into a pipe the job's worker owns; the image carries a checksum per MiB."
    show "$V" -c "$QU" save --verbose demo demo.img \; domstate --reason demo
    say "Restored: every record verified before QEMU gets it; progress is bytes fed."
    show "$V" -c "$QU" restore --verbose demo.img \; domstate --reason demo
    qpid=$(sed -n 's/.*started qemu (pid \([0-9]*\)).*/\1/p' "$T/qemu/log/demo.log" | tail -n1)
    [ -n "$qpid" ] && bgpids+=("$qpid")
    show "$V" -c "$QU" destroy demo \; domstate --reason demo
else
    say "qemu-system-x86_64 is not installed: skipped (apt-get install qemu-system-x86)."
fi

# ---------------------------------------------------------------------------
step "8. Nothing left behind"
left=""
end=$((SECONDS + 10))
while :; do
    left=""
    for p in "${bgpids[@]}" "${workers[@]}"; do
        kill -0 "$p" 2>/dev/null && left="$left $p"
    done
    for p in $(worker_procs); do
        case "$before" in *" $p "*) ;; *) left="$left $p" ;; esac
    done
    [ -z "$left" ] || [ $SECONDS -ge $end ] && break
    sleep 0.1
done
segs=$(ls -A "$VIRTSUP_RUNDIR")
cd /
rm -rf "$T"
trap - EXIT
if [ -n "$left" ] || [ -n "$segs" ] || [ -e "$T" ]; then
    echo "demo: left behind: processes:${left:- none}; segments: ${segs:-none}" >&2
    exit 1
fi
say "no virtsup, worker or spawn-helper process of the demo is running;"
say "every supervisor removed its status segment; $T is removed."
printf '\n%sDone in %d s.%s Next: README.md, virtsup(1) (docs/virtsup.1), libvirtsup(3).\n' \
    "$H" $((SECONDS - started)) "$N"
