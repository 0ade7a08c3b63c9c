#!/bin/bash
# block: reject. A deviation in enforce mode fails at once (TCP reset)
# instead of timing out, and is alerted like a drop.
. "$(dirname "$0")/lib.sh"
t_need socat jq
t_init rej

t_pair
t_serve b 7000 ok && t_serve b 7001 leak || exit 1
t_config 'block: reject' 'alerts_file: ""'
t_start_nsegd || exit 1
conn() { t_in a timeout 10 socat -u "TCP:10.66.0.2:$1,connect-timeout=5" - 2>&1; }

t_eq "learn" ok "$(conn 7000)"
t_ok "approve a" t_quiet t_ctl baseline approve "$a" --all
t_ok "approve b" t_quiet t_ctl baseline approve "$b" --all
t_ok "enforce a" t_quiet t_ctl mode "$a" enforce
t_ok "enforce b" t_quiet t_ctl mode "$b" enforce
t_eq "approved passes" ok "$(conn 7000)"
s=$(date +%s%N)
out=$(conn 7001)
ms=$((($(date +%s%N) - s) / 1000000))
t_ok "refused, not timed out: $out" grep -q "Connection refused" <<<"$out"
t_ok "at once (${ms} ms)" test "$ms" -lt 2000
t_ok "alerted as a block" t_wait_for 5 bash -c "\"$NSEGCTL\" --socket \"$T_SOCK\" --json alerts --workload \"$a\" | jq -e 'map(select(.port == 7001 and .action == \"block\")) | length == 1' >/dev/null"
t_done
