#!/bin/sh
# Builds OUT/bpfsyscalldist-VERSION-oci.tar, an OCI image archive (an OCI image layout, tarred:
# podman load, `ctr images import`, skopeo copy oci-archive:...), offline, from the release
# binaries in BUILD: no Docker engine, no registry, no base image. Its one layer holds the files
# `make install-files` installs that a container uses (binaries stripped, profiles, serve's config)
# and the shared libraries they link (glibc, libstdc++, libgcc_s: Debian 12's, with their
# copyright files), so nothing else is inside, not even a shell. Entrypoint bpfsyscalldist; its
# default command serves on 0.0.0.0:9435 (contrib/daemonset.yaml runs it so).
#   usage: scripts/make-oci.sh BUILD OUT
set -eu
build=$1
out=$2
root=$(cd "$(dirname "$0")/.." && pwd)
version=$("$build/bpfsyscalldist" --version)
arch=$(dpkg --print-architecture)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fs=$work/rootfs
make -s -C "$root" install-files DESTDIR="$fs" PREFIX=/usr SYSCONFDIR=/etc CONFIG="$(basename "$build")"
# what a container has no use for: man pages, shell completions, the systemd unit, the dashboard
rm -rf "$fs/usr/share/man" "$fs/usr/share/bash-completion" "$fs/usr/share/fish" "$fs/usr/share/zsh" \
	"$fs/usr/lib/systemd" "$fs/usr/share/bpfsyscalldist/grafana-dashboard.json"
strip --strip-unneeded --remove-section=.comment --remove-section=.note "$fs/usr/bin/bpfsyscalldist" \
	"$fs/usr/bin/bpfsyscalldist-serve"
# the libraries, at the paths the dynamic linker looks in, with the packages' copyright files
libraries=$( (ldd "$build/bpfsyscalldist"; ldd "$build/bpfsyscalldist-serve") | awk '/=>/ { print $3 } /^\t\// { print $1 }' | sort -u)
for library in $libraries; do
	real=$(readlink -f "$library")
	install -Dm644 "$real" "$fs$library"
	# dpkg knows each file by the path its package ships: the link's, or (usrmerged) the file's
	package=$( (dpkg -S "$library" || dpkg -S "$real") 2>/dev/null | sed -n '1s/:.*//p')
	install -Dm644 "/usr/share/doc/$package/copyright" "$fs/usr/share/doc/$package/copyright"
done
# the dynamic linker, where ldd names it (/lib64/ld-linux-x86-64.so.2, /lib/ld-linux-aarch64.so.1)
loader=$(ldd "$build/bpfsyscalldist" | awk '/^\t\// { print $1 }')
chmod 755 "$fs$loader"
install -Dm644 "$root/packaging/copyright" "$fs/usr/share/doc/bpfsyscalldist/copyright"
mkdir -p "$fs/tmp" && chmod 1777 "$fs/tmp"

layout=$work/layout
image=$layout:localhost/bpfsyscalldist:$version # the name podman and `ctr images import` give it
umoci init --layout "$layout"
umoci new --image "$image"
umoci insert --rootless --uid-map 0:"$(id -u)":1 --gid-map 0:"$(id -g)":1 --image "$image" --history.comment "bpfsyscalldist $version" "$fs" /
umoci config --image "$image" --os linux --architecture "$arch" \
	--config.entrypoint /usr/bin/bpfsyscalldist \
	--config.cmd serve --config.cmd --config --config.cmd /etc/bpfsyscalldist/serve.yaml \
	--config.cmd --listen --config.cmd 0.0.0.0:9435 \
	--config.exposedports 9435/tcp \
	--config.label "org.opencontainers.image.title=bpfsyscalldist" \
	--config.label "org.opencontainers.image.version=$version" \
	--config.label "org.opencontainers.image.licenses=$(sed -n 's/^License: //p' "$root/packaging/copyright" | head -1)"
umoci gc --layout "$layout"
mkdir -p "$out"
rm -f "$out"/bpfsyscalldist-*-oci.tar
tar -C "$layout" --owner=0 --group=0 --sort=name -cf "$out/bpfsyscalldist-$version-oci.tar" .
echo "$out/bpfsyscalldist-$version-oci.tar"
