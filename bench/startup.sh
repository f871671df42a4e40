#!/usr/bin/env bash
# bench/startup.sh: startup time (spawn to "Hit Ctrl-C", attached) and peak RSS (VmHWM at the
# end) of several builds, alternating them run by run so that they share the machine's state;
# medians over ROUNDS. For before/after comparisons of one change (same run, same machine). Each
# binary is copied afresh first: peak RSS counts the file pages mapped around each fault, which
# depends on how the file sits in the page cache (the same binary read 10.1 or 11.0 MB).
#   bench/startup.sh NAME=BINARY [NAME=BINARY ...]      e.g. static=.build/release/bpfsyscalldist
#   ROUNDS=20 ARGS="--profile syscalldist" bench/startup.sh ...
set -euo pipefail
ROUNDS=${ROUNDS:-15}
ARGS=${ARGS:-}
python3 - "$ROUNDS" "$ARGS" "$@" <<'PY'
import os, signal, statistics, subprocess, sys, time
import shutil, tempfile
rounds, args, builds = int(sys.argv[1]), sys.argv[2].split(), [b.split("=", 1) for b in sys.argv[3:]]
copies = tempfile.mkdtemp(prefix="sd-startup-")
# each in a folder of its own, under its own file name (the default profile follows that name)
builds = [(name, shutil.copy2(binary, os.makedirs(f"{copies}/{name}") or f"{copies}/{name}/")) for name, binary in builds]
results = {name: ([], []) for name, _ in builds}
for _ in range(rounds):
    for name, binary in builds:
        start = time.monotonic()
        tool = subprocess.Popen([binary, *args, "-c", "no-such-task"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        for line in tool.stderr:
            if line.startswith(b"Hit Ctrl-C"):
                break
        startup = (time.monotonic() - start) * 1000
        with open(f"/proc/{tool.pid}/status") as status:
            hwm = next(int(l.split()[1]) for l in status if l.startswith("VmHWM"))
        tool.send_signal(signal.SIGINT)
        tool.wait()
        results[name][0].append(startup)
        results[name][1].append(hwm / 1024)
print(f"{'build':12} {'startup ms (median)':>20} {'peak RSS MiB (median)':>22}   over {rounds} rounds, args: {' '.join(args) or '(default profile)'}")
for name, (startups, rss) in results.items():
    print(f"{name:12} {statistics.median(startups):20.1f} {statistics.median(rss):22.1f}")
shutil.rmtree(copies)
PY
