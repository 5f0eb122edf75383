#include "crypto/public_key.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "crypto/openssl_util.h"

namespace tl::crypto {

void PublicKey::Deleter::operator()(void* p) const { EVP_PKEY_free(static_cast<EVP_PKEY*>(p)); }

struct PublicKeyAccess {
  static EVP_PKEY* get(const PublicKey& k) { return static_cast<EVP_PKEY*>(k.pkey_.get()); }
  static PublicKey make(EVP_PKEY* p) { return PublicKey(p); }
};

namespace {

PublicKey wrap(EVP_PKEY* p) {
  PublicKey k = PublicKeyAccess::make(p);
  return k;
}

EVP_PKEY* raw(const PublicKey& k) { return PublicKeyAccess::get(k); }

const char* group_name(Curve c) {
  switch (c) {
    case Curve::p256: return "prime256v1";
    case Curve::p384: return "secp384r1";
    case Curve::p521: return "secp521r1";
  }
  return "";
}

size_t coord_size(Curve c) {
  switch (c) {
    case Curve::p256: return 32;
    case Curve::p384: return 48;
    case Curve::p521: return 66;
  }
  return 0;
}

Result<PublicKey> accept_public(EVP_PKEY* pkey, const char* what) {
  if (pkey == nullptr) return Error{std::string(what) + ": " + openssl_error("not a public key")};
  const int id = EVP_PKEY_get_base_id(pkey);
  if (id != EVP_PKEY_RSA && id != EVP_PKEY_EC && id != EVP_PKEY_RSA_PSS) {
    EVP_PKEY_free(pkey);
    return Error{std::string(what) + ": unsupported key type (only RSA and EC keys)"};
  }
  return wrap(pkey);
}

}  // namespace

EVP_PKEY* evp_pkey(const PublicKey& key) { return raw(key); }

Result<PublicKey> public_key_from_evp(EVP_PKEY* borrowed) {
  if (borrowed == nullptr || EVP_PKEY_up_ref(borrowed) != 1) return Error{"no public key"};
  return accept_public(borrowed, "public key");  // frees the reference on refusal
}

// PublicKey's constructor stores the EVP_PKEY with its deleter.
Result<PublicKey> PublicKey::from_pem(std::string_view pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return Error{"out of memory"};
  ERR_clear_error();
  return accept_public(PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr), "PEM public key");
}

Result<PublicKey> PublicKey::from_der_spki(ByteView der) {
  const unsigned char* p = der.data();
  ERR_clear_error();
  EVP_PKEY* k = d2i_PUBKEY(nullptr, &p, static_cast<long>(der.size()));
  if (k != nullptr && p != der.data() + der.size()) {
    EVP_PKEY_free(k);
    return Error{"DER SubjectPublicKeyInfo: " + std::to_string(der.data() + der.size() - p) +
                 " trailing bytes"};
  }
  return accept_public(k, "DER SubjectPublicKeyInfo");
}

Result<PublicKey> PublicKey::from_rsa(ByteView modulus, uint32_t exponent) {
  if (modulus.empty() || modulus.size() > 2048) {
    return Error{"RSA modulus of " + std::to_string(modulus.size()) + " bytes is out of range"};
  }
  BnPtr n(BN_bin2bn(modulus.data(), static_cast<int>(modulus.size()), nullptr));
  BnPtr e(BN_new());
  if (!n || !e || BN_set_word(e.get(), exponent) != 1) return Error{"out of memory"};
  ParamBldPtr bld(OSSL_PARAM_BLD_new());
  if (!bld || OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, n.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, e.get()) != 1) {
    return Error{"out of memory"};
  }
  ParamsPtr params(OSSL_PARAM_BLD_to_param(bld.get()));
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, "RSA", nullptr));
  EVP_PKEY* pkey = nullptr;
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &pkey, EVP_PKEY_PUBLIC_KEY, params.get()) != 1) {
    return Error{openssl_error("cannot build RSA public key")};
  }
  return wrap(pkey);
}

Result<PublicKey> PublicKey::from_ec(Curve curve, ByteView x, ByteView y) {
  const size_t n = coord_size(curve);
  if (x.size() > n || y.size() > n) {
    return Error{std::string("EC point coordinate longer than ") + std::to_string(n) +
                 " bytes for " + std::string(curve_name(curve))};
  }
  // Uncompressed point: 0x04 || X || Y, each left-padded to the field size.
  Bytes point(1 + 2 * n, 0);
  point[0] = 0x04;
  std::copy(x.begin(), x.end(), point.begin() + 1 + static_cast<long>(n - x.size()));
  std::copy(y.begin(), y.end(), point.begin() + 1 + static_cast<long>(2 * n - y.size()));
  ParamBldPtr bld(OSSL_PARAM_BLD_new());
  if (!bld ||
      OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, group_name(curve), 0) != 1 ||
      OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size()) != 1) {
    return Error{"out of memory"};
  }
  ParamsPtr params(OSSL_PARAM_BLD_to_param(bld.get()));
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr));
  EVP_PKEY* pkey = nullptr;
  ERR_clear_error();
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &pkey, EVP_PKEY_PUBLIC_KEY, params.get()) != 1) {
    return Error{openssl_error("EC public key is not a point on " + std::string(curve_name(curve)))};
  }
  // fromdata does not always validate the point; check it explicitly.
  PkeyCtxPtr check(EVP_PKEY_CTX_new_from_pkey(nullptr, pkey, nullptr));
  if (!check || EVP_PKEY_public_check(check.get()) != 1) {
    EVP_PKEY_free(pkey);
    return Error{"EC public key is not a valid point on " + std::string(curve_name(curve))};
  }
  return wrap(pkey);
}

