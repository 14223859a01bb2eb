# SIGKILL at random moments of a multi-threaded run: every recording stays
# readable (truncated, never an error exit), and the events already in the
# dump or its ring are all decoded (no gap, nothing undecodable).
. "$ROOT/tests/e2e/lib.sh"
. "$ROOT/tests/e2e/shim_lib.sh"

i=0
for delay in 0.01 0.04 0.08 0.15 0.25; do
	i=$((i + 1))
	ring=$([ $((i % 2)) -eq 0 ] && echo 16 || echo 8192)
	RCPROF_RING_KB=$ring RCPROF_OUT="k$i.bin" LD_PRELOAD="$SHIM" \
		"$PROGS/stress" 4 100000000 > /dev/null &
	pid=$!
	sleep "$delay"
	kill -9 $pid
	wait $pid 2>/dev/null
	[ -e "k$i.bin" ] || continue   # killed before the shim started
	"$BUILD/rcprof-report" --format json "k$i.bin" > "k$i.json" 2> "k$i.err"
	rc=$?
	[ $rc -eq 0 ] || fail "kill after ${delay}s: rcprof-report exit $rc: $(head -n 2 k$i.err)"
	expect_eq "kill after ${delay}s truncated" "$(json_get k$i.json summary.truncated)" true
	$RCPDUMP --json "k$i.bin" > "w$i.json" || fail "rcpdump cannot read k$i.bin"
	python3 - "w$i.json" "k$i.json" <<'PY' || fail "kill after ${delay}s: data problem"
import json, sys
w = json.load(open(sys.argv[1])); r = json.load(open(sys.argv[2]))
bad = []
if w["gaps"]: bad.append("seq gaps")
if w["problems"]: bad.append("undecodable: %s" % w["problems"][:2])
# the analyzer decodes exactly what the independent reader decodes
for k, v in w["counts"].items():
    got = r["event_counts"].get(k.lower(), 0)
    if got != v: bad.append("%s: report %d, rcpdump %d" % (k, got, v))
if bad: print("\n".join(bad)); sys.exit(1)
PY
done
exit 0
