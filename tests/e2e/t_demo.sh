# The demo program: three two-node cycles, one unreleased session, one
# plain 64-byte leak; stdio's own buffer must be suppressed.
. "$ROOT/tests/e2e/lib.sh"
cc -std=gnu11 -I"$ROOT/include" -O0 -g -o demo "$ROOT/examples/demo.c" \
	-L"$BUILD" -Wl,-rpath,"$BUILD" -lrc || fail "build demo"
./demo > plain.out || fail "demo failed without the profiler"
profile demo.bin ./demo > prof.out || fail "demo failed under the profiler"
cmp -s plain.out prof.out || fail "output differs under the profiler"
[ "$(stat -c %a demo.bin)" = 600 ] || fail "dump mode is not 0600"
[ ! -e demo.bin.ring ] || fail "ring file left behind after a normal exit"
report_json demo.bin r.json
expect_eq cycles "$(json_get r.json summary.cycles)" 3
expect_eq garbage_objects "$(json_get r.json summary.garbage_objects)" 6
expect_eq unreleased_objects "$(json_get r.json summary.unreleased_objects)" 1
expect_eq leaked_blocks "$(json_get r.json summary.leaked_blocks)" 1
expect_eq leaked_bytes "$(json_get r.json summary.leaked_bytes)" 64
expect_eq rc_objects "$(json_get r.json summary.rc_objects)" 7
expect_eq errors "$(json_get r.json summary.errors)" 0
expect_eq truncated "$(json_get r.json summary.truncated 2>/dev/null || json_get r.json truncated)" false
"$BUILD/rcprof-report" demo.bin > r.txt || fail "text report exit $?"
grep -q release_tree r.txt || fail "text report does not name release_tree (the culprit release)"
grep -q make_greeting r.txt || fail "text report does not name make_greeting (the leak)"
"$BUILD/rcprof-report" --fail-on cycles demo.bin > /dev/null
expect_eq "fail-on cycles" $? 1
"$BUILD/rcprof-report" --fail-on errors demo.bin > /dev/null
expect_eq "fail-on errors" $? 0
"$BUILD/rcprof-report" --fail-on nonsense demo.bin > /dev/null 2>&1
expect_eq "bad --fail-on" $? 2
"$BUILD/rcprof-report" no-such-file.bin > /dev/null 2> err.txt
expect_eq "missing dump" $? 2
[ "$(wc -l < err.txt)" -eq 1 ] || fail "missing dump: expected a one-line error"
exit 0
