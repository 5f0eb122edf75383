#include "crypto/private_key.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include <cstring>

#include "crypto/openssl_util.h"

namespace tl::crypto {

namespace {

using PkeyPtr = std::unique_ptr<EVP_PKEY, FnDeleter<EVP_PKEY_free>>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, FnDeleter<EVP_MD_CTX_free>>;

constexpr size_t kP256Size = 32;
constexpr int kMinRsaBits = 2048;

// The group of an EC key in OpenSSL's spelling ("prime256v1"), empty if none.
std::string group_of(const EVP_PKEY* pkey) {
  char name[64] = {0};
  size_t len = 0;
  if (EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, name, sizeof name, &len) != 1) {
    ERR_clear_error();
    return {};
  }
  return std::string(name, len);
}

// Checks that `pkey` is a key `alg` can use; `what` names it in the error.
Status check_key_suits(JwsAlg alg, const EVP_PKEY* pkey, const std::string& what) {
  const int id = EVP_PKEY_get_base_id(pkey);
  const std::string alg_name(jws_alg_name(alg));
  if (alg == JwsAlg::es256) {
    if (id != EVP_PKEY_EC) return Error{what + " is not an EC key, " + alg_name + " needs P-256"};
    const std::string group = group_of(pkey);
    if (group != "prime256v1" && group != "P-256") {
      return Error{what + " is on curve '" + group + "', " + alg_name + " needs P-256"};
    }
    return {};
  }
  if (id != EVP_PKEY_RSA) return Error{what + " is not an RSA key, " + alg_name + " needs RSA"};
  const int bits = EVP_PKEY_get_bits(pkey);
  if (bits < kMinRsaBits) {
    return Error{what + " is RSA-" + std::to_string(bits) + ", " + alg_name + " needs at least " +
                 std::to_string(kMinRsaBits) + " bits"};
  }
  return {};
}

Result<PublicKey> public_of(EVP_PKEY* pkey) {
  unsigned char* der = nullptr;
  const int len = i2d_PUBKEY(pkey, &der);
  if (len <= 0) return Error{openssl_error("cannot encode the public key")};
  Bytes spki(der, der + len);
  OPENSSL_free(der);
  return PublicKey::from_der_spki(spki);
}

}  // namespace

std::string_view jws_alg_name(JwsAlg alg) {
  switch (alg) {
    case JwsAlg::es256: return "ES256";
    case JwsAlg::rs256: return "RS256";
    case JwsAlg::ps256: return "PS256";
  }
  return "?";
}

std::optional<JwsAlg> jws_alg_from_name(std::string_view name) {
  if (name == "ES256") return JwsAlg::es256;
  if (name == "RS256") return JwsAlg::rs256;
  if (name == "PS256") return JwsAlg::ps256;
  return std::nullopt;
}

Pkcs8Pem& Pkcs8Pem::operator=(Pkcs8Pem&& other) noexcept {
  if (this != &other) {
    OPENSSL_cleanse(text_.data(), text_.size());
    text_ = std::move(other.text_);
  }
  return *this;
}

Pkcs8Pem::~Pkcs8Pem() { OPENSSL_cleanse(text_.data(), text_.size()); }

void PrivateKey::Deleter::operator()(void* p) const { EVP_PKEY_free(static_cast<EVP_PKEY*>(p)); }

Result<PrivateKey> PrivateKey::generate(JwsAlg alg) {
  ERR_clear_error();
  PkeyPtr pkey(alg == JwsAlg::es256 ? EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256")
                                    : EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{3072}));
  if (!pkey) return Error{openssl_error("key generation failed")};
  auto pub = public_of(pkey.get());
  if (!pub) return pub.take_error();
  return PrivateKey(alg, pkey.release(), std::move(*pub));
}

