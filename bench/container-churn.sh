#!/usr/bin/env bash
# bench/container-churn.sh [SECONDS]: `serve` for SECONDS (default 600) while containers come and
# go, one after another, each new (a new name, a new cgroup), each making 5 getppid calls: podman
# (Debian's, with runc) running sd-workload from a root of its own. serve counts getppid by comm with labels: [namespace, pod, container] and --series-idle 30s,
# and is scraped every second. Prints every minute serve's RSS, the containers so far, the series
# on the page and the containers it named; at the end whether every container's 5 calls were
# counted under its own name, and how many calls went to containers gone before a walk of the
# cgroups (every second) named them. Nothing may grow with the containers but the gone-cgroup
# names (ContainerNames.goneKept at most).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
SECONDS_TO_RUN=${1:-600}
build_release
work=$(mktemp -d)
pids=""
# podman's default store (as the container tests use it), where serve finds each container's name
podman_in() {
	CONTAINERS_CONF=$work/containers.conf podman --storage-driver vfs --runtime runc --cgroup-manager cgroupfs "$@"
}
trap 'kill $pids 2>/dev/null; wait 2>/dev/null; podman_in rm -f --filter name=churn- >/dev/null 2>&1; rm -rf "$work"' EXIT
printf '[containers]\ndefault_ulimits = []\n' >"$work/containers.conf"
mkdir "$work/root"
gcc -static -O2 -pthread -o "$work/root/sd-workload" "$ROOT"/Sources/Tools/sd-workload/*.c
printf 'version: 1\nname: churn\nprobe: {syscall: getppid}\nkey: {source: comm, label: comm}\n' >"$work/churn.yaml"
printf 'series_idle: 30s\nprofiles:\n  - profile: %s\n    labels: [namespace, pod, container]\n' "$work/churn.yaml" >"$work/serve.yaml"

"$TOOL" serve --listen 127.0.0.1:0 --config "$work/serve.yaml" 2>"$work/serve.err" &
serve=$!
pids="$serve"
wait_attached "$work/serve.err" "$serve"
port=$(serve_port "$work/serve.err")
# container churn: one after another, each a new name and cgroup, each 5 getppid calls
(n=0; while :; do
	n=$((n + 1))
	podman_in run --rm --network none --name "churn-$n" --rootfs "$work/root" /sd-workload getppid 5 >/dev/null 2>&1 &&
		echo "$n" >"$work/containers"
done) &
pids="$pids $!"

/usr/bin/python3 - "$port" "$serve" "$SECONDS_TO_RUN" "$work/containers" <<'PY'
import http.client, re, sys, time
port, pid, duration, done_file = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
def rss():
    with open(f"/proc/{pid}/status") as status:
        return next(int(l.split()[1]) for l in status if l.startswith("VmRSS")) / 1024
def containers():
    try:
        return int(open(done_file).read())
    except (OSError, ValueError):
        return 0
# a container gone before a walk of the cgroups named it reads "cgroup ID (gone)" in every label
series = re.compile(r'^churn_latency_seconds_count\{comm="sd-workload",namespace="[^"]*",pod="[^"]*",container="([^"]*)"\} (\d+)', re.M)
connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
start, last, counted = time.monotonic(), -60, {}
print(f"{'minute':>6} {'RSS MiB':>8} {'containers':>10} {'series':>7} {'named':>6}")
while (now := time.monotonic()) - start < duration:
    connection.request("GET", "/metrics", headers={"Accept": "application/openmetrics-text"})
    page = series.findall(connection.getresponse().read().decode())
    counted.update((name, int(count)) for name, count in page)
    if now - last >= 60:
        last = now
        print(f"{(now - start) / 60:6.1f} {rss():8.1f} {containers():10d} {len(page):7d} {len(counted):6d}", flush=True)
    time.sleep(1)
made = containers()
named = sum(1 for n in range(1, made + 1) if counted.get(f"churn-{n}") == 5)
gone = sum(count for name, count in counted.items() if name.startswith("cgroup "))
print(f"end: RSS {rss():.1f} MiB; {made} containers, {named} counted exactly under their own name; "
      f"{len(counted)} names seen; calls under a gone cgroup's number: {gone}")
PY
