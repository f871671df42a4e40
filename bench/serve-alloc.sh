#!/usr/bin/env bash
# bench/serve-alloc.sh: what one scrape of `serve` allocates, counted by heaptrack, with the
# syscalldist profile and about 450 keys (sd-workload many-syscalls). serve runs twice under
# heaptrack for the same time, the second scraped SCRAPES times 1.1 s apart (each a page
# rendered anew, as Prometheus' scrapes are); the difference is the scrapes', divided by
# SCRAPES: allocations and bytes a scrape, against the size of the page it answers.
#   bench/serve-alloc.sh            # SCRAPES=20 (needs heaptrack: apt-get install heaptrack)
#   KEEP=1 bench/serve-alloc.sh     # keeps heaptrack's files, for heaptrack_print
set -euo pipefail
. "$(dirname "$0")/lib.sh"
SCRAPES=${SCRAPES:-20}
command -v heaptrack >/dev/null || { echo "serve-alloc: needs heaptrack (apt-get install heaptrack)" >&2; exit 1; }
build_release
SERVE=$ROOT/.build/release/bpfsyscalldist-serve
work=$(mktemp -d)
serve=""
trap '[ -z "$serve" ] || kill -TERM $serve 2>/dev/null; rm -rf "$work"' EXIT
[ -z "${KEEP:-}" ] || { trap '[ -z "$serve" ] || kill -TERM $serve 2>/dev/null' EXIT; echo "serve-alloc: heaptrack's files in $work" >&2; }

run() { # name scrapes -> "name allocations bytes page_bytes"
	local name=$1 scrapes=$2 wpid heaptrack port
	"$WL" --stop many-syscalls 20 >/dev/null &
	wpid=$!
	until [ "$(cut -d' ' -f3 /proc/$wpid/stat 2>/dev/null)" = T ]; do sleep 0.01; done
	heaptrack -o "$work/$name" "$SERVE" --listen 127.0.0.1:0 --profile syscalldist -p "$wpid" \
		>/dev/null 2>"$work/$name.err" &
	heaptrack=$!
	wait_attached "$work/$name.err" "$heaptrack"
	serve=$(pgrep -P "$heaptrack" -f bpfsyscalldist-serve)
	port=$(serve_port "$work/$name.err")
	kill -CONT "$wpid"
	wait "$wpid"
	sleep 2 # two collections: every call is in the counts
	python3 - "$port" "$scrapes" "$SCRAPES" >"$work/$name.page" <<-'PY'
		import http.client, sys, time
		port, scrapes, duration = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
		connection, size = http.client.HTTPConnection("127.0.0.1", port), 0
		for i in range(duration):
		    time.sleep(1.1)
		    if i < scrapes:
		        connection.request("GET", "/metrics", headers={"Accept": "application/openmetrics-text"})
		        size = len(connection.getresponse().read())
		print(size)
	PY
	kill -TERM "$serve"
	wait "$heaptrack" || true
	serve=""
	# the size histogram (size, allocations) gives both totals
	heaptrack_print -f "$work/$name".*zst --print-peaks 0 --print-allocators 0 --print-temporary 0 \
		-H "$work/$name.sizes" >/dev/null 2>&1
	echo "$name $(awk '{ calls += $2; bytes += $1 * $2 } END { print calls, bytes }' "$work/$name.sizes")" \
		"$(cat "$work/$name.page")"
}

idle=$(run idle 0)
scraped=$(run scraped "$SCRAPES")
echo "$idle"
echo "$scraped"
read -r _ idle_calls idle_bytes _ <<<"$idle"
read -r _ calls bytes page <<<"$scraped"
awk -v c="$((calls - idle_calls))" -v b="$((bytes - idle_bytes))" -v n="$SCRAPES" -v p="$page" 'BEGIN {
	printf "a scrape (OpenMetrics, page %.0f KiB): %.0f allocations, %.2f MiB allocated (%.1f x the page)\n",
		p / 1024, c / n, b / n / 1048576, b / n / p }'
