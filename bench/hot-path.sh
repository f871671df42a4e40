#!/usr/bin/env bash
# bench/hot-path.sh: where a traced call's cost goes. The shared floors (../shared/bench/floor)
# and the parts of a latency histogram (hot-path/parts.bpf.c: the raw_tp hook alone, two clock
# reads, task storage at both ends, the least task-storage histogram), against bpfsyscalldist,
# on the workloads of the goals: bpf() per command (lookup) and every syscall (getppid).
# Two measures, each rotated round by round with its own baseline:
#   wall: the workload's own ns per call, median over ROUNDS, minus the same rounds' baseline;
#   body: the kernel's accounting (kernel.bpf_stats_enabled) of the programs' run time per
#         call, enter + exit (+ the bucket step, which runs inside the exit's run); the stats
#         add their own clock reads to every program, the same to all: compare, don't add.
#   bench/hot-path.sh                 # ROUNDS=7
#   ROUNDS=15 bench/hot-path.sh
set -euo pipefail
. "$(dirname "$0")/lib.sh"
ROUNDS=${ROUNDS:-7}
WORK=${WORK:-/tmp/sd-hot-path}
SHARED=${SHARED:-$ROOT/../shared/bench}
mkdir -p "$WORK"
build_release
arch=$(uname -m)
clang -O2 -g -target bpf -D__TARGET_ARCH_${arch/x86_64/x86} -I/usr/include/"$arch"-linux-gnu \
	-c "$ROOT/bench/hot-path/parts.bpf.c" -o "$WORK/parts.bpf.o"
gcc -O2 -Wall -o "$WORK/parts" "$ROOT/bench/hot-path/parts.c" -lbpf
clang -O2 -g -target bpf -I/usr/include/"$arch"-linux-gnu -c "$SHARED/floor/floor.bpf.c" -o "$WORK/floor.bpf.o"
gcc -O2 -Wall -o "$WORK/floor" "$SHARED/floor/floor.c" -lbpf

# the tracers, NAME|COMMAND; "-" is the baseline (nothing attached)
lookup_tracers=("baseline|-" "floor_lat|$WORK/floor lat" "lat_ts|$WORK/parts lat_ts" "bpfsyscalldist|$TOOL")
getppid_tracers=("baseline|-" "floor_raw|$WORK/floor raw" "raw_empty|$WORK/parts empty" "raw_clock|$WORK/parts clock"
	"raw_storage|$WORK/parts storage" "raw_lat|$WORK/parts raw_lat" "syscalldist|$TOOL --profile syscalldist")

run_one() { # WORKLOAD N STATS COMMAND -> "wall_ns body_ns"
	local workload=$1 n=$2 stats=$3 cmd=$4 pid="" wall body=0
	if [ "$cmd" != - ]; then
		sysctl -qw kernel.bpf_stats_enabled="$stats"
		$cmd >/dev/null 2>"$WORK/tracer.err" &
		pid=$!
		until grep -qE '^(Attached|Hit Ctrl-C)' "$WORK/tracer.err"; do
			kill -0 "$pid" 2>/dev/null || { echo "bench: $cmd: $(cat "$WORK/tracer.err")" >&2; exit 1; }
			sleep 0.01
		done
		sleep 0.1
	fi
	wall=$("$WL" "$workload" "$n" | jq .ns_per_call)
	if [ -n "$pid" ]; then
		[ "$stats" = 1 ] && body=$(bpftool -j prog show | jq --argjson n "$n" \
			'[.[] | select(.run_cnt >= $n) | .run_time_ns / .run_cnt] | add | . * 10 | round / 10')
		kill -INT "$pid"
		wait "$pid" || true
		sysctl -qw kernel.bpf_stats_enabled=0
	fi
	echo "$wall $body"
}

median() { tr ' ' '\n' | grep . | sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

measure() { # WORKLOAD N TRACER...: a table of wall overhead and body cost, medians
	local workload=$1 n=$2 r spec name cmd wall body base; shift 2
	declare -A walls bodies
	for r in $(seq "$ROUNDS"); do
		for spec in "$@"; do # wall clock, stats off
			name=${spec%%|*}; cmd=${spec#*|}
			read -r wall _ < <(run_one "$workload" "$n" 0 "$cmd")
			[ "$name" = baseline ] && base=$wall
			walls[$name]="${walls[$name]:-} $(awk -v w="$wall" -v b="$base" 'BEGIN { print w - b }')"
		done
		for spec in "${@:2}"; do # the kernel's accounting, stats on
			name=${spec%%|*}; cmd=${spec#*|}
			read -r _ body < <(run_one "$workload" "$n" 1 "$cmd")
			bodies[$name]="${bodies[$name]:-} $body"
		done
	done
	echo "## $workload ($n calls a run, $ROUNDS rounds, ns per call, medians; rounds in brackets)"
	echo
	echo "| tracer | above baseline (wall) | programs' run time (bpf_stats) |"
	echo "|---|---|---|"
	for spec in "${@:2}"; do
		name=${spec%%|*}
		echo "| $name | $(median <<<"${walls[$name]}") (${walls[$name]# }) | $(median <<<"${bodies[$name]}") (${bodies[$name]# }) |"
	done
	echo
}

old=$(sysctl -n kernel.bpf_stats_enabled)
trap 'sysctl -qw kernel.bpf_stats_enabled=$old' EXIT
measure lookup 1000000 "${lookup_tracers[@]}"
measure getppid 3000000 "${getppid_tracers[@]}"
