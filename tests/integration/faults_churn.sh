#!/bin/bash
# Churn: 1 000 namespaces created and destroyed in about a minute (batches
# of 50 through ip -batch; two of each batch get a veth and make a
# connection) while nsegd watches them all. After it settles, nsegd's RSS
# and fd count are where they were before, the namespaces that remain hold
# their one table with the sets they had, and netns_watched is back to its
# baseline.
. "$(dirname "$0")/lib.sh"
t_need jq nft socat
t_init churn
TOTAL=${NSEG_CHURN_TOTAL:-1000}
BATCH=50
CONNS=${NSEG_CHURN_CONNS:-2} # namespaces of each batch with a veth

t_hosts stay srv
t_config 'alerts_file: ""'
t_start_nsegd || exit 1
t_serve srv 9000 up || exit 1
base=$(t_ctl --json status | jq .netns_watched)
rss() { awk '/^VmRSS/ { print $2 }' "/proc/$T_NSEGD_PID/status"; }
fds() { ls "/proc/$T_NSEGD_PID/fd" | wc -l; }
tables() { # what the remaining namespaces hold: tables, sets, rules
	for n in stay srv; do
		echo "$n: $(t_in "$n" nft list tables 2>/dev/null | tr '\n' ' ')"
		echo "$n: $(t_in "$n" nft list sets 2>/dev/null | grep -c 'set ') sets, $(t_in "$n" nft -a list ruleset 2>/dev/null | grep -c handle) handles"
	done
}
T_CLEANUP+=("ip -force -batch $T_TMP/del.all")
: >"$T_TMP/del.all"

# churn FIRST N: namespaces FIRST..FIRST+N-1 in batches, each batch up,
# watched, two of it connecting to srv, then gone.
churn() {
	local first=$1 n=$2 b i j idx conn_fail=0
	for ((b = first; b < first + n; b += BATCH)); do
		: >"$T_TMP/add" && : >"$T_TMP/del"
		for ((i = b; i < b + BATCH; i++)); do
			echo "netns add $T_PFX-c$i" >>"$T_TMP/add"
			echo "netns del $T_PFX-c$i" >>"$T_TMP/del"
			echo "netns del $T_PFX-c$i" >>"$T_TMP/del.all"
		done
		ip -batch "$T_TMP/add" || return 1
		t_wait_for 10 t_nsegd_watches $((base + BATCH)) ||
			{ echo "# batch $b: not all watched"; return 1; }
		for ((j = 0; j < CONNS; j++)); do
			i=$((b + j)) idx=$((10 + j))
			ip -n "$T_PFX-sw" link add "q$i" type veth peer name eth0 netns "$T_PFX-c$i" &&
				ip -n "$T_PFX-sw" link set "q$i" master br0 up &&
				ip -n "$T_PFX-c$i" addr add "10.66.0.$idx/24" dev eth0 &&
				ip -n "$T_PFX-c$i" link set eth0 up || return 1
		done
		for ((j = 0; j < CONNS; j++)); do
			[ "$(ip netns exec "$T_PFX-c$((b + j))" timeout 5 socat -T 3 -u \
				TCP:10.66.0.2:9000,connect-timeout=2 - 2>/dev/null)" = up ] ||
				conn_fail=$((conn_fail + 1))
		done
		ip -batch "$T_TMP/del" || return 1
	done
	CONN_FAIL=$((CONN_FAIL + conn_fail))
}

# Warm-up: one-time allocations (buffers, caches) happen here, not in
# the measured run.
CONN_FAIL=0
churn 0 100 || exit 1
t_ok "warm-up settled" t_wait_for 10 t_nsegd_watches "$base"
sleep 1
rss0=$(rss) fd0=$(fds) tables0=$(tables)

start=$(date +%s)
churn 100 "$TOTAL" || exit 1
secs=$(($(date +%s) - start))
t_ok "$TOTAL namespaces created and destroyed in ${secs} s" test "$secs" -le 90
t_ok "watched back to $base" t_wait_for 10 t_nsegd_watches "$base"
sleep 1
rss1=$(rss) fd1=$(fds)
t_log "RSS ${rss0} -> ${rss1} KiB, fds ${fd0} -> ${fd1}"
t_eq "every connection from a short-lived namespace went through" 0 "$CONN_FAIL"
t_eq "fd count flat" "$fd0" "$fd1"
# A sanitizer's quarantine holds freed memory: RSS says nothing there.
if grep -q __asan_init "$NSEGD"; then
	t_log "sanitizer build: RSS not compared"
else
	t_ok "RSS flat: ${rss0} -> ${rss1} KiB (at most +1 MiB)" test "$rss1" -le $((rss0 + 1024))
fi
t_eq "remaining namespaces: same tables, sets, rules" "$tables0" "$(tables)"
t_eq "the survivor still connects" up "$(t_conn stay 10.66.0.2 9000)"
t_eq "no namespace of ours left behind" 0 "$(ip netns list | grep -c "^$T_PFX-c")"
t_eq "no error logged" "" "$(grep -iE 'warn|error|cannot' "$T_TMP/nsegd.log" | head -n 3)"
t_ok "clean stop" t_stop_nsegd
t_eq "no sanitizer report (sanitizer builds)" "" "$(grep -A 30 'Sanitizer' "$T_TMP/nsegd.log" | head -n 40)"
t_done
