# The key vault's request decoders (src/server/key_json.h: create, import,
# update, release policy documents), fuzzed bytes spliced into each member.
tl_add_fuzzer(NAME key_request_fuzzer SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/key_request_fuzzer.cc
  DEPS tl_server tl_token)
