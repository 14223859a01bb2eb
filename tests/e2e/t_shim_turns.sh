# Two threads taking turns (tests/progs/turns.c): one records at a time,
# so the recorder keeps counted stamps, and each turn's first stamp claims
# the counter (preload/shim/clock.c).  The report is clean only when every
# claim orders the turn after the one before: an object made on one turn
# dies on the next, on the other thread, and freed blocks are reused by
# either.  (A claim that does not move the new owner's counter up to the
# clock gave 82153 errors in the first run.)  Three runs, each
# clean, and most of each stream's events one counted step (1 ns) after
# the one before: the claims, not the clock, ordered them.  Then one run
# of short turns, which switches to the clock half-way.
. "$ROOT/tests/e2e/lib.sh"
. "$ROOT/tests/e2e/shim_lib.sh"
TURNS=${TURNS_TURNS:-20}
BATCH=${TURNS_BATCH:-1000}

i=1
while [ $i -le 3 ]; do
	same_run "t$i" "$PROGS/turns" "$TURNS" "$BATCH"
	n=$((TURNS * BATCH))
	grep -qx "turns: turns=$TURNS batch=$BATCH made=$n finished=$n" \
		"t$i.prof.out" || fail "run $i: $(cat "t$i.prof.out")"
	d=$(one_dump "t$i")
	check_dump "$d"
	expect_clean "$d" "run $i"
	expect_eq "run $i rc_objects" "$(json_get "$d.json" summary.rc_objects)" "$n"
	# share of consecutive events of a stream stamped 1 ns apart
	share=$($RCPDUMP --events "$d" | awk '
		{ k = $2; if (k in p) { n++; if ($1 - p[k] == 1) one++ } p[k] = $1 }
		END { printf "%d", n ? 100 * one / n : 0 }')
	[ "$share" -ge 90 ] ||
		fail "run $i: only $share % of the steps counted (the clock took over)"
	i=$((i + 1))
done

# Short turns: the claims come close together, and after 16 of them the
# process switches to the clock in the middle of the run; the report is
# as clean, and most steps are clocked.
same_run fast "$PROGS/turns" 2000 1
d=$(one_dump fast)
check_dump "$d"
expect_clean "$d" "short turns"
share=$($RCPDUMP --events "$d" | awk '
	{ k = $2; if (k in p) { n++; if ($1 - p[k] == 1) one++ } p[k] = $1 }
	END { printf "%d", n ? 100 * one / n : 0 }')
[ "$share" -lt 50 ] || fail "short turns: $share % of the steps counted, expected the clock"
exit 0
