# Security: a setgid program (AT_SECURE) records nothing; a dump claiming
# huge counts cannot make the analyzer allocate more than the file size
# justifies; the fuzz corpus is read without a crash under a memory limit.
. "$ROOT/tests/e2e/lib.sh"
. "$ROOT/tests/e2e/shim_lib.sh"

# --- a dump that lies about sizes -----------------------------------------
python3 - <<'PY'
import struct
def rec(t, payload):
    pad = (-len(payload)) % 8
    return struct.pack("<II", t, len(payload)) + payload + b"\0" * pad
def u(v):
    out = b""
    while v >= 0x80:
        out += bytes([(v & 0x7f) | 0x80]); v >>= 7
    return out + bytes([v])
hdr = b"RCPROFD\n" + struct.pack("<IIQQ", 1, 32, 1, 0)
proc = struct.pack("<IIQIIII", 1, 1, 1, 0, 0, 64, 0)
# events: a STACK claiming 2^60 frames, a STRING claiming 2^62 bytes,
# a MODULE with 2^40 segments, a MALLOC of 2^63 bytes
ev = bytes([12]) + u(0) + u(1) + u(1 << 60) + u(5)
ev += bytes([13]) + u(1) + u(2) + u(1 << 62) + b"abc"
ev += bytes([14]) + u(1) + u(0x400000) + u(2) + u(0) + u(1 << 40) + u(1)
ev += bytes([1]) + u(1) + u(0x1000) + u(1 << 63) + u(1) + u(0)
chunk = struct.pack("<IHHQQII", 7, 0, 1, 0, 1, len(ev), 0) + ev
# a chunk whose `used` claims far more than the record holds
liar = struct.pack("<IHHQQII", 8, 0, 1, 0, 1, 0xffffffff, 0) + ev
# a record whose length runs past the end of the file
tail = struct.pack("<II", 2, 0x7fffffff) + b"x" * 16
open("huge.bin", "wb").write(hdr + rec(1, proc) + rec(2, chunk) + rec(2, liar) + tail)
PY
for f in huge.bin "$ROOT"/tests/fuzz/corpus/*; do
	# 512 MiB of address space is far more than any of these files justify
	( ulimit -v 524288; "$BUILD/rcprof-report" --format json "$f" > out.json 2> err.txt )
	rc=$?
	[ $rc -le 2 ] || fail "$f: rcprof-report exit $rc: $(head -n 3 err.txt)"
	if [ $rc -ne 2 ]; then
		python3 -c 'import json; json.load(open("out.json"))' || fail "$f: invalid JSON"
	fi
done
[ "$(json_get out.json truncated 2>/dev/null)" != "" ] || true

# --- AT_SECURE: a setgid program linked with the shim records nothing -----
[ "$(id -u)" = 0 ] || skip "setgid test needs root (to chgrp the test program)"
grp=$(getent group nogroup > /dev/null && echo nogroup || echo daemon)
cat > sec.c <<'C'
#include <stdio.h>
#include <stdlib.h>
int main(void) { void *p = malloc(100); printf("ok %d\n", p != NULL); return 0; }
C
# DT_NEEDED with an absolute RUNPATH: honoured in secure mode, unlike
# LD_PRELOAD with a slash, so the shim really is loaded into the program.
cc -o sec sec.c -L"$BUILD" -Wl,-rpath,"$BUILD" -Wl,--no-as-needed -lrcprof || fail "build sec"
chgrp "$grp" sec && chmod g+s sec || fail "chmod g+s"
RCPROF_OUT="$TMP/sec.%p.bin" ./sec > sec.out 2> sec.err || fail "setgid program failed"
expect_eq "setgid output" "$(cat sec.out)" "ok 1"
ls sec.*.bin > /dev/null 2>&1 && fail "a setgid program wrote a dump"
# the same program without the setgid bit does record
chmod g-s sec
RCPROF_OUT="$TMP/sec.%p.bin" ./sec > /dev/null || fail "plain run failed"
ls sec.*.bin > /dev/null 2>&1 || fail "control run wrote no dump: the test proves nothing"
exit 0
