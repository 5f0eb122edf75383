# HTTP layer: the load driver (bench/load, library tl_loadgen + CLI tl-load)
# and the candidate servers of the library comparison (docs/http-server.md).
add_library(tl_loadgen STATIC ${CMAKE_CURRENT_SOURCE_DIR}/load/loadgen.cc)
target_include_directories(tl_loadgen PUBLIC ${CMAKE_CURRENT_SOURCE_DIR})
target_link_libraries(tl_loadgen PUBLIC tl_http tl_common PRIVATE tl_warnings)

add_executable(tl-load ${CMAKE_CURRENT_SOURCE_DIR}/load/main.cc)
target_link_libraries(tl-load PRIVATE tl_loadgen tl_warnings)

add_library(tl_echo_workload STATIC ${CMAKE_CURRENT_SOURCE_DIR}/load/echo_workload.cc)
target_include_directories(tl_echo_workload PUBLIC ${CMAKE_CURRENT_SOURCE_DIR})
target_link_libraries(tl_echo_workload PRIVATE nlohmann_json::nlohmann_json tl_warnings)

# The comparison needs the other candidates' Debian packages
# (libcpp-httplib-dev, libcivetweb-dev); without them only tl_http is built.
find_package(PkgConfig)
if(PkgConfig_FOUND)
  pkg_check_modules(CPP_HTTPLIB IMPORTED_TARGET cpp-httplib)
endif()
# Debian 12's civetweb CMake package refers to /usr/bin/civetweb (another
# package) and fails; find the library directly.
find_library(CIVETWEB_LIBRARY civetweb)
find_path(CIVETWEB_INCLUDE_DIR civetweb.h)
set(tl_candidate_sources ${CMAKE_CURRENT_SOURCE_DIR}/http_candidates.cc ${CMAKE_CURRENT_SOURCE_DIR}/http_cand_tl.cc)
set(tl_candidate_libs tl_http tl_echo_workload tl_common)
if(CPP_HTTPLIB_FOUND AND CIVETWEB_LIBRARY AND CIVETWEB_INCLUDE_DIR)
  add_executable(http_candidates ${tl_candidate_sources}
    ${CMAKE_CURRENT_SOURCE_DIR}/http_cand_httplib.cc ${CMAKE_CURRENT_SOURCE_DIR}/http_cand_civetweb.cc)
  target_link_libraries(http_candidates PRIVATE ${tl_candidate_libs} PkgConfig::CPP_HTTPLIB ${CIVETWEB_LIBRARY} tl_warnings)
  target_include_directories(http_candidates PRIVATE ${CIVETWEB_INCLUDE_DIR})
else()
  message(STATUS "http_candidates: cpp-httplib or civetweb missing, comparison binary not built")
endif()
