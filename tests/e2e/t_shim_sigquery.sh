# The recorder's fatal-signal handler is invisible: sigaction(), signal(),
# sysv_signal() and sigset() report what they report without the shim, a handler the program
# installs and removes reads back the same, and a crash after the program
# put SIG_DFL back (as a crash handler does before re-raising) is still
# recorded.  Python's view of SIGSEGV and faulthandler likewise.
. "$ROOT/tests/e2e/lib.sh"
. "$ROOT/tests/e2e/shim_lib.sh"

[ -x "$PROGS/sigquery" ] || skip "sigquery not built (make progs)"

# end_of DUMP: "how status fatal_signal signal_events" from the report.
end_of() {
	report_json "$1" "$1.json" -q
	python3 - "$1.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
p = d["process"]
e = p["end"] or {}
print(e.get("how"), e.get("status"), p["fatal_signal"], d["event_counts"]["signal"])
PY
}

same_run sq "$PROGS/sigquery"
grep -q '^done$' sq.plain.out || fail "sigquery did not run to the end"
d=$(prog_dump sq sigquery)   # system() adds sh and sleep
check_dump "$d"
expect_eq "sigquery END" "$(end_of "$d")" "exit 0 0 0"

same_run sqc "$PROGS/sigquery" crash
expect_eq "sigquery crash status" "$plain_rc" $((128 + 11))
grep -q '^crashing$' sqc.plain.out || fail "sigquery crash did not get to the crash"
d=$(prog_dump sqc sigquery)
check_dump "$d"
expect_eq "sigquery crash END" "$(end_of "$d")" "signal 11 11 1"

# The same with SIG_DFL put back by System V's sysv_signal.
same_run sqv "$PROGS/sigquery" crash-sysv
expect_eq "sigquery crash-sysv status" "$plain_rc" $((128 + 11))
d=$(prog_dump sqv sigquery)
check_dump "$d"
expect_eq "sigquery crash-sysv END" "$(end_of "$d")" "signal 11 11 1"

py=/usr/bin/python3
[ -x "$py" ] || py=$(command -v python3) || py=
if [ -n "$py" ]; then
	same_run pyq "$py" -c 'import signal, faulthandler
print(signal.getsignal(signal.SIGSEGV))
print(signal.getsignal(signal.SIGABRT))
faulthandler.enable()
print("ok")'
	grep -q '^ok$' pyq.plain.out || fail "python: no ok"
	check_dump "$(one_dump pyq)"

	# faulthandler restores the action it found (SIG_DFL) and re-raises:
	# the crash is in the dump.  Not same_run: the traceback names the
	# thread by its address, which ASLR changes.
	crash='import faulthandler; faulthandler.enable(); print("crashing", flush=True); faulthandler._sigsegv()'
	"$py" -c "$crash" > pyc.plain.out 2> pyc.plain.err < /dev/null
	plain_rc=$?
	RCPROF_OUT="pyc.%p.bin" LD_PRELOAD="$SHIM" "$py" -c "$crash" \
		> pyc.prof.out 2> pyc.prof.err < /dev/null
	prof_rc=$?
	expect_eq "python crash status" "$plain_rc" $((128 + 11))
	expect_eq "python crash status under the shim" "$prof_rc" "$plain_rc"
	cmp -s pyc.plain.out pyc.prof.out || fail "python crash: stdout differs"
	grep -q 'Fatal Python error: Segmentation fault' pyc.prof.err ||
		fail "python crash: faulthandler did not report under the shim"
	d=$(one_dump pyc)
	check_dump "$d"
	expect_eq "python crash END" "$(end_of "$d" | cut -d' ' -f1-3)" "signal 11 11"
fi
exit 0
