#!/bin/bash
# Captures against the life of what they capture: a namespace deleted
# while an on-demand capture reads it ends that capture cleanly (it does
# not run on empty to its deadline) and nsegd goes on; nsegd stopped
# (SIGTERM) while captures run, one of them being stopped by a client,
# exits cleanly with every file closed and every row final; an alert
# capture that reaches its packet limit stops the kernel's copies of its
# connection at once.
. "$(dirname "$0")/lib.sh"
t_need socat jq tcpdump
t_init caplc

t_hosts a b c || exit 1
a=netns:$T_PFX-a
c=netns:$T_PFX-c
t_serve b 7000 ok || exit 1
t_bg b socat TCP-LISTEN:7001,fork,reuseaddr SYSTEM:'cat' &&
	t_wait_for 5 t_listening b tcp 7001 || exit 1
t_config 'alerts_file: ""'
t_start_nsegd || exit 1
t_eq "learn a" ok "$(t_conn a 10.66.0.2 7000)"
t_eq "learn c" ok "$(t_conn c 10.66.0.2 7000)"

field() { t_ctl --json capture show "c$1" | jq -r ".$2"; }
state_is() { test "$(field "$1" state)" = "$2"; }

# A namespace deleted mid-capture.
cc=$(t_ctl --json capture start "$c" --duration 120 --filter 'tcp port 7000' |
	jq -r .id)
t_ok "c: capture c$cc started" test "$cc" -gt 0
t_eq "c: traffic" ok "$(t_conn c 10.66.0.2 7000)"
t_ok "c: the namespace goes" ip netns del "$T_PFX-c"
t_ok "c: nsegd lets it go" t_wait_for 5 t_nsegd_watches 3
t_ok "c: its capture ended" t_wait_for 5 state_is "$cc" done
t_ok "c: it says why" grep -q 'namespace went away' <<<"$(field "$cc" note)"
n=$(tcpdump -nn -r "$(field "$cc" path)" 2>/dev/null | grep -c '\.7000[ :]')
t_ok "c: its file holds the traffic before ($n packets)" test "$n" -ge 3
t_eq "c: nsegd goes on" ok "$(t_conn a 10.66.0.2 7000)"

# SIGTERM while an alert capture follows a connection and an on-demand
# capture runs, being stopped by a client.
t_ok "approve a" t_quiet t_ctl baseline approve "$a" --all
t_ok "notify a" t_quiet t_ctl mode "$a" notify
# An anomalous connection that stays open: its alert capture runs on.
t_bg a bash -c 'while echo tick; do sleep 0.2; done |
	socat -u - TCP:10.66.0.2:7001,connect-timeout=2'
alert_pcap() {
	t_ctl --json alerts --workload "$a" |
		jq -er 'map(select(.port == 7001)) | .[-1].pcap // empty'
}
t_ok "notify: an alert with a pcap" t_wait_for 5 alert_pcap
ap=$(alert_pcap)
ac=$(t_ctl --json capture list | jq -r --arg p "$ap" '.[] | select(.path == $p) | .id')
t_eq "notify: its capture runs" running "$(field "$ac" state)"
oc=$(t_ctl --json capture start "$a" --duration 120 | jq -r .id)
t_ok "on demand: c$oc started" test "$oc" -gt 0
t_eq "on demand: traffic" ok "$(t_conn a 10.66.0.2 7000)"
# The stop waits for the capture's last packets (a few hundred ms):
# nsegd stops during that wait.
t_ctl capture stop "c$oc" >"$T_TMP/stop.out" 2>&1 &
stop_pid=$!
sleep 0.1
t_stop_nsegd
t_eq "SIGTERM: nsegd exits cleanly" 0 "$?"
t_wait_pid_exit "$stop_pid" 5 || kill "$stop_pid"
t_ok "SIGTERM: no crash logged" \
	bash -c "! grep -Eq 'AddressSanitizer|runtime error|Segmentation' '$T_TMP/nsegd.log'"
t_ok "SIGTERM: the on-demand capture's end logged" \
	grep -q "c$oc .*interrupted" "$T_TMP/nsegd.log"

t_start_nsegd || exit 1
t_eq "after: the on-demand capture interrupted" interrupted "$(field "$oc" state)"
t_eq "after: the alert capture done" done "$(field "$ac" state)"
for id in "$oc" "$ac"; do
	p=$(field "$id" path)
	t_ok "after: c$id's file is whole (tcpdump reads it)" \
		t_quiet tcpdump -nn -r "$p"
	t_ok "after: c$id's file has packets" \
		test "$(tcpdump -nn -r "$p" 2>/dev/null | wc -l)" -ge 1
done
t_ok "after: the alert capture has the followed connection" \
	test "$(tcpdump -nn -r "$(field "$ac" path)" 2>/dev/null | grep -c '\.7001: ')" -ge 3
t_ok "after: nsegd answers" t_quiet t_ctl status

# An alert capture that reaches its packet limit stops the kernel's
# copies of its connection then (the ct mark bit cleared), not only when
# capture.seconds have passed.
t_ok "stop nsegd" t_stop_nsegd
t_config 'alerts_file: ""' 'capture:' "  dir: $T_PCAP" '  packets: 5'
t_start_nsegd || exit 1
t_bg b socat TCP-LISTEN:7002,fork,reuseaddr SYSTEM:'cat' &&
	t_wait_for 5 t_listening b tcp 7002 || exit 1
t_bg a bash -c 'while echo tick; do sleep 0.1; done |
	socat -u - TCP:10.66.0.2:7002,connect-timeout=2'
lim_pcap() {
	t_ctl --json alerts --workload "$a" |
		jq -er 'map(select(.port == 7002)) | .[-1].pcap // empty'
}
t_ok "limit: a new alert with a pcap" t_wait_for 5 lim_pcap
lc=$(t_ctl --json capture list | jq -r --arg p "$(lim_pcap)" '.[] | select(.path == $p) | .id')
t_ok "limit: c$lc cut at 5 packets" t_wait_for 5 state_is "$lc" truncated
copies() { # packets the table copied to nsegd as captured, so far
	t_in a nft list ruleset 2>/dev/null |
		awk '/comment "nseg:capture"/ { for (i = 1; i < NF; i++) if ($i == "packets") s += $(i + 1) } END { print s + 0 }'
}
sleep 1.5
n1=$(copies)
sleep 1.5
n2=$(copies)
t_eq "limit: the kernel copies no more ($n1 then $n2)" "$n1" "$n2"
t_ok "limit: the connection still flows" test "$(ip netns exec "$T_PFX-b" ss -Htn state established '( sport = :7002 )' | wc -l)" -ge 1
t_done
