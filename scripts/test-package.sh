#!/bin/sh
# The Debian package on a clean Debian 12 (debootstrap --variant=minbase bookworm, no Swift
# toolchain inside): lintian finds nothing to warn about; it installs with dpkg -i; the binaries
# link nothing outside the base system; --version, --list-profiles and --check work; serve runs
# from the installed config; a real trace counts a workload exactly; it removes cleanly. Then the
# tarball of `make dist`, unpacked into /usr/local of the same root, finds its profiles, traces
# and serves from its own config. Run by `make test` (as root).
#   usage: scripts/test-package.sh PACKAGE.deb TARBALL.tar.gz
set -eu
deb=$(readlink -f "$1")
tarball=$(readlink -f "$2")
root=$(cd "$(dirname "$0")/.." && pwd)
test_name=test-package
. "$root/scripts/test-lib.sh"

work=$(mktemp -d)
sys=$work/merged
cleanup() {
	umount -R "$sys/sys" "$sys/dev" "$sys/proc" 2>/dev/null || true
	umount "$sys" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT
mkdir "$work/extracted"
dpkg-deb -x "$deb" "$work/extracted"
binaries="$work/extracted/usr/bin/bpfsyscalldist $work/extracted/usr/bin/bpfsyscalldist-serve"
lintian --fail-on error,warning "$deb" >/tmp/sd-lintian.log 2>&1 && pass "lintian: no error or warning" ||
	fail "lintian: $(cat /tmp/sd-lintian.log)"

# glibc 2.34 is the oldest it may need (Debian 12, Ubuntu 22.04, RHEL 9): README says so
newest=$(for binary in $binaries; do objdump -T "$binary"; done | grep -oE 'GLIBC_[0-9]+\.[0-9]+' | sort -uV | tail -1)
[ "$newest" = GLIBC_2.34 ] || [ "$(printf '%s\nGLIBC_2.34\n' "$newest" | sort -V | tail -1)" = GLIBC_2.34 ] &&
	pass "needs glibc 2.34 at most ($newest)" || fail "needs $newest, newer than glibc 2.34"

# a pristine root file system, made once and kept (a new clone makes it again: about 30 s)
pristine=$root/.build-rootfs/bookworm
if [ ! -e "$pristine/.complete" ]; then
	rm -rf "$pristine"
	mkdir -p "$pristine"
	debootstrap --variant=minbase bookworm "$pristine" >"$root/.build-rootfs/debootstrap.log" 2>&1 ||
		{ echo "test-package: debootstrap failed, see .build-rootfs/debootstrap.log" >&2; exit 1; }
	touch "$pristine/.complete"
fi
# every run on a copy-on-write layer over it
mkdir "$work/upper" "$work/work" "$sys"
mount -t overlay overlay -o "lowerdir=$pristine,upperdir=$work/upper,workdir=$work/work" "$sys"
workload=$work/sd-workload
build_workload "$workload"
mount -t proc proc "$sys/proc"
mount --rbind /sys "$sys/sys"
mount --rbind /dev "$sys/dev"
in_root() { chroot "$sys" "$@"; }

[ ! -e "$sys/opt/swift" ] && ! in_root sh -c 'command -v swift' >/dev/null && pass "no Swift toolchain inside" ||
	fail "the root file system has a Swift toolchain"
cp "$deb" "$workload" "$sys/tmp/"
if in_root dpkg -i "/tmp/$(basename "$deb")" >"$work/dpkg.log" 2>&1; then
	pass "dpkg -i"
else
	fail "dpkg -i: $(cat "$work/dpkg.log")"
fi
version=$(dpkg-deb -f "$deb" Version)
[ "$(in_root bpfsyscalldist --version 2>&1)" = "$version" ] && pass "--version is $version" ||
	fail "--version: $(in_root bpfsyscalldist --version 2>&1)"
in_root bpfsyscalldist --list-profiles 2>&1 | grep -q '^syscalldist .*\[/usr/share/bpfsyscalldist/profiles/syscalldist.yaml\]' &&
	pass "--list-profiles finds the installed profiles" || fail "--list-profiles: $(in_root bpfsyscalldist --list-profiles 2>&1)"
in_root bpfsyscalldist --check bpfsyscalldist 2>&1 | grep -q '^probe: *syscall bpf' && pass "--check" ||
	fail "--check: $(in_root bpfsyscalldist --check bpfsyscalldist 2>&1)"
# what the binary links: glibc, libstdc++ and libgcc_s (the base system), nothing else
unexpected=$( (in_root ldd /usr/bin/bpfsyscalldist; in_root ldd /usr/bin/bpfsyscalldist-serve) | awk '{ print $1 }' | sort -u |
	grep -vE '^(linux-vdso\.so\.1|libc\.so\.6|libm\.so\.6|libstdc\+\+\.so\.6|libgcc_s\.so\.1|/lib.*/ld-linux.*\.so\.[0-9])$' || true)
[ -z "$unexpected" ] && pass "links only glibc, libstdc++ and libgcc_s" || fail "links more: $unexpected"

# a real trace, inside, by BINARY: the workload stops itself, the tool attaches, the workload
# resumes (chroot execs what it runs: $! is then the workload's pid, and the tool's)
trace_counts_exactly() {
	rm -f "$work/trace.err" # a fresh file: the wait below must not see the previous run's line
	chroot "$sys" /tmp/sd-workload --stop bpf-mix 60 >"$work/workload.json" &
	wpid=$!
	wait_stopped "$wpid"
	chroot "$sys" "$1" -p "$wpid" -j >"$work/trace.json" 2>"$work/trace.err" &
	tpid=$!
	wait_line "$work/trace.err" 'Hit Ctrl-C' "$tpid"
	kill -CONT "$wpid"
	wait "$wpid" || true # its report, or its absence, is judged below
	kill -INT "$tpid"
	wait "$tpid" || true
	same_counts "$work/workload.json" "$work/trace.json" && pass "$1: a trace inside counts the workload exactly" ||
		fail "$1: trace: issued $issued, traced $traced; $(cat "$work/trace.err")"
}

# serve by BINARY as the systemd unit runs it, from CONFIG (on a port the kernel picks)
serve_answers() {
	rm -f "$work/serve.err"
	chroot "$sys" "$1" serve --config "$2" --listen 127.0.0.1:0 2>"$work/serve.err" &
	spid=$!
	wait_line "$work/serve.err" 'Hit Ctrl-C' "$spid"
	port=$(sed -n 's|^note: serving http://127.0.0.1:\([0-9]*\)/metrics.*|\1|p' "$work/serve.err")
	curl -sf "http://127.0.0.1:${port:-0}/metrics" | grep -q '^bpfsyscalldist_calls_counted_total ' &&
		pass "$1: serve answers from $2" || fail "$1: serve: $(cat "$work/serve.err")"
	kill -TERM "$spid" 2>/dev/null
	wait "$spid" && pass "$1: serve exits 0 on SIGTERM" || fail "$1: serve: exit $?"
}

trace_counts_exactly bpfsyscalldist
serve_answers bpfsyscalldist /etc/bpfsyscalldist/serve.yaml

files=$(in_root dpkg -L bpfsyscalldist | while read -r f; do [ -d "$sys$f" ] || echo "$f"; done)
in_root dpkg --purge bpfsyscalldist >"$work/purge.log" 2>&1 || fail "dpkg --purge: $(cat "$work/purge.log")"
left=$(for f in $files; do [ -e "$sys$f" ] || [ -L "$sys$f" ] && echo "$f"; done || true)
[ -z "$left" ] && pass "dpkg --purge removes every file" || fail "left after purge: $left"

# the tarball, unpacked into /usr/local as its README says: profiles beside the binary, its own
# serve config where the unit it ships expects it
tar -xzf "$tarball" -C "$sys/usr/local" --strip-components=1 || fail "tarball: does not unpack"
tool=/usr/local/bin/bpfsyscalldist
in_root "$tool" --list-profiles 2>&1 | grep -q '^syscalldist .*\[/usr/local/share/bpfsyscalldist/profiles/syscalldist.yaml\]' &&
	pass "tarball: --list-profiles finds its profiles" || fail "tarball: --list-profiles: $(in_root "$tool" --list-profiles 2>&1)"
grep -q "^ExecStart=$tool serve --config /usr/local/etc/bpfsyscalldist/serve.yaml" \
	"$sys/usr/local/lib/systemd/system/bpfsyscalldist.service" && pass "tarball: the unit runs what it unpacked" ||
	fail "tarball: the unit's ExecStart: $(grep ExecStart "$sys/usr/local/lib/systemd/system/bpfsyscalldist.service")"
trace_counts_exactly "$tool"
serve_answers "$tool" /usr/local/etc/bpfsyscalldist/serve.yaml

finish
