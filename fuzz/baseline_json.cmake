# Baselines (src/policy/baseline.h): the strict JSON reader, with fuzzed bytes
# spliced into each member of a valid baseline, and variant_from_eventlog on
# fuzzed logs (seeded with the real logs, fuzz/baseline_json.seeds).
tl_add_fuzzer(NAME baseline_json_fuzzer SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/baseline_json_fuzzer.cc
  DEPS tl_policy tl_eventlog)
