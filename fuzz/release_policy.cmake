# Release policies (src/policy/release_policy.h): parse, then evaluate against
# fixed verified tokens; fuzzed bytes are also spliced into each place of a
# valid policy, so there are no seeds (shared/vectors holds no policies).
tl_add_fuzzer(NAME release_policy_fuzzer SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/release_policy_fuzzer.cc
  DEPS tl_policy tl_token)
