#!/bin/bash
# Control requests made at random (tests/helpers/ctl_reqfuzz.c): every
# request type and some of none, with the protocol's own keys carrying
# wrong types, huge and negative numbers, long strings, escaped NULs,
# nesting, and the names of real workloads. Each gets a whole reply
# (records then END, or ERROR) in time; nsegd stays up, its database
# stays sound, traffic keeps its verdicts, and no request makes it touch
# a namespace outside its scope.
. "$(dirname "$0")/lib.sh"
t_need jq sqlite3 nft
t_init cfuzz

FUZZ=$T_BUILD/tests/helpers/ctl_reqfuzz
[ -x "$FUZZ" ] || t_skip "ctl_reqfuzz not built"
N=${NSEG_CTL_FUZZ_N:-2000}

host_tables() { nft list tables 2>/dev/null | grep -c nseg; }
host0=$(host_tables)
t_pair
t_serve b 7000 ok || exit 1
t_start_nsegd || exit 1
A=netns:$T_PFX-a B=netns:$T_PFX-b
t_eq "learn a->b" ok "$(t_conn a 10.66.0.2 7000)"

seed=${NSEG_CTL_FUZZ_SEED:-$RANDOM}
t_log "seed $seed (NSEG_CTL_FUZZ_SEED repeats this run)"
out=$("$FUZZ" "$T_SOCK" "$N" "$seed" "$A" "$B" 2>&1)
rc=$?
t_log "$out"
t_eq "$N random requests, each with a whole reply" 0 "$rc"
no_internal() { ! grep -q 'error1=' <<<"$out"; }
t_ok "no internal error" no_internal
t_ok "nsegd alive" kill -0 "$T_NSEGD_PID"
t_ok "status answers" t_quiet t_ctl status
t_eq "the host's namespace has no more nseg tables than before" \
	"$host0" "$(host_tables)"

# Whatever the requests changed, nsegd judges traffic by what it says:
# a->b:7000 passes unless a or b enforces without that edge approved.
passes() { # WORKLOAD DIRECTION PEER: its side lets the connection through
	local mode n
	mode=$(t_ctl --json workloads | jq -r --arg w "$1" '.[] | select(.name == $w) | .mode')
	n=$(t_ctl --json baseline show "$1" | jq --arg d "$2" --arg p "$3" '[.[] | select(.direction == $d and .state == "approved" and .peer.identity == $p and .port <= 7000 and (.port_hi // .port) >= 7000)] | length')
	t_log "$1: mode $mode, $n approved $2 edges with $3 covering 7000"
	[ "$mode" != enforce ] || [ "$n" != 0 ]
}
want=blocked
passes "$A" egress "$B" && passes "$B" ingress "$A" && want=ok
got=$(t_conn a 10.66.0.2 7000)
[ "$got" = ok ] || got=blocked
t_eq "a->b:7000 as nsegd's state says" "$want" "$got"
t_ok "clean stop" t_stop_nsegd
t_eq "database integrity" ok "$(sqlite3 "$T_DB" 'PRAGMA integrity_check')"
t_done
