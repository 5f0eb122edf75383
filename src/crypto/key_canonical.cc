#include "crypto/key_canonical.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/decoder.h>
#include <openssl/encoder.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/param_build.h>
#include <openssl/x509.h>

#include <algorithm>
#include <string>

namespace tl::crypto {

namespace {

using BnCtxPtr = std::unique_ptr<BN_CTX, FnDeleter<BN_CTX_free>>;
using DecoderCtxPtr = std::unique_ptr<OSSL_DECODER_CTX, FnDeleter<OSSL_DECODER_CTX_free>>;
using EncoderCtxPtr = std::unique_ptr<OSSL_ENCODER_CTX, FnDeleter<OSSL_ENCODER_CTX_free>>;
using P8Ptr = std::unique_ptr<PKCS8_PRIV_KEY_INFO, FnDeleter<PKCS8_PRIV_KEY_INFO_free>>;
using X509SigPtr = std::unique_ptr<X509_SIG, FnDeleter<X509_SIG_free>>;

const char* group_name(Curve c) { return c == Curve::p384 ? "secp384r1" : "prime256v1"; }

std::string group_of(const EVP_PKEY* pkey) {
  char name[80] = {0};
  size_t len = 0;
  if (EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, name, sizeof name, &len) != 1) {
    ERR_clear_error();
    return {};
  }
  return std::string(name, len);
}

// Builds a key pair from params and hands it back, or nullptr.
PkeyPtr from_data(const char* type, OSSL_PARAM_BLD* bld) {
  // Secure BIGNUMs put their bytes in a block OSSL_PARAM_free cleanses.
  ParamsPtr params(OSSL_PARAM_BLD_to_param(bld));
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  EVP_PKEY* pkey = nullptr;
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &pkey, EVP_PKEY_KEYPAIR, params.get()) != 1) {
    ERR_clear_error();
    return nullptr;
  }
  return PkeyPtr(pkey);
}

using CheckFn = int (*)(EVP_PKEY_CTX*);

bool passes(EVP_PKEY* pkey, CheckFn check) {
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, pkey, nullptr));
  const bool ok = ctx && check(ctx.get()) == 1;
  ERR_clear_error();
  return ok;
}

// A private BIGNUM read from `pkey` into secure (cleansed) memory, or nullptr.
SecretBnPtr secret_param(const EVP_PKEY* pkey, const char* name) {
  SecretBnPtr bn(BN_secure_new());
  BIGNUM* raw = bn.get();
  if (!bn || EVP_PKEY_get_bn_param(pkey, name, &raw) != 1) {
    ERR_clear_error();
    return nullptr;
  }
  return bn;
}

BnPtr public_param(const EVP_PKEY* pkey, const char* name) {
  BIGNUM* bn = nullptr;
  if (EVP_PKEY_get_bn_param(pkey, name, &bn) != 1) {
    ERR_clear_error();
    return nullptr;
  }
  return BnPtr(bn);
}

Error member_error(const std::string& member, const std::string& problem) {
  return Error{"member '" + member + "' " + problem};
}

// Holds a BN_CTX frame for the temporaries of one computation.
class BnFrame {
 public:
  explicit BnFrame(BN_CTX* ctx) : ctx_(ctx) { BN_CTX_start(ctx_); }
  ~BnFrame() { BN_CTX_end(ctx_); }
  BnFrame(const BnFrame&) = delete;
  BnFrame& operator=(const BnFrame&) = delete;

 private:
  BN_CTX* ctx_;
};

