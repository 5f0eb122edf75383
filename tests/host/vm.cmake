# tests for src/host VM runtime (config, state, QEMU argv, console markers,
# vTPM CA, supervisor), docs/host.md.

# Pure parts: vm.json / state.json (hostile input), state machine, QEMU argv,
# agent.conf, console markers.
tl_add_test(NAME vm_unit_test SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/vm_unit_test.cc
  DEPS tl_host tl_common nlohmann_json::nlohmann_json LABELS host)

# The CLI's argument checks and pre-boot errors (runs swtpm_setup, no QEMU).
tl_add_test(NAME vm_cli_test SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/vm_cli_test.cc DEPS tl_common LABELS host)
add_dependencies(vm_cli_test tlaunch)

# The host CA + a VM's vTPM with the real swtpm_setup, swtpm and openssl.
tl_add_swtpm_test(vm_ca_test SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/vm_ca_test.cc TOOLS swtpm_setup openssl
  DEPS tl_host LABELS host)

# Real VMs under QEMU/TCG: ONE ctest test (the cases share the boot disks;
# each boot costs 15-35 s). Not under sanitizers: the boots are slow enough.
# The disks are built by vm_test_esp.sh from Debian's signed packages, taken
# from the image tests' .deb cache (build/image-cache, downloaded there with
# apt-get download when missing; TL_VM_TEST_DEBS names another directory).
if(NOT TL_SANITIZE)
  add_executable(vm_boot_test ${CMAKE_CURRENT_SOURCE_DIR}/vm_boot_test.cc)
  target_link_libraries(vm_boot_test PRIVATE tl_host tl_common tl_testsupport nlohmann_json::nlohmann_json
    GTest::gtest GTest::gtest_main tl_warnings)
  target_compile_definitions(vm_boot_test PRIVATE
    TL_VM_TEST_ESP_SCRIPT="${CMAKE_CURRENT_SOURCE_DIR}/vm_test_esp.sh"
    TL_VM_TEST_ESP_DIR="${CMAKE_BINARY_DIR}/vm-test-esp"
    TL_VM_TEST_DEBS_DIR="${CMAKE_BINARY_DIR}/image-cache")
  add_dependencies(vm_boot_test tlaunch)
  add_test(NAME vm_boot_test COMMAND vm_boot_test)
  # One TCG boot at a time (boots in parallel on 2 cores run into their
  # timeouts), and the .deb cache is not written by two tests at once.
  set_tests_properties(vm_boot_test PROPERTIES LABELS "vm" TIMEOUT 900 RESOURCE_LOCK "tl_tcg_vm;tl_image_cache")
endif()

# Local VMs and tlaunchd's inventory (register, PATCH, host-events, delete)
# with the real tlaunchd; QEMU starts but no guest boots.
if(NOT TL_SANITIZE)
  tl_add_test(NAME vm_fleet_test SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/vm_fleet_test.cc
    DEPS tl_host tl_common nlohmann_json::nlohmann_json LABELS integration)
  add_dependencies(vm_fleet_test tlaunch tlaunchd)
endif()

# The OVMF varstore parser and Secure Boot check, on Debian's real OVMF files.
tl_add_test(NAME uefi_varstore_test SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/uefi_varstore_test.cc
  DEPS tl_host tl_common LABELS host)
