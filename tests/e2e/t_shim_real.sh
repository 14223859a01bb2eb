# Real programs under the shim: identical output and exit status, and a
# dump the report can read: python3 (threads + sqlite3), gcc, sqlite3,
# xz -T2.
. "$ROOT/tests/e2e/lib.sh"
. "$ROOT/tests/e2e/shim_lib.sh"

ran=0
check_all() {
	for d in "$1".*.bin*; do
		case $d in *.ring|*.json) continue ;; esac
		check_dump "$d"
	done
}

if command -v python3 > /dev/null; then
	cat > py.py <<'PY'
import sqlite3, threading, hashlib
def work(i):
    db = sqlite3.connect(":memory:")
    db.execute("create table t(a, b)")
    db.executemany("insert into t values (?, ?)", [(j, str(j) * 5) for j in range(2000)])
    r = db.execute("select count(*), sum(a) from t where b like '%7%'").fetchone()
    out[i] = (r, hashlib.sha256(repr(r).encode()).hexdigest()[:12])
out = {}
ts = [threading.Thread(target=work, args=(i,)) for i in range(4)]
[t.start() for t in ts]; [t.join() for t in ts]
print(sorted(out.items()))
PY
	same_run py python3 py.py
	check_all py
	ran=$((ran + 1))
fi
if command -v gcc > /dev/null; then
	printf '#include <stdio.h>\nint main(void){puts("hi");return 0;}\n' > hello.c
	same_run gcc gcc -O2 -o hello hello.c
	./hello > /dev/null || fail "gcc output does not run"
	check_all gcc
	same_run gccerr gcc -c nonexistent.c
	ran=$((ran + 1))
fi
if command -v sqlite3 > /dev/null; then
	same_run sq sh -c 'rm -f db.sqlite; sqlite3 db.sqlite "create table t(x); insert into t values(1),(2),(3); select sum(x) from t;"' 
	check_all sq
	ran=$((ran + 1))
fi
if command -v xz > /dev/null; then
	seq 1 200000 > data.txt
	same_run xz sh -c 'xz -T2 -c data.txt | xz -dc | md5sum'
	check_all xz
	ran=$((ran + 1))
fi
[ $ran -gt 0 ] || skip "none of python3, gcc, sqlite3, xz is installed"
exit 0