// The math of RFC 8017 §3.2 checked member by member, so the error can say
// which one is wrong (OpenSSL's own check only says "invalid").
Status check_rsa_math(const RsaMembers& m, BN_CTX* ctx) {
  BnFrame frame(ctx);
  BIGNUM* t = BN_CTX_get(ctx);
  BIGNUM* p1 = BN_CTX_get(ctx);
  BIGNUM* q1 = BN_CTX_get(ctx);
  BIGNUM* de = BN_CTX_get(ctx);
  const Error oom{"out of memory"};
  if (de == nullptr || BN_set_word(t, 3) != 1) return oom;
  if (!BN_is_odd(m.e.get()) || BN_cmp(m.e.get(), t) < 0 || BN_cmp(m.e.get(), m.n.get()) >= 0) {
    return member_error("e", "is not an odd public exponent of at least 3 (and below n)");
  }
  if (BN_cmp(m.p.get(), t) < 0) return member_error("p", "is not a prime");
  if (BN_cmp(m.q.get(), t) < 0) return member_error("q", "is not a prime");
  if (BN_mul(t, m.p.get(), m.q.get(), ctx) != 1) return oom;
  if (BN_cmp(t, m.n.get()) != 0) return member_error("n", "is not p * q");
  if (BN_is_zero(m.d.get()) || BN_cmp(m.d.get(), m.n.get()) >= 0) {
    return member_error("d", "is out of range (0 < d < n)");
  }
  if (BN_sub(p1, m.p.get(), BN_value_one()) != 1 || BN_sub(q1, m.q.get(), BN_value_one()) != 1 ||
      BN_mul(de, m.d.get(), m.e.get(), ctx) != 1) {
    return oom;
  }
  // d * e = 1 modulo lcm(p-1, q-1), i.e. modulo each of them.
  if (BN_mod(t, de, p1, ctx) != 1 || !BN_is_one(t) || BN_mod(t, de, q1, ctx) != 1 || !BN_is_one(t)) {
    return member_error("d", "does not match 'e' (d * e is not 1 modulo p-1 and q-1)");
  }
  if (BN_mod(t, m.d.get(), p1, ctx) != 1 || BN_cmp(t, m.dp.get()) != 0) {
    return member_error("dp", "is not d mod (p-1)");
  }
  if (BN_mod(t, m.d.get(), q1, ctx) != 1 || BN_cmp(t, m.dq.get()) != 0) {
    return member_error("dq", "is not d mod (q-1)");
  }
  if (BN_cmp(m.qi.get(), m.p.get()) >= 0 || BN_mod_mul(t, m.qi.get(), m.q.get(), m.p.get(), ctx) != 1 ||
      !BN_is_one(t)) {
    return member_error("qi", "is not the inverse of q modulo p");
  }
  return {};
}

}  // namespace

Status check_spec(const KeySpec& spec) {
  switch (spec.kind) {
    case KeyKind::rsa:
      if (spec.bits == 2048 || spec.bits == 3072 || spec.bits == 4096) return {};
      return Error{"RSA " + std::to_string(spec.bits) + " bits is not supported (2048, 3072 or 4096)"};
    case KeyKind::ec:
      if ((spec.curve == Curve::p256 && spec.bits == 256) || (spec.curve == Curve::p384 && spec.bits == 384)) {
        return {};
      }
      if (spec.curve != Curve::p256 && spec.curve != Curve::p384) {
        return Error{"EC curve " + std::string(curve_name(spec.curve)) + " is not supported (P-256 or P-384)"};
      }
      return Error{"EC " + std::string(curve_name(spec.curve)) + " with " + std::to_string(spec.bits) +
                   " bits is not a consistent spec"};
    case KeyKind::oct:
      if (spec.bits == 256) return {};
      return Error{"oct " + std::to_string(spec.bits) + " bits is not supported (256)"};
  }
  return Error{"unknown key kind"};
}

std::string describe_spec(const KeySpec& spec) {
  switch (spec.kind) {
    case KeyKind::rsa: return "RSA " + std::to_string(spec.bits) + " bits";
    case KeyKind::ec: return "EC " + std::string(curve_name(spec.curve));
    case KeyKind::oct: return "oct " + std::to_string(spec.bits) + " bits";
  }
  return "?";
}

size_t ec_field_size(Curve curve) { return curve == Curve::p384 ? 48 : 32; }

