#!/bin/bash
# Enforcement on real podman containers: web (wget) -> api (httpd 8080) ->
# db (nc 5432), each container in its own named netns on a bridge. Learn,
# approve (web for any process: decided in the kernel against per-identity
# address sets; api and db for the process seen: checked by nsegd), enforce.
# Approved flows pass; a connection outside the baseline from inside a
# container is dropped and raises one alert naming the container, its
# process and the peer's identity. A second container of an approved
# workload is reachable as soon as nsegd has seen it (its address joins the
# sets); when its address is taken by a container of another image, the
# address leaves the set and the same wget is blocked, alerted as egress to
# that other workload.
. "$(dirname "$0")/lib.sh"
t_need podman runc busybox jq ss nft sysctl
t_init epod

W=localhost/nseg-t-eweb:1.0
A=localhost/nseg-t-eapi:1.0
D=localhost/nseg-t-edb:1.0
O=localhost/nseg-t-eother:1.0
for img in "$W" "$A" "$D" "$O"; do
	podman_image "$img" || t_skip "podman cannot import an image ($img)"
done
reason=$(podman_usable "$W") || t_skip "$reason"

t_hosts web api db
# busybox's wget has no connect timeout: with one SYN retry a dropped
# connection fails after ~3 s instead of ~2 min (the sysctl is per netns).
synretries() { t_in "$1" sysctl -qw net.ipv4.tcp_syn_retries=1; }
synretries web && synretries api || exit 1

t_config "alerts_file: $T_TMP/alerts.jsonl" 'alert_window: 1h'
t_start_nsegd || exit 1

podman_run db "$D" nc -ll -p 5432 -e echo db || exit 1
db=$PODMAN_LAST_ID
podman_run api "$A" httpd -f -p 8080 -h /var/www || exit 1
api=$PODMAN_LAST_ID
podman_run web "$W" sleep 3600 || exit 1
web=$PODMAN_LAST_ID
t_wait_for 10 t_listening db tcp 5432 || { echo "db did not listen"; exit 1; }
t_wait_for 10 t_listening api tcp 8080 || { echo "api did not listen"; exit 1; }

containers_of() { # WORKLOAD: the ids of its containers nsegd lists, sorted
	t_ctl --json workloads |
		jq -r --arg n "$1" '.[] | select(.name == $n) | .containers[].id' | sort
}
known() { [ "$(containers_of "$1")" = "$(printf '%s\n' "${@:2}" | sort)" ]; }
all_known() {
	known nseg-t-eweb "$web" && known nseg-t-eapi "$api" && known nseg-t-edb "$db"
}
t_ok "nsegd sees web, api and db" t_wait_for 10 all_known

get() { podman_exec "$1" wget -q -O - "http://$2:8080/index.html" 2>/dev/null; }
dbq() { podman_exec "$1" nc -w 2 10.66.0.3 5432 </dev/null 2>/dev/null; }
dbwget() { podman_exec "$1" wget -q -O - http://10.66.0.3:5432/ 2>/dev/null; }

# Learn.
t_eq "learn: wget web->api" hello "$(get "$web" 10.66.0.2)"
t_eq "learn: nc api->db" db "$(dbq "$api")"
edges_are() { [ "$(t_ctl --json baseline show "$1" | jq length)" = "$2" ]; }
all_learned() {
	edges_are nseg-t-eweb 1 && edges_are nseg-t-eapi 2 && edges_are nseg-t-edb 1
}
t_ok "learned: web 1 edge, api 2, db 1" t_wait_for 5 all_learned

# Approve and enforce.
t_ok "approve web, any process" t_quiet t_ctl baseline approve nseg-t-eweb --all --any-process
t_ok "approve api" t_quiet t_ctl baseline approve nseg-t-eapi --all
t_ok "approve db" t_quiet t_ctl baseline approve nseg-t-edb --all
for w in eweb eapi edb; do
	t_ok "enforce nseg-t-$w" t_quiet t_ctl mode "nseg-t-$w" enforce
done
t_eq "all three enforce" "enforce enforce enforce" "$(t_ctl --json workloads |
	jq -r '[.[] | select(.name | test("^nseg-t-e(web|api|db)$")) | .mode] | join(" ")')"

# The IPv4 set web's kernel rule for tcp 8080 names: api's addresses.
api_set() {
	t_in web nft list chain inet nseg output 2>/dev/null |
		grep -w 'dport 8080' | grep -o '@p[0-9]*_4' | head -n 1 | tr -d @
}
set_addrs() { # SET: its IPv4 elements, one a line, sorted
	t_in web nft -j list set inet nseg "$1" 2>/dev/null |
		jq -r '.nftables[] | select(.set) | .set.elem // [] | .[]' | sort
}
aset=$(api_set)
t_ok "web's table has a set for api ($aset)" test -n "$aset"
t_eq "api's set holds api's address" 10.66.0.2 "$(set_addrs "$aset")"

# Approved flows pass.
t_eq "enforce: approved wget web->api" hello "$(get "$web" 10.66.0.2)"
t_eq "enforce: approved nc api->db (process check)" db "$(dbq "$api")"
t_ok "the kernel decided web's approved edge (rule counter)" bash -c \
	"ip netns exec $T_PFX-web nft list chain inet nseg output 2>/dev/null | grep -w 'dport 8080' | grep -qv 'packets 0 '"
t_eq "no alert for approved flows" 0 "$(t_ctl --json alerts | jq length)"

