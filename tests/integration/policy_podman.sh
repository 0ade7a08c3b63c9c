#!/bin/bash
# Image versions on real podman containers: two tags of one image
# (localhost/nseg-t-app:1.0 and :1.1). 1.0 connects to a peer container on
# port 7000; 1.1, started with another command, also connects to 7001.
# nsegctl diff app@1.0 app@1.1 names exactly that new edge (a CI gate:
# --fail-on added exits 4). With only 1.0's baseline approved and the
# workload in notify mode, 1.1's new connection is a "drift" alert naming
# both versions, while the same connection from 1.0 is a plain deviation.
. "$(dirname "$0")/lib.sh"
t_need podman runc busybox jq ss
t_init ppod

APP=localhost/nseg-t-app P=localhost/nseg-t-ppeer:1.0
podman_image "$APP:1.0" || t_skip "podman cannot import an image ($APP:1.0)"
podman_image "$P" || t_skip "podman cannot import an image ($P)"
reason=$(podman_usable "$P") || t_skip "$reason"
# 1.1: the same image under another tag (removed at teardown).
if ! "${PODMAN[@]}" image exists "$APP:1.1"; then
	[ "${NSEG_KEEP_IMAGES:-0}" = 1 ] || T_CLEANUP+=("${PODMAN[*]} rmi $APP:1.1")
	"${PODMAN[@]}" tag "$APP:1.0" "$APP:1.1" || exit 1
fi

t_switch
t_netns app && t_attach app 1
t_netns peer && t_attach peer 2
printf 'alerts_file: %s\nalert_window: 1h\n' "$T_TMP/alerts.jsonl" >"$T_TMP/nsegd.yaml"
t_start_nsegd -c "$T_TMP/nsegd.yaml" || exit 1

podman_run peer "$P" sh -c 'nc -ll -p 7000 -e echo a & exec nc -ll -p 7001 -e echo b' || exit 1
t_wait_for 10 t_listening peer tcp 7000 || { echo "peer did not listen on 7000"; exit 1; }
t_wait_for 10 t_listening peer tcp 7001 || { echo "peer did not listen on 7001"; exit 1; }

# run VERSION PORT...: a one-shot app container of VERSION connecting to
# each PORT of the peer in turn; what the peer answered goes to OUT. Not
# in a subshell: podman_run counts containers and registers their removal.
run() {
	local v=$1 cmd="" p id
	shift
	OUT=
	for p in "$@"; do cmd="$cmd nc -w 2 10.66.0.2 $p </dev/null;"; done
	podman_run app "$APP:$v" sh -c "$cmd" || return 1
	id=$PODMAN_LAST_ID
	[ "$("${PODMAN[@]}" wait "$id")" = 0 ] || return 1
	OUT=$("${PODMAN[@]}" logs "$id" | tr '\n' ' ')
}
edges_of() { # VERSION: its edges, one a line
	t_ctl --json baseline show nseg-t-app --version "$1" 2>/dev/null | jq -r '.[] |
		[.version, .direction, .process.comm, .peer.identity, .protocol,
		 (.port | tostring), .state] | join(" ")' | sort
}
has_edges() { [ "$(edges_of "$1" | wc -l)" = "$2" ]; }

# Learn both versions.
run 1.0 7000
t_eq "1.0 talks to the peer" "a " "$OUT"
t_ok "1.0 learned" t_wait_for 5 has_edges 1.0 1
run 1.1 7000 7001
t_eq "1.1 talks to the peer, and to a new port" "a b " "$OUT"
t_ok "1.1 learned" t_wait_for 5 has_edges 1.1 2
t_eq "1.0's edges" "1.0 egress nc nseg-t-ppeer tcp 7000 learned" "$(edges_of 1.0)"
t_eq "1.1's edges" "$(printf '%s\n' "1.1 egress nc nseg-t-ppeer tcp 7000 learned" \
	"1.1 egress nc nseg-t-ppeer tcp 7001 learned")" "$(edges_of 1.1)"

