#!/bin/sh
# Installs the Debian packages bpfsyscalldist builds against, if any is missing.
# Needs root (or sudo) only when something has to be installed.
set -eu
# build: libbpf, libelf, libyaml, zlib (their static archives too), the Debian package tools;
# tests: setpriv (util-linux), man and groff for the man page checks, a real OpenMetrics parser,
# arm64 kernel headers (a second source, independent of the vendored tables, to check the arm64
# syscall table against), debootstrap and lintian for the package test, and for serve's tests a
# real Prometheus (started by the tests on loopback, never as a service) and curl; bpftool, a
# second reading of the kernel's BTF to check the task offsets against
packages="bpftool libbpf-dev libelf-dev libyaml-dev zlib1g-dev pkg-config dpkg-dev binutils util-linux man-db groff-base python3-prometheus-client linux-libc-dev-arm64-cross debootstrap lintian prometheus curl"
missing=""
for p in $packages; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "setup: installing$missing" >&2
as_root=""
[ "$(id -u)" = 0 ] || as_root=sudo
$as_root apt-get update -qq
DEBIAN_FRONTEND=noninteractive $as_root apt-get install -y -qq --no-install-recommends $missing >/dev/null
