#!/bin/bash
# kill -9 of nsegd while it writes batches under traffic (flushes every
# 50 ms, a new edge every few ms), several times over. After each kill the
# database passes integrity_check, holds every approved edge and every
# edge it held before the kill, and a restarted daemon lets approved
# traffic through.
. "$(dirname "$0")/lib.sh"
t_need jq sqlite3
t_init kill9

t_need_bench
ROUNDS=${NSEG_KILL9_ROUNDS:-5}

t_hosts cli srv lrn sink
t_config 'alerts_file: ""' 'flush_interval: 50ms' 'fail: closed'
t_start_nsegd || exit 1
t_bg srv "$CS" 10.66.0.2 9000
t_wait_for 5 t_listening srv tcp 9000 || exit 1
cli=netns:$T_PFX-cli srv=netns:$T_PFX-srv
bench() { t_in cli "$CB" -c 2 -d "$1" 10.66.0.2 9000; }
key() { sed -n "s/.*\b$1=\([0-9]*\).*/\1/p"; }
sql() { sqlite3 -cmd '.timeout 2000' "$T_DB" "$@"; }

# Approved for their processes: nsegd verdicts each connection, so a
# dead daemon (fail: closed) would show as failures.
bench 1 >/dev/null
t_ok "approve cli" t_quiet t_ctl baseline approve "$cli" --all
t_ok "approve srv" t_quiet t_ctl baseline approve "$srv" --all
t_ok "enforce cli" t_quiet t_ctl mode "$cli" enforce
t_ok "enforce srv" t_quiet t_ctl mode "$srv" enforce

# lrn learns a new edge per port it tries on sink (nothing listens: a
# reset at once), so every flush writes a batch.
learner() {
	t_in lrn bash -c 'exec 2>/dev/null; p=$1; while :; do
		(exec 3<>/dev/tcp/10.66.0.4/$p) 2>/dev/null; p=$((p + 1))
		[ $p -gt 60000 ] && p=20000; done' _ "$1" &
	T_PIDS+=("$!")
	lpid=$!
}

# Hundreds of approved edges: lrn's first ones (it stays in learn mode).
learner 10000
sleep 1
kill "$lpid"
wait "$lpid" 2>/dev/null
t_ok "approve lrn's edges" t_quiet t_ctl baseline approve "netns:$T_PFX-lrn" --all
approved=$(sql "SELECT count(*) FROM edges WHERE state = 'approved'")
t_ok "approved edges in the database ($approved)" test "$approved" -ge 100

port=20000
for round in $(seq "$ROUNDS"); do
	learner "$port"
	t_in cli "$CB" -c 2 -d 30 10.66.0.2 9000 >/dev/null 2>&1 &
	T_PIDS+=("$!")
	bpid=$!
	# Kill at a random moment in a second of writes.
	sleep "0.$((300 + RANDOM % 700))"
	learned=$(sql "SELECT count(*) FROM edges")
	kill -9 "$T_NSEGD_PID"
	wait "$T_NSEGD_PID" 2>/dev/null
	# With nsegd dead (fail: closed) their connects hang: SIGKILL.
	for p in $(ip netns pids "$T_PFX-lrn") $(ip netns pids "$T_PFX-cli"); do
		kill -9 "$p" 2>/dev/null
	done
	wait "$lpid" "$bpid" 2>/dev/null
	port=$((port + 2000))
	t_eq "round $round: integrity_check" ok "$(sql 'PRAGMA integrity_check')"
	t_eq "round $round: no approved edge lost" "$approved" \
		"$(sql "SELECT count(*) FROM edges WHERE state = 'approved'")"
	after=$(sql "SELECT count(*) FROM edges")
	t_ok "round $round: every committed edge still there ($learned before, $after after)" \
		test "$after" -ge "$learned"
	t_start_nsegd || exit 1
	out=$(bench 1 2>"$T_TMP/bench.err")
	[ "$(key errors <<<"$out")" = 0 ] || {
		t_log "errors after restart: $out; $(tr '\n' ' ' <"$T_TMP/bench.err")"
		t_log "alerts $(t_ctl --json alerts | jq -c '[.[] | {workload, port, exe: .process.exe, action, kind, count}]')"
		t_log "$(t_ctl --json status | jq -c '{unattributed, netns: [.netns[] | select(.packets > 0)]}')"
	}
	t_ok "round $round: approved traffic after restart ($(key conns <<<"$out") conns, $(key errors <<<"$out") errors)" \
		test "$(key conns <<<"$out")" -gt 10 -a "$(key errors <<<"$out")" = 0
done
t_eq "the daemon still enforces" enforce "$(t_ctl --json workloads | jq -r --arg w "$cli" '.[] | select(.name == $w) | .mode')"
t_ok "clean stop" t_stop_nsegd
t_eq "final integrity_check" ok "$(sql 'PRAGMA integrity_check')"
t_done
