// The report Azure's paravisor (HCL) keeps in vTPM NV index 0x01400001 on a
// confidential VM: a header, the hardware report (SEV-SNP ATTESTATION_REPORT or
// TDX TDREPORT) and the runtime data (a JSON document with the vTPM's AK and EK
// public keys, the VM configuration and user data) whose hash the hardware
// report's REPORT_DATA carries. Parsing and that one binding only: the hardware
// report is verified by snp_verify.h / tdx_verify.h, the vTPM quote by the caller.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/hex.h"
#include "common/result.h"
#include "tee/check.h"

namespace tl::tee {

inline constexpr uint32_t kHclReportNvIndex = 0x01400001;
inline constexpr uint32_t kHclUserDataNvIndex = 0x01400002;  // write 64 bytes to refresh

enum class HclHardware { snp, tdx };

// One key of the runtime data's "keys" array (a JWK).
struct HclRuntimeKey {
  std::string kid;                   // "HCLAkPub", "HCLEkPub"
  std::string kty;                   // "RSA" (the only type the HCL emits)
  std::vector<std::string> key_ops;  // "sign", "encrypt"
  Bytes n;                           // RSA modulus, big-endian
  Bytes e;
  nlohmann::json jwk;                // as in the report
};

struct HclReport {
  uint32_t version = 0;       // header version (1, 2)
  uint32_t report_size = 0;   // header's report size
  uint32_t request_type = 0;
  uint32_t status = 0;
  HclHardware hardware = HclHardware::snp;
  Bytes hardware_report;      // 1184 bytes (SNP) or 1024 (TDREPORT)
  uint32_t runtime_data_version = 0;
  uint32_t hash_type = 0;     // 1 SHA-256, 2 SHA-384, 3 SHA-512
  Bytes runtime_data;         // exactly the bytes the hardware report's REPORT_DATA hashes
  nlohmann::json runtime_json;
  std::vector<HclRuntimeKey> keys;
  const HclRuntimeKey* ak() const;  // kid "HCLAkPub", or null
  const HclRuntimeKey* ek() const;  // kid "HCLEkPub", or null
};

inline constexpr uint32_t kHclSignature = 0x414C4348;  // "HCLA" little-endian
inline constexpr size_t kHclHeaderSize = 32;
inline constexpr size_t kHclHardwareReportSize = 1184;    // the field; a TDREPORT uses 1024 of it
inline constexpr size_t kHclRequestDataOffset = kHclHeaderSize + kHclHardwareReportSize;  // 0x4C0
inline constexpr size_t kHclRuntimeDataOffset = kHclRequestDataOffset + 20;              // 0x4D4
inline constexpr uint32_t kHclReportTypeSnp = 2;  // IGVM request data report type
inline constexpr uint32_t kHclReportTypeTdx = 4;
inline constexpr size_t kHclMaxReportSize = 64 * 1024;  // the NV index holds ~2.6 KiB

// Errors name the field and offset; reason "hcl-report-malformed". Zero padding
// after the runtime data (the NV index is larger than the report) is allowed.
// Layout and strictness: docs/tee-hcl.md.
Result<HclReport> parse_hcl_report(ByteView data);

// The runtime data's "user-data" (hex of 64 bytes; v2 evidence puts the
// attester's report data there) equals `expected` zero-padded to 64 bytes.
// Check name "hcl.user_data", reason "hcl-user-data-mismatch"; a missing or
// malformed "user-data" fails the check too.
Check check_hcl_user_data(const HclReport& r, ByteView expected);

// "vm-configuration"."vmUniqueId", when present as a string.
std::optional<std::string> hcl_vm_unique_id(const HclReport& r);

// REPORT_DATA of the hardware report inside (SNP report_data / TDREPORT report_data).
Result<Bytes> hcl_hardware_report_data(const HclReport& r);

// H(runtime_data) (H per hash_type) == report_data[0:32] for SHA-256 (the full
// digest length for the others). Check name "hcl.binding", reason
// "hcl-report-data-mismatch".
Check check_hcl_binding(const HclReport& r, ByteView report_data);

nlohmann::json hcl_report_json(const HclReport& r);

}  // namespace tl::tee
