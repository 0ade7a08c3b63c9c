#!/bin/bash
# SIGHUP reloads the configuration: a bad file is refused and the daemon
# keeps running on the old one; a good one is applied (here: a named
# network appears, and the next connection to it is learned by that name).
. "$(dirname "$0")/lib.sh"
t_need socat jq
t_init reload

t_pair
t_serve b 7000 seven || exit 1
# b is not watched (the config scopes the daemon to a), so it is an
# external peer.
scope="netns: [\"$T_PFX-a\"]"
t_config "$scope" 'alerts_file: ""'
t_run_nsegd 1 || exit 1
peers() { t_ctl --json baseline show "$a" | jq -r '[.[].peer.identity] | unique | join(",")'; }

t_eq "before: a bare address" seven "$(t_in a socat -u TCP:10.66.0.2:7000 -)"
t_eq "learned as an address" "external:10.66.0.2/32" "$(peers)"

t_config "$scope" 'alerts_file: ""' 'queu: 1'
kill -HUP "$T_NSEGD_PID"
t_ok "bad file refused, with its position" t_wait_for 5 grep -q "reload: .*nsegd.yaml:3:1: unknown key 'queu'" "$T_TMP/nsegd.log"
t_ok "daemon still serving" t_nsegd_watches 1

t_config "$scope" 'alerts_file: ""' 'networks: [{name: lab, cidr: 10.66.0.0/28}]'
kill -HUP "$T_NSEGD_PID"
t_ok "good file applied" t_wait_for 5 grep -q "reload: configuration applied" "$T_TMP/nsegd.log"
t_eq "after: the named network" seven "$(t_in a socat -u TCP:10.66.0.2:7000 -)"
t_eq "learned by its name" "external:10.66.0.2/32,external:lab" "$(peers)"
t_ok "clean stop" t_stop_nsegd
t_done
