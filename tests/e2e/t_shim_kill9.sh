# kill -9 in the middle of a run leaves a readable recording: the dump plus
# the ring file hold at least every allocation the program said it made.
. "$ROOT/tests/e2e/lib.sh"
. "$ROOT/tests/e2e/shim_lib.sh"

for ring in 8192 16; do
	rm -f k.bin k.bin.ring
	: > out.txt
	RCPROF_RING_KB=$ring RCPROF_OUT=k.bin LD_PRELOAD="$SHIM" "$PROGS/counter" > out.txt &
	pid=$!
	i=0
	while [ "$(grep -c done out.txt)" -lt 10 ]; do
		i=$((i + 1))
		[ $i -lt 600 ] || { kill -9 $pid; fail "counter made no progress"; }
		sleep 0.05
	done
	kill -9 $pid
	wait $pid 2>/dev/null
	n=$(grep done out.txt | tail -n 1 | cut -d' ' -f2)
	[ -e k.bin.ring ] || fail "ring file missing after kill -9"
	$RCPDUMP --json k.bin > w.json || fail "rcpdump cannot read the killed dump"
	python3 - "$n" w.json <<'PY' || fail "ring ${ring}KiB: events missing after kill -9"
import json, sys
n = int(sys.argv[1]); d = json.load(open(sys.argv[2]))
c = d["counts"]
ok = c.get("MALLOC", 0) >= n and c.get("RC_NEW_BLOCK", 0) >= n and c.get("RC_FREE_BLOCK", 0) >= n
ok = ok and not d["gaps"] and not d["problems"] and d["truncated"]
if not ok:
    print("printed", n, "decoded", c, "gaps", d["gaps"], d["problems"]); sys.exit(1)
PY
	if [ -x "$BUILD/rcprof-report" ]; then
		report_json k.bin r.json -q
		expect_eq "truncated" "$(json_get r.json summary.truncated)" true
		ev=$(json_get r.json summary.events)
		[ "$ev" -ge $((3 * n)) ] || fail "rcprof-report read $ev events, program did $n iterations"
	fi
done
exit 0
