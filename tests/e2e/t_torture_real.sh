# More real programs under the shim, output and exit status identical to a
# plain run, every dump readable: git init/add/commit, sqlite3 building an
# index over 50 k rows, a C++ program with std::map and std::thread.
. "$ROOT/tests/e2e/lib.sh"
. "$ROOT/tests/e2e/shim_lib.sh"

check_all() {
	n=0
	for d in "$1".*.bin*; do
		case $d in *.ring|*.json) continue ;; esac
		[ -f "$d" ] || continue
		check_dump "$d"
		n=$((n + 1))
	done
	[ $n -gt 0 ] || fail "$1: no dump written"
}
ran=0

if command -v git > /dev/null; then
	cat > git.sh <<'SH'
set -e
rm -rf repo; mkdir repo; cd repo
git init -q .
git config user.email t@example.com; git config user.name tester
seq 1 5000 > a.txt; printf 'hello\n' > b.txt
git add a.txt b.txt
git commit -q -m first
seq 1 100 >> a.txt
git commit -q -am second
git log --format=%s
git diff --stat HEAD~1 | tail -n 1
SH
	same_run git sh git.sh
	check_all git
	ran=$((ran + 1))
fi

if command -v sqlite3 > /dev/null; then
	cat > sq.sql <<'SQL'
create table t(id integer primary key, k text, v integer);
with recursive c(x) as (select 1 union all select x + 1 from c where x < 50000)
insert into t(k, v) select hex(randomblob(4)) || x, x * 7 % 1000 from c;
create index t_k on t(k);
create index t_v on t(v);
select count(*), sum(v) from t where v between 100 and 200;
pragma integrity_check;
SQL
	same_run sqidx sh -c 'rm -f idx.db; sqlite3 idx.db < sq.sql'
	check_all sqidx
	ran=$((ran + 1))
fi

if command -v g++ > /dev/null; then
	g++ -O1 -g -pthread -o cxx_map "$ROOT/tests/e2e/src/cxx_map.cpp" || fail "g++ build"
	same_run cxx ./cxx_map
	check_all cxx
	d=$(one_dump cxx)
	report_json "$d" cxx.json
	expect_eq "C++ errors" "$(json_get cxx.json summary.errors)" 0
	ran=$((ran + 1))
fi
[ $ran -gt 0 ] || skip "none of git, sqlite3, g++ is installed"
exit 0