Result<KeySpec> spec_of(const EVP_PKEY* pkey) {
  const int id = EVP_PKEY_get_base_id(pkey);
  if (id == EVP_PKEY_RSA) {
    KeySpec spec{KeyKind::rsa, EVP_PKEY_get_bits(pkey), Curve::p256};
    if (auto st = check_spec(spec); !st) {
      return Error{"RSA " + std::to_string(spec.bits) + " bits: only 2048, 3072 or 4096-bit RSA keys are supported"};
    }
    return spec;
  }
  if (id == EVP_PKEY_RSA_PSS) {
    return Error{"RSA-PSS key (restricted to PSS signatures): a plain rsaEncryption key is needed"};
  }
  if (id == EVP_PKEY_EC) {
    const std::string group = group_of(pkey);
    if (group == "prime256v1" || group == "P-256") return KeySpec{KeyKind::ec, 256, Curve::p256};
    if (group == "secp384r1" || group == "P-384") return KeySpec{KeyKind::ec, 384, Curve::p384};
    return Error{"curve " + (group.empty() ? std::string("with explicit, unnamed parameters") : group) +
                 ": only P-256 and P-384 are supported"};
  }
  const char* name = EVP_PKEY_get0_type_name(pkey);
  return Error{"key type " + std::string(name != nullptr ? name : "unknown") +
               " is not supported (RSA or EC; symmetric keys are imported as JWK kty 'oct')"};
}

Result<SecretBytes> encode_pkcs8(const EVP_PKEY* pkey) {
  ERR_clear_error();
  EncoderCtxPtr ctx(OSSL_ENCODER_CTX_new_for_pkey(pkey, EVP_PKEY_KEYPAIR, "DER", "PrivateKeyInfo", nullptr));
  if (!ctx || OSSL_ENCODER_CTX_get_num_encoders(ctx.get()) == 0) {
    return Error{openssl_error("no PKCS#8 encoder for the key")};
  }
  unsigned char* data = nullptr;
  size_t len = 0;
  if (OSSL_ENCODER_to_data(ctx.get(), &data, &len) != 1 || data == nullptr) {
    return Error{openssl_error("cannot encode the key as PKCS#8")};
  }
  SecretBytes out(ByteView(data, len));
  OPENSSL_clear_free(data, len);
  return out;
}

namespace {

// A private key of `keytype` in DER of `structure`, no trailing bytes. Naming
// the key type keeps OpenSSL 3.0 to a few decoders (about 4x faster).
Result<PkeyPtr> decode_der(ByteView der, const char* structure, const char* keytype) {
  if (der.empty()) return Error{"empty DER"};
  EVP_PKEY* pkey = nullptr;
  ERR_clear_error();
  DecoderCtxPtr ctx(
      OSSL_DECODER_CTX_new_for_pkey(&pkey, "DER", structure, keytype, EVP_PKEY_KEYPAIR, nullptr, nullptr));
  if (!ctx || OSSL_DECODER_CTX_get_num_decoders(ctx.get()) == 0) return Error{openssl_error("no decoder")};
  // Never ask for a passphrase: encrypted material is refused, not prompted for.
  OSSL_DECODER_CTX_set_passphrase_cb(ctx.get(), [](char*, size_t, size_t*, const OSSL_PARAM[], void*) { return 0; },
                                     nullptr);
  const unsigned char* p = der.data();
  size_t left = der.size();
  if (OSSL_DECODER_from_data(ctx.get(), &p, &left) != 1 || pkey == nullptr) {
    ERR_clear_error();
    EVP_PKEY_free(pkey);
    return Error{std::string("the ") + keytype + " private key does not parse"};
  }
  PkeyPtr owned(pkey);
  if (left != 0) return Error{std::to_string(left) + " trailing bytes after the " + keytype + " private key"};
  return owned;
}

}  // namespace

Result<PkeyPtr> decode_traditional(ByteView der, const char* keytype) {
  return decode_der(der, "type-specific", keytype);
}

