#include "server/token_issuer.h"

#include <algorithm>

#include "common/hex.h"
#include "crypto/secret_bytes.h"
#include "token/jwt.h"

namespace tl::server {

Result<std::string> TokenIssuer::rotate(Repository& repo, crypto::JwsAlg alg, int64_t lifetime, int64_t now) {
  auto key = token::SigningKey::generate(alg);
  if (!key) return key.take_error();
  auto pem = key->to_pkcs8_pem();
  if (!pem) return pem.take_error();
  StoredSigningKey s;
  s.kid = key->kid();
  s.alg = std::string(crypto::jws_alg_name(alg));
  s.private_pkcs8_pem = std::string(pem->reveal());
  s.created_at = now;
  // Purge only keys retired longer ago than any configurable token lifetime:
  // the command line may not know the running service's lifetime.
  (void)lifetime;
  if (auto st = repo.rotate_signing_key(s, now - kMaxLifetimeSeconds - 2 * kLeewaySeconds); !st)
    return st.take_error();
  return s.kid;
}

Result<std::unique_ptr<TokenIssuer>> TokenIssuer::open(Repository& repo, crypto::JwsAlg alg, std::string issuer,
                                                       int64_t lifetime, verify::Clock clock) {
  std::unique_ptr<TokenIssuer> t(new TokenIssuer(repo, std::move(issuer), lifetime, std::move(clock)));
  const int64_t now = t->clock_();
  auto keys = repo.signing_keys();
  if (!keys) return keys.take_error();
  bool any_active = false;
  for (const auto& k : *keys) any_active |= !k.retired_at.has_value();
  if (!any_active) {
    auto kid = rotate(repo, alg, lifetime, now);
    if (!kid) return kid.take_error();
  }
  std::unique_lock lock(t->mu_);
  if (auto st = t->reload_locked(now); !st) return st.take_error();
  return t;
}

Status TokenIssuer::reload_locked(int64_t now) {
  auto keys = repo_.signing_keys();
  if (!keys) return keys.take_error();
  std::shared_ptr<const token::SigningKey> active;
  token::Jwks published;
  for (const auto& k : *keys) {
    if (k.retired_at && *k.retired_at + lifetime_ + kLeewaySeconds < now) continue;  // its tokens expired
    auto alg = crypto::jws_alg_from_name(k.alg);
    if (!alg) return Error{"signing key " + k.kid + ": unknown alg '" + k.alg + "' in the database"};
    auto key = token::SigningKey::from_pkcs8_pem(*alg, k.private_pkcs8_pem);
    if (!key) return with_context("signing key " + k.kid, key.take_error());
    if (key->kid() != k.kid)
      return Error{"signing key " + k.kid + ": stored kid does not match the key's thumbprint " + key->kid()};
    if (auto st = published.add(key->public_jwk()); !st) return st.take_error();
    if (!k.retired_at) active = std::make_shared<const token::SigningKey>(std::move(*key));  // newest wins
  }
  if (!active) return Error{"no active token signing key in the database (run tlaunchd rotate-signing-key)"};
  active_ = std::move(active);
  published_ = std::move(published);
  loaded_at_ = now;
  return {};
}

Status TokenIssuer::maybe_reload() {
  const int64_t now = clock_();
  {
    std::shared_lock lock(mu_);
    if (now - loaded_at_ < kReloadSeconds) return {};
  }
  std::unique_lock lock(mu_);
  if (now - loaded_at_ < kReloadSeconds) return {};
  auto st = reload_locked(now);
  if (!st && active_) {
    // Keep signing with the key we have; try again after the next interval.
    loaded_at_ = now;
    return {};
  }
  return st;
}

Result<std::string> TokenIssuer::issue(nlohmann::json claims) {
  if (auto st = maybe_reload(); !st) return st.take_error();
  std::shared_ptr<const token::SigningKey> key;
  {
    std::shared_lock lock(mu_);
    key = active_;
  }
  auto jti = crypto::random_secret(16);
  if (!jti) return jti.take_error();
  const int64_t now = clock_();
  const std::string iss = issuer();
  claims["iss"] = iss;
  claims["iat"] = now;
  claims["nbf"] = now;
  claims["exp"] = now + lifetime_;
  claims["jti"] = to_hex(jti->view());
  token::SignOptions opts;
  opts.jku = iss + "/certs";
  return token::sign_jwt(*key, claims, opts);
}

Result<std::string> TokenIssuer::sign_document(nlohmann::json payload) {
  if (auto st = maybe_reload(); !st) return st.take_error();
  std::shared_ptr<const token::SigningKey> key;
  {
    std::shared_lock lock(mu_);
    key = active_;
  }
  auto jti = crypto::random_secret(16);
  if (!jti) return jti.take_error();
  const std::string iss = issuer();
  payload["iss"] = iss;
  payload["iat"] = clock_();
  payload["jti"] = to_hex(jti->view());
  token::SignOptions opts;
  opts.jku = iss + "/certs";
  return token::sign_jwt(*key, payload, opts);
}

std::string TokenIssuer::issuer() {
  std::shared_lock lock(mu_);
  return issuer_;
}

void TokenIssuer::set_issuer(std::string issuer) {
  std::unique_lock lock(mu_);
  issuer_ = std::move(issuer);
}

nlohmann::json TokenIssuer::jwks() {
  (void)maybe_reload();  // a failed reload keeps serving the keys we have
  std::shared_lock lock(mu_);
  return published_.to_json();
}

token::Jwks TokenIssuer::verification_keys() {
  (void)maybe_reload();
  std::shared_lock lock(mu_);
  return published_;
}

std::vector<std::string> TokenIssuer::algorithms() {
  std::shared_lock lock(mu_);
  std::vector<std::string> out;
  for (const auto& k : published_.keys()) {
    std::string a = k.alg ? std::string(crypto::jws_alg_name(*k.alg)) : std::string();
    if (!a.empty() && std::find(out.begin(), out.end(), a) == out.end()) out.push_back(a);
  }
  return out;
}

}  // namespace tl::server
