#!/bin/sh
# Builds OUT/bpfsyscalldist-VERSION-linux-ARCH.tar.gz from the release binary in BUILD, for
# distributions without dpkg: the files `make install-files` installs, under a prefix, stripped;
# unpack it and copy its contents to /usr/local (or anywhere: the binary looks for its profiles
# in ../share/bpfsyscalldist/profiles beside its own directory; the systemd unit expects
# /usr/local/bin and /usr/local/etc).
#   usage: scripts/make-dist.sh BUILD OUT
set -eu
build=$1
out=$2
root=$(cd "$(dirname "$0")/.." && pwd)
version=$("$build/bpfsyscalldist" --version)
arch=$(uname -m)
name=bpfsyscalldist-$version-linux-$arch
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
make -s -C "$root" install-files DESTDIR="$work/$name" PREFIX= SYSCONFDIR=/etc UNIT_BINDIR=/usr/local/bin \
	UNIT_SYSCONFDIR=/usr/local/etc CONFIG="$(basename "$build")"
strip --strip-unneeded --remove-section=.comment --remove-section=.note "$work/$name/bin/bpfsyscalldist" \
	"$work/$name/bin/bpfsyscalldist-serve"
install -m644 "$root/packaging/copyright" "$work/$name/COPYRIGHT"
mkdir -p "$out"
rm -f "$out"/bpfsyscalldist-*.tar.gz
tar -C "$work" --owner=0 --group=0 --sort=name -czf "$out/$name.tar.gz" "$name"
echo "$out/$name.tar.gz"
