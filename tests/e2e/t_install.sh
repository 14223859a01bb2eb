# make install PREFIX=...: libraries, programs, headers and rcprof.pc; an
# application built with pkg-config runs under the installed `rcprof run`,
# which finds the shim in PREFIX/lib.
. "$ROOT/tests/e2e/lib.sh"
command -v pkg-config > /dev/null || skip "pkg-config not installed"
make -s -C "$ROOT" BUILD="$BUILD" install PREFIX="$TMP/pfx" > install.log 2>&1 ||
	{ cat install.log; fail "make install"; }
for f in lib/librc.so lib/librcprof.so bin/rcprof bin/rcprof-report \
	 include/rcprof.h include/rcprof_dump.h lib/pkgconfig/rcprof.pc; do
	[ -e "$TMP/pfx/$f" ] || fail "not installed: $f"
done
export PKG_CONFIG_PATH="$TMP/pfx/lib/pkgconfig"
cc -o app "$ROOT/examples/demo.c" $(pkg-config --cflags --libs rcprof) \
	-Wl,-rpath,"$TMP/pfx/lib" || fail "build with pkg-config"
"$TMP/pfx/bin/rcprof" run --out out --fail-on cycles --error-exitcode 5 -- ./app \
	> app.out 2> app.err
expect_eq "installed rcprof run gate" $? 5
expect_eq stdout "$(cat app.out)" "hello, rcprof"
grep -q "3 garbage cycles" app.err || { cat app.err; fail "no report from the installed tools"; }
exit 0
