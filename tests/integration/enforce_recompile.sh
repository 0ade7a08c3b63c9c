#!/bin/bash
# Recompiling enforced namespaces' tables (an operator approving and
# rejecting edges, switching modes) while approved connections run: each
# table is rebuilt in place in one transaction, so not one approved
# connection fails or loses its queued SYN, and not one unapproved
# connection slips through a moment without rules.
. "$(dirname "$0")/lib.sh"
t_need jq socat
t_init recomp

t_need_bench
t_hosts cli srv
t_config 'alerts_file: ""' 'alert_window: 1h' 'tamper_check: 1s'
t_start_nsegd || exit 1
t_bg srv "$CS" 10.66.0.2 9000
t_wait_for 5 t_listening srv tcp 9000 || exit 1
t_serve srv 9001 x && t_serve srv 9002 leak || exit 1
cli=netns:$T_PFX-cli srv=netns:$T_PFX-srv

t_in cli "$CB" -c 2 -d 1 10.66.0.2 9000 >/dev/null
t_in cli socat -u TCP:10.66.0.2:9001 - >/dev/null
extra=$(t_ctl --json baseline show "$cli" | jq -r '.[] | select(.port == 9001) | .id')
main=$(t_ctl --json baseline show "$cli" | jq -r '.[] | select(.port == 9000) | .id')
t_ok "approve the main edge (any process)" t_quiet t_ctl baseline approve "$cli" --edge "$main" --any-process
t_ok "approve srv (its process)" t_quiet t_ctl baseline approve "$srv" --all
t_ok "enforce cli" t_quiet t_ctl mode "$cli" enforce
t_ok "enforce srv" t_quiet t_ctl mode "$srv" enforce

t_in cli "$CB" -c 4 -d 4 10.66.0.2 9000 >"$T_TMP/cb.out" &
load=$!
T_PIDS+=("$load")
# Unapproved attempts all the while (each a new connection).
(
	while kill -0 "$load" 2>/dev/null; do
		ip netns exec "$T_PFX-cli" socat -T 1 -u \
			TCP:10.66.0.2:9002,connect-timeout=0.2 - 2>/dev/null
	done
) >"$T_TMP/leaks.out" &
prober=$!
T_PIDS+=("$prober")
# cli's table changes (its connections are decided in the kernel), and
# srv's (each connection waits in its queue for nsegd): a recompile must
# not drop what waits there, or a SYN is retransmitted a second later.
n=0
while kill -0 "$load" 2>/dev/null && [ $n -lt 40 ]; do
	t_ctl baseline approve "$cli" --edge "$extra" >/dev/null &&
		t_ctl baseline reject "$cli" --edge "$extra" >/dev/null &&
		t_ctl mode "$srv" notify >/dev/null &&
		t_ctl mode "$srv" enforce >/dev/null &&
		n=$((n + 4))
done
wait "$load"
wait "$prober"
out=$(cat "$T_TMP/cb.out")
t_ok "$n recompiles during the load" test "$n" -ge 10
t_ok "connections made ($out)" bash -c "[ \$(sed -n 's/.*conns=\([0-9]*\).*/\1/p' <<<'$out') -gt 1000 ]"
t_eq "not one failed" "0" "$(sed -n 's/.*errors=\([0-9]*\).*/\1/p' <<<"$out")"
max_us=$(sed -n 's/.*max_us=\([0-9]*\).*/\1/p' <<<"$out")
t_ok "not one waited for a retransmission (slowest ${max_us} us)" test "$max_us" -lt 900000
t_eq "not one unapproved connection got through" "" "$(cat "$T_TMP/leaks.out")"
t_ok "the unapproved attempts were seen" bash -c "\"$NSEGCTL\" --socket \"$T_SOCK\" --json alerts --workload \"$cli\" | jq -e 'map(select(.port == 9002)) | .[0].count >= 2' >/dev/null"
# Every table compared in full more than once, and each recompile seen
# in the notifications: nsegd's own transactions are not tampering.
t_ok "tables compared during the run" test "$(t_ctl --json status | jq .tamper.checks)" -ge 4
t_eq "own recompiles not taken for tampering" 0 "$(t_ctl --json status | jq .tamper.found)"
t_done
