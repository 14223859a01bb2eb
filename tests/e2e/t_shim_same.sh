# The shim never changes what a program does: same stdout, stderr, exit
# status and fatal signal; each run leaves one complete 0600 dump whose END
# record tells how the process ended.
. "$ROOT/tests/e2e/lib.sh"
. "$ROOT/tests/e2e/shim_lib.sh"

# mode  expected END how  expected END status
while read -r mode how status; do
	same_run "ex_$mode" "$PROGS/exits" "$mode"
	d=$(one_dump "ex_$mode")
	check_dump "$d"
	expect_eq "$mode END" "$(wfield "$d" '(d["ends"][0]["how"], d["ends"][0]["status"])')" "($how, $status)"
done <<'MODES'
return7 1 7
exit9 1 9
thread_exit 1 6
_exit 2 11
_Exit 2 12
abort 3 6
segv 3 11
atexit 1 0
quick 1 13
sys_exit_group 2 14
MODES

# The atexit handler's allocations are in the dump (it runs before the
# final drain) - and a late leak is reported.
expect_eq "atexit events" "$(wfield "$(one_dump ex_atexit)" 'd["counts"].get("RC_NEW_BLOCK")')" 2

# unit_steps DUMP: the percentage of events stamped exactly 1 ns after the
# previous event of their stream.  While one thread at a time records,
# stamps are counted (README, "Counted stamps"); threads that record at
# once are stamped from the clock, whose steps between events are tens of
# ns.  Whether the short-lived threads below overlap depends on the
# machine, so only t_shim_turns.sh checks which mode a threaded run got.
unit_steps() {
	$RCPDUMP --events "$1" | awk '
		{ if ($2 in p) { n++; if ($1 - p[$2] == 1) one++ } p[$2] = $1 }
		END { print n ? int(100 * one / n) : -1 }'
}

same_run threads "$PROGS/threads" 4 3000
d=$(one_dump threads)
check_dump "$d"
# 4 threads x 3000 rc_new, each realloc'd block: exact counts.
expect_eq "threads RC_NEW_BLOCK" "$(wfield "$d" 'd["counts"]["RC_NEW_BLOCK"]')" 12000
expect_eq "threads REALLOC_TO" "$(wfield "$d" 'd["counts"]["REALLOC_TO"]')" 12000
expect_eq "threads THREAD" "$(wfield "$d" 'd["counts"]["THREAD"]')" 5
if [ -x "$BUILD/rcprof-report" ]; then
	expect_eq "threads rc_objects" "$(json_get "$d.json" summary.rc_objects)" 12000
	expect_eq "threads errors" "$(json_get "$d.json" summary.errors)" 0
	expect_eq "threads events" "$(json_get "$d.json" summary.events)" \
		"$(wfield "$d" 'd["events"]')"
fi

same_run sig "$PROGS/sigalloc"
grep -qx 'masked: blocked=1 delivered=0' sig.prof.out &&
	grep -qx 'unmasked: was blocked=1 delivered=1' sig.prof.out ||
	fail "sigalloc: the program's sigprocmask: $(head -n 2 sig.prof.out)"
d=$(one_dump sig)
check_dump "$d"
[ -x "$BUILD/rcprof-report" ] &&
	expect_eq "sigalloc errors" "$(json_get "$d.json" summary.errors)" 0
# one thread and its signal handler's stream: counted stamps
steps=$(unit_steps "$d")
[ "$steps" -ge 90 ] ||
	fail "sigalloc: only $steps % of the events 1 ns apart, not counted"

same_run dl "$PROGS/dl"
d=$(one_dump dl)
check_dump "$d"
$RCPDUMP --events "$d" | grep -q 'MODULE_UNMAP' || fail "dlclose: no MODULE_UNMAP"
$RCPDUMP --events "$d" | grep -q 'STRING .*libm\.so' || fail "dlopen: libm not reported"
exit 0
