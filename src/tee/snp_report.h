// AMD SEV-SNP ATTESTATION_REPORT (SEV Secure Nested Paging Firmware ABI
// Specification, #56860, "ATTESTATION_REPORT Structure"), versions 2 to 5.
// Parsing only: nothing here is verified (snp_verify.h does that).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/hex.h"
#include "common/result.h"

namespace tl::tee {

inline constexpr size_t kSnpReportSize = 1184;
inline constexpr size_t kSnpSignedSize = 0x2A0;  // the signature covers bytes [0, 0x2A0)

enum class SnpProduct { milan, genoa, turin };
std::string_view product_name(SnpProduct p);                     // "Milan", "Genoa", "Turin"
std::optional<SnpProduct> product_from_name(std::string_view s);  // case-insensitive

// TCB_VERSION: a 64-bit word whose byte layout depends on the product
// (Milan/Genoa: bootloader, tee, 4 reserved, snp, microcode;
//  Turin: fmc, bootloader, tee, snp, 3 reserved, microcode).
struct SnpTcb {
  uint64_t raw = 0;
  uint8_t bootloader = 0;
  uint8_t tee = 0;
  uint8_t snp = 0;
  uint8_t microcode = 0;
  std::optional<uint8_t> fmc;  // Turin only
  friend bool operator==(const SnpTcb&, const SnpTcb&) = default;
};
SnpTcb decode_snp_tcb(uint64_t raw, SnpProduct product);

// GUEST_POLICY bits.
struct SnpGuestPolicy {
  uint64_t raw = 0;
  uint8_t abi_minor = 0;
  uint8_t abi_major = 0;
  bool smt_allowed = false;             // bit 16
  bool migrate_ma_allowed = false;      // bit 18
  bool debug_allowed = false;           // bit 19
  bool single_socket_required = false;  // bit 20
  bool cxl_allowed = false;             // bit 21
  bool mem_aes_256_xts = false;         // bit 22
  bool rapl_disabled = false;           // bit 23
  bool ciphertext_hiding = false;       // bit 24
  bool page_swap_disabled = false;      // bit 25
};

// PLATFORM_INFO bits.
struct SnpPlatformInfo {
  uint64_t raw = 0;
  bool smt_enabled = false;
  bool tsme_enabled = false;
  bool ecc_enabled = false;
  bool rapl_disabled = false;
  bool ciphertext_hiding_enabled = false;
  bool alias_check_complete = false;
  bool tio_enabled = false;
};

enum class SnpSigningKey : uint8_t { vcek = 0, vlek = 1, none = 7 };

struct SnpReport {
  uint32_t version = 0;
  uint32_t guest_svn = 0;
  SnpGuestPolicy policy;
  std::array<uint8_t, 16> family_id{};
  std::array<uint8_t, 16> image_id{};
  uint32_t vmpl = 0;
  uint32_t signature_algo = 0;  // 1 = ECDSA P-384 with SHA-384
  SnpTcb current_tcb;
  SnpPlatformInfo platform_info;
  uint32_t key_info = 0;        // raw word at 0x48
  bool author_key_en = false;   // bit 0
  bool mask_chip_key = false;   // bit 1
  uint8_t signing_key_raw = 0;  // bits 4:2
  std::optional<SnpSigningKey> signing_key;  // nullopt for a reserved value
  std::array<uint8_t, 64> report_data{};
  std::array<uint8_t, 48> measurement{};
  std::array<uint8_t, 32> host_data{};
  std::array<uint8_t, 48> id_key_digest{};
  std::array<uint8_t, 48> author_key_digest{};
  std::array<uint8_t, 32> report_id{};
  std::array<uint8_t, 32> report_id_ma{};
  SnpTcb reported_tcb;
  std::optional<uint8_t> cpuid_fam_id;  // version >= 3
  std::optional<uint8_t> cpuid_mod_id;
  std::optional<uint8_t> cpuid_step;
  std::array<uint8_t, 64> chip_id{};
  SnpTcb committed_tcb;
  uint8_t current_build = 0, current_minor = 0, current_major = 0;
  uint8_t committed_build = 0, committed_minor = 0, committed_major = 0;
  SnpTcb launch_tcb;
  std::optional<uint64_t> launch_mit_vector;   // version >= 5
  std::optional<uint64_t> current_mit_vector;  // version >= 5
  std::array<uint8_t, 72> signature_r{};  // little-endian, as in the report
  std::array<uint8_t, 72> signature_s{};
  SnpProduct product = SnpProduct::milan;  // the layout used for the TCB fields
  bool product_from_cpuid = false;         // true when the report's CPUID fields said so
};

// `data` must be exactly kSnpReportSize bytes. `product` chooses the TCB layout
// for a report that does not name its CPU (version 2); a version 3+ report's
// CPUID family/model decide, and a different `product` is an error. Errors name
// the field and offset; reason "snp-report-malformed".
Result<SnpReport> parse_snp_report(ByteView data, std::optional<SnpProduct> product = {});

// Every field for display (hex strings, decoded bits, TCBs per product).
nlohmann::json snp_report_json(const SnpReport& r);

}  // namespace tl::tee
