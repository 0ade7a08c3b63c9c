#!/bin/bash
# bench/soak.sh BUILD_DIR: nsegd enforcing for SOAK_SECONDS (600) under a
# sustained load near what the machine does: CLIENTS connection loops on
# an approved edge (decided in the kernel) and a steady stream of denied
# connection attempts (each a new connection nsegd must judge and alert).
# Prints nsegd's RSS and fd count every SOAK_SAMPLE seconds (the curve),
# then: approved connections and their errors (none may fail), denied
# attempts sent vs counted in alerts (they must match), whether nsegd
# survived. Like `make bench` it measures: exit 0 whenever it could
# measure, non-zero only when it could not.
#
# Knobs: SOAK_SECONDS (600), SOAK_SAMPLE (10), SOAK_CLIENTS (8),
# SOAK_DENY_RATE (500 attempts/s).
# shellcheck disable=SC2317
set -u

BUILD=$(cd "${1:?usage: $0 BUILD_DIR}" && pwd) || exit 1
SECONDS_TOTAL=${SOAK_SECONDS:-600}
SAMPLE=${SOAK_SAMPLE:-10}
CLIENTS=${SOAK_CLIENTS:-8}
DENY_RATE=${SOAK_DENY_RATE:-500}
PFX=nseg-s-$$
CLI=$PFX-cli
SRV=$PFX-srv
CLI_IP=10.98.0.1
SRV_IP=10.98.0.2
PORT=7000
DENIED_PORT=7001
PIDS=()
TMP=

die() { echo "soak: $*" >&2; exit 2; }

