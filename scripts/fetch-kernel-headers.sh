#!/bin/sh
# Downloads Debian sid's kernel UAPI headers into DIR and unpacks them into DIR/amd64 and DIR/arm64
# for scripts/gen-tables.sh: linux-libc-dev as amd64 gets it (sid now builds it for "all", with every
# architecture's headers) and linux-libc-dev-arm64-cross. Nothing is installed and the machine's apt
# configuration and state are left alone: apt reads a private sources list and keeps its lists and
# caches under DIR. Only needed to refresh the vendored tables; no build or test runs this.
#   usage: scripts/fetch-kernel-headers.sh DIR
set -eu
[ $# -eq 1 ] || { echo "usage: $0 DIR" >&2; exit 2; }
mkdir -p "$1"
dir=$(cd "$1" && pwd)
packages="linux-libc-dev linux-libc-dev-arm64-cross"

# The mirror comes from this machine's configuration, so no address is written in the repository.
uri=""
for f in /etc/apt/sources.list.d/*.sources; do
	[ -f "$f" ] || continue
	uri=$(awk '$1 == "URIs:" && $2 !~ /security/ { print $2; exit }' "$f")
	[ -n "$uri" ] && break
done
[ -n "$uri" ] || { echo "fetch-kernel-headers: no URIs: line in /etc/apt/sources.list.d/*.sources" >&2; exit 1; }

apt="$dir/apt"
rm -rf "$apt" "$dir/amd64" "$dir/arm64"
mkdir -p "$apt/lists/partial" "$apt/cache/archives/partial"
echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $uri sid main" >"$apt/sources.list"
# Private sources, lists and caches; amd64 as the only architecture so the same packages come
# down whatever the host is; as root, download as root (the private dirs are not _apt's).
set -- -q -o Dir::Etc::SourceList="$apt/sources.list" -o Dir::Etc::SourceParts=/dev/null \
	-o Dir::State::Lists="$apt/lists" -o Dir::Cache="$apt/cache" \
	-o APT::Architecture=amd64 -o APT::Architectures=amd64 -o APT::Sandbox::User=root
apt-get "$@" update >&2
# Drop the .debs of an earlier run so that the globs below match exactly one file each.
rm -f "$dir"/linux-libc-dev_*.deb "$dir"/linux-libc-dev-arm64-cross_*.deb
(cd "$dir" && apt-get "$@" download $packages >&2)

deb() { # the one downloaded .deb of package $1
	set -- "$dir/$1"_*.deb
	[ $# -eq 1 ] && [ -f "$1" ] || { echo "fetch-kernel-headers: expected one $1 .deb in $dir" >&2; exit 1; }
	echo "$1"
}
amd64=$(deb linux-libc-dev)
arm64=$(deb linux-libc-dev-arm64-cross)
dpkg-deb -x "$amd64" "$dir/amd64"
# Newer cross packages are only links into linux-libc-dev (which they depend on, same version), so
# DIR/arm64 gets both, as installing would; older ones hold real files and the extra tree is unused.
dpkg-deb -x "$amd64" "$dir/arm64"
dpkg-deb -x "$arm64" "$dir/arm64"

# "package version architecture" lines, which gen-tables.sh names in the generated file; read from
# the .deb control fields, which are exact (file names escape an epoch's colon).
{
	for d in "$amd64" "$arm64"; do
		dpkg-deb -f "$d" Package Version Architecture | awk '{ v[NR] = $2 } END { print v[1], v[2], v[3] }'
	done
} >"$dir/VERSIONS"
cat "$dir/VERSIONS"
