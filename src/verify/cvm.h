// Azure vTPM-backed confidential VM evidence (the HCL report with its SEV-SNP
// report or TDREPORT + TD quote, and a vTPM quote by the AK the HCL report
// names) and bare TEE evidence, decoded and then verified:
//
//   hardware report (snp_verify / tdx_verify) → HCL binding (runtime data hash
//   in REPORT_DATA) → vTPM AK from the runtime data → TPM quote (signature,
//   nonce, PCR digest) → [event log replay, when the evidence carries one] → claims
//
// Claims (docs/claims.md "Confidential VMs"): x-ms-attestation-type
// ("sevsnpvm" | "tdxvm"), x-ms-compliance-status, x-ms-runtime (the HCL runtime
// data: keys, vm-configuration, user-data), the x-ms-sevsnpvm-* / TDX claims,
// and the vTPM PCRs. A debug-enabled guest is never compliant.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/hex.h"
#include "common/result.h"
#include "tee/hcl_report.h"
#include "tee/snp_verify.h"
#include "tee/tdx_verify.h"
#include "tpm/pcr.h"
#include "tpm/verified_quote.h"

namespace tl::verify {

enum class CvmEvidenceType { az_snp_vtpm, az_tdx_vtpm };
std::string_view cvm_evidence_type_name(CvmEvidenceType t);  // "az-snp-vtpm", "az-tdx-vtpm"
std::optional<CvmEvidenceType> cvm_evidence_type_from_name(std::string_view s);

// Decoded, NOT verified.
struct CvmEvidence {
  CvmEvidenceType type = CvmEvidenceType::az_snp_vtpm;
  // Encoding version: 0 (byte arrays), 1, or 2 (SNP: the HCL user-data carries
  // the nonce, and verify_cvm_evidence checks it).
  uint32_t version = 0;
  Bytes hcl_report;
  Bytes quote_attest;     // TPMS_ATTEST of the vTPM quote
  Bytes quote_signature;  // the quote's signature: a TPMT_SIGNATURE, or the bare
                          // RSASSA signature bytes (Azure's tpm_quote.signature)
  tpm::PcrValues pcrs;    // SHA-256 PCRs 0..23 as recorded
  Bytes vcek;             // DER; az-snp-vtpm (empty: from the store / KDS)
  Bytes td_quote;         // az-tdx-vtpm
};

// Accepts the encodings Azure CVM tooling and Trustee's az-snp-vtpm /
// az-tdx-vtpm attesters produce (docs/evidence.md "Confidential VMs"):
//   v0: {"quote": {"message": [bytes], "signature": [bytes], "pcrs": [[bytes]…]},
//        "report": [bytes], "vcek": PEM}                  (SNP; TDX has "td_quote")
//   v1/v2: {"version": 1|2, "tpm_quote": {"message": hex, "signature": hex,
//        "pcrs": [hex…]}, "hcl_report": base64url, "vcek": base64url DER | "td_quote": base64url}
//   (TDX v0 names its members "tpm_quote" / "hcl_report" / "td_quote" as v1 does;
//   base64url may carry '=' padding, as serde_with's UrlSafe writes it)
// Strict: unknown members, wrong types and bad encodings are refused naming the
// path; reason "evidence-malformed".
Result<CvmEvidence> decode_cvm_evidence(const nlohmann::json& j, CvmEvidenceType type);

struct CvmPolicy {
  std::optional<int64_t> at;                       // certificate / collateral time; default now
  const tee::TdxCollateral* tdx_collateral = nullptr;
  tee::SnpVerifier* snp_verifier = nullptr;        // optional cache; null = uncached
  // TCB statuses accepted as compliant for TDX (without collateral: never compliant).
  std::vector<tee::TdxTcbStatus> tdx_compliant_tcb{tee::TdxTcbStatus::up_to_date};
  // When set: the HCL runtime data's "user-data" must equal these bytes
  // zero-padded to 64 (reason "hcl-user-data-mismatch"). Version 2 SNP evidence
  // is always checked against the nonce.
  std::optional<Bytes> expected_user_data;
  // Reference values naming the paravisor the operator trusts (docs/tee-hcl.md
  // "Compliance"). A genuine report proves only that SOME code at VMPL 0 / in
  // some TD asked for it: outside Azure the guest kernel itself may run there
  // and write any "HCL" runtime data. So a report is compliant only when its
  // SNP launch MEASUREMENT or (non-zero) ID_KEY_DIGEST, or its TDX MRTD, is
  // listed. Empty lists: nothing is compliant. 48 bytes each.
  std::vector<Bytes> snp_launch_measurements;
  std::vector<Bytes> snp_id_key_digests;
  std::vector<Bytes> tdx_mrtds;
};

namespace detail {
struct CvmVerifiedBuilder;

// The compliance rule and the TEE claims, apart from verification so the rule
// can be tested on report contents no genuine signature exists for (a debug
// guest). verify_cvm_evidence calls them only with verified inputs.
struct CvmCompliance {
  bool compliant = false;
  std::string detail;  // why not (empty when compliant)
};
inline constexpr const char* kCompliant = "azure-compliant-cvm";
inline constexpr const char* kNotCompliant = "not-compliant";
// Not debuggable, VMPL 0, and the launch measurement or ID key digest listed.
CvmCompliance snp_compliance(const tee::SnpReport& r, const CvmPolicy& policy);
// Not debuggable, MRTD listed, and a TCB status (collateral) listed in tdx_compliant_tcb.
CvmCompliance tdx_compliance(const tee::TdQuoteBody& body, std::optional<tee::TdxTcbStatus> tcb_status,
                             const CvmPolicy& policy);
nlohmann::json snp_tee_claims(const tee::SnpReport& r, const tee::HclReport& hcl, const CvmCompliance& c);
nlohmann::json tdx_tee_claims(const tee::TdQuoteBody& body, std::optional<tee::TdxTcbStatus> tcb_status,
                              const std::vector<std::string>& advisory_ids, const std::string& fmspc,
                              const tee::HclReport& hcl, const CvmCompliance& c);
}  // namespace detail

class VerifiedCvmAttestation {
 public:
  CvmEvidenceType type() const { return type_; }
  const tee::HclReport& hcl() const { return hcl_; }
  const tpm::VerifiedQuote& quote() const { return *quote_; }
  const std::optional<tee::VerifiedSnpReport>& snp() const { return snp_; }
  const std::optional<tee::VerifiedTdxQuote>& tdx() const { return tdx_; }
  bool compliant() const { return compliant_; }
  const std::string& compliance_detail() const { return compliance_detail_; }  // why not
  // The TEE claims object: x-ms-attestation-type, x-ms-compliance-status,
  // x-ms-runtime, x-ms-sevsnpvm-* or TDX claims. Top level of a sevsnpvm/tdxvm
  // token, or the value of "x-ms-isolation-tee" in an azurevm token.
  const nlohmann::json& tee_claims() const { return tee_claims_; }
  // The vTPM claims: "x-ms-azurevm-vmid" (from vm-configuration) and
  // "x-tl-pcrs" {"sha256": {"0": hex …}} of the quoted PCRs.
  const nlohmann::json& vtpm_claims() const { return vtpm_claims_; }

 private:
  VerifiedCvmAttestation() = default;
  friend struct detail::CvmVerifiedBuilder;
  CvmEvidenceType type_ = CvmEvidenceType::az_snp_vtpm;
  tee::HclReport hcl_;
  std::optional<tpm::VerifiedQuote> quote_;
  std::optional<tee::VerifiedSnpReport> snp_;
  std::optional<tee::VerifiedTdxQuote> tdx_;
  bool compliant_ = false;
  std::string compliance_detail_;
  nlohmann::json tee_claims_;
  nlohmann::json vtpm_claims_;
};

// Every rejection has a reason (the tee checks' reasons, "hcl-ak-missing",
// "quote-nonce", "quote-signature", "quote-pcr-digest", …; docs/errors.md).
Result<VerifiedCvmAttestation> verify_cvm_evidence(const CvmEvidence& evidence,
                                                   ByteView expected_nonce,
                                                   const CvmPolicy& policy);

}  // namespace tl::verify
