# Request-target decoding and route matching (src/http/target.cc, router.cc):
# the only HTTP parsing we wrote ourselves; Beast parses the messages. No
# seeds: the first byte picks the method, the rest is the target.
tl_add_fuzzer(NAME http_router_fuzzer SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/http_router_fuzzer.cc
  DEPS tl_http)
