// SEV-SNP report verification (checks listed in snp_verify.h, details in
// docs/tee-snp.md). The AMD chain is checked certificate by certificate with
// OpenSSL's X509_verify (it handles the RSASSA-PSS parameters) plus explicit
// checks of names, validity, CA flags, key usage and signature algorithm, so
// every step has its own named check and reason.
#include "tee/snp_verify.h"

#include <openssl/asn1.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <ctime>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "crypto/cert_chain.h"
#include "crypto/digest.h"
#include "crypto/public_key.h"
#include "tee/snp_anchors.h"

namespace tl::tee {

namespace detail {
struct SnpVerifiedBuilder {
  static VerifiedSnpReport make(SnpReport report, SnpSigningKey key) {
    VerifiedSnpReport v;
    v.report_ = std::move(report);
    v.signing_key_ = key;
    return v;
  }
};
}  // namespace detail

namespace {

constexpr const char* kReasonMalformed = "snp-report-malformed";
constexpr const char* kReasonProductUnknown = "snp-product-unknown";
constexpr const char* kReasonProductMismatch = "snp-product-mismatch";
constexpr const char* kReasonSignature = "snp-signature-invalid";
constexpr const char* kReasonSigningKey = "snp-signing-key-mismatch";
constexpr const char* kReasonChain = "snp-chain-invalid";
constexpr const char* kReasonTcb = "snp-tcb-mismatch";
constexpr const char* kReasonChipId = "snp-chip-id-mismatch";
constexpr const char* kReasonReportData = "snp-report-data-mismatch";

constexpr const char* kOidBlSpl = "1.3.6.1.4.1.3704.1.3.1";
constexpr const char* kOidTeeSpl = "1.3.6.1.4.1.3704.1.3.2";
constexpr const char* kOidSnpSpl = "1.3.6.1.4.1.3704.1.3.3";
constexpr const char* kOidUcodeSpl = "1.3.6.1.4.1.3704.1.3.8";
constexpr const char* kOidFmcSpl = "1.3.6.1.4.1.3704.1.3.9";
constexpr const char* kOidHwid = "1.3.6.1.4.1.3704.1.4";

template <auto Fn>
struct FnDeleter {
  template <class T>
  void operator()(T* p) const { Fn(p); }
};
using X509Ptr = std::unique_ptr<X509, FnDeleter<X509_free>>;
using ObjPtr = std::unique_ptr<ASN1_OBJECT, FnDeleter<ASN1_OBJECT_free>>;
using IntPtr = std::unique_ptr<ASN1_INTEGER, FnDeleter<ASN1_INTEGER_free>>;

std::string ssl_error() {
  const unsigned long e = ERR_peek_last_error();
  char buf[256] = "unknown OpenSSL error";
  if (e != 0) ERR_error_string_n(e, buf, sizeof buf);
  ERR_clear_error();
  return buf;
}

bool looks_like_pem(ByteView b) {
  static constexpr std::string_view kBegin = "-----BEGIN";
  std::string_view t(reinterpret_cast<const char*>(b.data()), b.size());
  const size_t first = t.find_first_not_of(" \t\r\n");
  return first != std::string_view::npos && t.substr(first, kBegin.size()) == kBegin;
}

// DER (or a PEM with exactly one certificate, for convenience) to DER.
Result<Bytes> to_der(ByteView in, std::string_view what) {
  if (!looks_like_pem(in)) return Bytes(in.begin(), in.end());
  auto certs = crypto::parse_certificates(in);
  if (!certs) return Error{std::string(what) + ": " + certs.error().message};
  if (certs->size() != 1) return Error{std::string(what) + ": PEM has " + std::to_string(certs->size()) + " certificates, expected 1"};
  return std::move((*certs)[0]);
}

Result<X509Ptr> parse_x509(ByteView der, std::string_view what) {
  if (der.empty()) return Error{std::string(what) + ": no certificate"};
  const unsigned char* p = der.data();
  ERR_clear_error();
  X509Ptr c(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
  if (!c) return Error{std::string(what) + ": not a DER certificate (" + ssl_error() + ")"};
  if (p != der.data() + der.size()) return Error{std::string(what) + ": trailing bytes after the certificate"};
  return c;
}

std::string name_text(const X509_NAME* n) {
  char buf[512];
  X509_NAME_oneline(n, buf, sizeof buf);
  return buf;
}

std::string common_name(const X509_NAME* n) {
  char buf[256];
  const int len = X509_NAME_get_text_by_NID(const_cast<X509_NAME*>(n), NID_commonName, buf, sizeof buf);
  return len > 0 ? std::string(buf, static_cast<size_t>(len)) : std::string();
}

Result<int64_t> asn1_time_seconds(const ASN1_TIME* t) {
  struct tm tm {};
  if (t == nullptr || ASN1_TIME_to_tm(t, &tm) != 1) return Error{"bad validity time"};
  return static_cast<int64_t>(timegm(&tm));
}

struct Validity {
  int64_t not_before = 0;
  int64_t not_after = 0;
};

Result<Validity> validity_of(X509* c) {
  auto nb = asn1_time_seconds(X509_get0_notBefore(c));
  auto na = asn1_time_seconds(X509_get0_notAfter(c));
  if (!nb || !na) return Error{"unreadable validity period"};
  return Validity{*nb, *na};
}

std::string iso_time(int64_t t) {
  const time_t tt = static_cast<time_t>(t);
  struct tm tm {};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// "" when `at` lies in the validity period, else why not.
std::string validity_problem(const Validity& v, int64_t at, std::string_view what) {
  if (at < v.not_before) return std::string(what) + " is not valid before " + iso_time(v.not_before);
  if (at > v.not_after) return std::string(what) + " expired at " + iso_time(v.not_after);
  return {};
}

// The certificate's signature is RSASSA-PSS with SHA-384 (as AMD's KDS spec
// requires) and verifies under `issuer_key`; the issuer name chains.
std::string signature_problem(X509* cert, X509* issuer, std::string_view what, std::string_view by) {
  int md_nid = 0, pk_nid = 0, bits = 0;
  uint32_t flags = 0;
  if (X509_get_signature_info(cert, &md_nid, &pk_nid, &bits, &flags) != 1 || pk_nid != NID_rsassaPss ||
      md_nid != NID_sha384) {
    ERR_clear_error();
    return std::string(what) + " is not signed with RSASSA-PSS/SHA-384 (signature algorithm " +
           OBJ_nid2sn(X509_get_signature_nid(cert)) + ")";
  }
  if (X509_NAME_cmp(X509_get_issuer_name(cert), X509_get_subject_name(issuer)) != 0) {
    return std::string(what) + " issuer '" + name_text(X509_get_issuer_name(cert)) + "' is not the " +
           std::string(by) + " subject '" + name_text(X509_get_subject_name(issuer)) + "'";
  }
  EVP_PKEY* key = X509_get0_pubkey(issuer);
  if (key == nullptr || EVP_PKEY_get_base_id(key) != EVP_PKEY_RSA) {
    ERR_clear_error();
    return std::string(by) + " key is not RSA";
  }
  ERR_clear_error();
  if (X509_verify(cert, key) != 1) return std::string(what) + " signature does not verify under the " + std::string(by) + " key (" + ssl_error() + ")";
  return {};
}

// A CA certificate AMD issues (ARK, ASK, ASVK): basicConstraints CA, and if
// keyUsage is present it allows keyCertSign. No unhandled critical extension.
std::string ca_problem(X509* c, std::string_view what) {
  const uint32_t f = X509_get_extension_flags(c);
  if ((f & EXFLAG_INVALID) != 0) return std::string(what) + " has invalid extensions";
  if ((f & EXFLAG_CRITICAL) != 0) return std::string(what) + " has an unhandled critical extension";
  if ((f & EXFLAG_CA) == 0) return std::string(what) + " is not a CA (basicConstraints)";
  if ((f & EXFLAG_KUSAGE) != 0 && (X509_get_key_usage(c) & KU_KEY_CERT_SIGN) == 0) {
    return std::string(what) + " keyUsage does not allow keyCertSign";
  }
  return {};
}

// Value of an AMD extension: the extnValue OCTET STRING's content.
std::optional<Bytes> extension_bytes(X509* c, const char* oid) {
  ObjPtr obj(OBJ_txt2obj(oid, 1));
  if (!obj) return std::nullopt;
  const int idx = X509_get_ext_by_OBJ(c, obj.get(), -1);
  if (idx < 0) return std::nullopt;
  X509_EXTENSION* ext = X509_get_ext(c, idx);
  const ASN1_OCTET_STRING* data = X509_EXTENSION_get_data(ext);
  if (data == nullptr) return std::nullopt;
  const unsigned char* p = ASN1_STRING_get0_data(data);
  return Bytes(p, p + ASN1_STRING_length(data));
}

// An SPL extension holds a DER INTEGER 0..255.
std::optional<int> spl_extension(X509* c, const char* oid) {
  auto raw = extension_bytes(c, oid);
  if (!raw) return std::nullopt;
  const unsigned char* p = raw->data();
  IntPtr i(d2i_ASN1_INTEGER(nullptr, &p, static_cast<long>(raw->size())));
  if (!i || p != raw->data() + raw->size()) {
    ERR_clear_error();
    return -1;
  }
  int64_t v = 0;
  if (ASN1_INTEGER_get_int64(&v, i.get()) != 1 || v < 0 || v > 255) return -1;
  return static_cast<int>(v);
}

// What verification needs from a VCEK/VLEK, kept in the cache so a known
// certificate is not parsed again.
struct LeafFacts {
  SnpSigningKey kind = SnpSigningKey::vcek;
  std::optional<SnpProduct> issuer_product;  // from the issuer CN (SEV-Milan, SEV-VLEK-Genoa, …)
  std::string subject_cn;
  std::string issuer_cn;
  std::optional<crypto::PublicKey> key;  // EC P-384
  std::string key_problem;
  std::optional<int> bl, tee, snp, ucode, fmc;
  std::optional<Bytes> hwid;
  Validity validity;
};

// Facts about a chain that verified (ARK -> ASK/ASVK -> leaf) for one product.
struct ChainFacts {
  SnpProduct product = SnpProduct::milan;
  Bytes ask_der;  // the intermediate that signed the leaf
  Validity ark, ask;
  LeafFacts leaf;
};

Result<LeafFacts> leaf_facts(X509* c) {
  LeafFacts f;
  f.subject_cn = common_name(X509_get_subject_name(c));
  f.issuer_cn = common_name(X509_get_issuer_name(c));
  if (f.subject_cn == "SEV-VCEK") f.kind = SnpSigningKey::vcek;
  else if (f.subject_cn == "SEV-VLEK") f.kind = SnpSigningKey::vlek;
  else return Error{"certificate subject CN '" + f.subject_cn + "' is neither SEV-VCEK nor SEV-VLEK"};
  std::string_view issuer = f.issuer_cn;
  if (issuer.starts_with("SEV-VLEK-")) issuer.remove_prefix(9);
  else if (issuer.starts_with("SEV-")) issuer.remove_prefix(4);
  f.issuer_product = product_from_name(issuer);
  auto v = validity_of(c);
  if (!v) return v.take_error();
  f.validity = *v;
  EVP_PKEY* pk = X509_get0_pubkey(c);
  if (pk == nullptr || EVP_PKEY_get_base_id(pk) != EVP_PKEY_EC) {
    f.key_problem = "key is not EC";
  } else {
    char group[64] = {0};
    size_t len = 0;
    if (EVP_PKEY_get_group_name(pk, group, sizeof group, &len) != 1 || std::string_view(group) != "secp384r1") {
      f.key_problem = "key is not on P-384";
    }
  }
  ERR_clear_error();
  f.bl = spl_extension(c, kOidBlSpl);
  f.tee = spl_extension(c, kOidTeeSpl);
  f.snp = spl_extension(c, kOidSnpSpl);
  f.ucode = spl_extension(c, kOidUcodeSpl);
  f.fmc = spl_extension(c, kOidFmcSpl);
  f.hwid = extension_bytes(c, kOidHwid);
  return f;
}

int64_t now_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

void add(std::vector<Check>& checks, std::string name, bool passed, std::string detail, const char* reason) {
  checks.push_back(Check{std::move(name), passed, std::move(detail), passed ? std::string() : std::string(reason)});
}

bool equal_bytes(ByteView a, ByteView b) {
  return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size()) == 0);
}

// Little-endian 72-byte r/s to big-endian 48 bytes; nullopt when the value
// does not fit in 384 bits (it cannot then be a P-384 signature scalar).
std::optional<std::array<uint8_t, 48>> scalar_be(const std::array<uint8_t, 72>& le) {
  for (size_t i = 48; i < 72; ++i)
    if (le[i] != 0) return std::nullopt;
  std::array<uint8_t, 48> be{};
  for (size_t i = 0; i < 48; ++i) be[i] = le[47 - i];
  return be;
}

std::string spl_text(const char* name, std::optional<int> cert, int report) {
  std::string s = std::string(name) + " ";
  s += cert ? (*cert < 0 ? "malformed" : std::to_string(*cert)) : "missing";
  s += " (VCEK) vs " + std::to_string(report) + " (REPORTED_TCB)";
  return s;
}


struct ChainRun {
  std::string ark_problem, ask_problem, leaf_problem;  // empty: passed
  Validity ark_validity, ask_validity;
  Bytes ask_der;
};

// chain.ark, chain.ask, chain.vcek. With `cached` (a chain that verified
// before) only the validity times and the ARK's identity are checked again.
// On success without `cached`, leaf->key is set to the verified leaf key.
ChainRun run_chain(const SnpCertChain& certs, SnpProduct product, bool is_vlek, LeafFacts* leaf, X509* leaf_cert,
                   const std::string& leaf_error, ByteView leaf_der, const ChainFacts* cached, int64_t at) {
  ChainRun out;
  const std::string mid_name = is_vlek ? "ASVK" : "ASK";
  const std::string leaf_name = is_vlek ? "VLEK" : "VCEK";

  // ARK: the shipped anchor for the product; a given ARK must be byte-equal to it.
  const ByteView shipped_ark = amd_ark(product);
  Bytes ark_der;
  std::string& ark_problem = out.ark_problem;
  if (!certs.ark.empty()) {
    auto d = to_der(certs.ark, "ARK");
    if (!d) ark_problem = d.error().message;
    else if (!equal_bytes(*d, shipped_ark))
      ark_problem = "the ARK given is not AMD's " + std::string(product_name(product)) + " ARK shipped with trustlaunch";
    else ark_der = std::move(*d);
  } else {
    ark_der.assign(shipped_ark.begin(), shipped_ark.end());
  }
  X509Ptr ark_cert;
  if (ark_problem.empty()) {
    if (cached) {
      out.ark_validity = cached->ark;
    } else if (auto c = parse_x509(ark_der, "ARK"); !c) {
      ark_problem = c.error().message;
    } else {
      ark_cert = std::move(*c);
      if (auto v = validity_of(ark_cert.get()); !v) ark_problem = "ARK: " + v.error().message;
      else out.ark_validity = *v;
      if (ark_problem.empty()) ark_problem = ca_problem(ark_cert.get(), "ARK");
      if (ark_problem.empty() &&
          X509_NAME_cmp(X509_get_subject_name(ark_cert.get()), X509_get_issuer_name(ark_cert.get())) != 0)
        ark_problem = "ARK is not self-issued";
      if (ark_problem.empty()) ark_problem = signature_problem(ark_cert.get(), ark_cert.get(), "ARK", "ARK (self-signed)");
    }
    if (ark_problem.empty()) ark_problem = validity_problem(out.ark_validity, at, "ARK");
  }

  // ASK (VCEK) or ASVK (VLEK): given, or the shipped one; signed by the ARK.
  std::string& ask_problem = out.ask_problem;
  if (!certs.ask.empty()) {
    auto d = to_der(certs.ask, mid_name);
    if (!d) ask_problem = d.error().message;
    else out.ask_der = std::move(*d);
  } else {
    const ByteView shipped = is_vlek ? amd_asvk(product) : amd_ask(product);
    if (shipped.empty()) ask_problem = "no " + mid_name + " given and none shipped for " + std::string(product_name(product));
    out.ask_der.assign(shipped.begin(), shipped.end());
  }
  X509Ptr ask_cert;
  if (ask_problem.empty()) {
    if (cached) {
      out.ask_validity = cached->ask;
    } else if (auto c = parse_x509(out.ask_der, mid_name); !c) {
      ask_problem = c.error().message;
    } else {
      ask_cert = std::move(*c);
      if (auto v = validity_of(ask_cert.get()); !v) ask_problem = mid_name + ": " + v.error().message;
      else out.ask_validity = *v;
      if (ask_problem.empty()) ask_problem = ca_problem(ask_cert.get(), mid_name);
      if (ask_problem.empty() && !ark_cert) ask_problem = "not checked: no valid ARK";
      if (ask_problem.empty()) ask_problem = signature_problem(ask_cert.get(), ark_cert.get(), mid_name, "ARK");
    }
    if (ask_problem.empty()) ask_problem = validity_problem(out.ask_validity, at, mid_name);
  }

  // The leaf: signed by the ASK/ASVK, an EC P-384 end-entity certificate.
  std::string& leaf_problem = out.leaf_problem;
  if (leaf == nullptr) {
    leaf_problem = leaf_error;
  } else if (!cached) {
    const uint32_t flags = X509_get_extension_flags(leaf_cert);
    if (!leaf->key_problem.empty()) leaf_problem = leaf_name + " " + leaf->key_problem;
    if (leaf_problem.empty() && (flags & EXFLAG_CA) != 0) leaf_problem = leaf_name + " is a CA certificate";
    if (leaf_problem.empty() && (flags & EXFLAG_CRITICAL) != 0)
      leaf_problem = leaf_name + " has an unhandled critical extension";
    if (leaf_problem.empty() && !ask_cert) leaf_problem = "not checked: no valid " + mid_name;
    if (leaf_problem.empty()) leaf_problem = signature_problem(leaf_cert, ask_cert.get(), leaf_name, mid_name);
    if (leaf_problem.empty()) {
      if (auto k = crypto::certificate_public_key(leaf_der); !k) leaf_problem = leaf_name + ": " + k.error().message;
      else leaf->key = std::move(*k);
    }
  }
  if (leaf != nullptr && leaf_problem.empty()) leaf_problem = validity_problem(leaf->validity, at, leaf_name);
  return out;
}

// Chains of reports that verified completely. Key: SHA-256 of the leaf DER plus
// the product. Bounded LRU: verification is reachable from unauthenticated
// requests, so the cache must not grow with what callers send.
struct ChainCache {
  using Key = std::pair<Bytes, int>;
  struct Entry {
    std::shared_ptr<const ChainFacts> facts;
    std::list<Key>::iterator order;  // position in `recent`
  };

