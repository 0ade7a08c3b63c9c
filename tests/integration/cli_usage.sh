#!/bin/sh
# nsegctl's command line, exit codes and output, without a real daemon:
# usage errors, an unreachable socket, and (when the ctl_fake helper is
# built) formatting of records served from a fixture.
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
	[ -n "$fakepid" ] && kill "$fakepid" 2>/dev/null && wait "$fakepid"
	rm -rf "$tmp"
}
trap cleanup EXIT
unset NSEG_SOCKET
failed=0

# check NAME WANT_RC STREAM TEXT -- COMMAND...
# Runs COMMAND; passes if it exits WANT_RC and STREAM (out or err)
# contains TEXT (a fixed string; "" matches anything).
check() {
	name=$1 want=$2 stream=$3 text=$4
	shift 5
	"$@" >"$tmp/out" 2>"$tmp/err"
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
check "per-command help" 0 out "baseline show WORKLOAD" -- \
	"$ctl" baseline --help
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
  "102:nope": {"error": {"code": 5, "message": "no workload 'nope'"}}
}
EOF
sock=$tmp/fake.sock
"$fake" "$sock" "$tmp/fixture.json" &
fakepid=$!
i=0
while [ ! -S "$sock" ] && [ $i -lt 100 ]; do
	sleep 0.05
	i=$((i + 1))
done
if [ ! -S "$sock" ]; then
	echo "FAIL - ctl_fake did not start"
	exit 1
fi

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

exit $failed
