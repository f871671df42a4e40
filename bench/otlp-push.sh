#!/usr/bin/env bash
# bench/otlp-push.sh: what serve's OTLP push costs per interval: serve's CPU time (utime + stime,
# /proc/PID/stat) over WINDOW seconds with a push every second to a local receiver, against the
# same serve, keys and window without the push (it still collects every second); the difference
# per push, and the bytes a push carries. The keys are serve-render's (lib.sh keyed_workload:
# PROCESSES=3 for about 1,300); nothing scrapes meanwhile. BUCKETS=exponential[:N] pushes
# exponential histograms (else explicit buckets). ROUNDS pairs, alternated.
#   bench/otlp-push.sh                         # ROUNDS=3 WINDOW=30
#   PROCESSES=3 BUCKETS=exponential bench/otlp-push.sh
set -euo pipefail
. "$(dirname "$0")/lib.sh"
ROUNDS=${ROUNDS:-3}
WINDOW=${WINDOW:-30}
build_release
work=$(mktemp -d)
serve="" receiver=""
trap '[ -z "$serve" ] || kill -TERM $serve 2>/dev/null; [ -z "$receiver" ] || kill $receiver 2>/dev/null
	kill -KILL ${KEYED_PIDS[@]:-} 2>/dev/null; rm -rf "$work"' EXIT

# a receiver that reads each push and answers 200; one line a push: its bytes
python3 - "$work/port" >"$work/pushes" <<'PY' &
import http.server, sys
class Receiver(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        print(len(body), flush=True)
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()
    def log_message(self, *args):
        pass
server = http.server.HTTPServer(("127.0.0.1", 0), Receiver)
open(sys.argv[1], "w").write(str(server.server_port))
server.serve_forever()
PY
receiver=$!
until [ -s "$work/port" ]; do sleep 0.01; done
endpoint=http://127.0.0.1:$(cat "$work/port")/v1/metrics

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; } # utime + stime, in clock ticks

measure() { # push|none -> "ticks pushes bytes" of serve over WINDOW once its keys are counted
	keyed_workload "$work"
	local push=() pushes
	[ "$1" = none ] || push=(--otlp-endpoint "$endpoint" --otlp-interval 1s)
	rm -f "$work/serve.err"
	"$TOOL" serve --listen 127.0.0.1:0 --profile "$KEYED_PROFILE" ${BUCKETS:+--buckets "$BUCKETS"} --comm sd-keys \
		"${push[@]}" 2>"$work/serve.err" &
	serve=$!
	wait_attached "$work/serve.err" "$serve"
	keyed_run
	sleep 3 # every call collected, and the first pushes (every key new) behind
	local ticks=$(cpu_ticks "$serve") before=$(wc -l <"$work/pushes")
	sleep "$WINDOW"
	ticks=$(($(cpu_ticks "$serve") - ticks))
	pushes=$(($(wc -l <"$work/pushes") - before))
	echo "$ticks $pushes $(tail -1 "$work/pushes")"
	kill -TERM "$serve"; wait "$serve" || true; serve=""
}

hz=$(getconf CLK_TCK)
for round in $(seq "$ROUNDS"); do
	measure none >"$work/none" # in this shell, not a subshell: the trap stops what it started
	measure push >"$work/push"
	read -r none _ _ <"$work/none"
	read -r pushed pushes bytes <"$work/push"
	[ "$pushes" -gt 0 ] || { echo "bench: no push reached the receiver: $(cat "$work/serve.err")" >&2; exit 1; }
	awk -v r="$round" -v n="$none" -v p="$pushed" -v k="$pushes" -v b="$bytes" -v hz="$hz" -v w="$WINDOW" 'BEGIN {
		printf "round %d: serve %.0f ms CPU in %d s without pushes, %.0f ms with %d pushes of %d KiB: %.2f ms a push\n",
			r, n * 1000 / hz, w, p * 1000 / hz, k, b / 1024, (p - n) * 1000 / hz / k }'
done
