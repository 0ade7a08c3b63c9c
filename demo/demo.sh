#!/bin/bash
# nseg demo: a three-tier application (web -> api -> db) in podman
# containers, each in its own network namespace on a bridge; nsegd learns
# who talks to whom, per process, and nsegctl shows the baseline. Then the
# baselines are approved and enforced: approved traffic still flows, a new
# kind of connection is dropped and raises an alert.
# Everything it creates is removed on exit, whatever happens.
#
#   sudo make demo           (runs: demo/demo.sh build)
#   NSEG_DEMO_NO_PODMAN=1    use plain namespaces and processes instead
set -u
build=${1:-build}
nsegd=$build/nsegd
nsegctl=$build/nsegctl

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
note() { printf '   %s\n' "$*"; }
die() { printf 'demo: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "needs root (network namespaces, nftables): sudo make demo"
[ -x "$nsegd" ] && [ -x "$nsegctl" ] || die "$nsegd or $nsegctl missing: run make first"
for c in ip busybox jq; do
	command -v "$c" >/dev/null || die "missing command '$c': run sudo make deps"
done
BB=$(readlink -f "$(command -v busybox)")

P=nseg-demo-$$
TMP=$(mktemp -d /tmp/nseg-demo.XXXXXX) || exit 1
export NSEG_SOCKET=$TMP/nsegd.sock
PODMAN=(podman --runtime runc --cgroup-manager cgroupfs)
RLIMITS=(--ulimit nofile=1024:1024 --ulimit nproc=1024:1024)
NETNS=() CONTAINERS=() PIDS=() IMAGES=() NSEGD_PID=

# Teardown in reverse order of creation; processes by the PID we started.
cleanup() {
	local p n
	trap - EXIT INT TERM
	for n in "${CONTAINERS[@]+"${CONTAINERS[@]}"}"; do
		"${PODMAN[@]}" rm -f -t 0 "$n" >/dev/null 2>&1
	done
	for p in "${PIDS[@]+"${PIDS[@]}"}" $NSEGD_PID; do
		kill "$p" 2>/dev/null
	done
	for p in "${PIDS[@]+"${PIDS[@]}"}" $NSEGD_PID; do
		wait_for 5 gone "$p" || kill -9 "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	for n in "${NETNS[@]+"${NETNS[@]}"}"; do
		ip netns del "$n" 2>/dev/null
	done
	for n in "${IMAGES[@]+"${IMAGES[@]}"}"; do
		"${PODMAN[@]}" rmi "$n" >/dev/null 2>&1
	done
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# wait_for SECONDS COMMAND...: polls COMMAND until it succeeds or time is up.
wait_for() {
	local deadline=$(($(date +%s%N) + $1 * 1000000000))
	shift
	until "$@" >/dev/null 2>&1; do
		[ "$(date +%s%N)" -ge "$deadline" ] && return 1
		sleep 0.05
	done
}
gone() { ! kill -0 "$1" 2>/dev/null; }
ctl_json() { "$nsegctl" --json "$@"; }
watching() { [ "$(ctl_json status | jq .netns_watched)" = "$1" ]; }
containers_known() { [ "$(ctl_json status | jq .containers)" = "$1" ]; }
edges_learned() { [ "$(ctl_json workloads | jq '[.[].edges] | add')" -ge "$1" ]; }
alerts_raised() { [ "$(ctl_json alerts | jq length)" -ge "$1" ]; }
quiet() { "$@" >/dev/null 2>&1; }

# The applets the demo's images carry as /bin/NAME -> busybox.
APPLETS="sh ash true cat echo ls ps sleep mkdir wget nc httpd ping nslookup ip"

# A root of /bin/busybox and its applets, imported as an image.
make_rootfs() {
	local root=$TMP/rootfs a
	mkdir -p "$root/bin" "$root/tmp" "$root/etc" "$root/var/www" || return 1
	cp "$BB" "$root/bin/busybox" || return 1
	for a in $APPLETS; do ln -s busybox "$root/bin/$a" || return 1; done
	echo "hello from api" >"$root/var/www/index.html"
	tar -C "$root" -cf "$TMP/rootfs.tar" .
}

make_image() { # TAG: import unless it exists; removed at exit if made here
	"${PODMAN[@]}" image exists "$1" && return 0
	[ -s "$TMP/rootfs.tar" ] || make_rootfs || return 1
	IMAGES+=("$1") # before: a signal may come while podman runs
	"${PODMAN[@]}" import -q --change 'CMD ["/bin/sh"]' "$TMP/rootfs.tar" \
		"$1" >/dev/null
}

podman_works() {
	local err
	[ "${NSEG_DEMO_NO_PODMAN:-0}" = 1 ] && { why="NSEG_DEMO_NO_PODMAN=1"; return 1; }
	command -v podman >/dev/null && command -v runc >/dev/null ||
		{ why="podman or runc is not installed"; return 1; }
	for t in web api db; do
		make_image "localhost/nseg-demo-$t:1.0" ||
			{ why="podman import failed"; return 1; }
	done
	err=$("${PODMAN[@]}" run --rm --network none "${RLIMITS[@]}" \
		localhost/nseg-demo-web:1.0 true 2>&1) && return 0
	why=$(tail -n 1 <<<"$err")
	return 1
}

netns_add() { # NAME
	ip netns add "$P-$1" || return 1
	NETNS+=("$P-$1")
	ip -n "$P-$1" link set lo up
}

# Three namespaces on a bridge that lives in a fourth: nothing is created
# in the host's own network namespace.
make_network() {
	local i=0 t
	netns_add switch || return 1
	ip -n "$P-switch" link add br0 type bridge &&
		ip -n "$P-switch" addr add 10.77.0.254/24 dev br0 &&
		ip -n "$P-switch" link set br0 up || return 1
	for t in web api db; do
		i=$((i + 1))
		netns_add "$t" &&
			ip -n "$P-switch" link add "p$t" type veth peer name eth0 netns "$P-$t" &&
			ip -n "$P-switch" link set "p$t" master br0 up &&
			ip -n "$P-$t" addr add "10.77.0.$i/24" dev eth0 &&
			ip -n "$P-$t" link set eth0 up || return 1
	done
}

listening() { ip netns exec "$P-$1" ss -H -tln "sport = :$2" | grep -q .; }

# The application as containers: api serves http, db answers on 5432.
start_containers() {
	local t extra id
	for t in db api web; do
		extra=()
		case $t in
		db) set -- nc -ll -p 5432 -e echo "db: 42 rows" ;;
		api) set -- httpd -f -p 8080 -h /var/www ;;
		web) set -- sleep 3600; extra=(--cap-add=NET_RAW) ;; # for ping
		esac
		# Removed by this unique name, registered before podman runs:
		# a signal may come before podman prints the id.
		CONTAINERS+=("$P-$t")
		id=$("${PODMAN[@]}" run -d --name "$P-$t" \
			--network "ns:/run/netns/$P-$t" "${RLIMITS[@]}" \
			"${extra[@]+"${extra[@]}"}" "localhost/nseg-demo-$t:1.0" "$@") ||
			return 1
		note "$(printf '%-4s localhost/nseg-demo-%s:1.0  %s  (%s)' "$t" "$t" "$*" "${id:0:12}")"
	done
}

