#!/bin/sh
# Installs the Debian packages bpfsyscalldist builds against, if any is missing.
# Needs root (or sudo) only when something has to be installed.
set -eu
# build: libbpf, libelf, libyaml, zlib (their static archives too), the Debian package tools,
# umoci (the OCI image, offline); tests: setpriv and nsenter (util-linux), man and groff for the
# man page checks, a real OpenMetrics parser, arm64 kernel headers (a second source, independent
# of the vendored tables, to check the arm64 syscall table against), debootstrap and lintian for
# the package test, and for serve's tests a real Prometheus (started by the tests on loopback,
# never as a service) and curl; bpftool, a second reading of the kernel's BTF to check the task
# offsets against; python3-venv for the tests' venv (below); chromium and its chromedriver, the
# real browser the report tests open pages in; Prometheus' Go client as source, whose
# native-histogram bounds table the tests read; containerd, runc and podman, the real container
# runtimes the container and image tests run containers with; python3-yaml, which reads
# contrib/daemonset.yaml for the image test
packages="python3-venv python3-yaml bpftool libbpf-dev libelf-dev libyaml-dev zlib1g-dev pkg-config dpkg-dev binutils util-linux man-db groff-base python3-prometheus-client linux-libc-dev-arm64-cross debootstrap lintian prometheus curl chromium chromium-driver golang-github-prometheus-client-golang-dev containerd runc podman conmon netavark umoci"
missing=""
for p in $packages; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
	echo "setup: installing$missing" >&2
	as_root=""
	[ "$(id -u)" = 0 ] || as_root=sudo
	$as_root apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $as_root apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
# The tests' references that Debian does not package, pinned, in a venv of Debian's python3:
# the OpenTelemetry SDK (its exponential histogram mapping), opentelemetry-proto (an OTLP receiver)
# and selenium (drives Debian's chromium through its chromedriver, for the report's tests).
venv="$(dirname "$0")/../.build-tests/venv"
pins="opentelemetry-sdk==1.45.2 opentelemetry-proto==1.45.2 selenium==4.27.1"
if [ "$(cat "$venv/pins" 2>/dev/null)" != "$pins" ]; then
	echo "setup: making $venv ($pins)" >&2
	rm -rf "$venv"
	/usr/bin/python3 -m venv "$venv"
	"$venv/bin/pip" install -q --disable-pip-version-check $pins
	echo "$pins" >"$venv/pins"
fi
