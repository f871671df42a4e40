#!/bin/sh
# The OCI image of `make oci`, loaded and run by a real podman (Debian's, with runc, its storage
# in a scratch directory so that nothing stays in the host's): it names itself as the archive
# says; it has no shell; --version and --list-profiles work; run with the host's pid namespace it
# counts a host process exactly, privileged and with no more than contrib/daemonset.yaml grants
# (CAP_BPF and CAP_PERFMON, seccomp unconfined, a read-only root); under podman's default seccomp
# profile it says why not in one line and exits 1; its default command serves; the tool's config
# serves /metrics; nothing it attached outlives its container. Run by `make test` (as root).
#   usage: scripts/test-oci.sh IMAGE-oci.tar
set -eu
archive=$(readlink -f "$1")
root=$(cd "$(dirname "$0")/.." && pwd)
test_name=test-oci
. "$root/scripts/test-lib.sh"

work=$(mktemp -d)
# podman's default ulimits are more than runc may set in this VM's cgroups
printf '[containers]\ndefault_ulimits = []\n' >"$work/containers.conf"
# everything podman keeps under $work: its store, run state, temporary files and networks
in_podman() {
	CONTAINERS_CONF=$work/containers.conf podman --root "$work/storage" --runroot "$work/run" --tmpdir "$work/tmp" \
		--network-config-dir "$work/networks" --storage-driver vfs --runtime runc --cgroup-manager cgroupfs "$@"
}
cleanup() {
	in_podman rm -f -a >/dev/null 2>&1 || true
	in_podman rmi -f -a >/dev/null 2>&1 || true
	# the host directories the DaemonSet's hostPath volumes made (DirectoryOrCreate), as a kubelet would
	[ -f "$work/daemonset/created" ] && xargs -r rmdir <"$work/daemonset/created" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
bpf_ids() { bpftool -j prog show | python3 -c 'import json,sys; print(sorted(p["id"] for p in json.load(sys.stdin)))'; }
programs_before=$(bpf_ids)

# the name the archive gives its image (org.opencontainers.image.ref.name)
image=$(tar -xOf "$archive" ./index.json | python3 -c 'import json,sys; print(json.load(sys.stdin)["manifests"][0]["annotations"]["org.opencontainers.image.ref.name"])')
loaded=$(in_podman load -i "$archive" 2>&1 | sed -n 's/^Loaded image: //p')
[ "$loaded" = "$image" ] && pass "podman loads it as $image" || fail "podman load: '$loaded', not $image"
[ "$(in_podman run --rm "$image" --version 2>&1)" = "${image##*:}" ] && pass "--version is its tag, ${image##*:}" ||
	fail "--version: $(in_podman run --rm "$image" --version 2>&1)"
in_podman run --rm "$image" --list-profiles 2>&1 | grep -q '^bpfsyscalldist .*\[/usr/share/bpfsyscalldist/profiles/bpfsyscalldist.yaml\]' &&
	pass "--list-profiles finds its profiles" || fail "--list-profiles: $(in_podman run --rm "$image" --list-profiles 2>&1)"
in_podman run --rm --entrypoint /bin/sh "$image" -c true >/dev/null 2>&1 && fail "the image has a shell" ||
	pass "no shell inside"

workload=$work/sd-workload
build_workload "$workload"

# the tool in the image, given the host's pids and PODMAN_OPTIONS, traces a host process exactly
trace_host_process() {
	label=$1
	shift
	rm -f "$work/trace.err"
	"$workload" --stop bpf-mix 60 >"$work/workload.json" &
	wpid=$!
	wait_stopped "$wpid"
	in_podman run --rm --name sd-trace --pid=host "$@" "$image" -p "$wpid" -j >"$work/trace.json" 2>"$work/trace.err" &
	tpid=$!
	wait_line "$work/trace.err" 'Hit Ctrl-C' "$tpid"
	kill -CONT "$wpid"
	wait "$wpid" || true # its report, or its absence, is judged below
	in_podman kill --signal INT sd-trace >/dev/null 2>&1 || true
	wait "$tpid" || true
	same_counts "$work/workload.json" "$work/trace.json" && pass "$label: counts a host process exactly" ||
		fail "$label: issued $issued, traced $traced; $(cat "$work/trace.err")"
}
trace_host_process privileged --privileged
# the container of contrib/daemonset.yaml as podman can run it: its privileges, mounts and args
mkdir "$work/daemonset"
python3 "$root/scripts/daemonset-podman.py" "$root/contrib/daemonset.yaml" "$work/daemonset"
daemonset=$(cat "$work/daemonset/options")
# shellcheck disable=SC2086 # one option a word
trace_host_process "with the DaemonSet's privileges ($(echo $daemonset | grep -o 'cap-add=[^ ]*'))" $daemonset

# a container of the host's podman, named by the tool in its own container through the
# DaemonSet's mounts (the host's /sys: its cgroup tree) and podman's state, mounted as the
# DaemonSet mounts containerd's: `--container` counts the calls of the container (privileged: it
# calls bpf()) exactly
mkdir "$work/workload-root"
gcc -static -O2 -pthread -o "$work/workload-root/sd-workload" "$root"/Sources/Tools/sd-workload/*.c
in_podman run -d --name sd-work --network none --privileged --rootfs "$work/workload-root" /sd-workload --stop bpf-mix 40 >/dev/null
# as pid 1 it runs the mode in a child, which stops itself
init=$(in_podman inspect -f '{{.State.Pid}}' sd-work)
for _ in $(seq 3000); do child=$(pgrep -P "$init") && break; sleep 0.01; done
wait_stopped "$child"
rm -f "$work/trace.err"
# shellcheck disable=SC2086
in_podman run --rm --name sd-trace $daemonset --volume="$work/storage:/var/lib/containers/storage:ro" "$image" \
	--container sd-work -j >"$work/trace.json" 2>"$work/trace.err" &
tpid=$!
wait_line "$work/trace.err" '^note: counting container sd-work' "$tpid"
wait_line "$work/trace.err" 'Hit Ctrl-C' "$tpid"
kill -CONT "$child"
in_podman wait sd-work >/dev/null
in_podman logs sd-work >"$work/workload.json" 2>/dev/null
in_podman kill --signal INT sd-trace >/dev/null 2>&1 || true
wait "$tpid" || true
same_counts "$work/workload.json" "$work/trace.json" && pass "--container in the image counts a container exactly" ||
	fail "--container: issued $issued, traced $traced; $(cat "$work/trace.err")"

# podman's default seccomp profile, which allows bpf() only with CAP_SYS_ADMIN
seccomp_filtered=$(grep -v '^--security-opt=seccomp=unconfined$' "$work/daemonset/options")
# shellcheck disable=SC2086
refusal=$(in_podman run --rm $seccomp_filtered "$image" -d 1 2>&1) && status=0 || status=$?
[ "$status" = 1 ] && [ "$(echo "$refusal" | grep -c '^bpfsyscalldist: error: bpf() is refused')" = 1 ] &&
	[ "$(echo "$refusal" | grep -c '^bpfsyscalldist:')" = 1 ] && echo "$refusal" | grep -q "seccomp unconfined" &&
	pass "the DaemonSet's privileges but seccomp filtered: one line, exit 1" || fail "seccomp filtered: exit $status: $refusal"

# serving in container NAME, in a network namespace of its own, while the host's workload makes
# bpf() calls: its /metrics, scraped from inside that namespace by the host's curl, has a line
# matching PATTERN: `serves NAME LABEL PATTERN PODMAN-RUN-ARGUMENTS...`
serves() {
	name=$1 label=$2 pattern=$3
	shift 3
	in_podman run -d --name "$name" --network none "$@" >/dev/null
	for _ in $(seq 500); do in_podman logs "$name" 2>&1 | grep -q 'Hit Ctrl-C' && break; sleep 0.02; done
	"$workload" bpf-mix 10 >/dev/null
	sleep 1.5 # serve reads the kernel's counts every second
	pid=$(in_podman inspect -f '{{.State.Pid}}' "$name")
	nsenter -t "$pid" -n curl -sf http://127.0.0.1:9435/metrics >"$work/metrics" || true
	grep -q "$pattern" "$work/metrics" && pass "$label: /metrics has $pattern" ||
		fail "$label: no $pattern in /metrics: $(grep _count "$work/metrics" | head -5); $(in_podman logs "$name" 2>&1)"
	in_podman stop -t 10 "$name" >/dev/null
	[ "$(in_podman inspect -f '{{.State.ExitCode}}' "$name")" = 0 ] && pass "$label: exits 0 when its container stops" ||
		fail "$label: exit $(in_podman inspect -f '{{.State.ExitCode}}' "$name")"
}
# the image's own config, not the ConfigMap's
image_config=$(grep -v ':/etc/bpfsyscalldist:' "$work/daemonset/options")
# shellcheck disable=SC2086
serves sd-default "the image's default command" '^bpfsyscalldist_latency_seconds_count{cmd="BPF_MAP_CREATE"} ' \
	$image_config "$image"
# the ConfigMap labels each call with its namespace, pod and container: the host's are "-"
# shellcheck disable=SC2046,SC2086
serves sd-daemonset "the DaemonSet's serve and config" \
	'^bpfsyscalldist_latency_seconds_count{cmd="BPF_MAP_CREATE",namespace="-",pod="-",container="-"} ' \
	$daemonset $(cat "$work/daemonset/command")

for _ in $(seq 500); do [ "$(bpf_ids)" = "$programs_before" ] && break; sleep 0.01; done
[ "$(bpf_ids)" = "$programs_before" ] && pass "no BPF program outlives its container" ||
	fail "programs left: before $programs_before, after $(bpf_ids)"
finish