# The same application as plain processes in the namespaces.
start_processes() {
	local a
	mkdir -p "$TMP/bin" "$TMP/www" || return 1
	for a in wget nc httpd ping nslookup; do ln -s "$BB" "$TMP/bin/$a"; done
	echo "hello from api" >"$TMP/www/index.html"
	ip netns exec "$P-db" "$TMP/bin/nc" -ll -p 5432 -e echo "db: 42 rows" \
		>/dev/null 2>&1 &
	PIDS+=($!)
	ip netns exec "$P-api" "$TMP/bin/httpd" -f -p 8080 -h "$TMP/www" \
		>/dev/null 2>&1 &
	PIDS+=($!)
	note "db   nc -ll -p 5432 -e echo 'db: 42 rows'   (pid ${PIDS[0]})"
	note "api  httpd -f -p 8080                       (pid ${PIDS[1]})"
}

in_app() { # TIER COMMAND...: run an applet in a tier's container or netns
	local t=$1
	shift
	if [ "$mode" = podman ]; then
		"${PODMAN[@]}" exec "$P-$t" "$@"
	else
		ip netns exec "$P-$t" "$TMP/bin/$1" "${@:2}"
	fi
}

start=$(date +%s)
say "nseg demo: learn how a small application talks, then enforce it"
if podman_works; then
	mode=podman
	tier() { echo "nseg-demo-$1"; }
	note "Images localhost/nseg-demo-{web,api,db}:1.0, made from busybox-static."