# An anomaly from inside web: nc to db, never learned.
t_eq "enforce: web's nc to db blocked" "" "$(dbq "$web")"
alerts_of() { t_ctl --json alerts --workload "$1"; }
n_alerts() { [ "$(alerts_of "$1" | jq length)" -ge 1 ]; }
t_ok "alert raised" t_wait_for 5 n_alerts nseg-t-eweb
t_eq "exactly one alert" 1 "$(alerts_of nseg-t-eweb | jq length)"
t_eq "alert fields" \
	"nseg-t-eweb 1.0 $web true /bin/busybox nc egress nseg-t-edb 10.66.0.3 tcp 5432 block deviation" \
	"$(alerts_of nseg-t-eweb | jq -r '.[0] | [.workload, .version, .container,
		(.pid > 0), .process.exe, .process.comm, .direction, .peer.identity,
		.peer.address, .protocol, (.port | tostring), .action, .kind] | join(" ")')"
t_ok "alert in the JSON-lines file" t_wait_for 5 grep -q "\"container\":\"$web\"" "$T_TMP/alerts.jsonl"

# A process-scoped edge: api's approved 5432 edge is nc's, not wget's.
t_eq "enforce: api's wget to db blocked" "" "$(dbwget "$api")"
t_ok "api's alert" t_wait_for 5 n_alerts nseg-t-eapi
t_eq "api's alert names wget in api's container" "1 wget $api nseg-t-edb block" \
	"$(alerts_of nseg-t-eapi | jq -r '[length, (.[0] | .process.comm, .container, .peer.identity, .action)] | join(" ")')"

# A second container of api, in a new netns with a new address: reachable
# through web's kernel rule as soon as nsegd has put its address in the set.
t_netns api2 && t_attach api2 4 && synretries api2 || exit 1
podman_run api2 "$A" httpd -f -p 8080 -h /var/www || exit 1
api2=$PODMAN_LAST_ID
set_has() { set_addrs "$1" | grep -qx "$2"; }
t_ok "api2's address joins api's set" t_wait_for 10 set_has "$aset" 10.66.0.4
t_ok "api2 listening" t_wait_for 10 t_listening api2 tcp 8080
t_eq "enforce: approved wget web->api2" hello "$(get "$web" 10.66.0.4)"
t_ok "nsegd lists api2 under api" known nseg-t-eapi "$api" "$api2"
t_eq "api2 inherits api's process-scoped edge: nc->db passes" db "$(dbq "$api2")"
# The same deviation from api2 is the same alert (same workload, version,
# process, peer, port): its count grows. wget's output would be empty even
# if it passed (nc speaks no HTTP): the count is the evidence.
count_of() { alerts_of nseg-t-eapi | jq '.[0].count'; }
c1=$(count_of)
t_eq "api2 enforces: its wget to db blocked" "" "$(dbwget "$api2")"
grown() { [ "$(count_of)" -gt "$c1" ]; }
t_ok "the existing alert's count grows ($c1 before)" t_wait_for 5 grown
t_eq "no new alert" 1 "$(alerts_of nseg-t-eapi | jq length)"

# The address taken by another image: api2 goes, its netns too; a new netns
# of the same name and address holds a container of nseg-t-eother.
podman_rm "$api2"
set_lacks() { ! set_has "$@"; }
t_ok "api2's address leaves api's set" t_wait_for 10 set_lacks "$aset" 10.66.0.4
ip netns del "$T_PFX-api2"
# The namespace (and its veth) lives until nsegd lets go of it.
gone() { ! ip -n "$T_PFX-sw" link show p4 >/dev/null 2>&1; }
t_ok "nsegd releases api2's netns" t_wait_for 10 gone
t_netns api2 && t_attach api2 4 || exit 1
podman_run api2 "$O" httpd -f -p 8080 -h /var/www || exit 1
other=$PODMAN_LAST_ID
t_ok "nsegd sees other" t_wait_for 10 known nseg-t-eother "$other"
t_ok "other listening" t_wait_for 10 t_listening api2 tcp 8080
t_eq "api's set: api only" 10.66.0.2 "$(set_addrs "$aset")"
ip -n "$T_PFX-web" neigh flush all
t_eq "enforce: wget web->other (api2's old address) blocked" "" "$(get "$web" 10.66.0.4)"
wget_other() {
	alerts_of nseg-t-eweb | jq -e 'map(select(.peer.identity == "nseg-t-eother")) | length == 1' >/dev/null
}
t_ok "alerted" t_wait_for 5 wget_other
t_eq "alert: web's wget, egress to nseg-t-eother" \
	"$web 1.0 wget egress nseg-t-eother 10.66.0.4 tcp 8080 block" \
	"$(alerts_of nseg-t-eweb | jq -r '.[] | select(.peer.identity == "nseg-t-eother") |
		[.container, .version, .process.comm, .direction, .peer.identity,
		 .peer.address, .protocol, (.port | tostring), .action] | join(" ")')"
# Control: the block was nseg's (the path works in notify mode).
t_ok "web to notify" t_quiet t_ctl mode nseg-t-eweb notify
t_eq "notify: wget web->other passes" hello "$(get "$web" 10.66.0.4)"
t_eq "and is alerted" notify "$(alerts_of nseg-t-eweb | jq -r '.[] | select(.peer.identity == "nseg-t-eother" and .action == "notify") | .action')"

t_ok "nsegd stops cleanly" t_stop_nsegd
t_done
