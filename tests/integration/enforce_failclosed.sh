#!/bin/bash
# fail: closed. With nsegd dead, edges approved for any process still pass
# (the kernel decides them), while connections that need nsegd (process
# checks, unknown flows) are dropped; a restarted nsegd restores them.
. "$(dirname "$0")/lib.sh"
t_need socat jq
t_init fc

t_switch
t_netns a && t_attach a 1
t_netns b && t_attach b 2
t_bg b socat TCP-LISTEN:7000,fork,reuseaddr SYSTEM:'echo any'
t_bg b socat TCP-LISTEN:7001,fork,reuseaddr SYSTEM:'echo proc'
t_wait_for 5 t_listening b tcp 7000 || exit 1
t_wait_for 5 t_listening b tcp 7001 || exit 1
printf 'fail: closed\nalerts_file: ""\n' >"$T_TMP/nsegd.yaml"
t_start_nsegd -c "$T_TMP/nsegd.yaml" || exit 1
a=netns:$T_PFX-a b=netns:$T_PFX-b
conn() { t_in a timeout 5 socat -T 3 -u "TCP:10.66.0.2:$1,connect-timeout=2" - 2>/dev/null; }

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
t_start_nsegd -c "$T_TMP/nsegd.yaml" || exit 1
t_eq "restarted: 7001 again" proc "$(conn 7001)"
t_done
