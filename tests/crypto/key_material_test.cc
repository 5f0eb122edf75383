// Key material for the vault: generated keys round-trip through their release
// bytes; keys made by the openssl command line import from every accepted form
// to the same canonical bytes and the public key openssl derives; hostile or
// unsupported input is refused with the member or form named.
#include "crypto/key_material.h"

#include <gtest/gtest.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/encoder.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>

#include <memory>
#include <string>

#include "crypto/b64url.h"
#include "crypto/private_key.h"
#include "openssl_cli.h"

namespace tl::crypto {

// Test names and failure output show the spec, not its bytes.
[[maybe_unused]] static void PrintTo(const KeySpec& s, std::ostream* os) {
  *os << kty_name(s.kind) << " " << s.bits << (s.kind == KeyKind::ec ? " " + std::string(curve_name(s.curve)) : "");
}

namespace {

using json = nlohmann::json;
using test_cli::OpensslDir;

// ---- independent helpers (OpenSSL's base64, not the code under test) ----

std::string b64u(ByteView bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), bytes.data(),
                                static_cast<int>(bytes.size()));
  out.resize(static_cast<size_t>(n));
  while (!out.empty() && out.back() == '=') out.pop_back();
  for (char& c : out) c = c == '+' ? '-' : c == '/' ? '_' : c;
  return out;
}

Bytes bn_bytes(const BIGNUM* bn, size_t pad = 0) {
  Bytes out(pad != 0 ? pad : static_cast<size_t>(BN_num_bytes(bn)));
  EXPECT_GE(BN_bn2binpad(bn, out.data(), static_cast<int>(out.size())), 0);
  return out;
}

using PkeyPtr = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;
using BnPtr = std::unique_ptr<BIGNUM, decltype(&BN_free)>;

BnPtr param(const EVP_PKEY* k, const char* name) {
  BIGNUM* bn = nullptr;
  EXPECT_EQ(EVP_PKEY_get_bn_param(k, name, &bn), 1) << name;
  return BnPtr(bn, BN_free);
}

// The key in a file, read with OpenSSL's own PEM reader.
PkeyPtr load(const OpensslDir& dir, const std::string& name) {
  const std::string pem = dir.text(name);
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), BIO_free);
  PkeyPtr k(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr), EVP_PKEY_free);
  EXPECT_TRUE(k) << name;
  return k;
}

// A private JWK of an RSA or EC key, built from OpenSSL's view of its members.
json private_jwk(const EVP_PKEY* k) {
  if (EVP_PKEY_get_base_id(k) == EVP_PKEY_RSA) {
    return {{"kty", "RSA"},
            {"n", b64u(bn_bytes(param(k, OSSL_PKEY_PARAM_RSA_N).get()))},
            {"e", b64u(bn_bytes(param(k, OSSL_PKEY_PARAM_RSA_E).get()))},
            {"d", b64u(bn_bytes(param(k, OSSL_PKEY_PARAM_RSA_D).get()))},
            {"p", b64u(bn_bytes(param(k, OSSL_PKEY_PARAM_RSA_FACTOR1).get()))},
            {"q", b64u(bn_bytes(param(k, OSSL_PKEY_PARAM_RSA_FACTOR2).get()))},
            {"dp", b64u(bn_bytes(param(k, OSSL_PKEY_PARAM_RSA_EXPONENT1).get()))},
            {"dq", b64u(bn_bytes(param(k, OSSL_PKEY_PARAM_RSA_EXPONENT2).get()))},
            {"qi", b64u(bn_bytes(param(k, OSSL_PKEY_PARAM_RSA_COEFFICIENT1).get()))}};
  }
  const size_t size = EVP_PKEY_get_bits(k) == 384 ? 48 : 32;
  return {{"kty", "EC"},
          {"crv", size == 48 ? "P-384" : "P-256"},
          {"x", b64u(bn_bytes(param(k, OSSL_PKEY_PARAM_EC_PUB_X).get(), size))},
          {"y", b64u(bn_bytes(param(k, OSSL_PKEY_PARAM_EC_PUB_Y).get(), size))},
          {"d", b64u(bn_bytes(param(k, OSSL_PKEY_PARAM_PRIV_KEY).get(), size))}};
}

// The public JWK a key must have, from the SubjectPublicKeyInfo PEM that
// `openssl pkey -pubout` wrote.
json expected_public_jwk(const std::string& pubout_pem) {
  auto pub = PublicKey::from_pem(pubout_pem);
  EXPECT_TRUE(pub.ok()) << pub.error().message;
  if (!pub.ok()) return {};
  if (pub->type() == KeyType::rsa) {
    auto p = rsa_public_params(*pub);
    EXPECT_TRUE(p.ok());
    return {{"kty", "RSA"}, {"n", b64u(p->n)}, {"e", b64u(p->e)}};
  }
  auto p = ec_public_params(*pub);
  EXPECT_TRUE(p.ok());
  return {{"kty", "EC"}, {"crv", std::string(curve_name(p->curve))}, {"x", b64u(p->x)}, {"y", b64u(p->y)}};
}

std::string hex_of(const KeyMaterial& k) { return to_hex(k.release_bytes().view()); }

#define EXPECT_ERROR_HAS(result, text)                                                     \
  do {                                                                                     \
    const auto& r_ = (result);                                                             \
    ASSERT_FALSE(r_.ok()) << "accepted, expected an error with: " << (text);               \
    EXPECT_NE(r_.error().message.find(text), std::string::npos) << r_.error().message;    \
  } while (0)

// ---- specs and generation ----

TEST(KeyMaterial, KtyNamesAndKeyOps) {
  EXPECT_EQ(kty_name(KeyKind::rsa), "RSA");
  EXPECT_EQ(kty_name(KeyKind::ec), "EC");
  EXPECT_EQ(kty_name(KeyKind::oct), "oct");
  EXPECT_EQ(supported_key_ops(KeyKind::rsa),
            (std::vector<std::string>{"encrypt", "decrypt", "sign", "verify", "wrapKey", "unwrapKey"}));
  EXPECT_EQ(supported_key_ops(KeyKind::ec), (std::vector<std::string>{"sign", "verify"}));
  EXPECT_EQ(supported_key_ops(KeyKind::oct), (std::vector<std::string>{"encrypt", "decrypt", "wrapKey", "unwrapKey"}));
}