cleanup() {
	local p
	for p in "${PIDS[@]+"${PIDS[@]}"}"; do
		kill "$p" 2>/dev/null
	done
	for p in "${PIDS[@]+"${PIDS[@]}"}"; do
		wait "$p" 2>/dev/null
	done
	ip netns del "$CLI" 2>/dev/null
	ip netns del "$SRV" 2>/dev/null
	[ -n "$TMP" ] && rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

start() { # NAME COMMAND...: in the background, logged, stopped at exit
	local name=$1
	shift
	"$@" >"$TMP/$name.log" 2>&1 &
	LAST_PID=$!
	PIDS+=("$LAST_PID")
}

wait_for() { # SECONDS COMMAND...
	local end=$(($(date +%s%N) + $1 * 1000000000))
	shift
	until "$@" >/dev/null 2>&1; do
		[ "$(date +%s%N)" -ge "$end" ] && return 1
		sleep 0.05
	done
}

ctl() { "$BUILD/nsegctl" --socket "$TMP/nsegd.sock" "$@"; }
listening() { ip netns exec "$SRV" ss -Hltn "sport = :$PORT" | grep -q .; }
watching() { [ "$(ctl --json status | jq .netns_watched)" = 2 ]; }
learned() { [ "$(ctl --json baseline show "netns:$CLI" | jq 'map(select(.port == '$PORT')) | length')" -ge 1 ]; }
denied_counted() { # the alert counts of the denied port, summed
	ctl --json alerts --workload "netns:$CLI" |
		jq "map(select(.port == $DENIED_PORT) | .count) | add // 0"
}

setup() {
	ip netns add "$CLI" && ip netns add "$SRV" || die "cannot create namespaces"
	ip link add veth0 netns "$CLI" type veth peer name veth0 netns "$SRV" ||
		die "cannot create the veth pair"
	for ns in "$CLI:$CLI_IP" "$SRV:$SRV_IP"; do
		printf 'link set lo up\naddr add %s/24 dev veth0\nlink set veth0 up\n' \
			"${ns#*:}" | ip -n "${ns%%:*}" -b - || die "cannot address ${ns%%:*}"
	done
	start connserver ip netns exec "$SRV" "$BUILD/bench/connserver" "$SRV_IP" "$PORT"
	wait_for 5 listening || die "connserver did not start"
	# Every denied attempt must reach nsegd to be counted: no rate limit.
	printf 'alerts_file: ""\nqueue_rate: 0\nstop_keeps_enforcement: false\ncapture:\n  dir: %s\n' \
		"$TMP/pcap" >"$TMP/nsegd.yaml"
	start nsegd "$BUILD/nsegd" -c "$TMP/nsegd.yaml" --db "$TMP/nseg.db" \
		--socket "$TMP/nsegd.sock" --netns "$PFX-*"
	NSEGD=$LAST_PID
	wait_for 10 watching || die "nsegd did not start: $(tail -3 "$TMP/nsegd.log")"
	ip netns exec "$CLI" "$BUILD/bench/connbench" -c 1 -d 1 "$SRV_IP" "$PORT" >/dev/null
	wait_for 10 learned || die "the approved edge was not learned"
	for w in "netns:$CLI" "netns:$SRV"; do
		ctl baseline approve "$w" --all --any-process >/dev/null &&
			ctl mode "$w" enforce >/dev/null || die "cannot enforce $w"
	done
}

sample() { # prints "elapsed_s rss_kb fds"
	local rss fds
	rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$NSEGD/status" 2>/dev/null)
	fds=$(find "/proc/$NSEGD/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l)
	echo "$1 ${rss:-dead} $fds"
}

main() {
	local t0 elapsed cb sf conns errors rate sent counted alive
	for b in nsegd nsegctl bench/connbench bench/connserver bench/synflood; do
		[ -x "$BUILD/$b" ] || die "$BUILD/$b missing: run make first"
	done
	command -v jq >/dev/null || die "jq missing (apt-get install jq)"
	TMP=$(mktemp -d /tmp/nseg-soak.XXXXXX)
	setup
	echo "soak: ${SECONDS_TOTAL}s, $CLIENTS approved connection loops, denied attempts at $DENY_RATE/s, $(nproc) CPUs, kernel $(uname -r)"
	echo "elapsed_s rss_kb fds"
	sample 0 | tee "$TMP/curve"
	start connbench ip netns exec "$CLI" "$BUILD/bench/connbench" -c "$CLIENTS" \
		-d "$SECONDS_TOTAL" "$SRV_IP" "$PORT"
	cb=$LAST_PID
	# Each socket is closed before its SYN would be sent again (1 s):
	# every attempt is one new connection, judged and counted once.
	start synflood ip netns exec "$CLI" "$BUILD/bench/synflood" -t 1 \
		-s $((DENY_RATE / 4 + 1)) -r "$DENY_RATE" -d "$SECONDS_TOTAL" \
		"$SRV_IP" "$DENIED_PORT"
	sf=$LAST_PID
	t0=$(date +%s)
	while kill -0 "$cb" 2>/dev/null || kill -0 "$sf" 2>/dev/null; do
		sleep "$SAMPLE"
		elapsed=$(($(date +%s) - t0))
		sample "$elapsed" | tee -a "$TMP/curve"
	done
	wait "$cb" "$sf" 2>/dev/null
	sent=$(sed -n 's/.*syns=\([0-9]*\).*/\1/p' "$TMP/synflood.log")
	# The last alerts reach the database at the next flush: wait for them
	# (a count that never catches up is reported as it is).
	all_counted() { [ "$(denied_counted)" = "${sent:-x}" ]; }
	wait_for 10 all_counted
	alive=no
	kill -0 "$NSEGD" 2>/dev/null && alive=yes
	conns=$(sed -n 's/.*conns=\([0-9]*\).*/\1/p' "$TMP/connbench.log")
	rate=$(sed -n 's/.*rate=\([0-9.]*\).*/\1/p' "$TMP/connbench.log")
	errors=$(sed -n 's/.*errors=\([0-9]*\).*/\1/p' "$TMP/connbench.log")
	counted=$(denied_counted 2>/dev/null || echo "?")
	echo
	awk 'NR == 1 { r0 = $2; f0 = $3 } { if ($2 > rm) rm = $2; if ($3 > fm) fm = $3; r = $2; f = $3 }
	     END { printf "nsegd RSS: %d kB at start, %d kB at the end, %d kB at most; fds: %d, %d, %d at most\n", r0, r, rm, f0, f, fm }' \
		"$TMP/curve"
	echo "approved: ${conns:-?} connections (${rate:-?}/s), ${errors:-?} failed"
	echo "denied: ${sent:-?} attempts sent, ${counted} counted in alerts"
	echo "nsegd survived: $alive; its log: $(grep -ci 'error\|warn' "$TMP/nsegd.log") warnings"
}

main
