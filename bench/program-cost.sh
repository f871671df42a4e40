#!/usr/bin/env bash
# bench/program-cost.sh: what each BPF program costs per run, from the kernel's own accounting
# (kernel.bpf_stats_enabled: run_cnt, run_time_ns), and its instruction count; once as shipped
# (exit tail-calls the bucket step) and once built straight-line (-DSD_STRAIGHT_LINE), which
# prices the tail call. The stats add their own two clock reads per run, the same to both.
#   bench/program-cost.sh            # N=1000000 bpf(BPF_MAP_LOOKUP_ELEM) calls, 3 rounds
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
N=${N:-1000000}
ROUNDS=${ROUNDS:-3}
old=$(sysctl -n kernel.bpf_stats_enabled)
trap 'sysctl -qw kernel.bpf_stats_enabled=$old' EXIT
sysctl -qw kernel.bpf_stats_enabled=1

swift build -c release --package-path "$ROOT" --product bpfsyscalldist >&2
swift build -c release --package-path "$ROOT" --product sd-workload >&2
SD_BPF_CFLAGS=-DSD_STRAIGHT_LINE swift build -c release --package-path "$ROOT" \
	--scratch-path "$ROOT/.build-straight" --product bpfsyscalldist >&2

measure() { # variant tool args... -> "variant program runs ns/run insns" lines
	local variant=$1 tool=$2; shift 2
	"$tool" "$@" >/dev/null 2>/tmp/sd-cost.err &
	local pid=$!
	until grep -q '^Hit Ctrl-C' /tmp/sd-cost.err; do sleep 0.01; done
	"$ROOT/.build/release/sd-workload" lookup "$N" >/dev/null
	bpftool -j prog show | jq -r --arg v "$variant" '.[] | select(.name | startswith("sd_"))
		| select(.run_cnt > 0)
		| "\($v) \(.name) \(.run_cnt) \(.run_time_ns / .run_cnt | . * 10 | round / 10) \(.bytes_xlated / 8)"'
	kill -INT "$pid"; wait "$pid" || true
}

echo "variant program runs ns_per_run instructions"
for round in $(seq "$ROUNDS"); do
	measure tail "$ROOT/.build/release/bpfsyscalldist"
	measure straight "$ROOT/.build-straight/release/bpfsyscalldist"
	measure tail "$ROOT/.build/release/bpfsyscalldist" --probe-method raw_tp
	measure tail "$ROOT/.build/release/bpfsyscalldist" --probe-method tp_btf
done
