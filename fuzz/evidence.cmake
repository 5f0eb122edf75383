# Evidence decoding (src/verify/evidence.h): request bodies, and fuzzed bytes
# spliced into each member of a valid document (the first byte picks which), so
# no seed corpus is needed to reach the field decoders.
tl_add_fuzzer(NAME evidence_fuzzer SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/evidence_fuzzer.cc
  DEPS tl_verify)
