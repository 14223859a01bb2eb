# A double free and a free of a pointer never allocated, both caught by
# glibc (the program dies by SIGABRT, with or without the shim), and a
# release of a freed refcounted object: the report names them, and with
# RCPROF_FREE_STACKS=1 it shows where the bad call and the earlier free
# were made.  Without it, frees carry no backtrace and
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

export RCPROF_FREE_STACKS=1
same_run dbl "$PROGS/misuse" double
expect_eq "double free status" "$plain_rc" $((128 + 6))
d=$(one_dump dbl)
check_dump "$d"
report_json "$d" dbl.json -q
expect_eq "double free" "$(errors_of dbl.json)" "double_free release_again release_once"

same_run inv "$PROGS/misuse" invalid
expect_eq "invalid free status" "$plain_rc" $((128 + 6))
d=$(one_dump inv)
check_dump "$d"
report_json "$d" inv.json -q
expect_eq "invalid free" "$(errors_of inv.json)" "invalid_free free_inner -"

# A refcounted object released after its last release freed it: the
# earlier free is that last release.
same_run rc "$PROGS/misuse" rc
d=$(one_dump rc)
check_dump "$d"
report_json "$d" rc.json -q
expect_eq "release of a freed object" "$(errors_of rc.json)" \
	"release_freed drop_again drop_last"
unset RCPROF_FREE_STACKS

# Without the variable: the same error, no backtraces, and the hint.
same_run plain "$PROGS/misuse" double
d=$(one_dump plain)
check_dump "$d"
report_json "$d" plain.json -q
expect_eq "double free without stacks" "$(errors_of plain.json)" "double_free - -"
"$BUILD/rcprof-report" -q "$d" > plain.txt
grep -q 'RCPROF_FREE_STACKS=1' plain.txt || fail "no hint about RCPROF_FREE_STACKS"

# rcprof run --free-stacks sets the variable for the program.
"$BUILD/rcprof" run --out wr --free-stacks --format json --output wr.json \
	-- "$PROGS/misuse" double > wr.out 2> wr.err
expect_eq "rcprof run status" "$?" $((128 + 6))
expect_eq "rcprof run --free-stacks" "$(errors_of wr.json)" \
	"double_free release_again release_once"
exit 0
