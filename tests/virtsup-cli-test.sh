#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# virtsup, the command-line client, through a pipe and through a
# pseudo-terminal (script(1) from util-linux): progress output shape, Ctrl-C
# cancel (exit 130, CANCELLED, no file left), a second Ctrl-C, --async with
# a crashing worker, batches, exit codes and the one-line error messages.
set -euo pipefail

B=${B:-build}
V=$(cd "$B" && pwd)/virtsup
[ -x "$V" ] || { echo "missing $V: run make first"; exit 1; }
command -v script >/dev/null || { echo "script(1) from util-linux is not installed"; exit 77; }
[ -n "${VIRTSUP_WORKER:-}" ] || export VIRTSUP_WORKER=$(cd "$B" && pwd)/virtsup-worker

T=$(mktemp -d)
export VIRTSUP_RUNDIR=$T/run
mkdir -m 0700 "$VIRTSUP_RUNDIR"
bg=()
cleanup() {
    for p in "${bg[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
    exec 3>&- 2>/dev/null || true
    rm -rf "$T"
}
trap cleanup EXIT
cd "$T"

failures=0
pass() { echo "ok: $1"; }
fail() { echo "FAIL: $1"; failures=$((failures + 1)); }
check() {
    local desc=$1
    shift
    if "$@"; then pass "$desc"; else fail "$desc"; fi
}
# Wait (polling, bounded by a generous timeout) until COMMAND succeeds.
wait_until() {
    local end=$((SECONDS + 90))
    until "$@"; do
        [ $SECONDS -lt $end ] || return 1
        sleep 0.05
    done
}
# run OUT ERR ARGS...: virtsup through pipes; sets RC.
run() {
    local out=$1 err=$2
    shift 2
    RC=0
    "$V" "$@" >"$out" 2>"$err" </dev/null || RC=$?
}
# A file's single line matches an extended regex (and it has one line).
one_line() {
    [ "$(wc -l <"$1")" = 1 ] && grep -Eq "$2" "$1" && return 0
    sed 's/^/    got: /' "$1"
    return 1
}
# The directory holds nothing but what is listed (no hidden temporaries).
only_files() {
    local dir=$1
    shift
    [ "$(cd "$dir" && ls -A | sort | tr '\n' ' ')" = "$(printf '%s\n' "$@" | sed '/^$/d' | sort | tr '\n' ' ')" ]
}

# A node with paced domains (so jobs last long enough to be watched and
# cancelled), one whose save worker crashes at 40 %, one that ignores
# cancellation, and a quick one.
cat >node.xml <<'EOF'
<node>
  <domain type='test' xmlns:test='http://libvirtsup.org/schemas/test/1.0'>
    <name>paced</name>
    <memory unit='MiB'>16</memory>
    <test:rate bytes-per-second='4194304'/>
  </domain>
  <domain type='test' xmlns:test='http://libvirtsup.org/schemas/test/1.0'>
    <name>slow</name>
    <memory unit='MiB'>256</memory>
    <test:rate bytes-per-second='2097152'/>
  </domain>
  <domain type='test' xmlns:test='http://libvirtsup.org/schemas/test/1.0'>
    <name>crashy</name>
    <memory unit='MiB'>16</memory>
    <test:fault op='save' at='40' action='segv'/>
    <test:rate bytes-per-second='8388608'/>
  </domain>
  <domain type='test' xmlns:test='http://libvirtsup.org/schemas/test/1.0'>
    <name>stubborn</name>
    <memory unit='MiB'>256</memory>
    <test:fault op='save' at='1' action='ignore-cancel'/>
    <test:rate bytes-per-second='2097152'/>
  </domain>
  <domain type='test'>
    <name>quick</name>
    <memory unit='MiB'>8</memory>
  </domain>
</node>
EOF
URI=test://$T/node.xml
mkdir out

