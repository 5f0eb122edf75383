# TPM structures + PCR file parser (seeds: fuzz/tpm_structures.seeds; first byte picks the parser).
tl_add_fuzzer(NAME tpm_structures_fuzzer SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/tpm_structures_fuzzer.cc
  DEPS tl_tpm)
