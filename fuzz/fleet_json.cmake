# Strict fleet request decoding (src/fleet/fleet.h: VM spec, VM patch,
# suppression), fuzzed bytes spliced into each member of valid requests.
tl_add_fuzzer(NAME fleet_json_fuzzer SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/fleet_json_fuzzer.cc
  DEPS tl_fleet tl_token)