# ---- exit codes and one-line errors ----------------------------------------
run o e list
check "list: exit 0, the running domain 'test'" test $RC = 0
check "list: virsh's Id Name State table, the running domain 'test'" \
    eval '[ "$(sed -n 1p o)" = " Id   Name   State" ] && [ "$(sed -n 2p o)" = "----------------------" ] &&
          grep -qx " 1    test   running" o'
run o e list --all
check "list --all: exit 0" test $RC = 0
run o e --help
check "--help: exit 0, lists the commands" eval '[ $RC = 0 ] && grep -q "net-create" o'
run o e --version
check "--version: exit 0" eval '[ $RC = 0 ] && grep -Eq "^virtsup [0-9]+\.[0-9]+\.[0-9]+" o'
run o e -v
check "-v: the short version, as virsh -v" eval '[ $RC = 0 ] && grep -Eqx "[0-9]+\.[0-9]+\.[0-9]+" o'
run o e help save
check "help save: exit 0, synopsis" eval '[ $RC = 0 ] && grep -q "Usage: virtsup save" o'
run o e dominfo test
check "dominfo: exit 0, state and memory (libvirt's: 8 GiB, 2 GiB used)" \
    eval '[ $RC = 0 ] && grep -q "^State: *running" o &&
          grep -qx "Max memory: *8388608 KiB" o && grep -qx "Used memory: *2097152 KiB" o'
run o e dumpxml test
check "dumpxml: exit 0, the domain's XML" eval '[ $RC = 0 ] && grep -q "<name>test</name>" o'
check "dumpxml: a running domain's ID, as virsh" grep -q "<domain type='test' id='1'>" o
run o e dumpxml --inactive --security-info test
check "dumpxml --inactive --security-info: no ID, as virsh" \
    eval '[ $RC = 0 ] && grep -q "<domain type='"'"'test'"'"'>" o && grep -q "<name>test</name>" o'
run o e dumpxml --update-cpu test
check "dumpxml --update-cpu: not an option here, exit 1" eval '[ $RC = 1 ] && grep -q "unknown option" e'

run o e frobnicate
check "unknown command: exit 1, as virsh" test $RC = 1
check "unknown command: one line on stderr" one_line e "^virtsup: unknown command 'frobnicate'"
run o e
check "no command: exit 1" test $RC = 1
run o e save test
check "missing argument: exit 1, one line" eval '[ $RC = 1 ] && one_line e "^virtsup: save: missing argument"'
run o e list --bogus
check "unknown option of a command: exit 1, one line" eval '[ $RC = 1 ] && one_line e "^virtsup: list: unknown option .--bogus."'
run o e --no-such-option list
check "unknown global option: exit 1" test $RC = 1
run o e dominfo nosuch
check "unknown domain: exit 1" test $RC = 1
check "unknown domain: one line saying what and why" one_line e "^virtsup: cannot find domain 'nosuch': .*nosuch"
run o e restore "$T/missing.img"
check "missing file: exit 1, one line with the system's reason" \
    eval '[ $RC = 1 ] && one_line e "^virtsup: cannot restore a domain from .*missing.img: .*No such file or directory"'
run o e define "$T/missing.xml"
check "missing XML file: exit 1, one line" eval '[ $RC = 1 ] && one_line e "^virtsup: cannot open .*missing.xml: No such file"'
printf 'LibvirtSupSave1 but not really a save image, just text\n' >corrupt.img
run o e destroy test \; restore corrupt.img
check "corrupt image: exit 1" test $RC = 1
check "corrupt image: one line saying the restore failed and why" \
    one_line e "^virtsup: restore from corrupt.img failed: .+"
head -c 100000 /dev/urandom >random.img
run o e destroy test \; restore random.img
check "random bytes as an image: exit 1, one line" eval '[ $RC = 1 ] && one_line e "^virtsup: restore from random.img failed: .+"'
run o e -c "test:///nonexistent/node.xml" list
check "bad URI: exit 1, one line" eval '[ $RC = 1 ] && one_line e "^virtsup: cannot connect to test:///nonexistent/node.xml: .+"'