void check_generated(const KeySpec& spec) {
  auto k = KeyMaterial::generate(spec);
  ASSERT_TRUE(k.ok()) << k.error().message;
  EXPECT_EQ(k->spec(), spec);
  auto back = KeyMaterial::from_release_bytes(spec, k->release_bytes().view());
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->spec(), spec);
  EXPECT_EQ(hex_of(*back), hex_of(*k));
  EXPECT_EQ(back->public_jwk(), k->public_jwk());
  const json jwk = k->public_jwk();
  EXPECT_EQ(jwk["kty"], std::string(kty_name(spec.kind)));
  EXPECT_FALSE(jwk.contains("d"));
  EXPECT_FALSE(jwk.contains("k"));
  if (spec.kind == KeyKind::oct) {
    EXPECT_EQ(k->release_bytes().size(), 32u);
    EXPECT_EQ(jwk.size(), 1u) << jwk.dump();
    EXPECT_FALSE(k->public_key().ok());
    return;
  }
  auto pub = k->public_key();
  ASSERT_TRUE(pub.ok()) << pub.error().message;
  EXPECT_EQ(pub->bits(), spec.bits);
  if (spec.kind == KeyKind::rsa) {
    EXPECT_EQ(jwk.size(), 3u) << jwk.dump();
    EXPECT_EQ(jwk["e"], "AQAB");  // 65537
    auto n = b64url_decode(jwk["n"].get<std::string>());
    ASSERT_TRUE(n.ok());
    EXPECT_EQ(n->size(), static_cast<size_t>(spec.bits / 8));
  } else {
    EXPECT_EQ(jwk.size(), 4u) << jwk.dump();
    EXPECT_EQ(jwk["crv"], std::string(curve_name(spec.curve)));
    for (const char* c : {"x", "y"}) {
      auto v = b64url_decode(jwk[c].get<std::string>());
      ASSERT_TRUE(v.ok());
      EXPECT_EQ(v->size(), static_cast<size_t>(spec.bits / 8)) << c;
    }
  }
  EXPECT_EQ(jwk, expected_public_jwk(pub->pem()));
}

class Generated : public ::testing::TestWithParam<KeySpec> {};

TEST_P(Generated, RoundTripsThroughReleaseBytes) { check_generated(GetParam()); }

// RSA 4096 has its own test below: its generation is slow, so it runs once.
INSTANTIATE_TEST_SUITE_P(Specs, Generated,
                         ::testing::Values(KeySpec{KeyKind::rsa, 2048, Curve::p256},
                                           KeySpec{KeyKind::rsa, 3072, Curve::p256},
                                           KeySpec{KeyKind::ec, 256, Curve::p256},
                                           KeySpec{KeyKind::ec, 384, Curve::p384},
                                           KeySpec{KeyKind::oct, 256, Curve::p256}),
                         [](const ::testing::TestParamInfo<KeySpec>& i) {
                           return std::string(kty_name(i.param.kind)) + std::to_string(i.param.bits);
                         });

TEST(KeyMaterial, EachGenerationIsANewKey) {
  for (const KeySpec& spec : {KeySpec{KeyKind::ec, 256, Curve::p256}, KeySpec{KeyKind::oct, 256, Curve::p256}}) {
    auto a = KeyMaterial::generate(spec);
    auto b = KeyMaterial::generate(spec);
    ASSERT_TRUE(a.ok() && b.ok());
    EXPECT_NE(hex_of(*a), hex_of(*b));
  }
}

TEST(KeyMaterial, UnsupportedSpecsAreRefused) {
  EXPECT_ERROR_HAS(KeyMaterial::generate({KeyKind::rsa, 1024, Curve::p256}), "RSA 1024 bits");
  EXPECT_ERROR_HAS(KeyMaterial::generate({KeyKind::rsa, 8192, Curve::p256}), "RSA 8192 bits");
  EXPECT_ERROR_HAS(KeyMaterial::generate({KeyKind::ec, 521, Curve::p521}), "P-521");
  EXPECT_FALSE(KeyMaterial::generate({KeyKind::ec, 384, Curve::p256}).ok());
  EXPECT_ERROR_HAS(KeyMaterial::generate({KeyKind::oct, 128, Curve::p256}), "oct 128");
}

// The one RSA-4096 key of this binary: generated, released, read by the
// openssl command line, and imported back from its PEM to the same bytes.
TEST(KeyMaterial, Rsa4096GeneratesAndImportsBack) {
  const KeySpec spec{KeyKind::rsa, 4096, Curve::p256};
  auto k = KeyMaterial::generate(spec);
  ASSERT_TRUE(k.ok()) << k.error().message;
  auto back = KeyMaterial::from_release_bytes(spec, k->release_bytes().view());
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(hex_of(*back), hex_of(*k));
  EXPECT_EQ(back->public_jwk(), k->public_jwk());
  OpensslDir dir;
  ASSERT_TRUE(dir.ok());
  dir.write("k.der", k->release_bytes().view());
  ASSERT_EQ(dir.sh("openssl pkey -inform DER -in k.der -out k.pem && openssl pkey -in k.pem -pubout -out k.pub"), 0);
  EXPECT_EQ(k->public_jwk(), expected_public_jwk(dir.text("k.pub")));
  auto imported = KeyMaterial::import_pem(dir.text("k.pem"));
  ASSERT_TRUE(imported.ok()) << imported.error().message;
  EXPECT_EQ(imported->spec(), spec);
  EXPECT_EQ(hex_of(*imported), hex_of(*k));
}

// ---- release bytes ----

