# --baseline: a JSON baseline still matches after a rebuild that moves
# every line and address; a new leak is exactly the one new finding and
# fails the gate; the gone findings are listed; a dump works as baseline.
. "$ROOT/tests/e2e/lib.sh"
R="$BUILD/rcprof-report"
build() { # OUT SRC [cflags]
	out=$1; src=$2; shift 2
	cc -std=gnu11 -I"$ROOT/include" -O0 -g "$@" -o "$out" "$src" \
		-L"$BUILD" -Wl,-rpath,"$BUILD" -lrc || fail "build $out"
}
build v1 "$ROOT/tests/progs/drift.c"
profile v1.bin ./v1 || fail "run v1"
report_json v1.bin base.json
expect_eq "v1 cycles" "$(json_get base.json summary.cycles)" 1
expect_eq "v1 leaks" "$(json_get base.json summary.leaked_blocks)" 1
"$R" --baseline base.json --fail-on any v1.bin > /dev/null
expect_eq "same dump against its own baseline" $? 0
"$R" --fail-on any v1.bin > /dev/null
expect_eq "without the baseline the gate fails" $? 1

# The rebuild: helpers and 30 lines prepended, so every line number and
# every address of the program changes (same file name, as in a rebuild).
mkdir -p src2
{
	echo '#include <stdio.h>'
	i=0; while [ $i -lt 30 ]; do echo "/* padding line $i */"; i=$((i + 1)); done
	echo 'int helper_added(int x);'
	echo 'int helper_added(int x) { return x * 7 + 1; }'
	echo 'int another_helper(const char *s);'
	echo 'int another_helper(const char *s) { return s ? (int)s[0] : 0; }'
	cat "$ROOT/tests/progs/drift.c"
} > src2/drift.c
build v2 src2/drift.c
profile v2.bin ./v2 || fail "run v2"
report_json v2.bin v2.json --baseline base.json --fail-on any
"$R" --baseline base.json --fail-on any v2.bin > v2.txt
expect_eq "rebuilt: no new findings, gate passes" $? 0
expect_eq "rebuilt: new" "$(json_get v2.json baseline.new)" 0
expect_eq "rebuilt: known" "$(json_get v2.json baseline.known)" 2
expect_eq "rebuilt: gone" "$(json_get v2.json baseline.gone)" 0
expect_eq "cycle marked known" "$(json_get v2.json cycles.0.baseline)" known

# A new leak: exactly that one is new, and it fails the gate.
build v3 src2/drift.c -DNEW_LEAK
profile v3.bin ./v3 || fail "run v3"
report_json v3.bin v3.json --baseline base.json
expect_eq "new leak: new" "$(json_get v3.json baseline.new)" 1
python3 - v3.json <<'PY' || fail "the new finding is not fresh_leak"
import json, sys
r = json.load(open(sys.argv[1]))
new = [f for f in r["findings"] if f["baseline"] == "new"]
assert len(new) == 1 and new[0]["kind"] == "leak" and new[0]["site"] == "fresh_leak", new
PY
"$R" --baseline base.json --fail-on leaks v3.bin > v3.txt
expect_eq "new leak fails the gate" $? 1
grep -q '\[NEW\]' v3.txt || fail "text report does not mark the new leak"
"$R" --baseline base.json --fail-on cycles v3.bin > /dev/null
expect_eq "cycles gate: the cycle is known" $? 0

# What disappeared: v3 as the baseline of v2 -> fresh_leak is gone.
report_json v3.bin base3.json
report_json v2.bin gone.json --baseline base3.json
expect_eq "gone" "$(json_get gone.json baseline.gone)" 1
expect_eq "gone site" "$(json_get gone.json baseline.gone_findings.0.site)" fresh_leak
"$R" --baseline base3.json v2.bin | grep -q 'gone' || fail "text: no gone section"

# An earlier dump works as the baseline too.
"$R" --baseline v1.bin --fail-on any v2.bin > /dev/null
expect_eq "dump as baseline" $? 0
"$R" --baseline v1.bin --fail-on any v3.bin > /dev/null
expect_eq "dump as baseline, new leak" $? 1
# A bad baseline is a usage error.
echo '{"findings": [' > bad.json
"$R" --baseline bad.json v1.bin > /dev/null 2> err.txt
expect_eq "bad baseline" $? 2
grep -q '^rcprof-report: ' err.txt || fail "bad baseline message not prefixed"
exit 0