else
	mode=netns
	tier() { echo "netns:$P-$1"; }
	note "podman cannot run containers here ($why)."
	note "Falling back to plain network namespaces with busybox processes:"
	note "the workloads are then named after their namespace (netns:NAME)."
fi

say "network: one namespace per tier, on a bridge in $P-switch"
make_network || die "could not create the demo namespaces"
note "web 10.77.0.1   api 10.77.0.2   db 10.77.0.3   (bridge 10.77.0.254)"

say "the application"
if [ "$mode" = podman ]; then
	start_containers || die "podman could not start the demo containers"
else
	start_processes || die "could not start the demo processes"
fi
wait_for 10 listening db 5432 && wait_for 10 listening api 8080 ||
	die "the db or api server did not start"

say "nsegd in learn mode, watching only the three tiers' namespaces"
note "$nsegd -c $TMP/nsegd.yaml --db $TMP/nseg.db --socket $NSEG_SOCKET \\"
note "    --netns $P-web --netns $P-api --netns $P-db"
# Alerts also go to a JSON-lines file (default /var/log/nseg/alerts.jsonl).
printf 'alerts_file: %s\ncapture:\n  dir: %s\n' "$TMP/alerts.jsonl" "$TMP/pcap" >"$TMP/nsegd.yaml"
"$nsegd" -c "$TMP/nsegd.yaml" --db "$TMP/nseg.db" --socket "$NSEG_SOCKET" \
	--netns "$P-web" --netns "$P-api" --netns "$P-db" >"$TMP/nsegd.log" 2>&1 &
NSEGD_PID=$!
if ! wait_for 10 watching 3; then
	sed 's/^/   nsegd: /' "$TMP/nsegd.log"
	die "nsegd did not start"
fi
[ "$mode" = podman ] && ! wait_for 10 containers_known 3 &&
	die "nsegd did not find the three containers"

say "traffic"
for _ in 1 2 3; do quiet in_app web wget -q -O - http://10.77.0.2:8080/; done
note "web -> api  wget http://10.77.0.2:8080/     3 times: $(in_app web wget -q -O - http://10.77.0.2:8080/ 2>&1)"
note "api -> db   nc 10.77.0.3 5432              answer: $(in_app api nc 10.77.0.3 5432 </dev/null 2>&1)"
quiet in_app web nslookup api.demo 10.77.0.254
note "web -> 10.77.0.254 udp 53  nslookup api.demo (a DNS query; nothing answers it)"
quiet in_app web ping -c 1 -W 2 10.77.0.3
note "web -> db   ping -c 1 10.77.0.3"
wait_for 5 edges_learned 7 || note "(not every edge was recorded yet)"

say "what nsegd learned"
echo "\$ nsegctl workloads"
"$nsegctl" workloads
for t in web api db; do
	echo
	echo "\$ nsegctl baseline show $(tier "$t")"
	"$nsegctl" baseline show "$(tier "$t")"
done

say "what you are looking at"
if [ "$mode" = podman ]; then
	note "A workload is named after its image: localhost/nseg-demo-web:1.0 is"
	note "workload nseg-demo-web, version 1.0. Peers are named the same way, never"
	note "by IP address, so a baseline survives containers being replaced."
	note "PROCESS is comm(exe): busybox is one binary (/bin/busybox inside the"
	note "container), its comm tells wget from httpd and nc."
else
	note "Without containers a workload is named after its namespace (netns:NAME)."
	note "PROCESS is comm(exe): busybox is one binary ($BB), its comm tells"
	note "wget from httpd and nc."
fi
note "Each row is one kind of connection, learned on both ends: web's egress to"
note "api on tcp 8080 is api's ingress from web. COUNT is how many connections"
note "matched it; repeating one adds to COUNT, never a new row."
note "external:10.77.0.254/32 is an address no workload on this host holds."
note "'[kernel]' means the kernel itself answered (ping's echo reply); '?' would"
note "be a process nsegd could not name."
note "Only the first packet of each new connection went through nsegd; the rest"
note "stayed in the kernel. All rows are 'learned': nothing is enforced until"
note "an operator approves them."

