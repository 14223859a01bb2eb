# The recorder's own descriptors (the dump, libunwind's two pipes) must be
# invisible to the program's descriptor numbering and out of reach of its
# close loops, close_range, closefrom and dup2 (preload/shim/fds.c,
# hook_fd.c).  tests/progs/fds.c prints what it sees; everything must be
# the same with and without the shim.  The last shipped build failed all
# of it: libunwind's pipes took fds 3-6 (0 and 3-5 with stdin closed, so
# the program's stdin was a pipe), and a program that closed every
# descriptor stopped the recording with a message on its stderr.
. "$ROOT/tests/e2e/lib.sh"
. "$ROOT/tests/e2e/shim_lib.sh"

# leaked_in DUMP FUNCTION: is there a leak whose innermost frame is it?
leaked_in() {
	python3 - "$1.json" "$2" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
fns = [l["alloc_stack"][0].get("function") for l in d["leaks"] if l["alloc_stack"]]
sys.exit(0 if sys.argv[2] in fns else 1)
PY
}

# close_all_run NAME: the close-all mode, parent and forked child, with
# their dumps checked: complete, and recorded to the end.
close_all_run() {
	same_run "$1" "$PROGS/fds" close-all
	set -- "$1".*.bin
	[ $# -eq 2 ] || fail "close-all: expected the parent's and the child's dump, got: $*"
	for d in "$@"; do
		check_dump "$d"
		[ -x "$BUILD/rcprof-report" ] || continue
		leaked_in "$d" leak_after_close ||
			fail "$d: the leak made after closing every descriptor is missing"
		leaked_in "$d" leak_after_dup ||
			fail "$d: the leak made after the dup2 calls is missing"
	done
}

same_run first "$PROGS/fds" first
grep -qx 'first open: 3' first.prof.out ||
	fail "first open() did not return 3: $(cat first.prof.out)"

# stdin closed: fd 0 must stay closed, and the program's first open()
# must get it.
"$PROGS/fds" first > nostdin.plain.out 2>&1 <&-
RCPROF_OUT="nostdin.%p.bin" LD_PRELOAD="$SHIM" "$PROGS/fds" first \
	> nostdin.prof.out 2>&1 <&-
cmp -s nostdin.plain.out nostdin.prof.out ||
	{ diff nostdin.plain.out nostdin.prof.out; fail "stdin closed: output differs"; }
grep -q 'fd 0: closed' nostdin.prof.out || fail "fd 0 open under the shim"

close_all_run closeall

# A small limit that cannot be raised (soft = hard = 8): the recorder's
# five descriptors would take every number the program has left, so it
# does not record; the program runs as without it (before: its first
# open() failed with EMFILE).
# (The redirections are the parent shell's: dash saves descriptors at 10
# and up, which a limit of 8 forbids.)
(ulimit -n 8 && exec "$PROGS/fds" first) > small.plain.out 2>&1 ||
	fail "ulimit -n 8, without the recorder: $(cat small.plain.out)"
(ulimit -n 8 && RCPROF_OUT="small.%p.bin" LD_PRELOAD="$SHIM" \
	exec "$PROGS/fds" first) > small.prof.out 2> small.prof.err ||
	fail "ulimit -n 8: exit status $?: $(cat small.prof.out small.prof.err)"
cmp -s small.plain.out small.prof.out ||
	{ diff small.plain.out small.prof.out; fail "ulimit -n 8: output differs"; }
grep -q 'first open: 3' small.prof.out || fail "ulimit -n 8: $(cat small.prof.out)"
expect_eq "ulimit -n 8: stderr" "$(cat small.prof.err)" \
	"rcprof: the descriptor limit (RLIMIT_NOFILE 8) leaves no room for the recorder's own; not recording"
ls small.*.bin > /dev/null 2>&1 && fail "ulimit -n 8: a dump was written"

# With room above the soft limit the shim's descriptors live there: loops
# up to sysconf(_SC_OPEN_MAX) do not see them and dup2() onto them fails
# as it would without the shim.  (Where the soft limit is the hard one,
# they sit at 512 and such a loop sees them: not checked.)
hard=$(ulimit -Hn)
if [ "$hard" = unlimited ] || [ "$hard" -ge 1100 ]; then
	(
		ulimit -Sn 1024 || exit 3
		same_run visible "$PROGS/fds" visible
		close_all_run lowlimit
	) || fail "with the soft limit at 1024 (see above)"
else
	echo "note: hard RLIMIT_NOFILE $hard: above-limit placement not tested"
fi
exit 0
