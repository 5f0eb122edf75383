# TDX quote parser: parse, exact re-serialisation, JSON, and (for inputs that
# parse) the verifier's check list (seeds: fuzz/tdx_quote.seeds).
tl_add_fuzzer(NAME tdx_quote_fuzzer SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/tdx_quote_fuzzer.cc
  DEPS tl_tee)
