#!/bin/sh
# run.sh - runs every tests/e2e/t_*.sh.  Each script gets BUILD (the build
# directory, absolute), a private TMP directory and symbol cache
# (RCPROF_SYMCACHE=$TMP/symcache); it exits 0 on success,
# 77 to skip (with a reason on stdout), anything else on failure.
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
BUILD=$(cd "$root/${BUILD:-build}" && pwd)
export BUILD ROOT="$root"
pass=0 fail=0 skip=0 failed=""
for t in "$here"/t_*.sh; do
	[ -e "$t" ] || continue
	name=$(basename "$t" .sh)
	TMP=$(mktemp -d "${TMPDIR:-/tmp}/rcprof-e2e.XXXXXX")
	# each test its own symbol cache: no test sees what another left
	RCPROF_SYMCACHE="$TMP/symcache"
	export TMP RCPROF_SYMCACHE
	out=$(cd "$TMP" && sh "$t" 2>&1)
	rc=$?
	if [ $rc -eq 0 ]; then
		pass=$((pass + 1)); echo "  PASS     $name"
	elif [ $rc -eq 77 ]; then
		skip=$((skip + 1)); echo "  SKIP     $name: $(echo "$out" | tail -n 1)"
	else
		fail=$((fail + 1)); failed="$failed $name"
		echo "  FAIL     $name (exit $rc)"; echo "$out" | tail -n 40 | sed 's/^/    | /'
	fi
	rm -rf "$TMP"
done
echo "e2e: $pass passed, $fail failed, $skip skipped"
[ $fail -eq 0 ] || { echo "failed:$failed"; exit 1; }