TEST(KeyMaterial, ReleaseBytesArePkcs8TheOpensslCommandLineReads) {
  OpensslDir dir;
  ASSERT_TRUE(dir.ok());
  for (const KeySpec& spec : {KeySpec{KeyKind::rsa, 2048, Curve::p256}, KeySpec{KeyKind::ec, 384, Curve::p384}}) {
    auto k = KeyMaterial::generate(spec);
    ASSERT_TRUE(k.ok());
    dir.write("r.der", k->release_bytes().view());
    ASSERT_EQ(dir.sh("openssl pkey -inform DER -in r.der -check -pubout -out r.pub"), 0);
    auto pub = k->public_key();
    ASSERT_TRUE(pub.ok());
    auto cli = PublicKey::from_pem(dir.text("r.pub"));
    ASSERT_TRUE(cli.ok());
    EXPECT_TRUE(*pub == *cli);
    // And `openssl pkcs8 -nocrypt` re-encodes it to the very same bytes.
    ASSERT_EQ(dir.sh("openssl pkcs8 -topk8 -nocrypt -inform DER -in r.der -outform DER -out again.der"), 0);
    EXPECT_EQ(to_hex(dir.bytes("again.der")), hex_of(*k));
  }
}

TEST(KeyMaterial, ReleaseBytesMustMatchTheSpec) {
  auto rsa = KeyMaterial::generate({KeyKind::rsa, 2048, Curve::p256});
  auto ec = KeyMaterial::generate({KeyKind::ec, 256, Curve::p256});
  auto oct = KeyMaterial::generate({KeyKind::oct, 256, Curve::p256});
  ASSERT_TRUE(rsa.ok() && ec.ok() && oct.ok());
  const ByteView r = rsa->release_bytes().view();
  const ByteView e = ec->release_bytes().view();
  EXPECT_ERROR_HAS(KeyMaterial::from_release_bytes({KeyKind::rsa, 3072, Curve::p256}, r), "RSA 2048 bits");
  EXPECT_ERROR_HAS(KeyMaterial::from_release_bytes({KeyKind::ec, 256, Curve::p256}, r), "record says EC P-256");
  EXPECT_ERROR_HAS(KeyMaterial::from_release_bytes({KeyKind::ec, 384, Curve::p384}, e), "EC P-256");
  EXPECT_FALSE(KeyMaterial::from_release_bytes({KeyKind::rsa, 2048, Curve::p256}, e).ok());
  EXPECT_FALSE(KeyMaterial::from_release_bytes({KeyKind::oct, 256, Curve::p256}, e).ok());
  EXPECT_FALSE(KeyMaterial::from_release_bytes({KeyKind::rsa, 2048, Curve::p256}, oct->release_bytes().view()).ok());
  EXPECT_ERROR_HAS(KeyMaterial::from_release_bytes({KeyKind::oct, 256, Curve::p256}, Bytes(31, 1)), "31 bytes");
  EXPECT_FALSE(KeyMaterial::from_release_bytes({KeyKind::oct, 256, Curve::p256}, Bytes(33, 1)).ok());
  EXPECT_FALSE(KeyMaterial::from_release_bytes({KeyKind::oct, 128, Curve::p256}, Bytes(16, 1)).ok());
  EXPECT_FALSE(KeyMaterial::from_release_bytes({KeyKind::rsa, 1024, Curve::p256}, r).ok());
  // Truncated anywhere, or with bytes after it, the DER is refused.
  for (const ByteView der : {r, e}) {
    for (size_t cut : {size_t{0}, size_t{1}, size_t{2}, size_t{10}, der.size() / 2, der.size() - 1}) {
      const KeySpec spec = der.data() == r.data() ? rsa->spec() : ec->spec();
      EXPECT_FALSE(KeyMaterial::from_release_bytes(spec, der.first(cut)).ok()) << cut;
    }
    Bytes longer(der.begin(), der.end());
    longer.push_back(0);
    EXPECT_ERROR_HAS(KeyMaterial::from_release_bytes(der.data() == r.data() ? rsa->spec() : ec->spec(), longer),
                     "trailing");
  }
}

// DER built by hand for the structure checks of stored keys.
Bytes tlv(uint8_t tag, const Bytes& body) {
  Bytes out{tag};
  if (body.size() < 0x80) {
    out.push_back(static_cast<uint8_t>(body.size()));
  } else {
    out.push_back(0x82);
    out.push_back(static_cast<uint8_t>(body.size() >> 8));
    out.push_back(static_cast<uint8_t>(body.size()));
  }
  out.insert(out.end(), body.begin(), body.end());
  return out;
}
Bytes cat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const Bytes& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

const Bytes kEcOid = {0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01};
const Bytes kP256Oid = {0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07};
const Bytes kP384Oid = {0x2b, 0x81, 0x04, 0x00, 0x22};
const Bytes kRsaOid = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01};

Bytes pkcs8(const Bytes& alg, const Bytes& key, uint8_t version = 0) {
  return tlv(0x30, cat({tlv(0x02, {version}), tlv(0x30, alg), tlv(0x04, key)}));
}
Bytes ec_key(size_t d_size, const Bytes& extra = {}, uint8_t version = 1) {
  return tlv(0x30, cat({tlv(0x02, {version}), tlv(0x04, Bytes(d_size, 0x11)), extra}));
}
Bytes rsa_key(const Bytes& n, uint8_t version = 0) {
  Bytes ints = tlv(0x02, {version});
  ints = cat({ints, tlv(0x02, n)});
  for (int i = 0; i < 7; ++i) ints = cat({ints, tlv(0x02, {0x03})});
  return tlv(0x30, ints);
}

