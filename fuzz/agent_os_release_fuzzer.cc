// Fuzzes the os-release parser (and, on the same bytes, the VM id normalizer).
// Invariants: a rejection names the line (or the size); an accepted file has
// only valid key names and no control characters in its values; the derived
// fields agree with the assignments; VERSION_ID's numbers agree with
// parse_version_id; an accepted VM id is canonical and normalizes to itself.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "agent/os_release.h"
#include "agent/vm_id.h"
#include "fuzz_support.h"

using tl::fuzz::check;

namespace {

bool valid_key(const std::string& k) {
  if (k.empty()) return false;
  if (!((k[0] >= 'A' && k[0] <= 'Z') || (k[0] >= 'a' && k[0] <= 'z') || k[0] == '_')) return false;
  for (char c : k) {
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto r = tl::agent::parse_os_release(text);
  if (!r.ok()) {
    check(r.error().reason == "os-release-malformed");
    check(r.error().message.rfind("line ", 0) == 0 || r.error().message.rfind("os-release is ", 0) == 0);
  } else {
    for (const auto& [k, v] : r->fields) {
      check(valid_key(k));
      for (char c : v) {
        const auto u = static_cast<unsigned char>(c);
        check(u >= 0x20 || c == '\t');
        check(u != 0x7f);
      }
    }
    const auto id = r->fields.find("ID");
    check(id == r->fields.end() ? r->id == "linux" : r->id == id->second);
    check(r->version == tl::agent::parse_version_id(r->version_id));
  }

  auto vm = tl::agent::normalize_vm_id(text);
  if (vm.ok()) {
    check(vm->size() == 36);
    for (char c : *vm) check((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || c == '-');
    auto again = tl::agent::normalize_vm_id(*vm);
    check(again.ok() && *again == *vm);
  } else {
    check(vm.error().reason == "vm-id-invalid" && !vm.error().message.empty());
  }
  return 0;
}
