# Event-log parser + replay (seeds: fuzz/eventlog_parser.seeds).
tl_add_fuzzer(NAME eventlog_parser_fuzzer SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/eventlog_parser_fuzzer.cc
  DEPS tl_eventlog)
