# Threads cancelled while they allocate (tests/progs/cancel.c): malloc is
# not a cancellation point, so the recorder's drains, waits and unwinds
# inside it must not be either.  The previous build hung for ever: a
# thread cancelled in the dump's writev died holding the drain flag.
# A tiny ring makes every thread drain often.
. "$ROOT/tests/e2e/lib.sh"
. "$ROOT/tests/e2e/shim_lib.sh"

timeout 120 "$PROGS/cancel" 20 > plain.out 2>&1
expect_eq "native exit status" $? 0
timeout 120 env RCPROF_RING_KB=16 RCPROF_OUT="cancel.%p.bin" \
	LD_PRELOAD="$SHIM" "$PROGS/cancel" 20 > prof.out 2> prof.err
expect_eq "exit status under the shim (124: hung)" $? 0
expect_eq "output" "$(cat prof.out)" done
expect_eq "stderr" "$(cat prof.err)" ""
check_dump "$(one_dump cancel)"
exit 0
