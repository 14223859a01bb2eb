#!/bin/sh
# run.sh - `make bench`: overhead, throughput and dump size of rcprof against
# native runs, heaptrack, LeakSanitizer and valgrind memcheck, in one run.
#
# Every workload (build/bench/*, see bench/README.md) runs natively and under
# each tool that is present.  The runs alternate - native, rcprof, heaptrack,
# lsan, memcheck, native, rcprof, ... - REPS times, and the medians are
# reported, so slow drifts of a shared machine hit every tool alike.  Each
# run goes through build/bench/measure, which reports wall time, user+sys CPU
# of the whole process tree (heaptrack's interpreter and compressor
# included) and the largest peak RSS of any process of the tree.
#
# memcheck is too slow for the full iteration count: it runs ITERS/MC_DIV
# iterations and its cost is scaled back to a per-operation ratio, with the
# start-up cost of both sides (a run with 0 iterations) subtracted.
#
# A tool that is not installed shows "not installed"; rcprof shows "not
# built" while build/librcprof.so or build/rcprof-report is missing.  No
# number is ever made up.
#
# Knobs (environment):
#   BENCH_REPS       repetitions per measurement             (5)
#   BENCH_AN_REPS    repetitions of the analyzer runs       (3 x BENCH_REPS)
#   BENCH_ITERS      malloc_churn steps per thread           (2000000)
#   BENCH_RC_ITERS   rc_churn steps per thread               (BENCH_ITERS/8)
#   BENCH_MC_DIV     memcheck runs 1/MC_DIV of the steps     (20)
#   BENCH_GRAPH_N    objects of the analyzer graph           (1000000)
#   BENCH_GRAPH_REPS analyzer runs on the graph dump         (3)
#   BENCH_TOOLS      subset of: native rcprof heaptrack lsan memcheck
#   BENCH_OUT        scratch directory       (BUILD/bench/out, emptied first)
#   BUILD            build directory                         (build)
set -u

cd "$(dirname "$0")/.." || exit 1
ROOT=$(pwd)
BUILD=${BUILD:-build}
BUILD=$(cd "$BUILD" && pwd) || { echo "bench: no build directory" >&2; exit 1; }
B=$BUILD/bench
REPS=${BENCH_REPS:-5}
AN_REPS=${BENCH_AN_REPS:-$((3 * REPS))}
ITERS=${BENCH_ITERS:-2000000}
RC_ITERS=${BENCH_RC_ITERS:-$((ITERS / 8))}
MC_DIV=${BENCH_MC_DIV:-20}
GRAPH_N=${BENCH_GRAPH_N:-1000000}
GRAPH_REPS=${BENCH_GRAPH_REPS:-3}
TOOLS=${BENCH_TOOLS:-native rcprof heaptrack lsan memcheck}
OUT=${BENCH_OUT:-$B/out}
MEASURE=$B/measure
RES=$OUT/results.txt
START=$(date +%s)

for p in measure malloc_churn rc_churn graph_gen; do
	[ -x "$B/$p" ] || { echo "bench: $B/$p missing (make bench-progs)" >&2; exit 1; }
done
rm -rf "$OUT"
mkdir -p "$OUT" || exit 1
: > "$RES"
NOTES=$OUT/notes.txt
: > "$NOTES"
note() { echo "$*" >> "$NOTES"; }
say() { echo "bench: $*" >&2; }

# --- which tools are here ---------------------------------------------------
# state_TOOL: "ok", or the text shown in the table instead of numbers.
want() { case " $TOOLS " in *" $1 "*) return 0 ;; esac; return 1; }

state_native=ok
SHIM=$BUILD/librcprof.so
REPORT=$BUILD/rcprof-report
if ! want rcprof; then
	state_rcprof="not selected"
elif [ -f "$SHIM" ] && nm -D --defined-only "$SHIM" 2>/dev/null | grep -q ' rcprof__observer$'; then
	state_rcprof=ok
else
	state_rcprof="not built"
