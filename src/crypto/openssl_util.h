// Private to src/crypto: RAII owners for OpenSSL handles and error text.
#pragma once

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/x509.h>

#include <memory>
#include <string>

#include "common/result.h"

namespace tl::crypto {

template <auto Fn>
struct FnDeleter {
  template <class T>
  void operator()(T* p) const { Fn(p); }
};

using BioPtr = std::unique_ptr<BIO, FnDeleter<BIO_free>>;
using BnPtr = std::unique_ptr<BIGNUM, FnDeleter<BN_free>>;
using ParamBldPtr = std::unique_ptr<OSSL_PARAM_BLD, FnDeleter<OSSL_PARAM_BLD_free>>;
using ParamsPtr = std::unique_ptr<OSSL_PARAM, FnDeleter<OSSL_PARAM_free>>;
using PkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, FnDeleter<EVP_PKEY_CTX_free>>;
using EcdsaSigPtr = std::unique_ptr<ECDSA_SIG, FnDeleter<ECDSA_SIG_free>>;
using X509Ptr = std::unique_ptr<X509, FnDeleter<X509_free>>;

class PublicKey;

// The EVP_PKEY a PublicKey holds, borrowed (valid while the key lives; never
// modify it). For src/crypto only: callers elsewhere never see OpenSSL types.
EVP_PKEY* evp_pkey(const PublicKey& key);
// A PublicKey sharing `borrowed` (reference counted); refuses non-RSA/EC keys.
Result<PublicKey> public_key_from_evp(EVP_PKEY* borrowed);

// "context: <first OpenSSL error reason>" and clears the OpenSSL error queue.
std::string openssl_error(const std::string& context);

}  // namespace tl::crypto
