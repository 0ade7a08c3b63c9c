#!/bin/bash
# Runs the test suite against the binaries in BUILD.
#   tests/run.sh BUILD [unit|fuzz|integration|all]...
# Unit tests are the check binaries BUILD/tests/test_*, and the fuzz seed
# corpora replayed through BUILD/tests/replay/*. The fuzz part runs each
# libFuzzer target in NSEG_FUZZ_DIR (default build/fuzz; `make check`
# builds them when clang has libFuzzer, else the part is skipped) for
# NSEG_FUZZ_SECONDS each (default: 90 seconds shared among them, at
# least 5 each, so that more targets do not make `make check` longer).
# Integration tests are
# tests/integration/*.sh, run as root, each given BUILD as $1 (exit 0 pass,
# 77 skip with a reason on stdout, anything else fail). All parts by
# default. Ends with the line "N passed, N failed, N skipped" and exits
# non-zero on any failure.
set -u
build=${1:?usage: tests/run.sh BUILD [unit|fuzz|integration|all]...}
shift
parts=" ${*:-all} "
[ "$parts" = " all " ] && parts=" unit fuzz integration "
want() { [[ $parts == *" $1 "* ]]; }
fuzz_dir=${NSEG_FUZZ_DIR:-build/fuzz}
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1

pass=0 fail=0 skip=0 failed=()
per_test_timeout=${NSEG_TEST_TIMEOUT:-300}

run_one() { # name command...
	local name=$1 rc start end ms
	shift
	start=$(date +%s%N)
	timeout --kill-after=10 "$per_test_timeout" "$@" >"$logdir/$name.log" 2>&1
	rc=$?
	# A test that hung (no test here takes a minute) is run once more and
	# the hang is reported, not hidden.
	if [ "$rc" = 124 ]; then
		echo "HANG  $name: timed out after ${per_test_timeout}s; running it again"
		tail -n 5 "$logdir/$name.log" | sed 's/^/    | /'
		mv "$logdir/$name.log" "$logdir/$name.hang.log"
		timeout --kill-after=10 "$per_test_timeout" "$@" >"$logdir/$name.log" 2>&1
		rc=$?
	fi
	end=$(date +%s%N)
	case $rc in
	0) pass=$((pass + 1)); ms=$(((end - start) / 1000000))
	   printf 'PASS  %-40s %4d.%03ds\n' "$name" $((ms / 1000)) $((ms % 1000)) ;;
	77) skip=$((skip + 1)); printf 'SKIP  %-40s %s\n' "$name" "$(tail -n 1 "$logdir/$name.log")" ;;
	*) fail=$((fail + 1)); failed+=("$name")
	   printf 'FAIL  %-40s (exit %d)\n' "$name" "$rc"
	   sed 's/^/    | /' "$logdir/$name.log" | tail -n 60 ;;
	esac
}

logdir=$(mktemp -d /tmp/nseg-test-logs.XXXXXX)
mkdir -p "$logdir/unit" "$logdir/integration" "$logdir/fuzz-replay" "$logdir/fuzz"
echo "== nseg tests ($build); logs in $logdir"

if want unit; then
	for t in "$build"/tests/test_*; do
		[ -x "$t" ] || continue
		run_one "unit/$(basename "$t")" env CK_DEFAULT_TIMEOUT=60 "$t"
		grep -h '^[0-9]*%: Checks' "$logdir/unit/$(basename "$t").log" 2>/dev/null | sed 's/^/      /'
	done
fi
if want unit; then
	# Seed corpora through the fuzz targets' parsers (no libFuzzer needed).
	for t in "$build"/tests/replay/fuzz_*; do
		[ -x "$t" ] || continue
		name=$(basename "$t")
		run_one "fuzz-replay/$name" "$t" tests/fuzz/corpus/"${name#fuzz_}"/*
	done
fi
if want fuzz; then
	# Each libFuzzer target a short while: a crash, leak or hang fails.
	fuzzers=()
	for t in "$fuzz_dir"/fuzz_*; do
		[ -f "$t" ] && [ -x "$t" ] && fuzzers+=("$(basename "$t")")
	done
	if [ ${#fuzzers[@]} -eq 0 ]; then
		skip=$((skip + 1))
		printf 'SKIP  %-40s %s\n' fuzz "no libFuzzer targets in \
$fuzz_dir (clang with libFuzzer missing? see make fuzz-build)"
	fi
	n=${#fuzzers[@]}
	fuzz_seconds=${NSEG_FUZZ_SECONDS:-$((n ? 90 / n : 0))}
	[ "$fuzz_seconds" -lt 5 ] && fuzz_seconds=5
	for name in "${fuzzers[@]+"${fuzzers[@]}"}"; do
		run_one "fuzz/$name" tests/fuzz/run.sh "$fuzz_dir" \
			"$fuzz_seconds" "${name#fuzz_}"
		grep -h '^fuzz_' "$logdir/fuzz/$name.log" | sed 's/^/      /'
	done
fi
if want integration; then
	if [ "$(id -u)" != 0 ]; then
		echo "integration tests need root (network namespaces): skipped"
		skip=$((skip + 1))
	else
		for t in tests/integration/*.sh; do
			[ "$(basename "$t")" = lib.sh ] && continue
			run_one "integration/$(basename "$t" .sh)" bash "$t" "$build"
		done
	fi
fi

echo
for f in "${failed[@]+"${failed[@]}"}"; do echo "failed: $f"; done
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
