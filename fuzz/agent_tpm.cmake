# The agent's parsers of TPM-provided bytes: the EK certificate NV contents and
# the stored runtime key blob.
tl_add_fuzzer(NAME agent_tpm_fuzzer SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/agent_tpm_fuzzer.cc
  DEPS tl_agent_tpm)