  explicit ChainCache(size_t cap) : capacity(cap) {}

  // The entry for `key` (most recently used from now on), or null.
  std::shared_ptr<const ChainFacts> find(const Key& key) {
    auto it = chains.find(key);
    if (it == chains.end()) return nullptr;
    recent.splice(recent.begin(), recent, it->second.order);
    return it->second.facts;
  }

  // Adds or replaces `key`, evicting the least recently used beyond capacity.
  void put(const Key& key, std::shared_ptr<const ChainFacts> facts) {
    if (capacity == 0) return;
    if (auto it = chains.find(key); it != chains.end()) {
      it->second.facts = std::move(facts);
      recent.splice(recent.begin(), recent, it->second.order);
      return;
    }
    while (chains.size() >= capacity) {
      chains.erase(recent.back());
      recent.pop_back();
    }
    recent.push_front(key);
    chains.emplace(key, Entry{std::move(facts), recent.begin()});
  }

  const size_t capacity;
  std::mutex mu;
  std::map<Key, Entry> chains;
  std::list<Key> recent;  // most recently used first
};

// The whole verification; `state` (may be null) remembers chains that verified.
SnpReportCheck run_checks(ByteView report_bytes, const SnpCertChain& certs, const SnpVerifyOptions& options,
                          ChainCache* state) {
  SnpReportCheck out;
  auto& checks = out.checks;
  const int64_t at = options.at.value_or(now_seconds());

  // parse: without the product hint, so a disagreement is the product check's.
  auto parsed = parse_snp_report(report_bytes);
  if (!parsed) {
    add(checks, "parse", false, parsed.error().message, kReasonMalformed);
    return out;
  }
  add(checks, "parse", true, "version " + std::to_string(parsed->version), kReasonMalformed);
  SnpReport report = std::move(*parsed);
  out.parsed = report;

  // The leaf certificate: from the cache when seen before, else parsed.
  std::shared_ptr<const ChainFacts> cached;
  X509Ptr leaf_cert;
  std::optional<LeafFacts> leaf;
  std::string leaf_error;
  Bytes leaf_der;
  Bytes leaf_hash;
  if (auto d = to_der(certs.vcek, "VCEK/VLEK"); !d) {
    leaf_error = d.error().message;
  } else {
    leaf_der = std::move(*d);
    if (leaf_der.empty()) leaf_error = "no VCEK/VLEK certificate given";
  }
  if (leaf_error.empty() && state != nullptr) {
    auto h = crypto::digest(crypto::HashAlg::sha256, leaf_der);
    if (h) leaf_hash = std::move(*h);
  }

  // product: every source that names one must agree.
  std::optional<SnpProduct> product;
  std::string product_detail;
  bool product_conflict = false;
  auto consider = [&](std::optional<SnpProduct> p, const std::string& source) {
    if (!p) return;
    product_detail += (product_detail.empty() ? "" : ", ") + source + " says " + std::string(product_name(*p));
    if (product && *product != *p) product_conflict = true;
    if (!product) product = p;
  };
  if (report.product_from_cpuid) consider(report.product, "report CPUID");
  consider(options.product, "caller");
  // The leaf's issuer needs the leaf parsed; try the cache under each product
  // named so far first (the common case: a known VCEK).
  if (leaf_error.empty() && state != nullptr && !leaf_hash.empty()) {
    std::lock_guard lock(state->mu);
    for (int p = 0; p < 3 && !cached; ++p) {
      if (product && static_cast<int>(*product) != p) continue;
      auto hit = state->find({leaf_hash, p});
      if (hit && (certs.ask.empty() || equal_bytes(certs.ask, hit->ask_der))) cached = std::move(hit);
    }
  }
  if (cached) {
    leaf = cached->leaf;
  } else if (leaf_error.empty()) {
    auto c = parse_x509(leaf_der, "VCEK/VLEK");
    if (!c) {
      leaf_error = c.error().message;
    } else {
      leaf_cert = std::move(*c);
      auto f = leaf_facts(leaf_cert.get());
      if (!f) leaf_error = "VCEK/VLEK: " + f.error().message;
      else leaf = std::move(*f);
    }
  }
  if (leaf) consider(leaf->issuer_product, "certificate issuer " + leaf->issuer_cn);
  if (product_conflict) {
    add(checks, "product", false, "product sources disagree: " + product_detail, kReasonProductMismatch);
    return out;
  }
  if (!product) {
    add(checks, "product", false,
        "no product: the report has no known CPUID, none was given, and the certificate issuer names none",
        kReasonProductUnknown);
    return out;
  }
  add(checks, "product", true, product_detail, kReasonProductUnknown);
  if (!report.product_from_cpuid && report.product != *product) {
    // A v2 report does not name its CPU: its TCB words use the product's layout.
    report.product = *product;
    report.current_tcb = decode_snp_tcb(report.current_tcb.raw, *product);
    report.reported_tcb = decode_snp_tcb(report.reported_tcb.raw, *product);
    report.committed_tcb = decode_snp_tcb(report.committed_tcb.raw, *product);
    report.launch_tcb = decode_snp_tcb(report.launch_tcb.raw, *product);
    out.parsed = report;
  }

  // signature.algo
  add(checks, "signature.algo", report.signature_algo == 1,
      "SIGNATURE_ALGO " + std::to_string(report.signature_algo) + (report.signature_algo == 1 ? " (ECDSA P-384 with SHA-384)" : " is not 1 (ECDSA P-384 with SHA-384)"),
      kReasonSignature);

  // signing_key
  {
    std::string detail;
    bool ok = false;
    if (!report.signing_key || *report.signing_key == SnpSigningKey::none) {
      detail = "SIGNING_KEY " + std::to_string(report.signing_key_raw) +
               (report.signing_key ? " (none): the report is not signed" : " is a reserved value");
    } else if (!leaf) {
      detail = "report signed with " + std::string(*report.signing_key == SnpSigningKey::vcek ? "VCEK" : "VLEK") +
               " but no usable certificate: " + leaf_error;
    } else {
      const bool want_vlek = *report.signing_key == SnpSigningKey::vlek;
      ok = (leaf->kind == SnpSigningKey::vlek) == want_vlek;
      detail = "report SIGNING_KEY " + std::string(want_vlek ? "VLEK" : "VCEK") + ", certificate " + leaf->subject_cn;
    }
    add(checks, "signing_key", ok, detail, kReasonSigningKey);
  }
  const bool is_vlek = leaf ? leaf->kind == SnpSigningKey::vlek : report.signing_key == SnpSigningKey::vlek;
  const std::string mid_name = is_vlek ? "ASVK" : "ASK";

  ChainRun chain = run_chain(certs, *product, is_vlek, leaf ? &*leaf : nullptr, leaf_cert.get(), leaf_error,
                            leaf_der, cached.get(), at);
  add(checks, "chain.ark", chain.ark_problem.empty(),
      chain.ark_problem.empty() ? "ARK-" + std::string(product_name(*product)) + " (shipped anchor)" +
                                      (cached ? ", chain cached" : "")
                                : chain.ark_problem,
      kReasonChain);
  add(checks, "chain.ask", chain.ask_problem.empty(),
      chain.ask_problem.empty() ? mid_name + " signed by the ARK" : chain.ask_problem, kReasonChain);
  const std::string leaf_name = is_vlek ? "VLEK" : "VCEK";
  add(checks, "chain.vcek", chain.leaf_problem.empty(),
      chain.leaf_problem.empty() ? leaf_name + " signed by the " + mid_name : chain.leaf_problem, kReasonChain);

  // A chain that verified, to remember (validity is rechecked on every call)
  // only if the whole report verifies below: genuine VCEKs sent with garbage
  // reports must not fill the cache.
  std::shared_ptr<ChainFacts> to_remember;
  if (state != nullptr && !cached && leaf && leaf->key && !leaf_hash.empty() && chain.ark_problem.empty() &&
      chain.ask_problem.empty() && chain.leaf_problem.empty()) {
    to_remember = std::make_shared<ChainFacts>();
    to_remember->product = *product;
    to_remember->ask_der = std::move(chain.ask_der);
    to_remember->ark = chain.ark_validity;
    to_remember->ask = chain.ask_validity;
    to_remember->leaf = *leaf;
  }

  // tcb: the leaf's SPL extensions equal REPORTED_TCB.
  if (leaf) {
    const SnpTcb& t = report.reported_tcb;
    std::vector<std::string> parts;
    bool ok = true;
    auto cmp = [&](const char* name, std::optional<int> cert, int rep) {
      parts.push_back(spl_text(name, cert, rep));
      if (!cert || *cert != rep) ok = false;
    };
    cmp("blSPL", leaf->bl, t.bootloader);
    cmp("teeSPL", leaf->tee, t.tee);
    cmp("snpSPL", leaf->snp, t.snp);
    cmp("ucodeSPL", leaf->ucode, t.microcode);
    if (*product == SnpProduct::turin) cmp("fmcSPL", leaf->fmc, t.fmc.value_or(0));
    std::string detail;
    for (const auto& p : parts) detail += (detail.empty() ? "" : "; ") + p;
    add(checks, "tcb", ok, detail, kReasonTcb);
  }

  // hwid: a VCEK is for one chip (not run for a VLEK). MASK_CHIP_ID (a
  // platform setting) makes the firmware write CHIP_ID as zeros; then there is
  // nothing to compare, and the VCEK signature alone binds the chip.
  // MASK_CHIP_KEY is no reason to skip: it fails the signature check.
  if (leaf && leaf->kind == SnpSigningKey::vcek) {
    bool ok = false;
    std::string detail;
    const bool chip_id_zero =
        std::all_of(report.chip_id.begin(), report.chip_id.end(), [](uint8_t b) { return b == 0; });
    if (chip_id_zero) {
      ok = true;
      detail = "CHIP_ID is all zero (MASK_CHIP_ID): not compared; the VCEK signature still binds the chip";
    } else if (!leaf->hwid) {
      detail = "VCEK has no hwID extension";
    } else if (leaf->hwid->size() == 64) {
      ok = equal_bytes(*leaf->hwid, report.chip_id);
      detail = ok ? "VCEK hwID equals CHIP_ID" : "VCEK hwID " + to_hex(*leaf->hwid) + " is not CHIP_ID " + to_hex(report.chip_id);
    } else if (*product == SnpProduct::turin && leaf->hwid->size() == 8) {
      // Turin VCEKs are issued for the first 8 bytes of CHIP_ID.
      ok = equal_bytes(*leaf->hwid, ByteView(report.chip_id.data(), 8));
      detail = ok ? "VCEK hwID equals CHIP_ID[0:8]" : "VCEK hwID " + to_hex(*leaf->hwid) + " is not CHIP_ID[0:8]";
    } else {
      detail = "VCEK hwID has " + std::to_string(leaf->hwid->size()) + " bytes";
    }
    add(checks, "hwid", ok, detail, kReasonChipId);
  }

  // signature: ECDSA P-384/SHA-384 over [0, 0x2A0) under the leaf key.
  {
    std::string problem;
    if (report.mask_chip_key) {
      // AMD SEV-SNP ABI (56860): with MASK_CHIP_KEY the firmware does not sign
      // the report and writes a zero signature. Refused without trying.
      problem = "KEY_INFO MASK_CHIP_KEY is set: the chip key is masked and the report is not signed";
    } else if (!leaf || !leaf->key) {
      problem = "no verified " + leaf_name + " key to check the signature with";
    } else {
      auto r = scalar_be(report.signature_r);
      auto s = scalar_be(report.signature_s);
      if (!r || !s) {
        problem = "signature R or S exceeds 384 bits";
      } else if (auto st = leaf->key->verify_ecdsa(crypto::HashAlg::sha384, report_bytes.first(kSnpSignedSize),
                                                     ByteView(*r), ByteView(*s));
                 !st) {
        problem = "report signature does not verify under the " + leaf_name + ": " + st.error().message;
      }
    }
    add(checks, "signature", problem.empty(),
        problem.empty() ? "ECDSA P-384 signature over bytes [0, 0x2a0) verifies under the " + leaf_name : problem,
        kReasonSignature);
  }

  // report_data
  if (options.expected_report_data) {
    const Bytes& want = *options.expected_report_data;
    bool ok = false;
    std::string detail;
    if (want.empty() || want.size() > 64) {
      detail = "expected report data must be 1 to 64 bytes, got " + std::to_string(want.size());
    } else {
      ok = equal_bytes(want, ByteView(report.report_data.data(), want.size()));
      detail = ok ? "REPORT_DATA starts with the expected " + std::to_string(want.size()) + " bytes"
                  : "REPORT_DATA " + to_hex(ByteView(report.report_data.data(), want.size())) + " is not the expected " + to_hex(want);
    }
    add(checks, "report_data", ok, detail, kReasonReportData);
  }

  const bool all = std::all_of(checks.begin(), checks.end(), [](const Check& c) { return c.passed; });
  // Fail closed: the checks that must have run for a verdict.
  auto ran = [&](std::string_view n) {
    return std::any_of(checks.begin(), checks.end(), [&](const Check& c) { return c.name == n; });
  };
  if (all && ran("signature") && ran("chain.vcek") && ran("tcb") && leaf) {
    out.verified = detail::SnpVerifiedBuilder::make(report, leaf->kind);
    if (to_remember) {
      std::lock_guard lock(state->mu);
      state->put({std::move(leaf_hash), static_cast<int>(*product)}, std::move(to_remember));
    }
  }
  return out;
}

}  // namespace

SnpReportCheck check_snp_report(ByteView report, const SnpCertChain& certs, const SnpVerifyOptions& options) {
  return run_checks(report, certs, options, nullptr);
}

Result<VerifiedSnpReport> verify_snp_report(ByteView report, const SnpCertChain& certs,
                                            const SnpVerifyOptions& options) {
  auto c = check_snp_report(report, certs, options);
  if (c.verified) return std::move(*c.verified);
  return first_failure(c.checks);
}

struct SnpVerifier::State {
  explicit State(size_t capacity) : cache(capacity) {}
  ChainCache cache;
};

Result<crypto::PublicKey> verify_snp_chain(const SnpCertChain& certs, std::optional<SnpProduct> product,
                                           std::optional<int64_t> at) {
  auto der = to_der(certs.vcek, "VCEK/VLEK");
  if (!der) return Error{der.error().message, kReasonChain};
  auto cert = parse_x509(*der, "VCEK/VLEK");
  if (!cert) return Error{cert.error().message, kReasonChain};
  auto leaf = leaf_facts(cert->get());
  if (!leaf) return Error{"VCEK/VLEK: " + leaf.error().message, kReasonChain};
  if (product && leaf->issuer_product && *product != *leaf->issuer_product) {
    return Error{"certificate issuer " + leaf->issuer_cn + " is not of " + std::string(product_name(*product)),
                 kReasonProductMismatch};
  }
  if (!product) product = leaf->issuer_product;
  if (!product) return Error{"certificate issuer " + leaf->issuer_cn + " names no known product", kReasonProductUnknown};
  const bool is_vlek = leaf->kind == SnpSigningKey::vlek;
  ChainRun run = run_chain(certs, *product, is_vlek, &*leaf, cert->get(), {}, *der, nullptr, at.value_or(now_seconds()));
  for (const std::string* p : {&run.ark_problem, &run.ask_problem, &run.leaf_problem}) {
    if (!p->empty()) return Error{*p, kReasonChain};
  }
  return std::move(*leaf->key);
}

SnpVerifier::SnpVerifier(size_t capacity) : state_(std::make_unique<State>(capacity)) {}
SnpVerifier::~SnpVerifier() = default;

size_t SnpVerifier::cached_chains() const {
  std::lock_guard lock(state_->cache.mu);
  return state_->cache.chains.size();
}

SnpReportCheck SnpVerifier::check(ByteView report, const SnpCertChain& certs, const SnpVerifyOptions& options) {
  return run_checks(report, certs, options, &state_->cache);
}

Result<VerifiedSnpReport> SnpVerifier::verify(ByteView report, const SnpCertChain& certs,
                                              const SnpVerifyOptions& options) {
  auto c = check(report, certs, options);
  if (c.verified) return std::move(*c.verified);
  return first_failure(c.checks);
}

}  // namespace tl::tee