TEST(KeyMaterial, StoredKeyStructureIsCheckedStrictly) {
  const KeySpec p256{KeyKind::ec, 256, Curve::p256};
  const KeySpec rsa2048{KeyKind::rsa, 2048, Curve::p256};
  const Bytes ec_alg = cat({tlv(0x06, kEcOid), tlv(0x06, kP256Oid)});
  const Bytes rsa_alg = cat({tlv(0x06, kRsaOid), Bytes{0x05, 0x00}});
  Bytes n(256, 0x5a);
  n[0] = 0x80;  // 2048 bits exactly, positive thanks to the leading zero below
  Bytes n_pos = cat({Bytes{0x00}, n});

  // The well-formed shapes pass (stored bytes are trusted for the math) ...
  EXPECT_TRUE(KeyMaterial::from_release_bytes(p256, pkcs8(ec_alg, ec_key(32))).ok());
  EXPECT_TRUE(KeyMaterial::from_release_bytes(rsa2048, pkcs8(rsa_alg, rsa_key(n_pos))).ok());
  EXPECT_TRUE(
      KeyMaterial::from_release_bytes(p256, pkcs8(ec_alg, ec_key(32, tlv(0xa0, tlv(0x06, kP256Oid))))).ok());
  // ... and every deviation is refused.
  EXPECT_ERROR_HAS(KeyMaterial::from_release_bytes(rsa2048, pkcs8(rsa_alg, rsa_key(n))), "negative");
  EXPECT_ERROR_HAS(KeyMaterial::from_release_bytes(rsa2048, pkcs8(rsa_alg, rsa_key(n_pos, 1))), "two-prime");
  EXPECT_ERROR_HAS(KeyMaterial::from_release_bytes({KeyKind::rsa, 3072, Curve::p256}, pkcs8(rsa_alg, rsa_key(n_pos))),
                   "RSA 2048 bits");
  EXPECT_FALSE(KeyMaterial::from_release_bytes(rsa2048, pkcs8(tlv(0x06, kRsaOid), rsa_key(n_pos))).ok());
  EXPECT_ERROR_HAS(KeyMaterial::from_release_bytes(p256, pkcs8(ec_alg, ec_key(32), 1)), "version");
  EXPECT_ERROR_HAS(KeyMaterial::from_release_bytes(p256, pkcs8(ec_alg, ec_key(31))), "31 bytes");
  EXPECT_ERROR_HAS(KeyMaterial::from_release_bytes(p256, pkcs8(ec_alg, ec_key(32, {}, 2))), "version");
  EXPECT_ERROR_HAS(
      KeyMaterial::from_release_bytes(p256, pkcs8(ec_alg, ec_key(32, tlv(0xa0, tlv(0x06, kP384Oid))))),
      "another curve");
  EXPECT_FALSE(KeyMaterial::from_release_bytes(p256, pkcs8(ec_alg, ec_key(32, tlv(0xa2, {0x00})))).ok());
  EXPECT_FALSE(KeyMaterial::from_release_bytes(
                   p256, pkcs8(cat({tlv(0x06, kEcOid), tlv(0x06, {0x2b, 0x81, 0x04, 0x00, 0x0a})}), ec_key(32)))
                   .ok());  // secp256k1
  EXPECT_ERROR_HAS(KeyMaterial::from_release_bytes(p256, pkcs8(tlv(0x06, {0x2b, 0x65, 0x70}), ec_key(32))),
                   "neither");  // Ed25519
  // Lengths: non-minimal long form, too many length bytes, beyond the data.
  Bytes good = pkcs8(ec_alg, ec_key(32));
  Bytes non_minimal = {0x30, 0x81, static_cast<uint8_t>(good.size() - 2)};
  non_minimal.insert(non_minimal.end(), good.begin() + 2, good.end());
  EXPECT_ERROR_HAS(KeyMaterial::from_release_bytes(p256, non_minimal), "non-minimal");
  Bytes huge = {0x30, 0x84, 0x7f, 0xff, 0xff, 0xff};
  EXPECT_FALSE(KeyMaterial::from_release_bytes(p256, huge).ok());
  Bytes beyond = good;
  beyond[1] = static_cast<uint8_t>(beyond[1] + 1);
  EXPECT_FALSE(KeyMaterial::from_release_bytes(p256, beyond).ok());
}

// ---- PEM and DER made by the openssl command line ----

struct CliKey {
  const char* name;
  const char* make;  // writes k.pem
  KeySpec spec;
  const char* label;
};

const CliKey kCliKeys[] = {
    {"Rsa2048Pkcs8", "openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out k.pem",
     {KeyKind::rsa, 2048, Curve::p256}, "PRIVATE KEY"},
    {"Rsa3072Pkcs8", "openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:3072 -out k.pem",
     {KeyKind::rsa, 3072, Curve::p256}, "PRIVATE KEY"},
    {"Rsa2048Pkcs1", "openssl genrsa -traditional -out k.pem 2048", {KeyKind::rsa, 2048, Curve::p256},
     "RSA PRIVATE KEY"},
    {"P256Pkcs8", "openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out k.pem",
     {KeyKind::ec, 256, Curve::p256}, "PRIVATE KEY"},
    {"P384Pkcs8", "openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384 -out k.pem",
     {KeyKind::ec, 384, Curve::p384}, "PRIVATE KEY"},
    // ecparam writes an "EC PARAMETERS" block first, then the SEC 1 key.
    {"P256Sec1WithParameters", "openssl ecparam -genkey -name prime256v1 -out k.pem", {KeyKind::ec, 256, Curve::p256},
     "EC PRIVATE KEY"},
    {"P384Sec1", "openssl ecparam -genkey -noout -name secp384r1 -out k.pem", {KeyKind::ec, 384, Curve::p384},
     "EC PRIVATE KEY"},
};

void PrintTo(const CliKey& c, std::ostream* os) { *os << c.name; }

class OpensslKeyImport : public ::testing::TestWithParam<CliKey> {};

