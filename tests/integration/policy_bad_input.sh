#!/bin/bash
# Bad policy files change nothing. nsegctl policy apply of a malformed
# file, a 10 MB one, an alias bomb, 1000-deep nesting, control characters
# (a NUL among them), an unknown key, or an external:NAME the config does
# not define fails fast (exit 1, the place file:line:col on stderr) and
# every baseline and workload stays as it was; a peer workload nsegd has
# never seen is only a warning. Then policy_dir: a good file is applied
# when nsegd starts, a bad one stops nsegd from starting (its place on
# stderr), and a bad file added before SIGHUP keeps the baselines in force.
. "$(dirname "$0")/lib.sh"
t_need socat jq ss sqlite3
t_init pbad

t_switch
t_netns a && t_attach a 1
t_netns b && t_attach b 2
CFG=$T_TMP/nsegd.yaml
printf 'alerts_file: ""\nnetworks:\n  - name: lab\n    cidr: 10.77.0.0/16\n' >"$CFG"
t_start_nsegd -c "$CFG" || exit 1
t_bg b socat TCP-LISTEN:7000,fork,reuseaddr SYSTEM:'echo seven'
t_wait_for 5 t_listening b tcp 7000 || exit 1

A=netns:$T_PFX-a B=netns:$T_PFX-b
t_eq "learn a->b" seven "$(t_in a socat -u TCP:10.66.0.2:7000 -)"
learned() { [ "$(t_ctl --json baseline show "$B" 2>/dev/null | jq length)" = 1 ]; }
t_ok "b learned its ingress edge" t_wait_for 5 learned
t_ok "approve a" t_quiet t_ctl baseline approve "$A" --all

# What must not change: both baselines and the workload list (without the
# switch's namespace, whose bridge sends IPv6 noise nsegd learns).
state() {
	local w
	for w in "$A" "$B"; do
		t_ctl --json baseline show "$w" | jq -S 'sort_by(.direction, .protocol, .port)'
	done
	t_ctl --json workloads | jq -S --arg sw "netns:$T_PFX-sw" \
		'map(select(.name != $sw) | del(.containers)) | sort_by(.name)'
}
snap=$(state)
t_ok "state has a's approved edge" grep -q '"approved"' <<<"$snap"

# A valid document that would change a's baseline: each bad file starts
# with it, so "nothing changed" means the whole file was refused.
good_doc() {
	cat <<EOF
---
workload: $A
mode: enforce
egress:
  - peer: $B
    protocol: tcp
    port: 7001
EOF
}

# bad NAME SECONDS PATTERN: applies $T_TMP/NAME.yaml, which must fail with
# exit 1 within SECONDS and a stderr line matching PATTERN (an ERE, after
# "FILE:" when it starts with a digit), and leave the state unchanged.
bad() {
	local f=$T_TMP/$1.yaml start ms rc pat=$3
	start=$(date +%s%N)
	t_ctl policy apply "$f" >"$T_TMP/$1.out" 2>"$T_TMP/$1.err"
	rc=$?
	ms=$((($(date +%s%N) - start) / 1000000))
	t_log "$1: exit $rc in $ms ms: $(head -c 300 "$T_TMP/$1.err" | head -n 3)"
	t_eq "$1: exit 1" 1 "$rc"
	t_ok "$1: under $2 s ($ms ms)" test "$ms" -lt $(($2 * 1000))
	case $pat in [0-9]*) pat="$f:$pat" ;; esac
	t_ok "$1: stderr says '$3'" grep -Eq -- "$pat" "$T_TMP/$1.err"
	t_eq "$1: nothing on stdout" "" "$(cat "$T_TMP/$1.out")"
	t_eq "$1: nothing changed" "$snap" "$(state)"
}

# Malformed: an unclosed flow sequence in the second document.
{ good_doc; printf -- '---\nworkload: %s\negress:\n  - peer: %s\n    protocol: tcp\n    ports: [7000, 7002\n' "$A" "$B"; } >"$T_TMP/malformed.yaml"
bad malformed 2 '[0-9]+:[0-9]+: '

# 10 MB: refused before it is read, let alone parsed.
{ good_doc; yes '# padding padding padding padding padding padding padding' | head -c 10000000; } >"$T_TMP/huge.yaml"
bad huge 2 'larger than'

