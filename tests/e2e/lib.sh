# lib.sh - helpers for the end-to-end scripts (sourced).
# BUILD, ROOT and TMP are set by run.sh.

fail() { echo "FAIL: $*"; exit 1; }
skip() { echo "$*"; exit 77; }

# json_get FILE PATH: print the value at a dotted path (a.b.0.c) of a JSON
# file; booleans print as true/false.
json_get() {
	python3 - "$1" "$2" <<'PY'
import json, sys
v = json.load(open(sys.argv[1]))
for k in sys.argv[2].split('.'):
    v = v[int(k)] if isinstance(v, list) else v[k]
print(json.dumps(v) if isinstance(v, (bool, dict, list)) or v is None else v)
PY
}

expect_eq() { # what actual expected
	[ "$2" = "$3" ] || fail "$1: got '$2', expected '$3'"
}

# profile OUT PROG ARGS...: run PROG under the shim, dump to OUT.
profile() {
	out=$1; shift
	RCPROF_OUT="$out" LD_PRELOAD="$BUILD/librcprof.so" "$@"
}

# report_json DUMP OUTFILE [options]: the JSON report; fails the test on
# exit status 2.
report_json() {
	dump=$1; json=$2; shift 2
	"$BUILD/rcprof-report" --format json "$@" "$dump" > "$json"
	rc=$?
	[ $rc -ne 2 ] || fail "rcprof-report could not read $dump"
	python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$json" ||
		fail "rcprof-report printed invalid JSON for $dump"
	return 0
}
