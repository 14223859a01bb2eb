# A thread the shim did not see created: glibc's helper thread of a
# SIGEV_THREAD timer (tests/progs/helper.c).  It waits for the timer's
# signal with every signal blocked and calls malloc; inside our hook,
# libunwind's sigprocmask calls used to unblock that signal, and its
# default action killed the program.  The main thread runs alone first,
# then beside the expiry threads (each claims the counted stamps, or the
# process is clocked once the claims come close together): the report
# must be clean, and the shared objects released on both sides in order.
. "$ROOT/tests/e2e/lib.sh"
. "$ROOT/tests/e2e/shim_lib.sh"

i=1
while [ $i -le 3 ]; do
	same_run "hp$i" "$PROGS/helper" 64
	grep -qx 'helper: rounds=64' "hp$i.prof.out" ||
		fail "run $i: $(cat "hp$i.prof.out" "hp$i.prof.err")"
	d=$(one_dump "hp$i")
	check_dump "$d"
	expect_eq "run $i helper threads seen" \
		"$(wfield "$d" 'd["counts"]["THREAD"] >= 3')" True
	if [ -x "$BUILD/rcprof-report" ]; then
		for k in errors unreleased_objects cycles; do
			expect_eq "run $i summary.$k" \
				"$(json_get "$d.json" "summary.$k")" 0
		done
		# the only block allowed to leak: glibc's note for an expiry
		# still in flight at exit, made by its timer helper thread
		# (allocated in libc itself)
		python3 - "$d.json" <<'PY' || fail "run $i: a leak of the program's own"
import json, sys
d = json.load(open(sys.argv[1]))
own = [l for l in d["leaks"]
       if not l["alloc_stack"] or
       not l["alloc_stack"][0]["module"].endswith("/libc.so.6")]
sys.exit(1 if own else 0)
PY
	fi
	i=$((i + 1))
done
exit 0
