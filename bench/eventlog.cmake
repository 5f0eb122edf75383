# Event-log parse + replay throughput (bench/RESULTS.md, "Event log").
tl_add_bench(NAME eventlog_bench SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/eventlog_bench.cc DEPS tl_eventlog)
target_compile_definitions(eventlog_bench PRIVATE TL_SHARED_DIR_DEFAULT="${TL_SHARED_DIR}")
# Smoke run in the test suite so the benchmark cannot rot unnoticed (not a timing check).
if(TL_TESTS)
  add_test(NAME eventlog_bench_smoke COMMAND eventlog_bench --benchmark_min_time=0.01
    --benchmark_filter=ParseReplayFacts/eventlog_sb_debian_chain)
  set_tests_properties(eventlog_bench_smoke PROPERTIES LABELS bench SKIP_RETURN_CODE 77)
endif()
