#!/usr/bin/env bash
# bench/switch-cost.sh: what --off-cpu's scheduler hooks cost per context switch, per wakeup and
# per lock wait, above an empty program on the same hooks (hot-path/parts.bpf.c, sched_empty):
# the floor any tracer of those hooks pays. The hooks run for every thread on the host, so the
# case that matters is a thread in no traced call.
#   pipe: `perf bench sched pipe` pinned to one CPU, LOOPS round trips (each two switches and
#         two wakeups). Wall: ns per round trip above the same round's baseline (nothing
#         attached). Body: each program's ns per run (kernel.bpf_stats_enabled; the stats' own
#         two clock reads are in every figure, the empty program's too: compare, don't add).
#   lock: `sd-workload progarray 8 LOCK_N` (8 threads on one PROG_ARRAY: its mutexes contend),
#         body only.
# Tracers: empty; split (--off-cpu on bpf(): the pipe's threads are in no traced call and have no
# task storage); slow (--slower-than 10s: the switch hook alone); split-read (--off-cpu on
# read(): the pipe's threads block inside a traced call, the costly case; under the progarray's
# lock waits, split is a thread inside a traced call and split-read one in none).
#   bench/switch-cost.sh            # ROUNDS=5 LOOPS=200000 LOCK_N=50000
set -euo pipefail
. "$(dirname "$0")/lib.sh"
ROUNDS=${ROUNDS:-5}
LOOPS=${LOOPS:-200000}
LOCK_N=${LOCK_N:-50000}
WORK=${WORK:-/tmp/sd-switch-cost}
mkdir -p "$WORK"
for tool in perf bpftool jq; do
	command -v "$tool" >/dev/null || { echo "bench: needs $tool (apt-get install $tool)" >&2; exit 1; }
done
build_release
arch=$(uname -m)
clang -O2 -g -target bpf -D__TARGET_ARCH_${arch/x86_64/x86} -I/usr/include/"$arch"-linux-gnu \
	-c "$ROOT/bench/hot-path/parts.bpf.c" -o "$WORK/parts.bpf.o"
gcc -O2 -Wall -o "$WORK/parts" "$ROOT/bench/hot-path/parts.c" -lbpf
printf 'version: 1\nname: read\nprobe: {syscall: read}\nkey: {source: retval, label: outcome, decode: {errno: true}}\n' \
	>"$WORK/read.yaml"
old=$(sysctl -n kernel.bpf_stats_enabled)
tracer=""
trap '[ -z "$tracer" ] || kill -INT "$tracer" 2>/dev/null; sysctl -qw kernel.bpf_stats_enabled=$old' EXIT
sysctl -qw kernel.bpf_stats_enabled=1

tracers=("baseline|-" "empty|$WORK/parts sched_empty" "split|$TOOL --off-cpu" "slow|$TOOL --slower-than 10s"
	"split-read|$TOOL --off-cpu --profile $WORK/read.yaml")

attach() { # COMMAND: start it, wait until it has attached
	rm -f "$WORK/tracer.err"
	$1 >/dev/null 2>"$WORK/tracer.err" &
	tracer=$!
	until grep -qiE 'hit ctrl-c' "$WORK/tracer.err"; do
		kill -0 "$tracer" 2>/dev/null || { echo "bench: $1: $(cat "$WORK/tracer.err")" >&2; exit 1; }
		sleep 0.01
	done
}

detach() { kill -INT "$tracer"; wait "$tracer" || true; tracer=""; }

bodies() { # NAME WORKLOAD: "NAME WORKLOAD hook ns_per_run runs" per scheduler program that ran
	bpftool -j prog show | jq -r --arg t "$1" --arg w "$2" '.[]
		| select(.name | test("^(sd_sched|sd_lock|sched_empty)")) | select(.run_cnt > 0)
		| (.name | sub("^sd_sched_|^sched_empty_"; "") | sub("^sd_lock_contention_"; "lock_")) as $hook
		| "\($t) \($w) \($hook) \(.run_time_ns / .run_cnt | . * 10 | round / 10) \(.run_cnt)"'
}

pipe_ns() { # ns per round trip of the pinned pipe ping-pong
	taskset -c 0 perf bench sched pipe -l "$LOOPS" 2>/dev/null | awk '/usecs\/op/ { printf "%.0f", $1 * 1000 }'
}

out=$WORK/rounds
: >"$out"
for round in $(seq "$ROUNDS"); do
	base=$(pipe_ns)
	for entry in "${tracers[@]:1}"; do
		name=${entry%%|*}
		attach "${entry#*|}"
		wall=$(pipe_ns)
		echo "$name pipe wall $((wall - base)) $LOOPS" | tee -a "$out"
		bodies "$name" pipe | grep -E ' (switch|wakeup) ' | tee -a "$out" || true
		detach
		attach "${entry#*|}"
		"$WL" progarray 8 "$LOCK_N" >/dev/null
		bodies "$name" lock | grep -E ' lock_(begin|end) ' | tee -a "$out" || true
		detach
	done
	echo "round $round: baseline $base ns per round trip"
done
echo
echo "median over $ROUNDS rounds (wall: ns per round trip above the baseline; hooks: ns per run):"
awk '{ v[$1 " " $2 " " $3] = v[$1 " " $2 " " $3] " " $4 }
	END { for (k in v) print k, v[k] }' "$out" | sort | while read -r name workload hook values; do
	median=$(tr ' ' '\n' <<<"$values" | sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }')
	printf '  %-10s %-5s %-11s %8s   (rounds: %s)\n' "$name" "$workload" "$hook" "$median" "$values"
done
