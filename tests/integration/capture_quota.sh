#!/bin/bash
# The capture quota: on-demand captures of bulk transfers fill the
# directory past capture.quota; the oldest finished file goes first (its
# capture then shows "evicted", nsegd logs it), a running capture's file
# is never deleted (it is cut at the quota instead), the *.pcap files stay
# under the quota, and a file that is not a pcap is never touched.
. "$(dirname "$0")/lib.sh"
t_need socat jq tcpdump sha256sum
t_init capq

QUOTA=$((1024 * 1024))
BULK=400000 # bytes a transfer carries: two fit under the quota, three not
# A record is at most the capture's snap length plus its 16-byte header.
REC_MAX=$((262144 + 16))

t_pair
t_serve b 7000 ok || exit 1
t_bg b socat TCP-LISTEN:7100,fork,reuseaddr \
	SYSTEM:"head -c $BULK /dev/urandom" &&
	t_wait_for 5 t_listening b tcp 7100 || exit 1
PCAP=$T_TMP/pcap
mkdir -m 0700 "$PCAP" || exit 1
# Not a capture file: never evicted, never counted.
head -c 300000 /dev/urandom >"$PCAP/notes.txt"
head -c 1000 /dev/urandom >"$PCAP/pcap-notes"
keep_sum=$(cd "$PCAP" && sha256sum notes.txt pcap-notes)
t_config 'alerts_file: ""' 'capture:' "  dir: $PCAP" '  quota: 1M'
t_start_nsegd || exit 1
t_eq "learn" ok "$(t_conn a 10.66.0.2 7000)"

bulk() { # one transfer from b to a; prints the bytes a received
	t_in a timeout 10 socat -u TCP:10.66.0.2:7100,connect-timeout=2 - |
		wc -c
}
start() { # a capture of the bulk port; prints its id
	t_ctl --json capture start "$a" --duration 120 --packets 100000 \
		--filter 'tcp port 7100' | jq -r .id
}
stop() { t_ctl capture stop "c$1" >/dev/null; }
field() { # ID FIELD: a field of capture ID
	t_ctl --json capture show "c$1" | jq -r ".$2"
}
state_is() { test "$(field "$1" state)" = "$2"; } # ID STATE
pcap_total() { # bytes of the *.pcap files on disk
	find "$PCAP" -maxdepth 1 -name '*.pcap' -printf '%s\n' |
		awk '{ s += $1 } END { print s + 0 }'
}
under_quota() { [ "$(pcap_total)" -le $((QUOTA + REC_MAX)) ]; }
evicted_logged() { # ID: nsegd logged the deletion of ID's file
	grep -qF "capture: $1 deleted to stay under the quota" \
		"$T_TMP/nsegd.log"
}

# Two finished captures, together under the quota.
c1=$(start)
t_eq "c1: the transfer" "$BULK" "$(bulk)"
stop "$c1"
c2=$(start)
t_eq "c2: the transfer" "$BULK" "$(bulk)"
stop "$c2"
p1=$(field "$c1" path) p2=$(field "$c2" path)
t_eq "c1 done" done "$(field "$c1" state)"
t_eq "c2 done" done "$(field "$c2" state)"
t_ok "c1 holds the transfer ($(stat -c %s "$p1") bytes)" \
	test "$(stat -c %s "$p1")" -gt "$BULK"
t_ok "under the quota: $(pcap_total)" under_quota

# A third, running: the oldest finished file (c1) makes room, not c2.
c3=$(start)
t_eq "c3: the transfer" "$BULK" "$(bulk)"
t_ok "c1 evicted" t_wait_for 5 state_is "$c1" evicted
t_ok "c1's file deleted" test ! -e "$p1"
t_ok "c1's deletion logged" evicted_logged "$p1"
t_quiet t_ctl capture show "c$c1"
t_eq "capture show of an evicted capture fails" 1 $?
t_ok "and says why" bash -c "\"$NSEGCTL\" --socket \"$T_SOCK\" capture show c$c1 2>&1 >/dev/null | grep -q 'deleted to stay under capture.quota'"
t_eq "c2 (newer) kept" done "$(field "$c2" state)"
t_ok "c2's file kept" test -e "$p2"
t_eq "c3 still running" running "$(field "$c3" state)"
p3=$(field "$c3" path)
t_ok "c3's file is there" test -e "$p3"
t_ok "under the quota: $(pcap_total)" under_quota

# A fourth, alone, outgrows the quota: the finished files go, oldest
# first (c2, then c3); its own file is never deleted: it is cut at the
# quota instead, with a log line and a note.
stop "$c3"
t_eq "c3 done" done "$(field "$c3" state)"
c4=$(start)
p4=$(field "$c4" path)
t_eq "c4: the transfer" "$BULK" "$(bulk)"
t_ok "c2 evicted" t_wait_for 5 state_is "$c2" evicted
t_ok "c2's file deleted" test ! -e "$p2"
t_ok "c2's deletion logged" evicted_logged "$p2"
t_eq "c3 (newer than c2) kept" done "$(field "$c3" state)"
t_ok "c4's file (running) kept" test -e "$p4"
for i in 1 2; do
	t_eq "c4: transfer $((i + 1))" "$BULK" "$(bulk)"
	t_ok "c4's file (running) kept" test -e "$p4"
	t_ok "under the quota: $(pcap_total)" under_quota
done
t_ok "c3 evicted" t_wait_for 5 state_is "$c3" evicted
t_ok "c3's deletion logged" evicted_logged "$p3"
cut() { test "$(field "$c4" state)" = truncated; }
t_ok "c4 cut at the quota" t_wait_for 5 cut
t_ok "c4 says why" grep -q 'quota limit' <<<"$(field "$c4" note)"
t_ok "c4's cut logged" grep -q "c$c4 .*stopped at its quota limit" \
	"$T_TMP/nsegd.log"
t_ok "c4's file kept" test -e "$p4"
t_ok "c4's file: $(stat -c %s "$p4") bytes, near the quota" \
	test "$(stat -c %s "$p4")" -gt $((QUOTA - 2 * REC_MAX))
t_ok "tcpdump reads c4's file" t_quiet tcpdump -nn -r "$p4" -c 1
t_ok "under the quota at the end: $(pcap_total)" under_quota

# What the list says, and that only evictions deleted anything.
list=$(t_ctl --json capture list)
t_eq "evicted in the list" "$c1 $c2 $c3" \
	"$(jq -r '[.[] | select(.state == "evicted") | .id] | sort | map(tostring) | join(" ")' <<<"$list")"
t_eq "deletions logged: one per eviction" 3 \
	"$(grep -c 'deleted to stay under the quota' "$T_TMP/nsegd.log")"
t_eq "the other files untouched" "$keep_sum" \
	"$(cd "$PCAP" && sha256sum notes.txt pcap-notes)"

# A restart counts the files already there: the next capture evicts c4.
t_ok "stop nsegd" t_stop_nsegd
t_start_nsegd || exit 1
c5=$(start)
t_eq "c5: the transfer" "$BULK" "$(bulk)"
stop "$c5"
t_ok "after a restart: c4's file evicted" test ! -e "$p4"
t_eq "after a restart: c4 evicted" evicted "$(field "$c4" state)"
t_eq "after a restart: c5 done" done "$(field "$c5" state)"
t_ok "after a restart: under the quota: $(pcap_total)" under_quota
t_eq "after a restart: the other files untouched" "$keep_sum" \
	"$(cd "$PCAP" && sha256sum notes.txt pcap-notes)"
t_ok "nsegd still answers" t_quiet t_ctl status
t_done