TEST_P(OpensslKeyImport, EveryFormGivesTheSameKeyAndOpensslsPublicKey) {
  const CliKey& c = GetParam();
  OpensslDir dir;
  ASSERT_TRUE(dir.ok());
  ASSERT_EQ(dir.sh(c.make), 0);
  ASSERT_EQ(dir.sh("openssl pkey -in k.pem -pubout -out k.pub"), 0);
  const std::string pem = dir.text("k.pem");
  ASSERT_NE(pem.find(std::string("-----BEGIN ") + c.label + "-----"), std::string::npos) << pem.substr(0, 40);
  auto k = KeyMaterial::import_pem(pem);
  ASSERT_TRUE(k.ok()) << k.error().message;
  EXPECT_EQ(k->spec(), c.spec);
  EXPECT_EQ(k->public_jwk(), expected_public_jwk(dir.text("k.pub")));
  auto pub = k->public_key();
  ASSERT_TRUE(pub.ok());
  EXPECT_TRUE(*pub == *PublicKey::from_pem(dir.text("k.pub")));

  // Every other form of the same key gives the same canonical bytes.
  const bool rsa = c.spec.kind == KeyKind::rsa;
  ASSERT_EQ(dir.sh("openssl pkey -in k.pem -out p8.pem && openssl pkcs8 -topk8 -nocrypt -in k.pem -outform DER "
                   "-out p8.der && " +
                   std::string(rsa ? "openssl rsa -in k.pem -traditional -out trad.pem"
                                   : "openssl ec -in k.pem -out trad.pem")),
            0);
  auto p8 = KeyMaterial::import_pem(dir.text("p8.pem"));
  auto der = KeyMaterial::import_pkcs8_der(dir.bytes("p8.der"));
  auto trad = KeyMaterial::import_pem(dir.text("trad.pem"));
  auto jwk = KeyMaterial::import_jwk(private_jwk(load(dir, "k.pem").get()));
  for (const auto* r : {&p8, &der, &trad, &jwk}) {
    ASSERT_TRUE(r->ok()) << r->error().message;
    EXPECT_EQ(hex_of(**r), hex_of(*k));
    EXPECT_EQ((*r)->spec(), c.spec);
  }
  auto released = KeyMaterial::from_release_bytes(c.spec, k->release_bytes().view());
  ASSERT_TRUE(released.ok()) << released.error().message;
  EXPECT_EQ(released->public_jwk(), k->public_jwk());
}

INSTANTIATE_TEST_SUITE_P(Cli, OpensslKeyImport, ::testing::ValuesIn(kCliKeys),
                         [](const ::testing::TestParamInfo<CliKey>& i) { return std::string(i.param.name); });

TEST(KeyMaterial, AcceptsAnyOddPublicExponent) {
  OpensslDir dir;
  ASSERT_TRUE(dir.ok());
  ASSERT_EQ(dir.sh("openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -pkeyopt rsa_keygen_pubexp:3 "
                   "-out k.pem"),
            0);
  auto k = KeyMaterial::import_pem(dir.text("k.pem"));
  ASSERT_TRUE(k.ok()) << k.error().message;
  EXPECT_EQ(k->public_jwk()["e"], "Aw");
}

TEST(KeyMaterial, UnsupportedKeysAreRefusedSayingWhatWasFound) {
  OpensslDir dir;
  ASSERT_TRUE(dir.ok());
  ASSERT_EQ(dir.sh("openssl ecparam -genkey -noout -name secp256k1 -out k1.pem"
                   " && openssl pkey -in k1.pem -out k1p8.pem"
                   " && openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:1024 -out r1024.pem"
                   " && openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-521 -out p521.pem"
                   " && openssl genpkey -algorithm ED25519 -out ed.pem"
                   " && openssl genpkey -algorithm RSA-PSS -pkeyopt rsa_keygen_bits:2048 -out pss.pem"),
            0);
  EXPECT_ERROR_HAS(KeyMaterial::import_pem(dir.text("k1.pem")), "curve secp256k1");
  EXPECT_ERROR_HAS(KeyMaterial::import_pem(dir.text("k1p8.pem")), "curve secp256k1");
  EXPECT_ERROR_HAS(KeyMaterial::import_pem(dir.text("r1024.pem")), "RSA 1024 bits");
  EXPECT_ERROR_HAS(KeyMaterial::import_pem(dir.text("p521.pem")), "curve secp521r1");
  EXPECT_ERROR_HAS(KeyMaterial::import_pem(dir.text("ed.pem")), "ED25519");
  EXPECT_ERROR_HAS(KeyMaterial::import_pem(dir.text("pss.pem")), "RSA-PSS");
}

TEST(KeyMaterial, EncryptedPublicAndCertificatePemAreRefused) {
  OpensslDir dir;
  ASSERT_TRUE(dir.ok());
  ASSERT_EQ(dir.sh("openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out k.pem"
                   " && openssl pkey -in k.pem -aes256 -passout pass:secret -out enc8.pem"
                   " && openssl ec -in k.pem -aes128 -passout pass:secret -out enctrad.pem"
                   " && openssl pkey -in k.pem -pubout -out pub.pem"
                   " && openssl req -x509 -key k.pem -subj /CN=t -days 1 -out cert.pem"
                   " && openssl pkcs8 -topk8 -in k.pem -v2 aes256 -passout pass:secret -outform DER -out enc8.der"
                   " && openssl pkey -in k.pem -pubout -outform DER -out pub.der"
                   " && openssl x509 -in cert.pem -outform DER -out cert.der"),
            0);
  ASSERT_NE(dir.text("enctrad.pem").find("ENCRYPTED"), std::string::npos);
  EXPECT_ERROR_HAS(KeyMaterial::import_pem(dir.text("enc8.pem")), "encrypted");
  EXPECT_ERROR_HAS(KeyMaterial::import_pem(dir.text("enctrad.pem")), "encrypted");
  EXPECT_ERROR_HAS(KeyMaterial::import_pem(dir.text("pub.pem")), "public key");
  EXPECT_ERROR_HAS(KeyMaterial::import_pem(dir.text("cert.pem")), "certificate");
  EXPECT_ERROR_HAS(KeyMaterial::import_pkcs8_der(dir.bytes("enc8.der")), "encrypted");
  EXPECT_ERROR_HAS(KeyMaterial::import_pkcs8_der(dir.bytes("pub.der")), "public key");
  EXPECT_ERROR_HAS(KeyMaterial::import_pkcs8_der(dir.bytes("cert.der")), "certificate");
  // Several blocks: the key with its certificate, or two keys.
  EXPECT_ERROR_HAS(KeyMaterial::import_pem(dir.text("k.pem") + dir.text("cert.pem")), "2 blocks");
  EXPECT_ERROR_HAS(KeyMaterial::import_pem(dir.text("k.pem") + dir.text("k.pem")), "exactly one private key");
  EXPECT_ERROR_HAS(KeyMaterial::import_pem(dir.text("cert.pem") + dir.text("k.pem")), "'CERTIFICATE'");
  // Text around a single block is allowed (comments, "Bag Attributes").
  auto ok = KeyMaterial::import_pem("my key\n" + dir.text("k.pem") + "\n");
  EXPECT_TRUE(ok.ok()) << ok.error().message;
}

