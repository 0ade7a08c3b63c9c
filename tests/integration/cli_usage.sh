#!/bin/sh
# nsegctl's command line, exit codes and output, without a real daemon:
# usage errors, an unreachable socket, and (when the ctl_fake helper is
# built) the requests nsegctl sends and the formatting of records served
# from a fixture, including a followed alert stream.
#
# usage: cli_usage.sh BUILD_DIR    exit 0 pass, 1 fail, 77 skip

build=${1:-build}
ctl=$build/nsegctl
fake=$build/tests/helpers/ctl_fake

if [ ! -x "$ctl" ]; then
	echo "skip: $ctl not built"
	exit 77
fi

tmp=$(mktemp -d /tmp/nseg-t-cli.XXXXXX) || exit 1
fakepid=
cleanup() {
	[ -n "$fakepid" ] && kill "$fakepid" 2>/dev/null && wait_exit "$fakepid"
	rm -rf "$tmp"
}
trap cleanup EXIT
unset NSEG_SOCKET
failed=0

# check NAME WANT_RC STREAM TEXT -- COMMAND...
# Runs COMMAND; passes if it exits WANT_RC and STREAM (out or err)
# contains TEXT (a fixed string; "" matches anything). COMMAND gets 30 s
# (then exits 124): a follower has no deadline of its own.
check() {
	name=$1 want=$2 stream=$3 text=$4
	shift 5
	timeout -k 5 30 "$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	if [ "$rc" -ne "$want" ]; then
		echo "FAIL - $name: exit $rc, want $want"
		sed 's/^/    /' "$tmp/out" "$tmp/err"
		failed=1
	elif [ -n "$text" ] && ! grep -qF -- "$text" "$tmp/$stream"; then
		echo "FAIL - $name: std$stream lacks '$text'"
		sed 's/^/    /' "$tmp/$stream"
		failed=1
	else
		echo "ok - $name"
	fi
}

# wait_for FILE PATTERN COUNT: until FILE has COUNT lines matching
# PATTERN (5 s at most). Returns non-zero on timeout. A FILE that does
# not exist yet has no lines: a background command's output file is
# created by the child, possibly after the first look.
wait_for() {
	i=0
	while :; do
		n=$(grep -c -- "$2" "$1" 2>/dev/null)
		[ "${n:-0}" -ge "$3" ] && return 0
		[ $i -ge 100 ] && return 1
		sleep 0.05
		i=$((i + 1))
	done
}

