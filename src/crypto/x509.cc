#include "crypto/x509.h"

#include <openssl/asn1.h>
#include <openssl/err.h>
#include <openssl/x509.h>

#include <ctime>
#include <mutex>
#include <unordered_map>

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

// OpenSSL 3's d2i_X509 decodes the public key through the provider decoders,
// which costs far more than the rest of a log's facts. A fleet's logs carry
// the same few vendor certificates (Microsoft KEK/db, distro CAs) over and over,
// so summaries are cached by the SHA-256 of the full DER: the same bytes give
// the same summary. Bounded; cleared when full rather than tracking recency.
class SummaryCache {
 public:
  static constexpr size_t kMaxEntries = 1024;

  bool get(const std::string& fingerprint, CertificateSummary& out) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = entries_.find(fingerprint);
    if (it == entries_.end()) return false;
    out = it->second;
    return true;
  }
  void put(const CertificateSummary& s) {
    std::lock_guard<std::mutex> lock(mu_);
    if (entries_.size() >= kMaxEntries) entries_.clear();
    entries_.emplace(s.sha256_fingerprint, s);
  }

 private:
  std::mutex mu_;
  std::unordered_map<std::string, CertificateSummary> entries_;
};

SummaryCache& cache() {
  static SummaryCache c;
  return c;
}

Result<CertificateSummary> summarize_uncached(ByteView der, std::string fingerprint) {
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
  s.sha256_fingerprint = std::move(fingerprint);
  s.not_before = time_text(X509_get0_notBefore(cert.get()));
  s.not_after = time_text(X509_get0_notAfter(cert.get()));
  return s;
}

}  // namespace

Result<CertificateSummary> summarize_der_certificate(ByteView der) {
  auto fp = digest(HashAlg::sha256, der);
  if (!fp) return fp.take_error();
  std::string fingerprint = to_hex(*fp);
  CertificateSummary cached;
  if (cache().get(fingerprint, cached)) return cached;
  auto s = summarize_uncached(der, std::move(fingerprint));
  if (s.ok()) cache().put(*s);
  return s;
}

}  // namespace tl::crypto