Result<PkeyPtr> parse_pkcs8(ByteView der) {
  if (der.empty()) return Error{"empty DER"};
  const auto len = static_cast<long>(der.size());
  const unsigned char* p = der.data();
  ERR_clear_error();
  P8Ptr p8(d2i_PKCS8_PRIV_KEY_INFO(nullptr, &p, len));
  if (!p8) {
    ERR_clear_error();
    // Say what it is when it is something else a user could have picked up.
    const unsigned char* q = der.data();
    if (X509SigPtr sig(d2i_X509_SIG(nullptr, &q, len)); sig && q == der.data() + der.size()) {
      return Error{"encrypted PKCS#8 (EncryptedPrivateKeyInfo): decrypt it first "
                   "(openssl pkcs8 -in key.der -inform DER -outform DER -out plain.der)"};
    }
    q = der.data();
    if (EVP_PKEY* pub = d2i_PUBKEY(nullptr, &q, len); pub != nullptr) {
      EVP_PKEY_free(pub);
      ERR_clear_error();
      return Error{"DER holds a public key (SubjectPublicKeyInfo); the private key is needed"};
    }
    q = der.data();
    if (X509Ptr cert(d2i_X509(nullptr, &q, len)); cert) {
      return Error{"DER holds a certificate; the private key is needed"};
    }
    for (const char* type : {"RSA", "EC"}) {
      if (decode_traditional(der, type).ok()) {
        return Error{std::string("DER holds a traditional ") + (type[0] == 'R' ? "PKCS#1 RSA" : "SEC 1 EC") +
                     " private key, not PKCS#8 (convert it: openssl pkcs8 -topk8 -nocrypt -inform DER "
                     "-outform DER)"};
      }
    }
    ERR_clear_error();
    return Error{"not a PKCS#8 PrivateKeyInfo (DER does not parse, " + std::to_string(der.size()) + " bytes)"};
  }
  if (p != der.data() + der.size()) {
    return Error{std::to_string(der.data() + der.size() - p) + " trailing bytes after the PKCS#8 PrivateKeyInfo"};
  }
  const ASN1_OBJECT* alg = nullptr;
  if (PKCS8_pkey_get0(&alg, nullptr, nullptr, nullptr, p8.get()) == 1) {
    const int nid = OBJ_obj2nid(alg);
    if (nid == NID_rsaEncryption) return decode_der(der, "PrivateKeyInfo", "RSA");
    if (nid == NID_X9_62_id_ecPublicKey) return decode_der(der, "PrivateKeyInfo", "EC");
  }
  // Other key types: the generic (slow) path, so the error can name the type.
  PkeyPtr pkey(EVP_PKCS82PKEY(p8.get()));
  if (!pkey) return Error{openssl_error("PKCS#8 PrivateKeyInfo holds no readable private key")};
  return pkey;
}

Result<CanonicalKey> canonical_rsa(const RsaMembers& m) {
  if (!m.n || !m.e || !m.d || !m.p || !m.q || !m.dp || !m.dq || !m.qi) return Error{"RSA key incomplete"};
  KeySpec spec{KeyKind::rsa, BN_num_bits(m.n.get()), Curve::p256};
  if (auto st = check_spec(spec); !st) {
    return member_error("n", "is RSA " + std::to_string(spec.bits) +
                                 " bits: only 2048, 3072 or 4096-bit RSA keys are supported");
  }
  BnCtxPtr ctx(BN_CTX_secure_new());
  if (!ctx) return Error{"out of memory"};
  auto math = check_rsa_math(m, ctx.get());
  ERR_clear_error();
  if (!math) return math.take_error();
  ParamBldPtr bld(OSSL_PARAM_BLD_new());
  if (!bld || OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, m.n.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, m.e.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_D, m.d.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_FACTOR1, m.p.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_FACTOR2, m.q.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_EXPONENT1, m.dp.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_EXPONENT2, m.dq.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_COEFFICIENT1, m.qi.get()) != 1) {
    return Error{"out of memory"};
  }
  PkeyPtr pkey = from_data("RSA", bld.get());
  if (!pkey) return Error{"OpenSSL refused the RSA key members"};
  // The arithmetic above holds; what is left for OpenSSL's check is that p and
  // q are primes (and its size rules).
  if (!passes(pkey.get(), EVP_PKEY_pairwise_check)) {
    return Error{"members 'p' and 'q': the RSA key fails OpenSSL's key pair check (are p and q prime?)"};
  }
  auto der = encode_pkcs8(pkey.get());
  if (!der) return der.take_error();
  return CanonicalKey{spec, std::move(*der)};
}