fi
if [ -x "$REPORT" ]; then have_report=1; else have_report=0; fi

if ! want heaptrack; then state_heaptrack="not selected"
elif command -v heaptrack >/dev/null 2>&1; then state_heaptrack=ok
else state_heaptrack="not installed"; fi
if command -v heaptrack_print >/dev/null 2>&1; then have_hprint=1; else have_hprint=0; fi

LSAN=
for f in "$(gcc -print-file-name=liblsan.so.0 2>/dev/null)" \
	/usr/lib/x86_64-linux-gnu/liblsan.so.0 "/usr/lib/$(uname -m)-linux-gnu/liblsan.so.0"; do
	case $f in /*) [ -f "$f" ] && { LSAN=$f; break; } ;; esac
done
if ! want lsan; then state_lsan="not selected"
elif [ -n "$LSAN" ]; then state_lsan=ok
else state_lsan="not installed"; fi

if ! want memcheck; then state_memcheck="not selected"
elif command -v valgrind >/dev/null 2>&1; then state_memcheck=ok
else state_memcheck="not installed"; fi

tool_state() { eval "echo \"\$state_$1\""; }

say "tools: rcprof=$state_rcprof (report: $([ $have_report = 1 ] && echo yes || echo no)) heaptrack=$state_heaptrack lsan=$state_lsan memcheck=$state_memcheck"
say "reps=$REPS malloc_churn iters=$ITERS rc_churn iters=$RC_ITERS memcheck 1/$MC_DIV graph=$GRAPH_N"

# --- running one measurement -------------------------------------------------
# run TOOL WL PROG ITERS THREADS: one measured run; its result line is
# appended to $RES as "WL:TOOL wall=... status=N"; stdout in $OUT/WL.TOOL.out
run() {
	# r_ names: sh has no local variables and the callers loop over
	# tool/wl/prog.
	r_tool=$1 r_prog=$B/$3 r_n=$4 r_thr=$5
	base=$OUT/$2.$1
	label="$2:$1"
	case $r_tool in
	native|native0)
		"$MEASURE" -o "$RES" -l "$label" -- "$r_prog" "$r_n" "$r_thr" \
			> "$base.out" 2> "$base.err" ;;
	rcprof)
		rm -f "$base.bin" "$base.bin.ring"
		"$MEASURE" -o "$RES" -l "$label" -- env LD_PRELOAD="$SHIM" \
			RCPROF_OUT="$base.bin" "$r_prog" "$r_n" "$r_thr" \
			> "$base.out" 2> "$base.err" ;;
	heaptrack)
		rm -f "$base".ht.*
		"$MEASURE" -o "$RES" -l "$label" -- heaptrack -o "$base.ht" \
			"$r_prog" "$r_n" "$r_thr" > "$base.out" 2> "$base.err" ;;
	lsan)
		# exitcode=0: the leaks are intended; a real failure still
		# shows as a non-zero status.
		"$MEASURE" -o "$RES" -l "$label" -- env LD_PRELOAD="$LSAN" \
			LSAN_OPTIONS=exitcode=0 "$r_prog" "$r_n" "$r_thr" \
			> "$base.out" 2> "$base.err" ;;
	memcheck|memcheck0)
		"$MEASURE" -o "$RES" -l "$label" -- valgrind -q --leak-check=full \
			--log-file="$base.vg" "$r_prog" "$r_n" "$r_thr" \
			> "$base.out" 2> "$base.err" ;;
	esac
	# The program's checksum must not depend on the tool.
	case $r_tool in native0|memcheck0) return ;; esac
	sum=$(sed -n 's/.*checksum=\([0-9a-f]*\).*/\1/p' "$base.out")
	if [ -z "$sum" ]; then
		note "$2 under $1 printed no checksum (see $base.err)"
	fi
}

# Workloads: name program iterations threads.
WORKLOADS="malloc1 malloc_churn $ITERS 1
malloc2 malloc_churn $ITERS 2
rc1 rc_churn $RC_ITERS 1
rc2 rc_churn $RC_ITERS 2"