# ---- virsh's spellings -------------------------------------------------------
run o e 'list --all; domstate test; domstate --reason test; domid test; domuuid test; domname 1'
check "one quoted argument, several commands separated by ';'" test $RC = 0
check "domstate, --reason, domid, domuuid, domname as virsh prints them" \
    eval '[ "$(sed -n 5,9p o | tr "\n" "|")" = "running|running (booted)|1|6695eb01-f6a4-8304-79aa-97f2502e193f|test|" ]'
run o e 'suspend 1; domstate 6695eb01-f6a4-8304-79aa-97f2502e193f --reason; resume test; domstate test --reason'
check "suspend and resume, a domain by ID, UUID or name" \
    eval '[ $RC = 0 ] && [ "$(tr "\n" "|" <o)" = "Domain '"'"'1'"'"' suspended|paused (user)|Domain '"'"'test'"'"' resumed|running (unpaused)|" ]'
run o e 'reboot test; shutdown test; domstate --reason test; domid test; list; list --inactive --name; list --state-shutoff'
check "reboot, shutdown, then shut off (shutdown), ID '-', listed inactive" \
    eval '[ $RC = 0 ] && grep -qx "Domain '"'"'test'"'"' is being rebooted" o &&
          grep -qx "Domain '"'"'test'"'"' is being shutdown" o && grep -qx "shut off (shutdown)" o &&
          grep -qx -- "-" o && grep -qx " -    test   shut off" o && grep -qx "test" o'
run o e 'reboot --mode acpi test; reboot test --mode=acpi; shutdown --mode acpi test; domstate --reason test'
check "reboot and shutdown --mode acpi: the ACPI flag passed on (virsh's --mode)" \
    eval '[ $RC = 0 ] && [ "$(grep -c "is being rebooted" o)" = 2 ] && grep -qx "shut off (shutdown)" o'
run o e 'reboot --mode agent test'
check "reboot --mode agent: the driver's refusal of the flag, exit 1" \
    eval '[ $RC = 1 ] && grep -q "cannot reboot domain '"'"'test'"'"'.*unsupported flags (0x2)" e'
run o e reboot --mode bogus test
check "reboot --mode bogus: a usage error naming virsh's modes" \
    eval '[ $RC = 1 ] && [ ! -s o ] && grep -q "unknown mode '"'"'bogus'"'"' (expecting '"'"'acpi'"'"', '"'"'agent'"'"'" e'
run o e list --uuid
check "list --uuid: the running domains' UUIDs" eval '[ $RC = 0 ] && grep -qx "6695eb01-f6a4-8304-79aa-97f2502e193f" o'
run o e 'uri; version'
check "uri and version" \
    eval '[ $RC = 0 ] && grep -qx "test:///default" o && grep -qx "Running hypervisor: TEST 0.0.2" o &&
          grep -Eqx "Using library: libvirtsup [0-9]+\.[0-9]+\.[0-9]+" o'
LIBVIRT_DEFAULT_URI="$URI" run o e uri
check "LIBVIRT_DEFAULT_URI names the connection, as for virsh" eval '[ $RC = 0 ] && grep -qx "$URI" o'
run o e net-info default
check "net-info as virsh" \
    eval '[ $RC = 0 ] && grep -qx "Name:           default" o && grep -qx "Active:         yes" o &&
          grep -qx "Bridge:         virbr0" o'
run o e net-dumpxml default
check "net-dumpxml" eval '[ $RC = 0 ] && grep -q "<name>default</name>" o'
run o e net-dumpxml --inactive default
check "net-dumpxml --inactive" eval '[ $RC = 0 ] && grep -q "<name>default</name>" o'
run o e -r suspend test
check "-r: read-only, changes refused with exit 1" \
    eval '[ $RC = 1 ] && one_line e "^virtsup: cannot suspend domain .test.: .*read.only"'
