#!/usr/bin/env bash
# Builds the libFuzzer targets with clang and runs each for FUZZ_SECONDS
# (default 60) on a seed corpus made from the real vectors. Exits non-zero on
# any finding; the crashing input is kept under build-fuzz/findings/.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
seconds=${FUZZ_SECONDS:-60}
shared=${TL_SHARED_DIR:-$root/../shared}

CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DTL_FUZZ=ON -DTL_TESTS=OFF -DTL_BENCH=OFF \
  -DTL_SHARED_DIR="$shared" >/dev/null
cmake --build build-fuzz -j"${JOBS:-$(nproc)}"

mapfile -t fuzzers < <(find build-fuzz/fuzz -maxdepth 1 -type f -name '*_fuzzer' -perm -u+x | sort)
if [ ${#fuzzers[@]} -eq 0 ]; then
  echo "fuzz.sh: no fuzz targets were built" >&2
  exit 1
fi

status=0
for f in "${fuzzers[@]}"; do
  name=$(basename "$f")
  corpus=build-fuzz/corpus/$name
  findings=build-fuzz/findings/$name
  mkdir -p "$corpus" "$findings"
  # Seeds: each target may ship a seeds script listing vector files to copy.
  seeds=fuzz/${name%_fuzzer}.seeds
  if [ -f "$seeds" ]; then
    while IFS= read -r rel; do
      [ -z "$rel" ] || [ "${rel#\#}" != "$rel" ] && continue
      for src in $shared/vectors/$rel; do
        [ -f "$src" ] && cp -f "$src" "$corpus/" || true
      done
    done <"$seeds"
  fi
  echo "-- $name for ${seconds}s ($(ls "$corpus" | wc -l) seeds)"
  if ! "$f" -max_total_time="$seconds" -print_final_stats=1 -artifact_prefix="$findings/" \
      -rss_limit_mb=2048 -max_len=262144 "$corpus" 2>build-fuzz/$name.log; then
    status=1
    echo "fuzz.sh: $name FOUND A PROBLEM:" >&2
    tail -n 60 build-fuzz/$name.log >&2
  else
    grep -E 'stat::number_of_executed_units|stat::average_exec_per_sec|cov:' build-fuzz/$name.log | tail -n 3
  fi
done
exit $status