# Warm-up (page cache, CPU frequency), not recorded.
"$B/malloc_churn" 100000 1 > /dev/null
"$B/rc_churn" 20000 1 > /dev/null

# memcheck's per-operation scaling needs the start-up cost of each program.
if [ "$state_memcheck" = ok ]; then
	echo "$WORKLOADS" | while read -r wl prog n thr; do
		for r in 1 2; do
			run native0 "$wl" "$prog" 0 "$thr"
			run memcheck0 "$wl" "$prog" 0 "$thr"
		done
	done
fi

rep=1
while [ "$rep" -le "$REPS" ]; do
	say "repetition $rep/$REPS ($(($(date +%s) - START)) s)"
	echo "$WORKLOADS" | while read -r wl prog n thr; do
		for tool in native rcprof heaptrack lsan memcheck; do
			[ "$(tool_state $tool)" = ok ] || continue
			if [ $tool = memcheck ]; then
				run memcheck "$wl" "$prog" $((n / MC_DIV)) "$thr"
			else
				run $tool "$wl" "$prog" "$n" "$thr"
			fi
			# checksums: every tool must agree with the native run
			s=$(sed -n 's/.*checksum=\([0-9a-f]*\).*/\1/p' "$OUT/$wl.$tool.out")
			if [ $tool != memcheck ] && [ $tool != native ]; then
				ns=$(sed -n 's/.*checksum=\([0-9a-f]*\).*/\1/p' "$OUT/$wl.native.out")
				[ "$s" = "$ns" ] || echo "$wl:$tool checksum $s differs from native $ns" >> "$OUT/mismatch.txt"
			fi
		done
	done
	rep=$((rep + 1))
done

# --- statistics --------------------------------------------------------------
# med LABEL FIELD: median of FIELD over the runs labelled LABEL, or empty.
med() {
	awk -v l="$1" -v f="$2" '
		$1 == l { for (i = 2; i <= NF; i++) { split($i, kv, "=");
			if (kv[1] == f) v[n++] = kv[2] + 0 } }
		END { if (!n) exit
		      for (i = 0; i < n; i++) for (j = i + 1; j < n; j++)
			if (v[j] < v[i]) { t = v[i]; v[i] = v[j]; v[j] = t }
		      m = (n % 2) ? v[(n - 1) / 2] : (v[n / 2 - 1] + v[n / 2]) / 2
		      printf "%.6f\n", m }' "$RES"
}
# failed LABEL: the first non-zero exit status of the runs, or empty.
failed() {
	awk -v l="$1" '$1 == l { for (i = 2; i <= NF; i++) if ($i ~ /^status=/) {
		s = substr($i, 8) + 0; if (s != 0) { print s; exit } } }' "$RES"
}
calc() { awk "BEGIN { printf \"%s\", $1 }"; }
fmt() { awk -v v="$1" -v d="${2:-2}" 'BEGIN { printf "%.*f", d, v }'; }

# value WL TOOL FIELD: the median of the tool's field; for memcheck the
# per-operation equivalent at full ITERS ("" when not measurable).
value() {
	wl=$1 tool=$2 f=$3
	if [ $tool = memcheck ] && [ $f != maxrss_kb ]; then
		m=$(med "$wl:memcheck" "$f"); m0=$(med "$wl:memcheck0" "$f")
		n0=$(med "$wl:native0" "$f")
		[ -n "$m" ] && [ -n "$m0" ] && [ -n "$n0" ] || return
		# native(full) - native(0) is the native per-op cost x ITERS;
		# memcheck's is (m - m0) x MC_DIV.  Report native(0) + that.
		# Where valgrind's start-up varied more than the 1/MC_DIV run
		# took (m <= m0), there is no per-operation figure: n/a.
		awk -v m="$m" -v m0="$m0" 'BEGIN { exit !(m > m0) }' || return
		calc "$n0 + ($m - $m0) * $MC_DIV"
		return
	fi
	med "$wl:$tool" "$f"
}

