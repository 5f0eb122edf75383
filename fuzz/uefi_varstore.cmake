# OVMF varstore parser + Secure Boot check (src/host/uefi_varstore.h).
tl_add_fuzzer(NAME uefi_varstore_fuzzer SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/uefi_varstore_fuzzer.cc
  DEPS tl_host)
