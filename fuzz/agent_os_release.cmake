# /etc/os-release parser and the VM id normalizer (src/agent): host facts the
# agent reports (no seeds: plain text, the fuzzer finds the grammar quickly).
tl_add_fuzzer(NAME agent_os_release_fuzzer SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/agent_os_release_fuzzer.cc
  DEPS tl_agent)
