#!/bin/bash
# Learn mode on plain namespaces: three hosts on a bridge (web, api, db)
# run real servers and clients; nsegd scoped to them must learn exactly the
# expected edges, with the right process on both ends, server ports only,
# both directions, IPv4 and IPv6, loopback, UDP, ICMP, applets told apart
# by comm, a short-lived client and a server that forked after binding.
. "$(dirname "$0")/lib.sh"
t_need socat busybox jq ss
t_init learn

BB=$(readlink -f "$(command -v busybox)")
SOCAT=$(readlink -f "$(command -v socat)")
BASH=$(readlink -f "$(command -v bash)")
FS=$T_BUILD/tests/helpers/forkserver
UE=$T_BUILD/tests/helpers/udpecho

t_hosts web api db
mkdir -p "$T_TMP/www" "$T_TMP/bin" && echo hello >"$T_TMP/www/index.html"
# Applets through symlinks, as in a busybox image: comm is the applet.
for a in wget nc httpd ping; do ln -s "$BB" "$T_TMP/bin/$a"; done
B=$T_TMP/bin

# Two hosts the daemon does not watch (another prefix): peers outside.
for x in 9 10; do
	ns=nseg-t-ext$x-$$
	ip netns add "$ns" && T_NETNS+=("$ns")
	ip -n "$T_PFX-sw" link add "p$x" type veth peer name eth0 netns "$ns"
	ip -n "$T_PFX-sw" link set "p$x" master br0 up
	ip -n "$ns" addr add "10.66.0.$x/24" dev eth0
	ip -n "$ns" link set eth0 up
	ip -n "$ns" link set lo up
	ip netns exec "$ns" socat TCP-LISTEN:9999,fork,reuseaddr SYSTEM:'echo ext' >/dev/null 2>&1 &
	T_PIDS+=($!)
done
# A named network covers .8-.9 only; .10 stays a bare address.
t_config 'networks:' '  - name: lab' '    cidr: 10.66.0.8/31'
t_start_nsegd || exit 1

# Servers.
t_bg db socat TCP6-LISTEN:5432,ipv6only=0,fork,reuseaddr SYSTEM:'echo db'
# (socat's UDP fork mode races its own SYSTEM child: a one-process server)
t_bg db "$T_BUILD/tests/helpers/udpecho" 5353
t_bg api "$B/httpd" -f -p 8080 -h "$T_TMP/www"
t_in api "$FS" 9000 "$T_TMP/fs.pid"
T_PIDS+=("$(cat "$T_TMP/fs.pid")")
t_wait_for 5 t_listening db tcp 5432 || exit 1
t_wait_for 5 t_listening db udp 5353 || exit 1
t_wait_for 5 t_listening api tcp 8080 || exit 1
t_wait_for 5 t_listening api tcp 9000 || exit 1

# Clients.
t_eq "wget web->api" hello "$(t_in web "$B/wget" -q -O - http://10.66.0.2:8080/index.html)"
t_ok "nc web->api" t_in web sh -c "printf 'GET /index.html HTTP/1.0\\r\\n\\r\\n' | $B/nc 10.66.0.2 8080 | grep -q hello"
t_eq "socat web->api over IPv6" hello "$(printf 'GET /index.html HTTP/1.0\r\n\r\n' | t_in web socat - 'TCP6:[fd66::2]:8080' | tail -n 1)"
t_eq "short-lived client to the forked server" fs "$(t_in web socat -u TCP:10.66.0.2:9000 -)"
t_eq "api->db tcp" db "$(t_in api socat -u TCP:10.66.0.3:5432 -)"
# bash's /dev/udp client returns as soon as the reply is in.
t_eq "api->db udp" pong "$(t_in api bash -c 'exec 3<>/dev/udp/10.66.0.3/5353; echo ping >&3; timeout 10 head -n 1 <&3')"
t_eq "api loopback" hello "$(t_in api "$B/wget" -q -O - http://127.0.0.1:8080/index.html)"
t_ok "ping web->db" t_quiet t_in web "$B/ping" -c 1 -W 2 10.66.0.3

