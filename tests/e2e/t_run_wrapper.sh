# rcprof run: exit status passthrough, gates with --error-exitcode, the
# same fatal signal, the report on stderr, stdout untouched.
. "$ROOT/tests/e2e/lib.sh"
cc -std=gnu11 -I"$ROOT/include" -O0 -g -o demo "$ROOT/examples/demo.c" \
	-L"$BUILD" -Wl,-rpath,"$BUILD" -lrc || fail "build demo"
"$BUILD/rcprof" run --out dumps -- ./demo > out.txt 2> err.txt
expect_eq "exit status" $? 0
expect_eq stdout "$(cat out.txt)" "hello, rcprof"
grep -q 'cycle' err.txt || fail "no report on stderr"
ls dumps/rcprof.*.bin > /dev/null 2>&1 || fail "no dump in --out dir"
"$BUILD/rcprof" run --out dumps2 --fail-on cycles --error-exitcode 9 -- ./demo > /dev/null 2>&1
expect_eq "gate exit" $? 9
"$BUILD/rcprof" run --out dumps3 --fail-on errors --error-exitcode 9 -- ./demo > /dev/null 2>&1
expect_eq "passing gate" $? 0
"$BUILD/rcprof" run --out dumps4 -- sh -c 'exit 7' > /dev/null 2>&1
expect_eq "child status" $? 7
sh -c "\"$BUILD/rcprof\" run --quiet --out dumps5 -- sh -c 'kill -TERM \$\$'" 2>/dev/null
expect_eq "same signal" $? $((128 + 15))
"$BUILD/rcprof" run > /dev/null 2>&1
expect_eq "no program" $? 2
"$BUILD/rcprof" --help | grep -q 'rcprof run' || fail "--help"
"$BUILD/rcprof" report --format json dumps/rcprof.*.bin > r.json || true
python3 -c 'import json,sys; json.load(open("r.json"))' || fail "rcprof report is not rcprof-report"
exit 0
