// Fuzzes the fleet's strict request decoders (src/fleet/fleet.h):
// vm_spec_from_json, vm_patch_from_json, suppression_from_json. The body is
// parsed as tlaunchd parses requests (token::parse_json_object). The first
// byte picks the decoder and where the rest goes: the whole body, or raw JSON
// text spliced into one member of an otherwise valid request, so every
// member's decoder is reached without a seed corpus.
// Invariants: a rejection carries its decoder's reason and a message; an
// accepted request re-renders (for a spec, as the VM the API would show) and
// satisfies the documented limits.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fleet/fleet.h"
#include "fuzz_support.h"
#include "token/strict_json.h"

using tl::fuzz::check;

namespace {

// '@' marks the member the fuzzer's bytes replace. 0-4: VM spec, 5-7: patch, 8-9: suppression.
constexpr std::string_view kTemplates[] = {
    R"({"name":@,"vmId":"v-1","group":"pool","securityProfile":{"securityType":"TrustedLaunch"}})",
    R"({"name":"web-01","id":@,"vmId":@,"group":"pool","securityProfile":{"securityType":"TrustedLaunch"}})",
    R"({"name":"web-01","vmId":"v-1","group":@,"securityProfile":@})",
    R"({"name":"web-01","vmId":"v-1","group":"pool","securityProfile":{"securityType":@,"uefiSettings":@,"enableTpm":@}})",
    R"({"name":"web-01","vmId":"v-1","group":"pool","securityProfile":{"securityType":"Standard"},"agentInstalled":@,"powerState":@})",
    R"({"id":@,"group":@})",
    R"({"securityProfile":{"securityType":"TrustedLaunch","uefiSettings":{"secureBootEnabled":@}}})",
    R"({"agentInstalled":@,"powerState":@,"unbindEk":@})",
    R"({"group":@,"vm":@,"reason":"maintenance"})",
    R"({"kind":@,"reason":@})",
};

bool valid_name(const std::string& s) {
  if (s.empty() || s.size() > 64) return false;
  for (unsigned char c : s) {
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
          c == '-')) {
      return false;
    }
  }
  return true;
}

void decode(size_t which, const nlohmann::json& j) {
  if (which == 0) {
    auto s = tl::fleet::vm_spec_from_json(j);
    if (!s.ok()) {
      check(s.error().reason == "vm-invalid" && !s.error().message.empty());
      return;
    }
    check(valid_name(s->name) && valid_name(s->group));
    check(!s->vm_id.empty() && s->vm_id.size() <= 128 && s->resource_id.size() <= 512);
    tl::fleet::Vm vm;
    vm.spec = *s;
    (void)tl::fleet::to_json(vm).dump();
  } else if (which == 1) {
    auto p = tl::fleet::vm_patch_from_json(j);
    if (!p.ok()) {
      check(p.error().reason == "vm-invalid" && !p.error().message.empty());
      return;
    }
    check(!p->group || valid_name(*p->group));
    check(!p->resource_id || p->resource_id->size() <= 512);
  } else {
    auto s = tl::fleet::suppression_from_json(j);
    if (!s.ok()) {
      check(s.error().reason == "suppression-invalid" && !s.error().message.empty());
      return;
    }
    check(s->group || s->vm || s->kind);
    check(!s->reason.empty() && s->reason.size() <= 512);
    (void)tl::fleet::to_json(*s).dump();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string_view payload(reinterpret_cast<const char*>(data + 1), size - 1);
  const size_t pick = data[0] % (std::size(kTemplates) + 3);
  std::string text;
  size_t which = 0;
  if (pick < 3) {
    text = payload;  // a whole body for each decoder
    which = pick;
  } else {
    const size_t t = pick - 3;
    which = t < 5 ? 0 : t < 8 ? 1 : 2;
    for (char c : kTemplates[t]) {
      if (c == '@') text += payload;
      else text += c;
    }
  }
  auto j = tl::token::parse_json_object(text);
  if (!j.ok()) return 0;
  decode(which, *j);
  return 0;
}
