#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# virtsup-stat against real segments written by build/tests/segwriter:
# live, stale, finished, inconsistent, corrupt and hostile ones; the table,
# --all, --json (parsed by jq; its strings byte for byte against python3's
# parser), --prometheus (checked line by line), --gc,
# --watch, the options and exit codes, and one run under valgrind.
set -euo pipefail

B=${B:-build}
STAT=$B/virtsup-stat
SEGW=$B/tests/segwriter
VERSION=$(sed -n 's/^VERSION *:= *//p' GNUmakefile)
for p in "$STAT" "$SEGW"; do
    [ -x "$p" ] || { echo "missing $p: run make first"; exit 1; }
done
command -v jq >/dev/null || { echo "jq is not installed"; exit 77; }

T=$(mktemp -d)
holders=()
sparse_tmp=
swpid=
cleanup() {
    for p in "${holders[@]}" $swpid; do kill -TERM "$p" 2>/dev/null || true; done
    rm -rf "$T" ${sparse_tmp:+"$sparse_tmp"}
}
trap cleanup EXIT

failures=0
pass() { echo "ok: $1"; }
fail() { echo "FAIL: $1"; failures=$((failures + 1)); }
# check DESCRIPTION COMMAND...: the command's success is the check.
check() {
    local desc=$1
    shift
    if "$@"; then pass "$desc"; else fail "$desc"; fi
}
# segment DIR [--hold] ARGS...: make a segment; sets SEG and SUP (its pid).
segment() {
    local dir=$1 hold=0 out
    shift
    [ "${1:-}" = --hold ] && hold=1
    out=$("$SEGW" --rundir "$dir" "$@")
    SEG=${out% *}
    SUP=${out##* }
    if [ $hold = 1 ]; then holders+=("$SUP"); fi
}
# The cell of column COL (1-based) in the table row whose JOB is JOB for
# supervisor SUP. Columns are separated by two or more spaces.
cell() {
    awk -v sup="$2" -v job="$3" -v col="$4" '
        { n = split($0, f, /  +/); if (f[1] == "") { for (i = 1; i < n; i++) f[i] = f[i + 1]; n-- } }
        f[1] == sup && f[2] == job { print f[col]; exit }' "$1"
}
# Wait (polling, bounded) until COMMAND succeeds.
wait_until() {
    local end=$((SECONDS + 60))
    until "$@"; do
        [ $SECONDS -lt $end ] || return 1
        sleep 0.05
    done
}

# ---- empty and missing run directories --------------------------------------
mkdir -m 0755 "$T/empty"
rc=0; out=$("$STAT" --rundir "$T/empty") || rc=$?
check "empty run directory: 'no supervisors', exit 0" test "$rc:$out" = "0:no supervisors"
rc=0; out=$("$STAT" --rundir "$T/missing") || rc=$?
check "missing run directory: 'no supervisors', exit 0" test "$rc:$out" = "0:no supervisors"
rc=0; out=$("$STAT" --rundir "$T/missing" --json | jq -c '.segments') || rc=$?
check "missing run directory: JSON with no segments" test "$rc:$out" = "0:[]"
rc=0; out=$(VIRTSUP_RUNDIR="$T/empty" "$STAT") || rc=$?
check "VIRTSUP_RUNDIR is the default run directory" test "$rc:$out" = "0:no supervisors"

# ---- a live supervisor, a stale one, hostile strings -----------------------
R=$T/run
mkdir -m 0755 "$R"
segment "$R" --hold \
    --job op=domain.save,target=test,pct=42,done=100,total=1000,eta=5000,rate=67108864,worker=4242,age=90000,phase=writing \
    --job state=queued,op=domain.restore,target=vm2 \
    --job op=domain.core.dump,target=vm3,pct=10,leta=65000,cancel=1,stalled=1,worker=4243,rate=1536 \
    --job state=completed,op=domain.save,target=done1,pct=100,dur=75000,done=1000,total=1000 \
    --job state=failed,op=domain.save,target=vm5,pct=12,dur=3000,code=38,exit=1,error=no%20space%20left%20on%20device \
    --job op=network.create,target=other,pct=77,otherjob=1 \
    --job op=domain.create,target=vm7,oddseq=1
A=$SUP
SEG_A=$SEG
segment "$R"
S=$SUP
HOSTILE_TARGET=$'a"b\\c\nd\x01e\xef\xbf\xbdf'
segment "$R" --hold \
    --job 'op=x%22y%1B%5D0%3Bowned%07,target=a%22b%5Cc%0Ad%01e%FFf,pct=5,phase=p%0A%22q' \
    --job 'state=failed,op=ok,target=t,dur=1,error=line1%0Aline2%09%22quoted%22%5C%1B[31m' \
    --job 'unterminated=1'
H=$SUP

rc=0; "$STAT" --rundir "$R" >"$T/table" 2>"$T/table.err" || rc=$?
check "table: exit 0, nothing on stderr" test "$rc:$(cat "$T/table.err")" = "0:"
check "table: header" grep -Eq '^SUPERVISOR +JOB +OP +TARGET +STATE +PCT +ELAPSED +ETA +RATE +WORKER$' "$T/table"
check "table: running job's op and target" test "$(cell "$T/table" "$A" 1 3)/$(cell "$T/table" "$A" 1 4)" = "domain.save/test"
check "table: running job's state" test "$(cell "$T/table" "$A" 1 5)" = "running"
check "table: running job's percent" test "$(cell "$T/table" "$A" 1 6)" = "42%"
el=$(cell "$T/table" "$A" 1 7)
check "table: running job's elapsed from its start (1:30 or a little more, got $el)" \
    grep -Eq '^(1:[3-5][0-9]|[2-9]:[0-9][0-9])$' <<<"$el"
check "table: ETA from the worker" test "$(cell "$T/table" "$A" 1 8)" = "0:05"
check "table: rate in binary units" test "$(cell "$T/table" "$A" 1 9)" = "64.0MiB/s"
check "table: worker pid" test "$(cell "$T/table" "$A" 1 10)" = "4242"
check "table: queued job" test "$(cell "$T/table" "$A" 2 5)/$(cell "$T/table" "$A" 2 6)/$(cell "$T/table" "$A" 2 7)" = "queued/-/-"
check "table: cancelling and stalled markers" test "$(cell "$T/table" "$A" 3 5)" = "cancelling,stalled"
check "table: ETA from the supervisor when the worker gives none" test "$(cell "$T/table" "$A" 3 8)" = "1:05"
check "table: small rate" test "$(cell "$T/table" "$A" 3 9)" = "1.5KiB/s"
check "table: progress page of another job ignored" test "$(cell "$T/table" "$A" 6 6)" = "-"
check "table: odd sequence shown as inconsistent" test "$(cell "$T/table" "$A" slot:7 5)" = "inconsistent"
check "table: ended jobs hidden without --all" test -z "$(cell "$T/table" "$A" 4 5)$(cell "$T/table" "$A" 5 5)"
check "table: stale supervisor on one line" test "$(grep -c "^ *$S " "$T/table"):$(cell "$T/table" "$S" - 5)" = "1:stale"
check "table: no control characters from hostile strings" \
    test "$(LC_ALL=C grep -c $'[\x01-\x08\x0b-\x1f\x7f]' "$T/table" || true)" = 0
check "table: hostile target made printable" test "$(cell "$T/table" "$H" 1 4)" = $'a"b\\c?d?e?f'
check "table: one line per job (header, 5 of A, stale S, 2 of H)" test "$(wc -l <"$T/table")" = 9

rc=0; "$STAT" --rundir "$R" --all >"$T/all" || rc=$?
check "--all: exit 0" test $rc = 0
check "--all: ERROR column" grep -q '  WORKER  ERROR$' "$T/all"
check "--all: completed job with its duration" test "$(cell "$T/all" "$A" 4 5)/$(cell "$T/all" "$A" 4 6)/$(cell "$T/all" "$A" 4 7)" = "completed/100%/1:15"
check "--all: failed job with its error" test "$(cell "$T/all" "$A" 5 5)/$(cell "$T/all" "$A" 5 11)" = "failed/no space left on device"
check "--all: hostile error made printable" test "$(cell "$T/all" "$H" 2 11)" = 'line1?line2?"quoted"\?[31m'
err=$(cell "$T/all" "$H" 3 11)
check "--all: long error truncated to 60 characters" test "${#err}" = 60 -a "${err: -3}" = "..."

# ---- JSON ---------------------------------------------------------------------
rc=0; "$STAT" --rundir "$R" --all --json >"$T/json" || rc=$?
check "--json: exit 0 and valid JSON" jq -e . "$T/json" >/dev/null
check "--json: version and run directory" \
    jq -e --arg v "$VERSION" --arg r "$R" '.version == $v and .rundir == $r' "$T/json" >/dev/null
j() { jq -e --argjson a "$A" --argjson s "$S" --argjson h "$H" "$@" "$T/json" >/dev/null; }
check "--json: three segments, one stale" \
    j '(.segments | length) == 3 and ([.segments[] | select(.stale)] | map(.supervisor_pid)) == [$s]'
check "--json: segment fields" \
    j --arg p "$SEG_A" '.segments[] | select(.supervisor_pid == $a) | .path == $p and .error == null and .nslots == 8'
jobA() { j --argjson id "$1" ".segments[] | select(.supervisor_pid == \$a) | .jobs[] | select(.id == \$id) | $2"; }
check "--json: running job" jobA 1 '.state == "running" and .percent == 42 and .eta_ms == 5000 and .rate_bps == 67108864 and .worker_pid == 4242 and .elapsed_ms >= 90000'
check "--json: running job's progress" jobA 1 '.progress.source == "sampled" and .progress.sampled_realtime_ns > 0 and .progress.bytes_done == 100 and .progress.bytes_total == 1000 and .progress.phase == "writing"'
check "--json: cancel and stall flags" jobA 3 '.cancel_requested and .stalled and .eta_ms == 65000 and .derived_eta_ms == 65000'
check "--json: finished jobs" jobA 4 '.state == "completed" and .elapsed_ms == 75000 and .progress.source == "final" and .eta_ms == null'
check "--json: error of a failed job" jobA 5 '.error == "no space left on device" and .error_code == 38 and .exit_status == 1'
check "--json: progress of another job ignored" jobA 6 '.progress == null and .percent == null'
check "--json: inconsistent slot" \
    j '[.segments[] | select(.supervisor_pid == $a) | .jobs[] | select(.state == "inconsistent") | .slot] == [7]'
jobH() {
    local id=$1 filter=$2
    shift 2
    j "$@" --argjson id "$id" ".segments[] | select(.supervisor_pid == \$h) | .jobs[] | select(.id == \$id) | $filter"
}
check "--json: hostile target round-trips (invalid byte replaced)" \
    jobH 1 '.target == $t' --arg t "$HOSTILE_TARGET"
check "--json: hostile op round-trips" jobH 1 '.op == $o' --arg o $'x"y\e]0;owned\a'
check "--json: hostile phase round-trips" jobH 1 '.progress.phase == $p' --arg p $'p\n"q'
check "--json: hostile error round-trips" jobH 2 '.error == $e' --arg e $'line1\nline2\t"quoted"\\\e[31m'
check "--json: unterminated strings cut at their field size" \
    jobH 3 '(.op | length) == 47 and (.target | length) == 95 and (.error | length) == 511'
check "--json: control characters escaped as \\u00XX" grep -q 'd\\u0001e' "$T/json"

# ---- strings byte for byte, against an independent parser ---------------------------
# Every byte but NUL, UTF-8 sequences valid and not (overlong, surrogates,
# past U+10FFFF, cut short mid-string and at the end), in all four texts of
# a job, and 60 jobs whose texts are escapes or long runs of plain text,
# in three segments (400 KB of JSON: strings cross the tool's output buffer
# at many places). Python's
# UTF-8 decoder and json module are the oracle: each string must parse to
# its bytes with every valid character kept and each invalid byte replaced
# by one U+FFFD, and appear in the raw text escaped exactly so (the quote
# and backslash escaped, control characters as \u00XX in lowercase, an
# invalid byte as \ufffd, everything else as it is); a Prometheus label
# likewise with \n and the replacement character itself.
if command -v python3 >/dev/null; then
    cat >"$T/strings.py" <<'EOF'
import json, sys

def job_texts():
    # [(op, target, phase, error)] as bytes, NUL-free, within field sizes.
    first = (b'\xc0\x80\xc1\xbf\xe0\x80\x80\xed\xa0\x80\xed\xbf\xbf\xf4\x90\x80\x80\xf5\x80\xfe\xff\x80x\xe2\x82y',
             b'\xc2\x80\xc2\x9f\xdf\xbf\xe0\xa0\x80\xef\xbf\xbf\xef\xbf\xbd\xf0\x90\x80\x80\xf4\x8f\xbf\xbf'
             b'\x7f\x1f"\\/ \xc3\xa9\xf0\x9f\x98',
             b'tab\there\nnew"q\\b\r\x1b[31m\xe2\x82',
             bytes(range(1, 256)))
    texts = [first]
    pattern = bytes(range(1, 32)) + b'\x7f\xff"\\\xc3\xa9\xed\xa0\x80'
    for i in range(60):
        rot = pattern[i % len(pattern):] + pattern[:i % len(pattern)]
        err = (rot * 20)[:511 - i % 7]
        op, target, phase = b'op%d' % i, b't\x01' * (i % 40), bytes([0x80 + i]) * (i % 5)
        if i % 2:
            # Long runs of plain text: copied in one piece across the buffer's end.
            plain = bytes(b'abcdefghij'[k % 10] for k in range(600))
            err = rot[:3] + plain[:480 - i] + rot[:3]
            op, target, phase = plain[:40 + i % 7], plain[:90 - i % 5], plain[:60 - i % 3]
        texts.append((op, target, phase, err))
    return texts

def pct(b):
    return ''.join('%%%02X' % c for c in b)

def expect(b, style):
    raw, dec, i = b'', '', 0
    while i < len(b):
        c = b[i]
        n = 1 if c < 0x80 else 2 if 0xc2 <= c <= 0xdf else 3 if 0xe0 <= c <= 0xef else 4 if 0xf0 <= c <= 0xf4 else 0
        ch = None
        if n:
            try:
                ch = b[i:i + n].decode('utf-8')
            except UnicodeDecodeError:
                ch = None
            if ch is not None and len(ch) != 1:
                ch = None
        if ch is None:
            raw += b'\\ufffd' if style == 'json' else '\ufffd'.encode()
            dec += '\ufffd'
            i += 1
            continue
        cp = ord(ch)
        if ch in '"\\':
            raw += b'\\' + ch.encode()
        elif style == 'prom' and ch == '\n':
            raw += b'\\n'
        elif cp < 0x20 or cp == 0x7f:
            raw += b'\\u%04x' % cp if style == 'json' else '\ufffd'.encode()
        else:
            raw += b[i:i + n]
        dec += ch
        i += n
    return raw, dec

def check(json_path, prom_path):
    raw = open(json_path, 'rb').read()
    prom = open(prom_path, 'rb').read()
    doc = json.loads(raw.decode('utf-8'))
    texts = job_texts()
    bad = []
    jobs, written = [], []
    for s in doc['segments']:
        jobs += s['jobs']
        written += texts
        if len(s['jobs']) != len(texts):
            bad.append('%d jobs listed, %d written' % (len(s['jobs']), len(texts)))
    for job, (op, target, phase, error) in zip(jobs, written):
        got = {'op': job['op'], 'target': job['target'], 'phase': job['progress']['phase'],
               'error': job['error']}
        for key, b in (('op', op), ('target', target), ('phase', phase), ('error', error)):
            r, d = expect(b, 'json')
            if got[key] != (d if b or key != 'error' else None):
                bad.append('job %d %s parses to %r, expected %r' % (job['id'], key, got[key], d))
            if b and b'"' + r + b'"' not in raw:
                bad.append('job %d %s: raw text %r not in the output' % (job['id'], key, r))
    for key, b in (('op', texts[0][0]), ('target', texts[0][1])):
        r, _ = expect(b, 'prom')
        if b'%s="%s"' % (key.encode(), r) not in prom:
            bad.append('Prometheus label %s: %r not in the output' % (key, r))
    for b in bad[:10]:
        print(b)
    return not bad

if sys.argv[1] == 'specs':
    for op, target, phase, error in job_texts():
        print('state=failed,dur=5,op=%s,target=%s,phase=%s,error=%s' % (pct(op), pct(target), pct(phase), pct(error)))
else:
    sys.exit(0 if check(sys.argv[2], sys.argv[3]) else 1)
EOF
    SX=$T/strings
    mkdir -m 0755 "$SX"
    specs=()
    while IFS= read -r spec; do specs+=(--job "$spec"); done < <(python3 "$T/strings.py" specs)
    sx_pids=()
    for i in 1 2 3; do
        segment "$SX" --hold --slots 64 "${specs[@]}"
        sx_pids+=("$SUP")
    done
    rc=0; "$STAT" --rundir "$SX" --all --json >"$T/strings.json" || rc=$?
    rc2=0; "$STAT" --rundir "$SX" --all --prometheus >"$T/strings.prom" || rc2=$?
    check "strings: exit 0, $(wc -c <"$T/strings.json") bytes of JSON" test "$rc:$rc2" = 0:0
    check "strings: every byte and sequence parses back and is escaped as documented (python3)" \
        python3 "$T/strings.py" check "$T/strings.json" "$T/strings.prom"
    kill -TERM "${sx_pids[@]}"
else
    echo "skip: strings against an independent parser (python3 not installed)"
fi

# A failed write is reported once, in the operator's words.
rc=0; "$STAT" --rundir "$R" --all --json >/dev/full 2>"$T/full.err" || rc=$?
check "--json to a full device: exit 1, one line saying why" \
    test "$rc:$(cat "$T/full.err")" = "1:virtsup-stat: cannot write the output: No space left on device"
rc=0; "$STAT" --rundir "$R" --prometheus >/dev/full 2>"$T/full.err" || rc=$?
check "--prometheus to a full device: exit 1, one line saying why" \
    test "$rc:$(cat "$T/full.err")" = "1:virtsup-stat: cannot write the output: No space left on device"

# ---- Prometheus -------------------------------------------------------------------
rc=0; "$STAT" --rundir "$R" --prometheus >"$T/prom" || rc=$?
check "--prometheus: exit 0" test $rc = 0
name='[a-zA-Z_:][a-zA-Z0-9_:]*'
lv='"([^"\\]|\\[\\"n])*"'
sample="^$name(\\{[a-zA-Z_][a-zA-Z0-9_]*=$lv(,[a-zA-Z_][a-zA-Z0-9_]*=$lv)*\\})? -?[0-9]+(\\.[0-9]+)?\$"
comment="^# (HELP $name .+|TYPE $name (gauge|counter))\$"
bad=$(LC_ALL=C grep -Evc -e "$sample" -e "$comment" "$T/prom" || true)
check "--prometheus: every line well-formed" test "$bad" = 0
check "--prometheus: every metric has HELP and TYPE" \
    test "$(grep -c '^# HELP' "$T/prom")" = "$(grep -c '^# TYPE' "$T/prom")"
lbl="supervisor=\"$A\",job=\"1\",op=\"domain.save\",target=\"test\""
pm() { grep -qxF "$1" "$T/prom"; }
check "--prometheus: percent" pm "virtsup_job_percent{$lbl} 42"
check "--prometheus: state" pm "virtsup_job_state{$lbl,state=\"running\"} 1"
check "--prometheus: other states 0" pm "virtsup_job_state{$lbl,state=\"completed\"} 0"
check "--prometheus: remaining" pm "virtsup_job_remaining_seconds{$lbl} 5.000"
check "--prometheus: bytes" pm "virtsup_job_bytes_processed{$lbl} 100"
check "--prometheus: bytes total" pm "virtsup_job_bytes_total{$lbl} 1000"
check "--prometheus: rate" pm "virtsup_job_rate_bytes_per_second{$lbl} 67108864"
check "--prometheus: elapsed" grep -Eq "^virtsup_job_elapsed_seconds\\{$lbl\\} (9[0-9]|1[0-9][0-9])\\.[0-9]{3}\$" "$T/prom"
check "--prometheus: stale segment" pm "virtsup_segment_stale{supervisor=\"$S\"} 1"
check "--prometheus: live segment" pm "virtsup_segment_stale{supervisor=\"$A\"} 0"
check "--prometheus: counts of live jobs" pm 'virtsup_jobs{state="running"} 5'
check "--prometheus: count of queued jobs" pm 'virtsup_jobs{state="queued"} 1'
check "--prometheus: cancel requested" \
    pm "virtsup_job_cancel_requested{supervisor=\"$A\",job=\"3\",op=\"domain.core.dump\",target=\"vm3\"} 1"
check "--prometheus: count of inconsistent slots" pm 'virtsup_jobs{state="inconsistent"} 1'
fffd=$'\xef\xbf\xbd'
check "--prometheus: hostile label escaped, invalid and control bytes replaced" \
    pm "virtsup_job_percent{supervisor=\"$H\",job=\"1\",op=\"x\\\"y${fffd}]0;owned${fffd}\",target=\"a\\\"b\\\\c\\nd${fffd}e${fffd}f\"} 5"

# ---- corrupt and hostile files next to a good segment ------------------------------
C=$T/corrupt
mkdir -m 0755 "$C"
segment "$C" --hold --job op=domain.save,target=good,pct=50
G=$SUP
for kind in magic version nslots truncate short zero; do
    segment "$C" --hold --corrupt $kind --job target=bad
done
ln -s "$SEG_A" "$C/link.seg"
mkfifo "$C/fifo.seg"
: >"$C/not-a-segment.txt"
rc=0; timeout 60 "$STAT" --rundir "$C" >"$T/c.out" 2>"$T/c.err" || rc=$?
check "corrupt: exit 1" test $rc = 1
check "corrupt: the good segment is still listed" test "$(cell "$T/c.out" "$G" 1 4)" = good
check "corrupt: one line per bad file on stderr (8)" test "$(wc -l <"$T/c.err")" = 8
check "corrupt: every error line is 'virtsup-stat: <what>: <why>'" \
    test "$(grep -Evc '^virtsup-stat: cannot (open|read) segment /[^ ]+\.seg: [^:]+' "$T/c.err" || true)" = 0
for want in 'bad magic' 'unsupported ABI version 99' 'truncated' 'too small for a header' 'symbolic link' 'not a regular file'; do
    check "corrupt: reported: $want" grep -q "$want" "$T/c.err"
done
rc=0; "$STAT" --rundir "$C" --json >"$T/c.json" 2>/dev/null || rc=$?
check "corrupt: --json still valid, exit 1, errors listed" \
    test "$rc:$(jq '[.segments[] | select(.error != null)] | length' "$T/c.json")" = "1:8"

if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
    P=$T/perm
    mkdir -m 0755 "$P"
    segment "$P" --hold --job target=secret
    cp "$STAT" "$T/virtsup-stat" && chmod 0755 "$T" "$T/virtsup-stat"
    rc=0; setpriv --reuid=65534 --regid=65534 --clear-groups "$T/virtsup-stat" --rundir "$P" \
        >"$T/p.out" 2>"$T/p.err" || rc=$?
    check "unreadable segment: exit 1 and the operator's message" \
        test "$rc:$(cat "$T/p.err")" = "1:virtsup-stat: cannot open segment $SEG: Permission denied"
else
    echo "skip: unreadable segment (needs root and setpriv)"
fi

# A ring that wrapped: ids 6..9 in slots 6, 7, 0, 1 of 8, listed by id.
W=$T/wrap
mkdir -m 0755 "$W"
segment "$W" --hold --slots 8 --first-id 6 --job target=j6 --job target=j7 --job target=j8 --job target=j9
rc=0; "$STAT" --rundir "$W" --json >"$T/w.json" || rc=$?
check "wrapped ring: ids, slots and generations" \
    test "$rc:$(jq -c '[.segments[0].jobs[] | [.id, .slot, .generation, .target]]' "$T/w.json")" = \
    '0:[[6,6,0,"j6"],[7,7,0,"j7"],[8,0,1,"j8"],[9,1,1,"j9"]]'

# A big sparse ring with jobs far apart: all found, and reading it leaves
# the file sparse (on tmpfs a read fault on a hole would allocate the page).
SP=$T/sparse
if [ -d /dev/shm ] && [ -w /dev/shm ] && SP=$(mktemp -d /dev/shm/virtsup-stat-test.XXXXXX); then
    sparse_tmp=$SP
else
    SP=$T/sparse
    sparse_tmp=
fi
chmod 0755 "$SP"
segment "$SP" --hold --slots 65536 --first-id 40000 --job target=far1 --job target=far2
segment "$SP" --hold --slots 65536 --first-id 65535 --job target=last --job target=first
kb_before=$(du -sk "$SP" | cut -f1)
rc=0; "$STAT" --rundir "$SP" --json >"$T/sp.json" || rc=$?
kb_after=$(du -sk "$SP" | cut -f1)
check "sparse ring: every job found" \
    test "$rc:$(jq -c '[.segments[].jobs[] | [.slot, .target]] | sort' "$T/sp.json")" = \
    '0:[[0,"first"],[40000,"far1"],[40001,"far2"],[65535,"last"]]'
check "sparse ring: reading does not fill the holes (${kb_before} KiB before, ${kb_after} KiB after)" \
    test "$kb_after" -lt $((kb_before + 1024))

# A segment whose end is cut off and given back while it is being read:
# whatever moment the reader meets it, it reports the segment (SIGBUS
# included) and never dies. How often SIGBUS is met is up to the scheduler;
# the runs stop early once it was met.
F=$T/flap
mkdir -m 0755 "$F"
segment "$F" --hold --flap --slots 4096 --job target=flapping
flap_bad=0 flap_bus=0 runs=0
while [ $runs -lt 300 ] && { [ $runs -lt 30 ] || [ $flap_bus = 0 ]; }; do
    runs=$((runs + 1))
    rc=0; "$STAT" --rundir "$F" --all --json >"$T/f.out" 2>"$T/f.err" || rc=$?
    if [ $rc -gt 1 ] || ! jq -e . "$T/f.out" >/dev/null ||
       grep -Evq '^virtsup-stat: cannot read segment [^ ]+: (truncated|a page of it could not be read)' "$T/f.err"; then
        flap_bad=$((flap_bad + 1))
        echo "run $runs: exit $rc"; cat "$T/f.err"
    fi
    if grep -q 'could not be read' "$T/f.err"; then flap_bus=$((flap_bus + 1)); fi
done
check "segment shrinking while read: reported, never a crash (SIGBUS met in $flap_bus of $runs runs)" \
    test $flap_bad = 0
kill -TERM "$SUP"

# ---- --gc ----------------------------------------------------------------------
GC=$T/gc
mkdir -m 0755 "$GC"
segment "$GC" --hold --job target=live
L=$SEG
segment "$GC" --job target=gone
S1=$SEG
segment "$GC" --corrupt magic --job target=gone
S2=$SEG
: >"$GC/notes.txt"
rc=0; "$STAT" --rundir "$GC" --gc >"$T/gc.out" 2>"$T/gc.err" || rc=$?
check "--gc: exit 0" test "$rc:$(cat "$T/gc.err")" = "0:"
check "--gc: removed the stale segment" test ! -e "$S1"
check "--gc: removed the unreadable stale segment" test ! -e "$S2"
check "--gc: said what it removed" test "$(grep -c '^removed .*stale segment' "$T/gc.out")" = 2
check "--gc: kept the live segment and other files" test -e "$L" -a -e "$GC/notes.txt"
cp "$SEG_A" "$T/outside.seg"
segment "$T" --job target=outside-stale
ln -s "$SEG" "$GC/link.seg"
mkfifo "$GC/fifo.seg"
rc=0; timeout 60 "$STAT" --rundir "$GC" --gc >"$T/gc.out" 2>"$T/gc.err" || rc=$?
check "--gc: symlink and FIFO reported, exit 1" test "$rc:$(wc -l <"$T/gc.err")" = "1:2"
check "--gc: never follows a symlink" test -e "$SEG" -a -L "$GC/link.seg" -a -p "$GC/fifo.seg" -a -e "$L"
check "--gc: nothing more to remove" grep -qx 'no stale segments' "$T/gc.out"

# ---- --watch -------------------------------------------------------------------------
for sig in INT TERM; do
    true | "$STAT" --rundir "$R" --watch=0.2 >"$T/w.out" 2>"$T/w.err" &
    wp=$!
    redraws() { [ "$(grep -c "^virtsup-stat $VERSION " "$T/w.out")" -ge 3 ]; }
    check "--watch=0.2: redraws (SIG$sig)" wait_until redraws
    kill -$sig $wp
    rc=0; wait $wp || rc=$?
    check "--watch: exits 0 on SIG$sig" test "$rc:$(cat "$T/w.err")" = "0:"
done
check "--watch: no escape sequences when stdout is not a terminal" test "$(grep -c $'\e' "$T/w.out" || true)" = 0
check "--watch: the table under the header" grep -Eq '^SUPERVISOR +JOB' "$T/w.out"
if command -v script >/dev/null; then
    rc=0
    out=$(printf q | timeout 60 script -qec "'$STAT' --rundir '$R' --watch=0.2; echo rc=\$?; stty -a" /dev/null) || rc=$?
    check "--watch on a terminal: quits on q" grep -q 'rc=0' <<<"$out"
    check "--watch on a terminal: clears the screen" grep -q $'\e\[H\e\[2J' <<<"$out"
    check "--watch on a terminal: terminal restored" grep -Eq '(^| )icanon .*(^| )echo( |$)' <<<"$(tr -d '\r' <<<"$out")"
    # Killed while the terminal is in non-canonical mode: it is restored.
    cat >"$T/tty-term.sh" <<'EOS'
"$1" --rundir "$2" --watch=0.2 </dev/tty >/dev/null &
p=$!
end=$((SECONDS + 60))
until stty -a </dev/tty | grep -q -- '-icanon'; do
    [ $SECONDS -lt $end ] || exit 3
    sleep 0.05
done
kill -TERM $p
rc=0; wait $p || rc=$?
echo "rc=$rc"
stty -a </dev/tty
EOS
    rc=0
    out=$(timeout 60 script -qec "bash '$T/tty-term.sh' '$STAT' '$R'" /dev/null | tr -d '\r') || rc=$?
    check "--watch on a terminal: exits 0 on SIGTERM" grep -qx 'rc=0' <<<"$out"
    check "--watch on a terminal: terminal restored after SIGTERM" grep -Eq '(^| )icanon( |$)' <<<"$out"
fi

# ---- a real supervisor: the save-watch example saving a domain ---------------------
SW=$B/examples/save-watch
WORKER=${VIRTSUP_WORKER:-$B/virtsup-worker}
if [ -x "$SW" ] && [ -x "$WORKER" ]; then
    RR=$T/real
    mkdir -m 0700 "$RR"
    VIRTSUP_RUNDIR=$RR VIRTSUP_WORKER=$WORKER "$SW" "test:///default?bandwidth=64" "$T/real.img" \
        >"$T/real.out" 2>&1 &
    swpid=$!
    running() {
        "$STAT" --rundir "$RR" --json 2>/dev/null >"$T/real.json" &&
            jq -e '[.segments[].jobs[] | select(.state == "running" and .worker_pid != null)] | length > 0' \
                "$T/real.json" >/dev/null
    }
    check "real supervisor: a running job shows up" wait_until running
    check "real supervisor: the segment is the example's, live" \
        jq -e --argjson p "$swpid" '.segments | length == 1 and .[0].supervisor_pid == $p and .[0].stale == false' "$T/real.json" >/dev/null
    wpid=$(jq '[.segments[].jobs[] | select(.state == "running")][0].worker_pid' "$T/real.json")
    check "real supervisor: its worker pid is a live process" kill -0 "$wpid"
    rc=0; wait $swpid || rc=$?
    swpid=
    check "real supervisor: the example ran to its end" test $rc = 0
    rc=0; out=$("$STAT" --rundir "$RR") || rc=$?
    check "real supervisor: segment gone after a clean shutdown" test "$rc:$out" = "0:no supervisors"
else
    echo "skip: real supervisor (needs $SW and $WORKER)"
fi

# ---- a step of the wall clock -------------------------------------------------------------
# Jobs whose wall-clock stamps say an hour more than their monotonic ones
# (the clock stepped forward while they ran): the elapsed time is the
# monotonic one. A record without monotonic stamps (a writer before them)
# falls back to the wall clock.
RC=$T/clock
mkdir -m 0755 "$RC"
segment "$RC" --hold \
    --job op=domain.save,target=stepped,age=60000,step=3600000 \
    --job state=completed,op=domain.save,target=steppedend,dur=75000,age=80000,step=3600000 \
    --job op=domain.save,target=old,age=90000,nomono=1
C_SUP=$SUP
rc=0; "$STAT" --rundir "$RC" --all --json >"$T/clock.json" || rc=$?
check "clock step: exit 0" test $rc = 0
jobC() { jq -e --argjson s "$C_SUP" --argjson id "$1" ".segments[] | select(.supervisor_pid == \$s) | .jobs[] | select(.id == \$id) | $2" "$T/clock.json" >/dev/null; }
check "clock step: a running job's elapsed is its monotonic time (60 s, not an hour more)" \
    jobC 1 '.elapsed_ms >= 60000 and .elapsed_ms < 600000'
check "clock step: an ended job's elapsed is its monotonic duration" jobC 2 '.elapsed_ms == 75000'
check "clock step: a record without monotonic stamps falls back to the wall clock" \
    jobC 3 '.elapsed_ms >= 90000 and .elapsed_ms < 600000'
rc=0; "$STAT" --rundir "$RC" >"$T/clock.table" || rc=$?
el=$(cell "$T/clock.table" "$C_SUP" 1 7)
check "clock step: the table's elapsed too (1:00 or a little more, got $el)" \
    grep -Eq '^(1:[0-5][0-9]|[2-9]:[0-9][0-9])$' <<<"$el"
kill -TERM "$C_SUP"
wait_until test ! -e "$SEG"

# ---- options and exit codes --------------------------------------------------------------
rc=0; out=$("$STAT" --help) || rc=$?
check "--help: exit 0, usage" test "$rc:${out%%$'\n'*}" = "0:Usage: virtsup-stat [OPTION]..."
rc=0; out=$("$STAT" --version) || rc=$?
check "--version: prints the version" test "$rc:$out" = "0:virtsup-stat $VERSION"
for args in "--bogus" "--watch=abc" "--watch=0" "--json --prometheus" "--gc --json" "--watch --json" "extra" "--rundir"; do
    rc=0; "$STAT" $args >/dev/null 2>"$T/u.err" || rc=$?
    check "usage error '$args': exit 2 with a message" test "$rc" = 2 -a -s "$T/u.err"
done

# ---- valgrind --------------------------------------------------------------------------------
# A sanitizer build cannot run under valgrind.
if readelf -d "$STAT" 2>/dev/null | grep -Eq 'NEEDED.*lib(asan|tsan|ubsan|lsan)'; then
    echo "skip: valgrind (sanitizer build)"
elif command -v valgrind >/dev/null; then
    for args in "--all" "--all --json" "--prometheus"; do
        rc=0
        valgrind -q --vgdb=no --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \
            "$STAT" --rundir "$C" $args >/dev/null 2>"$T/vg.err" || rc=$?
        check "valgrind: clean on good and corrupt segments ($args)" test "$rc" = 1
    done
else
    echo "skip: valgrind not installed"
fi

echo
if [ $failures -gt 0 ]; then
    echo "$failures check(s) failed"
    exit 1
fi
echo "all checks passed"
