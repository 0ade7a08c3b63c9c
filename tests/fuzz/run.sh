#!/bin/bash
# Runs libFuzzer targets, each for a set time, against its seed corpus.
#   tests/fuzz/run.sh FUZZ_DIR SECONDS [NAME...]
# FUZZ_DIR/fuzz_NAME (every one there when no NAME is given) starts from
# tests/fuzz/corpus/NAME, which it only reads: inputs it finds new go to
# FUZZ_DIR/corpus/NAME (kept for the next run), a crashing input to
# FUZZ_DIR/artifacts/NAME/, the output to FUZZ_DIR/logs/NAME.log.
# tests/fuzz/dict/NAME.dict, when there, is the target's dictionary.
# Prints one line per target (execs, coverage, time) and exits 1 if any
# crashed, leaked, timed out on an input or ran out of memory.
set -u
dir=${1:?usage: tests/fuzz/run.sh FUZZ_DIR SECONDS [NAME...]}
secs=${2:?usage: tests/fuzz/run.sh FUZZ_DIR SECONDS [NAME...]}
shift 2
cd "$(dirname "$0")/../.." || exit 1

names=("$@")
if [ ${#names[@]} -eq 0 ]; then
	for b in "$dir"/fuzz_*; do
		[ -f "$b" ] && [ -x "$b" ] && names+=("$(basename "$b")")
	done
fi
if [ ${#names[@]} -eq 0 ]; then
	echo "fuzz: no targets in $dir (make fuzz-build)" >&2
	exit 1
fi

# "name value" pairs from the last status line libFuzzer printed.
stat_of() { # log key
	grep -E '^#[0-9]+.*(cov|DONE)' "$1" | tail -n 1 |
		sed -nE "s/.* $2: ([0-9]+(\/[0-9]+[a-zA-Z]*)?).*/\1/p"
}

failed=0
for n in "${names[@]}"; do
	n=${n#fuzz_}
	bin=$dir/fuzz_$n log=$dir/logs/$n.log
	if [ ! -x "$bin" ] || [ ! -d "tests/fuzz/corpus/$n" ]; then
		echo "fuzz_$n: no binary $bin or no corpus tests/fuzz/corpus/$n"
		failed=1
		continue
	fi
	mkdir -p "$dir/corpus/$n" "$dir/artifacts/$n" "$dir/logs"
	dict=()
	[ -f "tests/fuzz/dict/$n.dict" ] && dict=(-dict="tests/fuzz/dict/$n.dict")
	start=$(date +%s%N)
	# The parsers log every bad input to stderr: close_fd_mask=2 drops
	# that (libFuzzer and the sanitizers keep their own stderr).
	# The outer timeout only guards against libFuzzer itself hanging.
	timeout --kill-after=10 $((secs * 2 + 60)) "$bin" \
		-max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
		-print_final_stats=1 -close_fd_mask=2 "${dict[@]}" \
		-artifact_prefix="$dir/artifacts/$n/" \
		"$dir/corpus/$n" "tests/fuzz/corpus/$n" >"$log" 2>&1
	rc=$?
	ms=$((($(date +%s%N) - start) / 1000000))
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
	printf 'fuzz_%-14s %s  execs %9s  cov %5s  ft %6s  corpus %-12s %3d.%ds\n' \
		"$n" "$([ $rc = 0 ] && echo ok || echo FAIL)" "${execs:-?}" \
		"$(stat_of "$log" cov)" "$(stat_of "$log" ft)" \
		"$(stat_of "$log" corp)" $((ms / 1000)) $((ms % 1000 / 100))
	if [ $rc != 0 ]; then
		failed=1
		grep -E 'ERROR|SUMMARY|Test unit written|#[0-9]+ +in ' "$log" |
			head -n 20 | sed 's/^/    | /'
		echo "    | exit $rc; full output: $log"
		echo "    | once fixed, copy the input into tests/fuzz/corpus/$n/"
		echo "    | (make check replays it: the regression test)"
	fi
done
exit $failed
