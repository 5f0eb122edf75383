#include "crypto/cert_chain.h"

#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <string>

#include "crypto/openssl_util.h"

namespace tl::crypto {
namespace {

using StorePtr = std::unique_ptr<X509_STORE, FnDeleter<X509_STORE_free>>;
using StoreCtxPtr = std::unique_ptr<X509_STORE_CTX, FnDeleter<X509_STORE_CTX_free>>;
struct StackDeleter {
  void operator()(STACK_OF(X509) * s) const { sk_X509_pop_free(s, X509_free); }
};
using X509StackPtr = std::unique_ptr<STACK_OF(X509), StackDeleter>;
struct EkuDeleter {
  void operator()(EXTENDED_KEY_USAGE* e) const { EXTENDED_KEY_USAGE_free(e); }
};

constexpr const char* kTcgKpEkCertificate = "2.23.133.8.1";
constexpr const char* kSubjectDirectoryAttributes = "2.5.29.9";

std::string oid_text(const ASN1_OBJECT* obj) {
  char buf[128];
  OBJ_obj2txt(buf, sizeof buf, obj, 1);
  return buf;
}

std::string subject_of(X509* cert) {
  if (cert == nullptr) return "?";
  char buf[256];
  X509_NAME_oneline(X509_get_subject_name(cert), buf, sizeof buf);
  return buf;
}

Result<X509Ptr> parse_der(ByteView der) {
  const unsigned char* p = der.data();
  ERR_clear_error();
  X509Ptr cert(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
  if (!cert) return Error{openssl_error("DER certificate")};
  if (p != der.data() + der.size()) {
    return Error{"DER certificate: " + std::to_string(der.data() + der.size() - p) + " trailing bytes"};
  }
  return cert;
}

bool looks_like_pem(ByteView data) {
  static constexpr std::string_view kBegin = "-----BEGIN";
  std::string_view text(reinterpret_cast<const char*>(data.data()), data.size());
  const size_t first = text.find_first_not_of(" \t\r\n");
  return first != std::string_view::npos && text.substr(first, kBegin.size()) == kBegin;
}

Result<std::vector<X509Ptr>> parse_all(ByteView data) {
  std::vector<X509Ptr> out;
  if (!looks_like_pem(data)) {
    auto c = parse_der(data);
    if (!c) return c.take_error();
    out.push_back(std::move(*c));
    return out;
  }
  BioPtr bio(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())));
  if (!bio) return Error{"out of memory"};
  ERR_clear_error();
  while (X509* c = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) out.emplace_back(c);
  const unsigned long err = ERR_peek_last_error();
  if (ERR_GET_LIB(err) == ERR_LIB_PEM && ERR_GET_REASON(err) == PEM_R_NO_START_LINE) {
    ERR_clear_error();  // the normal end of the input
  } else if (err != 0) {
    return Error{openssl_error("PEM certificate " + std::to_string(out.size() + 1))};
  }
  if (out.empty()) return Error{"PEM text without a CERTIFICATE block"};
  return out;
}

// Called by X509_verify_cert for each error; returning 1 accepts that one error.
int ek_verify_callback(int ok, X509_STORE_CTX* ctx) {
  if (ok == 1) return 1;
  if (X509_STORE_CTX_get_error(ctx) != X509_V_ERR_UNHANDLED_CRITICAL_EXTENSION ||
      X509_STORE_CTX_get_error_depth(ctx) != 0) {
    return 0;
  }
  X509* leaf = X509_STORE_CTX_get_current_cert(ctx);
  if (leaf == nullptr) return 0;
  for (int i = 0; i < X509_get_ext_count(leaf); ++i) {
    X509_EXTENSION* ext = X509_get_ext(leaf, i);
    if (X509_EXTENSION_get_critical(ext) == 0 || X509_supported_extension(ext) == 1) continue;
    if (oid_text(X509_EXTENSION_get_object(ext)) != kSubjectDirectoryAttributes) return 0;
  }
  return 1;  // only allowed unknown critical extensions on the leaf
}

Status check_ek_leaf(X509* leaf, const PublicKey& key) {
  if (X509_check_ca(leaf) != 0) return Error{"EK certificate is a CA certificate"};
  int crit = 0;
  ERR_clear_error();
  std::unique_ptr<EXTENDED_KEY_USAGE, EkuDeleter> eku(
      static_cast<EXTENDED_KEY_USAGE*>(X509_get_ext_d2i(leaf, NID_ext_key_usage, &crit, nullptr)));
  if (!eku && crit != -1) return Error{"EK certificate: extendedKeyUsage does not decode"};
  if (eku) {
    bool found = false;
    for (int i = 0; i < sk_ASN1_OBJECT_num(eku.get()); ++i) {
      if (oid_text(sk_ASN1_OBJECT_value(eku.get(), i)) == kTcgKpEkCertificate) found = true;
    }
    if (!found) {
      return Error{"EK certificate: extendedKeyUsage lacks tcg-kp-EKCertificate (2.23.133.8.1)"};
    }
  }
  const uint32_t ku = X509_get_key_usage(leaf);  // UINT32_MAX when absent
  if (ku != UINT32_MAX) {
    const bool rsa = key.type() == KeyType::rsa;
    const uint32_t need = rsa ? KU_KEY_ENCIPHERMENT : KU_KEY_AGREEMENT;
    if ((ku & need) == 0) {
      return Error{std::string("EK certificate: keyUsage lacks ") +
                   (rsa ? "keyEncipherment (RSA EK)" : "keyAgreement (ECC EK)")};
    }
  }
  return {};
}

}  // namespace