# ratio_cell WL TOOL FIELD UNIT: "1.23 s (4.56×)" or the tool's state.
cell() {
	wl=$1 tool=$2 f=$3
	st=$(tool_state $tool)
	[ "$st" = ok ] || { printf '%s' "$st"; return; }
	fs=$(failed "$wl:$tool")
	[ -z "$fs" ] || { printf 'failed (exit %s)' "$fs"; return; }
	v=$(value "$wl" "$tool" "$f"); nv=$(med "$wl:native" "$f")
	[ -n "$v" ] || { printf 'n/a'; return; }
	if [ "$f" = maxrss_kb ]; then
		s="$(fmt "$(calc "$v / 1024")" 1) MB"
	else
		s="$(fmt "$v" 2) s"
	fi
	if [ $tool != native ] && [ -n "$nv" ]; then
		s="$s ($(fmt "$(calc "$v / $nv")" 2)×)"
	fi
	[ $tool = memcheck ] && [ "$f" != maxrss_kb ] && s="$s ¹"
	[ $tool = memcheck ] && [ "$f" = maxrss_kb ] && s="$s ²"
	printf '%s' "$s"
}

# ratio WL TOOL FIELD: tool / native, or empty.
ratio() {
	v=$(value "$1" "$2" "$3"); nv=$(med "$1:native" "$3")
	[ -n "$v" ] && [ -n "$nv" ] && [ -z "$(failed "$1:$2")" ] || return
	calc "$v / $nv"
}
# scaling TOOL WL1 WL2: the tool's CPU overhead ratio with 2 threads divided
# by the 1-thread one.
scaling() {
	st=$(tool_state "$1")
	[ "$st" = ok ] || { printf '%s' "$st"; return; }
	r1=$(ratio "$2" "$1" cpu); r2=$(ratio "$3" "$1" cpu)
	[ -n "$r1" ] && [ -n "$r2" ] || { printf 'n/a'; return; }
	printf '%s' "$(fmt "$(calc "$r2 / $r1")" 2)"
}
verdict() { # VALUE OP LIMIT
	[ -n "$1" ] || { printf 'n/a'; return; }
	awk -v v="$1" -v op="$2" -v l="$3" 'BEGIN {
		ok = (op == "le") ? v <= l : (op == "lt") ? v < l : v >= l
		printf "%s", ok ? "PASS" : "FAIL" }'
}

# --- rcprof dumps: events and bytes per event ----------------------------------
# json_events JSON KEY: an integer of the summary object.
json_summary() {
	if command -v python3 >/dev/null 2>&1; then
		python3 -c 'import json,sys
try:
    print(json.load(open(sys.argv[1]))["summary"][sys.argv[2]])
except Exception:
    pass' "$1" "$2"
	else
		tr -d '\n' < "$1" | sed -n "s/.*\"summary\"[^}]*\"$2\" *: *\([0-9]*\).*/\1/p"
	fi
}
dump_events() { # WL -> sets EV (events) BYTES
	EV= BYTES=
	d=$OUT/$1.rcprof.bin
	[ "$state_rcprof" = ok ] && [ $have_report = 1 ] && [ -f "$d" ] || return
	BYTES=$(( $(stat -c %s "$d") + $( [ -f "$d.ring" ] && stat -c %s "$d.ring" || echo 0) ))
	"$REPORT" --format json "$d" > "$OUT/$1.rcprof.json" 2> "$OUT/$1.rcprof.report.err"
	EV=$(json_summary "$OUT/$1.rcprof.json" events)
}
app_ops() { # WL: allocation + free calls the workload made itself
	sed -n 's/.*alloc_calls=\([0-9]*\) free_calls=\([0-9]*\).*/\1 \2/p' "$OUT/$1.native.out" |
		awk '{ print $1 + $2 }'
}
ht_file() { ls "$OUT/$1.heaptrack.ht".* 2>/dev/null | head -n 1; }

