#!/usr/bin/env bash
# make test-kernels: the real-kernel test classes, built once here, run inside
# other kernels: Debian's newest 5.10 (bullseye), 6.1 and 6.12 (bookworm) packages, booted under
# qemu (software emulation: this VM's KVM fails) by virtme-ng with this machine's files as their
# root. Prints one line per kernel, "kernel VERSION: N passed, M failed, K skipped", and exits
# non-zero when a test failed, a kernel did not boot, or a kernel package could not be had (that
# kernel's line says so, and the others still run). The host kernel is `make test`'s.
#
# One vCPU per guest, and the guests side by side (each then has a host CPU of its own): with
# two vCPUs, qemu's multi-threaded TCG mishandles the kernel's live code patching (text_poke_bp,
# which every tracepoint attach and detach does to the syscall path): guests died of
# "Oops: int3" in syscall_trace_enter (6.12) or spun forever on a half-patched jump in
# syscall_exit_to_user_mode (5.10, RCU stall). A tracefs enable/disable loop beside a syscall
# loop reproduces it within seconds with two vCPUs (and never in 3,000 flips with one); qemu's
# single-threaded TCG avoids it too, but waits its 100 ms kick for every patching IPI.
# The guests' CPU is a Nehalem (SSE4.2, no AVX): TCG emulates glibc's AVX2 string and memory
# routines slowly, and the tool starts in half the time without them (1.6 s, not 3.3 s).
# A guest that does not finish is booted once more, and its line says so with the first lines of
# what its kernel said (an Oops, a lockup); twice, it fails.
# Installs what it needs, idempotently: qemu-system-x86, busybox-static, the kernel packages
# (into /boot and /lib/modules: this VM does not boot from them), virtme-ng in a venv.
# Then two guests whose *possible* CPUs are many while one is online, as on a VM sized for
# hot-plug (per-CPU maps are allocated for every possible CPU): 6.1 with possible_cpus=256 and
# 5.10 with possible_cpus=128 run the classes that size and read the maps (ManyCPUTests, the
# memory and exact-count classes). possible_cpus= sets the count up to 6.8; from 6.9 on it is only
# a ceiling under the firmware's tables, which under emulation list no hot-plug CPUs, so 6.12
# does not take part there. 6.12 runs the same classes on 32 online vCPUs instead, under qemu's
# single-threaded TCG (the multi-threaded one breaks live code patching, above): each CPU runs
# the bucket steps, and the workloads' threads spread over all of them.
# A skip is a failure unless it is the one each kernel expects (EXPECTED_SKIPS): were the
# trampoline or kprobe detection to regress, the kernel-function tests would skip and stay green.
#   usage: scripts/test-kernels.sh [SERIES...]      e.g. 6.1 5.10; default: 5.10 6.1 6.12
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
CACHE=$ROOT/.build-kernels
SERIES=("${@:-5.10 6.1 6.12}")
read -r -a SERIES <<<"${SERIES[*]}"
mkdir -p "$CACHE/logs" "$CACHE/out"
started=$SECONDS
log() { echo "test-kernels: $*" >&2; }

missing=""
for p in qemu-system-x86 busybox-static; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
	log "installing$missing"
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null ||
		{ log "cannot install$missing"; exit 1; }
fi
if [ ! -x "$CACHE/venv/bin/vng" ]; then
	log "installing virtme-ng"
	python3 -m venv "$CACHE/venv" && "$CACHE/venv/bin/pip" install -q virtme-ng==1.42 ||
		{ log "cannot install virtme-ng"; exit 1; }
fi
export PATH=$CACHE/venv/bin:$PATH

