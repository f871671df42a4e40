#!/usr/bin/env bash
# bench/run.sh: what bpfsyscalldist costs per traced call, against the floor (empty programs on
# the same hooks) and the peers, with the shared harness (run-peers.sh: rotation, medians,
# readiness, startup, RSS). Each harness run measures its own baseline, so every ratio is
# against the same run. Needs root, bpftrace, bpftool, jq, libbpf-tools (syscount).
#
#   bench/run.sh                 # 5 rounds; results in $WORK/results/<ts>-{bpf,all}/ + extras.md
#   ROUNDS=3 bench/run.sh
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
PEERS=${PEERS:-$ROOT/../shared/bench/run-peers.sh}
WORK=${WORK:-/tmp/sd-bench}
export WORK ROUNDS=${ROUNDS:-5}
[ -x "$PEERS" ] || [ -f "$PEERS" ] || { echo "bench: no harness at $PEERS (set PEERS=)" >&2; exit 1; }
# the peers (bpftrace, syscount) need tracefs; bpfsyscalldist mounts it privately by itself
if ! [ -e /sys/kernel/tracing/events ] && ! [ -e /sys/kernel/debug/tracing/events ]; then
	mount -t tracefs tracefs /sys/kernel/tracing
	trap 'umount /sys/kernel/tracing' EXIT
fi
make -s -C "$ROOT" build >&2
swift build -c release --product sd-workload --package-path "$ROOT" >&2
TOOL=$ROOT/.build/release/bpfsyscalldist
WL=$ROOT/.build/release/sd-workload
stamp=$(date +%Y%m%d-%H%M%S)

# 1. bpf() per command: the origin tool's job. getppid shows what remains for other syscalls.
OUT=$WORK/results/$stamp-bpf CONFIGS="baseline floor bt_empty bt_bpf" EXACT=0 \
	TRACER_NAME=bpfsyscalldist TRACER_CMD="$TOOL" TRACER_READY='out:^Hit Ctrl-C' \
	bash "$PEERS"
# 2. every syscall: syscalldist against syscount -L and bpftrace's raw_syscalls histogram.
OUT=$WORK/results/$stamp-all CONFIGS="baseline floor_raw syscount bt_raw" EXACT=0 \
	WORKLOADS="getppid:${N_GETPPID:-6000000}" \
	TRACER_NAME=syscalldist TRACER_CMD="$TOOL --profile syscalldist" TRACER_READY='out:^Hit Ctrl-C' \
	bash "$PEERS"

# 3. the origin scenario, exact: 200 threads updating and deleting in one PROG_ARRAY
extras=$WORK/results/$stamp-extras.md
{
	echo "## 200 threads on one PROG_ARRAY"
	"$WL" --stop progarray 200 500 >"$WORK/pa.json" &
	wpid=$!
	until [ "$(awk '{print $3}' /proc/$wpid/stat 2>/dev/null)" = T ]; do sleep 0.01; done
	"$TOOL" -p "$wpid" -j >"$WORK/pa.out" 2>"$WORK/pa.err" &
	tpid=$!
	until grep -q '^Hit Ctrl-C' "$WORK/pa.err"; do sleep 0.01; done
	kill -CONT "$wpid"; wait "$wpid"
	kill -INT "$tpid"; wait "$tpid"
	echo '```'
	echo "workload: $(jq -c '{counts, errors}' "$WORK/pa.json")"
	echo "traced:   $(jq -c '[.histograms[] | {(.key): .count}] | add' "$WORK/pa.out")"
	echo "dropped:  $(jq -c '.accounting.dropped' "$WORK/pa.out")"
	echo '```'

	# 4. instructions the kernel runs per program (xlated), for the two shipped defaults
	echo "## Instructions per program"
	for args in "" "--profile syscalldist"; do
		"$TOOL" $args >/dev/null 2>"$WORK/ic.err" &
		tpid=$!
		until grep -q '^Hit Ctrl-C' "$WORK/ic.err"; do sleep 0.01; done
		echo "profile ${args:-bpfsyscalldist} ($(grep -o 'Attached [a-z_]*' "$WORK/ic.err" | head -1 | cut -d' ' -f2)):"
		echo '```'
		bpftool -j prog show | jq -r '.[] | select(.name | startswith("sd_")) | "\(.name) \(.bytes_xlated / 8)"'
		echo '```'
		kill -INT "$tpid"; wait "$tpid" || true
	done
} >"$extras"
echo "bench: results in $WORK/results/$stamp-{bpf,all}/summary.md and $extras" >&2