bpe_cell_rcprof() { # WL: uses EV_WL and BY_WL
	if [ "$state_rcprof" != ok ]; then printf '%s' "$state_rcprof"; return; fi
	if [ $have_report = 0 ]; then printf 'no rcprof-report'; return; fi
	eval "ev=\$EV_$1 by=\$BY_$1"
	if [ -z "$ev" ] || [ "$ev" = 0 ]; then printf 'report failed'; return; fi
	printf '%s B / %s ev = **%s**' "$by" "$ev" "$(fmt "$(calc "$by / $ev")" 2)"
}
bpe_cell_heaptrack() { # WL
	[ "$state_heaptrack" = ok ] || { printf '%s' "$state_heaptrack"; return; }
	f=$(ht_file "$1"); ops=$(app_ops "$1")
	[ -n "$f" ] && [ -n "$ops" ] || { printf 'n/a'; return; }
	s=$(stat -c %s "$f")
	printf '%s B / %s ops = %s ³' "$s" "$ops" "$(fmt "$(calc "$s / $ops")" 2)"
}

say "analysis ($(($(date +%s) - START)) s)"
dump_events malloc1; EV_malloc1=$EV; BY_malloc1=$BYTES
dump_events rc1; EV_rc1=$EV; BY_rc1=$BYTES
BPE_malloc1=; [ -n "$EV_malloc1" ] && [ "$EV_malloc1" != 0 ] && BPE_malloc1=$(calc "$BY_malloc1 / $EV_malloc1")
BPE_rc1=; [ -n "$EV_rc1" ] && [ "$EV_rc1" != 0 ] && BPE_rc1=$(calc "$BY_rc1 / $EV_rc1")
cell_bpe_m_rc=$(bpe_cell_rcprof malloc1)
cell_bpe_m_ht=$(bpe_cell_heaptrack malloc1)
cell_bpe_r_rc=$(bpe_cell_rcprof rc1)
cell_bpe_r_ht="records no rc events"

# --- analyzer throughput on the malloc churn recording ---------------------------
# The target is for one core: both readers run pinned to one CPU (the first
# this script may use), so rcprof-report's symbolization thread shares it
# with the replay.  rcprof-report also runs unpinned, for the wall time a
# 2-core machine gives.
AN_RC=; AN_COLD=; cell_an_rc=$state_rcprof; cell_an_ht=$state_heaptrack
M1_EV=$EV_malloc1
HTF=$(ht_file malloc1)
ONE_CPU=$(sed -n 's/^Cpus_allowed_list:[[:space:]]*\([0-9]*\).*/\1/p' /proc/self/status 2>/dev/null)
if command -v taskset >/dev/null 2>&1 && [ -n "$ONE_CPU" ]; then
	PIN="taskset -c $ONE_CPU"; pin_note="pinned to CPU $ONE_CPU"
else
	PIN=; pin_note="not pinned: no taskset"
fi
# A run takes a tenth of a second, so one hiccup of a shared machine is a
# large part of it: AN_REPS runs (3 x REPS) for a steadier median.
# The symbol cache (README, "Symbol cache") is a directory of this run's
# own, empty at first: the first run fills it, as a user's first report
# would.  The cold rate, without the cache, is measured alongside.
SYMCACHE_DIR="$OUT/symcache"
rm -rf "$SYMCACHE_DIR"
rep=1
while [ "$rep" -le "$AN_REPS" ]; do
	if [ -n "$M1_EV" ]; then
		RCPROF_SYMCACHE="$SYMCACHE_DIR" "$MEASURE" -o "$RES" -l "an:rcprof" -- \
			$PIN "$REPORT" --format json \
			"$OUT/malloc1.rcprof.bin" > /dev/null 2>&1
		RCPROF_SYMCACHE=off "$MEASURE" -o "$RES" -l "an:rcprof-cold" -- \
			$PIN "$REPORT" --format json \
			"$OUT/malloc1.rcprof.bin" > /dev/null 2>&1
		RCPROF_SYMCACHE="$SYMCACHE_DIR" "$MEASURE" -o "$RES" -l "an:rcprof-free" -- \
			"$REPORT" --format json \
			"$OUT/malloc1.rcprof.bin" > /dev/null 2>&1
	fi
	if [ "$state_heaptrack" = ok ] && [ $have_hprint = 1 ] && [ -n "$HTF" ]; then
		"$MEASURE" -o "$RES" -l "an:heaptrack" -- $PIN heaptrack_print "$HTF" \
			> "$OUT/malloc1.heaptrack_print.txt" 2>&1
	fi
	rep=$((rep + 1))
