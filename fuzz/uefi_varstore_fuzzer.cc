// Fuzzes parse_varstore and check_secure_boot_varstore. Beyond the sanitizers
// it checks the parser's promises: every failure has a message naming an
// offset, parsed records lie inside the store in increasing order, and the
// check's failures carry the reason uefi-keys-invalid.
#include <cstddef>
#include <cstdint>

#include "fuzz_support.h"
#include "host/uefi_varstore.h"

using tl::fuzz::check;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const tl::ByteView in(data, size);
  auto s = tl::host::uefi::parse_varstore(in);
  if (!s.ok()) {
    check(s.error().message.find("offset 0x") != std::string::npos);
  } else {
    size_t prev = 0;
    for (const auto& v : s->variables) {
      check(v.offset >= prev && v.offset >= s->store_offset + 28);
      check(v.data_offset + v.data.size() <= s->store_end && s->store_end <= size);
      prev = v.offset + 60;
    }
    check(s->list_end >= s->store_offset + 28);
  }
  auto c = tl::host::uefi::check_secure_boot_varstore(in);
  if (!c.ok()) check(c.error().reason == "uefi-keys-invalid" && !c.error().message.empty());
  return 0;
}
