#!/bin/bash
# Least privilege and access: after start-up nsegd keeps only the
# capabilities it needs (and no_new_privs), still learns, and the control
# socket refuses an unprivileged user twice over: the file's mode, and
# nsegd's own SO_PEERCRED check when the file is opened to everyone.
. "$(dirname "$0")/lib.sh"
t_need socat setpriv
t_init priv

t_pair
t_serve b 7000 ok || exit 1
t_config 'alerts_file: ""'
t_start_nsegd || exit 1

# net_admin 12, net_raw 13, sys_ptrace 19, sys_admin 21, dac_read_search 2
want=0000000000283004
status() { awk -v k="$1:" '$1 == k { print $2 }' "/proc/$T_NSEGD_PID/status"; }
t_eq "effective capabilities" "$want" "$(status CapEff)"
t_eq "permitted capabilities" "$want" "$(status CapPrm)"
t_eq "bounding set" "$want" "$(status CapBnd)"
t_eq "no inheritable or ambient" "0000000000000000 0000000000000000" "$(status CapInh) $(status CapAmb)"
t_eq "no_new_privs" 1 "$(status NoNewPrivs)"
t_eq "still learns" ok "$(t_conn a 10.66.0.2 7000)"
learned() { t_ctl --json baseline show "$a" | jq -e 'map(select(.port == 7000)) | length == 1' >/dev/null; }
t_ok "the edge is recorded" t_wait_for 5 learned
t_eq "database mode" 600 "$(stat -c %a "$T_DB")"
t_eq "socket mode" 660 "$(stat -c %a "$T_SOCK")"

# nobody (65534): the socket's mode keeps it out...
chmod 0711 "$T_TMP"
out=$(setpriv --reuid=65534 --regid=65534 --clear-groups -- "$NSEGCTL" --socket "$T_SOCK" status 2>&1)
t_eq "nobody: unreachable (exit 3)" 3 "$?"
t_ok "nobody: says why ($out)" grep -qi "permission denied" <<<"$out"
# ...and nsegd's own check when the file lets anyone connect.
chmod 0666 "$T_SOCK"
out=$(setpriv --reuid=65534 --regid=65534 --clear-groups -- "$NSEGCTL" --socket "$T_SOCK" status 2>&1)
t_eq "nobody, socket opened up: refused by nsegd (exit 1)" 1 "$?"
t_ok "nobody: names the uid ($out)" grep -q "uid 65534 is not root" <<<"$out"
out=$(setpriv --reuid=65534 --regid=65534 --clear-groups -- "$NSEGCTL" --socket "$T_SOCK" mode "$a" enforce 2>&1)
t_eq "nobody cannot change a mode" 1 "$?"
t_eq "the mode is unchanged" learn "$(t_ctl --json workloads | jq -r --arg n "$a" '.[] | select(.name == $n) | .mode')"
t_ok "root still can" t_quiet t_ctl status
t_done
