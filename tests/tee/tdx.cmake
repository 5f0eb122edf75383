# TDX quotes, TDREPORT, TDX collateral and the CCEL log (docs/tee-tdx.md).
tl_add_test(NAME tee_tdx_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/tdx_quote_test.cc ${CMAKE_CURRENT_LIST_DIR}/tdx_verify_test.cc
          ${CMAKE_CURRENT_LIST_DIR}/tdx_collateral_test.cc ${CMAKE_CURRENT_LIST_DIR}/ccel_test.cc
  DEPS tl_tee tl_crypto OpenSSL::Crypto nlohmann_json::nlohmann_json
  LABELS tee)
