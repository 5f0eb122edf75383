# CCEL (TDX event log) parser and RTMR replay; no real vector exists, so the
# corpus starts empty (the header layout is small enough to be found).
tl_add_fuzzer(NAME ccel_fuzzer SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/ccel_fuzzer.cc
  DEPS tl_tee)
