#!/bin/bash
# Learn-then-enforce: at the end of the learning window a workload moves
# to notify (default) or, with auto_approve, gets its learned edges
# approved and is enforced; status shows the window left meanwhile.
. "$(dirname "$0")/lib.sh"
t_need socat jq
t_init lte

t_pair
t_serve b 7000 seven && t_serve b 7001 other || exit 1
conn() { t_conn a 10.66.0.2 "$1"; }
mode_of() { t_ctl --json workloads | jq -r --arg n "$1" '.[] | select(.name == $n) | .mode'; }

# Without auto_approve: notify at the end, nothing approved.
t_config 'learn_window: 3s' 'alerts_file: ""'
t_start_nsegd --learn-then-enforce || exit 1
t_eq "learns first" seven "$(conn 7000)"
t_ok "status shows the window left" bash -c "\"$NSEGCTL\" --socket \"$T_SOCK\" --json status | jq -e --arg n \"$a\" '.workloads[] | select(.name == \$n) | .learn_window_left_s >= 0' >/dev/null"
t_ok "notify after the window" t_wait_for 10 bash -c "[ \"\$(\"$NSEGCTL\" --socket \"$T_SOCK\" --json workloads | jq -r --arg n \"$a\" '.[] | select(.name == \$n) | .mode')\" = notify ]"
t_eq "nothing approved" "learned" "$(t_ctl --json baseline show "$a" | jq -r '[.[].state] | unique | join(",")')"
t_eq "notify passes the unknown" other "$(conn 7001)"
t_ok "stop" t_stop_nsegd

# With auto_approve (on a fresh database): approved and enforced.
rm -f "$T_TMP"/nseg.db*
t_config 'learn_window: 3s' 'auto_approve: true' 'alerts_file: ""'
t_start_nsegd --learn-then-enforce || exit 1
t_eq "learns first (2)" seven "$(conn 7000)"
t_ok "enforce after the window" t_wait_for 10 bash -c "[ \"\$(\"$NSEGCTL\" --socket \"$T_SOCK\" --json workloads | jq -r --arg n \"$a\" '.[] | select(.name == \$n) | .mode')\" = enforce ]"
t_eq "learned edges approved by nsegd" "approved nsegd (learning window)" "$(t_ctl --json baseline show "$a" | jq -r '.[0] | .state + " " + .decided_by')"
t_eq "approved flow passes" seven "$(conn 7000)"
t_eq "unknown flow blocked" "" "$(conn 7001)"
t_done
