#!/bin/bash
# Captures on real namespaces: a notify-mode anomalous TCP exchange is in
# its alert's pcap (SYN, the payload both ways, FIN both ways); an enforce
# mode blocked connection's pcap holds its SYN and the retries; an
# on-demand capture with a filter holds only matching packets; a bad
# filter starts nothing; a full disk fails the capture, not nsegd.
. "$(dirname "$0")/lib.sh"
t_need socat jq tcpdump
t_init cap

t_pair
t_serve b 7000 ok || exit 1
# 7001 answers what it was sent: both directions carry known bytes.
t_bg b socat TCP-LISTEN:7001,fork,reuseaddr \
	SYSTEM:'read l; echo "REPLY-$l"' &&
	t_wait_for 5 t_listening b tcp 7001 || exit 1
t_config 'alerts_file: ""'
t_start_nsegd || exit 1

t_eq "learn" ok "$(t_conn a 10.66.0.2 7000)"
t_ok "approve a" t_quiet t_ctl baseline approve "$a" --all
t_ok "notify a" t_quiet t_ctl mode "$a" notify

alert_of() { # PORT: the alert object of a's deviation to PORT
	t_ctl --json alerts --workload "$a" |
		jq -ce --argjson p "$1" 'map(select(.port == $p)) | .[-1] // empty'
}
pcap_of() { alert_of "$1" | jq -r '.pcap // empty'; }
# dump FILE: tcpdump's view, one packet a line, payload as text.
dump() { tcpdump -nn -r "$1" -A 2>/dev/null; }

# An approved connection first (its process is checked: queued): it heads
# the alert's file, the one made while learning does not.
t_eq "notify: approved passes" ok "$(t_conn a 10.66.0.2 7000)"
out=$(printf 'SECRET-PAYLOAD-123\n' |
	t_in a timeout 5 socat -t 2 - TCP:10.66.0.2:7001,connect-timeout=2)
t_eq "notify: the anomalous exchange went through" "REPLY-SECRET-PAYLOAD-123" "$out"
has_pcap() { [ -n "$(pcap_of "$1")" ]; }
t_ok "notify: alerted with a pcap" t_wait_for 5 has_pcap 7001
P=$(pcap_of 7001)
t_log "pcap: $P"
fin_both() { # both ends' FIN are in the file
	local d
	d=$(tcpdump -nn -r "$P" 2>/dev/null)
	grep -q '10.66.0.1\.[0-9]* > 10.66.0.2\.7001: Flags \[F' <<<"$d" &&
		grep -q '10.66.0.2\.7001 > 10.66.0.1\.[0-9]*: Flags \[F' <<<"$d"
}
t_ok "notify: the FIN of both ends reached the file" t_wait_for 10 fin_both
d=$(dump "$P")
t_ok "notify: tcpdump reads it" test -n "$d"
t_eq "notify: the SYN, once" 1 "$(grep -c '> 10.66.0.2\.7001: Flags \[S\]' <<<"$d")"
t_eq "notify: headed by the approved SYN before it, not learning's" 1 \
	"$(grep -c '> 10.66.0.2\.7000: Flags \[S\]' <<<"$d")"
t_ok "notify: the bytes sent" grep -q 'SECRET-PAYLOAD-123' <<<"$d"
t_ok "notify: the bytes answered" grep -q 'REPLY-SECRET-PAYLOAD-123' <<<"$d"
t_eq "pcap file mode" 600 "$(stat -c %a "$P")"
t_eq "pcap directory mode" 700 "$(stat -c %a "$T_PCAP")"
id=$(alert_of 7001 | jq -r .id)
t_eq "capture show ALERT_ID prints its pcap" "$P" "$(t_ctl capture show "$id")"
t_eq "capture list has it" 1 "$(t_ctl --json capture list | jq --arg p "$P" 'map(select(.path == $p and .kind == "alert")) | length')"
# Approved traffic is not captured: no new file, and 7000 still passes.
t_eq "approved still passes" ok "$(t_conn a 10.66.0.2 7000)"
t_eq "approved traffic made no pcap" 1 "$(find "$T_PCAP" -name '*.pcap' | wc -l)"

