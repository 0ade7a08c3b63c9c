#!/bin/bash
# The OCI hook: with it, a new container of an enforced workload is
# enforced from its very first packet (its first action, an unapproved
# connection, is dropped and alerted); with --fail closed and no daemon
# answering, the runtime refuses to start the container.
. "$(dirname "$0")/lib.sh"
t_need jq findmnt podman
t_init hook

t_cgroup nseg-t-hook
CG=$T_CG


PODMAN=(podman --runtime runc --cgroup-manager cgroupfs --hooks-dir "$T_TMP/hooks")
PODMAN_RLIMITS=(--ulimit nofile=1024:1024 --ulimit nproc=1024:1024)
mkdir -p "$T_TMP/hooks"
t_netns anchor
t_start_nsegd --cgroup "$CG" || exit 1
cat >"$T_TMP/hooks/nseg.json" <<EOF2
{"version": "1.0.0",
 "hook": {"path": "$T_BUILD/nseg-oci-hook",
          "args": ["nseg-oci-hook", "--socket", "$T_SOCK", "--fail", "open"]},
 "when": {"always": true}, "stages": ["prestart"]}
EOF2
podman_image localhost/nseg-t-hook:1.0 || t_skip "cannot build an image"
reason=$(podman_usable localhost/nseg-t-hook:1.0) || t_skip "$reason"
# Registered here, not in run(): run's callers use $(...), a subshell.
for n in c1 c2 c3; do T_CLEANUP+=("podman_rm $T_PFX-$n"); done

run() { # NAME COMMAND...
	local name=$T_PFX-$1
	shift
	"${PODMAN[@]}" run --name "$name" --network none --cgroup-parent="$CG" \
		"${PODMAN_RLIMITS[@]}" localhost/nseg-t-hook:1.0 "$@"
}

t_ok "learning container" t_quiet run c1 sh -c \
	'httpd -p 127.0.0.1:8080 -h /var/www; wget -q -O /dev/null http://127.0.0.1:8080/index.html'
t_ok "the hook was called" grep -q "hook: watch pid" "$T_TMP/nsegd.log"
t_ok "approve" t_quiet t_ctl baseline approve nseg-t-hook --all
t_ok "enforce" t_quiet t_ctl mode nseg-t-hook enforce

# First action of a new container: a connection never approved.
out=$(run c2 sh -c 'nc -w 2 127.0.0.1 9 </dev/null; echo "rc=$?"')
t_eq "blocked from its first packet" "rc=1" "$(tail -n 1 <<<"$out")"
t_ok "and alerted" t_wait_for 5 bash -c "\"$NSEGCTL\" --socket \"$T_SOCK\" --json alerts --workload nseg-t-hook | jq -e 'map(select(.port == 9 and .action == \"block\" and .process.comm == \"nc\")) | length == 1' >/dev/null"
t_ok "approved traffic of a new container passes" t_quiet run c3 sh -c \
	'httpd -p 127.0.0.1:8080 -h /var/www; wget -q -O /dev/null http://127.0.0.1:8080/index.html'

# fail: closed, nobody answering: the container does not start.
sed -i "s|\"$T_SOCK\", \"--fail\", \"open\"|\"$T_TMP/nobody.sock\", \"--fail\", \"closed\", \"--timeout\", \"500\"|" "$T_TMP/hooks/nseg.json"
t_ok "fail closed: no daemon, no container" bash -c "! $(printf '%q ' "${PODMAN[@]}") run --rm --network none --cgroup-parent=$CG $(printf '%q ' "${PODMAN_RLIMITS[@]}") localhost/nseg-t-hook:1.0 true >/dev/null 2>&1"
t_ok "clean stop" t_stop_nsegd
t_done
