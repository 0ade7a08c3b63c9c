#!/bin/bash
# bench/run.sh BUILD_DIR: what nsegd's learn mode costs new connections and
# bulk traffic, against no rules and against the NFQUEUE floor, measured in
# one run on the same two namespaces, configurations interleaved in rounds.
# See bench/README.md. A benchmark measures: it exits 0 whether or not the
# targets are met, non-zero only when it could not measure.
#
# Knobs (environment): BENCH_ROUNDS (5), BENCH_CONN_S (5), BENCH_BULK_S (5),
# BENCH_CLIENTS (8), BENCH_QUEUE (4200).
# Functions called through the trap and through wait_for look unreachable.
# shellcheck disable=SC2317
set -u

BUILD=$(cd "${1:?usage: $0 BUILD_DIR}" && pwd) || exit 1
ROUNDS=${BENCH_ROUNDS:-5}
CONN_S=${BENCH_CONN_S:-5}
BULK_S=${BENCH_BULK_S:-5}
CLIENTS=${BENCH_CLIENTS:-8}
QUEUE=${BENCH_QUEUE:-4200}
PFX=nseg-b-$$
CLI=$PFX-cli
SRV=$PFX-srv
CLI_IP=10.99.0.1
SRV_IP=10.99.0.2
CONN_PORT=8080
BULK_PORT=5201
CONFIGS=(none floor learn)
HZ=$(getconf CLK_TCK)

PIDS=()
NETNS=()
TMP=

cleanup() {
	local p n
	for p in "${PIDS[@]+"${PIDS[@]}"}"; do
		kill "$p" 2>/dev/null
	done
	for p in "${PIDS[@]+"${PIDS[@]}"}"; do
		wait "$p" 2>/dev/null
	done
	for n in "${NETNS[@]+"${NETNS[@]}"}"; do
		ip netns del "$n" 2>/dev/null
	done
	[ -n "$TMP" ] && rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

die() {
	echo "bench: $*" >&2
	exit 1
}

# start NAME CMD...: runs CMD in the background, logging to $TMP/NAME.log;
# the PID lands in $LAST_PID and is stopped by the trap if still running.
start() {
	local name=$1
	shift
	"$@" >"$TMP/$name.log" 2>&1 &
	LAST_PID=$!
	PIDS+=("$LAST_PID")
}

# stop PID: SIGTERM, then wait for it.
stop() {
	kill "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	local keep=() p
	for p in "${PIDS[@]}"; do
		[ "$p" != "$1" ] && keep+=("$p")
	done
	PIDS=("${keep[@]+"${keep[@]}"}")
}

# wait_for SECONDS CMD...: polls CMD until it succeeds.
wait_for() {
	local i
	for ((i = 0; i < $1 * 50; i++)); do
		"${@:2}" >/dev/null 2>&1 && return 0
		sleep 0.02
	done
	return 1
}

# Is queue $QUEUE bound by a reader in netns $1?
queue_bound() {
	ip netns exec "$1" cat /proc/net/netfilter/nfnetlink_queue 2>/dev/null |
		awk -v q="$QUEUE" '$1 == q { f = 1 } END { exit !f }'
}

tcp_listening() { # NETNS PORT
	ip netns exec "$1" ss -Hltn "sport = :$2" | grep -q .
}

setup_netns() {
	ip netns add "$CLI" || die "cannot create netns $CLI"
	NETNS+=("$CLI")
	ip netns add "$SRV" || die "cannot create netns $SRV"
	NETNS+=("$SRV")
	ip link add veth0 netns "$CLI" type veth peer name veth0 netns "$SRV" ||
		die "cannot create the veth pair"
	ip -n "$CLI" addr add "$CLI_IP/24" dev veth0
	ip -n "$SRV" addr add "$SRV_IP/24" dev veth0
	for n in "$CLI" "$SRV"; do
		ip -n "$n" link set lo up
		ip -n "$n" link set veth0 up
	done
	start connserver ip netns exec "$SRV" "$BUILD/bench/connserver" \
		"$SRV_IP" "$CONN_PORT"
	start iperf3-server ip netns exec "$SRV" iperf3 -s -B "$SRV_IP" \
		-p "$BULK_PORT"
	wait_for 5 tcp_listening "$SRV" "$CONN_PORT" ||
		die "connserver did not start: $(cat "$TMP/connserver.log")"
	wait_for 5 tcp_listening "$SRV" "$BULK_PORT" ||
		die "iperf3 -s did not start: $(cat "$TMP/iperf3-server.log")"
}

tables() { # add|del
	local n
	for n in "$CLI" "$SRV"; do
		if [ "$1" = add ]; then
			ip netns exec "$n" "$BUILD/bench/nft_queue_table" add \
				"$QUEUE" || return 1
		else
			ip netns exec "$n" "$BUILD/bench/nft_queue_table" del \
				2>/dev/null
		fi
	done
}

# Prints "conns rate p50 p99 errors" of one connbench run.
run_conn() {
	ip netns exec "$CLI" "$BUILD/bench/connbench" -c "$CLIENTS" \
		-d "$1" "$SRV_IP" "$CONN_PORT" |
		sed -n 's/^conns=\([0-9]*\) rate=\([0-9.]*\) p50_us=\([0-9]*\) p99_us=\([0-9]*\) errors=\([0-9]*\)$/\1 \2 \3 \4 \5/p'
}

# Prints the receiver's bulk throughput in Gbit/s, or "nan".
run_bulk() {
	ip netns exec "$CLI" iperf3 -c "$SRV_IP" -p "$BULK_PORT" \
		-t "$BULK_S" -f m 2>/dev/null |
		awk '/receiver$/ { for (i = 1; i <= NF; i++)
				  if ($i == "Mbits/sec") v = $(i - 1) / 1000 }
		     END { if (v == "") print "nan"; else printf "%.2f\n", v }'
}