# Enforce: the blocked SYN and its retries.
t_ok "enforce a" t_quiet t_ctl mode "$a" enforce
t_in a timeout 4 socat -u TCP:10.66.0.2:7002,connect-timeout=3 - 2>/dev/null
t_ok "enforce: alerted with a pcap" t_wait_for 5 has_pcap 7002
P2=$(pcap_of 7002)
retried() { [ "$(tcpdump -nn -r "$P2" 2>/dev/null | grep -c '> 10.66.0.2\.7002: Flags \[S\]')" -ge 2 ]; }
t_ok "enforce: the SYN and at least one retry" t_wait_for 5 retried
t_eq "enforce: nothing of 7002 but SYNs" 0 "$(tcpdump -nn -r "$P2" 2>/dev/null | grep '\.7002:' | grep -vc 'Flags \[S\]')"

# On demand, with a filter: only what matches.
t_bg b socat -u - UDP:10.66.0.1:9999 </dev/null
out=$(t_ctl capture start "$a" --duration 30 --filter 'bad filter !!' 2>&1)
t_eq "a bad filter: exit 1" 1 "$?"
t_ok "a bad filter: libpcap's message" grep -q "syntax error" <<<"$out"
t_eq "a bad filter: nothing started" 2 "$(t_ctl --json capture list | jq length)"
cid=$(t_ctl --json capture start "$a" --duration 30 --filter 'tcp port 7000' | jq -r .id)
t_ok "on demand: started (c$cid)" test "$cid" -gt 0
for i in 1 2 3; do
	t_conn a 10.66.0.2 7000 >/dev/null
	t_in b socat -u - UDP:10.66.0.1:9999 <<<"noise$i"
done
t_ok "on demand: stop" t_quiet t_ctl capture stop "c$cid"
C=$(t_ctl --json capture show "c$cid" | jq -r .path)
st=$(t_ctl --json capture show "c$cid" | jq -r .state)
t_eq "on demand: done" done "$st"
n=$(tcpdump -nn -r "$C" 2>/dev/null | wc -l)
t_ok "on demand: packets captured ($n)" test "$n" -ge 6
t_eq "on demand: only tcp port 7000" 0 "$(tcpdump -nn -r "$C" 2>/dev/null | grep -vc '\.7000[ :]')"
t_eq "on demand: link type" LINUX_SLL "$(tcpdump -r "$C" 2>&1 >/dev/null | grep -o 'LINUX_SLL' | head -1)"

# A full disk: the capture fails alone.
t_ok "stop nsegd" t_stop_nsegd
mkdir -p "$T_TMP/small" && mount -t tmpfs -o size=16k,mode=0700 nseg-t-pcap "$T_TMP/small" || exit 1
T_CLEANUP+=("umount -l '$T_TMP/small'")
t_config 'alerts_file: ""' 'capture:' "  dir: $T_TMP/small/pcap"
t_start_nsegd || exit 1
head -c 12000 /dev/zero >"$T_TMP/small/filler"
t_ok "enforce a (after restart)" t_quiet t_ctl mode "$a" enforce
for p in 7003 7004 7005; do
	t_in a timeout 2 socat -u TCP:10.66.0.2:$p,connect-timeout=1 - 2>/dev/null
done
alerted() { [ -n "$(alert_of "$1")" ]; }
t_ok "full disk: still alerted" t_wait_for 5 alerted 7005
t_ok "full disk: nsegd answers" t_quiet t_ctl status
failed_noted() {
	t_ctl --json capture list |
		jq -e 'map(select(.state == "failed" and (.note | test("space")))) | length >= 1' >/dev/null ||
		t_ctl --json alerts | jq -e 'map(select(.pcap_note)) | length >= 1' >/dev/null
}
t_ok "full disk: a capture failed, with its reason" t_wait_for 5 failed_noted
t_ok "full disk: logged" grep -q 'capture' "$T_TMP/nsegd.log"
t_eq "approved still passes" ok "$(t_conn a 10.66.0.2 7000)"
t_done