# One line per edge: dir exe comm peer peer-comm proto port.
edges() {
	t_ctl --json baseline show "netns:$T_PFX-$1" | jq -r '.[] |
		[.direction, .process.exe, .process.comm, .peer.identity,
		 (.peer.process.comm // "-"), .protocol, (.port | tostring)]
		| join(" ")' | sed "s|$T_PFX-||g" | sort
}

t_ok "ext9 up" t_wait_for 5 bash -c "ip netns exec nseg-t-ext9-$$ ss -Htln 'sport = :9999' | grep -q ."
t_ok "ext10 up" t_wait_for 5 bash -c "ip netns exec nseg-t-ext10-$$ ss -Htln 'sport = :9999' | grep -q ."
t_eq "web->external host in a named network" ext "$(t_in web socat -u TCP:10.66.0.9:9999 -)"
t_eq "web->external host outside every network" ext "$(t_in web socat -u TCP:10.66.0.10:9999 -)"

t_eq "web's edges" "$(sort <<EOF2
egress $SOCAT socat external:lab - tcp 9999
egress $SOCAT socat external:10.66.0.10/32 - tcp 9999
egress $BB wget netns:api httpd tcp 8080
egress $BB nc netns:api httpd tcp 8080
egress $SOCAT socat netns:api httpd tcp 8080
egress $SOCAT socat netns:api forkserver tcp 9000
egress $BB ping netns:db - icmp 8
EOF2
)" "$(edges web)"

t_eq "api's edges" "$(sort <<EOF2
ingress $BB httpd netns:web wget tcp 8080
ingress $BB httpd netns:web nc tcp 8080
ingress $BB httpd netns:web socat tcp 8080
ingress $FS forkserver netns:web socat tcp 9000
egress $SOCAT socat netns:db socat tcp 5432
egress $BASH bash netns:db udpecho udp 5353
egress $BB wget netns:api httpd tcp 8080
ingress $BB httpd netns:api wget tcp 8080
EOF2
)" "$(edges api)"

t_eq "db's edges" "$(sort <<EOF2
ingress $SOCAT socat netns:api socat tcp 5432
ingress $UE udpecho netns:api bash udp 5353
ingress [kernel] [kernel] netns:web - icmp 8
EOF2
)" "$(edges db)"

# Counts and times are recorded; the contract's fields are all there.
t_eq "every edge has the contract's fields" "" "$(t_ctl --json baseline show "netns:$T_PFX-api" | jq -r '.[] |
	select((.id|type) != "number" or .workload == null or .version == null
	  or .state != "learned" or .count < 1 or (.first_seen|test("^[0-9-]+T[0-9:]+Z$")|not)
	  or (.last_seen|test("Z$")|not)) | .id')"

# Repeating a connection adds to the count; it never creates an edge.
before=$(t_ctl --json baseline show "netns:$T_PFX-api" | jq length)
for _ in 1 2 3; do t_in api socat -u TCP:10.66.0.3:5432 - >/dev/null; done
t_eq "repeats counted on one edge" "4" "$(t_ctl --json baseline show "netns:$T_PFX-api" | jq '.[] | select(.port == 5432 and .protocol == "tcp" and .direction == "egress") | .count')"
t_eq "no new edge from repeats" "$before" "$(t_ctl --json baseline show "netns:$T_PFX-api" | jq length)"

t_eq "workloads listed" "netns:api netns:db netns:sw netns:web" "$(t_ctl --json workloads | jq -r '[.[].name] | sort | join(" ")' | sed "s|$T_PFX-||g")"
t_eq "workload record" "learn - api" "$(t_ctl --json workloads | jq -r --arg n "netns:$T_PFX-api" '.[] | select(.name == $n) | [.mode, (.versions | join(",")), (.netns | join(","))] | join(" ")' | sed "s|$T_PFX-||g")"
t_ok "unknown workload is an error" bash -c "! \"$NSEGCTL\" --socket \"$T_SOCK\" baseline show no-such-workload 2>/dev/null"

# A clean stop leaves no table behind and keeps what was learned.
t_ok "nsegd stops cleanly on SIGTERM" t_stop_nsegd
t_eq "tables removed" "" "$(for n in web api db; do t_in "$n" nft list tables; done)"
t_eq "edges persisted" "8" "$(sqlite3 "$T_DB" "select count(*) from edges e join workloads w on w.id = e.workload_id where w.name = 'netns:$T_PFX-api'")"
t_done
