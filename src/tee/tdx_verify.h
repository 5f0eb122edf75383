// Verification of a TDX quote (v4/v5, ECDSA-256 attestation key, certification
// data type 6 wrapping a PCK chain):
//   parse          quote well formed                                    tdx-quote-malformed
//   header.qe_vendor_id  the header names Intel's QE (kIntelQeVendorId) tdx-qe-vendor-mismatch
//   pck_chain      PCK leaf -> intermediate -> Intel SGX Root CA (shipped,
//                  tdx_anchors.h), valid at `at`; CRLs applied when given  tdx-pck-chain-invalid
//   pck_leaf.sgx_extensions  the PCK leaf carries the SGX extensions
//                  (1.2.840.113741.1.13.1) with TCB, PCE ID and FMSPC     tdx-pck-leaf-invalid
//   qe_report.signature  QE report signed by the PCK leaf (ECDSA P-256)   tdx-qe-report-invalid
//   qe_report.identity   the QE is Intel's TD Quoting Enclave (MRSIGNER,
//                        ISVPRODID, MISCSELECT / ATTRIBUTES under Intel's
//                        masks), always, with or without collateral  tdx-qe-identity-mismatch
//   qe_report.binding    QE report_data[0:32] == SHA-256(attestation key || QE auth data),
//                        rest zero                                        tdx-qe-binding-mismatch
//   signature      header+body signed by the attestation key              tdx-signature-invalid
//   report_data    REPORTDATA starts with expected_report_data (when given)  tdx-report-data-mismatch
//   collateral.*   only with collateral: TCB Info and QE Identity signed by the
//                  TCB signing chain to the root, in their validity window at `at`,
//                  FMSPC / PCE ID match the PCK leaf, QE report matches QE Identity,
//                  TD body matches the TDX module identity            tdx-collateral-invalid
//                  TCB Info / QE Identity past its nextUpdate          tdx-collateral-expired
//                  Without an issuer chain the collateral's signature cannot be
//                  checked: that fails closed (tdx-collateral-unverified) unless
//                  allow_unverified_collateral, which marks the result unverified
//   tcb_status     the TCB level (UpToDate, SWHardeningNeeded, ConfigurationNeeded,
//                  ConfigurationAndSWHardeningNeeded, OutOfDate,
//                  OutOfDateConfigurationNeeded, Revoked); Revoked fails   tdx-tcb-revoked
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "common/hex.h"
#include "common/result.h"
#include "tee/check.h"
#include "tee/tdx_quote.h"

