#include "token/jwk.h"

#include <algorithm>

#include "crypto/cert_chain.h"
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

// "x5c" (RFC 7517 §4.7): standard base64 (padded, not base64url) DER
// certificates, the key's own first. Only that first certificate is read, for
// its public key: the JWKS it came in is what is trusted, never the chain.
// Absent: nullopt.
Result<std::optional<crypto::PublicKey>> x5c_key(const json& j) {
  auto it = j.find("x5c");
  if (it == j.end()) return std::optional<crypto::PublicKey>{};
  if (!it->is_array() || it->empty() || !(*it)[0].is_string()) {
    return Error{"\"x5c\" is not a non-empty array of base64 strings"};
  }
  std::string text = (*it)[0].get<std::string>();
  if (text.size() % 4 != 0 || text.find_first_of("-_") != std::string::npos) {
    return Error{"\"x5c\"[0] is not padded standard base64"};
  }
  // Standard base64 → base64url, so the strict decoder (canonical bits,
  // padding only at the end) does the checking.
  for (int pad = 0; pad < 2 && !text.empty() && text.back() == '='; ++pad) text.pop_back();
  for (char& c : text) {
    if (c == '+') c = '-';
    if (c == '/') c = '_';
  }
  auto der = base64url_decode(text);
  if (!der) return with_context("\"x5c\"[0]", der.take_error());
  auto key = crypto::certificate_public_key(*der);
  if (!key) return with_context("\"x5c\"[0]", key.take_error());
  return std::optional<crypto::PublicKey>(std::move(*key));
}

// "n"/"e" of an RSA JWK, or (when both are absent) those of its x5c key.
Result<std::pair<Bytes, Bytes>> rsa_members(const json& j, const std::optional<crypto::PublicKey>& x5c) {
  if (x5c && !j.contains("n") && !j.contains("e")) {
    if (x5c->type() != crypto::KeyType::rsa) return Error{"\"x5c\"[0] does not hold an RSA key"};
    auto p = crypto::rsa_public_params(*x5c);
    if (!p) return with_context("\"x5c\"[0]", p.take_error());
    return std::pair{std::move(p->n), std::move(p->e)};
  }
  auto n = required_b64(j, "n");
  if (!n) return n.take_error();
  auto e = required_b64(j, "e");
  if (!e) return e.take_error();
  return std::pair{std::move(*n), std::move(*e)};
}

// "x"/"y" of an EC JWK, or (when both are absent) those of its x5c key.
Result<std::pair<Bytes, Bytes>> ec_members(const json& j, const std::optional<crypto::PublicKey>& x5c) {
  if (x5c && !j.contains("x") && !j.contains("y")) {
    if (x5c->type() != crypto::KeyType::ec) return Error{"\"x5c\"[0] does not hold an EC key"};
    auto p = crypto::ec_public_params(*x5c);
    if (!p) return with_context("\"x5c\"[0]", p.take_error());
    if (p->curve != crypto::Curve::p256) return Error{"\"x5c\"[0] holds a key not on P-256"};
    return std::pair{std::move(p->x), std::move(p->y)};
  }
  auto x = required_b64(j, "x");
  if (!x) return x.take_error();
  auto y = required_b64(j, "y");
  if (!y) return y.take_error();
  return std::pair{std::move(*x), std::move(*y)};
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
  if (*kty != "RSA" && *kty != "EC") return Error{"\"kty\" \"" + *kty + "\" is not supported (only RSA and EC)"};
  auto x5c = x5c_key(j);
  if (!x5c) return x5c.take_error();

  std::optional<crypto::PublicKey> key;
  if (*kty == "RSA") {
    auto members = rsa_members(j, *x5c);
    if (!members) return members.take_error();
    const Bytes* n = &members->first;
    const Bytes* e = &members->second;
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
  } else {
    auto crv = required_string(j, "crv");
    if (!crv) return crv.take_error();
    if (*crv != "P-256") return Error{"\"crv\" \"" + *crv + "\" is not supported (only P-256)"};
    auto members = ec_members(j, *x5c);
    if (!members) return members.take_error();
    const Bytes* x = &members->first;
    const Bytes* y = &members->second;
    if (x->size() != 32 || y->size() != 32) {
      return Error{"P-256 \"x\"/\"y\" are " + std::to_string(x->size()) + "/" + std::to_string(y->size()) +
                   " bytes, expected 32 each"};
    }
    auto k = crypto::PublicKey::from_ec(crypto::Curve::p256, *x, *y);
    if (!k) return k.take_error();
    key = std::move(*k);
  }

  // RFC 7517 §4.7: the first certificate's key MUST match the other members.
  if (*x5c && !(**x5c == *key)) return Error{"\"x5c\"[0] holds another key than the JWK's members"};

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
