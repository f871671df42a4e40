#!/bin/sh
# Builds OUT/bpfsyscalldist_VERSION_ARCH.deb from the release binary in BUILD: the files
# `make install-files` puts under /usr, stripped and compressed as Debian policy asks, with a
# Depends: computed by dpkg-shlibdeps from what the binary really links (glibc, libstdc++,
# libgcc_s: the rest is linked in). Built with Debian's own dpkg-deb.
#   usage: scripts/make-deb.sh BUILD OUT
set -eu
build=$1
out=$2
root=$(cd "$(dirname "$0")/.." && pwd)
version=$("$build/bpfsyscalldist" --version)
arch=$(dpkg --print-architecture)
changelog_version=$(sed -n '1s/^bpfsyscalldist (\([^)]*\)).*/\1/p' "$root/packaging/changelog")
[ "$version" = "$changelog_version" ] ||
	{ echo "make-deb: the binary says $version, packaging/changelog $changelog_version" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
stage=$work/stage
make -s -C "$root" install-files DESTDIR="$stage" PREFIX=/usr SYSCONFDIR=/etc CONFIG="$(basename "$build")"
strip --strip-unneeded --remove-section=.comment --remove-section=.note "$stage/usr/bin/bpfsyscalldist" \
	"$stage/usr/bin/bpfsyscalldist-serve"
gzip -9n "$stage/usr/share/man/man5/bpfsyscalldist-profile.5" "$stage/usr/share/man/man8/bpfsyscalldist.8"
for link in syscalldist bpfsyscalldist-serve; do
	ln -sf bpfsyscalldist.8.gz "$stage/usr/share/man/man8/$link.8.gz"
	rm "$stage/usr/share/man/man8/$link.8"
done
doc=$stage/usr/share/doc/bpfsyscalldist
install -Dm644 "$root/packaging/copyright" "$doc/copyright"
# a native package (no Debian revision): its changelog is changelog.gz
gzip -9nc "$root/packaging/changelog" >"$doc/changelog.gz"
chmod 644 "$doc/changelog.gz"
# completions are sourced, not run: no #! line
sed -i '1{/^#!/d}' "$stage/usr/share/bash-completion/completions/bpfsyscalldist"
install -Dm644 "$root/packaging/lintian-overrides" "$stage/usr/share/lintian/overrides/bpfsyscalldist"
# dpkg-shlibdeps reads a source package's debian/control: give it a minimal one
mkdir -p "$work/src/debian"
printf 'Source: bpfsyscalldist\n\nPackage: bpfsyscalldist\nArchitecture: any\n' >"$work/src/debian/control"
depends=$(cd "$work/src" && dpkg-shlibdeps -O -e"$stage/usr/bin/bpfsyscalldist" -e"$stage/usr/bin/bpfsyscalldist-serve" 2>/dev/null | sed -n 's/^shlibs:Depends=//p')
[ -n "$depends" ] || { echo "make-deb: dpkg-shlibdeps found no dependencies" >&2; exit 1; }
mkdir -p "$stage/DEBIAN"
size=$(du -sk --exclude=DEBIAN "$stage" | cut -f1)
sed -e "s/@VERSION@/$version/" -e "s/@ARCH@/$arch/" -e "s/@SIZE@/$size/" -e "s/@DEPENDS@/$depends/" \
	"$root/packaging/control" >"$stage/DEBIAN/control"
(cd "$stage" && find usr -type f -exec md5sum {} + | sort -k2) >"$stage/DEBIAN/md5sums"
# serve's config is the admin's once installed: dpkg keeps their changes on upgrade
(cd "$stage" && find etc -type f | sed 's|^|/|') >"$stage/DEBIAN/conffiles"
chmod -R u+rwX,go+rX,go-w "$stage"
mkdir -p "$out"
rm -f "$out"/bpfsyscalldist_*.deb
dpkg-deb --root-owner-group -Zxz --build "$stage" "$out/bpfsyscalldist_${version}_$arch.deb" >/dev/null
echo "$out/bpfsyscalldist_${version}_$arch.deb (Depends: $depends)"
