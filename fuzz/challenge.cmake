# Challenge check (src/verify): arbitrary bytes against fixed keys (no seeds:
# the size check comes first, so the interesting inputs are 34 bytes long).
tl_add_fuzzer(NAME challenge_fuzzer SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/challenge_fuzzer.cc
  DEPS tl_verify)
