#!/bin/bash
# fail: closed. With nsegd dead, edges approved for any process still pass
# (the kernel decides them), while connections that need nsegd (process
# checks, unknown flows) are dropped; a restarted nsegd restores them.
. "$(dirname "$0")/lib.sh"
t_need socat jq
t_init fc

t_pair
t_serve b 7000 any && t_serve b 7001 proc || exit 1
t_config 'fail: closed' 'alerts_file: ""'
t_start_nsegd || exit 1
conn() { t_conn a 10.66.0.2 "$1"; }

t_eq "learn 7000" any "$(conn 7000)"
t_eq "learn 7001" proc "$(conn 7001)"
id7000() { t_ctl --json baseline show "$1" | jq -r '.[] | select(.port == 7000) | .id'; }
id7001() { t_ctl --json baseline show "$1" | jq -r '.[] | select(.port == 7001) | .id'; }
t_ok "approve 7000 for any process" t_quiet t_ctl baseline approve "$a" --edge "$(id7000 "$a")" --any-process
t_ok "approve 7001 for its process" t_quiet t_ctl baseline approve "$a" --edge "$(id7001 "$a")"
t_ok "approve b" t_quiet t_ctl baseline approve "$b" --all --any-process
t_ok "enforce a" t_quiet t_ctl mode "$a" enforce
t_ok "enforce b" t_quiet t_ctl mode "$b" enforce
t_eq "enforced: 7000" any "$(conn 7000)"
t_eq "enforced: 7001" proc "$(conn 7001)"

kill -9 "$T_NSEGD_PID"
wait "$T_NSEGD_PID" 2>/dev/null
t_eq "dead, fail closed: kernel-decided edge passes" any "$(conn 7000)"
t_eq "dead, fail closed: process-checked edge dropped" "" "$(conn 7001)"
t_start_nsegd || exit 1
t_eq "restarted: 7001 again" proc "$(conn 7001)"
t_done
