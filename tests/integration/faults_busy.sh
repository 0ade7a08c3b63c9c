#!/bin/bash
# Another process holds the database's write lock for a few seconds while
# traffic runs. nsegd says so in its log, keeps what it learned in memory,
# writes it once the lock goes, and the packet path does not wait for the
# database: approved connections that nsegd verdicts keep their latency.
. "$(dirname "$0")/lib.sh"
t_need jq sqlite3 socat
t_init busy

t_need_bench
LOCK_S=${NSEG_BUSY_LOCK_S:-4}
MAX_MS=${NSEG_BUSY_MAX_MS:-500}

t_hosts cli srv lrn
t_config 'alerts_file: ""' 'alert_window: 1h'
t_start_nsegd || exit 1
t_bg srv "$CS" 10.66.0.2 9000
t_wait_for 5 t_listening srv tcp 9000 || exit 1
cli=netns:$T_PFX-cli srv=netns:$T_PFX-srv lrn=netns:$T_PFX-lrn
bench() { t_in cli "$CB" -c 2 -d "$1" 10.66.0.2 9000; }
key() { sed -n "s/.*\b$1=\([0-9]*\).*/\1/p"; }

# cli <-> srv approved for their processes: every new connection is
# queued and verdicted by nsegd (a rule for any process would be decided
# in the kernel and prove nothing here).
bench 1 >/dev/null
t_ok "approve cli" t_quiet t_ctl baseline approve "$cli" --all
t_ok "approve srv" t_quiet t_ctl baseline approve "$srv" --all
t_ok "enforce cli" t_quiet t_ctl mode "$cli" enforce
t_ok "enforce srv" t_quiet t_ctl mode "$srv" enforce
before=$(bench 2)
t_log "unlocked: $before"
errs0=$(t_ctl --json status | jq .store.flush_errors)

# The lock: a sqlite3 shell reading its commands from a fifo.
mkfifo "$T_TMP/sql"
sqlite3 "$T_DB" <"$T_TMP/sql" >"$T_TMP/sqlite.out" 2>&1 &
T_PIDS+=("$!")
holder=$!
exec 3>"$T_TMP/sql"
T_CLEANUP+=("exec 3>&-")
echo 'BEGIN EXCLUSIVE;' >&3
locked() { ! sqlite3 -cmd '.timeout 0' "$T_DB" 'BEGIN IMMEDIATE; ROLLBACK;' >/dev/null 2>&1; }
t_ok "database locked by pid $holder" t_wait_for 5 locked
lock_start=$(date +%s%N)

# While locked: lrn (learning) tries ports nobody approved on srv: lrn
# learns an edge per port, srv (enforcing) drops them and raises alerts.
for p in 7001 7002 7003 7004 7005; do
	t_in lrn timeout 2 socat -u "TCP:10.66.0.2:$p,connect-timeout=1" - \
		>/dev/null 2>&1 &
done
during=$(bench $((LOCK_S - 1)))
t_log "locked:   $during"
wait_rest=$((LOCK_S * 1000 - ($(date +%s%N) - lock_start) / 1000000))
[ "$wait_rest" -gt 0 ] && sleep "$((wait_rest / 1000)).$(printf %03d $((wait_rest % 1000)))"
t_ok "still locked after the traffic" locked
echo 'COMMIT;' >&3
exec 3>&-
t_wait_pid_exit "$holder" 5

max_ms=$(($(key max_us <<<"$during") / 1000))
t_ok "approved connections ran during the lock ($(key conns <<<"$during") conns)" \
	test "$(key conns <<<"$during")" -gt 10
t_ok "none failed during the lock" test "$(key errors <<<"$during")" = 0
t_ok "slowest connection during the lock ${max_ms} ms < ${MAX_MS} ms (p99 $(key p99_us <<<"$during") us; unlocked p99 $(key p99_us <<<"$before") us)" \
	test "$max_ms" -lt "$MAX_MS"
t_ok "the log says the database is locked" grep -q 'database is locked' "$T_TMP/nsegd.log"
t_ok "and that the data is kept for the next try" grep -q 'kept for the next try' "$T_TMP/nsegd.log"
edges() { t_ctl --json baseline show "$lrn" | jq '[.[] | select(.port >= 7001 and .port <= 7005) | .port] | unique | length'; }
alerts() { t_ctl --json alerts --workload "$srv" | jq '[.[] | select(.port >= 7001 and .port <= 7005)] | length'; }
all_edges() { test "$(edges)" = 5; }
t_ok "all 5 learned edges written after the lock" t_wait_for 5 all_edges
t_eq "all 5 ports learned" 5 "$(edges)"
t_eq "all 5 alerts written after the lock" 5 "$(alerts)"
# Their captures did not wait for the database either.
ids=$(t_ctl --json alerts --workload "$srv" | jq -r '.[] | select(.port >= 7001 and .port <= 7005 and (.pcap // "") != "") | .id')
t_eq "each alert of the lock has its pcap" 5 "$(wc -w <<<"$ids")"
has_pcap() { local p; p=$(t_ctl capture show "$1") && test -s "$p"; }
for id in $ids; do
	t_ok "alert $id: capture show gives its file" has_pcap "$id"
done
t_log "their captures: $(t_ctl --json alerts --workload "$srv" | jq -c '[.[] | select(.port >= 7001) | {port, pcap, pcap_note}]')"
errs=$(t_ctl --json status | jq .store.flush_errors)
t_ok "status counts the failed flushes ($errs0 -> $errs)" test "$errs" -gt "$errs0"
t_eq "nothing left pending" 0 "$(t_ctl --json status | jq '.learner.pending + .store.alerts_pending')"
t_eq "status shows no current error" '""' "$(t_ctl --json status | jq .store.last_error)"
t_ok "integrity" test "$(sqlite3 "$T_DB" 'PRAGMA integrity_check')" = ok
t_ok "clean stop" t_stop_nsegd
t_done