TEST(KeyMaterial, GarbageAndTruncatedInputIsRefused) {
  OpensslDir dir;
  ASSERT_TRUE(dir.ok());
  ASSERT_EQ(dir.sh("openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out k.pem"
                   " && openssl pkcs8 -topk8 -nocrypt -in k.pem -outform DER -out k.der"
                   " && openssl rsa -in k.pem -traditional -outform DER -out pkcs1.der"),
            0);
  EXPECT_ERROR_HAS(KeyMaterial::import_pkcs8_der(dir.bytes("pkcs1.der")), "PKCS#1");
  const std::string pem = dir.text("k.pem");
  const Bytes der = dir.bytes("k.der");
  EXPECT_ERROR_HAS(KeyMaterial::import_pem(""), "empty");
  EXPECT_ERROR_HAS(KeyMaterial::import_pem("hello"), "no PEM block");
  EXPECT_ERROR_HAS(KeyMaterial::import_pem(std::string(70000, 'A')), "too large");
  EXPECT_FALSE(KeyMaterial::import_pem("-----BEGIN PRIVATE KEY-----\n!!!!\n-----END PRIVATE KEY-----\n").ok());
  EXPECT_FALSE(KeyMaterial::import_pem("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n").ok());
  EXPECT_ERROR_HAS(KeyMaterial::import_pem("-----BEGIN FOO-----\nAAAA\n-----END FOO-----\n"), "'FOO'");
  for (size_t cut : {pem.size() / 3, pem.size() / 2, pem.size() - 30}) {
    EXPECT_FALSE(KeyMaterial::import_pem(pem.substr(0, cut)).ok()) << cut;
  }
  EXPECT_FALSE(KeyMaterial::import_pkcs8_der({}).ok());
  for (size_t cut : {size_t{1}, size_t{4}, size_t{26}, der.size() / 2, der.size() - 1}) {
    EXPECT_FALSE(KeyMaterial::import_pkcs8_der(ByteView(der).first(cut)).ok()) << cut;
  }
  Bytes longer = der;
  longer.push_back(0);
  EXPECT_ERROR_HAS(KeyMaterial::import_pkcs8_der(longer), "1 trailing bytes");
  Bytes flipped = der;
  flipped[1] ^= 0x40;  // the outer length
  EXPECT_FALSE(KeyMaterial::import_pkcs8_der(flipped).ok());
  EXPECT_FALSE(KeyMaterial::import_pkcs8_der(as_bytes("not der at all")).ok());
}

// A PKCS#1 PEM whose members OpenSSL encodes as given, with one made wrong.
std::string rsa_pem_with(const EVP_PKEY* k, const char* bad_member) {
  const char* names[] = {OSSL_PKEY_PARAM_RSA_N,         OSSL_PKEY_PARAM_RSA_E,         OSSL_PKEY_PARAM_RSA_D,
                         OSSL_PKEY_PARAM_RSA_FACTOR1,   OSSL_PKEY_PARAM_RSA_FACTOR2,   OSSL_PKEY_PARAM_RSA_EXPONENT1,
                         OSSL_PKEY_PARAM_RSA_EXPONENT2, OSSL_PKEY_PARAM_RSA_COEFFICIENT1};
  std::unique_ptr<OSSL_PARAM_BLD, decltype(&OSSL_PARAM_BLD_free)> bld(OSSL_PARAM_BLD_new(), OSSL_PARAM_BLD_free);
  std::vector<BnPtr> keep;
  for (const char* n : names) {
    keep.push_back(param(k, n));
    if (std::string(n) == bad_member) BN_add_word(keep.back().get(), 2);
    OSSL_PARAM_BLD_push_BN(bld.get(), n, keep.back().get());
  }
  std::unique_ptr<OSSL_PARAM, decltype(&OSSL_PARAM_free)> params(OSSL_PARAM_BLD_to_param(bld.get()), OSSL_PARAM_free);
  std::unique_ptr<EVP_PKEY_CTX, decltype(&EVP_PKEY_CTX_free)> ctx(EVP_PKEY_CTX_new_from_name(nullptr, "RSA", nullptr),
                                                                  EVP_PKEY_CTX_free);
  EVP_PKEY* built = nullptr;
  EXPECT_EQ(EVP_PKEY_fromdata_init(ctx.get()), 1);
  EXPECT_EQ(EVP_PKEY_fromdata(ctx.get(), &built, EVP_PKEY_KEYPAIR, params.get()), 1);
  PkeyPtr owned(built, EVP_PKEY_free);
  std::unique_ptr<OSSL_ENCODER_CTX, decltype(&OSSL_ENCODER_CTX_free)> enc(
      OSSL_ENCODER_CTX_new_for_pkey(built, EVP_PKEY_KEYPAIR, "PEM", "type-specific", nullptr), OSSL_ENCODER_CTX_free);
  unsigned char* data = nullptr;
  size_t len = 0;
  EXPECT_EQ(OSSL_ENCODER_to_data(enc.get(), &data, &len), 1);
  std::string pem(reinterpret_cast<char*>(data), len);
  OPENSSL_free(data);
  return pem;
}

