#!/bin/bash
# SIGHUP reloads the configuration: a bad file is refused and the daemon
# keeps running on the old one; a good one is applied (here: a named
# network appears, and the next connection to it is learned by that name).
. "$(dirname "$0")/lib.sh"
t_need socat jq
t_init reload

t_switch
t_netns a && t_attach a 1
t_netns b && t_attach b 2
t_bg b socat TCP-LISTEN:7000,fork,reuseaddr SYSTEM:'echo seven'
t_wait_for 5 t_listening b tcp 7000 || exit 1
# b is not watched (config scope below), so it is an external peer.
printf 'netns: ["%s-a"]\nalerts_file: ""\n' "$T_PFX" >"$T_TMP/nsegd.yaml"
T_DB=$T_TMP/nseg.db T_SOCK=$T_TMP/nsegd.sock
"$NSEGD" -c "$T_TMP/nsegd.yaml" --db "$T_DB" --socket "$T_SOCK" -v \
	>"$T_TMP/nsegd.log" 2>&1 &
T_NSEGD_PID=$!
T_PIDS+=("$T_NSEGD_PID")
t_wait_for 10 t_nsegd_watches 1 || { cat "$T_TMP/nsegd.log"; exit 1; }
peers() { t_ctl --json baseline show "netns:$T_PFX-a" | jq -r '[.[].peer.identity] | unique | join(",")'; }

t_eq "before: a bare address" seven "$(t_in a socat -u TCP:10.66.0.2:7000 -)"
t_eq "learned as an address" "external:10.66.0.2/32" "$(peers)"

printf 'netns: ["%s-a"]\nalerts_file: ""\nqueu: 1\n' "$T_PFX" >"$T_TMP/nsegd.yaml"
kill -HUP "$T_NSEGD_PID"
t_ok "bad file refused, with its position" t_wait_for 5 grep -q "reload: .*nsegd.yaml:3:1: unknown key 'queu'" "$T_TMP/nsegd.log"
t_ok "daemon still serving" t_nsegd_watches 1

printf 'netns: ["%s-a"]\nalerts_file: ""\nnetworks: [{name: lab, cidr: 10.66.0.0/28}]\n' "$T_PFX" >"$T_TMP/nsegd.yaml"
kill -HUP "$T_NSEGD_PID"
t_ok "good file applied" t_wait_for 5 grep -q "reload: configuration applied" "$T_TMP/nsegd.log"
t_eq "after: the named network" seven "$(t_in a socat -u TCP:10.66.0.2:7000 -)"
t_eq "learned by its name" "external:10.66.0.2/32,external:lab" "$(peers)"
t_ok "clean stop" t_stop_nsegd
t_done
