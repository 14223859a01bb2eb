# Processes ended by a signal whose default action is to terminate them
# (SIGTERM, SIGINT, SIGHUP, SIGUSR1, SIGPIPE, SIGALRM), and by exit()
# while their threads still allocate: the exit status is the same as
# without the shim, the dump is complete (END names the signal, no ring
# file left, not truncated) and a program's own handler still runs.
. "$ROOT/tests/e2e/lib.sh"
. "$ROOT/tests/e2e/shim_lib.sh"

K="$PROGS/killed"
[ -x "$K" ] || skip "killed not built (make progs)"

# end_of DUMP: "how status signal_events" from the report.
end_of() {
	report_json "$1" "$1.json" -q
	python3 - "$1.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
e = d["process"]["end"] or {}
print(e.get("how"), e.get("status"), d["event_counts"]["signal"])
PY
}

# killed_run NAME SIG [SHIM]: start `killed wait` (its SIGINT and SIGQUIT
# at their defaults, which a shell withholds from background commands),
# wait for "ready", send SIG; prints the exit status.
killed_run() {
	name=$1 sig=$2
	if [ -n "${3:-}" ]; then
		env --default-signal=INT,QUIT RCPROF_OUT="$name.%p.bin" \
			LD_PRELOAD="$SHIM" ${KENV:-} "$K" wait > "$name.out" 2> "$name.err" &
	else
		env --default-signal=INT,QUIT "$K" wait > "$name.out" 2> "$name.err" &
	fi
	pid=$!
	i=0
	until grep -q ready "$name.out" 2>/dev/null; do
		i=$((i + 1))
		[ $i -lt 300 ] || { kill -9 $pid; fail "$name: never ready"; }
		sleep 0.05
	done
	sleep 0.2               # the threads are allocating
	kill -s "$sig" $pid
	wait $pid
	echo $?
}

env --default-signal=INT true 2>/dev/null || skip "env has no --default-signal"

for sn in TERM:15 INT:2 HUP:1 USR1:10; do
	sig=${sn%:*} n=${sn#*:}
	plain=$(killed_run "k$sig.plain" "$sig" 2>/dev/null)
	prof=$(killed_run "k$sig" "$sig" shim 2>/dev/null)
	expect_eq "SIG$sig status" "$plain" $((128 + n))
	expect_eq "SIG$sig status under the shim" "$prof" "$plain"
	cmp -s "k$sig.plain.out" "k$sig.out" || fail "SIG$sig: stdout differs"
	cmp -s "k$sig.plain.err" "k$sig.err" || fail "SIG$sig: stderr differs"
	d=$(one_dump "k$sig")
	check_dump "$d"
	expect_eq "SIG$sig END" "$(end_of "$d")" "signal $n 1"
	"$BUILD/rcprof-report" "$d" > "$d.txt" 2> "$d.txt.err"
	grep -q "ended by signal $n (SIG$sig)" "$d.txt" ||
		fail "SIG$sig: report does not name the signal: $(sed -n 2p "$d.txt")"
	[ ! -s "$d.txt.err" ] || fail "SIG$sig: report warned: $(head -n 2 "$d.txt.err")"
done

# RCPROF_SIGNALS=faults leaves the terminations alone: SIGTERM kills the
# process outright, the ring file holds what was not drained.
st=$(KENV=RCPROF_SIGNALS=faults killed_run kf TERM shim 2>/dev/null)
expect_eq "RCPROF_SIGNALS=faults status" "$st" 143
d=$(one_dump kf)
[ -e "$d.ring" ] || fail "RCPROF_SIGNALS=faults: SIGTERM was handled"
report_json "$d" "$d.json" -q
expect_eq "RCPROF_SIGNALS=faults END" "$(json_get "$d.json" process.end)" null
# =none: not even a fault; a bad value is named and ignored.
RCPROF_SIGNALS=none RCPROF_OUT="sn.%p.bin" LD_PRELOAD="$SHIM" \
	"$PROGS/sigquery" crash > /dev/null 2>&1
expect_eq "RCPROF_SIGNALS=none status" $? 139
d=$(prog_dump sn sigquery)    # sigquery runs system()
[ -e "$d.ring" ] || fail "RCPROF_SIGNALS=none: SIGSEGV was handled"
RCPROF_SIGNALS=some RCPROF_OUT="sb.%p.bin" LD_PRELOAD="$SHIM" "$K" handled \
	> /dev/null 2> sb.err
grep -q '^rcprof: ignoring RCPROF_SIGNALS=some (all, faults or none)$' sb.err ||
	fail "RCPROF_SIGNALS=some: $(cat sb.err)"

# The writer of a pipeline whose reader has gone: SIGPIPE.
( RCPROF_OUT="lines.%p.bin" LD_PRELOAD="$SHIM" "$K" lines; echo $? > lines.prof.rc ) |
	head -n 3 > lines.prof.out
( "$K" lines; echo $? > lines.plain.rc ) | head -n 3 > lines.plain.out
expect_eq "SIGPIPE status" "$(cat lines.plain.rc)" 141
expect_eq "SIGPIPE status under the shim" "$(cat lines.prof.rc)" 141
cmp -s lines.plain.out lines.prof.out || fail "SIGPIPE: stdout differs"
d=$(one_dump lines)
check_dump "$d"
expect_eq "SIGPIPE END" "$(end_of "$d")" "signal 13 1"

# SIGALRM from alarm(), delivered while this thread allocates.
same_run al "$K" alarm
expect_eq "SIGALRM status" "$plain_rc" 142
d=$(one_dump al)
check_dump "$d"
expect_eq "SIGALRM END" "$(end_of "$d")" "signal 14 1"

# The program's own handler: it sees SIG_DFL before, and its handler runs.
same_run hd "$K" handled
expect_eq "handled status" "$plain_rc" 3
grep -q '^old handler DFL$' hd.prof.out || fail "handled: the program saw another handler"
d=$(one_dump hd)
check_dump "$d"
expect_eq "handled END" "$(end_of "$d")" "_exit 3 0"

# exit() while two threads allocate: a drain they are in the middle of
# when the process ends is cut short after END; the dump is still
# complete.  Six runs, since the cut is a race.
i=1
while [ $i -le 6 ]; do
	same_run "ex$i" "$K" exit
	expect_eq "exit run $i status" "$plain_rc" 0
	d=$(one_dump "ex$i")
	check_dump "$d"
	expect_eq "exit run $i: the report's warnings" \
		"$(json_get "$d.json" warnings_total)" 0
	i=$((i + 1))
done

# A real program: python3 killed by SIGTERM.
py=/usr/bin/python3
[ -x "$py" ] || py=$(command -v python3) || py=
if [ -n "$py" ]; then
	same_run py "$py" -c 'import os, signal
keep = [bytearray(100) for _ in range(1000)]
print("terminating", flush=True)
os.kill(os.getpid(), signal.SIGTERM)'
	expect_eq "python SIGTERM status" "$plain_rc" 143
	d=$(one_dump py)
	check_dump "$d"
	expect_eq "python SIGTERM END" "$(end_of "$d" | cut -d' ' -f1-2)" "signal 15"
fi
exit 0
