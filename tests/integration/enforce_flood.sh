#!/bin/bash
# Flood resistance: one namespace opens connections to a destination it
# was never approved for as fast as it can, while another runs approved
# traffic. The kernel's per-namespace rate limit keeps the flood from the
# queue; approved traffic keeps >= 80 % of its rate, nsegd answers status
# quickly, and the flood is a few aggregated alerts, not thousands.
. "$(dirname "$0")/lib.sh"
t_need jq
t_init flood

t_need_bench
t_hosts flood cli srv
t_config 'queue_rate: 300' 'queue_burst: 300' 'alert_window: 1h' 'alerts_file: ""'
t_start_nsegd || exit 1
t_bg srv "$CS" 10.66.0.3 9000
t_wait_for 5 t_listening srv tcp 9000 || exit 1

rate() { t_in cli "$CB" -c 4 -d "$1" 10.66.0.3 9000 | sed -n 's/.*rate=\([0-9]*\).*/\1/p'; }
cli=netns:$T_PFX-cli srv=netns:$T_PFX-srv fl=netns:$T_PFX-flood

# Learn, approve cli<->srv for their processes, enforce everything. The
# flooder's one learned edge stays unapproved.
rate 1 >/dev/null
t_in flood "$SF" -d 1 -r 20 10.66.0.3 9000 >/dev/null
t_ok "approve cli" t_quiet t_ctl baseline approve "$cli" --all
t_ok "approve srv" t_quiet t_ctl baseline approve "$srv" --all
for w in "$cli" "$srv" "$fl"; do
	t_ok "enforce $w" t_quiet t_ctl mode "$w" enforce
done

# Interleaved: 5 rounds of (no flood, flood), 2 s each; medians compared
# (machines drift over seconds, and a shared one more).
median() { printf '%s\n' "$@" | sort -n | sed -n 3p; }
A=() B=() ms_max=0 attempts=0
for round in 1 2 3 4 5; do
	A+=("$(rate 2)")
	# 5000 attempts/s: 16 times the queue rate. (Unthrottled, the
	# flooder takes a whole core of this 2-core machine from the client
	# and server: that measures the machine, not nsegd.)
	t_in flood "$SF" -d 3 -r 5000 10.66.0.3 9000 >"$T_TMP/flood.out" &
	flooder=$!
	T_PIDS+=("$flooder")
	B+=("$(rate 2)")
	s=$(date +%s%N)
	t_quiet t_ctl status || echo "# status failed during the flood"
	ms=$((($(date +%s%N) - s) / 1000000))
	[ "$ms" -gt "$ms_max" ] && ms_max=$ms
	wait "$flooder"
	attempts=$((attempts + $(sed -n 's/.*syns=\([0-9]*\).*/\1/p' "$T_TMP/flood.out")))
done
base=$(median "${A[@]}")
under=$(median "${B[@]}")
t_ok "approved traffic runs ($base conn/s)" test "${base:-0}" -gt 100
t_ok "status within 200 ms during the flood (max ${ms_max} ms)" test "$ms_max" -lt 200
t_ok "approved rate under flood >= 80 % (median $under vs $base conn/s; ${B[*]} vs ${A[*]}; $attempts flood attempts)" \
	test $((under * 100)) -ge $((base * 80))

t_ok "rate limit counted" t_wait_for 5 bash -c "[ \$(\"$NSEGCTL\" --socket \"$T_SOCK\" --json status | jq --arg n $T_PFX-flood '.netns[] | select(.name == \$n) | .rate_limited') -gt 0 ]"
t_ok "flood alert written" t_wait_for 5 bash -c "\"$NSEGCTL\" --socket \"$T_SOCK\" --json alerts --workload \"$fl\" | jq -e 'map(select(.kind == \"flood\")) | length == 1' >/dev/null"
rows=$(t_ctl --json alerts --workload "$fl" | jq length)
total=$(t_ctl --json alerts --workload "$fl" | jq '[.[].count] | add')
t_ok "alerts aggregated: $rows rows for $total connections" bash -c "[ $rows -le 3 ] && [ $total -gt 100 ]"
t_eq "no alert for the approved client" 0 "$(t_ctl --json alerts --workload "$cli" | jq length)"
t_done
