# What the package and image tests share (sourced): pass and fail lines under $test_name, waits on
# the workload and the tool, and the exact-count check. Each caller ends with `finish`.
failures=0
fail() { echo "$test_name: FAIL: $*" >&2; failures=$((failures + 1)); }
pass() { echo "$test_name: ok: $*"; }
finish() {
	if [ "$failures" -gt 0 ]; then
		echo "$test_name: $failures failed" >&2
		exit 1
	fi
	echo "$test_name: all passed"
}

# sd-workload as plain C: SwiftPM's build of it links the Swift runtime, which a clean root or an
# image lacks; `build_workload OUT`
build_workload() { gcc -O2 -pthread -o "$1" "$(dirname "$0")"/../Sources/Tools/sd-workload/*.c; }

# until process PID has stopped itself (sd-workload --stop) or ended, for at most 60 s:
# `wait_stopped PID`
wait_stopped() {
	tries=6000
	until [ "$(cut -d' ' -f3 "/proc/$1/stat" 2>/dev/null)" = T ] || ! kill -0 "$1" 2>/dev/null; do
		tries=$((tries - 1))
		[ "$tries" -gt 0 ] || { fail "process $1 did not stop itself in 60 s"; return 1; }
		sleep 0.01
	done
}

# until FILE has a line matching PATTERN or process PID has ended, for at most 60 s:
# `wait_line FILE PATTERN PID`
wait_line() {
	tries=6000
	until grep -q "$2" "$1" 2>/dev/null || ! kill -0 "$3" 2>/dev/null; do
		tries=$((tries - 1))
		[ "$tries" -gt 0 ] || { fail "no '$2' in $1 in 60 s: $(cat "$1")"; return 1; }
		sleep 0.01
	done
}

# whether the calls the workload reported (its JSON) are the trace's (-j), key by key; sets
# $issued and $traced for the failure line: `same_counts WORKLOAD.json TRACE.json`
same_counts() {
	issued=$(python3 -c 'import json,sys; print(json.dumps(json.load(open(sys.argv[1]))["counts"], sort_keys=True))' "$1" 2>/dev/null || echo none)
	traced=$(python3 -c 'import json,sys; print(json.dumps({h["key"]: h["count"] for h in json.load(open(sys.argv[1]))["histograms"]}, sort_keys=True))' "$2" 2>/dev/null || echo none)
	[ "$issued" != none ] && [ "$issued" = "$traced" ]
}
