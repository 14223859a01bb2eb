# The stack cache never changes a recorded stack: a deterministic program
# run with the cache on and off records the same stack (as module+offset
# frames) for every event, while the cache serves most of them; and in
# CPython every hit agrees with an unwind made at the same point.
. "$ROOT/tests/e2e/lib.sh"
PROGS="$BUILD/progs"

# stacks_of NAME MODE PROG ARGS...: record with RCPROF_STACK_CACHE=MODE,
# keep stdout in NAME.out and the decoded stacks in NAME.stacks.  $RUN
# may name a launcher (setarch -R).
RUN=
stacks_of() {
	name=$1 mode=$2; shift 2
	$RUN env RCPROF_STACK_CACHE="$mode" RCPROF_OUT="$TMP/$name.bin" \
		LD_PRELOAD="$BUILD/librcprof.so" "$@" > "$TMP/$name.out" 2> "$TMP/$name.err" ||
		fail "$name: exit status $?"
	python3 "$ROOT/tests/e2e/rcpdump.py" --stacks "$TMP/$name.bin" > "$TMP/$name.stacks" ||
		fail "$name: rcpdump.py failed"
	[ -s "$TMP/$name.stacks" ] || fail "$name: no stacks recorded"
}

# Four walkers with one frame layout (chains of equal depth meet malloc
# at equal stack pointers), VLA frames, allocations in a signal handler,
# release stacks, two threads.
stacks_of sites_off 0 "$PROGS/sites" 20000 2
stacks_of sites_on 2 "$PROGS/sites" 20000 2
cmp -s "$TMP/sites_off.out" "$TMP/sites_on.out" || fail "sites: output differs"
cmp -s "$TMP/sites_off.stacks" "$TMP/sites_on.stacks" ||
	fail "sites: stacks differ with the cache: $(diff "$TMP/sites_off.stacks" "$TMP/sites_on.stacks" | head -n 4)"
line=$(grep 'stack cache:' "$TMP/sites_on.err") || fail "sites: no statistics line"
hits=$(echo "$line" | sed -n 's/.*cache: \([0-9]*\) hits.*/\1/p')
[ "${hits:-0}" -gt 10000 ] || fail "sites: the cache served only '$hits' stacks: $line"
echo "$line" | grep -q ' 0 not cacheable' || fail "sites: $line"

# A fill runs libunwind's generic unwinder, which blocks all signals
# around its cache lock (two sigprocmask calls a frame, ~1 us each on a
# VM); the shim answers those without the kernel.  Count the system calls
# a recording makes against the fills it reports.  (Only where strace
# works.)
if command -v strace > /dev/null 2>&1 &&
	strace -f -e trace=rt_sigprocmask -o "$TMP/probe.trace" true 2> /dev/null; then
	strace -f -e trace=rt_sigprocmask -o "$TMP/masks.trace" \
		env RCPROF_STACK_CACHE=2 RCPROF_OUT="$TMP/masks.bin" \
		LD_PRELOAD="$BUILD/librcprof.so" "$PROGS/sites" 20000 1 \
		> /dev/null 2> "$TMP/masks.err" ||
		fail "sites under strace: exit status $?"
	fills=$(sed -n 's/.* \([0-9]*\) fills.*/\1/p' "$TMP/masks.err")
	calls=$(grep -c rt_sigprocmask "$TMP/masks.trace")
	[ "${fills:-0}" -gt 20 ] || fail "sites: only '$fills' fills: $(cat "$TMP/masks.err")"
	[ "$calls" -lt "$fills" ] ||
		fail "sites: $calls sigprocmask system calls for $fills stack cache fills"
fi

# A real program: CPython's own allocations (JSON, sqlite), one thread.
# A second run without the cache would not do: CPython's allocations
# depend on where things are in memory (id()-keyed dicts), and the cache's
# own mappings move them.  So one run checks every hit against an unwind
# on the spot (RCPROF_STACK_CACHE=3) and records the unwinder's stack.
PY=/usr/bin/python3
if [ -x "$PY" ]; then
	mkdir "$TMP/py"
	cat > "$TMP/py/work.py" <<'PYEOF'
import json, sqlite3
d = {str(i): [i, str(i) * 3, {"k": i}] for i in range(20000)}
x = json.loads(json.dumps(d))
db = sqlite3.connect(":memory:")
db.execute("create table t(a, b)")
db.executemany("insert into t values (?, ?)", ((i, str(i)) for i in range(5000)))
print(len(x), db.execute("select count(*), sum(a) from t").fetchone())
PYEOF
	env RCPROF_STACK_CACHE=3 RCPROF_OUT="$TMP/py.bin" LD_PRELOAD="$BUILD/librcprof.so" \
		"$PY" "$TMP/py/work.py" > "$TMP/py.out" 2> "$TMP/py.err" ||
		fail "python3: exit status $?"
	"$PY" "$TMP/py/work.py" | cmp -s - "$TMP/py.out" || fail "python3: output differs"
	line=$(grep 'stack cache:' "$TMP/py.err") || fail "python3: no statistics line"
	hits=$(echo "$line" | sed -n 's/.*cache: \([0-9]*\) hits.*/\1/p')
	[ "${hits:-0}" -gt 5000 ] || fail "python3: the cache served only '$hits' stacks: $line"
	echo "$line" | grep -q ', 0 hits differed from an unwind$' ||
		fail "python3: the cache disagreed with the unwinder: $line"
fi
exit 0
