# errno after each successful malloc/calloc/realloc/free and rc call is what
# the call left, whatever the recorder does in between: chunks sealed and
# drained into the dump (a tiny ring), and a dump that can no longer be
# written.  And the recorder never raises SIGXFSZ: under a small
# RLIMIT_FSIZE (SIGXFSZ left at its default action, which kills) it gives
# up the recording, not the program.
. "$ROOT/tests/e2e/lib.sh"
. "$ROOT/tests/e2e/shim_lib.sh"

same_run errno "$PROGS/errno_keep" 20000
grep -q ' errno changed 0 times$' errno.prof.out ||
	fail "errno changed under the shim: $(cat errno.prof.out errno.prof.err)"
check_dump "$(ls errno.*.bin | head -n 1)"

# The dump closed behind libc's back at different points: the next write
# fails (EBADF), recording stops, errno stays the program's.
for n in 3000 9000 15000; do
	RCPROF_RING_KB=16 RCPROF_OUT="closed$n.%p.bin" LD_PRELOAD="$SHIM" \
		"$PROGS/errno_keep" "$n" close-dump > "closed$n.out" 2> "closed$n.err"
	expect_eq "close-dump $n: exit status" $? 0
	grep -q 'dump file descriptor was closed by the program; recording stops' \
		"closed$n.err" || fail "close-dump $n: the dump was not lost: $(cat "closed$n.err")"
	grep -q ' errno changed 0 times$' "closed$n.out" ||
		fail "close-dump $n: $(cat "closed$n.out" "closed$n.err")"
done

# RLIMIT_FSIZE, in ulimit's blocks (512 bytes in sh, 1024 in bash): below
# the ring file (64 KiB), nothing is recorded; above it, the dump's writes
# stop at the limit.  Either way one line on stderr, exit status 0.
for blocks in 64 300 600; do
	(ulimit -f "$blocks" &&
	 RCPROF_RING_KB=16 RCPROF_OUT="fsize$blocks.%p.bin" LD_PRELOAD="$SHIM" \
		"$PROGS/errno_keep" 20000 > "fsize$blocks.out" 2> "fsize$blocks.err")
	expect_eq "limit $blocks: exit status (153: killed by SIGXFSZ)" $? 0
	grep -q 'File too large; \(not recording\|recording stops\)$' \
		"fsize$blocks.err" || fail "limit $blocks: $(cat "fsize$blocks.err")"
	expect_eq "limit $blocks: lines on stderr" "$(wc -l < "fsize$blocks.err")" 1
	grep -q ' errno changed 0 times$' "fsize$blocks.out" ||
		fail "limit $blocks: $(cat "fsize$blocks.out" "fsize$blocks.err")"
done
grep -q 'not recording$' fsize64.err || fail "limit 64: $(cat fsize64.err)"

# And the message itself, to a stderr file already past the limit, is
# lost rather than the program (its write would raise SIGXFSZ).
head -c 40000 /dev/zero > big.err
(ulimit -f 64 &&
 RCPROF_RING_KB=16 RCPROF_OUT="fsizelog.%p.bin" LD_PRELOAD="$SHIM" \
	"$PROGS/errno_keep" 2000 > fsizelog.out 2>> big.err)
expect_eq "message past the limit: exit status (153: killed by SIGXFSZ)" $? 0
expect_eq "message past the limit: stderr file" "$(wc -c < big.err)" 40000
grep -q 'recording stops$' fsize600.err || fail "limit 600: $(cat fsize600.err)"
exit 0