Result<CanonicalKey> canonical_ec(const EcMembers& m) {
  const size_t size = ec_field_size(m.curve);
  const std::string crv(curve_name(m.curve));
  if (m.curve != Curve::p256 && m.curve != Curve::p384) {
    return member_error("crv", "'" + crv + "' is not supported (P-256 or P-384)");
  }
  if (m.d.size() != size || m.x.size() != size || m.y.size() != size) {
    return Error{"EC " + crv + " members 'd', 'x', 'y' must each be " + std::to_string(size) + " bytes"};
  }
  Bytes point(1 + 2 * size);
  point[0] = 0x04;  // uncompressed: 04 || X || Y
  std::copy(m.x.begin(), m.x.end(), point.begin() + 1);
  std::copy(m.y.begin(), m.y.end(), point.begin() + 1 + static_cast<long>(size));
  SecretBnPtr d(BN_secure_new());
  if (!d || BN_bin2bn(m.d.data(), static_cast<int>(size), d.get()) == nullptr) return Error{"out of memory"};
  ParamBldPtr bld(OSSL_PARAM_BLD_new());
  if (!bld ||
      OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, group_name(m.curve), 0) != 1 ||
      OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size()) != 1 ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_PRIV_KEY, d.get()) != 1) {
    return Error{"out of memory"};
  }
  PkeyPtr pkey = from_data("EC", bld.get());
  if (!pkey || !passes(pkey.get(), EVP_PKEY_public_check)) {
    return Error{"members 'x' and 'y' are not a point on " + crv};
  }
  if (!passes(pkey.get(), EVP_PKEY_private_check)) {
    return member_error("d", "is out of range for " + crv + " (1 <= d < order)");
  }
  if (!passes(pkey.get(), EVP_PKEY_pairwise_check)) {
    return member_error("d", "does not match 'x' and 'y' (d * G is another point)");
  }
  auto der = encode_pkcs8(pkey.get());
  if (!der) return der.take_error();
  return CanonicalKey{KeySpec{KeyKind::ec, static_cast<int>(8 * size), m.curve}, std::move(*der)};
}

Result<CanonicalKey> canonical_from_pkey(const EVP_PKEY* pkey) {
  auto spec = spec_of(pkey);
  if (!spec) return spec.take_error();
  if (spec->kind == KeyKind::rsa) {
    if (SecretBnPtr third = secret_param(pkey, OSSL_PKEY_PARAM_RSA_FACTOR3)) {
      return Error{"multi-prime RSA keys are not supported"};
    }
    RsaMembers m;
    m.n = public_param(pkey, OSSL_PKEY_PARAM_RSA_N);
    m.e = public_param(pkey, OSSL_PKEY_PARAM_RSA_E);
    m.d = secret_param(pkey, OSSL_PKEY_PARAM_RSA_D);
    if (!m.n || !m.e || !m.d) return Error{"the RSA key has no private part"};
    m.p = secret_param(pkey, OSSL_PKEY_PARAM_RSA_FACTOR1);
    m.q = secret_param(pkey, OSSL_PKEY_PARAM_RSA_FACTOR2);
    m.dp = secret_param(pkey, OSSL_PKEY_PARAM_RSA_EXPONENT1);
    m.dq = secret_param(pkey, OSSL_PKEY_PARAM_RSA_EXPONENT2);
    m.qi = secret_param(pkey, OSSL_PKEY_PARAM_RSA_COEFFICIENT1);
    if (!m.p || !m.q || !m.dp || !m.dq || !m.qi) {
      return Error{"RSA private key without its primes and CRT values (p, q, dp, dq, qi) is not supported"};
    }
    return canonical_rsa(m);
  }
  EcMembers m;
  m.curve = spec->curve;
  const size_t size = ec_field_size(m.curve);
  SecretBnPtr d = secret_param(pkey, OSSL_PKEY_PARAM_PRIV_KEY);
  BnPtr x = public_param(pkey, OSSL_PKEY_PARAM_EC_PUB_X);
  BnPtr y = public_param(pkey, OSSL_PKEY_PARAM_EC_PUB_Y);
  if (!d) return Error{"the EC key has no private part"};
  if (!x || !y) return Error{"the EC key has no public point"};
  m.d = SecretBytes(size);
  m.x.resize(size);
  m.y.resize(size);
  if (BN_bn2binpad(d.get(), m.d.data(), static_cast<int>(size)) < 0) {
    return member_error("d", "is out of range for " + std::string(curve_name(m.curve)));
  }
  if (BN_bn2binpad(x.get(), m.x.data(), static_cast<int>(size)) < 0 ||
      BN_bn2binpad(y.get(), m.y.data(), static_cast<int>(size)) < 0) {
    return Error{"EC public point coordinate longer than the field"};
  }
  return canonical_ec(m);
}

}  // namespace tl::crypto
