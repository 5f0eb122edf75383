# Azure HCL report (vTPM NV index 0x01400001): parsing, the runtime-data binding,
# hostile inputs (docs/tee-hcl.md).
tl_add_test(NAME tee_hcl_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/hcl_report_test.cc
  DEPS tl_tee tl_crypto)
