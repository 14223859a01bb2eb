# shim_lib.sh - helpers for the recorder's end-to-end tests (sourced after
# lib.sh).  BUILD, ROOT and TMP are set by run.sh; the cwd is $TMP.

SHIM="$BUILD/librcprof.so"
PROGS="$BUILD/progs"
RCPDUMP="python3 $ROOT/tests/e2e/rcpdump.py"

[ -x "$PROGS/exits" ] || skip "victim programs not built (make progs)"

# same_run NAME CMD...: run CMD without and with the shim (dumps named
# NAME.%p.bin in the cwd); fail unless stdout, stderr and the exit status
# (128+N for a fatal signal N) are identical.  Leaves $NAME.plain.* and
# $NAME.prof.* behind.
same_run() {
	name=$1; shift
	"$@" > "$name.plain.out" 2> "$name.plain.err" < /dev/null
	plain_rc=$?
	RCPROF_OUT="$name.%p.bin" LD_PRELOAD="$SHIM" "$@" \
		> "$name.prof.out" 2> "$name.prof.err" < /dev/null
	prof_rc=$?
	[ "$plain_rc" = "$prof_rc" ] ||
		fail "$name: exit status $prof_rc under the shim, $plain_rc without"
	cmp -s "$name.plain.out" "$name.prof.out" ||
		{ diff "$name.plain.out" "$name.prof.out" | head; fail "$name: stdout differs"; }
	cmp -s "$name.plain.err" "$name.prof.err" ||
		{ diff "$name.plain.err" "$name.prof.err" | head; fail "$name: stderr differs"; }
	return 0
}

# check_dump DUMP: mode 0600, no ring left, readable by rcprof-report (not
# truncated), and the writer-side invariants: no seq gaps, no undecodable
# chunk, every END count <= what was decoded, no LOST events.
check_dump() {
	d=$1
	[ -f "$d" ] || fail "no dump $d"
	[ "$(stat -c %a "$d")" = 600 ] || fail "$d: mode is not 0600"
	[ ! -e "$d.ring" ] || fail "$d: ring file left behind"
	if [ -x "$BUILD/rcprof-report" ]; then
		report_json "$d" "$d.json" -q
		expect_eq "$d truncated" "$(json_get "$d.json" summary.truncated)" false
	fi
	$RCPDUMP --json "$d" > "$d.w.json" || fail "$d: rcpdump cannot read it"
	python3 - "$d.w.json" <<'PY' || fail "$d: writer invariants"
import json, sys
d = json.load(open(sys.argv[1]))
bad = []
if d["gaps"]: bad.append("seq gaps in %d streams" % d["gaps"])
if d["problems"]: bad.append("undecodable: %s" % d["problems"][:3])
if d["counts"].get("LOST"): bad.append("LOST events")
if not d["ends"]: bad.append("no END record")
for e in d["ends"]:
    for k, v in e["counts"].items():
        if d["counts"].get(k, 0) < v:
            bad.append("%s: END says %d, decoded %d" % (k, v, d["counts"].get(k, 0)))
if bad:
    print("\n".join(bad)); sys.exit(1)
PY
}

# expect_clean DUMP WHAT: after check_dump, the report of DUMP has no
# error, cycle, garbage, leaked block or unreleased object (WHAT names the
# run in the failure, which shows the report's findings).
expect_clean() {
	for k in errors cycles garbage_objects leaked_blocks unreleased_objects; do
		v=$(json_get "$1.json" "summary.$k")
		[ "$v" = 0 ] || {
			"$BUILD/rcprof-report" "$1" | sed -n '/^== /,$p' | head -n 12
			fail "$2: summary.$k = $v, expected 0"
		}
	done
}

# wfield DUMP EXPR: evaluate a Python expression over the rcpdump summary
# `d` (e.g. 'd["ends"][0]["how"]').
wfield() {
	$RCPDUMP --json "$1" | python3 -c 'import json,sys; d=json.load(sys.stdin); print('"$2"')'
}

# prog_dump NAME PROG: the single dump NAME.*.bin of the program PROG
# (its exe's last name), not forked from another - the process the test
# started, not the children and commands it ran (fails if not exactly
# one).
prog_dump() {
	pd=
	for f in "$1".*.bin; do
		[ -f "$f" ] || continue
		[ "$(wfield "$f" 'd["parent"] is None and d["process"]["exe"].split("/")[-1]')" = "$2" ] ||
			continue
		[ -z "$pd" ] || fail "two dumps of $2: $pd $f"
		pd=$f
	done
	[ -n "$pd" ] || fail "no dump $1.*.bin of $2"
	echo "$pd"
}

# one_dump NAME: the single dump NAME.*.bin (fails if not exactly one).
one_dump() {
	set -- "$1".*.bin
	[ $# -eq 1 ] && [ -f "$1" ] || fail "expected exactly one dump, got: $*"
	echo "$1"
}
