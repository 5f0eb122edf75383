# Decoders behind the event-log facts (seeds: fuzz/eventlog_facts.seeds; the
# first byte picks the decoder, 0 = a whole log, so log seeds reach the facts).
tl_add_fuzzer(NAME eventlog_facts_fuzzer SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/eventlog_facts_fuzzer.cc
  DEPS tl_eventlog)
