// decode_cvm_evidence: the JSON encodings of Azure vTPM-backed CVM evidence
// (docs/evidence.md "Confidential VMs"). Decoding only; cvm.cc verifies.
#include <initializer_list>
#include <string>
#include <utility>

#include "crypto/cert_chain.h"
#include "token/base64url.h"
#include "verify/cvm.h"
#include "verify/reasons.h"
#include "verify/evidence_json.h"

namespace tl::verify {
namespace {

using json = nlohmann::json;

// Decoded size limits: generous for what each member holds, small enough to
// refuse junk before decoding it.
constexpr size_t kMaxHcl = tee::kHclMaxReportSize;
constexpr size_t kMaxAttest = 2048;     // TPMS_ATTEST of a quote
constexpr size_t kMaxSignature = 1024;  // RSA-4096 is 512 bytes
constexpr size_t kMaxVcek = 8192;       // a VCEK is ~1.3 KiB DER
constexpr size_t kMaxTdQuote = 128 * 1024;  // quote + PCK chain ~5 KiB
constexpr size_t kPcrSize = 32;

Error malformed(const std::string& path, const std::string& what) { return detail::evidence_malformed(path, what); }
Error wrong_type(const std::string& path, const char* expected, const json& got) {
  return detail::wrong_json_type(path, expected, got);
}

// Exactly these members (unknown ones refused: a typo must not drop a field).
Status check_members(const json& obj, const std::string& path, std::initializer_list<const char*> members) {
  for (const auto& [key, value] : obj.items()) {
    bool known = false;
    for (const char* m : members) known = known || key == m;
    if (!known) return malformed(path.empty() ? key : path + "." + key, "unknown member");
  }
  for (const char* m : members) {
    if (!obj.contains(m)) return malformed(path.empty() ? m : path + "." + m, "missing");
  }
  return {};
}

// [0..255, …] as serde writes a Vec<u8>.
Result<Bytes> byte_array(const json& j, const std::string& path, size_t max_bytes) {
  if (!j.is_array()) return wrong_type(path, "array of bytes", j);
  if (j.size() > max_bytes)
    return malformed(path, std::to_string(j.size()) + " bytes exceed " + std::to_string(max_bytes));
  Bytes out;
  out.reserve(j.size());
  for (size_t i = 0; i < j.size(); ++i) {
    const json& v = j[i];
    // Signed or unsigned storage: nlohmann keeps a parsed 7 unsigned, an assigned 7 signed.
    if (!v.is_number_integer() || (!v.is_number_unsigned() && v.get<int64_t>() < 0) ||
        (v.is_number_unsigned() && v.get<uint64_t>() > 255) || (!v.is_number_unsigned() && v.get<int64_t>() > 255))
      return malformed(path + "[" + std::to_string(i) + "]", "not a byte (integer 0..255)");
    out.push_back(static_cast<uint8_t>(v.get<int64_t>()));
  }
  return out;
}

Result<Bytes> hex_string(const json& j, const std::string& path, size_t max_bytes) {
  if (!j.is_string()) return wrong_type(path, "hex string", j);
  const auto& s = j.get_ref<const std::string&>();
  if (s.size() > 2 * max_bytes)
    return malformed(path, std::to_string(s.size() / 2) + " bytes exceed " + std::to_string(max_bytes));
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    const bool hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    if (!hex) return malformed(path, "character " + std::to_string(i) + " is not hex");
  }
  if (s.size() % 2 != 0) return malformed(path, "odd number of hex digits");
  auto b = from_hex(s);
  if (!b) return malformed(path, b.error().message);
  return std::move(*b);
}

// base64url (RFC 4648 §5); '=' padding allowed only when it is exactly right.
Result<Bytes> b64url_string(const json& j, const std::string& path, size_t max_bytes) {
  if (!j.is_string()) return wrong_type(path, "base64url string", j);
  std::string_view s = j.get_ref<const std::string&>();
  if (s.size() > (max_bytes + 2) / 3 * 4)
    return malformed(path, "longer than the " + std::to_string(max_bytes) + " bytes allowed");
  size_t pad = 0;
  while (pad < s.size() && s[s.size() - 1 - pad] == '=') ++pad;
  if (pad > 0) {
    // Padded text is a whole number of 4-character groups with at most two '='.
    if (pad > 2 || s.size() % 4 != 0) return malformed(path, "bad base64url padding");
    s.remove_suffix(pad);
  }
  auto b = token::base64url_decode(s);
  if (!b) return malformed(path, b.error().message);
  if (b->size() > max_bytes)
    return malformed(path, std::to_string(b->size()) + " bytes exceed " + std::to_string(max_bytes));
  return std::move(*b);
}

enum class Encoding { arrays, text };

Result<Bytes> binary(const json& j, const std::string& path, size_t max_bytes, Encoding enc) {
  return enc == Encoding::arrays ? byte_array(j, path, max_bytes) : hex_string(j, path, max_bytes);
}

// {"signature", "message", "pcrs"}: arrays of bytes (v0) or hex (v1/v2).
Status decode_tpm_quote(const json& q, const std::string& path, Encoding enc, CvmEvidence& out) {
  if (!q.is_object()) return wrong_type(path, "object", q);
  if (auto st = check_members(q, path, {"signature", "message", "pcrs"}); !st) return st;
  auto sig = binary(q.at("signature"), path + ".signature", kMaxSignature, enc);
  if (!sig) return sig.take_error();
  if (sig->empty()) return malformed(path + ".signature", "empty");
  auto msg = binary(q.at("message"), path + ".message", kMaxAttest, enc);
  if (!msg) return msg.take_error();
  if (msg->empty()) return malformed(path + ".message", "empty");
  const json& pcrs = q.at("pcrs");
  if (!pcrs.is_array()) return wrong_type(path + ".pcrs", "array", pcrs);
  // Azure's vTPM reports the whole SHA-256 bank: PCR i at position i.
  if (pcrs.size() != tpm::kNumPcrs)
    return malformed(path + ".pcrs", std::to_string(pcrs.size()) + " values, expected " +
                                         std::to_string(tpm::kNumPcrs) + " (SHA-256 PCRs 0..23)");
  tpm::PcrMap bank;
  for (size_t i = 0; i < pcrs.size(); ++i) {
    const std::string p = path + ".pcrs[" + std::to_string(i) + "]";
    auto v = binary(pcrs[i], p, kPcrSize, enc);
    if (!v) return v.take_error();
    if (v->size() != kPcrSize) return malformed(p, std::to_string(v->size()) + " bytes, expected 32 (SHA-256)");
    bank.emplace(static_cast<uint32_t>(i), std::move(*v));
  }
  out.quote_attest = std::move(*msg);
  out.quote_signature = std::move(*sig);
  out.pcrs[crypto::HashAlg::sha256] = std::move(bank);
  return {};
}

Result<Bytes> pem_certificate(const json& j, const std::string& path) {
  if (!j.is_string()) return wrong_type(path, "PEM string", j);
  const auto& s = j.get_ref<const std::string&>();
  if (s.size() > 2 * kMaxVcek) return malformed(path, "PEM text too long");
  if (s.find("-----BEGIN CERTIFICATE-----") == std::string::npos) return malformed(path, "not a PEM certificate");
  auto certs = crypto::parse_certificates(as_bytes(s));
  if (!certs) return malformed(path, certs.error().message);
  if (certs->size() != 1)
    return malformed(path, std::to_string(certs->size()) + " certificates, expected the VCEK alone");
  return std::move(certs->front());
}

}  // namespace

