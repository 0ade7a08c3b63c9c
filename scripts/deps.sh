#!/bin/sh
# Installs the Debian packages nseg needs to build, test and demo, only the
# missing ones (a prepared machine never touches the network).
set -eu

PKGS="gcc make pkg-config clang libnftnl-dev libmnl-dev libnetfilter-queue-dev
libpcap-dev libsqlite3-dev libyaml-dev libjansson-dev check libsubunit-dev
nftables iptables iproute2 socat iperf3 busybox-static procps jq sqlite3 bc
tcpdump conntrack
podman runc"

missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" != 0 ]; then
	echo "deps: missing Debian packages:$missing" >&2
	echo "deps: run as root (sudo make ...) to install them" >&2
	exit 1
fi
echo "deps: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