Result<PrivateKey> PrivateKey::from_pkcs8_pem(JwsAlg alg, std::string_view pem) {
  // Only unencrypted PKCS#8; a traditional ("BEGIN EC PRIVATE KEY") or an
  // encrypted PEM is refused rather than guessed at.
  if (pem.find("-----BEGIN PRIVATE KEY-----") == std::string_view::npos) {
    return Error{"private key PEM: no '-----BEGIN PRIVATE KEY-----' block (unencrypted PKCS#8 expected)"};
  }
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return Error{"out of memory"};
  ERR_clear_error();
  PkeyPtr pkey(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  if (!pkey) return Error{openssl_error("private key PEM: not a readable PKCS#8 private key")};
  if (auto st = check_key_suits(alg, pkey.get(), "private key"); !st) return st.take_error();
  auto pub = public_of(pkey.get());
  if (!pub) return pub.take_error();
  return PrivateKey(alg, pkey.release(), std::move(*pub));
}

Result<Pkcs8Pem> PrivateKey::to_pkcs8_pem() const {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio) return Error{"out of memory"};
  auto* pkey = static_cast<EVP_PKEY*>(pkey_.get());
  if (PEM_write_bio_PKCS8PrivateKey(bio.get(), pkey, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    return Error{openssl_error("cannot encode the private key as PKCS#8")};
  }
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio.get(), &data);
  Pkcs8Pem out{std::string(data, static_cast<size_t>(len))};
  OPENSSL_cleanse(data, static_cast<size_t>(len));
  return out;
}

Result<Bytes> PrivateKey::sign(ByteView message) const {
  auto* pkey = static_cast<EVP_PKEY*>(pkey_.get());
  MdCtxPtr ctx(EVP_MD_CTX_new());
  EVP_PKEY_CTX* pctx = nullptr;
  ERR_clear_error();
  if (!ctx || EVP_DigestSignInit_ex(ctx.get(), &pctx, "SHA256", nullptr, nullptr, pkey, nullptr) != 1) {
    return Error{openssl_error("sign init")};
  }
  if (alg_ == JwsAlg::rs256 && EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) != 1) {
    return Error{openssl_error("set PKCS#1 v1.5 padding")};
  }
  if (alg_ == JwsAlg::ps256 && (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
                                EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) != 1)) {
    return Error{openssl_error("set PSS padding")};
  }
  size_t len = 0;
  if (EVP_DigestSign(ctx.get(), nullptr, &len, message.data(), message.size()) != 1) {
    return Error{openssl_error("sign")};
  }
  Bytes sig(len);
  if (EVP_DigestSign(ctx.get(), sig.data(), &len, message.data(), message.size()) != 1) {
    return Error{openssl_error("sign")};
  }
  sig.resize(len);
  if (alg_ != JwsAlg::es256) return sig;
  // OpenSSL gives DER SEQUENCE { r, s }; JWS wants r || s, each 32 bytes.
  const unsigned char* p = sig.data();
  EcdsaSigPtr parsed(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(sig.size())));
  if (!parsed) return Error{openssl_error("cannot decode the ECDSA signature")};
  const BIGNUM* r = nullptr;
  const BIGNUM* s = nullptr;
  ECDSA_SIG_get0(parsed.get(), &r, &s);
  Bytes raw(2 * kP256Size);
  if (BN_bn2binpad(r, raw.data(), kP256Size) != static_cast<int>(kP256Size) ||
      BN_bn2binpad(s, raw.data() + kP256Size, kP256Size) != static_cast<int>(kP256Size)) {
    return Error{"ECDSA signature component longer than 32 bytes"};
  }
  return raw;
}