TEST(KeyMaterial, InconsistentPkcs1MembersAreNamed) {
  OpensslDir dir;
  ASSERT_TRUE(dir.ok());
  ASSERT_EQ(dir.sh("openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out k.pem"), 0);
  PkeyPtr k = load(dir, "k.pem");
  const std::string good = rsa_pem_with(k.get(), "");
  ASSERT_NE(good.find("BEGIN RSA PRIVATE KEY"), std::string::npos);
  EXPECT_TRUE(KeyMaterial::import_pem(good).ok());
  EXPECT_ERROR_HAS(KeyMaterial::import_pem(rsa_pem_with(k.get(), OSSL_PKEY_PARAM_RSA_EXPONENT1)), "'dp'");
  EXPECT_ERROR_HAS(KeyMaterial::import_pem(rsa_pem_with(k.get(), OSSL_PKEY_PARAM_RSA_COEFFICIENT1)), "'qi'");
  EXPECT_ERROR_HAS(KeyMaterial::import_pem(rsa_pem_with(k.get(), OSSL_PKEY_PARAM_RSA_D)), "'d'");
  EXPECT_ERROR_HAS(KeyMaterial::import_pem(rsa_pem_with(k.get(), OSSL_PKEY_PARAM_RSA_N)), "'n'");
}

// ---- JWK ----

class Jwk : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = std::make_unique<OpensslDir>();
    ASSERT_TRUE(dir_->ok());
    ASSERT_EQ(dir_->sh("openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out rsa.pem"
                       " && openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out ec.pem"
                       " && openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out ec2.pem"
                       " && openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384 -out ec384.pem"),
              0);
    rsa_ = private_jwk(load(*dir_, "rsa.pem").get());
    ec_ = private_jwk(load(*dir_, "ec.pem").get());
    ec2_ = private_jwk(load(*dir_, "ec2.pem").get());
    ec384_ = private_jwk(load(*dir_, "ec384.pem").get());
  }
  static void TearDownTestSuite() { dir_.reset(); }

  // The member's value with `delta` added to its last byte (carrying nothing).
  static std::string bump(const json& jwk, const char* member, int delta = 1) {
    auto b = b64url_decode(jwk[member].get<std::string>());
    EXPECT_TRUE(b.ok());
    Bytes v(b->view().begin(), b->view().end());
    v.back() = static_cast<uint8_t>(v.back() + delta);
    return b64u(v);
  }

  static std::unique_ptr<OpensslDir> dir_;
  static json rsa_, ec_, ec2_, ec384_;
};
std::unique_ptr<OpensslDir> Jwk::dir_;
json Jwk::rsa_, Jwk::ec_, Jwk::ec2_, Jwk::ec384_;

TEST_F(Jwk, ImportsRsaEcAndOct) {
  auto r = KeyMaterial::import_jwk(rsa_);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->spec(), (KeySpec{KeyKind::rsa, 2048, Curve::p256}));
  EXPECT_EQ(r->public_jwk(), (json{{"kty", "RSA"}, {"n", rsa_["n"]}, {"e", rsa_["e"]}}));
  for (const json* j : {&ec_, &ec384_}) {
    auto e = KeyMaterial::import_jwk(*j);
    ASSERT_TRUE(e.ok()) << e.error().message;
    EXPECT_EQ(e->public_jwk(), (json{{"kty", "EC"}, {"crv", (*j)["crv"]}, {"x", (*j)["x"]}, {"y", (*j)["y"]}}));
  }
  const Bytes k = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
                   16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 255};
  auto o = KeyMaterial::import_jwk({{"kty", "oct"}, {"k", b64u(k)}, {"alg", "A256KW"}});
  ASSERT_TRUE(o.ok()) << o.error().message;
  EXPECT_EQ(o->spec(), (KeySpec{KeyKind::oct, 256, Curve::p256}));
  EXPECT_EQ(to_hex(o->release_bytes().view()), to_hex(k));
  EXPECT_EQ(o->public_jwk(), (json{{"kty", "oct"}}));
}

TEST_F(Jwk, MissingMembersAreNamed) {
  for (const char* m : {"n", "e", "d", "p", "q", "dp", "dq", "qi"}) {
    json j = rsa_;
    j.erase(m);
    EXPECT_ERROR_HAS(KeyMaterial::import_jwk(j), std::string("member '") + m + "'");
  }
  for (const char* m : {"crv", "x", "y", "d"}) {
    json j = ec_;
    j.erase(m);
    EXPECT_ERROR_HAS(KeyMaterial::import_jwk(j), std::string("member '") + m + "'");
  }
  EXPECT_ERROR_HAS(KeyMaterial::import_jwk({{"kty", "oct"}}), "member 'k'");
  json pub = {{"kty", "RSA"}, {"n", rsa_["n"]}, {"e", rsa_["e"]}};
  EXPECT_ERROR_HAS(KeyMaterial::import_jwk(pub), "public JWK");
  json ecpub = ec_;
  ecpub.erase("d");
  EXPECT_ERROR_HAS(KeyMaterial::import_jwk(ecpub), "public JWK");
}

TEST_F(Jwk, InconsistentRsaMembersAreNamed) {
  struct Case {
    const char* member;
    const char* named;
  };
  // Changing n, p or q breaks n = p*q; e or d break d*e = 1.
  for (const Case c : {Case{"n", "'n'"}, Case{"p", "'n'"}, Case{"q", "'n'"}, Case{"d", "'d'"}, Case{"e", "'d'"},
                       Case{"dp", "'dp'"}, Case{"dq", "'dq'"}, Case{"qi", "'qi'"}}) {
    json j = rsa_;
    j[c.member] = bump(rsa_, c.member, 2);  // stays odd where it was
    SCOPED_TRACE(std::string("changed ") + c.member);
    EXPECT_ERROR_HAS(KeyMaterial::import_jwk(j), c.named);
  }
  json even_e = rsa_;
  even_e["e"] = "AQAA";  // 65536
  EXPECT_ERROR_HAS(KeyMaterial::import_jwk(even_e), "member 'e'");
  // p and q swapped (qi then no longer fits).
  json swapped = rsa_;
  std::swap(swapped["p"], swapped["q"]);
  EXPECT_FALSE(KeyMaterial::import_jwk(swapped).ok());
}