Result<PublicKey> certificate_public_key(ByteView der) {
  auto cert = parse_der(der);
  if (!cert) return cert.take_error();
  auto key = public_key_from_evp(X509_get0_pubkey(cert->get()));
  if (!key) return with_context("certificate public key", key.take_error());
  return key;
}

Result<std::vector<Bytes>> parse_certificates(ByteView pem_or_der) {
  auto certs = parse_all(pem_or_der);
  if (!certs) return certs.take_error();
  std::vector<Bytes> out;
  for (const auto& c : *certs) {
    unsigned char* der = nullptr;
    const int len = i2d_X509(c.get(), &der);
    if (len <= 0) return Error{openssl_error("certificate encoding")};
    out.emplace_back(der, der + len);
    OPENSSL_free(der);
  }
  return out;
}

Result<PublicKey> verify_certificate_chain(ByteView leaf_der, std::span<const ByteView> intermediates,
                                           std::span<const ByteView> trust_anchors, CertProfile profile,
                                           std::optional<int64_t> at) {
  auto leaf = parse_der(leaf_der);
  if (!leaf) return with_context("leaf certificate", leaf.take_error());
  if (trust_anchors.empty()) return Error{"no trust anchors given"};

  StorePtr store(X509_STORE_new());
  X509StackPtr untrusted(sk_X509_new_null());
  if (!store || !untrusted) return Error{"out of memory"};
  for (size_t i = 0; i < trust_anchors.size(); ++i) {
    auto certs = parse_all(trust_anchors[i]);
    if (!certs) return with_context("trust anchor " + std::to_string(i), certs.take_error());
    for (auto& c : *certs) {
      if (X509_STORE_add_cert(store.get(), c.get()) != 1) {
        return Error{openssl_error("trust anchor " + std::to_string(i))};
      }
    }
  }
  for (size_t i = 0; i < intermediates.size(); ++i) {
    auto certs = parse_all(intermediates[i]);
    if (!certs) return with_context("intermediate " + std::to_string(i), certs.take_error());
    for (auto& c : *certs) {
      if (sk_X509_push(untrusted.get(), c.get()) <= 0) return Error{"out of memory"};
      c.release();  // owned by the stack now
    }
  }

  StoreCtxPtr ctx(X509_STORE_CTX_new());
  if (!ctx || X509_STORE_CTX_init(ctx.get(), store.get(), leaf->get(), untrusted.get()) != 1) {
    return Error{openssl_error("certificate store")};
  }
  X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(ctx.get());
  if (at) X509_VERIFY_PARAM_set_time(param, static_cast<time_t>(*at));
  switch (profile) {
    case CertProfile::tpm_ek:
      X509_STORE_CTX_set_verify_cb(ctx.get(), ek_verify_callback);
      break;
  }
  ERR_clear_error();
  if (X509_verify_cert(ctx.get()) != 1) {
    const int err = X509_STORE_CTX_get_error(ctx.get());
    const int depth = X509_STORE_CTX_get_error_depth(ctx.get());
    ERR_clear_error();
    return Error{std::string("certificate chain does not verify: ") + X509_verify_cert_error_string(err) +
                 " (at depth " + std::to_string(depth) + ", " +
                 subject_of(X509_STORE_CTX_get_current_cert(ctx.get())) + ")"};
  }

  auto key = public_key_from_evp(X509_get0_pubkey(leaf->get()));
  if (!key) return with_context("leaf public key", key.take_error());
  switch (profile) {
    case CertProfile::tpm_ek:
      if (auto st = check_ek_leaf(leaf->get(), *key); !st) return st.take_error();
      break;
  }
  return key;
}

}  // namespace tl::crypto