# The diff names exactly the new edge.
out=$(t_ctl diff nseg-t-app@1.0 nseg-t-app@1.1)
t_eq "diff exits 0" 0 $?
sed 's/^/#   /' <<<"$out"
t_eq "diff: one line per difference, the new edge" 1 "$(grep -c '^[-+~] ' <<<"$out")"
t_ok "diff: it is egress tcp 7001 to the peer" bash -c \
	'grep "^+ " <<<"$1" | grep -w egress | grep -w nseg-t-ppeer | grep -w tcp | grep -qw 7001' _ "$out"
t_ok "diff: nothing about 7000" bash -c '! grep "^[-+~] " <<<"$1" | grep -qw 7000' _ "$out"
t_quiet t_ctl diff nseg-t-app@1.0 nseg-t-app@1.1 --fail-on added
t_eq "--fail-on added exits 4" 4 $?
t_quiet t_ctl diff nseg-t-app@1.0 nseg-t-app@1.1 --fail-on changed
t_eq "--fail-on changed exits 0" 0 $?
t_quiet t_ctl diff nseg-t-app@1.1 nseg-t-app@1.0 --fail-on added
t_eq "reversed, --fail-on added exits 0" 0 $?
json=$(t_ctl --json diff nseg-t-app@1.0 nseg-t-app@1.1)
t_eq "--json counts" "1 0 0" "$(jq -r '.counts | "\(.added) \(.removed) \(.changed)"' <<<"$json")"
t_eq "--json: the added edge" "nseg-t-app@1.1 egress nseg-t-ppeer tcp 7001 nc 1" \
	"$(jq -r '.b as $b | .added[0] | [$b, .direction, .peer, .protocol,
		(.port | tostring), .process.comm, (.count | tostring)] | join(" ")' <<<"$json")"

# Approve 1.0's baseline only; notify.
id=$(t_ctl --json baseline show nseg-t-app --version 1.0 | jq -r '.[0].id')
t_ok "approve 1.0's edge ($id)" t_quiet t_ctl baseline approve nseg-t-app --edge "$id"
t_eq "1.1's edges still learned" learned \
	"$(t_ctl --json baseline show nseg-t-app --version 1.1 | jq -r '[.[].state] | unique | join(",")')"
t_ok "notify" t_quiet t_ctl mode nseg-t-app notify

# 1.1 again: 7000 is approved, 7001 drifts.
run 1.1 7000 7001
t_eq "notify: 1.1 passes" "a b " "$OUT"
alerts() { t_ctl --json alerts --workload nseg-t-app; }
n_alerts() { [ "$(alerts | jq length)" = "$1" ]; }
t_ok "an alert" t_wait_for 5 n_alerts 1
t_eq "drift alert: kind, versions, edge, action" \
	"drift 1.1 1.0 egress nseg-t-ppeer tcp 7001 nc notify" \
	"$(alerts | jq -r '.[0] | [.kind, .version, .baseline_version, .direction,
		.peer.identity, .protocol, (.port | tostring), .process.comm,
		.action] | join(" ")')"
t_ok "in the JSON-lines file" t_wait_for 5 grep -q '"kind":"drift".*"baseline_version":"1.0"' "$T_TMP/alerts.jsonl"

# The same connection from 1.0 deviates from its own baseline: no drift.
run 1.0 7001
t_eq "notify: 1.0 to 7001 passes" "b " "$OUT"
t_ok "a second alert" t_wait_for 5 n_alerts 2
t_eq "1.0's alert is a deviation, without baseline_version" "deviation 1.0 null 7001" \
	"$(alerts | jq -r '.[] | select(.version == "1.0") | [.kind, .version,
		(.baseline_version | tostring), (.port | tostring)] | join(" ")')"

t_ok "nsegd stops cleanly" t_stop_nsegd
t_done
