# rcprof run passes the report options through: suppressions, baseline,
# formats, --output, gen-suppressions; --error-exitcode with them.
. "$ROOT/tests/e2e/lib.sh"
RUN="$BUILD/rcprof run"
P="$BUILD/progs/leaky"
[ -x "$P" ] || skip "build/progs/leaky missing (make progs)"
$RUN --out d1 --fail-on any --error-exitcode 9 -- "$P" 2> r1.txt
expect_eq "gate fails" $? 9
grep -q 'leak_buffer' r1.txt || fail "report not on stderr"
$RUN --out d2 --gen-suppressions -- "$P" 2> gen.supp
expect_eq "gen exit" $? 0
$RUN --out d3 --fail-on any --error-exitcode 9 --suppressions gen.supp -- "$P" 2> /dev/null
expect_eq "suppressed: the program's status" $? 0
$RUN --out d4 --format json --output base.json -- "$P" 2> /dev/null
python3 -c 'import json; json.load(open("base.json"))' || fail "--output json"
$RUN --out d5 --fail-on any --baseline base.json -- "$P" 2> /dev/null
expect_eq "baseline: nothing new" $? 0
$RUN --out d6 --fail-on leaks --baseline base.json --error-exitcode 7 -- "$P" more 2> r6.txt
expect_eq "baseline: new leak" $? 7
grep -q '\[NEW\]' r6.txt || fail "new leak not marked"
$RUN --out d7 --format sarif --output r.sarif -- "$P" 2> /dev/null
python3 -c 'import json; assert json.load(open("r.sarif"))["version"] == "2.1.0"' || fail "run sarif"
$RUN --out d8 --no-default-suppressions --format folded -- "$P" 2> f.txt
grep -q '^\[leak\];main;leak_buffer 100' f.txt || fail "run folded"
$RUN --bogus -- "$P" > /dev/null 2>&1
expect_eq "unknown option" $? 2
$RUN --suppressions > /dev/null 2>&1
expect_eq "missing value" $? 2
$RUN --help | grep -q -- '--baseline' || fail "run --help"
"$BUILD/rcprof-report" --help | grep -q -- '--gen-suppressions' || fail "report --help"
exit 0
