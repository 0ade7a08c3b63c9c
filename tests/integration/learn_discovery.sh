#!/bin/bash
# Event-driven discovery of process namespaces: a namespace that lives
# about a second, created by a process under the daemon's --cgroup scope,
# is watched at its first exec, learned, and forgotten when it empties; one
# created outside the scope is left alone. Then the same for a real podman
# container (its own namespace, --cgroup-parent in the scope) that lives a
# second: its workload comes from the runtime.
. "$(dirname "$0")/lib.sh"
t_need jq unshare busybox findmnt
t_init disc

t_cgroup nseg-t-disc
CG=$T_CG

BB=$(readlink -f "$(command -v busybox)")
mkdir -p "$T_TMP/bin" "$T_TMP/www" && echo hi >"$T_TMP/www/index.html"
for a in httpd wget; do ln -s "$BB" "$T_TMP/bin/$a"; done

t_netns anchor
t_start_nsegd --cgroup "$CG" || exit 1

# run_scoped CMD...: runs CMD in a new netns from inside the test cgroup;
# prints the namespace's inode first.
run_scoped() {
	bash -c 'echo $$ > "$1/cgroup.procs" && shift && exec "$@"' _ "$T_CG2" \
		unshare -n "$@"
}

out=$(run_scoped sh -c "
	ip link set lo up
	stat -L -c %i /proc/self/ns/net
	$T_TMP/bin/httpd -f -p 127.0.0.1:8080 -h $T_TMP/www & h=\$!
	# until 127.0.0.1:8080 (0100007F:1F90) is in LISTEN (0A)
	for i in \$(seq 200); do grep -q '0100007F:1F90 00000000:0000 0A' /proc/net/tcp && break; sleep 0.01; done
	$T_TMP/bin/wget -q -O - http://127.0.0.1:8080/index.html
	kill \$h")
ino=$(head -n 1 <<<"$out")
t_eq "short-lived namespace served" hi "$(tail -n 1 <<<"$out")"
t_eq "its edges were learned at once" "egress wget httpd 8080
ingress httpd wget 8080" "$(t_ctl --json baseline show "netns:$ino" | jq -r '.[] | [.direction, .process.comm, .peer.process.comm, (.port|tostring)] | join(" ")' | sort)"
t_ok "forgotten when its last process exits" t_wait_for 10 t_nsegd_watches 1

# Outside the cgroup scope: never watched.
unshare -n sleep 3 &
outside=$!
T_PIDS+=("$outside")
t_wait_for 2 test -e "/proc/$outside/ns/net"
t_ok "namespace outside the scope left alone" t_nsegd_watches 1
kill "$outside"

# A podman container in its own namespace, inside the scope, for ~1 s.
# Its connections repeat: without the OCI hook, the first packets of a
# container may leave before its table is in (README, "The OCI hook"); the
# later ones are learned.
PODMAN=(podman --runtime runc --cgroup-manager cgroupfs)
PODMAN_RLIMITS=(--ulimit nofile=1024:1024 --ulimit nproc=1024:1024)
if ! command -v podman >/dev/null; then
	echo "# podman missing: container part skipped"
	t_done
fi
podman_image localhost/nseg-t-disc:1.0 || t_skip "cannot build an image"
reason=$(podman_usable localhost/nseg-t-disc:1.0) || { echo "# $reason"; t_done; }
name=$T_PFX-c1
T_CLEANUP+=("podman_rm $name")
t_ok "one-second container ran" "${PODMAN[@]}" run --name "$name" --network none \
	--cgroup-parent="$CG" "${PODMAN_RLIMITS[@]}" localhost/nseg-t-disc:1.0 \
	sh -c 'httpd -p 127.0.0.1:8080 -h /var/www; for i in 1 2 3 4 5; do wget -q -O /dev/null http://127.0.0.1:8080/index.html; sleep 0.2; done'
t_eq "container workload and version from podman" "1.0" \
	"$(t_ctl --json workloads | jq -r '.[] | select(.name == "nseg-t-disc") | .versions | join(",")')"
t_eq "container edges" "egress wget httpd 8080
ingress httpd wget 8080" "$(t_ctl --json baseline show nseg-t-disc | jq -r '.[] | [.direction, .process.comm, .peer.process.comm, (.port|tostring)] | join(" ")' | sort)"
t_ok "container namespace forgotten after exit" t_wait_for 10 t_nsegd_watches 1
t_ok "clean stop" t_stop_nsegd
t_done