done
OPS=$(app_ops malloc1)
if [ -n "$M1_EV" ] && [ -z "$(failed an:rcprof)" ]; then
	w=$(med an:rcprof wall); c=$(med an:rcprof cpu); wf=$(med an:rcprof-free wall)
	wc=$(med an:rcprof-cold wall)
	AN_RC=$(calc "$M1_EV / $w / 1e6")
	AN_COLD=$(calc "$M1_EV / $wc / 1e6")
	# memory: the report's peak RSS beside the size of what it read
	rss=$(calc "$(med an:rcprof maxrss_kb) / 1024")
	dump_mb=$(calc "$BY_malloc1 / 1048576")
	cell_an_rc="**$(fmt "$AN_RC" 1) M ev/s** on one core ($pin_note: $M1_EV ev in $(fmt "$w" 3) s wall, $(fmt "$(calc "$M1_EV / $c / 1e6")" 1) M ev per CPU-s; app ops $(fmt "$(calc "$OPS / $w / 1e6")" 1) M/s); without the symbol cache (\`RCPROF_SYMCACHE=off\`, every report inflates glibc's DWARF) **$(fmt "$AN_COLD" 1) M ev/s** ($(fmt "$wc" 3) s); unpinned $(fmt "$(calc "$M1_EV / $wf / 1e6")" 1) M ev/s; peak RSS $(fmt "$rss" 1) MB for a $(fmt "$dump_mb" 1) MB dump"
elif [ "$state_rcprof" = ok ]; then
	if [ $have_report = 0 ]; then cell_an_rc="no rcprof-report"; else cell_an_rc="report failed"; fi
fi
if [ "$state_heaptrack" = ok ]; then
	if [ $have_hprint = 0 ]; then cell_an_ht="heaptrack_print not installed"
	elif [ -n "$(med an:heaptrack wall)" ] && [ -z "$(failed an:heaptrack)" ]; then
		w=$(med an:heaptrack wall); c=$(med an:heaptrack cpu)
		calls=$(sed -n 's/^calls to allocation functions: \([0-9]*\).*/\1/p' "$OUT/malloc1.heaptrack_print.txt")
		frees=$(sed -n 's/.*free_calls=\([0-9]*\).*/\1/p' "$OUT/malloc1.native.out")
		ev=$(calc "${calls:-0} + ${frees:-0}")
		cell_an_ht="$(fmt "$(calc "$ev / $w / 1e6")" 1) M ev/s ⁴ ($pin_note: $ev ev in $(fmt "$w" 2) s wall, $(fmt "$(calc "$ev / $c / 1e6")" 1) M ev per CPU-s)"
	else cell_an_ht="failed"; fi
fi

