# The on-disk symbol cache (README "Symbol cache"): a report made from the
# cache is the same as one made from DWARF, text and JSON; the cache holds
# what was looked up; a warm report does not open the debug files again;
# RCPROF_SYMCACHE=off reads and writes nothing.
. "$ROOT/tests/e2e/lib.sh"
R="$BUILD/rcprof-report"
P="$BUILD/progs/leaky"
[ -x "$P" ] || skip "build/progs/leaky missing (make progs)"
profile l.bin "$P" > /dev/null || fail "run leaky"

SC="$TMP/sc"
RCPROF_SYMCACHE="$SC" "$R" l.bin > cold.txt
RCPROF_SYMCACHE="$SC" "$R" --format json l.bin > cold.json
ls "$SC"/*.sym > /dev/null 2>&1 || fail "no cache file written"
grep -q "=leak_buf" "$SC"/*.sym || fail "the program's own frames are not in the cache"
RCPROF_SYMCACHE="$SC" "$R" l.bin > warm.txt
RCPROF_SYMCACHE="$SC" "$R" --format json l.bin > warm.json
RCPROF_SYMCACHE=off "$R" l.bin > off.txt
RCPROF_SYMCACHE=off "$R" --format json l.bin > off.json
grep -q "leak_buf" cold.txt || fail "report has no symbols"
cmp -s cold.txt warm.txt || { diff cold.txt warm.txt | head; fail "text differs with a warm cache"; }
cmp -s cold.json warm.json || fail "json differs with a warm cache"
cmp -s off.txt warm.txt || fail "text differs without the cache"
cmp -s off.json warm.json || fail "json differs without the cache"

# off: nothing is written
RCPROF_SYMCACHE=off "$R" l.bin > /dev/null
[ ! -e "$TMP/off" ] || fail "off created a directory"
n_before=$(ls "$SC" | wc -l)
RCPROF_SYMCACHE="$TMP/other" "$R" l.bin > /dev/null
[ -d "$TMP/other" ] || fail "a missing cache directory is not created"
expect_eq "files in the first cache" "$(ls "$SC" | wc -l)" "$n_before"

# A warm report opens neither the program's file for DWARF nor a debug
# file under /usr/lib/debug; a cold one does.  (Only where strace works.)
if command -v strace > /dev/null 2>&1 &&
	strace -f -e trace=openat -o probe.trace true 2> /dev/null; then
	RCPROF_SYMCACHE="$SC" strace -f -e trace=openat -o warm.trace "$R" l.bin > /dev/null
	if grep -q '"'"$P"'"' warm.trace; then
		fail "a warm report opened $P"
	fi
	if grep -q '/usr/lib/debug/' warm.trace; then
		fail "a warm report opened a debug file"
	fi
	RCPROF_SYMCACHE=off strace -f -e trace=openat -o cold.trace "$R" l.bin > /dev/null
	grep -q '"'"$P"'"' cold.trace || fail "the cold report did not open $P (strace check is wrong)"
fi

# a damaged cache file is ignored and rewritten
for f in "$SC"/*.sym; do printf 'rcprof-symcache 1\nsig x\n@1 1\n' > "$f"; done
RCPROF_SYMCACHE="$SC" "$R" l.bin > damaged.txt
cmp -s damaged.txt off.txt || fail "text differs with a damaged cache"
grep -q "=leak_buf" "$SC"/*.sym || fail "a damaged cache file was not rewritten"
exit 0
