# An existing file or symlink at the dump (or ring) path is never written
# through: one line on stderr, nothing recorded, the program runs normally.
. "$ROOT/tests/e2e/lib.sh"
. "$ROOT/tests/e2e/shim_lib.sh"

"$PROGS/exits" return7 > plain.out 2>&1
plain_rc=$?

: > exists.bin
RCPROF_OUT=exists.bin LD_PRELOAD="$SHIM" "$PROGS/exits" return7 > out.txt 2> err.txt
expect_eq "exit status" $? "$plain_rc"
cmp -s out.txt plain.out || fail "stdout differs when refusing"
expect_eq "stderr" "$(cat err.txt)" "rcprof: cannot create $TMP/exists.bin: File exists; not recording"
[ ! -s exists.bin ] || fail "existing file was written"
[ ! -e exists.bin.ring ] || fail "ring created although the dump was refused"

echo secret > target
ln -s target link.bin
RCPROF_OUT=link.bin LD_PRELOAD="$SHIM" "$PROGS/exits" return7 > out.txt 2> err.txt
expect_eq "exit status (symlink)" $? "$plain_rc"
expect_eq "symlink target" "$(cat target)" secret
[ "$(wc -l < err.txt)" -eq 1 ] || fail "symlink: expected one line on stderr"
grep -q '^rcprof: cannot create .*link.bin: File exists; not recording$' err.txt ||
	fail "symlink: unexpected message: $(cat err.txt)"

ln -s target ring.bin.ring
RCPROF_OUT=ring.bin LD_PRELOAD="$SHIM" "$PROGS/exits" return7 > out.txt 2> err.txt
expect_eq "exit status (ring)" $? "$plain_rc"
grep -q '^rcprof: cannot create .*ring.bin.ring: File exists; not recording$' err.txt ||
	fail "ring symlink: unexpected message: $(cat err.txt)"
[ ! -e ring.bin ] || fail "dump left behind after refusing the ring"
expect_eq "symlink target" "$(cat target)" secret

# The message goes to a stderr nobody reads any more (the reader of the
# pipe has exited): writing it must not kill the program with SIGPIPE.
{ sleep 0.3; RCPROF_OUT=exists.bin LD_PRELOAD="$SHIM" "$PROGS/exits" return7 \
	2>&1 > /dev/null; echo $? > pipe.status; } | true
expect_eq "exit status, stderr a closed pipe (141: SIGPIPE)" "$(cat pipe.status)" "$plain_rc"

# A small RLIMIT_AS (40 MB): the recorder's tables would come off what the
# program may allocate (before: 0.5 of its 16 MB), so it does not record.
(ulimit -v 40000 && exec "$PROGS/memlimit") > mem.plain.out 2>&1 ||
	fail "ulimit -v 40000, without the recorder: $(cat mem.plain.out)"
(ulimit -v 40000 && RCPROF_OUT=mem.bin LD_PRELOAD="$SHIM" \
	exec "$PROGS/memlimit") > mem.prof.out 2> mem.prof.err
expect_eq "ulimit -v 40000: exit status" $? 0
cmp -s mem.plain.out mem.prof.out ||
	fail "ulimit -v 40000: $(cat mem.prof.out) (without: $(cat mem.plain.out))"
expect_eq "ulimit -v 40000: stderr" "$(cat mem.prof.err)" \
	"rcprof: the address-space limit (RLIMIT_AS 40000 KiB) is too low for the recorder's tables; not recording"
[ ! -e mem.bin ] || fail "ulimit -v 40000: a dump was written"

# With %p an existing name is not an error: the next free NAME.n is used.
RCPROF_OUT=p.%p.bin LD_PRELOAD="$SHIM" sh -c ': > p.$$.bin; exec '"$PROGS"'/exits return7' \
	> out.txt 2> err.txt
[ -s err.txt ] && fail "unexpected stderr: $(cat err.txt)"
ls p.*.bin.1 > /dev/null 2>&1 || fail "no NAME.1 dump next to an existing NAME"

# Set-uid style (AT_SECURE) runs are not recorded; not testable unprivileged
# here, so only the environment switches: RCPROF_DEPTH=0 means no stacks.
RCPROF_DEPTH=0 RCPROF_OUT=nodepth.bin LD_PRELOAD="$SHIM" "$PROGS/exits" return7 > /dev/null
check_dump nodepth.bin
expect_eq "no stacks" "$(wfield nodepth.bin 'd["counts"].get("STACK", 0)')" 0
exit 0
