# The agent's Secure Key Release parsers (src/agent/client/release_payload.h):
# --key references, the key_hsm blob and the release JWS payload, fuzzed bytes
# spliced into each member of a valid answer (no seeds needed).
tl_add_fuzzer(NAME agent_release_fuzzer SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/agent_release_fuzzer.cc
  DEPS tl_agent_client tl_token)
