# The fleet monitor at 1,000,000 VMs: staleness sweep and summary
# (bench/RESULTS.md, "Fleet at 1,000,000 VMs"). The population is built once
# into $TL_FLEET_BENCH_DIR (default $TMPDIR/tl_fleet_scale, ~0.5 GB) and reused.
tl_add_bench(NAME fleet_scale SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/fleet_scale.cc DEPS tl_fleet tl_store)