# Debian 11's kernels come from the bullseye and bullseye-security suites: a private sources list
# on the mirrors this machine's apt already uses (no address is written here), private lists and
# cache (apt wants absolute paths there), nothing else changed.
bullseye_apt() {
	local main security dir=$CACHE/bullseye-apt sources=/etc/apt/sources.list.d/*.sources
	main=$(awk '$1 == "URIs:" && $2 !~ /security/ { print $2; exit }' $sources 2>/dev/null)
	security=$(awk '$1 == "URIs:" && $2 ~ /security/ { print $2; exit }' $sources 2>/dev/null)
	[ -n "$main" ] || return 1
	mkdir -p "$dir/lists/partial" "$dir/cache/archives/partial"
	{
		echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $main bullseye main"
		[ -z "$security" ] || echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $security bullseye-security main"
	} >"$dir/sources.list"
	local tool=$1
	shift
	"$tool" -q -o Dir::Etc::SourceList="$dir/sources.list" -o Dir::Etc::SourceParts=/dev/null \
		-o Dir::State::Lists="$dir/lists" -o Dir::Cache="$dir/cache" "$@"
}

# The newest installable kernel of a series, installed if it is not: prints its version.
kernel_of() {
	local series=$1 pattern package version
	case $series in
	5.10) pattern='^linux-image-5\.10\.0-[0-9]+-amd64$' ;;
	6.1) pattern='^linux-image-6\.1\.0-[0-9]+-amd64$' ;;
	6.12) pattern='^linux-image-6\.12\.[0-9]+\+deb12-amd64$' ;;
	*) log "unknown series $series"; return 1 ;;
	esac
	if [ "$series" = 5.10 ]; then
		bullseye_apt apt-get update >/dev/null 2>&1 || return 1
		package=$(bullseye_apt apt-cache pkgnames linux-image- | grep -E "$pattern" | sort -V | tail -1)
	else
		package=$(apt-cache pkgnames linux-image- | grep -E "$pattern" | sort -V | tail -1)
		if [ -z "$package" ]; then # lists too old or missing: once more after an update
			apt-get update -qq >/dev/null 2>&1
			package=$(apt-cache pkgnames linux-image- | grep -E "$pattern" | sort -V | tail -1)
		fi
	fi
	[ -n "$package" ] || return 1
	version=${package#linux-image-}
	if [ ! -e "/boot/vmlinuz-$version" ] || [ ! -d "/lib/modules/$version" ]; then
		log "installing $package"
		if [ "$series" = 5.10 ]; then
			# apt, not dpkg -i: a fresh machine lacks the package's dependencies (linux-base,
			# kmod, initramfs-tools), which bookworm has
			(cd "$CACHE" && rm -f linux-image-*.deb && bullseye_apt apt-get download "$package" >/dev/null 2>&1 &&
				DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends ./linux-image-5.10*.deb \
					>"$CACHE/logs/install-$series.log" 2>&1) || return 1
		else
			DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$package" \
				>"$CACHE/logs/install-$series.log" 2>&1 || return 1
		fi
	fi
	echo "$version"
}

# The suite, built once here; the guests run these very binaries from this machine's files.
# The tool under test is the one users install: the .deb's stripped binaries, unpacked here.
(cd "$ROOT" && swift build --build-tests >"$CACHE/logs/build.log" 2>&1 &&
	make -s deb DIST="$CACHE/deb" >>"$CACHE/logs/build.log" 2>&1 && rm -rf "$CACHE/package" &&
	dpkg-deb -x "$CACHE"/deb/bpfsyscalldist_*.deb "$CACHE/package") ||
	{ log "the build failed: $CACHE/logs/build.log"; exit 1; }

cat >"$CACHE/guest.sh" <<'GUEST'
#!/bin/sh
# inside the guest: the real-kernel tests against the packaged release binary (under emulation
# it starts in half the debug one's time), then that binary alone (one self-contained file). Not
# run here: the unit tests, CommandLineUsageTests, and serve's HTTP, Prometheus and OTLP classes, which no kernel
# changes (the tracer under serve is what every other class tests; make test runs them all).
root=$1 out=$2
cd "$root" || exit 1
uname -r >"$out/uname"
tests=.build/debug/bpfsyscalldistPackageTests.xctest
if [ -n "${3:-}" ]; then # many CPUs: the classes that size and read the maps
	classes=$3
else
	classes=$($tests --list-tests | grep '^KernelTests\.' | cut -d/ -f1 | sort -u | grep -v -E '\.(CommandLineUsageTests|ServeTests|ServeHardeningTests|PrometheusTests|OTLPTests|ReportTests|HostScaleTests|ContainerTests)$' | paste -sd,)
fi
cat /sys/devices/system/cpu/possible >"$out/possible"
cat /sys/devices/system/cpu/online >"$out/online"
tool=$root/.build-kernels/package/usr/bin/bpfsyscalldist # the .deb's, stripped
SD_TEST_TOOL=$tool $tests "$classes" >"$out/tests.log" 2>&1
"$tool" -d 1 -j >"$out/release.json" 2>"$out/release.err"
echo $? >"$out/release.status"
GUEST

# The classes the guests with many CPUs (possible or online) run; OffCPUTests for the time split
# and the wait-site maps, sized per possible CPU (on 5.10 it checks the refusal).
MANY_CPU_CLASSES=KernelTests.ManyCPUTests,KernelTests.ProductionHostTests,KernelTests.CountingTruthTests,KernelTests.BucketStepKernelTests,KernelTests.OffCPUTests

# Boots a guest (a kernel VERSION; VERSION_possibleN for one with N possible CPUs, one online;
# VERSION_cpusN for N online; virtme-ng takes no '@' in a path) and runs the suite in it; its
# results land in out/GUEST.
boot() {
	local guest=$1 version=${1%%_*} out=$CACHE/out/$1 t0=$SECONDS append="" classes="" cpus=1 qemu="-cpu Nehalem"
	case $guest in
	*_possible*) append="possible_cpus=${guest#*_possible}" classes=$MANY_CPU_CLASSES ;;
	*_cpus*) cpus=${guest#*_cpus} qemu="$qemu -accel tcg,thread=single" classes=$MANY_CPU_CLASSES ;;
	esac
	rm -rf "$out" && mkdir -p "$out"
	# --verbose: the guest kernel's own messages go to the console log, for a post-mortem
	timeout "$GUEST_TIMEOUT" vng --verbose --disable-kvm --cpus "$cpus" --qemu-opts="$qemu" ${append:+--append "$append"} \
		--run "/boot/vmlinuz-$version" --user root --memory 2G --rwdir "$out" \
		--exec "sh $CACHE/guest.sh $ROOT $out $classes" >"$CACHE/logs/$guest.console" 2>&1
	echo "$((SECONDS - t0))" >>"$CACHE/logs/$guest.seconds"
}

# The skips a kernel may have: the test of the error for a kernel without kprobes (every kernel
# here has them). Any other skip fails its line.
EXPECTED_SKIPS="CommandLineTests.testKernelFunctionWithoutFentryOrKprobesSaysWhyInOneLine"

finished() { grep -qs "^Test Suite 'Selected tests' \(passed\|failed\)" "$CACHE/out/$1/tests.log"; }

# The first lines of trouble the guest kernel printed, in one line.
kernel_said() {
	grep -E "Oops|BUG:|soft lockup|rcu: INFO|Kernel panic|RIP: 0010" "$1" 2>/dev/null | head -4 |
		sed -E 's/^\[ *[0-9.]+\] //' | tr '\n' ';' | cut -c1-400
}

# Seconds a guest may take (the suite takes 6-10 min in one alone on this machine kind).
GUEST_TIMEOUT=${GUEST_TIMEOUT:-1500}
failed=0
versions=()
many=()
for series in "${SERIES[@]}"; do
	version=$(kernel_of "$series")
	if [ -z "$version" ]; then
		echo "kernel $series: NOT RUN: no installable Debian package of this series (see $CACHE/logs)"
		failed=1
		continue
	fi
	versions+=("$version")
	case $series in
	6.1) many+=("${version}_possible256") ;;
	5.10) many+=("${version}_possible128") ;;
	6.12) many+=("${version}_cpus32") ;;
	esac
done

declare -A retried
for version in "${versions[@]}"; do rm -f "$CACHE/logs/$version.seconds"; done
for attempt in 1 2; do
	for version in "${versions[@]}"; do
		[ "$attempt" = 1 ] || ! finished "$version" || continue
		if [ "$attempt" = 2 ]; then
			hung=$(grep "^Test Case '.*' started" "$CACHE/out/$version/tests.log" 2>/dev/null | tail -1 | cut -d"'" -f2)
			mv "$CACHE/logs/$version.console" "$CACHE/logs/$version.console.first"
			retried[$version]="; SECOND BOOT: the first did not finish after ${hung:-boot} (logs/$version.console.first: $(kernel_said "$CACHE/logs/$version.console.first"))"
			log "kernel $version: the guest did not finish (after ${hung:-boot}); booting it once more"
		fi
		boot "$version" "$attempt" &
	done
	wait
done
# the guests with many CPUs, side by side once the others are done (one attempt)
for guest in "${many[@]}"; do
	rm -f "$CACHE/logs/$guest.seconds"
	boot "$guest" 1 &
done
wait

for version in "${versions[@]}" "${many[@]}"; do
	out=$CACHE/out/$version
	if [ "$(cat "$out/uname" 2>/dev/null)" != "${version%%_*}" ] || [ ! -s "$out/tests.log" ]; then
		echo "kernel $version: DID NOT BOOT or did not run the tests (see $CACHE/logs/$version.console)${retried[$version]:-}"
		failed=1
		continue
	fi
	passed=$(grep -c "^Test Case '.*' passed" "$out/tests.log")
	failures=$(grep -c "^Test Case '.*' failed" "$out/tests.log")
	skipped=$(grep -c "^Test Case '.*' skipped" "$out/tests.log")
	unexpected=$(grep "^Test Case '.*' skipped" "$out/tests.log" | cut -d"'" -f2 | grep -v -x -F "$EXPECTED_SKIPS" | paste -sd, -)
	[ -z "$unexpected" ] || { unexpected="; UNEXPECTED SKIPS: $unexpected"; failed=1; }
	possible=""
	case $version in *_possible*)
		possible="; possible CPUs $(cat "$out/possible" 2>/dev/null)"
		[ "$(cat "$out/possible" 2>/dev/null)" = "0-$((${version#*_possible} - 1))" ] || { possible="$possible, NOT ${version#*_possible}"; failed=1; }
		;;
	*_cpus*)
		possible="; online CPUs $(cat "$out/online" 2>/dev/null)"
		[ "$(cat "$out/online" 2>/dev/null)" = "0-$((${version#*_cpus} - 1))" ] || { possible="$possible, NOT ${version#*_cpus}"; failed=1; }
		;;
	esac
	# a guest that hung or crashed leaves the log without XCTest's last line: say so, and fail
	unfinished=""
	finished "$version" || {
		unfinished="; DID NOT FINISH after $(grep "^Test Case '.*' started" "$out/tests.log" | tail -1 | cut -d"'" -f2) ($(kernel_said "$CACHE/logs/$version.console"))"
		failed=1
	}
	release="release binary ok"
	if [ ! -e "$out/release.status" ]; then
		release="release binary not run"
		failed=1
	elif [ "$(cat "$out/release.status")" != 0 ]; then
		release="release binary FAILED: $(head -c 300 "$out/release.err")"
		failed=1
	fi
	seconds=$(awk "{ s += \$1 } END { print s }" "$CACHE/logs/$version.seconds")
	echo "kernel $version: $passed passed, $failures failed, $skipped skipped$unexpected$unfinished$possible; $release ($seconds s)${retried[$version]:-}"
	[ "$failures" -eq 0 ] && [ "$passed" -gt 0 ] || failed=1
	grep -E "^Test Case '.*' failed" "$out/tests.log" | sed 's/^/    /'
	# what failed, from the assertion's own message, so that CI's output alone tells why
	grep -E ": error: " "$out/tests.log" | head -5 | sed -E "s|^$ROOT/||" | cut -c1-600 | sed 's/^/      /'
done
log "done in $(((SECONDS - started) / 60)) min $(((SECONDS - started) % 60)) s; logs in $CACHE"
exit $failed
