# --diff A B: new, gone, grown, shrunk by signature; text and JSON; the
# gate counts what is new or grew.
. "$ROOT/tests/e2e/lib.sh"
R="$BUILD/rcprof-report"
P="$BUILD/progs/growth"
[ -x "$P" ] || skip "build/progs/growth missing (make progs)"
profile a.bin "$P" 2 || fail "run a"
profile b.bin "$P" 5 || fail "run b"
"$R" --diff --format json a.bin b.bin > d.json || fail "diff json exit $?"
python3 - d.json <<'PY' || fail "diff JSON"
import json, sys
d = json.load(open(sys.argv[1]))["diff"]
by = {f["site"]: f for f in d["findings"]}
assert by["grow_site"]["status"] == "grown", by
assert by["grow_site"]["a"]["count"] == 2 and by["grow_site"]["b"]["count"] == 5
assert by["grow_site"]["b"]["bytes"] == 80
assert by["late_site"]["status"] == "new" and by["late_site"]["a"]["count"] == 0
assert by["early_site"]["status"] == "gone" and by["early_site"]["b"]["count"] == 0
assert d["summary"] == {"same": 0, "new": 1, "gone": 1, "grown": 1, "shrunk": 0}, d["summary"]
PY
"$R" --diff b.bin a.bin > d.txt || fail "diff text exit $?"
grep -q '^shrunk .*grow_site' d.txt || fail "text: shrunk"
grep -q '^new .*early_site' d.txt || fail "text: new"
grep -q '^gone .*late_site' d.txt || fail "text: gone"
"$R" --diff --fail-on leaks a.bin b.bin > /dev/null
expect_eq "diff gate: grew" $? 1
"$R" --diff --fail-on leaks a.bin a.bin > /dev/null
expect_eq "diff gate: same" $? 0
"$R" --diff a.bin > /dev/null 2>&1
expect_eq "diff with one dump" $? 2
exit 0
