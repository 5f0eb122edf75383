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
# (libcpp-httplib-dev, libcivetweb-dev); without them http_candidates serves
# only --lib tl (enough for the smoke test and for measuring tl_http).
find_package(PkgConfig)
if(PkgConfig_FOUND)
  pkg_check_modules(CPP_HTTPLIB IMPORTED_TARGET cpp-httplib)
endif()
# Debian 12's civetweb CMake package refers to /usr/bin/civetweb (another
# package) and fails; find the library directly.
find_library(CIVETWEB_LIBRARY civetweb)
find_path(CIVETWEB_INCLUDE_DIR civetweb.h)
add_executable(http_candidates ${CMAKE_CURRENT_SOURCE_DIR}/http_candidates.cc
  ${CMAKE_CURRENT_SOURCE_DIR}/http_cand_tl.cc)
target_link_libraries(http_candidates PRIVATE tl_http tl_echo_workload tl_common tl_warnings)
if(CPP_HTTPLIB_FOUND AND CIVETWEB_LIBRARY AND CIVETWEB_INCLUDE_DIR)
  target_sources(http_candidates PRIVATE
    ${CMAKE_CURRENT_SOURCE_DIR}/http_cand_httplib.cc ${CMAKE_CURRENT_SOURCE_DIR}/http_cand_civetweb.cc)
  target_link_libraries(http_candidates PRIVATE PkgConfig::CPP_HTTPLIB ${CIVETWEB_LIBRARY})
  target_include_directories(http_candidates PRIVATE ${CIVETWEB_INCLUDE_DIR})
  target_compile_definitions(http_candidates PRIVATE TL_HAVE_OTHER_CANDIDATES=1)
else()
  message(STATUS "http_candidates: cpp-httplib or civetweb missing, only --lib tl is built")
endif()

# The driver and tl_http still work together (not a timing check).
if(TL_TESTS)
  add_test(NAME http_load_smoke COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/http_load_smoke.sh ${CMAKE_BINARY_DIR})
  set_tests_properties(http_load_smoke PROPERTIES LABELS "bench;http" TIMEOUT 240)
endif()
