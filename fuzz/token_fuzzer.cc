// Fuzzes the token parsers. The first byte picks one:
//   0: base64url_decode; an accepted input must re-encode to itself (strict,
//      canonical decoding means exactly one encoding per byte string).
//   1: Jwks::parse; an accepted set must serialize and re-parse to the same kids.
//   2: verify_jwt against a fixed JWKS (one ES256 and one RS256 key); a
//      rejection must say why, an acceptance must carry object header + claims.
//   3: Jwk::from_json on any JSON value.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_support.h"
#include "token/base64url.h"
#include "token/jwk.h"
#include "token/jwt.h"

using tl::fuzz::check;

namespace {

const tl::token::Jwks& fixed_jwks() {
  static const tl::token::Jwks set = [] {
    tl::token::Jwks s;
    for (auto alg : {tl::token::JwsAlg::es256, tl::token::JwsAlg::rs256}) {
      auto k = tl::token::SigningKey::generate(alg);
      check(k.ok());
      check(s.add(k->public_jwk()).ok());
    }
    return s;
  }();
  return set;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);
  switch (data[0] % 4) {
    case 0: {
      auto d = tl::token::base64url_decode(input);
      if (!d) {
        check(!d.error().message.empty());
        return 0;
      }
      check(tl::token::base64url_encode(*d) == input);
      break;
    }
    case 1: {
      auto set = tl::token::Jwks::parse(input);
      if (!set) {
        check(!set.error().message.empty());
        return 0;
      }
      auto again = tl::token::Jwks::parse(set->to_json().dump());
      check(again.ok());
      check(again->keys().size() == set->keys().size());
      for (size_t i = 0; i < set->keys().size(); ++i) {
        check(again->keys()[i].kid == set->keys()[i].kid);
        check(again->keys()[i].key == set->keys()[i].key);
      }
      break;
    }
    case 2: {
      tl::token::VerifyOptions o;
      o.now = 1'800'000'000;
      auto v = tl::token::verify_jwt(input, fixed_jwks(), o);
      if (!v) {
        check(!v.error().message.empty());
        check(v.error().reason.rfind("token-", 0) == 0);  // every refusal is classified
        return 0;
      }
      check(v->header().is_object() && v->claims().is_object());
      break;
    }
    default: {
      auto j = nlohmann::json::parse(input, nullptr, false);
      if (j.is_discarded()) return 0;
      auto k = tl::token::Jwk::from_json(j);
      if (!k) {
        check(!k.error().message.empty());
        return 0;
      }
      check(!k->kid.empty());
      break;
    }
  }
  return 0;
}
