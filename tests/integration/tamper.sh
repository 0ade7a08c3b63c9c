#!/bin/bash
# Tamper and drift of the enforcement plane: someone else changes an
# enforced namespace's table inet nseg with nft while approved traffic
# flows. Each change (an approved accept rule deleted, a rogue accept rule
# added, a set emptied, the table made dormant or deleted) raises a
# "tamper" alert and is repaired: the rules are back, approved traffic
# flows, the deviation is blocked again. A change made while detection is
# off is found by the periodic comparison once it is on again. A tool
# fighting nsegd gets at most about one repair a second. nsegd's own
# recompiles are never taken for tampering.
. "$(dirname "$0")/lib.sh"
t_need socat jq nft
t_init tamper

t_pair
t_config "alerts_file: $T_TMP/alerts.jsonl" 'alert_window: 1h' \
	'tamper_check: 1s'
t_start_nsegd || exit 1
t_serve b 7000 approved && t_serve b 7001 deviation || exit 1

A=$T_PFX-a
nft_a() { ip netns exec "$A" nft "$@"; }
approved() { t_conn a 10.66.0.2 7000; }
deviation() { t_conn a 10.66.0.2 7001; }
status() { t_ctl --json status | jq -r ".tamper.$1"; }
tamper_count() {
	t_ctl --json alerts --workload "$a" |
		jq '[.[] | select(.kind == "tamper") | .count] | add // 0'
}
# The approved edge's kernel rule is in a's output chain.
rule_back() { nft_a list chain inet nseg output 2>/dev/null | grep -q 'dport 7000'; }
# The table is whole again and holds no rogue rule for the deviation.
rogue_gone() {
	rule_back && ! nft_a list chain inet nseg output 2>/dev/null | grep -q 'dport 7001'
}
# Deadline for a change to be seen and repaired.
D=5

t_eq "learn: approved edge" approved "$(approved)"
t_ok "approve a (any process)" t_quiet t_ctl baseline approve "$a" --all --any-process
t_ok "approve b" t_quiet t_ctl baseline approve "$b" --all --any-process
t_ok "enforce a" t_quiet t_ctl mode "$a" enforce
t_ok "enforce b" t_quiet t_ctl mode "$b" enforce
t_eq "enforce: approved passes" approved "$(approved)"
t_eq "enforce: deviation blocked" "" "$(deviation)"
t_ok "the approved edge is a kernel rule" rule_back
# Two periodic comparisons of every table, and nsegd's own recompiles.
t_ok "reject and approve again (own recompiles)" bash -c \
	"\"$NSEGCTL\" --socket \"$T_SOCK\" mode \"$a\" notify >/dev/null &&
	 \"$NSEGCTL\" --socket \"$T_SOCK\" mode \"$a\" enforce >/dev/null"
sleep 2.5
t_ok "periodic comparisons ran" test "$(status checks)" -ge 2
t_eq "nsegd's own changes are not tamper" 0 "$(status found)"
t_eq "no tamper alert yet" 0 "$(tamper_count)"

# Approved traffic all along: one connection every 50 ms.
(
	while :; do
		r=$(ip netns exec "$A" socat -T 1 -u \
			TCP:10.66.0.2:7000,connect-timeout=1 - 2>/dev/null)
		echo "${r:-FAIL}"
		sleep 0.05
	done
) >"$T_TMP/flow.out" &
T_PIDS+=("$!")
flow_ok() { # the last 3 approved connections succeeded
	[ "$(tail -n 3 "$T_TMP/flow.out" | grep -c '^approved$')" = 3 ]
}
sleep 0.5

# 1. The approved edge's accept rule deleted.
h=$(nft_a -a list chain inet nseg output 2>/dev/null | sed -n 's/.*dport 7000 .*# handle \([0-9]*\)$/\1/p' | head -n 1)
t_ok "found the approved rule's handle ($h)" test -n "$h"
t_ok "delete it with nft" nft_a delete rule inet nseg output handle "$h"
t_ok "tamper alert raised" t_wait_for $D bash -c "[ \$(\"$NSEGCTL\" --socket \"$T_SOCK\" --json alerts --workload \"$a\" | jq '[.[] | select(.kind == \"tamper\")] | length') = 1 ]"
t_ok "the rule is back" t_wait_for $D rule_back
t_eq "alert fields" "block * tamper" "$(t_ctl --json alerts --workload "$a" | jq -r '.[] | select(.kind == "tamper") | [.action, .peer.identity, .kind] | join(" ")')"
t_ok "alert in the JSON-lines file" t_wait_for $D grep -q '"kind":"tamper"' "$T_TMP/alerts.jsonl"
t_ok "logged with what changed and who" t_wait_for $D grep -q "rule deleted from chain output by nft" "$T_TMP/nsegd.log"
t_ok "approved traffic flows" t_wait_for $D flow_ok
t_eq "deviation blocked" "" "$(deviation)"

