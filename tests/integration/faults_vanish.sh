#!/bin/bash
# A namespace vanishes while connections from it wait in its queue for a
# verdict: its processes are killed and its name removed, either while
# nsegd is stopped (the packets are certainly queued) or racing a running
# nsegd. Many rounds: nsegd never crashes, another namespace's queue never
# sticks (its connections keep working, nothing stays queued), and the
# watched count returns to where it was.
. "$(dirname "$0")/lib.sh"
t_need jq socat
t_init vanish
ROUNDS=${NSEG_VANISH_ROUNDS:-30}

t_hosts stay srv
t_config 'alerts_file: ""'
t_start_nsegd || exit 1
t_serve srv 9000 up || exit 1
base=$(t_ctl --json status | jq .netns_watched)
queued_in() { # NETNS: entries waiting in its queue
	ip netns exec "$1" cat /proc/net/netfilter/nfnetlink_queue 2>/dev/null |
		awk '{ n += $3 } END { print n + 0 }'
}
queued_4() { [ "$(queued_in "$1")" -ge 4 ]; } # NETNS

crashes=0 stuck=0 slow=0 pending=0 listed=0
for i in $(seq "$ROUNDS"); do
	ns=$T_PFX-v$i
	t_netns "v$i" && t_attach "v$i" $((10 + i)) || exit 1
	t_wait_for 5 t_nsegd_watches $((base + 1)) || { echo "# round $i: not watched"; stuck=$((stuck + 1)); }
	stopped=$((i % 2))
	[ "$stopped" = 1 ] && kill -STOP "$T_NSEGD_PID"
	# In a subshell that reaps them: their kill is expected, not news.
	(for k in 1 2 3 4; do
		ip netns exec "$ns" timeout 3 socat -u TCP:10.66.0.2:9000,connect-timeout=2 - &
	done; wait) >/dev/null 2>&1 &
	gone=$!
	# The survivor's connection waits in its own queue meanwhile.
	t_in stay timeout 5 socat -T 3 -u TCP:10.66.0.2:9000,connect-timeout=4 - \
		>"$T_TMP/stay.$i" 2>/dev/null &
	stay_pid=$!
	if [ "$stopped" = 1 ]; then
		t_wait_for 2 queued_4 "$ns"
		pending=$((pending + $(queued_in "$ns")))
	else
		sleep 0.0$((RANDOM % 10))
	fi
	# nsegd enters namespaces on threads only: never one of their pids.
	for p in $(ip netns pids "$ns"); do
		[ "$p" = "$T_NSEGD_PID" ] && listed=$((listed + 1))
		kill -9 "$p" 2>/dev/null
	done
	ip netns del "$ns"
	[ "$stopped" = 1 ] && sleep 0.1 && kill -CONT "$T_NSEGD_PID"
	wait "$stay_pid"
	kill -0 "$T_NSEGD_PID" 2>/dev/null || { crashes=$((crashes + 1)); break; }
	[ "$(cat "$T_TMP/stay.$i")" = up ] || { echo "# round $i: survivor's queued connection failed"; stuck=$((stuck + 1)); }
	s=$(date +%s%N)
	[ "$(t_conn stay 10.66.0.2 9000)" = up ] || { echo "# round $i: survivor's next connection failed"; stuck=$((stuck + 1)); }
	ms=$((($(date +%s%N) - s) / 1000000))
	[ "$ms" -gt 500 ] && { echo "# round $i: survivor's connection took $ms ms"; slow=$((slow + 1)); }
	wait "$gone"
done
t_ok "connections were waiting in the vanishing queues ($pending)" test "$pending" -ge $((ROUNDS / 2 * 4))
t_eq "no crash in $ROUNDS rounds" 0 "$crashes"
t_eq "nsegd never listed among a namespace's processes" 0 "$listed"
t_eq "the survivor's connections always went through" 0 "$stuck"
t_eq "and took under 500 ms each" 0 "$slow"
t_ok "watched namespaces back to $base" t_wait_for 5 t_nsegd_watches "$base"
t_eq "nothing left in the survivor's queue" 0 "$(queued_in "$T_PFX-stay")"
t_ok "daemon answers" t_quiet t_ctl status
t_ok "clean stop" t_stop_nsegd
t_done
