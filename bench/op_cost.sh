#!/bin/sh
# op_cost.sh [ROUNDS] - per-operation cost, native and under the recorder.
#
# Runs build/bench/op_cost natively and under LD_PRELOAD=build/librcprof.so,
# alternating, ROUNDS times (default 7), and prints the median ns of each
# operation both ways and what the recorder adds.  Single figures in
# nanoseconds are steadier than the churn workloads' ratios on a shared
# machine: use it to compare recorder builds (BUILD=dir).
set -eu
ROUNDS=${1:-7}
BUILD=${BUILD:-build}
B=$BUILD/bench/op_cost
SHIM=$BUILD/librcprof.so
[ -x "$B" ] || { echo "op_cost.sh: $B not built (make bench-progs)" >&2; exit 2; }
[ -f "$SHIM" ] || { echo "op_cost.sh: $SHIM not built (make all)" >&2; exit 2; }
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
r=1
while [ "$r" -le "$ROUNDS" ]; do
	"$B" | sed 's/^op_cost /native /' >> "$TMP/all"
	RCPROF_OUT="$TMP/d.%p.bin" LD_PRELOAD="$SHIM" "$B" |
		sed 's/^op_cost /rcprof /' >> "$TMP/all"
	rm -f "$TMP"/d.*
	r=$((r + 1))
done
echo "per operation, ns of thread CPU, medians of $ROUNDS alternating rounds"
echo "| operation | native | rcprof | added |"
echo "| --- | --- | --- | --- |"
for op in retain release new+free set+clear malloc+free; do
	n=$(awk -v o="$op" '$1 == "native" && $2 == o { print $3 }' "$TMP/all" | sort -n |
		awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
	p=$(awk -v o="$op" '$1 == "rcprof" && $2 == o { print $3 }' "$TMP/all" | sort -n |
		awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
	echo "| $op | $n | $p | $(awk -v a="$p" -v b="$n" 'BEGIN { printf "%.1f", a - b }') |"
done
