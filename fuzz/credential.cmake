# Credential file parser + make_credential over arbitrary EK public areas (seeds: fuzz/credential.seeds).
tl_add_fuzzer(NAME credential_fuzzer SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/credential_fuzzer.cc
  DEPS tl_tpm tl_crypto)
