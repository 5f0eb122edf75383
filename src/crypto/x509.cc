#include "crypto/x509.h"

#include <openssl/asn1.h>
#include <openssl/err.h>
#include <openssl/x509.h>

#include <ctime>

#include "crypto/digest.h"
#include "crypto/openssl_util.h"

namespace tl::crypto {
namespace {

std::string name_text(const X509_NAME* name) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio) return {};
  X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(len));
}

std::string time_text(const ASN1_TIME* t) {
  struct tm tm {};
  if (t == nullptr || ASN1_TIME_to_tm(t, &tm) != 1) return {};
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace

Result<CertificateSummary> summarize_der_certificate(ByteView der) {
  const unsigned char* p = der.data();
  ERR_clear_error();
  X509Ptr cert(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
  if (!cert) return Error{openssl_error("not a DER X.509 certificate")};
  if (p != der.data() + der.size()) {
    return Error{"X.509 certificate followed by " + std::to_string(der.data() + der.size() - p) +
                 " trailing bytes"};
  }
  CertificateSummary s;
  s.subject = name_text(X509_get_subject_name(cert.get()));
  s.issuer = name_text(X509_get_issuer_name(cert.get()));
  const ASN1_INTEGER* serial = X509_get0_serialNumber(cert.get());
  s.serial_hex = to_hex(ByteView(serial->data, static_cast<size_t>(serial->length)));
  auto fp = digest(HashAlg::sha256, der);
  if (!fp) return fp.take_error();
  s.sha256_fingerprint = to_hex(*fp);
  s.not_before = time_text(X509_get0_notBefore(cert.get()));
  s.not_after = time_text(X509_get0_notAfter(cert.get()));
  return s;
}

}  // namespace tl::crypto
