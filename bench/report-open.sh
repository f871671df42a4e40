#!/usr/bin/env bash
# bench/report-open.sh: how long a big report takes to make and to open. Writes a recording of
# KEYS series over INTERVALS prints, each series in a print with probability DENSITY (two
# buckets, a time split), and SLOW slow calls of eight stacks; times `bpfsyscalldist report` on
# it, then opens the page in Debian's headless chromium (the tests' venv selenium) ROUNDS times
# and prints the median time to its load event (the page's script draws before that event).
#   bench/report-open.sh                      # KEYS=10000 INTERVALS=600 DENSITY=0.02 SLOW=2000
#   DENSITY=1 KEYS=1000 bench/report-open.sh  # every series in every print
set -euo pipefail
. "$(dirname "$0")/lib.sh"
KEYS=${KEYS:-10000} INTERVALS=${INTERVALS:-600} DENSITY=${DENSITY:-0.02} SLOW=${SLOW:-2000} ROUNDS=${ROUNDS:-5}
VENV="$(dirname "$0")/../.build-tests/venv/bin/python3"
build_release
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

python3 - "$work/run.json" "$KEYS" "$INTERVALS" "$DENSITY" "$SLOW" <<'PY'
import json, random, sys
path, keys, intervals, density, slow = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5])
random.seed(1)
with open(path, "w") as out:
    for i in range(intervals):
        histograms = []
        for k in range(keys):
            if random.random() >= density:
                continue
            low = 1 << random.randrange(4, 14)
            histograms.append({"key": "k%d" % k, "raw": k, "outcome": None, "title": "pid(%d)" % k, "count": 3, "sum_ns": 3 * low * 1000,
                               "min_ns": low * 1000, "max_ns": 2 * low * 1000 + 1, "errors": {}, "on_cpu_ns": low * 1000, "runnable_ns": low * 500,
                               "blocked_ns": 3 * low * 1000 - low * 1500, "wait_sites": [],
                               "buckets": [{"low": low, "high": 2 * low - 1, "count": 2}, {"low": 2 * low, "high": 4 * low - 1, "count": 1}]})
        out.write(json.dumps({"schema": 4, "profile": "bench", "timestamp": 1700000000 + i, "unit": "us", "buckets": "log2",
                              "bucket_schema": None, "key_label": "pid", "histograms": histograms}) + "\n")
    for c in range(slow):
        stack = c % 8
        frame = lambda name: {"address": "0x1", "function": name, "offset": 0, "module": None}
        out.write(json.dumps({"type": "slow_call", "time": 1700000000 + c * 0.1, "comm": "app%d" % (c % 3), "pid": 1, "tid": 1,
                              "latency_ns": 10000000 + c, "off_cpu_ns": 0, "longest_off_cpu_ns": 0, "runnable_ns": None, "blocked_ns": None,
                              "key": "k%d" % (c % keys), "raw": None, "outcome": "ok",
                              "user_stack": {"frames": [frame("leaf%d" % stack), frame("mid%d" % (stack % 3)), frame("main")], "note": None},
                              "kernel_stack": {"frames": [frame("schedule"), frame("do_sys%d" % (stack % 2))], "note": None}}) + "\n")
PY
start=$(date +%s.%N)
"$TOOL" report "$work/run.json" -o "$work/page.html"
made=$(echo "$(date +%s.%N) - $start" | bc)
echo "recording: $(du -h "$work/run.json" | cut -f1) ($KEYS keys x $INTERVALS intervals at density $DENSITY, $SLOW slow calls)"
echo "report: made in ${made}s, $(du -h "$work/page.html" | cut -f1)"

"$VENV" - "$work/page.html" "$ROUNDS" <<'PY'
import statistics, sys
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
options = webdriver.ChromeOptions()
options.binary_location = "/usr/bin/chromium"
for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"):
    options.add_argument(flag)
options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
times = []
try:
    for _ in range(int(sys.argv[2])):
        driver.get("about:blank")
        driver.get("file://" + sys.argv[1])
        times.append(driver.execute_script("return performance.getEntriesByType('navigation')[0].loadEventEnd"))
    rows = driver.execute_script("return document.querySelectorAll('tr.key-row').length")
    # the keys' filter over every series: the time from a key's name typed to its row shown
    found = driver.execute_script("""
        const input = document.querySelector('input.key-filter'), start = performance.now();
        input.value = 'pid(9999)'; input.dispatchEvent(new Event('input'));
        return [performance.now() - start, document.querySelectorAll('tr.key-row').length];""")
    errors = driver.get_log("browser")
finally:
    driver.quit()
print("open: median %.0f ms to the load event over %d rounds (min %.0f, max %.0f); %d key rows shown; console: %s"
      % (statistics.median(times), len(times), min(times), max(times), rows, errors or "nothing"))
print("filter: 'pid(9999)' typed, %d row(s) in %.0f ms" % (found[1], found[0]))
PY
