#!/bin/sh
# Prepares DIR so that a release build links libbpf, libelf, zlib and libyaml statically, from
# Debian's -dev packages: DIR holds links to their .a archives only, and pkg-config files that
# point the linker there first (-L DIR comes before the system's directory, where the .so are).
# The Swift runtime is linked statically by --static-swift-stdlib; libstdc++ and libgcc_s stay
# shared (every Debian and Ubuntu base system has them, and gcc 12's static libstdc++ would need
# glibc 2.36).
#   usage: scripts/static-libs.sh DIR; then PKG_CONFIG_PATH=DIR/pkgconfig swift build ...
set -eu
dir=$1
multiarch=$(gcc -print-multiarch)
mkdir -p "$dir/pkgconfig"
for lib in bpf elf z yaml; do
	archive=/usr/lib/$multiarch/lib$lib.a
	[ -r "$archive" ] || { echo "static-libs: $archive is missing (scripts/setup.sh installs it)" >&2; exit 1; }
	ln -sf "$archive" "$dir/lib$lib.a"
done
abs=$(cd "$dir" && pwd)
version() { pkg-config --modversion "$1"; }
cat >"$dir/pkgconfig/libbpf.pc" <<PC
Name: libbpf
Description: libbpf, linked statically with libelf and zlib
Version: $(PKG_CONFIG_PATH= version libbpf)
Libs: -L$abs -lbpf -lelf -lz
Cflags: -I/usr/include
PC
cat >"$dir/pkgconfig/libelf.pc" <<PC
Name: libelf
Description: libelf, linked statically with zlib
Version: $(PKG_CONFIG_PATH= version libelf)
Libs: -L$abs -lelf -lz
Cflags: -I/usr/include
PC
cat >"$dir/pkgconfig/yaml-0.1.pc" <<PC
Name: yaml-0.1
Description: libyaml, linked statically
Version: $(PKG_CONFIG_PATH= version yaml-0.1)
Libs: -L$abs -lyaml
Cflags: -I/usr/include
PC