namespace tl::tee {

// Intel's TD Quoting Enclave, as Intel's PCS publishes it (TD_QE identity of
// /tdx/certification/v4/qe/identity) and as the quote header names its vendor.
// The PCK signs reports of any enclave on the platform that may use the
// provisioning key; only Intel's QE makes the attestation key Intel's, so this
// identity is checked on every quote, collateral or not.
inline constexpr std::string_view kIntelQeVendorId = "939a7233f79c4ca9940a0db3957f0607";
inline constexpr std::string_view kIntelTdQeMrSigner =
    "dc9e2a7c6f948f17474e34a7fc43ed030f7c1563f1babddf6340c82e0e54a8c5";
inline constexpr uint16_t kIntelTdQeIsvProdId = 2;
inline constexpr uint32_t kIntelTdQeMiscSelect = 0, kIntelTdQeMiscSelectMask = 0xffffffff;
inline constexpr std::string_view kIntelTdQeAttributes = "11000000000000000000000000000000";
inline constexpr std::string_view kIntelTdQeAttributesMask = "fbffffffffffffff0000000000000000";

// Collateral read from files (docs/tee-tdx.md names them): the PCS answers as
// downloaded. tcb_info.json and qe_identity.json are required (an error names
// the missing one); missing optional files (issuer chains, CRLs) skip their checks.
struct TdxCollateral {
  std::string tcb_info_json;            // {"tcbInfo": {...}, "signature": "..."}
  Bytes tcb_info_issuer_chain;          // PEM (TCB-Info-Issuer-Chain header)
  std::string qe_identity_json;         // {"enclaveIdentity": {...}, "signature": "..."}
  Bytes qe_identity_issuer_chain;       // PEM
  Bytes pck_crl;                        // DER or PEM
  Bytes root_ca_crl;                    // DER or PEM
};
Result<TdxCollateral> load_tdx_collateral(const std::filesystem::path& dir);

enum class TdxTcbStatus {
  up_to_date, sw_hardening_needed, configuration_needed,
  configuration_and_sw_hardening_needed, out_of_date, out_of_date_configuration_needed, revoked
};
std::string_view tcb_status_name(TdxTcbStatus s);  // Intel's spelling: "UpToDate" …
std::optional<TdxTcbStatus> tcb_status_from_name(std::string_view name);

// The TCB a PCK certificate states in its SGX extensions (1.2.840.113741.1.13.1).
// Read from the quote's (unverified) PCK leaf: trust comes from check_tdx_quote.
struct TdxPckTcb {
  std::array<uint8_t, 16> sgx_components{};  // SGX TCB COMP01..16 SVN
  uint16_t pce_svn = 0;
  std::array<uint8_t, 16> cpu_svn{};
  Bytes fmspc;   // 6 bytes
  Bytes pce_id;  // 2 bytes
};
Result<TdxPckTcb> tdx_pck_tcb(const TdxQuote& quote);

// Intel's TDX TCB evaluation over an already trusted TCB Info ("tcbInfo" object,
// id "TDX", version >= 3): TDX module identity (MRSIGNERSEAM, SEAM attributes
// under the mask), then the first TCB level whose SGX components and PCESVN the
// PCK TCB reaches and whose TDX components TEE_TCB_SVN reaches (from byte 2
// when TEE_TCB_SVN[1] > 0), converged with the TDX module's TCB level and the QE
// Identity status when given. No signature or time check here: check_tdx_quote
// does those first. Errors: reason tdx-collateral-invalid.
struct TdxTcbEvaluation {
  TdxTcbStatus status = TdxTcbStatus::revoked;  // converged
  TdxTcbStatus platform_status = TdxTcbStatus::revoked;  // the matched TCB level's
  std::optional<TdxTcbStatus> module_status;    // TDX module identity TCB level (TEE_TCB_SVN[1] > 0)
  std::string module_identity;                  // "TDX_01" …, empty for TEE_TCB_SVN[1] == 0
  std::string tcb_date;
  std::vector<std::string> advisory_ids;
};
Result<TdxTcbEvaluation> evaluate_tdx_tcb(const nlohmann::json& tcb_info, const TdQuoteBody& body,
                                          const TdxPckTcb& pck, std::optional<TdxTcbStatus> qe_status);

// QE Identity ("enclaveIdentity" object, id "TD_QE"): MISCSELECT and ATTRIBUTES
// under their masks, MRSIGNER, ISVPRODID, then the first TCB level with
// isvsvn <= the QE's ISVSVN: UpToDate, OutOfDate or Revoked. Same trust caveat.
Result<TdxTcbStatus> evaluate_qe_identity(const nlohmann::json& enclave_identity, const SgxReportBody& qe);

struct TdxVerifyOptions {
  std::optional<int64_t> at;                  // verification time (seconds); default now
  const TdxCollateral* collateral = nullptr;  // null: no TCB status
  std::optional<Bytes> expected_report_data;  // 1..64 bytes
  // Collateral without its issuer chain (e.g. a PCS answer saved without the
  // TCB-Info-Issuer-Chain header) cannot be authenticated. Off: fail closed.
  // On: evaluate it anyway and mark the result collateral_verified() == false.
  bool allow_unverified_collateral = false;
};

namespace detail {
struct TdxVerifiedBuilder;
}

class VerifiedTdxQuote {
 public:
  const TdxQuote& quote() const { return quote_; }
  const TdQuoteBody& body() const { return quote_.body; }
  std::optional<TdxTcbStatus> tcb_status() const { return tcb_status_; }  // only with collateral
  const std::vector<std::string>& advisory_ids() const { return advisory_ids_; }
  const std::string& fmspc() const { return fmspc_; }  // hex, from the PCK leaf
  bool debuggable() const { return quote_.body.debug(); }
  // False when the TCB status came from collateral whose signature could not be
  // checked (allow_unverified_collateral): then tcb_status() is advisory only.
  bool collateral_verified() const { return collateral_verified_; }

 private:
  VerifiedTdxQuote() = default;
  friend struct detail::TdxVerifiedBuilder;
  TdxQuote quote_;
  std::optional<TdxTcbStatus> tcb_status_;
  std::vector<std::string> advisory_ids_;
  std::string fmspc_;
  bool collateral_verified_ = false;
};

struct TdxQuoteCheck {
  std::vector<Check> checks;
  std::optional<TdxQuote> parsed;
  std::optional<VerifiedTdxQuote> verified;
  std::optional<TdxTcbStatus> tcb_status;  // also when a later check failed
  bool ok() const { return verified.has_value(); }
};

TdxQuoteCheck check_tdx_quote(ByteView quote, const TdxVerifyOptions& options);
Result<VerifiedTdxQuote> verify_tdx_quote(ByteView quote, const TdxVerifyOptions& options);

}  // namespace tl::tee
