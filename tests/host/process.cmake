# tests for src/host/process.* (spawn/run by argv, exit codes, timeouts, missing programs)
tl_add_test(NAME process_test SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/process_test.cc
  DEPS tl_host tl_common tl_testsupport LABELS host)
