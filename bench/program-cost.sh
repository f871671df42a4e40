#!/usr/bin/env bash
# bench/program-cost.sh: what each BPF program costs per run, from the kernel's own accounting
# (kernel.bpf_stats_enabled: run_cnt, run_time_ns), and its instruction count; as shipped (the
# exit tail-calls the bucket step), built straight-line (-DSD_STRAIGHT_LINE, which prices the tail
# call), and, with BEFORE=path/to/an/older/bpfsyscalldist, that build too, in the same rounds, so
# a change is judged against the code it replaces; "armed" is the shipped build with --slower-than
# set but never reached (10 s), which also loads the sched_switch hook (its cost per context
# switch is its own line); "offcpu" is --off-cpu (the split steps, and the sched_switch and
# sched_wakeup hooks, each its own line); "exp3" and "exp8" are exponential buckets at schema 3
# and 8 (the step's halving search, and at 8 a series every CPU shares); "serve" is the same program run by `bpfsyscalldist serve`. The stats
# add their own two clock reads per run, the same to all. Prints one line per program and round,
# then the median per-call cost (enter + exit + step) of each variant and hook.
# With PROFILES=1, also each shipped profile as shipped, on N calls of its own syscall (the
# figures the man page states, COST). With KEYS=1, the keys of parts on the same bpf() calls:
# "sparse1" one part in the hash (pid), "parts2" two parts (cmd, pid), "read" two parts of which
# one reads 4 bytes of user memory through bpf()'s attr, "fd" the shipped bpf-maps (that read, an
# fd walked to its map, and looked up again at the exit), "serve" and "labels" serve without and
# with labels: [namespace, pod, container].
#   bench/program-cost.sh            # N=1000000 bpf(BPF_MAP_LOOKUP_ELEM) calls, 3 rounds
#   BEFORE=/tmp/old/.build/release/bpfsyscalldist ROUNDS=5 bench/program-cost.sh
#   PROFILES=1 bench/program-cost.sh
set -euo pipefail
. "$(dirname "$0")/lib.sh"
N=${N:-1000000}
ROUNDS=${ROUNDS:-3}
BEFORE=${BEFORE:-}
for tool in bpftool jq; do
	command -v "$tool" >/dev/null || { echo "bench: needs $tool (apt-get install $tool)" >&2; exit 1; }
done
old=$(sysctl -n kernel.bpf_stats_enabled)
trap 'sysctl -qw kernel.bpf_stats_enabled=$old' EXIT
sysctl -qw kernel.bpf_stats_enabled=1

build_release
SD_BPF_CFLAGS=-DSD_STRAIGHT_LINE swift build -c release --package-path "$ROOT" \
	--scratch-path "$ROOT/.build-straight" --product bpfsyscalldist >&2

measure() { # variant tool args... -> "variant hook program runs ns/run insns" lines, then a
	# "variant hook per-call - ns -" line: the programs that ran once per call (enter, exit, step;
	# the task-exit hook runs once per thread exit)
	local variant=$1 tool=$2; shift 2
	rm -f /tmp/sd-cost.err # a fresh file: the wait below must not see the previous run's line
	"$tool" "$@" >/dev/null 2>/tmp/sd-cost.err &
	local pid=$!
	# measure runs in a pipeline's subshell: stop the tracer however that subshell ends, or it
	# stays attached and every later round pays for it too
	trap "kill -INT $pid 2>/dev/null" EXIT
	wait_attached /tmp/sd-cost.err "$pid"
	local hook
	hook=$(grep -o 'Attached [a-z_]*' /tmp/sd-cost.err | head -1 | cut -d' ' -f2)
	"$WL" ${WORKLOAD:-lookup} "$N" >/dev/null
	bpftool -j prog show | jq -r --arg v "$variant" --arg h "$hook" --argjson n "$N" '
		[.[] | select(.name | startswith("sd_")) | select(.run_cnt > 0)
		 | {name, runs: .run_cnt, ns: (.run_time_ns / .run_cnt | . * 10 | round / 10), insns: (.bytes_xlated / 8)}]
		| (.[] | "\($v) \($h) \(.name) \(.runs) \(.ns) \(.insns)"),
		  "\($v) \($h) per-call - \([.[] | select(.runs >= $n) | .ns] | add | . * 10 | round / 10) -"'
	kill -INT "$pid"; wait "$pid" || true
	trap - EXIT
}

out=$(mktemp)
echo "variant hook program runs ns_per_run instructions" | tee "$out"
for round in $(seq "$ROUNDS"); do
	for method in tracepoint raw_tp tp_btf; do
		if [ -n "$BEFORE" ]; then measure before "$BEFORE" --probe-method "$method"; fi
		measure tail "$TOOL" --probe-method "$method"
		measure armed "$TOOL" --probe-method "$method" --slower-than 10s
		measure offcpu "$TOOL" --probe-method "$method" --off-cpu
		measure exp3 "$TOOL" --probe-method "$method" --buckets exponential:3
		measure exp8 "$TOOL" --probe-method "$method" --buckets exponential:8
		measure serve "$TOOL" serve --listen 127.0.0.1:0 --probe-method "$method"
		if [ "$method" = tracepoint ]; then measure straight "$ROOT/.build-straight/release/bpfsyscalldist"; fi
	done | tee -a "$out"
	if [ -n "${KEYS:-}" ]; then
		keys=$(mktemp -d)
		part() { printf 'version: 1\nname: %s\nprobe: {syscall: bpf}\nkey:\n%s\n' "$1" "$2" >"$keys/$1.yaml"; }
		part sparse1 '  - {source: pid}'
		part parts2 '  - {source: arg0, label: cmd}
  - {source: pid}'
		part read '  - {source: arg0, label: cmd}
  - {source: arg1, label: map_fd, read: {offset: 0, size: 4}}'
		for method in tracepoint raw_tp tp_btf; do
			measure "key:tail" "$TOOL" --probe-method "$method"
			for variant in sparse1 parts2 read; do
				measure "key:$variant" "$TOOL" --probe-method "$method" --profile "$keys/$variant.yaml"
			done
			measure "key:fd" "$TOOL" --probe-method "$method" --profile bpf-maps
			# serve, and serve's labels: [namespace, pod, container] (one cgroup part more)
			printf 'profiles:\n  - profile: bpfsyscalldist\n    probe_method: %s\n    labels: [namespace, pod, container]\n' \
				"$method" >"$keys/labels.yaml"
			measure "key:serve" "$TOOL" serve --listen 127.0.0.1:0 --probe-method "$method"
			measure "key:labels" "$TOOL" serve --listen 127.0.0.1:0 --config "$keys/labels.yaml"
		done | tee -a "$out"
		rm -rf "$keys"
	fi
	if [ -n "${PROFILES:-}" ]; then
		for spec in bpfsyscalldist:lookup syscalldist:getppid futex:futex openat:openat "clock_nanosleep:sleep 0" \
			ioctl:ioctl read-by-process:read; do
			WORKLOAD=${spec#*:} measure "profile:${spec%%:*}" "$TOOL" --profile "${spec%%:*}"
		done | tee -a "$out"
	fi
done
echo
echo "median ns per traced call (enter + exit + step), by variant and hook, over $ROUNDS rounds:"
awk '$3 == "per-call" { v[$1 " " $2] = v[$1 " " $2] " " $5 }
	END { for (k in v) print k, v[k] }' "$out" | sort | while read -r variant hook values; do
	median=$(tr ' ' '\n' <<<"$values" | sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }')
	printf '  %-9s %-11s %7s ns   (rounds: %s)\n' "$variant" "$hook" "$median" "$values"
done
rm -f "$out"
