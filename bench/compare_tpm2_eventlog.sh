#!/usr/bin/env bash
# Side-by-side: trustlaunch's event-log parse+replay vs tpm2-tools' tpm2_eventlog
# on the same vector logs (bench/RESULTS.md, "Event log").
#
#   bench/compare_tpm2_eventlog.sh [BUILD_DIR]      (default: build)
#
# 1. checks that both tools replay the same PCR values for every log;
# 2. whole-process time per invocation, `tlaunch eventlog inspect FILE` (parse,
#    replay, every fact and hardening check, printed) vs `tpm2_eventlog FILE`
#    (parse, replay, the whole log printed as YAML), with hyperfine (installed by
#    scripts/setup.sh) or, if it is missing, a bounded loop of RUNS runs;
# 3. in-process throughput from eventlog_bench (Google Benchmark).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
shared=${TL_SHARED_DIR:-$PWD/../shared}
runs=${RUNS:-200}
bench=$build/bench/eventlog_bench
tlaunch=$build/tlaunch
for b in "$bench" "$tlaunch"; do
  [ -x "$b" ] || { echo "build $b first: cmake --build $build --target eventlog_bench tlaunch" >&2; exit 2; }
done
command -v tpm2_eventlog >/dev/null || { echo "tpm2_eventlog not installed (tpm2-tools)" >&2; exit 2; }

logs=(
  "$shared/vectors/ovmf-secureboot/eventlog_sb_debian_chain.bin"
  "$shared/vectors/eventlogs/event-gce-ubuntu-2104-log.bin"
  "$shared/vectors/eventlogs/keylime-sb-enabled.bin"
)

echo "== machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "== tpm2_eventlog: $(dpkg-query -W -f='${Version}' tpm2-tools 2>/dev/null || echo unknown)"

echo "== 1. same PCRs from both tools"
for f in "${logs[@]}"; do
  ours=$("$bench" --replay "$f" | awk '/^[a-z0-9_]+:$/{bank=$1} /^  [0-9]+:/{sub(":","",$1); print bank, $1, $2}' | sort)
  theirs=$(tpm2_eventlog "$f" 2>/dev/null | awk '/^pcrs:/{p=1; next} p && /^  [a-z0-9_]+:$/{bank=$1} p && /^    [0-9]+ *:/{v=$NF; sub("0x","",v); print bank, $1, v}' | sort)
  if [ "$ours" = "$theirs" ]; then echo "  $(basename "$f"): identical ($(echo "$ours" | wc -l) PCR values)"
  else echo "  $(basename "$f"): DIFFERENT"; diff <(echo "$ours") <(echo "$theirs") | head; exit 1; fi
done

echo "== 2. whole process, one log per invocation"
if command -v hyperfine >/dev/null; then
  for f in "${logs[@]}"; do
    hyperfine -N --warmup 20 --runs "$runs" --style basic \
      -n "tlaunch eventlog inspect $(basename "$f")" "$tlaunch eventlog inspect $f" \
      -n "tpm2_eventlog $(basename "$f")" "tpm2_eventlog $f" 2>&1 | grep -Ev '^\s*$'
  done
else
  for f in "${logs[@]}"; do
    for tool in "$tlaunch eventlog inspect" "tpm2_eventlog"; do
      start=$(date +%s%N)
      for _ in $(seq "$runs"); do $tool "$f" >/dev/null 2>&1; done
      end=$(date +%s%N)
      echo "  $(basename "$f") ${tool%% *}: $(( (end - start) / runs / 1000 )) us/run over $runs runs"
    done
  done
fi

echo "== 2b. CPU time per invocation (perf stat task-clock; robust to a busy machine)"
if command -v perf >/dev/null && perf stat -e task-clock true >/dev/null 2>&1; then
  for f in /dev/null "${logs[@]}"; do
    for tool in "$tlaunch eventlog inspect" "tpm2_eventlog"; do
      ms=$(perf stat -r "$runs" -e task-clock $tool "$f" 2>&1 >/dev/null | awk '/task-clock/{print $1}' || true)
      printf '  %-34s %-14s %s ms CPU/run\n' "$(basename "$f")" "$(basename "${tool%% *}")" "$ms"
    done
  done
  echo "  (/dev/null = process start-up only: both tools reject an empty file)"
else
  echo "  perf not usable here; skipped"
fi

echo "== 3. in process (a log already in memory: parse + replay, and parse + replay + facts)"
"$bench" --benchmark_filter='ParseReplay(Facts)?/(eventlog_sb_debian_chain|event-gce|keylime-sb-enabled)' \
  --benchmark_min_time=1 --benchmark_repetitions=3 --benchmark_report_aggregates_only=true