# Billion laughs: nine levels of ten aliases each.
{
	good_doc
	echo "---"
	echo "workload: $A"
	echo 'l0: &l0 "lol"'
	for i in 1 2 3 4 5 6 7 8 9; do
		printf 'l%d: &l%d [' "$i" "$i"
		for j in 1 2 3 4 5 6 7 8 9 10; do printf '*l%d%s' $((i - 1)) "$([ $j = 10 ] || echo ', ')"; done
		echo ']'
	done
} >"$T_TMP/bomb.yaml"
bad bomb 2 '[0-9]+:[0-9]+: .*alias'

# 1000-deep nesting.
{ good_doc; printf -- '---\nworkload: %s\negress: ' "$A"; printf '%.0s[' $(seq 1000); printf '%.0s]' $(seq 1000); echo; } >"$T_TMP/deep.yaml"
bad deep 2 '[0-9]+:[0-9]+: .*nesting deeper'

# An unknown key, with a suggestion.
{ good_doc; printf -- '---\nworkload: %s\negress:\n  - peer: %s\n    protocl: tcp\n    port: 7000\n' "$B" "$A"; } >"$T_TMP/typo.yaml"
bad typo 2 "12:5: unknown key 'protocl' \\(did you mean 'protocol'\\?\\)"

# Control characters: a NUL (which JSON cannot carry to nsegd), and a file
# under the size cap made only of them (escaped, it would not fit in one
# request): both named like the loader names them.
{ good_doc; printf -- '---\nworkload: %s\n\0\n' "$B"; } >"$T_TMP/nul.yaml"
bad nul 2 "10:1: control characters are not allowed"
{ good_doc; head -c 1000000 /dev/zero | tr '\0' '\001'; } >"$T_TMP/controls.yaml"
bad controls 2 "8:1: control characters are not allowed"

# external:NAME the config does not define (lab is defined: no error).
{ good_doc; printf -- '---\nworkload: %s\negress:\n  - peer: external:lab\n    protocol: tcp\n    port: 443\n  - peer: external:nowhere\n    protocol: tcp\n    port: 443\n' "$B"; } >"$T_TMP/network.yaml"
bad network 2 "14:5: peer 'external:nowhere': nsegd's config names no network 'nowhere'"
t_eq "network: only the undefined network is an error" 1 "$(grep -c 'error: ' "$T_TMP/network.err")"

# A peer workload nsegd has never seen: a warning, and the file is applied.
{ good_doc; printf -- '---\nworkload: %s\ningress:\n  - peer: nseg-t-nobody\n    protocol: tcp\n    port: 7000\n' "$B"; } >"$T_TMP/unknown.yaml"
out=$(t_ctl policy apply "$T_TMP/unknown.yaml" 2>"$T_TMP/unknown.err")
t_eq "unknown peer: applied (exit 0)" 0 $?
t_ok "unknown peer: a warning with its place" grep -q \
	"^warning: $T_TMP/unknown.yaml:11:5: peer 'nseg-t-nobody' is no workload" "$T_TMP/unknown.err"
t_eq "unknown peer: no error" 0 "$(grep -c '^error' "$T_TMP/unknown.err")"
t_ok "unknown peer: summary" grep -q ': 2 edges approved, 1 withdrawn, 1 settings changed, 1 warnings$' <<<"$out"
rules() { # WORKLOAD: its approved rules, one a line
	t_ctl --json baseline show "$1" | jq -r '.[] | select(.state == "approved") |
		[.direction, .peer.identity, .protocol, (.port | tostring)] | join(" ")' | sort
}
t_eq "unknown peer: a's rules are the file's" "egress $B tcp 7001" "$(rules "$A")"
t_eq "unknown peer: b's rule approved" "ingress nseg-t-nobody tcp 7000" "$(rules "$B")"
t_eq "unknown peer: a's mode set" enforce "$(t_ctl --json workloads | jq -r --arg n "$A" '.[] | select(.name == $n) | .mode')"
t_ok "stop nsegd" t_stop_nsegd

