# --format sarif (checked against the SARIF 2.1.0 schema's required
# properties), dot (rendered by Graphviz), folded.
. "$ROOT/tests/e2e/lib.sh"
R="$BUILD/rcprof-report"
P="$BUILD/progs/leaky"
[ -x "$P" ] || skip "build/progs/leaky missing (make progs)"
profile l.bin "$P" || fail "run leaky"
"$R" --format sarif l.bin > r.sarif || fail "sarif exit $?"
python3 - r.sarif <<'PY' || fail "SARIF check"
import json, sys
log = json.load(open(sys.argv[1]))
# sarifLog: required version, runs; $schema given
assert log["version"] == "2.1.0" and "sarif-2.1.0" in log["$schema"]
assert isinstance(log["runs"], list) and len(log["runs"]) == 1
run = log["runs"][0]
drv = run["tool"]["driver"]          # run.tool required; tool.driver required
assert drv["name"] == "rcprof" and drv["version"]
assert drv.get("informationUri", "http").startswith("http")  # optional
ids = [r["id"] for r in drv["rules"]]  # reportingDescriptor.id required
assert len(set(ids)) == len(ids)
res = run["results"]
kinds = {}
for r in res:
    assert r["message"]["text"]      # result.message required (text)
    assert r["ruleId"] in ids and drv["rules"][r["ruleIndex"]]["id"] == r["ruleId"]
    assert r["level"] in ("none", "note", "warning", "error")
    for loc in r["locations"]:
        pl = loc["physicalLocation"]
        assert pl["artifactLocation"]["uri"]
        assert pl["region"]["startLine"] >= 1
    fp = r["partialFingerprints"]["rcprofSignature/v1"]
    for cf in r["codeFlows"]:        # codeFlow.threadFlows required
        for tf in cf["threadFlows"]:
            assert len(tf["locations"]) >= 1   # threadFlow.locations required
            for tl in tf["locations"]:
                l = tl["location"]
                assert "physicalLocation" in l or "logicalLocations" in l
    kinds[r["ruleId"]] = r
assert set(kinds) == {"rcprof/cycle", "rcprof/unreleased", "rcprof/leak"}, kinds.keys()
leak = kinds["rcprof/leak"]
pl = leak["locations"][0]["physicalLocation"]
assert pl["artifactLocation"]["uri"].endswith("leaky.c"), pl
src = open(sys.argv[1].replace("r.sarif", "") + "leaky.c").read().split("\n") if False else None
cyc = kinds["rcprof/cycle"]
assert "drop_ring" in cyc["message"]["text"], cyc["message"]
flows = cyc["codeFlows"][0]["threadFlows"]
assert len(flows) == 3            # the culprit release + two members
outer = flows[0]["locations"][0]["location"]["logicalLocations"][0]["fullyQualifiedName"]
assert outer != "drop_ring"       # outermost first
PY
# the leak's line is the malloc line of leak_buffer
line=$(python3 -c 'import json,sys; r=[x for x in json.load(open("r.sarif"))["runs"][0]["results"] if x["ruleId"]=="rcprof/leak"][0]; print(r["locations"][0]["physicalLocation"]["region"]["startLine"])')
grep -n 'malloc(100)' "$ROOT/tests/progs/leaky.c" | grep -q "^$line:" || fail "SARIF leak line $line is not the malloc"
# with a baseline: baselineState
"$R" --format json l.bin > base.json
"$R" --format sarif --baseline base.json l.bin > b.sarif
python3 -c 'import json; r=json.load(open("b.sarif"))["runs"][0]["results"]; assert r and all(x["baselineState"]=="unchanged" for x in r)' ||
	fail "SARIF baselineState"

"$R" --format dot l.bin > c.dot || fail "dot exit $?"
grep -q 'node' c.dot || fail "dot: no type label"
grep -q 'make_ring' c.dot || fail "dot: no allocation site"
grep -q -- '-> .*label="+0x0"' c.dot || fail "dot: no field offset edge label"
command -v dot > /dev/null || skip "graphviz not installed"
dot -Tsvg c.dot > c.svg || fail "dot -Tsvg failed"
grep -q '<svg' c.svg || fail "no svg"

"$R" --format folded l.bin > f.txt || fail "folded exit $?"
grep -qx '\[leak\];main;leak_buffer 100' f.txt || fail "folded leak line: $(cat f.txt)"
grep -qx '\[unreleased\];main;open_conn 40' f.txt || fail "folded unreleased"
[ "$(grep -c '^\[cycle\];main;make_ring ' f.txt)" -eq 2 ] || fail "folded cycle members"
# every line is "frames bytes"
awk '{ if (NF != 2 || $2 !~ /^[0-9]+$/) exit 1 }' f.txt || fail "folded syntax"
"$R" --format nonsense l.bin > /dev/null 2>&1
expect_eq "bad format" $? 2
"$R" --format json --output out.json l.bin > stdout.txt || fail "--output"
[ -s stdout.txt ] && fail "--output also wrote stdout"
python3 -c 'import json; json.load(open("out.json"))' || fail "--output JSON"
exit 0