cpu_ticks() { # PID: utime + stime
	sed 's/.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'
}

rss_kb() {
	awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"
}

# start_config CONFIG: installs what CONFIG needs and starts its queue
# reader; sets CFG_PID ("" for none).
start_config() {
	CFG_PID=
	case $1 in
	floor)
		tables add || die "installing the queue table failed"
		start floor "$BUILD/bench/nfq_floor" "$QUEUE" "$CLI" "$SRV"
		CFG_PID=$LAST_PID
		if ! wait_for 5 queue_bound "$CLI" ||
			! wait_for 5 queue_bound "$SRV"; then
			die "nfq_floor did not bind: $(cat "$TMP/floor.log")"
		fi
		;;
	learn)
		start nsegd "$BUILD/nsegd" --db "$TMP/nseg.db" \
			--socket "$TMP/nsegd.sock" --queue "$QUEUE" \
			--netns "$PFX-*"
		CFG_PID=$LAST_PID
		if ! wait_for 10 queue_bound "$CLI" ||
			! wait_for 10 queue_bound "$SRV"; then
			die "nsegd did not start: $(cat "$TMP/nsegd.log")"
		fi
		;;
	esac
}

# Packets the configuration's reader verdicted so far (after the connection
# run for nsegd, which is still up; from the floor's exit report).
queued_count() {
	case $1 in
	floor) sed -n 's/.*: \([0-9]*\) packets.*/\1/p' "$TMP/floor.log" ;;
	learn) "$BUILD/nsegctl" --socket "$TMP/nsegd.sock" status --json \
		2>/dev/null | sed -n 's/.*"packets": \([0-9]*\).*/\1/p' ;;
	esac | awk '{ s += $1 } END { print s + 0 }'
}

# measure CONFIG ROUND: one configuration's connection and bulk numbers,
# appended to $TMP/results as "config conns rate p50 p99 errors gbit
# cpu_us_per_conn cpu_pct rss_before rss_after queued". CPU is the queue
# reader's user+system time during the connection run only.
measure() {
	local cfg=$1 conn bulk c0='' c1 r0=- r1=- cpu=- pct=- queued=-
	start_config "$cfg"
	if [ -n "$CFG_PID" ]; then
		r0=$(rss_kb "$CFG_PID")
		c0=$(cpu_ticks "$CFG_PID")
	fi
	conn=$(run_conn "$CONN_S")
	[ -n "$conn" ] || die "connbench failed ($cfg)"
	if [ -n "$CFG_PID" ]; then
		c1=$(cpu_ticks "$CFG_PID")
		read -r cpu pct < <(awk -v t=$((c1 - c0)) -v hz="$HZ" \
			-v n="${conn%% *}" -v d="$CONN_S" 'BEGIN {
			printf "%.1f %.1f\n", t / hz * 1e6 / n, t / hz / d * 100 }')
	fi
	[ "$cfg" = learn ] && queued=$(queued_count learn)
	bulk=$(run_bulk)
	if [ -n "$CFG_PID" ]; then
		r1=$(rss_kb "$CFG_PID")
		stop "$CFG_PID"
	fi
	[ "$cfg" = floor ] && queued=$(queued_count floor)
	[ "$cfg" != none ] && tables del
	echo "$cfg $conn $bulk $cpu $pct $r0 $r1 $queued" >>"$TMP/results"
	# shellcheck disable=SC2086 # $conn is four fields
	report_round "$2" "$cfg" $conn "$bulk" "$cpu" "$pct" "$r0" "$r1" "$queued"
}

report_round() {
	printf 'round %s  %-5s  %6.0f conn/s  p50 %5s µs  p99 %5s µs  errors %s  bulk %6s Gbit/s' \
		"$1/$ROUNDS" "$2" "$4" "$5" "$6" "$7" "$8"
	[ "$2" != none ] &&
		printf '  queued %s  reader %s µs CPU/conn (%s%% of a CPU), RSS %s→%s kB' \
			"${13}" "$9" "${10}" "${11}" "${12}"
	printf '\n'
}

