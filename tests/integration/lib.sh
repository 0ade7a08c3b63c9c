# Shared helpers for integration tests; source it, then call t_init.
#
# Everything a test creates is named nseg-t-<test>-<pid>-* and registered
# for teardown; the EXIT trap removes it even when the test fails. Processes
# are stopped by the PID we started, never by name.

T_BUILD=${1:?usage: $0 BUILD_DIR}
T_BUILD=$(cd "$T_BUILD" && pwd)
NSEGD=${NSEGD:-$T_BUILD/nsegd}
NSEGCTL=$T_BUILD/nsegctl
T_PIDS=()
T_NETNS=()
T_CLEANUP=()
T_FAILS=0
T_CHECKS=0

t_cleanup() {
	local i
	for ((i = ${#T_CLEANUP[@]} - 1; i >= 0; i--)); do
		eval "${T_CLEANUP[i]}" >/dev/null 2>&1
	done
	for p in "${T_PIDS[@]+"${T_PIDS[@]}"}"; do
		kill "$p" 2>/dev/null
	done
	for p in "${T_PIDS[@]+"${T_PIDS[@]}"}"; do
		t_wait_pid_exit "$p" 5 || kill -9 "$p" 2>/dev/null
	done
	# Whatever our commands left running inside our namespaces.
	for n in "${T_NETNS[@]+"${T_NETNS[@]}"}"; do
		for p in $(ip netns pids "$n" 2>/dev/null); do
			kill -9 "$p" 2>/dev/null
		done
		ip netns del "$n" 2>/dev/null
	done
	[ -n "${T_TMP:-}" ] && rm -rf "$T_TMP"
}

# t_init NAME: sets T_PFX (namespace prefix) and T_TMP, installs the trap.
t_init() {
	T_PFX="nseg-t-$1-$$"
	T_TMP=$(mktemp -d "/tmp/nseg-t-$1.XXXXXX")
	trap t_cleanup EXIT
	trap 'exit 1' INT TERM
}

t_quiet() { "$@" >/dev/null 2>&1; }
t_skip() { echo "$*"; exit 77; }
t_log() { echo "# $*"; }

t_ok() { # t_ok DESCRIPTION COMMAND...
	local what=$1
	shift
	T_CHECKS=$((T_CHECKS + 1))
	if "$@"; then
		echo "ok - $what"
	else
		echo "not ok - $what"
		T_FAILS=$((T_FAILS + 1))
	fi
}

t_eq() { # t_eq DESCRIPTION EXPECTED ACTUAL
	T_CHECKS=$((T_CHECKS + 1))
	if [ "$2" = "$3" ]; then
		echo "ok - $1"
	else
		echo "not ok - $1"
		diff <(printf '%s\n' "$2") <(printf '%s\n' "$3") | sed 's/^/#   /'
		T_FAILS=$((T_FAILS + 1))
	fi
}

t_done() {
	echo "$((T_CHECKS - T_FAILS)) passed, $T_FAILS failed"
	# What the daemon said last: CI's log is all a failure leaves.
	[ "$T_FAILS" -gt 0 ] && [ -s "${T_TMP:-}/nsegd.log" ] &&
		tail -n 30 "$T_TMP/nsegd.log" | sed 's/^/# /'
	[ "$T_FAILS" -eq 0 ]
	exit $?
}

# t_wait_for DEADLINE_S COMMAND...: polls COMMAND until it succeeds.
t_wait_for() {
	local deadline=$(($(date +%s%N) + $1 * 1000000000))
	shift
	while ! "$@" >/dev/null 2>&1; do
		[ "$(date +%s%N)" -ge "$deadline" ] && return 1
		sleep 0.02
	done
}

t_wait_pid_exit() { # PID DEADLINE_S
	t_wait_for "$2" bash -c "! kill -0 $1 2>/dev/null"
}

# t_netns NAME: creates netns $T_PFX-NAME with lo up.
t_netns() {
	local ns=$T_PFX-$1
	ip netns add "$ns" || return 1
	T_NETNS+=("$ns")
	ip -n "$ns" link set lo up
}

# t_switch: a namespace holding a bridge that t_attach plugs hosts into, so
# nothing is ever created in the host's namespace.
t_switch() {
	t_netns sw || return 1
	ip -n "$T_PFX-sw" link add br0 type bridge &&
		ip -n "$T_PFX-sw" link set br0 up
}

# t_attach NAME INDEX: a veth from netns NAME to the switch, addresses
# 10.66.0.INDEX/24 and fd66::INDEX/64.
t_attach() {
	local ns=$T_PFX-$1 port=p$2
	ip -n "$T_PFX-sw" link add "$port" type veth peer name eth0 netns "$ns" &&
		ip -n "$T_PFX-sw" link set "$port" master br0 up &&
		ip -n "$ns" addr add "10.66.0.$2/24" dev eth0 &&
		ip -n "$ns" addr add "fd66::$2/64" dev eth0 nodad &&
		ip -n "$ns" link set eth0 up
}

# t_hosts NAME...: the switch and a netns per NAME plugged into it, at
# 10.66.0.1, .2, ... in the order given.
t_hosts() {
	local n i=0
	t_switch || return 1
	for n in "$@"; do
		i=$((i + 1))
		t_netns "$n" && t_attach "$n" "$i" || return 1
	done
}

# t_pair: hosts a (10.66.0.1) and b (10.66.0.2); sets a and b to their
# workload names (netns:...).
t_pair() {
	t_hosts a b || return 1
	a=netns:$T_PFX-a
	b=netns:$T_PFX-b
}

# t_bg NETNS COMMAND...: runs COMMAND in $T_PFX-NETNS in the background;
# its PID (ip netns exec execs it) goes to T_LAST_PID and the teardown list.
t_bg() {
	local ns=$T_PFX-$1
	shift
	ip netns exec "$ns" "$@" >>"$T_TMP/bg.log" 2>&1 &
	T_LAST_PID=$!
	T_PIDS+=("$T_LAST_PID")
}

t_in() { # t_in NETNS COMMAND...: runs COMMAND in $T_PFX-NETNS
	local ns=$T_PFX-$1
	shift
	ip netns exec "$ns" "$@"
}

# t_listening NETNS PROTO PORT: true once something listens there.
t_listening() {
	local flag=-tln
	[ "$2" = udp ] && flag=-uln
	ip netns exec "$T_PFX-$1" ss -H "$flag" "sport = :$3" | grep -q .
}

# t_serve NETNS PORT REPLY: a TCP server in NETNS answering each connection
# to PORT with the line REPLY; returns once it listens.
t_serve() {
	t_bg "$1" socat "TCP-LISTEN:$2,fork,reuseaddr" "SYSTEM:echo $3" &&
		t_wait_for 5 t_listening "$1" tcp "$2"
}

# t_conn NETNS ADDR PORT: connects from NETNS and prints what the server
# sends; prints nothing when the connection is dropped (gives up in 5 s).
t_conn() {
	t_in "$1" timeout 5 socat -T 3 -u "TCP:$2:$3,connect-timeout=2" - 2>/dev/null
}

# t_config LINE...: writes the daemon's configuration, a LINE a line, to
# T_CONF; every later t_start_nsegd / t_run_nsegd reads it.
t_config() {
	T_CONF=$T_TMP/nsegd.yaml
	printf '%s\n' "$@" >"$T_CONF"
}

# t_start_nsegd ARGS...: starts the daemon scoped to this test's namespaces
# (and on T_CONF if t_config wrote one); waits until it watches every
# namespace that exists now.
t_start_nsegd() {
	t_run_nsegd "$(ip netns list | grep -c "^$T_PFX-")" --netns "$T_PFX-*" "$@"
}

# t_run_nsegd N ARGS...: starts the daemon with its own database and socket
# (and on T_CONF if set) and waits until it answers and watches N
# namespaces. For tests that scope it themselves.
t_run_nsegd() {
	local n=$1
	shift
	T_DB=$T_TMP/nseg.db
	T_SOCK=$T_TMP/nsegd.sock
	T_PCAP=$T_TMP/pcap
	# Captures stay in the test's directory, never in the host's default.
	T_CONF=${T_CONF:-$T_TMP/nsegd.yaml}
	[ -e "$T_CONF" ] || : >"$T_CONF"
	grep -q '^capture:' "$T_CONF" ||
		printf 'capture:\n  dir: %s\n' "$T_PCAP" >>"$T_CONF"
	"$NSEGD" -c "$T_CONF" --db "$T_DB" --socket "$T_SOCK" -v "$@" \
		>"$T_TMP/nsegd.log" 2>&1 &
	T_NSEGD_PID=$!
	T_PIDS+=("$T_NSEGD_PID")
	t_wait_for 10 t_nsegd_watches "$n" || {
		echo "nsegd did not come up:"
		cat "$T_TMP/nsegd.log"
		return 1
	}
}

t_nsegd_watches() { # N: the daemon answers and watches N namespaces
	local n
	n=$("$NSEGCTL" --socket "$T_SOCK" --json status | jq -r .netns_watched) &&
		[ "$n" = "$1" ]
}

t_ctl() { "$NSEGCTL" --socket "$T_SOCK" "$@"; }

# t_stop_nsegd: SIGTERM, wait; returns the daemon's exit status.
t_stop_nsegd() {
	kill "$T_NSEGD_PID" 2>/dev/null
	wait "$T_NSEGD_PID"
}

# t_cgroup NAME: a cgroup /NAME-PID under the cgroup2 mount (skips when
# there is none); sets T_CG (the path processes show) and T_CG2 (its
# directory). Removed at teardown in every hierarchy, deepest first:
# podman (cgroupfs) makes it, with a conmon child, in each v1 one too.
t_cgroup() {
	local cg2
	cg2=$(findmnt -t cgroup2 -n -o TARGET | head -n 1)
	[ -n "$cg2" ] || t_skip "no cgroup2 mount"
	T_CG=/$1-$$
	T_CG2=$cg2$T_CG
	mkdir "$T_CG2" || t_skip "cannot create a cgroup under $cg2"
	T_CLEANUP+=(t_rm_cgroups)
}

t_rm_cgroups() {
	local d
	for d in /sys/fs/cgroup/*/"${T_CG#/}" "$T_CG2"; do
		[ -d "$d" ] && find "$d" -depth -type d -exec rmdir {} +
	done
}

t_need() { # t_need CMD...: skip unless each command exists
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 || t_skip "missing command: $c"
	done
}

# t_need_bench: CB (connbench), CS (connserver) and SF (synflood) from
# BUILD/bench; skip unless they were built.
t_need_bench() {
	CB=$T_BUILD/bench/connbench
	CS=$T_BUILD/bench/connserver
	SF=$T_BUILD/bench/synflood
	[ -x "$CB" ] && [ -x "$CS" ] && [ -x "$SF" ] ||
		t_skip "bench programs not built"
}

[ "$(id -u)" = 0 ] || t_skip "needs root (network namespaces)"

# --- podman: real containers from a busybox-static root --------------------
#
# Images are imported from a tarball of /bin/busybox plus symlinks for the
# applets tests use (no registry is needed). Containers join one of this
# test's named namespaces (--network ns:), so a daemon scoped with --netns
# still sees them. runc and cgroupfs because crun refuses hybrid cgroups;
# explicit rlimits because podman's defaults exceed some sandboxes' hard limits.
PODMAN=(podman --runtime "${NSEG_PODMAN_RUNTIME:-runc}"
	--cgroup-manager cgroupfs)
PODMAN_RLIMITS=(--ulimit nofile=1024:1024 --ulimit nproc=1024:1024)

# The applets in podman_rootfs, as /bin/NAME -> busybox (a fixed list: a
# symlink per applet costs a fork each, ~300 of them a second).
PODMAN_APPLETS="sh true cat echo ls ps sleep mkdir kill wget nc httpd ping nslookup ip"

# podman_rootfs: writes $T_TMP/rootfs.tar once per run: /bin/busybox, the
# applets, and /var/www/index.html holding "hello".
podman_rootfs() {
	local root=$T_TMP/rootfs bb a
	[ -s "$T_TMP/rootfs.tar" ] && return 0
	bb=$(readlink -f "$(command -v busybox)") || return 1
	mkdir -p "$root/bin" "$root/tmp" "$root/var/www" "$root/etc" || return 1
	cp "$bb" "$root/bin/busybox" || return 1
	for a in $PODMAN_APPLETS; do
		ln -s busybox "$root/bin/$a" || return 1
	done
	echo hello >"$root/var/www/index.html"
	tar -C "$root" -cf "$T_TMP/rootfs.tar" . && rm -rf "$root"
}

# podman_image TAG: makes image TAG from the busybox root unless it exists
# (cached by tag). An image made here is removed at teardown unless
# NSEG_KEEP_IMAGES=1.
podman_image() {
	"${PODMAN[@]}" image exists "$1" && return 0
	podman_rootfs || return 1
	# Registered first: a signal may come while podman runs.
	[ "${NSEG_KEEP_IMAGES:-0}" = 1 ] ||
		T_CLEANUP+=("${PODMAN[*]} rmi $(printf %q "$1")")
	"${PODMAN[@]}" import -q --change 'CMD ["/bin/sh"]' \
		"$T_TMP/rootfs.tar" "$1" >/dev/null
}

# podman_usable IMAGE: true if a container of IMAGE runs here; otherwise
# prints podman's last error line on stdout (a skip reason).
podman_usable() {
	local err
	err=$("${PODMAN[@]}" run --rm --network none "${PODMAN_RLIMITS[@]}" \
		"$1" true 2>&1 >/dev/null) && return 0
	echo "podman cannot run a container here: $(tail -n 1 <<<"$err")"
	return 1
}

# podman_run [PODMAN-OPTION...] NETNS IMAGE [COMMAND...]: starts a detached
# container named $T_PFX-NETNS-N in netns $T_PFX-NETNS. Options must be one
# word each (--cap-add=NET_RAW). The container's id goes to PODMAN_LAST_ID.
# Its removal goes to the teardown list by that unique name, before podman
# runs: a signal may come before podman prints the id.
PODMAN_N=0
podman_run() {
	local opts=() ns id
	while [ "${1#-}" != "$1" ]; do
		opts+=("$1")
		shift
	done
	ns=$T_PFX-$1
	shift
	PODMAN_N=$((PODMAN_N + 1))
	T_CLEANUP+=("podman_rm $ns-$PODMAN_N")
	id=$("${PODMAN[@]}" run -d --name "$ns-$PODMAN_N" --network "ns:/run/netns/$ns" \
		"${PODMAN_RLIMITS[@]}" "${opts[@]+"${opts[@]}"}" "$@") || return 1
	PODMAN_LAST_ID=$id
}

# podman_rm ID|NAME: removes the container at once (no grace period).
podman_rm() {
	"${PODMAN[@]}" rm -f -t 0 "$1" >/dev/null 2>&1
}

# podman_exec ID COMMAND...: runs COMMAND inside container ID.
podman_exec() {
	local id=$1
	shift
	"${PODMAN[@]}" exec "$id" "$@"
}
