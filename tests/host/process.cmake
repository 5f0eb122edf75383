# tests for src/host/process.* (spawn/run by argv, exit codes, timeouts, missing programs)
tl_add_test(NAME process_test SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/process_test.cc
  DEPS tl_host tl_common tl_testsupport LABELS host)

# tests for src/host/console_log.* (the guest console as the supervisor reads and caps it)
tl_add_test(NAME console_log_test SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/console_log_test.cc
  DEPS tl_host tl_common tl_testsupport LABELS host)