TEST_F(Jwk, InconsistentEcMembersAreNamed) {
  json other_d = ec_;
  other_d["d"] = ec2_["d"];
  EXPECT_ERROR_HAS(KeyMaterial::import_jwk(other_d), "member 'd' does not match");
  json off_curve = ec_;
  off_curve["y"] = bump(ec_, "y");
  EXPECT_ERROR_HAS(KeyMaterial::import_jwk(off_curve), "not a point on P-256");
  json zero = ec_;
  zero["d"] = b64u(Bytes(32, 0));
  EXPECT_ERROR_HAS(KeyMaterial::import_jwk(zero), "member 'd'");
  json too_big = ec_;
  too_big["d"] = b64u(Bytes(32, 0xff));  // above the group order
  EXPECT_ERROR_HAS(KeyMaterial::import_jwk(too_big), "member 'd'");
  json mixed = ec_;
  mixed["crv"] = "P-384";
  EXPECT_ERROR_HAS(KeyMaterial::import_jwk(mixed), "member 'x' is 32 bytes, P-384 needs exactly 48");
  json short_x = ec_;
  short_x["x"] = b64u(Bytes(31, 7));
  EXPECT_ERROR_HAS(KeyMaterial::import_jwk(short_x), "member 'x' is 31 bytes");
  for (const char* crv : {"P-521", "secp256k1", "p-256"}) {
    json c = ec_;
    c["crv"] = crv;
    EXPECT_ERROR_HAS(KeyMaterial::import_jwk(c), "member 'crv'");
  }
}

TEST_F(Jwk, MalformedMembersAreRefused) {
  EXPECT_ERROR_HAS(KeyMaterial::import_jwk(json::array()), "JSON object");
  EXPECT_ERROR_HAS(KeyMaterial::import_jwk(json("RSA")), "JSON object");
  EXPECT_ERROR_HAS(KeyMaterial::import_jwk({{"n", "x"}}), "member 'kty'");
  EXPECT_ERROR_HAS(KeyMaterial::import_jwk({{"kty", 1}}), "member 'kty' must be a string");
  EXPECT_ERROR_HAS(KeyMaterial::import_jwk({{"kty", "OKP"}, {"d", "AA"}}), "member 'kty'");
  EXPECT_ERROR_HAS(KeyMaterial::import_jwk({{"kty", "RSA-HSM"}}), "HSM");
  json number = rsa_;
  number["n"] = 12345;
  EXPECT_ERROR_HAS(KeyMaterial::import_jwk(number), "member 'n' must be a string");
  json padded = rsa_;
  padded["dq"] = padded["dq"].get<std::string>() + "=";
  EXPECT_ERROR_HAS(KeyMaterial::import_jwk(padded), "member 'dq'");
  json std_alphabet = ec_;
  std::string d = ec_["d"].get<std::string>();
  d[3] = '+';
  std_alphabet["d"] = d;
  EXPECT_ERROR_HAS(KeyMaterial::import_jwk(std_alphabet), "member 'd'");
  json leading_zero = rsa_;
  auto n = b64url_decode(rsa_["n"].get<std::string>());
  ASSERT_TRUE(n.ok());
  Bytes zn(1, 0);
  zn.insert(zn.end(), n->view().begin(), n->view().end());
  leading_zero["n"] = b64u(zn);
  EXPECT_ERROR_HAS(KeyMaterial::import_jwk(leading_zero), "member 'n' has a leading zero");
  json huge = rsa_;
  huge["n"] = std::string(5000, 'A');
  EXPECT_ERROR_HAS(KeyMaterial::import_jwk(huge), "member 'n'");
  json empty = rsa_;
  empty["p"] = "";
  EXPECT_ERROR_HAS(KeyMaterial::import_jwk(empty), "member 'p' is empty");
  json multi = rsa_;
  multi["oth"] = json::array();
  EXPECT_ERROR_HAS(KeyMaterial::import_jwk(multi), "member 'oth'");
  EXPECT_ERROR_HAS(KeyMaterial::import_jwk({{"kty", "oct"}, {"k", b64u(Bytes(16, 1))}}), "member 'k' is 16 bytes");
  EXPECT_ERROR_HAS(KeyMaterial::import_jwk({{"kty", "oct"}, {"k", "A"}}), "member 'k'");
  EXPECT_ERROR_HAS(KeyMaterial::import_jwk({{"kty", "oct"}, {"k", json::object()}}), "member 'k' must be a string");
}

TEST(KeyMaterial, SmallRsaJwkIsRefused) {
  PkeyPtr k(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{1024}), EVP_PKEY_free);
  ASSERT_TRUE(k);
  EXPECT_ERROR_HAS(KeyMaterial::import_jwk(private_jwk(k.get())), "RSA 1024 bits");
}

// ---- base64url ----

TEST(B64url, StrictDecodingAndEncoding) {
  for (size_t n = 0; n < 40; ++n) {
    Bytes b(n);
    for (size_t i = 0; i < n; ++i) b[i] = static_cast<uint8_t>(251 * i + n);
    const std::string enc = b64url_encode(b);
    EXPECT_EQ(enc, b64u(b)) << n;
    auto dec = b64url_decode(enc);
    ASSERT_TRUE(dec.ok()) << n;
    EXPECT_EQ(to_hex(dec->view()), to_hex(b));
  }
  EXPECT_FALSE(b64url_decode("AQAB=").ok());
  EXPECT_FALSE(b64url_decode("AQ==").ok());
  EXPECT_FALSE(b64url_decode("A").ok());
  EXPECT_FALSE(b64url_decode("AQ+B").ok());
  EXPECT_FALSE(b64url_decode("AQ/B").ok());
  EXPECT_FALSE(b64url_decode("AQ B").ok());
  EXPECT_FALSE(b64url_decode("AR").ok());   // unused bits set: "AQ" is the only spelling of 0x01
  EXPECT_FALSE(b64url_decode("AQB").ok());  // "AQA" is the only spelling of 01 00
  EXPECT_TRUE(b64url_decode("AQA").ok());
}

}  // namespace
}  // namespace tl::crypto