run o e --readonly 'list; domstate test'
check "--readonly: looking works" eval '[ $RC = 0 ] && grep -qx "running" o'
run o e domjobinfo test
check "domjobinfo without a job: Job type None" eval '[ $RC = 0 ] && grep -Eqx "Job type: +None *" o'
run o e -c "$URI" "save --verbose quick out/verbose.img; domjobinfo --completed quick; restore --verbose out/verbose.img"
check "save/restore --verbose: virsh's progress line on stderr, 100 % at the end" \
    eval '[ $RC = 0 ] && grep -q "Save: \[100 %\]" e && grep -q "Restore: \[100 %\]" e &&
          grep -qx "Domain '"'"'quick'"'"' saved to out/verbose.img" o'
check "domjobinfo --completed: virsh's fields and units" \
    eval 'grep -Eqx "Job type: +Completed *" o && grep -Eqx "Operation: +Save *" o &&
          grep -Eq "^Time elapsed: +[0-9]+ +ms$" o && grep -Eqx "Data total: +8\.[0-9]{3} MiB" o &&
          grep -Eqx "Memory processed: +8\.[0-9]{3} MiB" o'
rm -f out/verbose.img
run o e -c "$URI" dump --memory-only --format=elf quick out/mem.core
check "dump --memory-only --format elf: an ELF core" eval '[ $RC = 0 ] && [ "$(head -c4 out/mem.core | tail -c3)" = ELF ]'
rm -f out/mem.core
run o e -c "$URI" dump --memory-only --format kdump-zlib quick out/kdump.core
check "dump --format kdump-zlib: refused by name, nothing written" \
    eval '[ $RC = 1 ] && one_line e "kdump" && [ ! -e out/kdump.core ]'
run o e -c "$URI" dump --format elf quick out/x.core
check "dump --format without --memory-only: a usage error" eval '[ $RC = 1 ] && one_line e "memory-only"'

# A job started by another process: virsh's domjobinfo and domjobabort
# reach it when both use one node; on test:///default each process has its
# own node (libvirt's test driver is per process too), so this is within
# one process: a save started with --async, watched and aborted.
run o e -c "test:///default?bandwidth=8" "save --async test out/watched.img; domjobinfo test; domjobabort test"
check "domjobinfo of a running job, domjobabort: the job cancelled, no file" \
    eval '[ $RC = 1 ] && grep -Eqx "Job type: +Bounded *" o && grep -Eq "^Time remaining: +[0-9]+ +ms$" o &&
          grep -q "cancelled" e && [ ! -e out/watched.img ]'

# ---- a job through a pipe: plain periodic lines ------------------------------
run o e -c "$URI" save paced out/paced.img
check "pipe: save exits 0" test $RC = 0
check "pipe: no carriage return or escape sequence" eval '! grep -q $'"'"'[\r\033]'"'"' o'
check "pipe: a start line" grep -Eq '^job [0-9]+ save paced -> out/paced.img: started$' o
check "pipe: progress lines with percent and bytes" \
    grep -Eq '^job [0-9]+ save paced -> out/paced.img: +[0-9]+%  [0-9.]+ (B|KiB|MiB)/16.0 MiB' o
check "pipe: an end line" grep -Eq '^job [0-9]+ save paced -> out/paced.img: completed$' o
check "pipe: the result" grep -qx "Domain 'paced' saved to out/paced.img" o
check "pipe: the image exists" test -s out/paced.img
check "pipe: nothing on stderr" test ! -s e

run o e -c "$URI" --quiet save paced out/quiet.img
check "--quiet: exit 0, no output at all" eval '[ $RC = 0 ] && [ ! -s o ] && [ ! -s e ]'