# --- the 1 M-object graph --------------------------------------------------------
GR_T=; cell_gr=$state_rcprof; cell_gr_rec=$state_rcprof
say "graph of $GRAPH_N objects ($(($(date +%s) - START)) s)"
"$MEASURE" -o "$RES" -l "graph:native" -- "$B/graph_gen" "$GRAPH_N" > "$OUT/graph.native.out" 2>&1
if [ "$state_rcprof" = ok ]; then
	rm -f "$OUT/graph.bin" "$OUT/graph.bin.ring"
	"$MEASURE" -o "$RES" -l "graph:rcprof" -- env LD_PRELOAD="$SHIM" \
		RCPROF_OUT="$OUT/graph.bin" "$B/graph_gen" "$GRAPH_N" > "$OUT/graph.out" 2> "$OUT/graph.err"
	cell_gr_rec="$(fmt "$(med graph:rcprof wall)" 2) s ($(fmt "$(calc "$(med graph:rcprof cpu) / $(med graph:native cpu)")" 2)× native CPU)"
	if [ $have_report = 1 ] && [ -f "$OUT/graph.bin" ]; then
		rep=1
		while [ "$rep" -le "$GRAPH_REPS" ]; do
			"$MEASURE" -o "$RES" -l "an:graph" -- "$REPORT" --format json \
				"$OUT/graph.bin" > "$OUT/graph.json" 2> "$OUT/graph.report.err"
			rep=$((rep + 1))
		done
		if [ -z "$(failed an:graph)" ]; then
			GR_T=$(med an:graph wall)
			gc=$(json_summary "$OUT/graph.json" cycles)
			gg=$(json_summary "$OUT/graph.json" garbage_objects)
			ge=$(json_summary "$OUT/graph.json" events)
			xc=$(sed -n 's/.* cycles=\([0-9]*\).*/\1/p' "$OUT/graph.out")
			xg=$(sed -n 's/.* garbage_objects=\([0-9]*\).*/\1/p' "$OUT/graph.out")
			ok=found; [ "$gc" = "$xc" ] && [ "$gg" = "$xg" ] || ok="MISMATCH"
			cell_gr="**$(fmt "$GR_T" 2) s** wall ($(fmt "$(med an:graph cpu)" 2) s CPU), $ge ev; cycles $gc (expected $xc), garbage $gg (expected $xg): $ok"
		else
			cell_gr="report failed (exit $(failed an:graph))"
		fi
	elif [ $have_report = 0 ]; then
		cell_gr="no rcprof-report"
	else
		cell_gr="no dump written"
	fi
fi

# --- the table -------------------------------------------------------------------
R_M1=$(ratio malloc1 rcprof cpu); R_R1=$(ratio rc1 rcprof cpu)
S_M=; S_R=
if [ "$state_rcprof" = ok ]; then
	r2=$(ratio malloc2 rcprof cpu); [ -n "$R_M1" ] && [ -n "$r2" ] && S_M=$(calc "$r2 / $R_M1")
	r2=$(ratio rc2 rcprof cpu); [ -n "$R_R1" ] && [ -n "$r2" ] && S_R=$(calc "$r2 / $R_R1")
fi
v_an=; [ -n "$AN_RC" ] && v_an=$AN_RC

row() { printf '| %s | %s | %s | %s | %s | %s | %s |\n' "$@"; }
tools_row() { # TITLE WL FIELD TARGET
	row "$1" "$(cell "$2" native "$3")" "$(cell "$2" rcprof "$3")" \
		"$(cell "$2" heaptrack "$3")" "$(cell "$2" lsan "$3")" \
		"$(cell "$2" memcheck "$3")" "$4"
}

echo
echo "## rcprof bench — $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs, medians of $REPS (analyzer runs: $AN_REPS)"
echo
echo "malloc churn: $ITERS steps/thread; rc churn: $RC_ITERS steps/thread; memcheck: 1/$MC_DIV of the steps, scaled."
echo
row "measurement" "native" "rcprof" "heaptrack" "LSan" "memcheck" "rcprof target"
row "---" "---" "---" "---" "---" "---" "---"
tools_row "malloc churn 1T: CPU" malloc1 cpu "≤ 2.0× native: $(verdict "$R_M1" le 2.0)"
tools_row "malloc churn 1T: wall" malloc1 wall ""
tools_row "malloc churn 1T: peak RSS" malloc1 maxrss_kb ""
tools_row "malloc churn 2T: CPU" malloc2 cpu ""
tools_row "malloc churn 2T: wall" malloc2 wall ""
tools_row "malloc churn 2T: peak RSS" malloc2 maxrss_kb ""
row "malloc churn: CPU overhead 2T ÷ 1T" "—" "$(scaling rcprof malloc1 malloc2)" \
	"$(scaling heaptrack malloc1 malloc2)" "$(scaling lsan malloc1 malloc2)" \
	"$(scaling memcheck malloc1 malloc2)" "≤ 1.2: $(verdict "$S_M" le 1.2)"
