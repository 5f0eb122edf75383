# Status and heartbeat file readers (src/agent): `tlaunch-agent status` reads
# files any process may have left behind (no seeds: the first byte picks the
# reader; odd bytes splice the input into a valid status document).
tl_add_fuzzer(NAME agent_status_fuzzer SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/agent_status_fuzzer.cc
  DEPS tl_agent)
