# tests for src/host/image_* (guest image builder), docs/guest-image.md.

# Pieces without downloads: cpio, modules, manifest, grub.cfg, parsers, CLI usage.
tl_add_test(NAME image_unit_test SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/image_unit_test.cc
  DEPS tl_host tl_common nlohmann_json::nlohmann_json LABELS host)
add_dependencies(image_unit_test tlaunch)

# The real build from Debian's archive: ONE ctest test (its cases share the
# builds). The .deb cache is shared by every image test of this build tree, so
# CI downloads the ~73 MB once; the images it leaves in image-test/ are the
# fixture of the boot test.
set(TL_IMAGE_CACHE_DIR ${CMAKE_BINARY_DIR}/image-cache)
set(TL_IMAGE_TEST_DIR ${CMAKE_BINARY_DIR}/image-test)
add_executable(image_build_test ${CMAKE_CURRENT_SOURCE_DIR}/image_build_test.cc)
target_link_libraries(image_build_test PRIVATE tl_host tl_common tl_testsupport nlohmann_json::nlohmann_json
  GTest::gtest GTest::gtest_main tl_warnings)
target_compile_definitions(image_build_test PRIVATE TL_IMAGE_CACHE_DIR="${TL_IMAGE_CACHE_DIR}"
  TL_IMAGE_TEST_DIR="${TL_IMAGE_TEST_DIR}")
add_dependencies(image_build_test tlaunch tlaunch-agent)
add_test(NAME image_build_test COMMAND image_build_test)
set_tests_properties(image_build_test PROPERTIES LABELS "image" TIMEOUT 900
  FIXTURES_SETUP tl_guest_images RESOURCE_LOCK tl_image_cache)

# Boots the images under QEMU/TCG with OVMF Secure Boot and swtpm. Not under
# sanitizers (the agent in the image would need the sanitizer runtime, and TCG
# boots are slow enough already).
if(NOT TL_SANITIZE)
  add_executable(image_boot_test ${CMAKE_CURRENT_SOURCE_DIR}/image_boot_test.cc)
  target_link_libraries(image_boot_test PRIVATE tl_host tl_common tl_testsupport
    GTest::gtest GTest::gtest_main tl_warnings)
  target_compile_definitions(image_boot_test PRIVATE TL_IMAGE_TEST_DIR="${TL_IMAGE_TEST_DIR}")
  add_test(NAME image_boot_test COMMAND image_boot_test)
  # One TCG boot at a time in the whole tree (vm_boot_test holds the same lock).
  set_tests_properties(image_boot_test PROPERTIES LABELS "vm" TIMEOUT 600 FIXTURES_REQUIRED tl_guest_images
    RESOURCE_LOCK tl_tcg_vm)
endif()
