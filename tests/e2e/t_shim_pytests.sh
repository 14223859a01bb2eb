# CPython's own regression tests of descriptor handling, run under the
# shim: children spawned with fd 0 closed, pass_fds and close_fds, fds
# left open above a lowered RLIMIT_NOFILE.  They fail when the recorder's
# descriptors take the program's numbers or are visible below the soft
# limit (the last shipped build failed test_close_file and
# test_pass_fds_redirected).  Debian's python3 and its test package
# (libpython3.11-testsuite, installed by make check-deps).
. "$ROOT/tests/e2e/lib.sh"
. "$ROOT/tests/e2e/shim_lib.sh"

PY=/usr/bin/python3
$PY -c 'import test.test_subprocess, test.test_posix' 2> /dev/null ||
	skip "CPython's test package is not installed (libpython3.11-testsuite)"

hard=$(ulimit -Hn)
[ "$hard" = unlimited ] || [ "$hard" -ge 1100 ] ||
	skip "hard RLIMIT_NOFILE $hard: no room above a soft limit of 1024"
# Without room above the soft limit, test_pass_fds_redirected sees the
# recorder's descriptors at 512 (README, "The recorder's own file
# descriptors"); with it they are above the limit.
ulimit -Sn 1024

set -- -v test_subprocess test_posix \
	-m test_close_file -m test_pass_fds_redirected -m test_pass_fds \
	-m 'test_close_fds*' -m test_pass_fds_inheritable -m test_dup2

$PY -m test "$@" > native.out 2>&1 ||
	skip "these CPython tests fail without rcprof here: $(tail -3 native.out)"
passed=$(grep -c '\.\.\. ok$' native.out)
[ "$passed" -ge 12 ] || fail "only $passed tests passed without rcprof: $(tail -5 native.out)"

RCPROF_OUT="$PWD/py.%p.bin" LD_PRELOAD="$SHIM" $PY -m test "$@" \
	> prof.out 2>&1 || fail "under the shim: $(grep -E 'FAIL|ERROR|Error|rcprof' prof.out | head -20)"
expect_eq "tests passed under the shim" "$(grep -c '\.\.\. ok$' prof.out)" "$passed"
grep -q 'rcprof:' prof.out && fail "the shim wrote to the tests' output: $(grep rcprof: prof.out | head -3)"
n=$(ls py.*.bin 2> /dev/null | wc -l)
[ "$n" -ge 10 ] || fail "expected a dump per python process, found $n"
exit 0
