// Fuzzes the key vault's request decoders (src/server/key_json.h):
// parse_create_request, parse_import_request, parse_update_request and
// parse_release_policy. The body is parsed as tlaunchd parses requests
// (token::parse_json_object); the first byte picks the decoder and whether the
// rest is the whole body or raw JSON spliced into one member of a valid request.
// Invariants: a rejection carries a reason and a message; an accepted create
// names a supported key spec; an accepted policy re-parses from its own JSON.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_support.h"
#include "server/key_json.h"
#include "token/strict_json.h"

using tl::fuzz::check;

namespace {

// '@' marks where the fuzzer's bytes go. 0-3: create, 4-5: import, 6-7: update, 8: policy.
constexpr std::string_view kTemplates[] = {
    R"({"kty":@,"key_size":@})",
    R"({"kty":"EC","crv":@,"key_ops":@})",
    R"({"kty":"oct","attributes":{"exportable":true,"nbf":@},"release_policy":{"data":@}})",
    R"({"kty":"RSA","attributes":@,"tags":@,"release_policy":{"data":{"version":"1.0.0","anyOf":[{"authority":"https://a","allOf":[{"claim":@,"equals":@}]}]}}})",
    R"({"key":{"kty":"oct","k":@}})",
    R"({"key_pem":@,"attributes":{"enabled":@}})",
    R"({"attributes":{"enabled":@,"exportable":@,"exp":@}})",
    R"({"release_policy":@,"key_ops":@})",
    R"({"data":@,"immutable":@})",
};

bool supported(const tl::crypto::KeySpec& s) {
  using tl::crypto::KeyKind;
  if (s.kind == KeyKind::rsa) return s.bits == 2048 || s.bits == 3072 || s.bits == 4096;
  if (s.kind == KeyKind::ec) return s.bits == 256 || s.bits == 384;
  return s.bits == 256;
}

void decode(size_t which, const nlohmann::json& j) {
  if (which == 0) {
    auto k = tl::server::parse_create_request(j);
    if (!k.ok()) {
      check(!k.error().reason.empty() && !k.error().message.empty());
      return;
    }
    check(supported(k->spec));
    if (k->release_policy) check(tl::policy::ReleasePolicy::parse(k->release_policy->policy.json().dump()).ok());
  } else if (which == 1) {
    auto k = tl::server::parse_import_request(j);
    if (!k.ok()) check(!k.error().reason.empty() && !k.error().message.empty());
    else check(supported(k->material.spec()));
  } else if (which == 2) {
    auto u = tl::server::parse_update_request(j);
    if (!u.ok()) check(!u.error().reason.empty() && !u.error().message.empty());
  } else {
    auto p = tl::server::parse_release_policy(j);
    if (!p.ok()) {
      check(p.error().reason == "release-policy-invalid" && !p.error().message.empty());
      return;
    }
    (void)tl::server::release_policy_json(*p).dump();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string_view payload(reinterpret_cast<const char*>(data + 1), size - 1);
  const size_t pick = data[0] % (std::size(kTemplates) + 4);
  std::string text;
  size_t which = 0;
  if (pick < 4) {
    text = payload;
    which = pick;
  } else {
    const size_t t = pick - 4;
    which = t < 4 ? 0 : t < 6 ? 1 : t < 8 ? 2 : 3;
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