say "approve the baselines"
note "web's edges for any process of web, api's and db's for the process seen:"
approve() { # TIER [--any-process]
	echo "\$ nsegctl baseline approve $(tier "$1") --all${2:+ $2}"
	"$nsegctl" baseline approve "$(tier "$1")" --all ${2:+"$2"} ||
		die "approving $(tier "$1") failed"
}
approve web --any-process
approve api
approve db

say "enforce"
for t in web api db; do
	echo "\$ nsegctl mode $(tier "$t") enforce"
	"$nsegctl" mode "$(tier "$t")" enforce || die "enforcing $(tier "$t") failed"
done

say "approved traffic still flows"
note "web -> api  wget http://10.77.0.2:8080/     $(in_app web wget -q -O - http://10.77.0.2:8080/ 2>&1)"
note "api -> db   nc 10.77.0.3 5432              $(in_app api nc -w 2 10.77.0.3 5432 </dev/null 2>&1)"
if quiet in_app web ping -c 1 -W 2 10.77.0.3; then
	note "web -> db   ping -c 1 10.77.0.3            answered"
else
	note "web -> db   ping -c 1 10.77.0.3            no answer (unexpected)"
fi
echo
echo "\$ ip netns exec $P-web nft list chain inet nseg output"
ip netns exec "$P-web" nft list chain inet nseg output 2>/dev/null |
	grep -v '^[[:space:]]*$'

say "something new: web connects to db on tcp 5432 (never learned)"
if [ "$mode" = podman ]; then
	echo "\$ podman exec $P-web nc -w 2 10.77.0.3 5432"
else
	echo "\$ ip netns exec $P-web nc -w 2 10.77.0.3 5432"
fi
out=$(in_app web nc -w 2 10.77.0.3 5432 </dev/null 2>&1)
echo "${out:-(no output)}"
case $out in
*"db: 42 rows"*) note "it got through (unexpected)" ;;
*) note "blocked: db never saw it" ;;
esac
wait_for 5 alerts_raised 1 || note "(no alert yet)"

say "the alert"
echo "\$ nsegctl alerts"
"$nsegctl" alerts
echo
echo "\$ tail -n 1 $TMP/alerts.jsonl | jq ."
tail -n 1 "$TMP/alerts.jsonl" | jq .

say "the alert's packets"
id=$(ctl_json alerts | jq -r '.[-1].id')
echo "\$ tcpdump -nn -r \"\$(nsegctl capture show $id)\""
pcap=$("$nsegctl" capture show "$id") &&
	tcpdump -nn -r "$pcap" 2>/dev/null | tail -n 4
note "nsegd keeps the packets of every alert as a pcap (here the blocked"
note "SYN and its retries, after the workload's last packets that reached"
note "nsegd); 'nsegctl capture start WORKLOAD' records a workload on demand."

say "what happened"
note "Approving turned the baselines into nftables rules in each tier's own"
note "table. web's edges, approved for any process, are decided in the kernel:"
note "'ip daddr @p0_4 tcp dport 8080 accept', where p0_4 is the set of the"
note "addresses api holds now (a container that comes or goes changes the"
note "set, never the rules); the counters show they matched."
note "api's and db's edges are approved for one process, so the first packet"
note "of each new connection goes to nsegd, which checks the process too."
note "web's nc to db matched no rule: its first packet went to nsegd, which"
note "named the process, container and peer, found no approved edge, dropped"
note "the packet (enforce mode) and raised one alert; retries of the same"
note "connection only add to COUNT. The alert is in nseg's database"
note "(nsegctl alerts [--follow] [--json]) and, one JSON object per line, in"
note "the alerts_file: here $TMP/alerts.jsonl (removed"
note "with the demo), by default /var/log/nseg/alerts.jsonl."

say "the approved baseline as code"
echo "\$ nsegctl policy export $(tier web)"
"$nsegctl" policy export "$(tier web)" | tee "$TMP/web.yaml"
echo
echo "\$ nsegctl policy apply --dry-run web.yaml"
"$nsegctl" policy apply --dry-run "$TMP/web.yaml"
note "Keep this file in git, review changes in pull requests and apply it"
note "on every host (nsegctl policy apply, or nsegd's policy_dir): applying"
note "the file back changes nothing. 'nsegctl diff WORKLOAD@V1 WORKLOAD@V2'"
note "shows what a new image version started to talk to."

say "cleaning up (containers, namespaces, daemon, images it made)"
cleanup
note "done in $(($(date +%s) - start)) s"
