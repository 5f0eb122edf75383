# AMD SEV-SNP: report parsing (hostile inputs), verification against AMD-signed
# vectors, the certificate table, the offline store and the KDS client against a
# real HTTP server on 127.0.0.1 (docs/tee-snp.md).
tl_add_test(NAME tee_snp_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/snp_verify_test.cc ${CMAKE_CURRENT_LIST_DIR}/snp_report_test.cc
  DEPS tl_tee tl_crypto OpenSSL::Crypto nlohmann_json::nlohmann_json
  LABELS tee)
tl_add_test(NAME tee_snp_kds_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/snp_kds_test.cc
  DEPS tl_tee tl_http tl_crypto nlohmann_json::nlohmann_json
  LABELS tee)
