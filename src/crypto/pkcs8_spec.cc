#include "crypto/pkcs8_spec.h"

#include <algorithm>
#include <array>
#include <string>

#include "common/byte_reader.h"

namespace tl::crypto {

namespace {

constexpr uint8_t kSequence = 0x30;
constexpr uint8_t kInteger = 0x02;
constexpr uint8_t kOctetString = 0x04;
constexpr uint8_t kNull = 0x05;
constexpr uint8_t kOid = 0x06;
constexpr uint8_t kContext0 = 0xa0;
constexpr uint8_t kContext1 = 0xa1;

// OID contents (DER, without tag and length).
constexpr std::array<uint8_t, 9> kRsaEncryption = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01};
constexpr std::array<uint8_t, 7> kEcPublicKey = {0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01};
constexpr std::array<uint8_t, 8> kPrime256v1 = {0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07};
constexpr std::array<uint8_t, 5> kSecp384r1 = {0x2b, 0x81, 0x04, 0x00, 0x22};

template <size_t N>
bool is(ByteView body, const std::array<uint8_t, N>& oid) {
  return std::equal(body.begin(), body.end(), oid.begin(), oid.end());
}

// One DER TLV with a single-byte tag and a definite, minimally encoded length.
Result<ByteView> element(ByteReader& r, uint8_t tag, const char* field) {
  auto t = r.u8(field);
  if (!t) return t.take_error();
  if (*t != tag) return r.error(field, "unexpected DER tag");
  auto first = r.u8(field);
  if (!first) return first.take_error();
  size_t len = *first;
  if (*first & 0x80) {
    const size_t count = *first & 0x7f;
    if (count == 0 || count > 3) return r.error(field, "unsupported DER length form");
    len = 0;
    for (size_t i = 0; i < count; ++i) {
      auto b = r.u8(field);
      if (!b) return b.take_error();
      if (i == 0 && *b == 0) return r.error(field, "non-minimal DER length");
      len = (len << 8) | *b;
    }
    if (len < 0x80) return r.error(field, "non-minimal DER length");
  }
  return r.bytes(len, field);
}

Status no_trailing(const ByteReader& r, const char* what) {
  if (!r.empty()) return r.error(what, std::to_string(r.remaining()) + " trailing bytes");
  return {};
}

Result<KeySpec> rsa_spec(ByteView body) {
  ByteReader outer(body);
  auto seq = element(outer, kSequence, "RSAPrivateKey");
  if (!seq) return seq.take_error();
  if (auto st = no_trailing(outer, "RSAPrivateKey"); !st) return st.take_error();
  ByteReader r(*seq);
  ByteView n;
  // version, n, e, d, p, q, dp, dq, qi
  for (int i = 0; i < 9; ++i) {
    auto v = element(r, kInteger, "RSAPrivateKey integer");
    if (!v) return v.take_error();
    if (v->empty() || (v->front() & 0x80)) return r.error("RSAPrivateKey integer", "empty or negative");
    if (i == 0 && !(v->size() == 1 && v->front() == 0)) {
      return r.error("RSAPrivateKey version", "not 0 (two-prime)");
    }
    if (i == 1) n = *v;
  }
  if (auto st = no_trailing(r, "RSAPrivateKey"); !st) return st.take_error();
  while (!n.empty() && n.front() == 0) n = n.subspan(1);
  if (n.empty()) return Error{"RSA modulus is zero"};
  int bits = static_cast<int>(8 * n.size());
  for (uint8_t top = n.front(); !(top & 0x80); top = static_cast<uint8_t>(top << 1)) --bits;
  return KeySpec{KeyKind::rsa, bits, Curve::p256};
}

Result<KeySpec> ec_spec(ByteView curve_oid, ByteView body) {
  KeySpec spec;
  if (is(curve_oid, kPrime256v1)) {
    spec = KeySpec{KeyKind::ec, 256, Curve::p256};
  } else if (is(curve_oid, kSecp384r1)) {
    spec = KeySpec{KeyKind::ec, 384, Curve::p384};
  } else {
    return Error{"EC key on a curve other than P-256 or P-384"};
  }
  ByteReader outer(body);
  auto seq = element(outer, kSequence, "ECPrivateKey");
  if (!seq) return seq.take_error();
  if (auto st = no_trailing(outer, "ECPrivateKey"); !st) return st.take_error();
  ByteReader r(*seq);
  auto version = element(r, kInteger, "ECPrivateKey version");
  if (!version) return version.take_error();
  if (!(version->size() == 1 && version->front() == 1)) return Error{"ECPrivateKey version is not 1"};
  auto d = element(r, kOctetString, "ECPrivateKey privateKey");
  if (!d) return d.take_error();
  if (d->size() != static_cast<size_t>(spec.bits / 8)) {
    return Error{"EC private key of " + std::to_string(d->size()) + " bytes for " +
                 std::string(curve_name(spec.curve))};
  }
  // Optional [0] parameters (must name the same curve) and [1] public key.
  if (!r.empty()) {
    ByteReader peek = r;
    auto tag = peek.u8("ECPrivateKey");
    if (tag && *tag == kContext0) {
      auto params = element(r, kContext0, "ECPrivateKey parameters");
      if (!params) return params.take_error();
      ByteReader pr(*params);
      auto oid = element(pr, kOid, "ECPrivateKey parameters");
      if (!oid) return oid.take_error();
      if (!pr.empty() || !std::equal(oid->begin(), oid->end(), curve_oid.begin(), curve_oid.end())) {
        return Error{"ECPrivateKey parameters name another curve than its PrivateKeyInfo"};
      }
    }
  }
  if (!r.empty()) {
    auto pub = element(r, kContext1, "ECPrivateKey publicKey");
    if (!pub) return pub.take_error();
  }
  if (auto st = no_trailing(r, "ECPrivateKey"); !st) return st.take_error();
  return spec;
}

}  // namespace

