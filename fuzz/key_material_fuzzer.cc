// Fuzzes the key material parsers. The first byte picks one:
//   0: KeyMaterial::import_pem
//   1: KeyMaterial::import_pkcs8_der
//   2: KeyMaterial::import_jwk on the rest parsed as JSON
//   3: KeyMaterial::from_release_bytes, the second byte picking the spec
// A refusal must say why. An accepted key must have a supported spec, come
// back from its release bytes unchanged, and (imports) be canonical: importing
// its release bytes again gives the very same bytes. Release bytes accepted by
// the structural reader must agree with OpenSSL on kind and size.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "crypto/key_material.h"
#include "fuzz_support.h"

using tl::fuzz::check;
using tl::crypto::Curve;
using tl::crypto::KeyKind;
using tl::crypto::KeyMaterial;
using tl::crypto::KeySpec;

namespace {

constexpr KeySpec kSpecs[] = {
    {KeyKind::rsa, 2048, Curve::p256}, {KeyKind::rsa, 3072, Curve::p256}, {KeyKind::rsa, 4096, Curve::p256},
    {KeyKind::ec, 256, Curve::p256},   {KeyKind::ec, 384, Curve::p384},   {KeyKind::oct, 256, Curve::p256},
};

bool supported(const KeySpec& s) {
  for (const KeySpec& k : kSpecs) {
    if (k == s) return true;
  }
  return false;
}

void check_accepted(const KeyMaterial& k, bool imported) {
  check(supported(k.spec()));
  check(!k.release_bytes().empty());
  auto back = KeyMaterial::from_release_bytes(k.spec(), k.release_bytes().view());
  check(back.ok());
  check(back->release_bytes() == k.release_bytes());
  const auto jwk = k.public_jwk();
  check(jwk.is_object() && jwk.value("kty", "") == std::string(tl::crypto::kty_name(k.spec().kind)));
  if (k.spec().kind == KeyKind::oct) {
    check(k.release_bytes().size() == 32 && jwk.size() == 1);
    return;
  }
  if (imported) {
    check(back->public_jwk() == jwk);
    check(jwk.size() == (k.spec().kind == KeyKind::rsa ? 3u : 4u));
    check(k.public_key().ok());
    auto again = KeyMaterial::import_pkcs8_der(k.release_bytes().view());
    check(again.ok());
    check(again->release_bytes() == k.release_bytes());
    return;
  }
  // Stored bytes are read structurally (their math is trusted); where OpenSSL
  // can read them too, it must see the same kind and size.
  if (auto pub = k.public_key(); pub.ok()) {
    check(pub->bits() == k.spec().bits);
    check((pub->type() == tl::crypto::KeyType::rsa) == (k.spec().kind == KeyKind::rsa));
  }
}

template <class R>
void expect(const R& r, bool imported) {
  if (!r) {
    check(!r.error().message.empty());
    return;
  }
  check_accepted(*r, imported);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const tl::ByteView rest(data + 1, size - 1);
  const std::string_view text(reinterpret_cast<const char*>(rest.data()), rest.size());
  switch (data[0] % 4) {
    case 0: expect(KeyMaterial::import_pem(text), true); break;
    case 1: expect(KeyMaterial::import_pkcs8_der(rest), true); break;
    case 2: {
      auto j = nlohmann::json::parse(text, nullptr, false);
      if (j.is_discarded()) return 0;
      expect(KeyMaterial::import_jwk(j), true);
      break;
    }
    default: {
      if (rest.empty()) return 0;
      const KeySpec& spec = kSpecs[rest[0] % std::size(kSpecs)];
      auto k = KeyMaterial::from_release_bytes(spec, rest.subspan(1));
      expect(k, false);
      if (k) {
        check(k->spec() == spec);
        check(k->release_bytes().view().size() == rest.size() - 1);
      }
      break;
    }
  }
  return 0;
}