tools_row "rc churn 1T: CPU (native = plain librc)" rc1 cpu "≤ 3× librc: $(verdict "$R_R1" le 3.0)"
tools_row "rc churn 1T: wall" rc1 wall ""
tools_row "rc churn 1T: peak RSS" rc1 maxrss_kb ""
tools_row "rc churn 2T: CPU" rc2 cpu ""
tools_row "rc churn 2T: wall" rc2 wall ""
row "rc churn: CPU overhead 2T ÷ 1T" "—" "$(scaling rcprof rc1 rc2)" \
	"$(scaling heaptrack rc1 rc2)" "$(scaling lsan rc1 rc2)" \
	"$(scaling memcheck rc1 rc2)" "≤ 1.2: $(verdict "$S_R" le 1.2)"
row "dump size, malloc churn 1T" "—" "$cell_bpe_m_rc" "$cell_bpe_m_ht" "no dump" "no dump" "≤ 8 B/event: $(verdict "$BPE_malloc1" le 8)"
row "dump size, rc churn 1T" "—" "$cell_bpe_r_rc" "$cell_bpe_r_ht" "no dump" "no dump" "≤ 8 B/event: $(verdict "$BPE_rc1" le 8)"
row "analyzer on the malloc churn 1T recording" "—" "$cell_an_rc" "$cell_an_ht" "—" "—" "≥ 30 M ev/s: $(verdict "$v_an" ge 30) (cold: $(verdict "$AN_COLD" ge 30))"
row "$GRAPH_N-object graph: record (graph_gen)" "$(fmt "$(med graph:native wall)" 2) s" "$cell_gr_rec" "—" "—" "—" ""
row "$GRAPH_N-object graph: rcprof-report --format json" "—" "$cell_gr" "—" "—" "—" "< 5 s: $(verdict "$GR_T" lt 5)"
echo
echo "CPU = user+sys of the whole process tree; RSS = the largest peak RSS of one process of the tree;"
echo "wall times suffer from other load on the machine (compare native wall with native CPU); CPU ratios are the steadier ones."
echo "ratios are to the native run of the same workload (rc churn native = plain librc.so)."
echo "¹ memcheck ran 1/$MC_DIV of the steps; shown as native(0 steps) + (memcheck(n) − memcheck(0 steps)) × $MC_DIV, i.e. per-operation cost, start-up not multiplied; n/a when the 0-step runs took longer than the 1/$MC_DIV ones (start-up noise)."
echo "² memcheck peak RSS at 1/$MC_DIV of the steps (not scaled)."
echo "³ heaptrack: size of its compressed (zstd/gz) file ÷ the workload's own malloc+calloc+realloc+free calls; rcprof: raw dump ÷ summary.events of rcprof-report."
echo "⁴ heaptrack_print (default options, text output) wall time; events = \"calls to allocation functions\" it prints + the free calls the workload counted (heaptrack_print does not print frees). rcprof: summary.events ÷ rcprof-report wall time; \"app ops\" counts the same malloc+free calls for both."
if [ -s "$OUT/mismatch.txt" ]; then
	echo; echo "**Checksum mismatches (a tool changed the program's result):**"
	sort -u "$OUT/mismatch.txt" | sed 's/^/- /'
fi
if [ -s "$NOTES" ]; then
	echo; sort -u "$NOTES" | sed 's/^/- /'
fi
echo
echo "Total bench time: $(($(date +%s) - START)) s. Raw results: $RES"