# 2. A rogue accept rule for the deviation.
n=$(tamper_count)
t_ok "insert a rogue accept rule" nft_a insert rule inet nseg output tcp dport 7001 accept
t_ok "counted into the tamper alert" t_wait_for $D bash -c "[ \$(\"$NSEGCTL\" --socket \"$T_SOCK\" --json alerts --workload \"$a\" | jq '[.[] | select(.kind == \"tamper\") | .count] | add') -gt $n ]"
t_ok "the rogue rule is gone" t_wait_for $D rogue_gone
t_eq "deviation blocked again" "" "$(deviation)"
t_ok "approved traffic flows" t_wait_for $D flow_ok

# 3. The peer set emptied.
set=$(nft_a list chain inet nseg output 2>/dev/null | sed -n 's/.*ip daddr @\([a-z0-9_]*\) tcp dport 7000.*/\1/p' | head -n 1)
t_ok "found the peer set ($set)" test -n "$set"
t_ok "flush the set" nft_a flush set inet nseg "$set"
t_ok "the set holds b again" t_wait_for $D bash -c "ip netns exec $A nft list set inet nseg $set | grep -q 10.66.0.2"

# 4. The table made dormant (nothing of it runs).
t_ok "make the table dormant" nft_a add table inet nseg '{ flags dormant; }'
t_ok "the table runs again" t_wait_for $D bash -c "! ip netns exec $A nft list table inet nseg | grep -q dormant"
t_eq "deviation blocked" "" "$(deviation)"

# 5. The whole table deleted.
t_ok "delete the table" nft_a delete table inet nseg
t_ok "the table is back" t_wait_for $D rule_back
t_eq "deviation blocked" "" "$(deviation)"
t_ok "approved traffic flows" t_wait_for $D flow_ok
t_ok "every change found" test "$(status found)" -ge 5
t_ok "every change repaired" test "$(status repairs)" -ge 5

# 6. Detection off: nothing happens; on again (SIGHUP), the periodic
# comparison finds what changed meanwhile.
t_config "alerts_file: $T_TMP/alerts.jsonl" 'alert_window: 1h' 'tamper_check: 0'
kill -HUP "$T_NSEGD_PID"
t_ok "reloaded with tamper_check: 0" t_wait_for $D bash -c "[ \"\$(\"$NSEGCTL\" --socket \"$T_SOCK\" --json status | jq .tamper.check_interval_s)\" = 0 ]"
found=$(status found)
t_ok "insert a rogue rule while off" nft_a insert rule inet nseg output tcp dport 7001 accept
sleep 1.5
t_eq "not seen while off" "$found" "$(status found)"
t_ok "still there while off" bash -c "ip netns exec $A nft list chain inet nseg output 2>/dev/null | grep -q 'dport 7001'"
t_config "alerts_file: $T_TMP/alerts.jsonl" 'alert_window: 1h' 'tamper_check: 1s'
kill -HUP "$T_NSEGD_PID"
t_ok "the periodic comparison finds it" t_wait_for $D bash -c "[ \$(\"$NSEGCTL\" --socket \"$T_SOCK\" --json status | jq .tamper.found) -gt $found ]"
t_ok "and repairs it" t_wait_for $D rogue_gone
t_ok "logged as found by the periodic check" grep -q "found by the periodic check" "$T_TMP/nsegd.log"

# 7. A fight: rogue rules added 20 times a second for 3 seconds.
found=$(status found) repairs=$(status repairs)
end=$(($(date +%s) + 3)) ins=0
while [ "$(date +%s)" -lt "$end" ]; do
	nft_a insert rule inet nseg output tcp dport 7001 accept 2>/dev/null &&
		ins=$((ins + 1))
	sleep 0.05
done
t_ok "rogue rules inserted ($ins)" test "$ins" -ge 10
t_ok "the fight's rogue rules are gone" t_wait_for $D rogue_gone
df=$(($(status found) - found)) dr=$(($(status repairs) - repairs))
t_ok "each change found ($df of $ins)" test "$df" -ge "$ins"
t_ok "repairs held to about one a second ($dr)" test "$dr" -ge 2 -a "$dr" -le 6
t_eq "deviation blocked" "" "$(deviation)"
t_ok "approved traffic flows" t_wait_for $D flow_ok
t_eq "one tamper alert, counting them all" 1 "$(t_ctl --json alerts --workload "$a" | jq '[.[] | select(.kind == "tamper")] | length')"
t_eq "b's table was never touched" 0 "$(t_ctl --json alerts --workload "$b" | jq '[.[] | select(.kind == "tamper")] | length')"
t_eq "no repair failed" 0 "$(status repair_errors)"
t_done
