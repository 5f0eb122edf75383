// Intel TDX quotes, versions 4 and 5 (Intel TDX DCAP Quoting Library API, "Quote
// Format"), and the TDREPORT a TD obtains from TDG.MR.REPORT (Azure's HCL report
// carries one). Parsing only: tdx_verify.h verifies.
#pragma once

#include <array>
#include <cstdint>
#include <optional>

#include <nlohmann/json.hpp>

#include "common/hex.h"
#include "common/result.h"

namespace tl::tee {

using Mr48 = std::array<uint8_t, 48>;

struct TdxQuoteHeader {
  uint16_t version = 0;              // 4 or 5
  uint16_t attestation_key_type = 0; // 2 = ECDSA-256-with-P-256
  uint32_t tee_type = 0;             // 0x81 = TDX
  uint16_t qe_svn = 0;               // v4: reserved
  uint16_t pce_svn = 0;              // v4: reserved
  std::array<uint8_t, 16> qe_vendor_id{};
  std::array<uint8_t, 20> user_data{};
};

enum class TdBodyType : uint16_t { sgx_enclave = 1, td10 = 2, td15 = 3 };

// TD report body (584 bytes for TDX 1.0, 648 for TDX 1.5).
struct TdQuoteBody {
  std::array<uint8_t, 16> tee_tcb_svn{};
  Mr48 mr_seam{};
  Mr48 mr_signer_seam{};
  uint64_t seam_attributes = 0;
  uint64_t td_attributes = 0;
  uint64_t xfam = 0;
  Mr48 mr_td{};
  Mr48 mr_config_id{};
  Mr48 mr_owner{};
  Mr48 mr_owner_config{};
  std::array<Mr48, 4> rtmr{};
  std::array<uint8_t, 64> report_data{};
  std::optional<std::array<uint8_t, 16>> tee_tcb_svn2;  // TDX 1.5
  std::optional<Mr48> mr_service_td;                    // TDX 1.5
  bool debug() const { return (td_attributes & 1) != 0; }  // TDATTRIBUTES.TUD.DEBUG
};

// The QE's SGX REPORT body (384 bytes).
struct SgxReportBody {
  std::array<uint8_t, 16> cpu_svn{};
  uint32_t misc_select = 0;
  std::array<uint8_t, 16> attributes{};
  std::array<uint8_t, 32> mr_enclave{};
  std::array<uint8_t, 32> mr_signer{};
  uint16_t isv_prod_id = 0;
  uint16_t isv_svn = 0;
  std::array<uint8_t, 64> report_data{};
};

struct TdxQuote {
  TdxQuoteHeader header;
  TdBodyType body_type = TdBodyType::td10;  // v4: always td10
  TdQuoteBody body;
  Bytes signed_data;  // header (+ v5 body descriptor) + body: what the attestation key signs
  std::array<uint8_t, 64> signature{};        // ECDSA r || s, big-endian
  std::array<uint8_t, 64> attestation_key{};  // P-256 x || y
  SgxReportBody qe_report;
  Bytes qe_report_raw;                        // the 384 signed bytes
  std::array<uint8_t, 64> qe_report_signature{};
  Bytes qe_auth_data;
  uint16_t pck_cert_data_type = 0;  // 5 = PCK certificate chain (PEM)
  Bytes pck_cert_data;              // PCK leaf, intermediate, root (PEM)
  size_t size = 0;                  // bytes consumed by the quote
  size_t trailing_bytes = 0;        // tolerated after the signed data
};

// Errors name the field and offset; reason "tdx-quote-malformed". Sizes checked
// against the version and body type (a v5 TD 1.5 body is 648 bytes, TD 1.0 584).
Result<TdxQuote> parse_tdx_quote(ByteView data);
// The quote bytes again (without trailing bytes): parse + serialize is byte-exact.
Bytes serialize_tdx_quote(const TdxQuote& q);
nlohmann::json tdx_quote_json(const TdxQuote& q);

// TDREPORT_STRUCT (1024 bytes): REPORTMACSTRUCT, TEE_TCB_INFO, TDINFO.
struct TdReport {
  uint8_t report_type = 0;     // REPORTTYPE.TYPE: 0x81 = TDX
  uint8_t report_subtype = 0;
  uint8_t report_version = 0;  // 0 = TDX 1.0 layout, 1 = TDX 1.5 (TEE_TCB_SVN2, SERVTD_HASH)
  std::array<uint8_t, 16> cpu_svn{};
  Mr48 tee_tcb_info_hash{};
  Mr48 tee_info_hash{};
  std::array<uint8_t, 64> report_data{};
  std::array<uint8_t, 32> mac{};
  // TEE_TCB_INFO
  uint64_t tee_tcb_info_valid = 0;
  std::array<uint8_t, 16> tee_tcb_svn{};
  Mr48 mr_seam{};
  Mr48 mr_signer_seam{};
  uint64_t seam_attributes = 0;
  // TDINFO
  uint64_t td_attributes = 0;
  uint64_t xfam = 0;
  Mr48 mr_td{};
  Mr48 mr_config_id{};
  Mr48 mr_owner{};
  Mr48 mr_owner_config{};
  std::array<Mr48, 4> rtmr{};
  bool debug() const { return (td_attributes & 1) != 0; }
};
inline constexpr size_t kTdReportSize = 1024;
// Exactly kTdReportSize bytes with REPORTTYPE.TYPE 0x81; reason "td-report-malformed".
// The MAC is not checkable outside the platform: nothing here is trusted.
Result<TdReport> parse_td_report(ByteView data);

}  // namespace tl::tee
