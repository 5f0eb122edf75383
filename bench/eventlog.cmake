# Event-log parse + replay throughput (bench/RESULTS.md, "Event log").
tl_add_bench(NAME eventlog_bench SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/eventlog_bench.cc DEPS tl_eventlog)
target_compile_definitions(eventlog_bench PRIVATE TL_SHARED_DIR_DEFAULT="${TL_SHARED_DIR}")
