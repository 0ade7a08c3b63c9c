#!/bin/bash
# Enforcement on plain namespaces: learn, approve, enforce. Approved flows
# pass (decided in the kernel for any-process edges, by one userspace check
# for process-scoped ones); anything else is dropped and alerted once;
# notify mode passes and alerts; a second process on an edge approved for
# another is blocked; a killed daemon leaves approved traffic flowing and a
# restarted one restores everything.
. "$(dirname "$0")/lib.sh"
t_need socat busybox jq ss nft
t_init enf

BB=$(readlink -f "$(command -v busybox)")
t_hosts web api db
mkdir -p "$T_TMP/www" "$T_TMP/bin" && echo hello >"$T_TMP/www/index.html"
for a in wget nc httpd; do ln -s "$BB" "$T_TMP/bin/$a"; done
B=$T_TMP/bin
t_config "alerts_file: $T_TMP/alerts.jsonl" 'alert_window: 1h'
t_start_nsegd || exit 1

t_bg api "$B/httpd" -f -p 8080 -h "$T_TMP/www"
t_wait_for 5 t_listening api tcp 8080 || exit 1
t_serve db 5432 db || exit 1

web=netns:$T_PFX-web api=netns:$T_PFX-api db=netns:$T_PFX-db
get() { t_in web timeout 5 "$B/wget" -q -O - http://10.66.0.2:8080/index.html 2>/dev/null; }
dbq() { t_conn "$1" 10.66.0.3 5432; }

# Learn.
t_eq "learn: web->api" hello "$(get)"
t_eq "learn: api->db" db "$(dbq api)"

# Approve: web's edges for any process (decided in the kernel), api's and
# db's for the process that made them.
t_ok "approve web, any process" t_quiet t_ctl baseline approve "$web" --all --any-process
t_ok "approve api" t_quiet t_ctl baseline approve "$api" --all
t_ok "approve db" t_quiet t_ctl baseline approve "$db" --all
t_eq "approved state shown" "approved" "$(t_ctl --json baseline show "$api" | jq -r '[.[].state] | unique | join(",")')"
for w in "$web" "$api" "$db"; do
	t_ok "enforce $w" t_quiet t_ctl mode "$w" enforce
done
t_eq "mode shown" "enforce" "$(t_ctl --json workloads | jq -r --arg n "$api" '.[] | select(.name == $n) | .mode')"

# Approved flows pass.
t_eq "enforce: approved web->api" hello "$(get)"
t_eq "enforce: approved api->db (process check)" db "$(dbq api)"
t_ok "kernel decided web's approved edge (rule counter)" bash -c \
	"ip netns exec $T_PFX-web nft list chain inet nseg output 2>/dev/null | grep 'dport 8080' | grep -qv 'packets 0 '"

# Usage of approved edges: kernel-decided (web) and process-checked (api).
t_ok "web's approved edge shows hits" t_wait_for 5 bash -c "\"$NSEGCTL\" --socket \"$T_SOCK\" --json baseline show \"$web\" | jq -e '.[] | select(.port == 8080) | (.hits >= 1) and (.last_used | test(\"Z$\"))' >/dev/null"
t_ok "api's approved edge shows hits" t_wait_for 5 bash -c "\"$NSEGCTL\" --socket \"$T_SOCK\" --json baseline show \"$api\" | jq -e '.[] | select(.port == 5432) | .hits >= 1' >/dev/null"

# Unapproved: web -> db is dropped; one alert however many SYNs.
t_eq "enforce: unapproved web->db blocked" "" "$(dbq web)"
t_eq "enforce: again, still blocked" "" "$(dbq web)"
alerts() { t_ctl --json alerts --workload "$1"; }
t_ok "alert written" t_wait_for 5 bash -c "[ \$(\"$NSEGCTL\" --socket \"$T_SOCK\" --json alerts --workload \"$web\" | jq length) -ge 1 ]"
t_eq "exactly one deduplicated alert" 1 "$(alerts "$web" | jq length)"
t_eq "alert fields" "block egress $db socat 5432 tcp 10.66.0.3" "$(alerts "$web" | jq -r '.[0] | [.action, .direction, .peer.identity, .process.comm, (.port|tostring), .protocol, .peer.address] | join(" ")')"
t_ok "alert counts the retries" bash -c "[ \$(\"$NSEGCTL\" --socket \"$T_SOCK\" --json alerts --workload \"$web\" | jq '.[0].count') -ge 2 ]"
t_ok "alert has pid, container field, baseline revision, time" bash -c \
	"\"$NSEGCTL\" --socket \"$T_SOCK\" --json alerts --workload \"$web\" | jq -e '.[0] | (.pid > 0) and has(\"container\") and (.baseline >= 1) and (.time | test(\"Z$\"))' >/dev/null"
t_ok "alert in the JSON-lines file" grep -q "\"workload\":\"$web\"" "$T_TMP/alerts.jsonl"

# A second process on an edge approved for another: busybox nc to db.
t_eq "enforce: nc on socat's approved edge blocked" "" \
	"$(t_in api timeout 5 "$B/nc" -w 2 10.66.0.3 5432 </dev/null 2>/dev/null)"
t_eq "its alert names nc" "nc" "$(alerts "$api" | jq -r '.[] | select(.port == 5432) | .process.comm')"

# Notify: the same unapproved flow passes, and is alerted (both ends
# notify: db enforces its own ingress otherwise).
t_ok "notify web" t_quiet t_ctl mode "$web" notify
t_ok "notify db" t_quiet t_ctl mode "$db" notify
t_eq "notify: unapproved web->db passes" db "$(dbq web)"
t_ok "notify alert" t_wait_for 5 bash -c "\"$NSEGCTL\" --socket \"$T_SOCK\" --json alerts --workload \"$web\" | jq -e 'map(select(.action == \"notify\")) | length == 1' >/dev/null"
t_ok "db's side alerted as ingress" t_wait_for 5 bash -c "\"$NSEGCTL\" --socket \"$T_SOCK\" --json alerts --workload \"$db\" | jq -e 'map(select(.action == \"notify\" and .direction == \"ingress\")) | length == 1' >/dev/null"
t_ok "back to enforce" t_quiet t_ctl mode "$web" enforce
t_ok "db back to enforce" t_quiet t_ctl mode "$db" enforce

before_count=$(alerts "$web" | jq '[.[] | select(.action == "block" and .port == 5432)] | .[0].count')
# kill -9: approved traffic still flows (in the kernel, and through the
# queue's bypass for process-scoped edges with fail: open).
kill -9 "$T_NSEGD_PID"
wait "$T_NSEGD_PID" 2>/dev/null
t_eq "dead daemon: approved web->api" hello "$(get)"
t_eq "dead daemon: api->db (fail open)" db "$(dbq api)"
t_start_nsegd || exit 1
t_eq "restarted: modes restored" "enforce" "$(t_ctl --json workloads | jq -r --arg n "$web" '.[] | select(.name == $n) | .mode')"
t_eq "restarted: approved web->api" hello "$(get)"
t_eq "restarted: unapproved web->db blocked" "" "$(dbq web)"
# The same deviation within alert_window (1h): its alert counts on.
blocks() { alerts "$web" | jq -c '[.[] | select(.action == "block" and .port == 5432)] | [length, (.[0].count > 1)]'; }
t_ok "restarted: web->db counted into its alert" t_wait_for 5 bash -c "[ \"\$(\"$NSEGCTL\" --socket \"$T_SOCK\" --json alerts --workload \"$web\" | jq '[.[] | select(.action == \"block\" and .port == 5432)] | .[0].count')\" -gt $before_count ]"
t_eq "restarted: still one block alert for it" '[1,true]' "$(blocks)"
t_eq "database intact" ok "$(sqlite3 "$T_DB" 'pragma integrity_check')"

# approve --all after enforcing: the blocked attempts stay unapproved.
dev() { t_ctl --json baseline show "$web" | jq -c '[.[] | select(.port == 5432) | [.state, .deviation]] | unique'; }
t_eq "web->db recorded as a deviation" '[["learned",true]]' "$(dev)"
out=$(t_ctl baseline approve "$web" --all)
t_ok "approve --all says what it left ($out)" grep -q "^left [0-9]* edges\? seen only as deviations" <<<"$out"
t_eq "web->db not approved" '[["learned",true]]' "$(dev)"
t_eq "web->db still blocked" "" "$(dbq web)"

# SIGTERM keeps enforcement (stop_keeps_enforcement: true by default).
t_ok "clean stop" t_stop_nsegd
t_ok "tables stay after SIGTERM in enforce mode" bash -c "ip netns exec $T_PFX-web nft list tables 2>/dev/null | grep -q 'inet nseg'"
t_done