Result<KeySpec> pkcs8_spec(ByteView der) {
  ByteReader outer(der);
  auto info = element(outer, kSequence, "PrivateKeyInfo");
  if (!info) return info.take_error();
  if (auto st = no_trailing(outer, "PrivateKeyInfo"); !st) return st.take_error();
  ByteReader r(*info);
  auto version = element(r, kInteger, "PrivateKeyInfo version");
  if (!version) return version.take_error();
  if (!(version->size() == 1 && version->front() == 0)) return Error{"PrivateKeyInfo version is not 0"};
  auto alg = element(r, kSequence, "PrivateKeyInfo algorithm");
  if (!alg) return alg.take_error();
  auto key = element(r, kOctetString, "PrivateKeyInfo privateKey");
  if (!key) return key.take_error();
  if (!r.empty()) {
    auto attributes = element(r, kContext0, "PrivateKeyInfo attributes");
    if (!attributes) return attributes.take_error();
  }
  if (auto st = no_trailing(r, "PrivateKeyInfo"); !st) return st.take_error();

  ByteReader a(*alg);
  auto oid = element(a, kOid, "algorithm");
  if (!oid) return oid.take_error();
  if (is(*oid, kRsaEncryption)) {
    auto null = element(a, kNull, "rsaEncryption parameters");
    if (!null) return null.take_error();
    if (!null->empty()) return Error{"rsaEncryption parameters are not NULL"};
    if (auto st = no_trailing(a, "algorithm"); !st) return st.take_error();
    return rsa_spec(*key);
  }
  if (is(*oid, kEcPublicKey)) {
    auto curve = element(a, kOid, "EC named curve");
    if (!curve) return curve.take_error();
    if (auto st = no_trailing(a, "algorithm"); !st) return st.take_error();
    return ec_spec(*curve, *key);
  }
  return Error{"PrivateKeyInfo holds neither an RSA (rsaEncryption) nor an EC (id-ecPublicKey) key"};
}

}  // namespace tl::crypto
