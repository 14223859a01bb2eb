# A program that confines itself with seccomp runs as it does without the
# recorder (tests/progs/sandbox.c).  The shim runs each filter on the
# calls it may still make before it goes in:
#   - kill: a filter that kills on writev, fstat, getrlimit...: the
#     recording ends first (END "sandbox", the report says truncated), one
#     line on stderr, and the program lives (the previous build: SIGSYS);
#   - errno: a filter that only fails unlink and file creation (man-db's
#     helpers): the recording goes on to the end, complete, and the ring
#     file it cannot remove is marked done and ignored; the child forked
#     under the filter does not try to record (the previous build printed
#     "cannot create ...: Function not implemented" and its report said
#     truncated);
#   - strict: strict mode (read, write, exit): the recording ends first;
#   - stacked: under a first filter that fails process_vm_readv the
#     recording goes on, and ends before a second one it cannot read.
# Bad filter pointers get EFAULT, as without the shim, and a filter the
# kernel refuses (no privilege) changes nothing.
. "$ROOT/tests/e2e/lib.sh"
. "$ROOT/tests/e2e/shim_lib.sh"

grep -q '^Seccomp:[[:space:]]*[0-2]' /proc/self/status ||
	skip "no seccomp in this kernel"

# run MODE: native and recorded; stdout and the exit status must agree.
run() {
	"$PROGS/sandbox" "$1" > "$1.plain.out" 2> "$1.plain.err"
	expect_eq "$1: native exit status" $? 3
	RCPROF_OUT="$1.%p.bin" LD_PRELOAD="$SHIM" "$PROGS/sandbox" "$1" \
		> "$1.prof.out" 2> "$1.prof.err"
	expect_eq "$1: exit status under the shim (159: SIGSYS)" $? 3
	cmp -s "$1.plain.out" "$1.prof.out" ||
		{ diff "$1.plain.out" "$1.prof.out"; fail "$1: stdout differs"; }
}

# ended_early MODE LIVE: one dump, END "sandbox" (6), read as truncated;
# the blocks kept before the sandbox are live when the recording ended,
# not leaks (kill: one more after a request the kernel refused for want
# of privilege, which must not end the recording), nothing after it is
# recorded, and --fail-on leaks does not fire.
ended_early() {
	d=$(one_dump "$1")
	expect_eq "$1: END how" "$(wfield "$d" 'd["ends"][-1]["how"]')" 6
	report_json "$d" "$d.json" -q
	expect_eq "$1: truncated" "$(json_get "$d.json" summary.truncated)" true
	"$BUILD/rcprof-report" "$d" > "$d.txt" 2>&1
	grep -q 'ended by sandbox: the recording ended when the program entered a seccomp sandbox' \
		"$d.txt" || fail "$1: $(head -5 "$d.txt")"
	grep -q "^  $2 heap blocks\{0,1\} (.* bytes) and 0 held objects were live when the recording ended" \
		"$d.txt" || fail "$1: $(sed -n '/^summary/,/^$/p' "$d.txt")"
	expect_eq "$1: live blocks (those before)" \
		"$(json_get "$d.json" summary.live_blocks)" "$2"
	expect_eq "$1: leaked blocks" "$(json_get "$d.json" summary.leaked_blocks)" 0
	"$BUILD/rcprof-report" -q --fail-on leaks "$d" > /dev/null 2>&1
	expect_eq "$1: --fail-on leaks" $? 0
}

run kill
expect_eq "kill: stderr" "$(cat kill.prof.err)" \
	"rcprof: the program installs a seccomp filter that does not allow the recorder's writev; the recording ends here"
ended_early kill 2

run strict
expect_eq "strict: stderr" "$(cat strict.prof.err)" \
	"rcprof: the program enters seccomp strict mode (read, write and exit only); the recording ends here"
ended_early strict 1

run stacked
expect_eq "stacked: stderr" "$(cat stacked.prof.err)" \
	"rcprof: the program installs a seccomp filter, and it cannot be read (process_vm_readv is not allowed); the recording ends here"
ended_early stacked 2

run errno
cmp -s errno.plain.err errno.prof.err ||
	fail "errno: stderr differs: $(cat errno.prof.err)"
d=$(one_dump errno)
[ -e "$d.ring" ] || fail "errno: the filter forbids unlink, yet the ring is gone"
expect_eq "errno: END how (exit)" "$(wfield "$d" 'd["ends"][-1]["how"]')" 1
expect_eq "errno: chunks taken from the ring" "$(wfield "$d" 'd["ring_chunks"]')" 0
report_json "$d" "$d.json" -q
expect_eq "errno: truncated" "$(json_get "$d.json" summary.truncated)" false
expect_eq "errno: leaked blocks (before and after the filter)" \
	"$(json_get "$d.json" summary.leaked_blocks)" 2
# A real program: man-db runs its decompressor and groff's preprocessors
# in children it confines with libseccomp (ENOSYS for unlink and for
# creating files, mincore among others).  Every dump it leaves is
# complete; the only lines on stderr are those of images exec'd under
# the inherited filter, which cannot create their dumps.
if command -v man > /dev/null && command -v groff > /dev/null; then
	printf '.TH DEMO 1\n.SH NAME\ndemo \\- a page\n.SH DESCRIPTION\nSome \\fBbold\\fR text.\n' > demo.1
	gzip -f demo.1
	MANPAGER=cat MANWIDTH=80 man -l demo.1.gz > man.plain.out 2> man.plain.err
	plain_rc=$?
	MANPAGER=cat MANWIDTH=80 RCPROF_OUT="man.%p.bin" LD_PRELOAD="$SHIM" \
		man -l demo.1.gz > man.prof.out 2> man.prof.err
	expect_eq "man: exit status" $? "$plain_rc"
	cmp -s man.plain.out man.prof.out || fail "man: stdout differs"
	grep -q 'demo - a page' man.prof.out || fail "man: no page: $(cat man.prof.out)"
	grep -v '^rcprof: cannot create .*: Function not implemented; not recording$' \
		man.prof.err > man.other.err
	cmp -s man.plain.err man.other.err ||
		fail "man: stderr differs: $(cat man.prof.err)"
	n=0
	for d in man.*.bin man.*.bin.[0-9]*; do
		case $d in *.ring|*.json|*'*'*) continue ;; esac
		report_json "$d" "$d.json" -q
		expect_eq "man: $d truncated" "$(json_get "$d.json" summary.truncated)" false
		n=$((n + 1))
	done
	[ "$n" -ge 3 ] || fail "man: only $n dumps"
fi
exit 0
