// Secure Key Release (docs/keyvault-api.md "Release", docs/keyvault-release.md):
// the target token is verified against its authority, bound to the caller,
// the key's release policy is evaluated on the verified claims, and the key is
// wrapped to the TPM-resident runtime key the token names.
#include <exception>
#include <string_view>

#include "crypto/key_wrap.h"
#include "policy/release_policy.h"
#include "server/key_json.h"
#include "server/key_service.h"
#include "token/base64url.h"

namespace tl::server {
namespace {

using nlohmann::json;

constexpr size_t kMaxNonceBytes = 1024;

Error bad_request(const std::string& m) { return Error{m, "release-request-invalid"}; }

// What a message may quote of a caller's text.
std::string quoted(const std::string& s) {
  constexpr size_t kMax = 64;
  std::string out;
  for (unsigned char c : s.substr(0, kMax)) out += (c < 0x20 || c >= 0x7f) ? '?' : static_cast<char>(c);
  return "\"" + out + (s.size() > kMax ? "…" : "") + "\"";
}

std::string str_member(const json& j, const char* name) {
  auto it = j.find(name);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

struct Enc {
  std::string name;
  crypto::HashAlg oaep_hash;
};

Result<Enc> parse_enc(const json& body) {
  auto it = body.find("enc");
  if (it == body.end()) return Enc{"CKM_RSA_AES_KEY_WRAP", crypto::HashAlg::sha1};
  if (!it->is_string()) return bad_request("enc must be a string");
  const std::string e = it->get<std::string>();
  if (e == "RSA_AES_KEY_WRAP_256") return Enc{e, crypto::HashAlg::sha256};
  if (e == "RSA_AES_KEY_WRAP_384") return Enc{e, crypto::HashAlg::sha384};
  if (e == "CKM_RSA_AES_KEY_WRAP") return Enc{e, crypto::HashAlg::sha1};
  return bad_request("enc " + quoted(e) + " is not RSA_AES_KEY_WRAP_256, RSA_AES_KEY_WRAP_384 or CKM_RSA_AES_KEY_WRAP");
}

struct RuntimeKey {
  std::string kid;
  crypto::PublicKey key;
  Bytes n, e;
};

bool allows_encryption(const json& jwk) {
  auto ops = jwk.find("key_ops");
  if (ops == jwk.end()) {
    auto use = jwk.find("use");
    return use == jwk.end() || (use->is_string() && use->get<std::string>() == "enc");
  }
  if (!ops->is_array()) return false;
  for (const auto& op : *ops)
    if (op.is_string() && (op.get<std::string>() == "encrypt" || op.get<std::string>() == "wrapKey")) return true;
  return false;
}

// The first RSA key in x-ms-runtime.keys that allows encryption.
Result<RuntimeKey> runtime_key_of(const json& claims) {
  auto rt = claims.find("x-ms-runtime");
  if (rt == claims.end() || !rt->is_object() || !rt->contains("keys") || !(*rt)["keys"].is_array())
    return Error{"the token has no x-ms-runtime.keys to wrap the key to", "runtime-key-missing"};
  const json& keys = (*rt)["keys"];
  for (size_t i = 0; i < keys.size(); ++i) {
    const json& k = keys[i];
    if (!k.is_object() || str_member(k, "kty") != "RSA" || !allows_encryption(k)) continue;
    const std::string where = "x-ms-runtime.keys[" + std::to_string(i) + "]";
    if (!k.contains("n") || !k["n"].is_string() || !k.contains("e") || !k["e"].is_string())
      return Error{where + ": an RSA key needs \"n\" and \"e\"", "runtime-key-missing"};
    auto n = token::base64url_decode(k["n"].get<std::string>());
    auto e = token::base64url_decode(k["e"].get<std::string>());
    if (!n || !e || e->empty() || e->size() > 4)
      return Error{where + ": \"n\" / \"e\" are not valid base64url integers", "runtime-key-missing"};
    uint32_t exponent = 0;
    for (uint8_t b : *e) exponent = (exponent << 8) | b;
    // e = 1 would make RSA-OAEP an encoding anyone can undo.
    if (exponent < 3 || exponent % 2 == 0)
      return Error{where + ": public exponent " + std::to_string(exponent) + " is not an odd number >= 3",
                   "runtime-key-missing"};
    auto pub = crypto::PublicKey::from_rsa(*n, exponent);
    if (!pub) return Error{where + ": " + pub.error().message, "runtime-key-missing"};
    if (pub->bits() < 2048)
      return Error{where + ": RSA-" + std::to_string(pub->bits()) + " is too small to wrap a key to (need 2048+)",
                   "runtime-key-missing"};
    return RuntimeKey{str_member(k, "kid"), std::move(*pub), std::move(*n), std::move(*e)};
  }
  return Error{"x-ms-runtime.keys holds no RSA key that allows encryption", "runtime-key-missing"};
}

// A vm: caller may release only to its own VM's runtime key.
Status bound_to_caller(const Caller& caller, const json& claims, const RuntimeKey& rk) {
  if (caller.identity.rfind("vm:", 0) != 0) return {};
  const std::string vmid = caller.identity.substr(3);
  auto tv = claims.find("x-ms-azurevm-vmid");
  if (tv == claims.end() || !tv->is_string() || tv->get<std::string>() != vmid)
    return Error{"the target token is for VM '" + (tv != claims.end() && tv->is_string() ? tv->get<std::string>() : "?") +
                     "', not the calling VM '" + vmid + "'",
                 "runtime-key-not-callers"};
  const std::string n = token::base64url_encode(rk.n), e = token::base64url_encode(rk.e);
  for (const auto& k : caller.runtime_keys)
    if (k.is_object() && str_member(k, "n") == n && str_member(k, "e") == e) return {};
  return Error{"the target token's runtime key is not the one in the caller's own attestation token",
               "runtime-key-not-callers"};
}

std::string str_claim(const json& claims, const char* name) { return str_member(claims, name); }

}  // namespace

Result<json> KeyService::release(const Caller& caller, const std::string& name, const std::string& version,
                                 const json& body, std::string* clause) {
  keys::AuditEntry a;
  a.at = now();
  a.caller = caller.identity;
  a.operation = "release";
  a.key_name = name;
  a.key_version = version;
  Result<json> out = Error{""};
  try {
    out = release_checked(caller, name, version, body, a);
  } catch (const std::exception& e) {
    // Not expected (inputs are type-checked), but a denial must still be audited.
    out = Error{std::string("the release failed: ") + e.what(), "internal-error"};
  }
  if (clause) *clause = a.clause;
  if (!out) {
    a.outcome = "denied";
    a.reason = out.error().reason;
    a.detail = clip_detail(out.error().message);
    if (auto r = audit_->record(std::move(a)); !r)
      log_.error("audit entry not written", {{"operation", "release"}, {"error", r.error().message}});
    return out;
  }
  a.outcome = "allowed";
  if (auto r = audit_->record(std::move(a)); !r) {
    log_.error("audit entry not written; release refused", {{"key", name}, {"error", r.error().message}});
    return Error{"the release could not be written to the audit log, so nothing was released", "unavailable"};
  }
  return out;
}

Result<json> KeyService::release_checked(const Caller& caller, const std::string& name, const std::string& version,
                                         const json& body, keys::AuditEntry& audit) {
  if (!access_->allowed(caller.identity, keys::Operation::release, name))
    return Error{"'" + caller.identity + "' may not release key '" + name + "' (no access policy grants it)",
                 "forbidden"};
  for (const auto& [k, _] : body.items())
    if (k != "target" && k != "nonce" && k != "enc") return bad_request("unknown member " + quoted(k));
  auto target = body.find("target");
  if (target == body.end() || !target->is_string() || target->get<std::string>().empty())
    return bad_request("target (the attestation token) is missing");
  std::optional<std::string> nonce;
  if (auto it = body.find("nonce"); it != body.end()) {
    if (!it->is_string() || it->get<std::string>().size() > kMaxNonceBytes)
      return bad_request("nonce must be a string of at most " + std::to_string(kMaxNonceBytes) + " bytes");
    nonce = it->get<std::string>();
  }
  auto enc = parse_enc(body);
  if (!enc) return enc.take_error();

  auto key = vault_->get(name, version);
  if (!key) return key.take_error();
  audit.key_version = key->version;
  if (!key->attributes.exportable || !key->release_policy)
    return Error{"key '" + name + "' is not exportable", "key-not-exportable"};

  const int64_t t = now();
  auto token = authorities_->verify(target->get<std::string>(), t);
  if (!token) return with_context("target", token.take_error());
  const json& claims = token->claims();
  audit.token_jti = str_claim(claims, "jti");
  audit.token_issuer = str_claim(claims, "iss");

  auto rk = runtime_key_of(claims);
  if (!rk) return rk.take_error();
  if (auto st = bound_to_caller(caller, claims, *rk); !st) return st.take_error();

  // The policy that decides is the one stored with the material released
  // (read together), not the one read above: a policy replaced meanwhile
  // decides, never a stale copy.
  keys::KeyVersion row;
  auto material = vault_->material(name, key->version, t, &row);
  if (!material) return material.take_error();
  if (!row.attributes.exportable || !row.release_policy)
    return Error{"key '" + name + "' is not exportable", "key-not-exportable"};
  const policy::ReleaseDecision d = policy::evaluate(row.release_policy->policy, *token);
  audit.clause = d.clause;
  if (!d.allowed) return Error{"release policy: " + d.explanation, "release-policy-denied"};

  auto aes = crypto::random_secret(32);
  if (!aes) return aes.take_error();
  auto head = crypto::rsa_oaep_encrypt(rk->key, enc->oaep_hash, aes->view());
  if (!head) return with_reason("internal-error", head.take_error());
  auto tail = crypto::aes_kwp_wrap(*aes, material->release_bytes().view());
  if (!tail) return with_reason("internal-error", tail.take_error());
  Bytes ciphertext = std::move(*head);
  ciphertext.insert(ciphertext.end(), tail->begin(), tail->end());

  const json key_hsm = {{"schema_version", "1.0"},
                        {"header", {{"kid", rk->kid}, {"alg", "dir"}, {"enc", enc->name}}},
                        {"ciphertext", token::base64url_encode(ciphertext)},
                        {"generator", "trustlaunch"}};
  const std::string key_hsm_text = key_hsm.dump();
  json bundle = key_bundle(row, base_url(), retention_days_);
  bundle["key"]["key_hsm"] =
      token::base64url_encode(ByteView(reinterpret_cast<const uint8_t*>(key_hsm_text.data()), key_hsm_text.size()));
  json request = {{"api-version", "7.4"}, {"enc", enc->name}, {"kid", key_id(base_url(), name, version)}};
  if (nonce) request["nonce"] = *nonce;
  auto jws = service_.issuer().sign_document({{"request", std::move(request)}, {"response", {{"key", std::move(bundle)}}}});
  if (!jws) return with_reason("internal-error", jws.take_error());
  return json{{"value", std::move(*jws)}};
}

}  // namespace tl::server
