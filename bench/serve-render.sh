#!/usr/bin/env bash
# bench/serve-render.sh: what one scrape of `serve` costs with the syscalldist profile and about
# 450 active keys (sd-workload many-syscalls), in both formats. A page is rendered at most once
# between two collections (one a second): scrapes 1.1 s apart each render a page, scrapes back to
# back get the cached one; the difference is the render. Prints medians over ROUNDS scrapes, the
# page's size and series, and the render cost per series. BUCKETS=exponential[:N] runs serve with
# --buckets (then the protobuf exposition carries native histograms: one series a key, no le).
# PROCESSES=N runs N workloads and keys syscalldist by syscall and pid (3: about 1,300 keys).
#   bench/serve-render.sh            # ROUNDS=20
#   BUCKETS=exponential bench/serve-render.sh
#   PROCESSES=3 BUCKETS=exponential bench/serve-render.sh
set -euo pipefail
. "$(dirname "$0")/lib.sh"
ROUNDS=${ROUNDS:-20}
build_release
work=$(mktemp -d)
serve=""
trap '[ -z "$serve" ] || kill -TERM $serve 2>/dev/null; kill -KILL ${KEYED_PIDS[@]:-} 2>/dev/null; rm -rf "$work"' EXIT

keyed_workload "$work"
"$TOOL" serve --listen 127.0.0.1:0 --profile "$KEYED_PROFILE" ${BUCKETS:+--buckets "$BUCKETS"} --comm sd-keys 2>"$work/serve.err" &
serve=$!
wait_attached "$work/serve.err" "$serve"
port=$(serve_port "$work/serve.err")
keyed_run
sleep 2 # two collections: every call is in the counts

python3 - "$port" "$ROUNDS" <<'PY'
import http.client, statistics, sys, time
port, rounds = int(sys.argv[1]), int(sys.argv[2])
protobuf = "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited"
for name, accept in [("openmetrics", "application/openmetrics-text"), ("0.0.4", "text/plain"), ("protobuf", protobuf)]:
    connection = http.client.HTTPConnection("127.0.0.1", port)
    def scrape():
        start = time.perf_counter()
        connection.request("GET", "/metrics", headers={"Accept": accept})
        body = connection.getresponse().read()
        return (time.perf_counter() - start) * 1000, body
    rendered, cached = [], []
    for _ in range(rounds):
        time.sleep(1.1)  # a collection came in between: this scrape renders
        took, body = scrape()
        rendered.append(took)
        cached.append(scrape()[0])  # the same page, from the cache
    # the text formats' _count samples; the protobuf page has the same keys
    series = body.count(b"_latency_seconds_count{") or series
    render = statistics.median(rendered) - statistics.median(cached)
    print(f"{name:12} scrape that renders {statistics.median(rendered):6.2f} ms, cached {statistics.median(cached):5.2f} ms: "
          f"render {render:5.2f} ms for {series} series ({render * 1000 / series:.1f} us a series), page {len(body) / 1024:.0f} KiB")
PY