# --- policy_dir ---------------------------------------------------------
PD=$T_TMP/policies
mkdir -p "$PD"
printf 'alerts_file: ""\npolicy_dir: %s\n' "$PD" >"$CFG"
pol_a() { # PORT: a's policy in the policy directory
	printf -- '# a, kept in git\nworkload: %s\nmode: notify\negress:\n  - peer: %s\n    protocol: tcp\n    ports: [7000, %s]\n' \
		"$A" "$B" "$1" >"$PD/a.yaml"
}
pol_a 7002
t_start_nsegd -c "$CFG" || exit 1
t_eq "policy_dir: applied at start" "$(printf 'egress %s tcp 7000\negress %s tcp 7002' "$B" "$B")" "$(rules "$A")"
t_eq "policy_dir: mode set" notify "$(t_ctl --json workloads | jq -r --arg n "$A" '.[] | select(.name == $n) | .mode')"
t_eq "policy_dir: origin is the file" "policy:$PD/a.yaml" \
	"$(t_ctl --json baseline show "$A" | jq -r '[.[] | select(.state == "approved") | .origin] | unique | join(",")')"
t_ok "stop nsegd" t_stop_nsegd

# A bad file beside it: nsegd does not start, and says where.
dump() { sqlite3 "$T_DB" .dump; }
before=$(dump)
printf 'workload: %s\negress:\n  - peer: %s\n    protocl: tcp\n    port: 7000\n' "$B" "$A" >"$PD/b.yaml"
refused() { # NAME: nsegd must exit non-zero at once
	local start rc ms
	start=$(date +%s%N)
	timeout 10 "$NSEGD" -c "$CFG" --db "$T_DB" --socket "$T_SOCK" --netns "$T_PFX-*" \
		>"$T_TMP/$1.log" 2>&1
	rc=$?
	ms=$((($(date +%s%N) - start) / 1000000))
	t_log "$1: nsegd exit $rc in $ms ms: $(grep -m 2 "$PD" "$T_TMP/$1.log")"
	t_eq "$1: nsegd refuses to start (exit 1)" 1 "$rc"
	t_ok "$1: no sanitizer report" bash -c "! grep -Eq 'Sanitizer|runtime error' '$T_TMP/$1.log'"
	t_ok "$1: within 2 s ($ms ms)" test "$ms" -lt 2000
}
refused start-bad
t_ok "start-bad: the place in stderr" grep -q "$PD/b.yaml:4:5: unknown key 'protocl' (did you mean 'protocol'?)" "$T_TMP/start-bad.log"
t_eq "start-bad: database unchanged" "$before" "$(dump)"

# A 10 MB file there: refused as fast.
rm "$PD/b.yaml"
{ yes '# padding padding padding padding padding padding padding' | head -c 10000000; } >"$PD/huge.yaml"
refused start-huge
t_ok "start-huge: names the file" grep -q "$PD/huge.yaml" "$T_TMP/start-huge.log"
t_eq "start-huge: database unchanged" "$before" "$(dump)"
rm "$PD/huge.yaml"

# SIGHUP: a changed good file with a bad one beside it changes nothing;
# once the bad one is gone, the change is applied.
t_start_nsegd -c "$CFG" || exit 1
pol_a 7003
printf 'workload: %s\negress:\n  - peer: %s\n    protocl: tcp\n    port: 7000\n' "$B" "$A" >"$PD/b.yaml"
kill -HUP "$T_NSEGD_PID"
t_ok "SIGHUP: refused, with the place" t_wait_for 5 grep -q "$PD/b.yaml:4:5: unknown key 'protocl'" "$T_TMP/nsegd.log"
t_ok "SIGHUP: says the baselines stay" t_wait_for 5 grep -q "reload: policy_dir $PD: [0-9]* errors\\?.*no policy applied; the baselines stay as they were" "$T_TMP/nsegd.log"
t_eq "SIGHUP: the old baseline kept" "$(printf 'egress %s tcp 7000\negress %s tcp 7002' "$B" "$B")" "$(rules "$A")"
rm "$PD/b.yaml"
kill -HUP "$T_NSEGD_PID"
changed() { [ "$(rules "$A")" = "$(printf 'egress %s tcp 7000\negress %s tcp 7003' "$B" "$B")" ]; }
t_ok "SIGHUP without the bad file: applied" t_wait_for 5 changed
t_ok "clean stop" t_stop_nsegd
t_done
