#!/bin/sh
# Fuzzes the profile loader (YAML -> Profile) with libFuzzer and AddressSanitizer, seeded with
# the shipped profiles and the malformed corpus. A crash is saved under .build-fuzz/crashes/;
# add it to Tests/ProfilesTests/Fixtures/malformed/ as a regression test.
#   scripts/fuzz.sh [SECONDS]     default 20 (what make test runs); the README has a 10-minute run
set -eu
cd "$(dirname "$0")/.."
seconds=${1:-20}
# lld: gold fails on this link; the Swift runtime's main is renamed, so the program calls
# libFuzzer's driver itself (Sources/Tools/profile-fuzzer)
swift build -c release --product profile-fuzzer --scratch-path .build-fuzz \
	-Xswiftc -sanitize=fuzzer,address -Xswiftc -DFUZZING -Xswiftc -use-ld=lld
corpus=.build-fuzz/corpus
mkdir -p "$corpus" .build-fuzz/crashes
cp profiles/*.yaml Tests/ProfilesTests/Fixtures/malformed/*.yaml "$corpus"/
.build-fuzz/release/profile-fuzzer -max_total_time="$seconds" -max_len=4096 -timeout=10 \
	-artifact_prefix=.build-fuzz/crashes/ -print_final_stats=1 "$corpus" 2>&1 |
	grep -E '^(#[0-9]+.*DONE|Done|stat::number_of_executed_units|stat::peak_rss_mb)|ERROR|SUMMARY' || true
# libFuzzer exits non-zero on a crash; the artifact directory is the verdict either way
if [ -n "$(ls .build-fuzz/crashes)" ]; then
	echo "fuzz: crash inputs in .build-fuzz/crashes/" >&2
	exit 1
fi
echo "fuzz: no crash in ${seconds} s"