Status verify_jws_signature(JwsAlg alg, const PublicKey& key, ByteView message, ByteView signature) {
  EVP_PKEY* pkey = evp_pkey(key);
  if (auto st = check_key_suits(alg, pkey, "key"); !st) return st.take_error();
  const std::string alg_name(jws_alg_name(alg));
  Bytes der_sig;
  ByteView sig = signature;
  if (alg == JwsAlg::es256) {
    if (signature.size() != 2 * kP256Size) {
      return Error{alg_name + " signature is " + std::to_string(signature.size()) +
                   " bytes, expected 64 (r || s)"};
    }
    EcdsaSigPtr es(ECDSA_SIG_new());
    BIGNUM* r = BN_bin2bn(signature.data(), kP256Size, nullptr);
    BIGNUM* s = BN_bin2bn(signature.data() + kP256Size, kP256Size, nullptr);
    if (!es || r == nullptr || s == nullptr || ECDSA_SIG_set0(es.get(), r, s) != 1) {
      BN_free(r);
      BN_free(s);
      return Error{"out of memory"};
    }
    unsigned char* der = nullptr;
    const int der_len = i2d_ECDSA_SIG(es.get(), &der);
    if (der_len <= 0) return Error{"cannot encode the ECDSA signature"};
    der_sig.assign(der, der + der_len);
    OPENSSL_free(der);
    sig = der_sig;
  } else {
    const int size = EVP_PKEY_get_size(pkey);
    if (size <= 0 || signature.size() != static_cast<size_t>(size)) {
      return Error{alg_name + " signature is " + std::to_string(signature.size()) +
                   " bytes, the key's modulus is " + std::to_string(size)};
    }
  }
  MdCtxPtr ctx(EVP_MD_CTX_new());
  EVP_PKEY_CTX* pctx = nullptr;
  ERR_clear_error();
  if (!ctx ||
      EVP_DigestVerifyInit_ex(ctx.get(), &pctx, "SHA256", nullptr, nullptr, pkey, nullptr) != 1) {
    return Error{openssl_error("verify init")};
  }
  if (alg == JwsAlg::rs256 && EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) != 1) {
    return Error{openssl_error("set PKCS#1 v1.5 padding")};
  }
  if (alg == JwsAlg::ps256 && (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
                               EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) != 1)) {
    return Error{openssl_error("set PSS padding")};
  }
  const int rc = EVP_DigestVerify(ctx.get(), sig.data(), sig.size(), message.data(), message.size());
  ERR_clear_error();
  if (rc != 1) return Error{alg_name + " signature does not verify under the key"};
  return {};
}

Result<RsaPublicParams> rsa_public_params(const PublicKey& key) {
  EVP_PKEY* pkey = evp_pkey(key);
  if (EVP_PKEY_get_base_id(pkey) != EVP_PKEY_RSA) return Error{"not an RSA key"};
  BIGNUM* n = nullptr;
  BIGNUM* e = nullptr;
  if (EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_N, &n) != 1 ||
      EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_E, &e) != 1) {
    BN_free(n);
    BN_free(e);
    return Error{openssl_error("cannot read RSA parameters")};
  }
  BnPtr nn(n);
  BnPtr ee(e);
  RsaPublicParams out;
  out.n.resize(static_cast<size_t>(BN_num_bytes(n)));
  out.e.resize(static_cast<size_t>(BN_num_bytes(e)));
  BN_bn2bin(n, out.n.data());
  BN_bn2bin(e, out.e.data());
  return out;
}

Result<EcPublicParams> ec_public_params(const PublicKey& key) {
  EVP_PKEY* pkey = evp_pkey(key);
  if (EVP_PKEY_get_base_id(pkey) != EVP_PKEY_EC) return Error{"not an EC key"};
  const std::string group = group_of(pkey);
  EcPublicParams out;
  size_t size = 0;
  if (group == "prime256v1") {
    out.curve = Curve::p256;
    size = 32;
  } else if (group == "secp384r1") {
    out.curve = Curve::p384;
    size = 48;
  } else if (group == "secp521r1") {
    out.curve = Curve::p521;
    size = 66;
  } else {
    return Error{"EC key on unsupported curve '" + group + "'"};
  }
  BIGNUM* x = nullptr;
  BIGNUM* y = nullptr;
  if (EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_EC_PUB_X, &x) != 1 ||
      EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_EC_PUB_Y, &y) != 1) {
    BN_free(x);
    BN_free(y);
    return Error{openssl_error("cannot read EC point")};
  }
  BnPtr xx(x);
  BnPtr yy(y);
  out.x.resize(size);
  out.y.resize(size);
  if (BN_bn2binpad(x, out.x.data(), static_cast<int>(size)) < 0 ||
      BN_bn2binpad(y, out.y.data(), static_cast<int>(size)) < 0) {
    return Error{"EC coordinate longer than the field"};
  }
  return out;
}

}  // namespace tl::crypto
