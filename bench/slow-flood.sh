#!/usr/bin/env bash
# bench/slow-flood.sh: a burst of N getppid calls (100,000 by default, well under a second), every
# one of them a "slow call" (--slower-than 0ns), against the release build: how many were shown
# and how many the ring buffer dropped (shown + dropped must be N), how long the tool took to
# print them after the burst, and its peak RSS (VmHWM), against the same run without
# --slower-than. Variants: the default ring buffer (1 MiB), a one-page one, and --stacks.
#   bench/slow-flood.sh             # N=100000, 3 rounds
#   N=1000000 ROUNDS=5 bench/slow-flood.sh
set -euo pipefail
. "$(dirname "$0")/lib.sh"
N=${N:-100000}
ROUNDS=${ROUNDS:-3}
build_release
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
printf 'version: 1\nname: getppid\nprobe: {syscall: getppid}\nkey: {source: none}\n' >"$work/getppid.yaml"

run() { # variant args... -> "variant shown dropped drain_ms rss_mib"
	local variant=$1; shift
	"$WL" --stop getppid "$N" >/dev/null &
	local wpid=$!
	until [ "$(cut -d' ' -f3 "/proc/$wpid/stat" 2>/dev/null)" = T ]; do sleep 0.01; done
	rm -f "$work/err" # a fresh file: the wait below must not see the previous run's line
	"$TOOL" --profile "$work/getppid.yaml" -p "$wpid" -j "$@" >"$work/out.json" 2>"$work/err" &
	local tpid=$!
	wait_attached "$work/err" "$tpid"
	kill -CONT "$wpid"
	wait "$wpid"
	# the burst is over: the tool has printed everything once its output stops growing
	local t0 size=-1
	t0=$(date +%s%N)
	while [ "$(stat -c %s "$work/out.json")" != "$size" ]; do size=$(stat -c %s "$work/out.json"); sleep 0.05; done
	local drain=$((($(date +%s%N) - t0) / 1000000 - 50))
	local rss
	rss=$(awk '$1 == "VmHWM:" { printf "%.1f", $2 / 1024 }' "/proc/$tpid/status")
	kill -INT "$tpid"
	wait "$tpid"
	local shown dropped
	shown=$(grep -c '"type":"slow_call"' "$work/out.json" || true)
	dropped=$(tail -1 "$work/out.json" | jq '.accounting.slow_calls_dropped // 0')
	echo "$variant $shown $dropped $drain $rss"
}

echo "variant shown dropped drain_ms peak_rss_mib   (N=$N getppid calls in one burst)"
for round in $(seq "$ROUNDS"); do
	run none
	run default --slower-than 0ns
	run one-page --slower-than 0ns --ring-buffer-size 4K
	run stacks --slower-than 0ns --stacks
done
