# Sourced by the bench scripts: where the release binaries are, how to build them, and how to
# wait for a tracer to attach. A bench measures what `make build` ships.
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TOOL=$ROOT/.build/release/bpfsyscalldist
WL=$ROOT/.build/release/sd-workload

build_release() { # the tool, serve and the workload, as released; their output on stderr
	make -s -C "$ROOT" build >&2
	swift build -c release --package-path "$ROOT" --product sd-workload >&2
}

wait_attached() { # STDERR_FILE PID: until the tool PID, writing STDERR_FILE, has attached
	until grep -qs 'Hit Ctrl-C' "$1"; do
		kill -0 "$2" 2>/dev/null || { echo "bench: the tool exited before attaching: $(cat "$1")" >&2; exit 1; }
		sleep 0.01
	done
}

serve_port() { # STDERR_FILE of `serve --listen 127.0.0.1:0`: the port it chose
	sed -n 's|^note: serving http://127.0.0.1:\([0-9]*\)/metrics.*|\1|p' "$1"
}

# Keyed calls for serve's benches: PROCESSES (default 1) stopped `sd-workload many-syscalls 20`,
# each named sd-keys, every syscall the workload can make 20 times. With one process the profile
# is syscalldist (about 430 keys); with more, syscalldist keyed by syscall and pid (about 430
# keys a process), written to DIR. Sets KEYED_PROFILE and KEYED_PIDS; `keyed_run` lets them run
# and waits for them.
keyed_workload() { # DIR
	KEYED_PROFILE=syscalldist
	if [ "${PROCESSES:-1}" -gt 1 ]; then
		KEYED_PROFILE=$1/syscalldist.yaml
		printf '%s\n' 'version: 1' 'name: syscalldist' 'probe: {syscalls: all}' 'key:' \
			'  - {source: syscall, label: syscall, decode: {syscall_name: true}}' '  - {source: pid, label: pid}' \
			'histogram: {buckets: log2, unit: us}' >"$KEYED_PROFILE"
	fi
	KEYED_PIDS=()
	for i in $(seq "${PROCESSES:-1}"); do
		SD_WORKLOAD_COMM=sd-keys "$WL" --stop many-syscalls 20 >"$1/workload$i.json" &
		KEYED_PIDS+=($!)
	done
	for pid in "${KEYED_PIDS[@]}"; do
		until [ "$(cut -d' ' -f3 "/proc/$pid/stat" 2>/dev/null)" = T ]; do sleep 0.01; done
	done
}

keyed_run() {
	kill -CONT "${KEYED_PIDS[@]}"
	wait "${KEYED_PIDS[@]}"
}
