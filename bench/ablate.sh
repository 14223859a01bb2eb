#!/bin/sh
# ablate.sh - where the recorder's CPU goes, by switching parts of it off.
#
#   sh bench/ablate.sh [ROUNDS]          default 11; BUILD=build
#
# Runs each workload natively, with the recorder's parts switched off by
# its own environment variables, and as shipped, one after the other,
# ROUNDS times, and prints for every variant the median over rounds of
# (its CPU ÷ the native run's CPU in the same round).  A round's runs are
# seconds apart, so a ratio compares runs made under the same load of a
# shared machine; a ratio of medians taken over minutes does not.
#
# Variants:
#   hooks      the shim preloaded, recording refused (RCPROF_OUT names an
#              existing file): the cost of interposition alone
#   no-stacks  RCPROF_DEPTH=0 (and RCPROF_RELEASE_DEPTH=0): every event,
#              no backtrace
#   no-release-stacks (rc churn) RCPROF_RELEASE_DEPTH=0
#   rcprof     as shipped
set -u

cd "$(dirname "$0")/.." || exit 1
BUILD=${BUILD:-build}
BUILD=$(cd "$BUILD" && pwd) || { echo "ablate: no build directory" >&2; exit 1; }
B=$BUILD/bench
SHIM=$BUILD/librcprof.so
ROUNDS=${1:-11}
ITERS=${BENCH_ITERS:-2000000}
RC_ITERS=${BENCH_RC_ITERS:-$((ITERS / 8))}
for p in measure malloc_churn rc_churn; do
	[ -x "$B/$p" ] || { echo "ablate: $B/$p missing (make bench-progs)" >&2; exit 1; }
done
[ -f "$SHIM" ] || { echo "ablate: $SHIM missing (make all)" >&2; exit 1; }

OUT=$(mktemp -d "${TMPDIR:-/tmp}/rcprof-ablate.XXXXXX") || exit 1
trap 'rm -rf "$OUT"' EXIT INT TERM
: > "$OUT/exists.bin"           # the dump path the shim refuses
RES=$OUT/results.txt
: > "$RES"

# one ROUND LABEL ENV... -- PROG ARGS: one measured run, "ROUND LABEL CPU"
one() {
	o_round=$1 o_label=$2
	shift 2
	rm -f "$OUT/d.bin" "$OUT/d.bin.ring"
	cpu=$("$B/measure" -l x -- env "$@" 2>&1 >/dev/null |
	      sed -n 's/.* cpu=\([0-9.]*\).*/\1/p')
	echo "$o_round $o_label ${cpu:-nan}" >> "$RES"
}

P="LD_PRELOAD=$SHIM"
D="RCPROF_OUT=$OUT/d.bin"
r=1
while [ "$r" -le "$ROUNDS" ]; do
	echo "ablate: round $r/$ROUNDS" >&2
	one "$r" m:native   "$B/malloc_churn" "$ITERS" 1
	one "$r" m:hooks    "$P" "RCPROF_OUT=$OUT/exists.bin" "$B/malloc_churn" "$ITERS" 1
	one "$r" m:nostacks "$P" "$D" RCPROF_DEPTH=0 "$B/malloc_churn" "$ITERS" 1
	one "$r" m:rcprof   "$P" "$D" "$B/malloc_churn" "$ITERS" 1
	one "$r" r:native   "$B/rc_churn" "$RC_ITERS" 1
	one "$r" r:hooks    "$P" "RCPROF_OUT=$OUT/exists.bin" "$B/rc_churn" "$RC_ITERS" 1
	one "$r" r:nostacks "$P" "$D" RCPROF_DEPTH=0 RCPROF_RELEASE_DEPTH=0 "$B/rc_churn" "$RC_ITERS" 1
	one "$r" r:norel    "$P" "$D" RCPROF_RELEASE_DEPTH=0 "$B/rc_churn" "$RC_ITERS" 1
	one "$r" r:rcprof   "$P" "$D" "$B/rc_churn" "$RC_ITERS" 1
	r=$((r + 1))
done

# ratio W LABEL: median over rounds of LABEL's CPU / W:native's CPU
ratio() {
	awk -v w="$1" -v l="$1:$2" '
		$2 == w ":native" { nat[$1] = $3 }
		$2 == l { v[$1] = $3 }
		END {
			n = 0
			for (k in v) if (nat[k] > 0) r[n++] = v[k] / nat[k]
			for (i = 0; i < n; i++) for (j = i + 1; j < n; j++)
				if (r[j] < r[i]) { t = r[i]; r[i] = r[j]; r[j] = t }
			if (!n) { print "n/a"; exit }
			printf "%.2f\n", (n % 2) ? r[(n - 1) / 2] : (r[n / 2 - 1] + r[n / 2]) / 2
		}' "$RES"
}
median_native() {
	awk -v l="$1:native" '$2 == l { v[n++] = $3 }
		END { for (i = 0; i < n; i++) for (j = i + 1; j < n; j++)
			if (v[j] < v[i]) { t = v[i]; v[i] = v[j]; v[j] = t }
		      if (n) printf "%.3f\n", v[int((n - 1) / 2)] }' "$RES"
}

echo "| malloc churn, 1 thread (native $(median_native m) s CPU) | × native CPU |"
echo "| --- | --- |"
echo "| hooks only (recording refused) | $(ratio m hooks) |"
echo "| + both events, no stacks (\`RCPROF_DEPTH=0\`) | $(ratio m nostacks) |"
echo "| + the allocation's stack: rcprof as shipped | $(ratio m rcprof) |"
echo
echo "| rc churn, 1 thread (plain librc $(median_native r) s CPU) | × plain librc CPU |"
echo "| --- | --- |"
echo "| hooks only (recording refused) | $(ratio r hooks) |"
echo "| + the events, no stacks (\`RCPROF_DEPTH=0 RCPROF_RELEASE_DEPTH=0\`) | $(ratio r nostacks) |"
echo "| + creation stacks, no release stacks (\`RCPROF_RELEASE_DEPTH=0\`) | $(ratio r norel) |"
echo "| + release stacks: rcprof as shipped | $(ratio r rcprof) |"
echo
echo "$ROUNDS rounds; median over rounds of each run's CPU ÷ the native run of the same round."