# alive PID: true while PID is a child of this shell that has not exited
# (a zombie has exited; another process that reused the number is not
# our child).
alive() {
	# shellcheck disable=SC2046
	set -- $(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null)
	[ $# -ge 2 ] && [ "$1" != Z ] && [ "$2" = $$ ]
}

# wait_exit PID [STEPS]: waits for the child PID to exit, STEPS * 50 ms
# at most (default 5 s), and sets rc to its exit status. A child still
# running then is killed and rc is 124; returns non-zero. No step of
# this test may hang the suite on a process that does not end.
wait_exit() {
	i=0
	while alive "$1"; do
		if [ $i -ge "${2:-100}" ]; then
			kill -KILL "$1" 2>/dev/null
			wait "$1" 2>/dev/null
			rc=124
			return 1
		fi
		sleep 0.05
		i=$((i + 1))
	done
	wait "$1"
	rc=$?
	return 0
}

# The helpers themselves: the follow steps below rely on them.
(sleep 0.3 && echo late >"$tmp/late") &
if wait_for "$tmp/late" '^late$' 1 && grep -q '^late$' "$tmp/late"; then
	echo "ok - wait_for waits for a file that does not exist yet"
else
	echo "FAIL - wait_for returned before the file had the line"
	failed=1
fi
wait_exit $! || failed=1
sleep 30 &
if ! wait_exit $! 4 && [ "$rc" = 124 ]; then
	echo "ok - wait_exit kills a child that does not end"
else
	echo "FAIL - wait_exit on a hung child: rc $rc"
	failed=1
fi
sh -c 'exit 3' &
if wait_exit $! && [ "$rc" = 3 ]; then
	echo "ok - wait_exit keeps the exit status"
else
	echo "FAIL - wait_exit status: rc $rc"
	failed=1
fi

nosock=$tmp/none/nsegd.sock
hint="Try 'nsegctl --help' for more information."

check "--help exits 0 and lists exit codes" 0 out "3  nsegd unreachable" -- \
	"$ctl" --help
check "-h after options" 0 out "Usage: nsegctl" -- "$ctl" --json -h
check "--version" 0 out "nsegctl " -- "$ctl" --version
check "no command" 2 err "nsegctl: missing command" -- "$ctl"
check "usage errors hint at --help" 2 err "$hint" -- "$ctl"
check "unknown command quoted" 2 err "unknown command 'frobnicate'" -- \
	"$ctl" frobnicate
check "unknown option quoted" 2 err "unknown option '--colour'" -- \
	"$ctl" --colour status
check "--socket needs a value" 2 err "option '--socket' needs a path" -- \
	"$ctl" status --socket
check "--socket= needs a value" 2 err "option '--socket' needs a path" -- \
	"$ctl" --socket= status
check "status takes no argument" 2 err "unexpected argument 'extra'" -- \
	"$ctl" status extra
check "workloads takes no argument" 2 err "unexpected argument 'x'" -- \
	"$ctl" workloads x
check "baseline needs a subcommand" 2 err "missing subcommand" -- \
	"$ctl" baseline
check "baseline unknown subcommand" 2 err "unknown subcommand 'drop'" -- \
	"$ctl" baseline drop
check "baseline show needs a workload" 2 err "needs a WORKLOAD" -- \
	"$ctl" baseline show
check "baseline show one workload" 2 err "unexpected argument 'b'" -- \
	"$ctl" baseline show a b
check "baseline show bad option" 2 err "unknown option '--verison'" -- \
	"$ctl" baseline show web --verison 1
check "baseline --version needs a value" 2 err "'--version' needs" -- \
	"$ctl" baseline show web --version
check "command hint names the command" 2 err \
	"Try 'nsegctl baseline --help'" -- "$ctl" baseline show
check "per-command help" 0 out "approve WORKLOAD (--all [--include-deviations] | --edge ID...)" -- \
	"$ctl" baseline --help
check "baseline approve needs a workload" 2 err \
	"'baseline approve' needs a WORKLOAD" -- "$ctl" baseline approve --all
check "baseline approve needs --all or --edge" 2 err \
	"'baseline approve' needs --all or --edge ID" -- \
	"$ctl" baseline approve web
check "baseline approve --include-deviations needs --all" 2 err \
	"'--include-deviations' goes with '--all'" -- \
	"$ctl" baseline approve web --edge 3 --include-deviations
check "baseline approve --all and --edge" 2 err \
	"'--all' and '--edge' cannot be used together" -- \
	"$ctl" baseline approve web --edge 3 --all
check "baseline approve bad id quoted" 2 err \
	"bad edge id 'x' in '--edge 3,x'" -- \
	"$ctl" baseline approve web --edge 3,x
check "baseline approve id 0" 2 err "bad edge id '0' in '--edge 0'" -- \
	"$ctl" baseline approve web --edge 0
check "baseline approve negative id" 2 err "bad edge id '-2'" -- \
	"$ctl" baseline approve web --edge=-2
check "baseline approve empty id" 2 err "bad edge id '' in '--edge 3,,4'" -- \
	"$ctl" baseline approve web --edge 3,,4
check "baseline approve trailing comma" 2 err "bad edge id '' in '--edge 3,'" -- \
	"$ctl" baseline approve web --edge 3,
check "baseline approve id overflow" 2 err \
	"bad edge id '9223372036854775808'" -- \
	"$ctl" baseline approve web --edge 9223372036854775808
check "baseline approve --edge needs a value" 2 err \
	"option '--edge' needs edge ids" -- "$ctl" baseline approve web --edge
check "baseline approve one workload" 2 err "unexpected argument 'b'" -- \
	"$ctl" baseline approve a b --all
check "baseline approve unknown option" 2 err \
	"unknown option '--any' for 'baseline approve'" -- \
	"$ctl" baseline approve web --all --any
check "baseline reject takes no --all" 2 err \
	"unknown option '--all' for 'baseline reject'" -- \
	"$ctl" baseline reject web --all
check "baseline reject takes no --any-process" 2 err \
	"unknown option '--any-process' for 'baseline reject'" -- \
	"$ctl" baseline reject web --edge 1 --any-process
check "baseline reject needs --edge" 2 err "'baseline reject' needs --edge ID" -- \
	"$ctl" baseline reject web
check "mode needs two arguments" 2 err "'mode' needs a WORKLOAD and a MODE" -- \
	"$ctl" mode web
check "mode bad value quoted with choices" 2 err \
	"unknown mode 'enforcing' (choose learn, notify or enforce)" -- \
	"$ctl" mode web enforcing
check "mode extra argument" 2 err "unexpected argument 'x'" -- \
	"$ctl" mode web learn x
check "mode unknown option" 2 err "unknown option '--force'" -- \
	"$ctl" mode web learn --force
check "alerts bad --since quoted" 2 err "bad time 'yesterday' for '--since'" -- \
	"$ctl" alerts --since yesterday
check "alerts --since bad unit" 2 err "bad time '10y' for '--since'" -- \
	"$ctl" alerts --since 10y
check "alerts --since bad date" 2 err "bad time '2026-02-30T00:00:00Z'" -- \
	"$ctl" alerts --since 2026-02-30T00:00:00Z
check "alerts --since too far back" 2 err "reaches before year 0" -- \
	"$ctl" alerts --since 999999999999d
check "alerts --since needs a value" 2 err "option '--since' needs a value" -- \
	"$ctl" alerts --since
check "alerts --workload needs a value" 2 err \
	"option '--workload' needs a value" -- "$ctl" alerts --workload=
check "alerts takes no argument" 2 err "unexpected argument 'web'" -- \
	"$ctl" alerts web
check "alerts unknown option" 2 err "unknown option '--tail'" -- \
	"$ctl" alerts --tail
check "alerts unreachable exits 3" 3 err "cannot connect to $nosock" -- \
	"$ctl" --socket "$nosock" alerts --follow
check "help COMMAND" 0 out "Usage: nsegctl [OPTIONS] workloads" -- \
	"$ctl" help workloads
check "help unknown command" 2 err "unknown command 'nope'" -- \
	"$ctl" help nope
check "unreachable socket exits 3" 3 err \
	"nsegctl: cannot connect to $nosock: No such file or directory (is nsegd running?)" -- \
	"$ctl" --socket "$nosock" status
check "NSEG_SOCKET is used" 3 err "cannot connect to $tmp/env.sock" -- \
	env NSEG_SOCKET="$tmp/env.sock" "$ctl" workloads
check "--socket beats NSEG_SOCKET" 3 err "cannot connect to $nosock" -- \
	env NSEG_SOCKET="$tmp/env.sock" "$ctl" workloads --socket "$nosock"
check "default socket" 3 err "cannot connect to /run/nseg/nsegd.sock" -- \
	env NSEG_SOCKET= "$ctl" status --socket /run/nseg/nsegd.sock
check "global options after the command" 3 err "$nosock" -- \
	"$ctl" baseline show web --json --socket "$nosock" --version 2

if [ ! -x "$fake" ]; then
	echo "skip - output checks: $fake not built"
	exit $failed
fi

cat >"$tmp/fixture.json" <<'EOF'
{
  "100": {"records": [{"version": "0.1.0", "pid": 42, "uptime_s": 7,
                       "db": {"path": "/var/lib/nseg/nseg.db", "wal": true},
                       "modes": ["learn", "enforce"], "empty": ""}]},
  "101": {"records": [
    {"name": "web", "versions": ["1.0", "1.1"],
     "containers": [{"id": "abc", "name": "web1", "version": "1.0", "netns": "n1"}],
     "netns": ["nseg-t-a"], "mode": "learn", "edges": 3},
    {"name": "odd\u001b[31m", "mode": 5, "versions": "x", "containers": {}}
  ]},
  "102": {"echo": true, "records": [
    {"id": 1, "workload": "web", "version": "1.0", "direction": "egress",
     "process": {"exe": "/bin/busybox", "comm": "wget"},
     "peer": {"identity": "api", "process": {"exe": "/usr/bin/socat", "comm": "socat"}},
     "protocol": "tcp", "port": 8080, "state": "learned", "count": 3,
     "first_seen": "2026-11-22T14:28:27Z", "last_seen": "2026-11-22T14:30:00Z"},
    {"id": 2, "direction": "ingress", "process": {"exe": "?"},
     "peer": {"identity": "external:10.0.0.0/8"}, "protocol": "udp", "port": "53"}
  ]},
  "102:nope": {"error": {"code": 5, "message": "no workload 'nope'"}},
  "103": {"records": [{"workload": "web", "changed": 3, "revision": 7}]},
  "103:one": {"records": [{"workload": "one", "changed": 1, "revision": 8}]},
  "103:dev": {"records": [{"workload": "dev", "changed": 2, "revision": 3, "deviations_left": 4}]},
  "103:nope": {"error": {"code": 5, "message": "no workload 'nope'"}},
  "104": {"records": [{"workload": "web", "changed": 2, "revision": 9}]},
  "105": {"records": [{"workload": "web", "mode": "enforce", "previous": "learn"}]},
  "105:none": {"records": []},
  "106": {"records": [
    {"id": 1, "time": "2026-11-22T14:28:27Z", "last_seen": "2026-11-22T14:29:00Z",
     "workload": "web", "version": "1.0", "container": "abc", "pid": 4242,
     "process": {"exe": "/bin/busybox", "comm": "wget"}, "direction": "egress",
     "peer": {"identity": "external:10.0.0.0/8", "address": "10.1.2.3"},
     "protocol": "tcp", "port": 443, "action": "block", "kind": "deviation",
     "count": 2, "baseline": 7},
    {"id": 2, "action": "notify\u001b[2J", "process": {"comm": "nc"}}
  ],
  "follow": [
    {"id": 3, "time": "2026-11-22T14:30:00Z", "workload": "api",
     "process": {"exe": "/usr/bin/socat", "comm": "socat"}, "direction": "ingress",
     "peer": {"identity": "web", "address": "10.88.0.5"}, "protocol": "udp",
     "port": 53, "action": "notify", "kind": "deviation", "count": 1},
    {"id": 1, "time": "2026-11-22T14:28:27Z", "last_seen": "2026-11-22T14:31:00Z",
     "workload": "web", "process": {"exe": "/bin/busybox", "comm": "wget"},
     "direction": "egress", "peer": {"identity": "external:10.0.0.0/8",
     "address": "10.1.2.3"}, "protocol": "tcp", "port": 443,
     "action": "block", "kind": "deviation", "count": 5}
  ]},
  "106:hold": {"records": [], "follow": [{"id": 10}, {"id": 11}], "then": "hold"},
  "106:die": {"records": [{"id": 20}], "follow": [{"id": 21}], "then": "die"},
  "106:nope": {"error": {"code": 5, "message": "no workload 'nope'"}}
}
EOF
sock=$tmp/fake.sock
reqlog=$tmp/requests
: >"$reqlog"
"$fake" "$sock" "$tmp/fixture.json" "$reqlog" &
fakepid=$!
# The socket file exists from bind() on, but connecting is refused
# until listen(): ready means answering.
i=0
until "$ctl" --socket "$sock" status >/dev/null 2>&1; do
	if [ $i -ge 100 ]; then
		echo "FAIL - ctl_fake did not start answering"
		exit 1
	fi
	sleep 0.05
	i=$((i + 1))
done

check "status key: value" 0 out "pid: 42" -- "$ctl" --socket "$sock" status
check "status nested keys flattened" 0 out "db.path: /var/lib/nseg/nseg.db" -- \
	"$ctl" --socket "$sock" status
check "status arrays joined" 0 out "modes: learn,enforce" -- \
	"$ctl" --socket "$sock" status
check "status empty value" 0 out "empty: -" -- "$ctl" --socket "$sock" status
"$ctl" --socket "$sock" status | head -1 >"$tmp/first"
if [ "$(cat "$tmp/first")" = "version: 0.1.0" ]; then
	echo "ok - status keeps the record's order"
else
	echo "FAIL - status order: first line '$(cat "$tmp/first")'"
	failed=1
fi
check "status --json is an object" 0 out '  "pid": 42,' -- \
	"$ctl" --socket "$sock" --json status
check "workloads header" 0 out "NAME" -- "$ctl" --socket "$sock" workloads
check "workloads row" 0 out "1.0,1.1" -- "$ctl" --socket "$sock" workloads
"$ctl" --socket "$sock" workloads >"$tmp/w"
if grep -q "$(printf '\033')" "$tmp/w"; then
	echo "FAIL - workloads passed an escape sequence to the terminal"
	failed=1
else
	echo "ok - control characters in names are replaced"
fi
if awk 'NR == 3 && $2 == "5" && $3 == "x" && $4 == "-" && $6 == "-" \
	{ ok = 1 } END { exit !ok }' "$tmp/w"; then
	echo "ok - odd types and missing fields print as '-' or plainly"
else
	echo "FAIL - odd record row:"
	sed 's/^/    /' "$tmp/w"
	failed=1
fi
check "workloads --json is an array" 0 out '"name": "web"' -- \
	"$ctl" --socket "$sock" workloads --json
check "baseline table" 0 out "wget(/bin/busybox)" -- \
	"$ctl" --socket "$sock" baseline show web
check "baseline peer process" 0 out "socat(/usr/bin/socat)" -- \
	"$ctl" --socket "$sock" baseline show web
check "baseline sends --version" 0 out '"version": "1.1"' -- \
	"$ctl" --socket "$sock" --json baseline show web --version 1.1
check "baseline --version=V" 0 out '"version": "2"' -- \
	"$ctl" --socket "$sock" --json baseline show web --version=2
check "daemon error exits 1" 1 err "nsegctl: no workload 'nope'" -- \
	"$ctl" --socket "$sock" baseline show nope
if "$ctl" --socket "$sock" --json workloads | python3 -c \
	'import json,sys; d=json.load(sys.stdin); sys.exit(len(d) != 2)' \
	2>/dev/null; then
	echo "ok - --json output parses"
elif ! command -v python3 >/dev/null; then
	echo "skip - --json parse check: no python3"
else
	echo "FAIL - --json output does not parse as a 2-element array"
	failed=1
fi

# sent NAME WANT -- COMMAND...
# Runs COMMAND (which must exit 0, within 30 s); passes if the request
# the fake logged last is WANT ("TYPE ARGS", ARGS compact with sorted
# keys).
sent() {
	name=$1 want=$2
	shift 3
	timeout -k 5 30 "$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	got=$(grep -v '^close ' "$reqlog" | tail -n 1)
	if [ "$rc" -ne 0 ]; then
		echo "FAIL - $name: exit $rc"
		sed 's/^/    /' "$tmp/err"
		failed=1
	elif [ "$got" != "$want" ]; then
		echo "FAIL - $name: sent '$got', want '$want'"
		failed=1
	else
		echo "ok - $name"
	fi
}

sent "approve --all" '103 {"all":true,"workload":"web"}' -- \
	"$ctl" --socket "$sock" baseline approve web --all
sent "approve --all --include-deviations" \
	'103 {"all":true,"deviations":true,"workload":"web"}' -- \
	"$ctl" --socket "$sock" baseline approve web --all --include-deviations
sent "approve --edge lists, repeated" \
	'103 {"edges":[3,4,7],"workload":"web"}' -- \
	"$ctl" --socket "$sock" baseline approve web --edge 3,4 --edge 7
sent "approve --edge= and --any-process" \
	'103 {"any_process":true,"edges":[12],"workload":"web"}' -- \
	"$ctl" --socket "$sock" baseline approve --any-process web --edge=12
sent "approve largest id" \
	'103 {"edges":[9223372036854775807],"workload":"web"}' -- \
	"$ctl" --socket "$sock" baseline approve web --edge 9223372036854775807
sent "reject --edge" '104 {"edges":[5,6],"workload":"web"}' -- \
	"$ctl" --socket "$sock" baseline reject web --edge 5 --edge 6
sent "mode" '105 {"mode":"enforce","workload":"web"}' -- \
	"$ctl" --socket "$sock" mode web enforce
sent "alerts without options" '106 {}' -- "$ctl" --socket "$sock" alerts
sent "alerts --since normalised to UTC" \
	'106 {"since":"2026-11-22T14:28:27Z","workload":"web"}' -- \
	"$ctl" --socket "$sock" alerts --workload web \
	--since 2026-11-22T15:28:27.5+01:00
sent "alerts --follow" '106 {"follow":true,"workload":"web"}' -- \
	"$ctl" --socket "$sock" alerts --workload web --follow

"$ctl" --socket "$sock" alerts --since 10m >/dev/null
since=$(tail -n 1 "$reqlog" | sed -n 's/^106 {"since":"\([^"]*\)"}$/\1/p')
now=$(date -u +%s)
then=$(date -u -d "$since" +%s 2>/dev/null || echo 0)
if [ -n "$since" ] && [ $((now - 600 - then)) -ge -5 ] &&
	[ $((now - 600 - then)) -le 60 ]; then
	echo "ok - alerts --since 10m is now - 10 min ($since)"
else
	echo "FAIL - alerts --since 10m sent '$(tail -n 1 "$reqlog")'"
	failed=1
fi

check "approve output" 0 out "approved 3 edges of web (baseline revision 7)" -- \
	"$ctl" --socket "$sock" baseline approve web --all
check "approve output, one edge" 0 out \
	"approved 1 edge of one (baseline revision 8)" -- \
	"$ctl" --socket "$sock" baseline approve one --edge 1
check "approve output, deviations left" 0 out \
	"left 4 edges seen only as deviations (in notify or enforce mode, blocked attempts among them): see 'nsegctl baseline show dev'; --include-deviations approves them too" -- \
	"$ctl" --socket "$sock" baseline approve dev --all
check "approve --json is the record" 0 out '"revision": 7' -- \
	"$ctl" --socket "$sock" --json baseline approve web --all
check "approve daemon error exits 1" 1 err "nsegctl: no workload 'nope'" -- \
	"$ctl" --socket "$sock" baseline approve nope --all
check "reject output" 0 out "rejected 2 edges of web (baseline revision 9)" -- \
	"$ctl" --socket "$sock" baseline reject web --edge 5
check "mode output" 0 out "web: learn -> enforce" -- \
	"$ctl" --socket "$sock" mode web enforce
check "mode --json is the record" 0 out '"previous": "learn"' -- \
	"$ctl" --socket "$sock" --json mode web enforce
check "mode without a reply record exits 1" 1 err "nsegd sent no reply record" -- \
	"$ctl" --socket "$sock" mode none learn
check "alerts daemon error exits 1" 1 err "nsegctl: no workload 'nope'" -- \
	"$ctl" --socket "$sock" alerts --workload nope

"$ctl" --socket "$sock" alerts >"$tmp/a"
if awk 'NR == 1 && $0 ~ /^ID +TIME +ACTION +WORKLOAD +PROCESS +DIR +PEER +ADDRESS +PROTO +PORT +COUNT$/ { h = 1 }
	NR == 2 && $1 == "1" && $2 == "2026-11-22T14:28:27Z" && $3 == "block" &&
	$4 == "web" && $5 == "wget(/bin/busybox)" && $6 == "egress" &&
	$7 == "external:10.0.0.0/8" && $8 == "10.1.2.3" && $9 == "tcp" &&
	$10 == "443" && $11 == "2" { r = 1 }
	NR == 3 && $1 == "2" && $2 == "-" && $5 == "nc" && $11 == "-" { o = 1 }
	END { exit !(h && r && o && NR == 3) }' "$tmp/a" &&
	! grep -q "$(printf '\033')" "$tmp/a"; then
	echo "ok - alerts table: columns, cells, missing fields, escapes"
else
	echo "FAIL - alerts table:"
	sed 's/^/    /' "$tmp/a"
	failed=1
fi
check "alerts --json is an array" 0 out '"baseline": 7' -- \
	"$ctl" --socket "$sock" --json alerts
if command -v python3 >/dev/null; then
	if "$ctl" --socket "$sock" --json alerts | python3 -c \
		'import json,sys; d=json.load(sys.stdin); sys.exit(len(d) != 2 or d[0]["process"]["comm"] != "wget")'; then
		echo "ok - alerts --json parses as a 2-element array"
	else
		echo "FAIL - alerts --json does not parse as a 2-element array"
		failed=1
	fi
fi

# Following: backlog, then pushed records, then END from the daemon.
check "alerts --follow ends with the stream" 0 out "socat(/usr/bin/socat)" -- \
	"$ctl" --socket "$sock" alerts --follow
if [ "$(grep -c '^ID ' "$tmp/out")" = 1 ] && [ "$(wc -l <"$tmp/out")" = 5 ] &&
	awk 'NR == 5 && $1 == "1" && $11 == "5" { ok = 1 } END { exit !ok }' \
		"$tmp/out"; then
	echo "ok - alerts --follow: header once, a row per record, updates"
else
	echo "FAIL - alerts --follow output:"
	sed 's/^/    /' "$tmp/out"
	failed=1
fi
check "alerts --json --follow" 0 out '{"id":3,' -- \
	"$ctl" --socket "$sock" --json alerts --follow
if [ "$(wc -l <"$tmp/out")" = 4 ] &&
	[ "$(grep -c '^{"id":[0-9]*,.*}$' "$tmp/out")" = 4 ] &&
	tail -n 1 "$tmp/out" | grep -q '"count":5'; then
	echo "ok - alerts --json --follow: one object per line"
else
	echo "FAIL - alerts --json --follow output:"
	sed 's/^/    /' "$tmp/out"
	failed=1
fi

# An endless stream ends on SIGINT or SIGTERM with exit 0; each line is
# out (flushed) before that, and the daemon sees the client leave.
# The signal is sent only once this follower's records are out: before
# that it may not have blocked the signal for its signalfd yet (it does
# so before it connects). Sent earlier, SIGINT is lost (a background
# job of a non-interactive shell starts with it ignored) and the
# follower never ends; SIGTERM kills it, or the shell's child before
# exec, which then runs this script's EXIT trap. Each follower writes
# a file of its own so the last one's records cannot stand in for its.
for sig in INT TERM; do
	closes=$(grep -c '^close 106' "$reqlog")
	"$ctl" --socket "$sock" --json alerts --workload hold --follow \
		>"$tmp/f.$sig" 2>"$tmp/ferr.$sig" &
	pid=$!
	if ! wait_for "$tmp/f.$sig" '^{"id":1[01]}$' 2; then
		echo "FAIL - follow ($sig): records not flushed as they came"
		sed 's/^/    /' "$tmp/f.$sig" "$tmp/ferr.$sig"
		failed=1
	fi
	kill -$sig $pid
	wait_exit $pid
	if [ $rc -eq 0 ] && wait_for "$reqlog" '^close 106' $((closes + 1)); then
		echo "ok - follow ends on SIG$sig with exit 0, daemon sees it"
	else
		echo "FAIL - follow on SIG$sig: exit $rc"
		sed 's/^/    /' "$tmp/ferr.$sig"
		failed=1
	fi
done

# Last: the fake stops mid-stream, like a daemon that dies.
check "follow cut without END exits 1" 1 err \
	"nsegd closed the connection before the reply was complete" -- \
	"$ctl" --socket "$sock" --json alerts --workload die --follow
if [ "$(grep -c '^{"id":2[01]}$' "$tmp/out")" = 2 ]; then
	echo "ok - records before the cut are printed"
else
	echo "FAIL - records before the cut:"
	sed 's/^/    /' "$tmp/out"
	failed=1
fi
if ! wait_exit "$fakepid"; then
	echo "FAIL - ctl_fake did not stop after 'die'"
	failed=1
fi
fakepid=

exit $failed
