# A double free and a free of a pointer never allocated, both caught by
# glibc (the program dies by SIGABRT, with or without the shim), and a
# release of a freed refcounted object: the report names them, and with
# RCPROF_FREE_STACKS=1 it shows where the bad call and the earlier free
# were made.  A block freed by realloc names that realloc either way.  Without it, frees carry no backtrace and
# the text report says how to get them.
. "$ROOT/tests/e2e/lib.sh"
. "$ROOT/tests/e2e/shim_lib.sh"

[ -x "$PROGS/misuse" ] || skip "misuse not built (make progs)"

# errors_of JSON: "kind at_function earlier_function" per error.
errors_of() {
	python3 - "$1" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
def top(w):
    s = (w or {}).get("stack") or []
    return s[0]["function"] if s else "-"
for e in d["errors"]:
    print(e["kind"], top(e.get("at")), top(e.get("earlier")))
PY
}

# misuse_case NAME MODE STATUS ERRORS: run misuse MODE with and without
# the shim (same output and status, STATUS expected), check its dump, and
# compare errors_of its JSON report with ERRORS.  Leaves d, the dump.
misuse_case() {
	same_run "$1" "$PROGS/misuse" "$2"
	expect_eq "$1: status" "$plain_rc" "$3"
	d=$(one_dump "$1")
	check_dump "$d"
	report_json "$d" "$1.json" -q
	expect_eq "$1: errors" "$(errors_of "$1.json")" "$4"
}

export RCPROF_FREE_STACKS=1
misuse_case dbl double $((128 + 6)) "double_free release_again release_once"
misuse_case inv invalid $((128 + 6)) "invalid_free free_inner -"
# A refcounted object released after its last release freed it: the
# earlier free is that last release.
misuse_case rc rc 0 "release_freed drop_again drop_last"
unset RCPROF_FREE_STACKS

# A block freed by a realloc that moved it, then freed again: the earlier
# free is that realloc, named by its own backtrace - there with or
# without the variable (an allocation always has one).
misuse_case rea realloc $((128 + 6)) "double_free - grow"
export RCPROF_FREE_STACKS=1
misuse_case rea2 realloc $((128 + 6)) "double_free release_again grow"
unset RCPROF_FREE_STACKS

# Without the variable: the same error, no backtraces, and the hint.
misuse_case plain double $((128 + 6)) "double_free - -"
"$BUILD/rcprof-report" -q "$d" > plain.txt
grep -q 'RCPROF_FREE_STACKS=1' plain.txt || fail "no hint about RCPROF_FREE_STACKS"

# rcprof run --free-stacks sets the variable for the program.
"$BUILD/rcprof" run --out wr --free-stacks --format json --output wr.json \
	-- "$PROGS/misuse" double > wr.out 2> wr.err
expect_eq "rcprof run status" "$?" $((128 + 6))
expect_eq "rcprof run --free-stacks" "$(errors_of wr.json)" \
	"double_free release_again release_once"
exit 0
