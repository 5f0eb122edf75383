#include "token/jwk.h"

#include <algorithm>

#include "crypto/digest.h"
#include "token/base64url.h"
#include "token/strict_json.h"

namespace tl::token {

namespace {

using json = nlohmann::json;

constexpr int kMinRsaBits = 2048;

// Members that only a private JWK has (RFC 7518 §6.2.2, §6.3.2, §6.4.1).
constexpr const char* kPrivateMembers[] = {"d", "p", "q", "dp", "dq", "qi", "oth", "k"};

Result<std::string> required_string(const json& j, const char* name) {
  auto it = j.find(name);
  if (it == j.end()) return Error{std::string("missing \"") + name + "\""};
  if (!it->is_string()) return Error{std::string("\"") + name + "\" is a " + json_kind(*it) + ", expected a string"};
  return it->get<std::string>();
}

Result<Bytes> required_b64(const json& j, const char* name) {
  auto s = required_string(j, name);
  if (!s) return s.take_error();
  auto b = base64url_decode(*s);
  if (!b) return with_context(std::string("\"") + name + "\"", b.take_error());
  return b;
}

bool suits(const crypto::PublicKey& key, JwsAlg alg) {
  if (alg == JwsAlg::es256) return key.type() == crypto::KeyType::ec && key.bits() == 256;
  return key.type() == crypto::KeyType::rsa;
}

std::string key_kind(const crypto::PublicKey& key) {
  if (key.type() == crypto::KeyType::ec) return "EC " + std::to_string(key.bits()) + "-bit";
  return "RSA-" + std::to_string(key.bits());
}

Result<Jwk> parse_jwk(const json& j) {
  if (!j.is_object()) return Error{std::string("JWK is a JSON ") + json_kind(j) + ", expected an object"};
  for (const char* m : kPrivateMembers) {
    if (j.contains(m)) return Error{std::string("has private member \"") + m + "\" (only public keys are accepted)"};
  }
  auto kid = required_string(j, "kid");
  if (!kid) return kid.take_error();
  if (kid->empty()) return Error{"\"kid\" is empty"};
  if (auto it = j.find("use"); it != j.end() && !(it->is_string() && *it == "sig")) {
    return Error{"\"use\" is " + it->dump() + ", expected \"sig\""};
  }
  if (auto it = j.find("key_ops"); it != j.end()) {
    const bool ok = it->is_array() && std::any_of(it->begin(), it->end(),
                                                  [](const json& op) { return op == "verify"; });
    if (!ok) return Error{"\"key_ops\" does not include \"verify\""};
  }
  auto kty = required_string(j, "kty");
  if (!kty) return kty.take_error();

  std::optional<crypto::PublicKey> key;
  if (*kty == "RSA") {
    auto n = required_b64(j, "n");
    if (!n) return n.take_error();
    auto e = required_b64(j, "e");
    if (!e) return e.take_error();
    if (e->empty() || e->size() > 4) return Error{"\"e\" is " + std::to_string(e->size()) + " bytes, expected 1 to 4"};
    uint32_t exponent = 0;
    for (uint8_t b : *e) exponent = (exponent << 8) | b;
    if (exponent < 3 || exponent % 2 == 0) return Error{"\"e\" = " + std::to_string(exponent) + " is not a valid RSA exponent"};
    auto k = crypto::PublicKey::from_rsa(*n, exponent);
    if (!k) return with_context("\"n\"", k.take_error());
    if (k->bits() < kMinRsaBits) {
      return Error{"RSA key of " + std::to_string(k->bits()) + " bits, at least " + std::to_string(kMinRsaBits) + " required"};
    }
    key = std::move(*k);
  } else if (*kty == "EC") {
    auto crv = required_string(j, "crv");
    if (!crv) return crv.take_error();
    if (*crv != "P-256") return Error{"\"crv\" \"" + *crv + "\" is not supported (only P-256)"};
    auto x = required_b64(j, "x");
    if (!x) return x.take_error();
    auto y = required_b64(j, "y");
    if (!y) return y.take_error();
    if (x->size() != 32 || y->size() != 32) {
      return Error{"P-256 \"x\"/\"y\" are " + std::to_string(x->size()) + "/" + std::to_string(y->size()) +
                   " bytes, expected 32 each"};
    }
    auto k = crypto::PublicKey::from_ec(crypto::Curve::p256, *x, *y);
    if (!k) return k.take_error();
    key = std::move(*k);
  } else {
    return Error{"\"kty\" \"" + *kty + "\" is not supported (only RSA and EC)"};
  }

  Jwk out{std::move(*kid), std::move(*key), std::nullopt};
  if (auto it = j.find("alg"); it != j.end()) {
    if (!it->is_string()) return Error{std::string("\"alg\" is a ") + json_kind(*it) + ", expected a string"};
    auto alg = crypto::jws_alg_from_name(it->get<std::string>());
    if (!alg) return Error{"\"alg\" \"" + it->get<std::string>() + "\" is not supported (ES256, RS256, PS256)"};
    if (!suits(out.key, *alg)) {
      return Error{"\"alg\" " + std::string(crypto::jws_alg_name(*alg)) + " does not suit a " + key_kind(out.key) + " key"};
    }
    out.alg = *alg;
  }
  return out;
}

}  // namespace

Result<std::string> jwk_thumbprint(const crypto::PublicKey& key) {
  // RFC 7638 §3.2: the required members only, in lexicographic order, no
  // whitespace. Every value is base64url or a fixed name, so nothing needs escaping.
  std::string canonical;
  if (key.type() == crypto::KeyType::rsa) {
    auto p = crypto::rsa_public_params(key);
    if (!p) return p.take_error();
    canonical = "{\"e\":\"" + base64url_encode(p->e) + "\",\"kty\":\"RSA\",\"n\":\"" + base64url_encode(p->n) + "\"}";
  } else {
    auto p = crypto::ec_public_params(key);
    if (!p) return p.take_error();
    if (p->curve != crypto::Curve::p256) return Error{"thumbprint: only P-256 EC keys"};
    canonical = "{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"" + base64url_encode(p->x) + "\",\"y\":\"" +
                base64url_encode(p->y) + "\"}";
  }
  auto d = crypto::digest(crypto::HashAlg::sha256, as_bytes(canonical));
  if (!d) return d.take_error();
  return base64url_encode(*d);
}

Status Jwk::allows(JwsAlg token_alg) const {
  const std::string name(crypto::jws_alg_name(token_alg));
  if (!suits(key, token_alg)) return Error{"alg " + name + " does not suit key \"" + kid + "\" (" + key_kind(key) + ")"};
  if (alg && *alg != token_alg) {
    return Error{"alg " + name + " but key \"" + kid + "\" is for " + std::string(crypto::jws_alg_name(*alg))};
  }
  return {};
}

json Jwk::to_json() const {
  json j = json::object();
  if (key.type() == crypto::KeyType::rsa) {
    auto p = crypto::rsa_public_params(key);
    j["kty"] = "RSA";
    if (p) {
      j["n"] = base64url_encode(p->n);
      j["e"] = base64url_encode(p->e);
    }
  } else {
    auto p = crypto::ec_public_params(key);
    j["kty"] = "EC";
    if (p) {
      j["crv"] = std::string(crypto::curve_name(p->curve));
      j["x"] = base64url_encode(p->x);
      j["y"] = base64url_encode(p->y);
    }
  }
  j["kid"] = kid;
  j["use"] = "sig";
  if (alg) j["alg"] = std::string(crypto::jws_alg_name(*alg));
  return j;
}

Result<Jwk> Jwk::from_json(const json& j) { return parse_jwk(j); }

Result<Jwks> Jwks::parse(std::string_view json_text) {
  if (json_text.size() > kMaxJsonBytes) {
    return Error{"JWKS: " + std::to_string(json_text.size()) + " bytes, over the " + std::to_string(kMaxJsonBytes) +
                 "-byte limit"};
  }
  auto j = parse_json_object(json_text);
  if (!j) return with_context("JWKS", j.take_error());
  return from_json(*j);
}

Result<Jwks> Jwks::from_json(const json& j) {
  if (!j.is_object()) return Error{std::string("JWKS: JSON ") + json_kind(j) + ", expected an object"};
  auto it = j.find("keys");
  if (it == j.end()) return Error{"JWKS: missing \"keys\""};
  if (!it->is_array()) return Error{std::string("JWKS: \"keys\" is a ") + json_kind(*it) + ", expected an array"};
  if (it->size() > kMaxKeys) {
    return Error{"JWKS: " + std::to_string(it->size()) + " keys, at most " + std::to_string(kMaxKeys)};
  }
  Jwks out;
  for (size_t i = 0; i < it->size(); ++i) {
    const json& entry = (*it)[i];
    std::string where = "JWKS key " + std::to_string(i);
    if (entry.is_object()) {
      auto kid = entry.find("kid");
      if (kid != entry.end() && kid->is_string()) where += " (kid \"" + kid->get<std::string>() + "\")";
      auto kty = entry.find("kty");
      if (kty != entry.end() && kty->is_string() && *kty != "RSA" && *kty != "EC") continue;  // RFC 7517 §5
    }
    auto jwk = parse_jwk(entry);
    if (!jwk) return with_context(where, jwk.take_error());
    if (auto st = out.add(std::move(*jwk)); !st) return with_context(where, st.take_error());
  }
  return out;
}

Status Jwks::add(Jwk jwk) {
  if (jwk.kid.empty()) return Error{"JWK without a kid"};
  if (find(jwk.kid) != nullptr) return Error{"duplicate kid \"" + jwk.kid + "\""};
  if (keys_.size() >= kMaxKeys) return Error{"more than " + std::to_string(kMaxKeys) + " keys"};
  keys_.push_back(std::move(jwk));
  return {};
}

const Jwk* Jwks::find(std::string_view kid) const {
  for (const auto& k : keys_) {
    if (k.kid == kid) return &k;
  }
  return nullptr;
}

json Jwks::to_json() const {
  json arr = json::array();
  for (const auto& k : keys_) arr.push_back(k.to_json());
  return json{{"keys", std::move(arr)}};
}

Result<SigningKey> SigningKey::wrap(Result<crypto::PrivateKey> key) {
  if (!key) return key.take_error();
  auto kid = jwk_thumbprint(key->public_key());
  if (!kid) return kid.take_error();
  return SigningKey(std::move(*key), std::move(*kid));
}

Result<SigningKey> SigningKey::generate(JwsAlg alg) { return wrap(crypto::PrivateKey::generate(alg)); }

Result<SigningKey> SigningKey::from_pkcs8_pem(JwsAlg alg, std::string_view pem) {
  return wrap(crypto::PrivateKey::from_pkcs8_pem(alg, pem));
}

Jwk SigningKey::public_jwk() const { return Jwk{kid_, key_.public_key(), key_.alg()}; }

}  // namespace tl::token
