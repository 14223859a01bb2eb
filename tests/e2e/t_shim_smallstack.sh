# Threads with small stacks (glibc takes every library's static TLS out of
# them): a program that runs without the recorder runs with it, with a
# thread of PTHREAD_STACK_MIN (16 KB) working 5 KB deep and one of 64 KB
# working 48 KB deep.  The recorder keeps its TLS small (its emergency
# chunks are mapped when needed) and takes no backtrace with less than
# 16 KB of stack left; the previous build crashed in both.
. "$ROOT/tests/e2e/lib.sh"
. "$ROOT/tests/e2e/shim_lib.sh"

same_run min "$PROGS/smallstack" 5 16
same_run deep "$PROGS/smallstack" 48 64
for d in min.*.bin deep.*.bin; do
	check_dump "$d"
	[ "$(wfield "$d" 'd["counts"].get("RC_NEW_BLOCK", 0)')" -ge 2000 ] ||
		fail "$d: the thread's objects were not recorded"
done
exit 0
