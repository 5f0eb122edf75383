# Agent settings parser (src/agent): the whole document, and the endpoint URL and
# frequency parsers alone or spliced into a valid document (the first byte picks;
# no seeds: the splice modes start from a valid document).
tl_add_fuzzer(NAME agent_settings_fuzzer SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/agent_settings_fuzzer.cc
  DEPS tl_agent)
