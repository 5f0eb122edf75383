// The attestation authorities whose tokens the key vault accepts as release
// targets (docs/keyvault.md "Authorities"): tlaunchd's own attestation service
// and issuers an admin trusts in the configuration, whose signing keys are
// found by OpenID discovery (<issuer>/.well-known/openid-configuration →
// jwks_uri → JWKS), cached, and fetched again when a token names an unknown
// kid (at most once per kMinRefetchSeconds per issuer, so a flood of made-up
// kids cannot turn tlaunchd into a request amplifier).
//
// A token is verified only with the keys of the authority its "iss" names:
// a token signed by one trusted issuer's key but claiming another's iss fails.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "token/jwk.h"
#include "token/jwt.h"

namespace tl::keys {

struct TrustedAuthority {
  std::string issuer;                   // exact "iss" value, e.g. "https://sharedeus.eus.attest.azure.net"
  std::optional<std::string> jwks_uri;  // skip discovery and fetch keys from here
  std::optional<std::string> ca_file;   // HTTPS trust for discovery / JWKS fetches
  std::optional<std::string> jwks_file; // keys from a file instead of the network (offline)
};

struct AuthoritiesOptions {
  int64_t cache_seconds = 3600;       // keys are fetched again after this
  int64_t min_refetch_seconds = 30;   // unknown-kid refetch at most this often per issuer
  unsigned fetch_timeout_ms = 5000;
  int64_t leeway_seconds = 60;        // exp / nbf / iat
  std::vector<crypto::JwsAlg> allowed_algs{crypto::JwsAlg::es256, crypto::JwsAlg::rs256, crypto::JwsAlg::ps256};
};

// Thread-safe. Reasons of verify() failures (each its own, docs/errors.md):
//   token-malformed        not a JWS compact token, bad base64url / JSON, size
//   token-alg-refused      "alg" none, HS*, or not allowed
//   token-untrusted-issuer "iss" missing or not a trusted authority
//   token-unknown-kid      no key of that issuer has the header's kid (after a refetch)
//   token-signature-invalid the signature does not verify with the kid's key
//   token-expired / token-not-yet-valid   exp / nbf (with leeway), or iat in the future
//   authority-unavailable  the issuer's keys could not be fetched (discovery / JWKS error)
class Authorities {
 public:
  // own_issuer: tlaunchd's issuer name (a function: it is known only after the
  // port is bound) and own_keys: its current verification keys.
  static Result<std::unique_ptr<Authorities>> create(std::function<std::string()> own_issuer,
                                                     std::function<token::Jwks()> own_keys,
                                                     std::vector<TrustedAuthority> trusted,
                                                     AuthoritiesOptions options = {});
  ~Authorities();

  Result<token::VerifiedToken> verify(std::string_view jwt, int64_t now);
  // true when `iss` is tlaunchd's own issuer.
  bool is_own_issuer(std::string_view iss) const;
  std::vector<std::string> issuers() const;  // own first

 private:
  struct Impl;
  explicit Authorities(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace tl::keys
