# Suppressions: leak:/type:/cycle: rules, counted in "suppressed" but not
# in the summary or the gates; --gen-suppressions output suppresses every
# finding; --show-suppressions and --no-default-suppressions.
. "$ROOT/tests/e2e/lib.sh"
R="$BUILD/rcprof-report"
P="$BUILD/progs/leaky"
[ -x "$P" ] || skip "build/progs/leaky missing (make progs)"
profile l.bin "$P" || fail "run leaky"
report_json l.bin all.json
expect_eq cycles "$(json_get all.json summary.cycles)" 1
expect_eq unreleased "$(json_get all.json summary.unreleased_objects)" 1
expect_eq leaks "$(json_get all.json summary.leaked_blocks)" 1

# leak: matches a function anywhere in the stack, with wildcards
printf '# plain leaks\nleak:leak_buf*\n' > s1.supp
report_json l.bin s1.json --suppressions s1.supp
expect_eq "leak: leaks" "$(json_get s1.json summary.leaked_blocks)" 0
expect_eq "leak: bytes" "$(json_get s1.json summary.leaked_bytes)" 0
expect_eq "leak: cycles untouched" "$(json_get s1.json summary.cycles)" 1
expect_eq "leak: rule hits" "$(json_get s1.json suppressed.rules.0.hits)" 1
"$R" --suppressions s1.supp --fail-on leaks l.bin > /dev/null
expect_eq "suppressed leak does not fail the gate" $? 0
# ... a source file name matches too
printf 'leak:leaky.c\n' > s1b.supp
report_json l.bin s1b.json --suppressions s1b.supp
expect_eq "leak:FILE" "$(json_get s1b.json summary.leaked_blocks)" 0

# type: suppresses cycles whose members are all of the type, and
# unreleased groups of the type (whole name, wildcards)
printf 'type:node\ntype:co*\n' > s2.supp
report_json l.bin s2.json --suppressions s2.supp
expect_eq "type: cycles" "$(json_get s2.json summary.cycles)" 0
expect_eq "type: garbage" "$(json_get s2.json summary.garbage_objects)" 0
expect_eq "type: unreleased" "$(json_get s2.json summary.unreleased_objects)" 0
expect_eq "type: counted" "$(json_get s2.json suppressed.cycles)" 1
expect_eq "type: counted objects" "$(json_get s2.json suppressed.unreleased_objects)" 1
printf 'type:nod\n' > s2b.supp
report_json l.bin s2b.json --suppressions s2b.supp
expect_eq "type: is a whole name" "$(json_get s2b.json summary.cycles)" 1

# cycle: by the printed signature
sig=$(json_get all.json cycles.0.signature)
printf 'cycle:%s\n' "${sig#0x}" > s3.supp
report_json l.bin s3.json --suppressions s3.supp
expect_eq "cycle:" "$(json_get s3.json summary.cycles)" 0
expect_eq "cycle: leaves unreleased" "$(json_get s3.json summary.unreleased_objects)" 1

# --gen-suppressions: a file that suppresses everything
"$R" --gen-suppressions l.bin > gen.supp || fail "gen-suppressions exit $?"
grep -q '^cycle:' gen.supp || fail "no cycle: rule generated"
grep -q '^leak:^leak_buffer\$' gen.supp || fail "no leak: rule generated"
"$R" --suppressions gen.supp --fail-on any l.bin > /dev/null
expect_eq "generated rules suppress everything" $? 0

# repeatable, errors, built-ins
"$R" --suppressions s1.supp --suppressions s2.supp --fail-on leaks,cycles,unreleased l.bin > /dev/null
expect_eq "two files" $? 0
printf 'leak:ok\nrace:nope\n' > bad.supp
"$R" --suppressions bad.supp l.bin > /dev/null 2> err.txt
expect_eq "bad rule" $? 2
grep -q 'bad.supp:2:' err.txt || fail "bad rule: no line number"
"$R" --show-suppressions > show.txt || fail "show-suppressions"
grep -q '^leak:_IO_file_doallocate' show.txt || fail "built-ins not shown"
"$R" --show-suppressions --no-default-suppressions --suppressions s2.supp > show2.txt
grep -q '_IO_file' show2.txt && fail "built-ins shown with --no-default-suppressions"
grep -q '^type:node' show2.txt || fail "user rules not shown"
# without the defaults the C library's own buffers are leaks again
# (leaky prints nothing, so use the demo's stdout buffer)
cc -std=gnu11 -I"$ROOT/include" -O0 -g -o demo "$ROOT/examples/demo.c" \
	-L"$BUILD" -Wl,-rpath,"$BUILD" -lrc || fail "build demo"
profile demo.bin ./demo > /dev/null || fail "demo"
report_json demo.bin d1.json
report_json demo.bin d2.json --no-default-suppressions
[ "$(json_get d2.json summary.leaked_blocks)" -gt "$(json_get d1.json summary.leaked_blocks)" ] ||
	fail "--no-default-suppressions did not bring the stdio buffer back"
exit 0