# median CONFIG FIELD (1-based, after the config name)
median() {
	awk -v c="$1" -v f=$(($2 + 1)) '$1 == c && $f != "-" && $f != "nan" { print $f }' \
		"$TMP/results" | sort -g |
		awk '{ v[NR] = $1 } END {
			if (NR == 0) { print "nan"; exit }
			if (NR % 2) print v[(NR + 1) / 2]
			else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

summary() {
	local c
	declare -A rate p50 p99 bulk
	for c in "${CONFIGS[@]}"; do
		rate[$c]=$(median "$c" 2)
		p50[$c]=$(median "$c" 3)
		p99[$c]=$(median "$c" 4)
		bulk[$c]=$(median "$c" 6)
	done
	echo
	echo "medians of $ROUNDS rounds, $CLIENTS clients, ${CONN_S} s connection runs, ${BULK_S} s bulk runs"
	echo
	printf '| config | new conn/s | p50 µs | p99 µs | bulk Gbit/s | reader CPU µs/conn | rate vs none | rate vs floor | bulk vs none |\n'
	printf '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n'
	for c in "${CONFIGS[@]}"; do
		awk -v c="$c" -v r="${rate[$c]}" -v a="${p50[$c]}" -v b="${p99[$c]}" \
			-v g="${bulk[$c]}" -v u="$(median "$c" 7)" \
			-v rn="${rate[none]}" -v rf="${rate[floor]}" \
			-v gn="${bulk[none]}" 'function ratio(x, y) {
				return (y + 0 > 0 && x != "nan") ? sprintf("%.2f", x / y) : "n/a" }
			BEGIN { printf "| %s | %.0f | %.0f | %.0f | %s | %s | %s | %s | %s |\n",
				c, r, a, b, g, (u == "nan" ? "-" : u), ratio(r, rn),
				ratio(r, rf), ratio(g, gn) }'
	done
	echo
	printf 'nsegd (learn), medians: %s µs CPU per new connection, %s%% of one CPU during the connection runs, VmRSS %s kB before → %s kB after a round\n' \
		"$(median learn 7)" "$(median learn 8)" "$(median learn 9)" \
		"$(median learn 10)"
	echo
	awk -v rl="${rate[learn]}" -v rf="${rate[floor]}" -v rn="${rate[none]}" \
		-v pl="${p99[learn]}" -v pf="${p99[floor]}" \
		-v gl="${bulk[learn]}" -v gn="${bulk[none]}" -v gf="${bulk[floor]}" 'BEGIN {
		printf "learn/floor conn rate %.2f, learn/none conn rate %.2f, floor/none conn rate %.2f\n",
			rl / rf, rl / rn, rf / rn
		printf "learn p99 - floor p99 = %+.0f µs\n", pl - pf
		printf "learn/none bulk %s, learn/floor bulk %s\n",
			(gn > 0 ? sprintf("%.3f", gl / gn) : "n/a"),
			(gf > 0 ? sprintf("%.3f", gl / gf) : "n/a")
		print ""
		print "targets (from the issue):"
		printf "  learn conn rate >= 85%% of floor:    %.2f   %s\n", rl / rf,
			(rl >= 0.85 * rf ? "met" : "NOT MET")
		printf "  learn p99 <= floor p99 + 300 µs:    %.0f <= %.0f   %s\n", pl,
			pf + 300, (pl <= pf + 300 ? "met" : "NOT MET")
		if (gn > 0)
			printf "  learn bulk >= 97%% of no rules:      %.3f   %s\n", gl / gn,
				(gl >= 0.97 * gn ? "met" : "NOT MET")
		else
			print "  learn bulk >= 97% of no rules:      not measured"
	}'
}

main() {
	local r i k
	[ "$(id -u)" = 0 ] || die "needs root (network namespaces, nftables)"
	for b in nsegd nsegctl bench/connbench bench/connserver bench/nfq_floor \
		bench/nft_queue_table; do
		[ -x "$BUILD/$b" ] || die "$BUILD/$b missing: run make first"
	done
	command -v iperf3 >/dev/null || die "iperf3 missing (apt-get install iperf3)"
	TMP=$(mktemp -d /tmp/nseg-bench.XXXXXX)
	setup_netns
	echo "bench: namespaces $CLI and $SRV, $(nproc) CPUs, kernel $(uname -r)"
	run_conn 1 >/dev/null # warm-up, discarded
	# The order rotates each round so no configuration always runs first
	# or always follows the same one.
	for ((r = 1; r <= ROUNDS; r++)); do
		for ((i = 0; i < ${#CONFIGS[@]}; i++)); do
			k=$(((i + r - 1) % ${#CONFIGS[@]}))
			measure "${CONFIGS[k]}" "$r"
		done
	done
	summary
}

main
exit 0
