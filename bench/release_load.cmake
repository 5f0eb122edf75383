# Secure Key Release over HTTP under load (bench/release_load.sh runs it).
add_executable(release-load ${CMAKE_CURRENT_SOURCE_DIR}/release_load.cc)
target_link_libraries(release-load PRIVATE tl_loadgen tl_agent_client tl_token nlohmann_json::nlohmann_json tl_warnings)
set_target_properties(release-load PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR})