# The image restores in a later run (the domain is shut off by the save).
run o e destroy test
run o e save test out/test.img
run o e destroy test \; restore out/test.img \; dominfo test
check "restore in a later run: exit 0, domain running" \
    eval '[ $RC = 0 ] && grep -qx "Domain '"'"'test'"'"' restored from out/test.img" o && grep -q "^State: *running" o'
rm -f out/test.img

# ---- a job through a pseudo-terminal: one line redrawn in place ---------------
rc=0
script -qfec "'$V' -c '$URI' save paced out/tty.img" tty.log </dev/null >/dev/null || rc=$?
check "tty: save exits 0" test $rc = 0
tr '\r' '\n' <tty.log >tty.lines
check "tty: redrawn with carriage return and clear-to-end-of-line" grep -q $'\r''job [0-9]* save paced.*'$'\033''\[K' tty.log
check "tty: percent and bytes done/total" grep -Eq '^job [0-9]+ save paced -> out/tty.img: +[0-9]+%  [0-9.]+ (B|KiB|MiB)/16.0 MiB' tty.lines
check "tty: a rate and an ETA" grep -Eq '[0-9.]+ (KiB|MiB)/s  ETA [0-9]+:[0-9][0-9]' tty.lines
check "tty: no ETA once at 100 %" eval '! grep -E "save paced.*100%.*ETA" tty.lines'
check "tty: several redraws of the same line" test "$(grep -c '^job [0-9]* save paced.*%' tty.lines)" -ge 2
check "tty: progress is not one line per update" test "$(grep -c $'\n' tty.log)" -le 6
check "tty: the result" grep -q "Domain 'paced' saved to out/tty.img" tty.lines

# ---- Ctrl-C through the pseudo-terminal ---------------------------------------
# interrupt LOG PRESSES PATTERN ARGS...: run virtsup on a pty, send Ctrl-C
# PRESSES times once its output matches PATTERN (the second once the cancel
# is noted); sets RC.
interrupt() {
    local log=$1 presses=$2 pattern=$3
    shift 3
    rm -f "$log" ctl.fifo
    mkfifo ctl.fifo
    local cmd="'$V'"
    for a in "$@"; do cmd+=" '$a'"; done
    script -qfec "$cmd" "$log" <ctl.fifo >/dev/null &
    local sp=$!
    bg+=("$sp")
    exec 3>ctl.fifo
    wait_until grep -Eq "$pattern" "$log" 2>/dev/null || echo "no progress shown"
    printf '\003' >&3
    if [ "$presses" = 2 ]; then
        wait_until grep -q 'cancelling' "$log" || echo "no cancel noted"
        printf '\003' >&3
    fi
    RC=0
    wait "$sp" || RC=$?
    exec 3>&-
}

interrupt cancel.log 1 '[0-9]%' -c "$URI" save slow out/slow.img
check "Ctrl-C: exit 130" test $RC = 130
check "Ctrl-C: the cancel is noted" grep -q 'cancelling (press Ctrl-C again' cancel.log
progress_after_note() { tr '\r' '\n' <"$1" | sed -n '/cancelling (press/,$p' | grep '^job .*[0-9]%' >/dev/null; }
check "Ctrl-C: the job ends CANCELLED" grep -Eq 'job [0-9]+ save slow -> out/slow.img: cancelled' cancel.log
check "Ctrl-C: the error line says cancelled" grep -q "virtsup: save of domain 'slow' to out/slow.img: cancelled" cancel.log
check "Ctrl-C: no file left at the destination" only_files out paced.img quiet.img tty.img

# (its worker ignores cancellation from 1 %: wait until it is past that)
interrupt cancel2.log 2 ' ([2-9]|[1-9][0-9])%' -c "$URI" save stubborn out/stubborn.img
check "second Ctrl-C: exit 130" test $RC = 130
check "second Ctrl-C: says it stops waiting" grep -q 'interrupted again' cancel2.log
# this job ignores the cancel, so it runs on after the first Ctrl-C
check "Ctrl-C: progress still shown after the cancel" progress_after_note cancel2.log
check "second Ctrl-C: no file left at the destination" only_files out paced.img quiet.img tty.img
# The supervisor removes its status segment only once its jobs are reaped.
check "second Ctrl-C: the job was reaped (no status segment left)" eval '[ -z "$(ls -A "$VIRTSUP_RUNDIR")" ]'

