# SEV-SNP report parser + JSON view + certificate table parser (seeds: fuzz/snp_report.seeds).
tl_add_fuzzer(NAME snp_report_fuzzer SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/snp_report_fuzzer.cc
  DEPS tl_tee)
