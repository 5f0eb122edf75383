#!/usr/bin/env bash
# The whole test suite, exactly as CI runs it (.ci/run calls this):
#   1. install packages (scripts/setup.sh)
#   2. release build + every test (ctest, parallel)
#   3. ASan+UBSan build + every test
#   4. libFuzzer targets (clang), each for FUZZ_SECONDS (default 30 here) on seeds
#      made from the real vectors in ../shared/vectors
# Environment: JOBS (default: nproc), FUZZ_SECONDS, SKIP_FUZZ=1, SKIP_ASAN=1.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
jobs=${JOBS:-$(nproc)}
shared=${TL_SHARED_DIR:-$root/../shared}

bash scripts/setup.sh

total_passed=0
total_failed=0

run_ctest() {  # $1 = build dir, $2 = label for the summary
  local log
  log=$(mktemp)
  set +e
  (cd "$1" && ctest -j"$jobs" --timeout 600 --output-on-failure) 2>&1 | tee "$log"
  local rc=${PIPESTATUS[0]}
  set -e
  local line passed failed
  line=$(grep -E '[0-9]+% tests passed, [0-9]+ tests? failed out of [0-9]+' "$log" | tail -n1 || true)
  if [ -z "$line" ]; then
    echo "test.sh: $2: ctest printed no summary (rc=$rc)" >&2
    total_failed=$((total_failed + 1))
  else
    failed=$(sed -E 's/.* ([0-9]+) tests? failed out of ([0-9]+).*/\1/' <<<"$line")
    passed=$(( $(sed -E 's/.* out of ([0-9]+).*/\1/' <<<"$line") - failed ))
    total_passed=$((total_passed + passed))
    total_failed=$((total_failed + failed))
  fi
  # Skipped tests are listed by ctest; they are not counted as passed below.
  local skipped
  skipped=$(grep -c "\*\*\*Skipped" "$log" || true)
  if [ "$skipped" -gt 0 ]; then
    total_passed=$((total_passed - skipped))
    echo "test.sh: $2: $skipped test(s) skipped (not counted as passed)"
  fi
  rm -f "$log"
  [ "$rc" -eq 0 ] || echo "test.sh: $2: ctest failed (rc=$rc)" >&2
}

echo "== release build"
cmake -S . -B build -G Ninja -DTL_SHARED_DIR="$shared" >/dev/null
cmake --build build -j"$jobs"
run_ctest build release

if [ "${SKIP_ASAN:-0}" != 1 ]; then
  echo "== ASan+UBSan build"
  cmake -S . -B build-asan -G Ninja -DTL_SANITIZE=ON -DTL_BENCH=OFF -DCMAKE_BUILD_TYPE=Debug \
    -DTL_SHARED_DIR="$shared" >/dev/null
  cmake --build build-asan -j"$jobs"
  ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 run_ctest build-asan asan
  # The objects are only needed to relink; dropping them keeps the whole run
  # within a few GB of disk (the binaries stay for re-running a failed test).
  find build-asan -name '*.o' -delete
fi

if [ "${SKIP_FUZZ:-0}" != 1 ]; then
  echo "== fuzzers"
  if FUZZ_SECONDS=${FUZZ_SECONDS:-30} bash scripts/fuzz.sh; then
    total_passed=$((total_passed + 1))
  else
    echo "test.sh: fuzzing found a problem (see above)" >&2
    total_failed=$((total_failed + 1))
  fi
fi

echo
echo "summary: $total_passed passed, $total_failed failed"
[ "$total_failed" -eq 0 ]
