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
