#!/usr/bin/env bash
# bench/serve-soak.sh [SECONDS]: `serve` for SECONDS (default 600) with keys that come and go
# (a profile keyed by pid, and short-lived processes one after another, each a new pid) and a
# scrape every 100 ms; prints serve's RSS every minute, the series per scrape, and whether every
# 50th scrape parsed (prometheus_client's OpenMetrics parser). With --series-idle 30s a pid's
# series leaves half a minute after its process: the series stay bounded, and so must the RSS.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
SECONDS_TO_RUN=${1:-600}
build_release
work=$(mktemp -d)
pids=""
trap 'kill $pids 2>/dev/null; rm -rf "$work"' EXIT
printf 'version: 1\nname: churn\nprobe: {syscall: getppid}\nkey: {source: pid}\n' >"$work/churn.yaml"

"$TOOL" serve --listen 127.0.0.1:0 --profile "$work/churn.yaml" --series-idle 30s 2>"$work/serve.err" &
serve=$!
pids="$serve"
wait_attached "$work/serve.err" "$serve"
port=$(serve_port "$work/serve.err")
# key churn: a new process (a new pid) every 20-30 ms (a 20 ms sleep and a start), each making 5 getppid calls
(while :; do "$WL" getppid 5 >/dev/null; sleep 0.02; done) &
pids="$pids $!"

/usr/bin/python3 - "$port" "$serve" "$SECONDS_TO_RUN" <<'PY'
import http.client, sys, time
from prometheus_client.openmetrics.parser import text_string_to_metric_families
port, pid, duration = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
def rss():
    with open(f"/proc/{pid}/status") as status:
        return next(int(l.split()[1]) for l in status if l.startswith("VmRSS")) / 1024
connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
start, scrapes, series, failures, last = time.monotonic(), 0, [], 0, -60
print(f"{'minute':>6} {'RSS MiB':>8} {'series':>7} {'scrapes':>8}")
while (now := time.monotonic()) - start < duration:
    connection.request("GET", "/metrics", headers={"Accept": "application/openmetrics-text"})
    body = connection.getresponse().read().decode()
    scrapes += 1
    series.append(body.count("churn_latency_seconds_count{"))
    if scrapes % 50 == 0:  # a real parser on every 50th: parsing takes longer than 100 ms
        try:
            list(text_string_to_metric_families(body))
        except Exception:
            failures += 1
    if now - last >= 60:
        last = now
        print(f"{(now - start) / 60:6.1f} {rss():8.1f} {series[-1] if series else 0:7d} {scrapes:8d}", flush=True)
    time.sleep(0.1)
print(f"end: RSS {rss():.1f} MiB; {scrapes} scrapes, {failures} of {scrapes // 50} parsed that did not parse; series per scrape {min(series)}..{max(series)}")
PY