std::string_view cvm_evidence_type_name(CvmEvidenceType t) {
  switch (t) {
    case CvmEvidenceType::az_snp_vtpm: return "az-snp-vtpm";
    case CvmEvidenceType::az_tdx_vtpm: return "az-tdx-vtpm";
  }
  return "unknown";
}

std::optional<CvmEvidenceType> cvm_evidence_type_from_name(std::string_view s) {
  if (s == "az-snp-vtpm") return CvmEvidenceType::az_snp_vtpm;
  if (s == "az-tdx-vtpm") return CvmEvidenceType::az_tdx_vtpm;
  return std::nullopt;
}

Result<CvmEvidence> decode_cvm_evidence(const json& j, CvmEvidenceType type) {
  if (!j.is_object()) return wrong_type("evidence", "object", j);
  CvmEvidence out;
  out.type = type;
  const bool snp = type == CvmEvidenceType::az_snp_vtpm;
  const auto version = j.find("version");
  if (version == j.end()) {
    // v0: serde's Vec<u8> byte arrays.
    out.version = 0;
    if (snp) {
      if (auto st = check_members(j, "", {"quote", "report", "vcek"}); !st) return st.take_error();
      if (auto st = decode_tpm_quote(j.at("quote"), "quote", Encoding::arrays, out); !st) return st.take_error();
      auto hcl = byte_array(j.at("report"), "report", kMaxHcl);
      if (!hcl) return hcl.take_error();
      out.hcl_report = std::move(*hcl);
      auto vcek = pem_certificate(j.at("vcek"), "vcek");
      if (!vcek) return vcek.take_error();
      out.vcek = std::move(*vcek);
    } else {
      if (auto st = check_members(j, "", {"tpm_quote", "hcl_report", "td_quote"}); !st) return st.take_error();
      if (auto st = decode_tpm_quote(j.at("tpm_quote"), "tpm_quote", Encoding::arrays, out); !st)
        return st.take_error();
      auto hcl = byte_array(j.at("hcl_report"), "hcl_report", kMaxHcl);
      if (!hcl) return hcl.take_error();
      out.hcl_report = std::move(*hcl);
      auto td = byte_array(j.at("td_quote"), "td_quote", kMaxTdQuote);
      if (!td) return td.take_error();
      out.td_quote = std::move(*td);
    }
  } else {
    if (!version->is_number_integer()) return wrong_type("version", "integer", *version);
    if (!version->is_number_unsigned() && version->get<int64_t>() < 0) return malformed("version", "negative");
    const uint64_t v = version->get<uint64_t>();
    // SNP has v1 and v2 (v2: user-data carries the report data); TDX has v1.
    if (v != 1 && !(snp && v == 2))
      return malformed("version", std::to_string(v) + " is not a known " +
                                      std::string(cvm_evidence_type_name(type)) + " evidence version");
    out.version = static_cast<uint32_t>(v);
    const char* hw_member = snp ? "vcek" : "td_quote";
    if (auto st = check_members(j, "", {"version", "tpm_quote", "hcl_report", hw_member}); !st)
      return st.take_error();
    if (auto st = decode_tpm_quote(j.at("tpm_quote"), "tpm_quote", Encoding::text, out); !st)
      return st.take_error();
    auto hcl = b64url_string(j.at("hcl_report"), "hcl_report", kMaxHcl);
    if (!hcl) return hcl.take_error();
    out.hcl_report = std::move(*hcl);
    auto hw = b64url_string(j.at(hw_member), hw_member, snp ? kMaxVcek : kMaxTdQuote);
    if (!hw) return hw.take_error();
    (snp ? out.vcek : out.td_quote) = std::move(*hw);
  }
  if (out.hcl_report.empty()) return malformed(snp && out.version == 0 ? "report" : "hcl_report", "empty");
  if (snp && out.vcek.empty()) return malformed("vcek", "empty");
  if (!snp && out.td_quote.empty()) return malformed("td_quote", "empty");
  return out;
}

}  // namespace tl::verify
