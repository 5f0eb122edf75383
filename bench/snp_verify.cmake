# SEV-SNP report verification throughput, chain cached (SnpVerifier) vs not
# (bench/RESULTS.md, "SEV-SNP").
tl_add_bench(NAME snp_verify_bench SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/snp_verify_bench.cc DEPS tl_tee)
target_compile_definitions(snp_verify_bench PRIVATE TL_SHARED_DIR_DEFAULT="${TL_SHARED_DIR}")
# Smoke run in the test suite so the benchmark cannot rot unnoticed (not a timing check).
if(TL_TESTS)
  add_test(NAME snp_verify_bench_smoke COMMAND snp_verify_bench --benchmark_min_time=0.01)
  set_tests_properties(snp_verify_bench_smoke PROPERTIES LABELS bench SKIP_RETURN_CODE 77)
endif()
