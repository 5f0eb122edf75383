# The whole attestation HTTP path under load (bench/attest_load.sh runs it).
add_executable(attest-load ${CMAKE_CURRENT_SOURCE_DIR}/attest_load.cc)
target_link_libraries(attest-load PRIVATE tl_loadgen tl_agent_client tl_token nlohmann_json::nlohmann_json tl_warnings)
set_target_properties(attest-load PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR})
