// Attestation evidence as the agent sends it (wire format: docs/evidence.md),
// decoded but NOT verified: nothing here may decide trust until the pipeline in
// verify/attestation.h has checked it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/hex.h"
#include "common/result.h"
#include "tpm/pcr.h"

namespace tl::verify {

// The TPM-resident RSA decryption key for Secure Key Release, certified by the AK.
struct RuntimeKeyEvidence {
  Bytes public_area;   // TPMT_PUBLIC of the key (its Name is nameAlg || H(this))
  Bytes certify_info;  // TPMS_ATTEST of TPM2_Certify (type TPM_ST_ATTEST_CERTIFY)
  Bytes signature;     // TPMT_SIGNATURE by the AK over certify_info
  // SHA-256 PCRs the key's authPolicy binds with TPM2_PolicyPCR (ascending).
  std::vector<uint32_t> policy_pcrs;

  friend bool operator==(const RuntimeKeyEvidence&, const RuntimeKeyEvidence&) = default;
};

// What the agent says about the guest OS (from /etc/os-release). Self-reported:
// claims derived from it are labelled as such in docs/claims.md.
struct OsInfo {
  std::string type;    // "Linux" | "Windows"
  std::string distro;  // os-release NAME, e.g. "Debian GNU/Linux"
  uint32_t version_major = 0;
  uint32_t version_minor = 0;
  std::string kernel_release;  // "kernelRelease": uname -r ("" = not reported)

  friend bool operator==(const OsInfo&, const OsInfo&) = default;
};

// What the agent found about kernel modules that failed or skipped signature
// validation (docs/evidence.md "kernelModules"). Self-reported.
struct KernelModuleReport {
  bool reported = false;  // the member was present
  uint64_t taint = 0;     // /proc/sys/kernel/tainted
  // Loaded although unsigned or badly signed (kernel log "module verification
  // failed", taint flag E), by module name.
  std::vector<std::string> unsigned_modules;
  // Refused by the kernel ("Loading of unsigned module is rejected",
  // "module … Key was rejected by service", lockdown), by module name.
  std::vector<std::string> rejected_modules;
  // IMA measurements of modules whose appraisal failed, when IMA is active.
  std::vector<std::string> ima_failures;

  friend bool operator==(const KernelModuleReport&, const KernelModuleReport&) = default;
};

// The confidential VM's hardware evidence an agent on an Azure CVM adds
// (docs/evidence.md "tee"): the HCL report read from vTPM NV index 0x01400001
// and, optionally, the VCEK (SEV-SNP) or the TD quote (TDX). Decoded only;
// tlaunchd verifies it (its AK must be the enrolled AK) after the TPM evidence.
struct TeeEvidence {
  std::string type;  // "az-snp-vtpm" | "az-tdx-vtpm"
  Bytes hcl_report;
  std::optional<Bytes> vcek;      // DER
  std::optional<Bytes> td_quote;

  friend bool operator==(const TeeEvidence&, const TeeEvidence&) = default;
};

struct Evidence {
  uint32_t protocol_version = 1;  // "version"; only 1 is defined
  std::string vm_id;              // "vmId"
  Bytes nonce;                    // the challenge the quote was made for
  Bytes quote_attest;             // TPMS_ATTEST of TPM2_Quote
  Bytes quote_signature;          // TPMT_SIGNATURE
  tpm::PcrValues pcrs;            // the PCR values the quote covers (per bank)
  Bytes event_log;                // binary_bios_measurements, as read
  std::optional<Bytes> ak_public; // TPMT_PUBLIC; when present must equal the enrolled AK
  std::optional<RuntimeKeyEvidence> runtime_key;
  nlohmann::json client_payload = nlohmann::json::object();  // any JSON object, kept verbatim
  OsInfo os;
  KernelModuleReport kernel_modules;  // "kernelModules"
  std::optional<TeeEvidence> tee;     // "tee": only on confidential VMs

  friend bool operator==(const Evidence&, const Evidence&) = default;
};

// Limits applied while decoding (a request over them is refused with the field).
struct EvidenceLimits {
  size_t max_event_log_bytes = 4 * 1024 * 1024;
  size_t max_client_payload_bytes = 16 * 1024;  // serialized JSON
  size_t max_json_depth = 16;                   // nesting of the whole document
};

// Strict decode of the JSON object (docs/evidence.md): unknown members, wrong
// types, bad base64 / hex, wrong digest sizes and oversized fields are refused
// with the JSON path of the field (e.g. "pcrs.sha256.7: expected 32 bytes, got 20").
// Errors carry reason "evidence-malformed".
Result<Evidence> decode_evidence(const nlohmann::json& j, const EvidenceLimits& limits = {});
// Parses the request body first, refusing what nlohmann::json would silently
// accept: a member name repeated in one object (the last would win), nesting
// deeper than limits.max_json_depth, invalid UTF-8. Then decode_evidence.
Result<Evidence> decode_evidence_text(std::string_view text, const EvidenceLimits& limits = {});
// The inverse (the agent's encoder); decode_evidence(encode_evidence(e)) == e.
nlohmann::json encode_evidence(const Evidence& e);

}  // namespace tl::verify
