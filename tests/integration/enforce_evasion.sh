#!/bin/bash
# Ways past the table a process inside an enforced namespace could try,
# each of which must still meet nsegd:
# - TCP segments written on a raw socket, no SYN, no socket behind them:
#   conntrack picks each up as a flow mid-stream, or calls it invalid when
#   its flags are nonsense (a remote reader takes the payload all the same),
#   also behind a socket left in SYN_SENT by a blocked connect();
# - a notrack rule of its own (conntrack then follows nothing, so nothing
#   is "new").
# A real connection conntrack has forgotten keeps flowing, and a segment
# coming in with no socket behind it is reset, as the kernel would.
. "$(dirname "$0")/lib.sh"
t_need socat jq nft tcpdump conntrack
t_init evade

RAWTCP=$T_BUILD/tests/helpers/rawtcp
[ -x "$RAWTCP" ] || t_skip "tests/helpers/rawtcp not built"
t_pair
t_bg b socat TCP-LISTEN:7000,fork,reuseaddr EXEC:cat
t_wait_for 5 t_listening b tcp 7000 || exit 1
t_serve b 7001 leak || exit 1
t_config 'alerts_file: ""'
t_start_nsegd || exit 1
st() { t_ctl --json status | jq "$1"; }

# What b sees on ports 7001 and 7002.
ip netns exec "$T_PFX-b" tcpdump -i any -nn -U -w "$T_TMP/b.pcap" \
	'tcp port 7001 or tcp port 7002' 2>"$T_TMP/td.err" &
T_PIDS+=("$!")
t_wait_for 5 grep -q "listening on" "$T_TMP/td.err" || exit 1
arrived() {
	tcpdump -nn -A -r "$T_TMP/b.pcap" 'tcp dst port 7001 and tcp[tcpflags] & tcp-syn == 0' \
		2>/dev/null | grep -c exfiltrated
}
resets_n() {
	[ "$(tcpdump -nn -r "$T_TMP/b.pcap" 'src host 10.66.0.1 and src port 7002 and tcp[tcpflags] & tcp-rst != 0' \
		2>/dev/null | wc -l)" -ge "$1" ]
}
arrived_n() { [ "$(arrived)" -ge "$1" ]; }

# A connection bash keeps open to b's echo server, fed line by line.
mkfifo "$T_TMP/in"
t_bg a bash -c 'exec 3<>/dev/tcp/10.66.0.2/7000 && while read -r l; do
	echo "$l" >&3 && read -r -t 5 r <&3 && echo "$r" >>"$1"; done <"$2"' \
	_ "$T_TMP/echoed" "$T_TMP/in"
exec 4<>"$T_TMP/in"
ping_echoed() { echo "$1" >&4 && t_wait_for 5 grep -qx "$1" "$T_TMP/echoed"; }
t_ok "learn: the connection echoes" ping_echoed one

# Learning, the raw segments pass: that is what the capture would see.
t_ok "learning: raw segments sent" t_in a "$RAWTCP" -n 3 -p 40000 10.66.0.1 10.66.0.2 7001 exfiltrated
t_ok "learning: raw segments without flags sent" t_in a "$RAWTCP" -n 3 -p 41000 -f - 10.66.0.1 10.66.0.2 7001 exfiltrated
t_ok "learning: they reach b" t_wait_for 5 arrived_n 6

t_ok "approve a" t_quiet t_ctl baseline approve "$a" --all
t_ok "enforce a" t_quiet t_ctl mode "$a" enforce
t_ok "enforcing: the connection still echoes" ping_echoed two
t_eq "enforcing: 7001 is blocked" "" "$(t_conn a 10.66.0.2 7001)"

# Raw segments (from ports conntrack has not seen): nsegd finds no socket
# behind them and drops them.
n0=$(st .unattributed.tcp_no_socket)
t_ok "enforcing: raw segments sent" t_in a "$RAWTCP" -n 3 -p 42000 10.66.0.1 10.66.0.2 7001 exfiltrated
t_ok "enforcing: raw segments without flags sent" t_in a "$RAWTCP" -n 3 -p 43000 -f - 10.66.0.1 10.66.0.2 7001 exfiltrated
# (rawtcp holds those sockets 5 s, past nsegd's verdicts.)
t_in a "$RAWTCP" -c -w 5 -n 3 -p 44000 10.66.0.1 10.66.0.2 7001 exfiltrated &
held=$!
T_PIDS+=("$held")
t_ok "enforcing: nsegd found no connected socket behind them" \
	t_wait_for 5 bash -c "[ \$(\"$NSEGCTL\" --socket \"$T_SOCK\" --json status | jq .unattributed.tcp_no_socket) -ge $((n0 + 9)) ]"
t_ok "enforcing: the SYN_SENT sockets were there all along" wait "$held"
t_eq "enforcing: none reached b" 6 "$(arrived)"
t_ok "enforcing: the log says so" t_wait_for 5 grep -q \
	"segment(s) with no socket behind them dropped (last: out 10.66.0.1.4400[0-2] > 10.66.0.2.7001)" "$T_TMP/nsegd.log"

# Coming in, with no socket behind them: reset (no listener on 7002).
t_ok "enforcing: segments to a sent from b" t_in b "$RAWTCP" -n 2 -p 45000 10.66.0.2 10.66.0.1 7002 probe
t_ok "enforcing: a resets them" t_wait_for 5 resets_n 2

# conntrack forgets the connection: its next segment is picked up
# mid-stream, has bash's socket behind it, and passes.
m0=$(st .unattributed.tcp_midstream)
t_ok "conntrack flushed in a" t_quiet t_in a conntrack -F
t_ok "a connection conntrack forgot still echoes" ping_echoed three
t_ok "it was checked for its socket" test "$(st .unattributed.tcp_midstream)" -gt "$m0"

# notrack: untracked packets go to nsegd like new ones.
t_ok "notrack rules added in a" t_in a nft -f - <<'EOF'
table ip evade {
	chain out { type filter hook output priority raw; tcp dport 7001 notrack; }
	chain in { type filter hook prerouting priority raw; tcp sport 7001 notrack; }
}
EOF
blocked_7001() { t_ctl --json alerts --workload "$a" | jq 'map(select(.port == 7001 and .action == "block")) | .[0].count // 0'; }
blocked_7001_n() { [ "$(blocked_7001)" -ge "$1" ]; }
t_ok "the blocked attempts are in their alert" t_wait_for 5 blocked_7001_n 1
c0=$(blocked_7001)
t_eq "untracked: 7001 still blocked" "" "$(t_conn a 10.66.0.2 7001)"
t_ok "untracked: the attempt counted into the alert ($c0 before)" t_wait_for 5 bash -c "[ \$(\"$NSEGCTL\" --socket \"$T_SOCK\" --json alerts --workload \"$a\" | jq 'map(select(.port == 7001 and .action == \"block\")) | .[0].count') -gt $c0 ]"
t_ok "untracked: the approved connection still echoes" ping_echoed four
t_done
