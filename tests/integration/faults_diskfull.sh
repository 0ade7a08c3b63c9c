#!/bin/bash
# The database's file system fills up (a small tmpfs, filled with dd) while
# nsegd learns, alerts and enforces. nsegd keeps running and enforcing,
# logs the error, counts it in status, keeps what it could not write, and
# writes all of it once space is freed.
. "$(dirname "$0")/lib.sh"
t_need jq sqlite3 socat
t_init dfull

t_need_bench
NPORTS=200

fs=$T_TMP/dbfs
mkdir "$fs" || exit 1
T_CLEANUP+=("umount -l $fs")
mount -t tmpfs -o size=4m,mode=0700 nseg-t-dbfs "$fs" || t_skip "cannot mount a tmpfs"

t_hosts cli srv lrn sink
t_config 'alerts_file: ""' 'alert_window: 1h' 'flush_interval: 100ms'
t_start_nsegd --db "$fs/nseg.db" || exit 1
db=$fs/nseg.db
t_bg srv "$CS" 10.66.0.2 9000
t_wait_for 5 t_listening srv tcp 9000 || exit 1
cli=netns:$T_PFX-cli srv=netns:$T_PFX-srv lrn=netns:$T_PFX-lrn
bench() { t_in cli "$CB" -c 2 -d "$1" 10.66.0.2 9000; }
key() { sed -n "s/.*\b$1=\([0-9]*\).*/\1/p"; }
st() { t_ctl --json status | jq -r "$1"; }

bench 1 >/dev/null
t_ok "approve cli" t_quiet t_ctl baseline approve "$cli" --all
t_ok "approve srv" t_quiet t_ctl baseline approve "$srv" --all
t_ok "enforce cli" t_quiet t_ctl mode "$cli" enforce
t_ok "enforce srv" t_quiet t_ctl mode "$srv" enforce
t_ok "the database is on the small file system" test -s "$db"

dd if=/dev/zero of="$fs/fill" bs=64k >/dev/null 2>&1
t_eq "file system full" 0 "$(df --output=avail -B1 "$fs" | tail -n 1 | tr -d ' ')"

# While full: lrn (learning) tries NPORTS ports on sink (a reset each),
# cli (enforcing) tries 3 ports srv never approved (alerts), approved
# traffic runs.
t_in lrn bash -c "for p in \$(seq 30001 $((30000 + NPORTS))); do
	(exec 3<>/dev/tcp/10.66.0.4/\$p) 2>/dev/null; done"
for p in 7001 7002 7003; do
	t_eq "full: unapproved port $p still dropped" "" "$(t_in cli timeout 2 socat -u "TCP:10.66.0.2:$p,connect-timeout=1" - 2>/dev/null)"
done
out=$(bench 2)
t_ok "full: approved traffic runs ($(key conns <<<"$out") conns, $(key errors <<<"$out") errors, max $(key max_us <<<"$out") us)" \
	test "$(key conns <<<"$out")" -gt 10 -a "$(key errors <<<"$out")" = 0
t_ok "full: flush errors in status" t_wait_for 5 bash -c "[ \$(\"$NSEGCTL\" --socket \"$T_SOCK\" --json status | jq .store.flush_errors) -gt 0 ]"
t_log "status while full: $(t_ctl --json status | jq -c .store)"
t_ok "full: status names the cause" bash -c "\"$NSEGCTL\" --socket \"$T_SOCK\" --json status | jq -r .store.last_error | grep -q 'full'"
t_ok "full: the log says so" grep -q 'database or disk is full' "$T_TMP/nsegd.log"
t_ok "full: edges kept in memory ($(st .store.edges_pending))" test "$(st .store.edges_pending)" -ge "$NPORTS"
t_ok "full: alerts kept in memory ($(st .store.alerts_pending))" test "$(st .store.alerts_pending)" -ge 3
t_ok "full: daemon alive" kill -0 "$T_NSEGD_PID"

rm -f "$fs/fill"
t_ok "freed: everything written" t_wait_for 10 bash -c "[ \"\$(\"$NSEGCTL\" --socket \"$T_SOCK\" --json status | jq -c '[.store.edges_pending, .store.alerts_pending, .store.last_error]')\" = '[0,0,\"\"]' ]"
t_eq "freed: all $NPORTS learned edges of lrn" "$NPORTS" "$(t_ctl --json baseline show "$lrn" | jq '[.[] | select(.port > 30000)] | length')"
t_eq "freed: and sink's side" "$NPORTS" "$(t_ctl --json baseline show "netns:$T_PFX-sink" | jq '[.[] | select(.port > 30000)] | length')"
t_log "alerts: $(t_ctl --json alerts --workload "$cli" | jq -c '.[] | [.id, .port, .process.comm, .count, .kind, .action]' | tr '\n' ' ')"
t_eq "freed: an alert for each of the 3 ports" "[7001,7002,7003]" "$(t_ctl --json alerts --workload "$cli" | jq -c '[.[] | select(.port >= 7001 and .port <= 7003) | .port] | unique')"
t_ok "freed: the log says writes work again" grep -q 'writes work again' "$T_TMP/nsegd.log"
t_ok "clean stop" t_stop_nsegd
t_eq "integrity" ok "$(sqlite3 "$db" 'PRAGMA integrity_check')"
t_done
