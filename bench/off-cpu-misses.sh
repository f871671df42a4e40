#!/usr/bin/env bash
# bench/off-cpu-misses.sh: how often a slow call that blocked is shown 0 ns off CPU: the
# sched_switch hook missing the thread's return to a CPU (man page, BUGS), which the exit now
# covers by closing the stretch, so this should say 0. ROUNDS x 300 sleeps of 20 ms (each blocks:
# nanosleep always leaves the CPU) under --slower-than 10ms, with every CPU saturated by busy
# loops (the condition under which it shows); per round, the slow calls shown and how many of
# them say 0 ns off CPU.
#   bench/off-cpu-misses.sh         # 5 rounds; ROUNDS=20 for a finer rate
set -euo pipefail
. "$(dirname "$0")/lib.sh"
ROUNDS=${ROUNDS:-5}
build_release
work=$(mktemp -d)
hogs=()
trap 'kill "${hogs[@]}" 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq "$(nproc)"); do (while :; do :; done) & hogs+=($!); done
total=0 zeros=0
for round in $(seq "$ROUNDS"); do
	"$WL" --stop slow-sleeps 300 300 >/dev/null &
	wpid=$!
	until [ "$(cut -d' ' -f3 "/proc/$wpid/stat" 2>/dev/null)" = T ]; do sleep 0.01; done
	rm -f "$work/err" # a fresh file: the wait below must not see the previous round's line
	"$TOOL" --profile clock_nanosleep --slower-than 10ms -p "$wpid" -j \
		>"$work/out.json" 2>"$work/err" &
	tpid=$!
	wait_attached "$work/err" "$tpid"
	kill -CONT "$wpid"
	wait "$wpid"
	kill -INT "$tpid"
	wait "$tpid"
	read -r shown zero < <(grep '"type":"slow_call"' "$work/out.json" |
		jq -s -r '"\(length) \(map(select(.off_cpu_ns == 0)) | length)"')
	echo "round $round: $shown slow calls shown, $zero of them 0 ns off CPU"
	total=$((total + shown)) zeros=$((zeros + zero))
done
echo "all: $zeros of $total blocked slow calls shown 0 ns off CPU"
