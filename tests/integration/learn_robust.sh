#!/bin/bash
# The daemon carries on through what real hosts do to it: namespaces that
# appear and vanish, servers killed mid-connection, protocols it does not
# know, being killed outright (fail-open keeps traffic flowing) and
# restarted on the same database.
. "$(dirname "$0")/lib.sh"
t_need socat jq ss nft
t_init robust

t_pair
t_start_nsegd || exit 1

t_bg b socat TCP-LISTEN:7000,reuseaddr SYSTEM:'echo hi; sleep 30'
srv=$T_LAST_PID
t_wait_for 5 t_listening b tcp 7000 || exit 1

# A namespace created after start is watched at once (inotify, no poll).
t_netns late && t_attach late 3
t_ok "new netns watched within 2 s" t_wait_for 2 t_nsegd_watches 4
t_ok "its table is installed" t_wait_for 2 bash -c "ip netns exec $T_PFX-late nft list tables | grep -q 'inet nseg'"

# Server killed while a client is connected.
t_in a socat -u TCP:10.66.0.2:7000 - >"$T_TMP/long.out" 2>&1 &
client=$!
T_PIDS+=("$client")
t_ok "client connected" t_wait_for 5 grep -q hi "$T_TMP/long.out"
kill "$srv"
t_ok "client sees the server go" t_wait_pid_exit "$client" 10
t_ok "daemon alive after the server died" t_nsegd_watches 4

# A namespace vanishing under the daemon.
ip netns del "$T_PFX-late"
t_ok "vanished netns dropped" t_wait_for 5 t_nsegd_watches 3

# A name removed while a process still lives in the namespace: the daemon
# stops watching and takes its table out (nobody would read the queue).
t_netns keep
t_bg keep sleep 60
keeper=$T_LAST_PID
t_ok "kept netns watched" t_wait_for 5 t_nsegd_watches 4
ip netns del "$T_PFX-keep"
t_ok "unnamed netns dropped" t_wait_for 5 t_nsegd_watches 3
t_eq "no table left in the still-living namespace" "" "$(nsenter --net=/proc/$keeper/ns/net nft list tables 2>&1 | grep nseg)"

# A TCP flow conntrack picks up mid-stream (its entry expired) is not a
# new connection: no edge appears with the client's ephemeral port.
t_in a sysctl -qw net.netfilter.nf_conntrack_tcp_timeout_established=1
t_in b sysctl -qw net.netfilter.nf_conntrack_tcp_timeout_established=1
t_bg b socat TCP-LISTEN:7100,reuseaddr SYSTEM:'sleep 3; echo late'
t_wait_for 5 t_listening b tcp 7100 || exit 1
t_eq "late reply after the conntrack entry expired" late "$(t_in a socat -T 10 -u TCP:10.66.0.2:7100 -)"
t_eq "only the server port is learned" "7100" "$(t_ctl --json baseline show "netns:$T_PFX-a" | jq -r '.[] | select(.protocol == "tcp" and .port != 7000 and .port != 7001) | .port' | sort -u | tr '\n' ' ' | sed 's/ $//')"
t_eq "and on the server side" "7100" "$(t_ctl --json baseline show "netns:$T_PFX-b" | jq -r '.[] | select(.protocol == "tcp" and .port != 7000 and .port != 7001) | .port' | sort -u | tr '\n' ' ' | sed 's/ $//')"

# An unknown IP protocol is recorded by number, process unknown.
t_in a socat -u - IP4-SENDTO:10.66.0.2:253 <<<x
t_ok "other protocol counted" t_wait_for 5 bash -c "[ \$(\"$NSEGCTL\" --socket \"$T_SOCK\" --json status | jq .unattributed.other_protocol) -ge 1 ]"
t_eq "edge recorded by protocol number" "253" "$(t_ctl --json baseline show "netns:$T_PFX-a" | jq -r '.[] | select(.direction == "egress") | .protocol' | sort -u | tr '\n' ' ' | sed 's/ $//' | grep -o 253)"

# A packet whose UDP header lies beyond the copy range (512 bytes of IPv6
# destination options): unparsable for the daemon, which counts it and
# still lets it through.
t_bg b "$T_BUILD/tests/helpers/udpecho" 7053
t_wait_for 5 t_listening b udp 7053 || exit 1
t_eq "truncated packet still delivered" pong "$(t_in a "$T_BUILD/tests/helpers/bigopts" fd66::2 7053)"
t_ok "truncated packet counted" bash -c "[ \$(\"$NSEGCTL\" --socket \"$T_SOCK\" --json status | jq .unattributed.bad_packet) -ge 1 ]"
t_ok "daemon alive after it" t_nsegd_watches 3

# SIGKILL: no cleanup; fail-open (queue bypass) lets new connections pass.
t_serve b 7001 up || exit 1
ids_before=$(t_ctl --json baseline show "netns:$T_PFX-a" | jq -c '[.[].id]')
kill -9 "$T_NSEGD_PID"
wait "$T_NSEGD_PID" 2>/dev/null
t_ok "table survives the daemon" bash -c "ip netns exec $T_PFX-a nft list tables | grep -q 'inet nseg'"
t_eq "fail-open: traffic flows with no daemon" up "$(t_in a socat -T 5 -u TCP:10.66.0.2:7001 -)"

# Restart on the same database: tables replaced, ids stable, learning resumes.
t_start_nsegd || exit 1
t_eq "one table per netns after restart" 1 "$(t_in a nft list tables | grep -c 'inet nseg')"
t_eq "edge ids stable across restart" "$ids_before" "$(t_ctl --json baseline show "netns:$T_PFX-a" | jq -c '[.[].id] | .[0:'"$(jq length <<<"$ids_before")"']')"
t_eq "traffic after restart" up "$(t_in a socat -T 5 -u TCP:10.66.0.2:7001 -)"
t_ok "learning resumed" bash -c "\"$NSEGCTL\" --socket \"$T_SOCK\" --json baseline show netns:$T_PFX-a | jq -e '.[] | select(.port == 7001)' >/dev/null"
t_ok "clean stop" t_stop_nsegd
t_done
