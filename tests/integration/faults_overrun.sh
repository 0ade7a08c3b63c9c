#!/bin/bash
# NFQUEUE overrun: nsegd stops reading (SIGSTOP) while a flood of new
# connections fills its small queue, then resumes. Whatever it never saw is
# counted per namespace and in total in status, and logged; fail: closed
# drops those connections, fail: open lets them through.
. "$(dirname "$0")/lib.sh"
t_need jq nft
t_init ovr

t_need_bench
MAXLEN=32
SYNS=300

t_hosts cli srv
t_bg srv socat TCP-LISTEN:9000,fork,reuseaddr SYSTEM:'echo up'
t_wait_for 5 t_listening srv tcp 9000 || exit 1
# srv is not watched: its own counter says which SYNs cli let out.
t_in srv nft -f - <<'EOF' || exit 1
table inet nseg_t_cnt {
	chain in {
		type filter hook input priority 0;
		tcp dport 9000 tcp flags & (syn | ack) == syn counter
	}
}
EOF
arrived() { t_in srv nft list table inet nseg_t_cnt | sed -n 's/.*counter packets \([0-9]*\).*/\1/p'; }
nsq() { t_ctl --json status | jq -r --arg n "$T_PFX-cli" ".netns[] | select(.name == \$n) | $1"; }
conn_up() { test "$(t_conn cli 10.66.0.2 9000)" = up; }

run() { # FAIL
	local fail=$1 a0 a1 sent unseen total kd
	t_config "fail: $fail" "queue_maxlen: $MAXLEN" 'queue_rate: 1000000' \
		'queue_burst: 1000000' 'alerts_file: ""'
	t_run_nsegd 1 --netns "$T_PFX-cli" || exit 1
	t_eq "$fail: connection before the flood" up "$(t_conn cli 10.66.0.2 9000)"
	t_eq "$fail: nothing unseen yet" 0 "$(nsq .queue_unseen)"
	a0=$(arrived)
	kill -STOP "$T_NSEGD_PID"
	sent=$(t_in cli "$SF" -d 1 -r $SYNS 10.66.0.2 9000 | sed -n 's/.*syns=\([0-9]*\).*/\1/p')
	a1=$(arrived)
	kill -CONT "$T_NSEGD_PID"
	t_ok "$fail: resumed, connections work" t_wait_for 5 conn_up
	unseen=$(nsq .queue_unseen)
	total=$(t_ctl --json status | jq .queue.unseen)
	kd=$(nsq '.queue_overruns + .queue_user_dropped')
	t_log "$fail: $sent SYNs while stopped; $((a1 - a0)) reached srv while stopped; unseen $unseen (total $total), kernel drops $kd"
	t_ok "$fail: overrun counted in the namespace ($unseen of $sent, queue of $MAXLEN)" \
		test "$unseen" -ge $((sent - MAXLEN - 5)) -a "$unseen" -le "$sent"
	t_eq "$fail: and in the total" "$unseen" "$total"
	t_ok "$fail: and logged" grep -q "queue overrun: .* never seen by nsegd (fail: $fail" "$T_TMP/nsegd.log"
	if [ "$fail" = closed ]; then
		t_eq "closed: the kernel counted the same drops" "$unseen" "$kd"
		t_eq "closed: none reached srv while stopped" 0 $((a1 - a0))
	else
		t_ok "open: the unseen ones reached srv ($((a1 - a0)) >= $unseen)" \
			test $((a1 - a0)) -ge "$unseen"
	fi
	t_ok "$fail: daemon alive" kill -0 "$T_NSEGD_PID"
	t_ok "$fail: clean stop" t_stop_nsegd
	rm -f "$T_DB" "$T_DB-wal" "$T_DB-shm"
}

run closed
run open
t_done
