# Azure HCL report (src/tee/hcl_report.h) and the CVM evidence JSON decoder
# (src/verify/cvm.h): whole reports, fuzzed runtime data spliced into a valid
# header (so the JSON/JWK paths need no seed), and evidence documents.
tl_add_fuzzer(NAME hcl_report_fuzzer SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/hcl_report_fuzzer.cc
  DEPS tl_verify tl_tee)
