#!/bin/bash
# Learn mode on real podman containers: web, api and db images made from a
# busybox-static root, each container in its own named netns on a bridge.
# nsegd scoped to those namespaces must name every container by its image
# (localhost/nseg-t-web:1.0 -> workload nseg-t-web, version 1.0) and learn
# exactly the expected edges with the applet on both ends: a busybox applet
# in a container is /bin/busybox (the path inside the container) and its
# comm tells wget from httpd. db is started before the daemon (found at
# start-up), api and web after it (found while running), and a one-shot
# container that connects the moment it starts must be attributed too.
. "$(dirname "$0")/lib.sh"
t_need podman runc busybox jq ss nft
t_init pod

W=localhost/nseg-t-web:1.0
A=localhost/nseg-t-api:1.0
D=localhost/nseg-t-db:1.0
for img in "$W" "$A" "$D"; do
	podman_image "$img" || t_skip "podman cannot import an image ($img)"
done
reason=$(podman_usable "$W") || t_skip "$reason"

t_hosts web api db

# db answers each TCP connection on 5432 with "db".
podman_run db "$D" sh -c 'while :; do echo db | nc -l -p 5432 >/dev/null; done' || exit 1
db=$PODMAN_LAST_ID
t_wait_for 10 t_listening db tcp 5432 || { echo "db did not listen"; exit 1; }

t_start_nsegd || exit 1

podman_run api "$A" httpd -f -p 8080 -h /var/www || exit 1
api=$PODMAN_LAST_ID
podman_run --cap-add=NET_RAW web "$W" sleep 3600 || exit 1
web=$PODMAN_LAST_ID
t_wait_for 10 t_listening api tcp 8080 || { echo "api did not listen"; exit 1; }

containers_of() { # WORKLOAD: how many containers the daemon lists for it
	t_ctl --json workloads |
		jq -e --arg n "$1" '.[] | select(.name == $n) | .containers | length'
}
known() { [ "$(containers_of "$1")" = "$2" ]; }

t_ok "db found at start-up" t_wait_for 5 known nseg-t-db 1
t_ok "api found while running" t_wait_for 5 known nseg-t-api 1
t_ok "web found while running" t_wait_for 5 known nseg-t-web 1

# Traffic.
t_eq "wget web->api" hello "$(podman_exec "$web" wget -q -O - http://10.66.0.2:8080/index.html)"
t_eq "nc api->db" db "$(podman_exec "$api" nc 10.66.0.3 5432 </dev/null)"
quietly() { "$@" >/dev/null; }
t_ok "ping web->db" quietly podman_exec "$web" ping -q -c 1 -W 2 10.66.0.3

# A container whose first act is to connect, and which then exits.
podman_run web "$W" wget -q -O /dev/null http://10.66.0.2:8080/index.html || exit 1
oneshot=$PODMAN_LAST_ID
t_eq "one-shot container's wget" 0 "$("${PODMAN[@]}" wait "$oneshot")"

# Each container as the daemon lists it: id, name, runtime, version, netns.
record() { # WORKLOAD ID
	t_ctl --json workloads | jq -r --arg n "$1" --arg id "$2" '.[] |
		select(.name == $n) | [(.versions | join(",")), .mode,
		(.containers[] | select(.id == $id) |
		 .id == $id, .name, .runtime, .version, .netns)] | join(" ")' |
		sed "s|$T_PFX-||g"
}
t_eq "db's record" "1.0 learn true db-1 podman 1.0 db" "$(record nseg-t-db "$db")"
t_eq "api's record" "1.0 learn true api-2 podman 1.0 api" "$(record nseg-t-api "$api")"
t_eq "web's record" "1.0 learn true web-3 podman 1.0 web" "$(record nseg-t-web "$web")"

# One line per edge: workload version dir exe comm peer peer-comm proto port.
edges() {
	t_ctl --json baseline show "$1" | jq -r '.[] |
		[.workload, .version, .direction, .process.exe, .process.comm,
		 .peer.identity, (.peer.process.comm // "-"), .protocol,
		 (.port | tostring)] | join(" ")' | sort
}

t_eq "web's edges" "$(sort <<EOF
nseg-t-web 1.0 egress /bin/busybox wget nseg-t-api httpd tcp 8080
nseg-t-web 1.0 egress /bin/busybox ping nseg-t-db - icmp 8
EOF
)" "$(edges nseg-t-web)"

t_eq "api's edges" "$(sort <<EOF
nseg-t-api 1.0 ingress /bin/busybox httpd nseg-t-web wget tcp 8080
nseg-t-api 1.0 egress /bin/busybox nc nseg-t-db nc tcp 5432
EOF
)" "$(edges nseg-t-api)"

t_eq "db's edges" "$(sort <<EOF
nseg-t-db 1.0 ingress /bin/busybox nc nseg-t-api nc tcp 5432
nseg-t-db 1.0 ingress [kernel] [kernel] nseg-t-web - icmp 8
EOF
)" "$(edges nseg-t-db)"

count() { # WORKLOAD DIRECTION PORT: the count on that tcp edge
	t_ctl --json baseline show "$1" | jq --arg d "$2" --argjson p "$3" \
		'.[] | select(.direction == $d and .port == $p and .protocol == "tcp") | .count'
}
t_eq "exec and one-shot wget both counted" 2 "$(count nseg-t-web egress 8080)"
t_eq "both seen by api's httpd" 2 "$(count nseg-t-api ingress 8080)"

# Nothing went to a container namespace's stand-in workload (netns:NAME).
t_eq "no edges on netns: stand-ins" "" "$(t_ctl --json workloads |
	jq -r '.[] | select(.name | startswith("netns:")) | select(.edges != 0) | .name' |
	sed "s|$T_PFX-||g" | grep -v '^netns:sw$')"

# A removed container leaves its workload and baseline, not the container.
podman_rm "$oneshot"
podman_rm "$web"
t_ok "removed containers dropped from web" t_wait_for 10 known nseg-t-web 0
known nseg-t-web 0 ||
	t_ctl --json workloads | jq -c '.[] | select(.name == "nseg-t-web")' | sed 's/^/# /'
t_eq "web's baseline kept" 2 "$(t_ctl --json baseline show nseg-t-web | jq length)"

t_ok "nsegd stops cleanly on SIGTERM" t_stop_nsegd
t_eq "tables removed" "" "$(for n in web api db; do t_in "$n" nft list table inet nseg 2>/dev/null; done)"
t_done
