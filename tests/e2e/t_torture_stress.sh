# Stress: 8 threads x 1 M mixed allocations and refcount operations; the
# analyzer's event counts equal the program's own counts exactly (heap
# events: plus what the C library itself allocates, measured by a run with
# 0 iterations).  Then the same with a deliberately tiny ring: nothing lost.
. "$ROOT/tests/e2e/lib.sh"
. "$ROOT/tests/e2e/shim_lib.sh"
N=${STRESS_N:-1000000}

# compare PROGRAM_OUTPUT REPORT_JSON BASE_JSON
compare() {
	python3 - "$1" "$2" "$3" <<'PY' || fail "event counts differ"
import json, sys
prog = dict(kv.split("=") for kv in open(sys.argv[1]).read().split())
prog = {k: int(v) for k, v in prog.items()}
d = json.load(open(sys.argv[2]))
base = json.load(open(sys.argv[3]))["event_counts"]
ev = d["event_counts"]
# librc's objects come with their blocks: RC_NEW_BLOCK and RC_FREE_BLOCK,
# no malloc or free events of their own
want = {
    "rc_new_block": prog["rc_new"], "rc_new": 0,
    "rc_retain": prog["rc_retain"],
    "rc_release": prog["rc_release"], "edge": prog["edge"],
    "rc_free_block": prog["rc_new"], "rc_free": 0,
    # heap events: the program's and the C library's
    "malloc": prog["malloc"] + base["malloc"],
    "realloc_to": prog["realloc"], "realloc_from": prog["realloc"],
    "lost": 0,
}
bad = []
for k, v in want.items():
    got = ev.get(k, 0)
    if got != v:
        bad.append("%s: report %d, expected %d" % (k, got, v))
s = d["summary"]
for k in ("errors", "cycles", "garbage_objects", "leaked_blocks", "unreleased_objects"):
    if s[k] != 0:
        bad.append("summary.%s = %d, expected 0" % (k, s[k]))
if s["truncated"]:
    bad.append("truncated")
if bad:
    print("\n".join(bad)); sys.exit(1)
PY
}

run_case() { # NAME [ENV...]
	name=$1; shift
	env "$@" RCPROF_OUT="$name.base.bin" LD_PRELOAD="$SHIM" "$PROGS/stress" 8 0 > /dev/null ||
		fail "$name: baseline run failed"
	report_json "$name.base.bin" "$name.base.json"
	env "$@" RCPROF_OUT="$name.bin" LD_PRELOAD="$SHIM" "$PROGS/stress" 8 "$N" > "$name.out" ||
		fail "$name: stress run failed"
	"$PROGS/stress" 8 "$N" > "$name.plain.out" || fail "$name: plain run failed"
	cmp -s "$name.out" "$name.plain.out" || fail "$name: output differs under the shim"
	report_json "$name.bin" "$name.json"
	compare "$name.out" "$name.json" "$name.base.json"
	check_dump "$name.bin"
}

run_case big
run_case tiny RCPROF_RING_KB=64
exit 0
