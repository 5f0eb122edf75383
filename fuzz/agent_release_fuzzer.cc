// Fuzzes the agent's release parsers: what tlaunchd (or whoever answers in
// its place) sends back is hostile until checked. The first byte picks the
// parser and where the rest goes: --key text, a whole key_hsm (as base64url
// of the bytes, or raw), a whole payload, or raw JSON text spliced into one
// member of a valid key_hsm or payload, so every check is reached.
// Invariants: a refusal carries the parser's reason and a message (key_hsm's
// starting "key_hsm: "); what is accepted satisfies the documented rules (a
// reference re-parses from its path; a key_hsm re-encodes to the same values;
// a payload names a version of the key asked for, with our enc).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "agent/client/release_payload.h"
#include "fuzz_support.h"
#include "token/base64url.h"
#include "token/strict_json.h"

using tl::fuzz::check;
using namespace tl::agent;

namespace {

constexpr const char* kIssuer = "https://kv.example:8443";

std::string b64(std::string_view s) {
  return tl::token::base64url_encode(tl::ByteView(reinterpret_cast<const uint8_t*>(s.data()), s.size()));
}

// '@' marks where the fuzzer's JSON text goes.
constexpr std::string_view kHsmTemplates[] = {
    R"({"schema_version":@,"header":{"kid":"k","alg":"dir","enc":"RSA_AES_KEY_WRAP_256"},"ciphertext":"AAAA"})",
    R"({"schema_version":"1.0","header":@,"ciphertext":"AAAA","generator":"trustlaunch"})",
    R"({"schema_version":"1.0","header":{"kid":@,"alg":@,"enc":"RSA_AES_KEY_WRAP_256"},"ciphertext":"AAAA"})",
    R"({"schema_version":"1.0","header":{"kid":"k","alg":"dir","enc":@},"ciphertext":@})",
    R"({"schema_version":"1.0","header":{"kid":"k","alg":"dir","enc":"CKM_RSA_AES_KEY_WRAP"},"ciphertext":"AAAA","generator":@})",
};

constexpr std::string_view kPayloadTemplates[] = {
    R"({"iss":@,"request":{"enc":"RSA_AES_KEY_WRAP_256","nonce":"n","kid":"https://kv.example:8443/keys/k1"},"response":{"key":{"key":{"kid":"https://kv.example:8443/keys/k1/0f3c5a6b7c8d9e0f1a2b3c4d5e6f7a8b","kty":"oct","key_hsm":"HSM"}}}})",
    R"({"iss":"https://kv.example:8443","request":{"enc":@,"nonce":@,"kid":"https://kv.example:8443/keys/k1"},"response":{"key":{"key":{"kid":"https://kv.example:8443/keys/k1/0f3c5a6b7c8d9e0f1a2b3c4d5e6f7a8b","kty":"oct","key_hsm":"HSM"}}}})",
    R"({"iss":"https://kv.example:8443","request":{"enc":"RSA_AES_KEY_WRAP_256","nonce":"n","kid":@},"response":{"key":{"key":{"kid":@,"kty":"oct","key_hsm":"HSM"}}}})",
    R"({"iss":"https://kv.example:8443","request":{"enc":"RSA_AES_KEY_WRAP_256","nonce":"n","kid":"https://kv.example:8443/keys/k1"},"response":{"key":{"key":{"kid":"https://kv.example:8443/keys/k1/0f3c5a6b7c8d9e0f1a2b3c4d5e6f7a8b","kty":@,"key_hsm":@}}}})",
    R"({"iss":"https://kv.example:8443","request":@,"response":@})",
};

const std::string kValidHsm =
    b64(R"({"schema_version":"1.0","header":{"kid":"k","alg":"dir","enc":"RSA_AES_KEY_WRAP_256"},"ciphertext":"AAAA"})");

std::string splice(std::string_view tmpl, std::string_view value) {
  std::string out;
  for (char c : tmpl) {
    if (c == '@') {
      out.append(value);
    } else {
      out.push_back(c);
    }
  }
  // "HSM" stands for a valid key_hsm, so the payload checks after it are reached.
  if (auto at = out.find("\"HSM\""); at != std::string::npos) out.replace(at, 5, "\"" + kValidHsm + "\"");
  return out;
}

void check_reference(std::string_view text) {
  auto r = parse_key_reference(text, kIssuer);
  if (!r.ok()) {
    check(r.error().reason == kReasonKeyReference && !r.error().message.empty());
    return;
  }
  check(!r->name.empty() && r->name.size() <= 127);
  check(r->version.empty() || r->version.size() == 32);
  auto again = parse_key_reference(std::string(kIssuer) + r->path(), kIssuer);
  check(again.ok() && again->name == r->name && again->version == r->version);
}

void check_hsm(std::string_view text) {
  auto h = parse_key_hsm(text);
  if (!h.ok()) {
    check(h.error().reason == kReasonReleaseAnswer && h.error().message.starts_with("key_hsm: "));
    return;
  }
  check(!h->ciphertext.empty());
  const nlohmann::json doc = {{"schema_version", "1.0"},
                              {"header", {{"kid", h->kid}, {"alg", "dir"}, {"enc", release_enc_name(h->enc)}}},
                              {"ciphertext", tl::token::base64url_encode(h->ciphertext)}};
  auto again = parse_key_hsm(b64(doc.dump()));
  check(again.ok() && again->kid == h->kid && again->enc == h->enc && again->ciphertext == h->ciphertext);
  // Splitting never reads outside the ciphertext.
  for (size_t modulus : {size_t{1}, size_t{3}, size_t{256}}) {
    auto parts = split_release_ciphertext(h->ciphertext, modulus);
    if (parts.ok()) {
      check(parts->wrapped_aes_key.size() == modulus && parts->wrapped_material.size() % 8 == 0);
      check(tl::fuzz::inside(h->ciphertext, parts->wrapped_aes_key) &&
            tl::fuzz::inside(h->ciphertext, parts->wrapped_material));
    }
  }
}

void check_payload(std::string_view text) {
  auto j = tl::token::parse_json_object(text);
  if (!j.ok()) return;
  ReleaseExpectation e;
  e.issuer = kIssuer;
  e.key = KeyReference{"k1", ""};
  e.enc = ReleaseEnc::rsa_aes_key_wrap_256;
  e.nonce = "n";
  auto p = parse_release_payload(*j, e);
  if (!p.ok()) {
    check(p.error().reason == kReasonReleaseAnswer && !p.error().message.empty());
    return;
  }
  check(p->kid == std::string(kIssuer) + "/keys/k1/" + p->version && p->version.size() == 32);
  check(p->kty == "RSA" || p->kty == "EC" || p->kty == "oct");
  check(p->key_hsm.enc == e.enc && !p->public_key.contains("key_hsm"));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
  const uint8_t mode = data[0];
  constexpr size_t kHsm = std::size(kHsmTemplates), kPayload = std::size(kPayloadTemplates);
  switch (mode % (4 + kHsm + kPayload)) {
    case 0: check_reference(rest); break;
    case 1: check_hsm(rest); break;
    case 2: check_hsm(b64(rest)); break;
    case 3: check_payload(rest); break;
    default: {
      const size_t i = mode % (4 + kHsm + kPayload) - 4;
      if (i < kHsm) {
        check_hsm(b64(splice(kHsmTemplates[i], rest)));
      } else {
        check_payload(splice(kPayloadTemplates[i - kHsm], rest));
      }
    }
  }
  return 0;
}
