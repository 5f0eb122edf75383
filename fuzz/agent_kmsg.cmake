# The kernel module report's parsers (src/agent/kernel_modules.h): /dev/kmsg
# records, dmesg/journal lines, IMA measurement lines, the taint file. Seeds:
# fuzz/agent_kmsg.seeds (real guest console logs with dmesg lines).
tl_add_fuzzer(NAME agent_kmsg_fuzzer SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/agent_kmsg_fuzzer.cc
  DEPS tl_agent)
