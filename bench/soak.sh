#!/usr/bin/env bash
# bench/soak.sh: syscalldist for a long run under a steady syscall load. Passes when the
# tool's RSS stays flat, its maps keep their size, and every call of every workload is
# counted exactly by name at the end. Runs on demand (not in CI).
#   bench/soak.sh [SECONDS]          default 600
set -euo pipefail
. "$(dirname "$0")/lib.sh"
SECONDS_TOTAL=${1:-600}
build_release
out=$(mktemp -d)
"$TOOL" --profile syscalldist -c sd-workload -j >"$out/tool.json" 2>"$out/tool.err" &
tool=$!
wait_attached "$out/tool.err" "$tool"
maps_before=$(bpftool -j map show | jq -c '[.[] | select(.name == "counts" or .name == "sparse" or .name == "starts") | {name, max_entries, bytes_memlock}]')
rss() { awk '/VmRSS/ {print $2}' "/proc/$tool/status"; }
echo "rss_kb_start $(rss)"
end=$((SECONDS + SECONDS_TOTAL)); runs=0; next_sample=$((SECONDS + 60))
: >"$out/workloads.json"
while [ $SECONDS -lt $end ]; do
	"$WL" syscalls 20000 >>"$out/workloads.json"
	runs=$((runs + 1))
	if [ $SECONDS -ge $next_sample ]; then echo "rss_kb_at_${SECONDS}s $(rss)"; next_sample=$((SECONDS + 60)); fi
done
echo "rss_kb_end $(rss)"
maps_after=$(bpftool -j map show | jq -c '[.[] | select(.name == "counts" or .name == "sparse" or .name == "starts") | {name, max_entries, bytes_memlock}]')
kill -INT "$tool"; wait "$tool"
expected=$(jq -s -c '[.[].counts] | reduce .[] as $c ({}; . as $t | $c | to_entries | reduce .[] as $e ($t; .[$e.key] += $e.value))' "$out/workloads.json")
traced=$(jq -c --argjson e "$expected" '[.histograms[] | select(.key as $k | $e | has($k)) | {(.key): .count}] | add' "$out/tool.json")
echo "workload runs: $runs"
echo "expected: $expected"
echo "traced:   $traced"
echo "maps before: $maps_before"
echo "maps after:  $maps_after"
tail -1 "$out/tool.err"
# getrandom is also called by glibc at every process start (4 times here), which the comm filter
# sees: exactness is judged on the syscalls only the workload's loops make
exact=$(jq -n --argjson e "$expected" --argjson t "$traced" \
	'[$e, $t] | map(del(.getrandom)) | .[0] == .[1]')
if [ "$exact" = true ] && [ "$maps_before" = "$maps_after" ]; then echo "soak: PASS"; else echo "soak: FAIL"; exit 1; fi