# ---- several jobs at once (--async), one whose worker crashes -----------------
run o e -c "$URI" save --async paced out/a.img crashy out/b.img quick out/c.img
check "--async with a crash: exit 1" test $RC = 1
# Under UBSAN_OPTIONS=halt_on_error=1 the sanitizer runtime turns the
# worker's SIGSEGV into exit 1: the job fails all the same.
crash="worker crashed: signal 11 \(SIGSEGV\)"
if nm -D "$(dirname "$V")/libvirtsup.so" 2>/dev/null | grep '__asan_init\|__ubsan_handle\|__tsan_init' >/dev/null; then
    crash="worker (crashed: signal 11 \(SIGSEGV\)|exited without reporting \(status 1\))"
fi
check "--async: the crash is reported in one line" \
    one_line e "^virtsup: save of domain 'crashy' to out/b.img failed: $crash"
check "--async: the others completed" eval 'grep -qx "Domain '"'"'paced'"'"' saved to out/a.img" o && grep -qx "Domain '"'"'quick'"'"' saved to out/c.img" o'
check "--async: files of the completed jobs only" only_files out paced.img quiet.img tty.img a.img c.img
rc=0
t0=$SECONDS
script -qfec "'$V' -c '$URI' save --async paced out/d.img quick out/e.img" async.log </dev/null >/dev/null || rc=$?
secs=$((SECONDS - t0 + 1))
check "--async on a tty: exit 0" test $rc = 0
check "--async on a tty: the cursor goes back up to redraw both lines" grep -q $'\033''\[1A' async.log
# A job that ended stays on screen while the other runs: its descriptor,
# readable for good, must not turn the wait into a busy loop (the display
# is redrawn every 150 ms, and at each job's end).
redraws=$(grep -o $'\033''\[1A' async.log | wc -l)
check "--async on a tty: redrawn at the display's pace, not in a busy loop ($redraws in ${secs}s)" \
    test "$redraws" -le $((secs * 20))

# ---- batches: one connection for several commands ---------------------------
cat >dom.xml <<'EOF'
<domain type='test'><name>vm2</name><memory unit='MiB'>8</memory></domain>
EOF
cat >batch <<'EOF'
# define, start and save on one connection; the save is followed at the end
define dom.xml
start vm2
save --async vm2 "out/vm2.img"
jobs
EOF
run o e --batch batch
check "batch: exit 0" test $RC = 0
check "batch: jobs lists the start and the running save" \
    eval 'grep -Eq "^ [0-9]+ +start vm2 +completed" o && grep -Eq "^ [0-9]+ +save vm2 -> out/vm2.img" o'
check "batch: the save completed at the end" grep -qx "Domain 'vm2' saved to out/vm2.img" o
printf 'list\nnosuchcommand\nlist\n' >batch2
run o e --batch batch2
check "batch: stops at an unknown command with exit 1" eval '[ $RC = 1 ] && [ "$(grep -c "^ 1 *test" o)" = 1 ]'
run o e -c "$URI" save --async quick out/later.img \; nosuchcommand
check "a failing command after --async: its exit status, the job still followed to its end" \
    eval '[ $RC = 1 ] && grep -qx "Domain '"'"'quick'"'"' saved to out/later.img" o && [ -s out/later.img ]'
run o e --batch "$T/missing-batch"
check "batch: missing file, exit 1" eval '[ $RC = 1 ] && one_line e "^virtsup: cannot open .*missing-batch: No such file"'

if [ $failures -ne 0 ]; then
    echo "$failures check(s) failed"
    exit 1
fi
echo "all virtsup checks passed"
