#!/bin/sh
# tests/fuzz/run.sh OUT SRCDIR run|smoke SECONDS RUNS TARGET... -- run
# libFuzzer targets (built in OUT/bin by fuzz.mk), one after the other,
# each in one process (-jobs is not used: the test machines are shared).
#   run SECONDS RUNS: each for SECONDS or RUNS executions, whichever comes
#       first (RUNS 0: no limit), from the seeds of SRCDIR/corpus/TARGET and
#       what earlier runs kept in OUT/work/TARGET, which grows
#   smoke SECONDS: each over its seeds (found-* among them: the inputs of
#       earlier findings), then SECONDS of mutations from a fixed random
#       seed, keeping nothing
# A crash, a sanitizer report, a leak, a timeout (10 s for one input), more
# than 2 GB or a broken property fails it; the input is left as
# OUT/artifacts/TARGET-* and the output in OUT/logs/TARGET.log.  Each run
# adds a line to OUT/stats (date, target, executions, seconds, exec/s,
# libFuzzer's final cov: and ft:, corpus size, findings), and its
# executions to OUT/executions (TARGET TOTAL).
set -u
out=$1 src=$2 mode=$3 secs=$4 runs=$5
shift 5
mkdir -p "$out/work" "$out/logs" "$out/artifacts" "$out/tmp"
touch "$out/executions" "$out/stats"
# the targets' own directories (fz_tmpdir), also when one dies before its
# exit handler could remove its own
TMPDIR=$out/tmp
export TMPDIR
failed=""

# field NAME LINE -- the number after "NAME: " in libFuzzer's status line
field() {
	printf '%s\n' "$2" | sed -n "s/.* $1: *\([0-9]*\).*/\1/p"
}

# record TARGET LOG RC -- the run's numbers, to OUT/stats and OUT/executions
record() {
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$2" | tail -1)
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$2" | tail -1)
	took=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$2" | tail -1)
	last=$(grep -E '^#[0-9]+.* cov: ' "$2" | tail -1)
	execs=${execs:-0}
	total=$(awk -v t="$1" -v e="$execs" '$1 == t { s = $2 } END { print s + e }' "$out/executions")
	awk -v t="$1" '$1 != t' "$out/executions" >"$out/executions.new"
	echo "$1 $total" >>"$out/executions.new"
	mv "$out/executions.new" "$out/executions"
	findings=0
	[ "$3" -eq 0 ] || findings=1
	echo "$(date -u +%Y-%m-%dT%H:%MZ) $mode $1 execs=$execs secs=${took:-?} exec/s=${rate:-?}" \
		"cov=$(field cov "$last") ft=$(field ft "$last") corpus=$(field corp "$last")" \
		"findings=$findings" >>"$out/stats"
}

for t in "$@"; do
	bin=$out/bin/fuzz_$t
	seeds=$src/corpus/$t
	if [ "$mode" = run ]; then
		work=$out/work/$t
		limit="-max_total_time=$secs"
		[ "$runs" -gt 0 ] && limit="$limit -runs=$runs"
	else
		work=$out/work/smoke-$t
		rm -rf "$work"
		limit="-max_total_time=$secs -seed=1"
	fi
	mkdir -p "$work"
	dict=
	[ -f "$src/$t.dict" ] && dict=-dict=$src/$t.dict
	log=$out/logs/$t.log
	# the working directory is the target's own: nothing lands elsewhere
	(cd "$work" && "$bin" $limit $dict -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
		-artifact_prefix="$out/artifacts/$t-" "$work" "$seeds") >"$log" 2>&1
	rc=$?
	record "$t" "$log" $rc
	[ "$mode" = smoke ] && rm -rf "$work"
	if [ $rc -eq 0 ]; then
		echo "fuzz_$t: $(tail -1 "$out/stats" | cut -d' ' -f4-)"
	else
		echo "fuzz_$t: FAILED (exit $rc); see $log:"
		grep -E '^(==[0-9]+==ERROR|SUMMARY|.*property broken|.*runtime error)' "$log" | head -5
		ls "$out/artifacts/$t-"* 2>/dev/null
		failed="$failed $t"
	fi
done
if [ -n "$failed" ]; then
	echo "fuzzing found something in:$failed"
	exit 1
fi
