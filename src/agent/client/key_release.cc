#include "agent/client/key_release.h"

#include <fstream>

#include "crypto/key_material.h"
#include "crypto/key_wrap.h"
#include "token/base64url.h"
#include "token/jwt.h"
#include "tpm/public_area.h"

namespace tl::agent {

namespace {

using nlohmann::json;

constexpr size_t kAesKeyBytes = 32;
constexpr size_t kMaxApiTokenBytes = 4096;

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }

Bytes strip_leading_zeros(ByteView b) {
  size_t i = 0;
  while (i + 1 < b.size() && b[i] == 0) ++i;
  return Bytes(b.begin() + static_cast<std::ptrdiff_t>(i), b.end());
}

// A problem answer to the release as an Error, with its clause.
Error release_problem(const http::Response& r, ReleaseDiagnostics* diagnostics) {
  const json j = json::parse(r.body, nullptr, false);
  auto str = [&j](const char* name) -> std::string {
    if (!j.is_object()) return {};
    auto it = j.find(name);
    return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  std::string detail = str("detail");
  if (detail.empty()) detail = str("title");
  if (detail.empty()) detail = r.body.substr(0, 200);
  std::string reason = str("reason");
  if (reason.empty()) reason = r.status >= 500 ? "server-error" : "protocol";
  if (diagnostics != nullptr) {
    diagnostics->http_status = r.status;
    diagnostics->clause = str("clause");
  }
  const bool refused = r.status == 401 || r.status == 403;
  return Error{refused ? "release denied: " + detail
                       : "release failed: HTTP " + std::to_string(r.status) + (detail.empty() ? "" : ": " + detail),
               reason};
}

// The claims of our own attestation token, verified under tlaunchd's keys:
// where its iss and runtime key come from.
Result<token::VerifiedToken> verify_our_token(const std::string& jwt, const token::Jwks& jwks) {
  auto t = token::verify_jwt(jwt, jwks);
  if (!t) return with_context("our attestation token does not verify under tlaunchd's /certs", t.take_error());
  auto iss = t->claims().find("iss");
  if (iss == t->claims().end() || !iss->is_string() || iss->get_ref<const std::string&>().empty()) {
    return Error{"our attestation token has no \"iss\"", "protocol"};
  }
  return t;
}

// The runtime key JWK in the token's x-ms-runtime.keys whose modulus is ours.
Result<std::string> our_runtime_key_kid(const json& claims, ByteView modulus) {
  const Bytes want = strip_leading_zeros(modulus);
  auto runtime = claims.find("x-ms-runtime");
  if (runtime != claims.end() && runtime->is_object()) {
    auto keys = runtime->find("keys");
    if (keys != runtime->end() && keys->is_array()) {
      for (const auto& k : *keys) {
        if (!k.is_object() || !k.contains("n") || !k["n"].is_string()) continue;
        auto n = token::base64url_decode(k["n"].get<std::string>());
        if (!n || strip_leading_zeros(*n) != want) continue;
        return k.contains("kid") && k["kid"].is_string() ? k["kid"].get<std::string>() : std::string();
      }
    }
  }
  return Error{"our attestation token's x-ms-runtime.keys does not hold the runtime key this agent created "
               "(another agent attested in between?)",
               kReasonRuntimeKeyMismatch};
}

// The material is the key the bundle describes: for RSA and EC, a PKCS#8 key
// whose public members are the bundle's; for oct, 32 bytes. (Nothing of the
// material goes into the message.)
Status check_material(const ReleasePayload& p, const crypto::SecretBytes& material) {
  if (p.kty == "oct") {
    if (material.size() != kAesKeyBytes) {
      return Error{"the released oct key has " + std::to_string(material.size()) + " bytes, not 32",
                   kReasonReleaseAnswer};
    }
    return {};
  }
  auto key = crypto::KeyMaterial::import_pkcs8_der(material.view());
  if (!key) return Error{"the released material is not a usable PKCS#8 key: " + key.error().message, kReasonReleaseAnswer};
  const json pub = key->public_jwk();
  for (const char* m : {"kty", "n", "e", "crv", "x", "y"}) {
    const bool in_material = pub.contains(m);
    if (in_material != p.public_key.contains(m) || (in_material && pub[m] != p.public_key[m])) {
      return Error{std::string("the released material is not the key of ") + p.kid + ": its \"" + m +
                       "\" differs from the bundle's",
                   kReasonReleaseAnswer};
    }
  }
  return {};
}

Result<std::string> random_nonce() {
  auto bytes = crypto::random_secret(16);
  if (!bytes) return bytes.take_error();
  return token::base64url_encode(bytes->view());
}

}  // namespace

Result<Bytes> runtime_key_modulus(const tpm::RuntimeKeyBlob& runtime_key) {
  auto area = tl::tpm::parse_tpm2b_public(runtime_key.public_blob);
  if (!area) return Error{"runtime key blob: " + area.error().message, kReasonRuntimeKeyMismatch};
  if (!area->rsa || area->rsa->modulus.empty() || area->rsa->modulus.size() * 8 != area->rsa->key_bits) {
    return Error{"runtime key blob: not an RSA key with a full-length modulus", kReasonRuntimeKeyMismatch};
  }
  return area->rsa->modulus;
}

Result<crypto::SecretBytes> unwrap_key_hsm(tpm::Tpm& tpm, const tpm::RuntimeKeyBlob& runtime_key, const KeyHsm& hsm) {
  auto modulus = runtime_key_modulus(runtime_key);
  if (!modulus) return modulus.take_error();
  auto parts = split_release_ciphertext(hsm.ciphertext, modulus->size());
  if (!parts) return parts.take_error();
  auto loaded = tpm.load_runtime_key(runtime_key);
  if (!loaded) return with_context("loading the runtime key", loaded.take_error());
  const crypto::HashAlg hash = release_enc_oaep_hash(hsm.enc);
  auto aes_key = tpm.rsa_decrypt_oaep(*loaded, parts->wrapped_aes_key, hash);
  if (!aes_key) {
    Error e = aes_key.take_error();
    if (e.reason == "tpm-policy-failed") {
      return with_context("the boot state changed since the attestation (re-attest and release again)", std::move(e));
    }
    return with_context("the AES key is not wrapped to this runtime key with " +
                            std::string(release_enc_name(hsm.enc)) + ", or was altered",
                        std::move(e));
  }
  if (aes_key->size() != kAesKeyBytes) {
    return Error{"the RSA-OAEP part holds " + std::to_string(aes_key->size()) + " bytes, not a 32-byte AES-256 key",
                 kReasonUnwrapFailed};
  }
  auto material = crypto::aes_kwp_unwrap(*aes_key, parts->wrapped_material);
  if (!material) {
    return Error{"AES key unwrap (RFC 5649) of the key material failed: " + material.error().message,
                 kReasonUnwrapFailed};
  }
  return material;
}

Result<std::string> read_api_token(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error{"cannot read the API token file " + path.string(), "settings"};
  std::string text(kMaxApiTokenBytes + 1, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  if (in.bad()) return Error{"cannot read the API token file " + path.string(), "settings"};
  text.resize(static_cast<size_t>(in.gcount()));
  if (text.size() > kMaxApiTokenBytes) return Error{"the API token file " + path.string() + " is too large", "settings"};
  size_t b = 0, e = text.size();
  while (b < e && is_space(text[b])) ++b;
  while (e > b && is_space(text[e - 1])) --e;
  if (b == e) return Error{"the API token file " + path.string() + " is empty", "settings"};
  for (size_t i = b; i < e; ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x21 || c > 0x7e) {
      return Error{"the API token file " + path.string() + " does not hold one token (spaces, line breaks or "
                   "non-ASCII bytes inside)",
                   "settings"};
    }
  }
  return text.substr(b, e - b);
}

Result<ReleasedKey> release_key(AttestationClient& client, const ReleaseOptions& options,
                                ReleaseDiagnostics* diagnostics) {
  const AgentOptions& ao = client.options();
  auto key = parse_key_reference(options.key, ao.endpoint);
  if (!key) return key.take_error();
  std::string nonce;
  if (options.nonce) {
    if (options.nonce->empty() || options.nonce->size() > 1024) {
      return Error{"--nonce must have 1 to 1024 characters", kReasonKeyReference};
    }
    nonce = *options.nonce;
  } else {
    auto n = random_nonce();
    if (!n) return n.take_error();
    nonce = std::move(*n);
  }

  auto attested = client.attest();
  if (!attested) return with_context("attestation", attested.take_error());
  const std::optional<Bytes>& stored = client.attested_runtime_key();
  if (!stored) return Error{"the attestation named no runtime key", kReasonRuntimeKeyMismatch};
  auto blob = tpm::decode_runtime_key_blob(*stored);
  if (!blob) return blob.take_error();
  auto modulus = runtime_key_modulus(*blob);
  if (!modulus) return modulus.take_error();

  http::ClientOptions co;
  co.ca_file = ao.ca_file;
  co.timeout_ms = ao.timeout_ms;
  auto http = http::Client::create(ao.endpoint, co);
  if (!http) return with_reason("network", http.take_error());
  auto certs = (*http)->get("/certs");
  if (!certs) return with_reason("network", with_context("GET " + ao.endpoint + "/certs", certs.take_error()));
  if (certs->status != 200) return error_from_response(*certs, "GET /certs");
  auto jwks = token::Jwks::parse(certs->body);
  if (!jwks) return with_reason("protocol", with_context("GET /certs", jwks.take_error()));
  auto ours = verify_our_token(attested->token, *jwks);
  if (!ours) return ours.take_error();
  const std::string issuer = ours->claims()["iss"].get<std::string>();
  auto runtime_kid = our_runtime_key_kid(ours->claims(), *modulus);
  if (!runtime_kid) return runtime_kid.take_error();

  const json body = {{"target", attested->token}, {"enc", release_enc_name(options.enc)}, {"nonce", nonce}};
  http::Headers headers{{"Content-Type", "application/json"},
                        {"Authorization", "Bearer " + options.api_token.value_or(attested->token)}};
  const std::string path = key->path() + "/release";
  auto r = (*http)->request("POST", path, body.dump(), headers);
  if (!r) return with_reason("network", with_context("POST " + ao.endpoint + path, r.take_error()));
  if (r->status != 200) return release_problem(*r, diagnostics);

  const json answer = json::parse(r->body, nullptr, false);
  if (!answer.is_object() || !answer.contains("value") || !answer["value"].is_string()) {
    return Error{"the release answer is not {\"value\": \"<JWS>\"}", kReasonReleaseAnswer};
  }
  token::VerifyOptions vo;
  vo.require_exp = false;  // a release JWS has no exp: it is verified when it arrives
  vo.issuer = issuer;
  auto jws = token::verify_jwt(answer["value"].get<std::string>(), *jwks, vo);
  if (!jws) return with_context("the release JWS", jws.take_error());
  if (auto jku = jws->header().find("jku"); jku != jws->header().end() && *jku != json(issuer + "/certs")) {
    return Error{"the release JWS names key set " + jku->dump().substr(0, 300) + ", not " + issuer + "/certs",
                 kReasonReleaseAnswer};
  }
  auto payload = parse_release_payload(jws->claims(), ReleaseExpectation{issuer, *key, options.enc, nonce});
  if (!payload) return payload.take_error();
  if (payload->key_hsm.kid != *runtime_kid) {
    return Error{"key_hsm is wrapped to runtime key \"" + payload->key_hsm.kid.substr(0, 100) +
                     "\", not to ours (\"" + *runtime_kid + "\")",
                 kReasonRuntimeKeyMismatch};
  }
  auto material = unwrap_key_hsm(client.tpm(), *blob, payload->key_hsm);
  if (!material) return material.take_error();
  if (auto st = check_material(*payload, *material); !st) return st.take_error();
  return ReleasedKey{std::move(payload->kid), std::move(payload->kty), std::move(payload->public_key),
                     std::move(*material)};
}

}  // namespace tl::agent