KeyType PublicKey::type() const {
  return EVP_PKEY_get_base_id(raw(*this)) == EVP_PKEY_EC ? KeyType::ec : KeyType::rsa;
}

int PublicKey::bits() const { return EVP_PKEY_get_bits(raw(*this)); }

Bytes PublicKey::der_spki() const {
  unsigned char* buf = nullptr;
  const int len = i2d_PUBKEY(raw(*this), &buf);
  if (len <= 0) return {};
  Bytes out(buf, buf + len);
  OPENSSL_free(buf);
  return out;
}

std::string PublicKey::pem() const {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PUBKEY(bio.get(), raw(*this)) != 1) return {};
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(len));
}

bool PublicKey::operator==(const PublicKey& other) const {
  return EVP_PKEY_eq(raw(*this), raw(other)) == 1;
}

namespace {

enum class Padding { pkcs1, pss, none };

Status verify_digest_sig(EVP_PKEY* pkey, HashAlg alg, ByteView message, ByteView signature,
                         Padding padding, const char* scheme) {
  auto d = digest(alg, message);
  if (!d) return d.take_error();
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, pkey, nullptr));
  if (!ctx || EVP_PKEY_verify_init(ctx.get()) != 1) return Error{openssl_error("verify init")};
  const EVP_MD* md = EVP_get_digestbyname(std::string(hash_name(alg)).c_str());
  if (alg == HashAlg::sm3_256) md = EVP_get_digestbyname("SM3");
  if (md == nullptr || EVP_PKEY_CTX_set_signature_md(ctx.get(), md) != 1) {
    return Error{std::string(scheme) + ": hash " + std::string(hash_name(alg)) + " not usable"};
  }
  if (padding == Padding::pkcs1 && EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_PADDING) != 1) {
    return Error{openssl_error("set PKCS#1 padding")};
  }
  if (padding == Padding::pss &&
      (EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_PSS_PADDING) != 1 ||
       EVP_PKEY_CTX_set_rsa_pss_saltlen(ctx.get(), RSA_PSS_SALTLEN_AUTO) != 1)) {
    return Error{openssl_error("set PSS padding")};
  }
  const int rc = EVP_PKEY_verify(ctx.get(), signature.data(), signature.size(), d->data(), d->size());
  ERR_clear_error();
  if (rc != 1) return Error{std::string(scheme) + " signature does not verify under the key"};
  return {};
}

}  // namespace

Status PublicKey::verify_rsassa_pkcs1v15(HashAlg alg, ByteView message, ByteView signature) const {
  if (type() != KeyType::rsa) return Error{"RSASSA signature but the key is not RSA"};
  return verify_digest_sig(raw(*this), alg, message, signature, Padding::pkcs1, "RSASSA-PKCS1-v1_5");
}

Status PublicKey::verify_rsapss(HashAlg alg, ByteView message, ByteView signature) const {
  if (type() != KeyType::rsa) return Error{"RSAPSS signature but the key is not RSA"};
  return verify_digest_sig(raw(*this), alg, message, signature, Padding::pss, "RSAPSS");
}

Status PublicKey::verify_ecdsa(HashAlg alg, ByteView message, ByteView r, ByteView s) const {
  if (type() != KeyType::ec) return Error{"ECDSA signature but the key is not EC"};
  if (r.empty() || s.empty() || r.size() > 66 || s.size() > 66) {
    return Error{"ECDSA signature: r/s of " + std::to_string(r.size()) + "/" +
                 std::to_string(s.size()) + " bytes is out of range"};
  }
  EcdsaSigPtr sig(ECDSA_SIG_new());
  BIGNUM* br = BN_bin2bn(r.data(), static_cast<int>(r.size()), nullptr);
  BIGNUM* bs = BN_bin2bn(s.data(), static_cast<int>(s.size()), nullptr);
  if (!sig || br == nullptr || bs == nullptr || ECDSA_SIG_set0(sig.get(), br, bs) != 1) {
    BN_free(br);
    BN_free(bs);
    return Error{"out of memory"};
  }
  unsigned char* der = nullptr;
  const int der_len = i2d_ECDSA_SIG(sig.get(), &der);
  if (der_len <= 0) return Error{"cannot encode ECDSA signature"};
  Bytes der_sig(der, der + der_len);
  OPENSSL_free(der);
  return verify_digest_sig(raw(*this), alg, message, der_sig, Padding::none, "ECDSA");
}

std::string_view curve_name(Curve c) {
  switch (c) {
    case Curve::p256: return "P-256";
    case Curve::p384: return "P-384";
    case Curve::p521: return "P-521";
  }
  return "?";
}

}  // namespace tl::crypto
