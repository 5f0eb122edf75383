// SEV-SNP ATTESTATION_REPORT parsing (offsets: SEV-SNP Firmware ABI spec #56860,
// table "ATTESTATION_REPORT Structure"; docs/tee-snp.md lists them).
#include "tee/snp_report.h"

#include <algorithm>
#include <cctype>
#include <string>

#include "common/byte_reader.h"

namespace tl::tee {
namespace {

constexpr const char* kMalformed = "snp-report-malformed";

Error malformed(std::string message) { return Error{"SEV-SNP report: " + std::move(message), kMalformed}; }

template <size_t N>
Status read_array(ByteReader& r, std::array<uint8_t, N>& out, std::string_view field) {
  auto b = r.bytes(N, field);
  if (!b) return b.take_error();
  std::copy(b->begin(), b->end(), out.begin());
  return {};
}

// Reserved areas must be zero: a report with bits there is from a firmware
// we do not understand (or is not a report at all), so we refuse it rather
// than silently ignore fields.
Status expect_zero(ByteReader& r, size_t n, std::string_view field) {
  const size_t at = r.offset();
  auto b = r.bytes(n, field);
  if (!b) return b.take_error();
  for (size_t i = 0; i < b->size(); ++i) {
    if ((*b)[i] != 0) return r.error_at(at + i, field, "reserved byte is not zero");
  }
  return {};
}

// Family 0x19: models 0x00-0x0F Milan, 0x10-0x1F and 0xA0-0xAF Genoa (incl.
// Bergamo/Siena); family 0x1A: models 0x00-0x11 Turin. These are the ranges
// AMD's reference tooling (virtee/sev) maps; anything else is unknown.
std::optional<SnpProduct> product_from_cpuid(uint8_t family, uint8_t model) {
  if (family == 0x19) {
    if (model <= 0x0F) return SnpProduct::milan;
    if ((model >= 0x10 && model <= 0x1F) || (model >= 0xA0 && model <= 0xAF)) return SnpProduct::genoa;
  } else if (family == 0x1A) {
    if (model <= 0x11) return SnpProduct::turin;
  }
  return std::nullopt;
}

std::string hex2(uint64_t v, int digits) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string s(static_cast<size_t>(digits), '0');
  for (int i = digits - 1; i >= 0; --i, v >>= 4) s[static_cast<size_t>(i)] = kHex[v & 0xF];
  return "0x" + s;
}

Result<SnpReport> parse_impl(ByteView data, std::optional<SnpProduct> product) {
  if (data.size() != kSnpReportSize) {
    return malformed("expected " + std::to_string(kSnpReportSize) + " bytes, got " + std::to_string(data.size()));
  }
  ByteReader r(data);
  SnpReport rep;
  // Fixed size was checked above, so the reads below cannot run short; each
  // still goes through the reader so a layout mistake here fails, not reads past.
  auto u32 = [&](std::string_view f, uint32_t& out) -> Status {
    auto v = r.u32_le(f);
    if (!v) return v.take_error();
    out = *v;
    return {};
  };
  auto u64 = [&](std::string_view f, uint64_t& out) -> Status {
    auto v = r.u64_le(f);
    if (!v) return v.take_error();
    out = *v;
    return {};
  };
  auto u8 = [&](std::string_view f, uint8_t& out) -> Status {
    auto v = r.u8(f);
    if (!v) return v.take_error();
    out = *v;
    return {};
  };
#define TL_TRY(expr)                                  \
  do {                                                \
    if (auto s_ = (expr); !s_) return with_reason(kMalformed, s_.take_error()); \
  } while (0)

  TL_TRY(u32("VERSION", rep.version));
  if (rep.version < 2 || rep.version > 5) {
    return malformed("VERSION at offset 0x0: " + std::to_string(rep.version) + " is not supported (2 to 5)");
  }
  TL_TRY(u32("GUEST_SVN", rep.guest_svn));
  TL_TRY(u64("POLICY", rep.policy.raw));
  TL_TRY(read_array(r, rep.family_id, "FAMILY_ID"));
  TL_TRY(read_array(r, rep.image_id, "IMAGE_ID"));
  TL_TRY(u32("VMPL", rep.vmpl));
  TL_TRY(u32("SIGNATURE_ALGO", rep.signature_algo));
  uint64_t current_tcb = 0, reported_tcb = 0, committed_tcb = 0, launch_tcb = 0;
  TL_TRY(u64("CURRENT_TCB", current_tcb));
  TL_TRY(u64("PLATFORM_INFO", rep.platform_info.raw));
  TL_TRY(u32("KEY_INFO", rep.key_info));
  TL_TRY(expect_zero(r, 4, "reserved (0x4c)"));
  TL_TRY(read_array(r, rep.report_data, "REPORT_DATA"));
  TL_TRY(read_array(r, rep.measurement, "MEASUREMENT"));
  TL_TRY(read_array(r, rep.host_data, "HOST_DATA"));
  TL_TRY(read_array(r, rep.id_key_digest, "ID_KEY_DIGEST"));
  TL_TRY(read_array(r, rep.author_key_digest, "AUTHOR_KEY_DIGEST"));
  TL_TRY(read_array(r, rep.report_id, "REPORT_ID"));
  TL_TRY(read_array(r, rep.report_id_ma, "REPORT_ID_MA"));
  TL_TRY(u64("REPORTED_TCB", reported_tcb));
  if (rep.version >= 3) {
    uint8_t fam = 0, mod = 0, step = 0;
    TL_TRY(u8("CPUID_FAM_ID", fam));
    TL_TRY(u8("CPUID_MOD_ID", mod));
    TL_TRY(u8("CPUID_STEP", step));
    rep.cpuid_fam_id = fam;
    rep.cpuid_mod_id = mod;
    rep.cpuid_step = step;
    TL_TRY(expect_zero(r, 0x1A0 - 0x18B, "reserved (0x18b)"));
  } else {
    TL_TRY(expect_zero(r, 0x1A0 - 0x188, "reserved (0x188)"));
  }
  TL_TRY(read_array(r, rep.chip_id, "CHIP_ID"));
  TL_TRY(u64("COMMITTED_TCB", committed_tcb));
  TL_TRY(u8("CURRENT_BUILD", rep.current_build));
  TL_TRY(u8("CURRENT_MINOR", rep.current_minor));
  TL_TRY(u8("CURRENT_MAJOR", rep.current_major));
  TL_TRY(expect_zero(r, 1, "reserved (0x1eb)"));
  TL_TRY(u8("COMMITTED_BUILD", rep.committed_build));
  TL_TRY(u8("COMMITTED_MINOR", rep.committed_minor));
  TL_TRY(u8("COMMITTED_MAJOR", rep.committed_major));
  TL_TRY(expect_zero(r, 1, "reserved (0x1ef)"));
  TL_TRY(u64("LAUNCH_TCB", launch_tcb));
  if (rep.version >= 5) {
    uint64_t launch_mit = 0, current_mit = 0;
    TL_TRY(u64("LAUNCH_MIT_VECTOR", launch_mit));
    TL_TRY(u64("CURRENT_MIT_VECTOR", current_mit));
    rep.launch_mit_vector = launch_mit;
    rep.current_mit_vector = current_mit;
    TL_TRY(expect_zero(r, kSnpSignedSize - 0x208, "reserved (0x208)"));
  } else {
    TL_TRY(expect_zero(r, kSnpSignedSize - 0x1F8, "reserved (0x1f8)"));
  }
  TL_TRY(read_array(r, rep.signature_r, "SIGNATURE.R"));
  TL_TRY(read_array(r, rep.signature_s, "SIGNATURE.S"));
  // The rest of the 512-byte signature area is reserved. Not checked: it lies
  // outside the signed bytes, so it carries nothing a verifier could trust.
  TL_TRY(r.skip(kSnpReportSize - 0x2A0 - 144, "SIGNATURE reserved"));
#undef TL_TRY

  // Key info bits.
  rep.author_key_en = (rep.key_info & 1u) != 0;
  rep.mask_chip_key = (rep.key_info & 2u) != 0;
  rep.signing_key_raw = static_cast<uint8_t>((rep.key_info >> 2) & 7u);
  if (rep.signing_key_raw == 0) rep.signing_key = SnpSigningKey::vcek;
  else if (rep.signing_key_raw == 1) rep.signing_key = SnpSigningKey::vlek;
  else if (rep.signing_key_raw == 7) rep.signing_key = SnpSigningKey::none;

  const uint64_t p = rep.policy.raw;
  rep.policy.abi_minor = static_cast<uint8_t>(p & 0xFF);
  rep.policy.abi_major = static_cast<uint8_t>((p >> 8) & 0xFF);
  rep.policy.smt_allowed = (p >> 16) & 1;
  rep.policy.migrate_ma_allowed = (p >> 18) & 1;
  rep.policy.debug_allowed = (p >> 19) & 1;
  rep.policy.single_socket_required = (p >> 20) & 1;
  rep.policy.cxl_allowed = (p >> 21) & 1;
  rep.policy.mem_aes_256_xts = (p >> 22) & 1;
  rep.policy.rapl_disabled = (p >> 23) & 1;
  rep.policy.ciphertext_hiding = (p >> 24) & 1;
  rep.policy.page_swap_disabled = (p >> 25) & 1;

  const uint64_t pi = rep.platform_info.raw;
  rep.platform_info.smt_enabled = pi & 1;
  rep.platform_info.tsme_enabled = (pi >> 1) & 1;
  rep.platform_info.ecc_enabled = (pi >> 2) & 1;
  rep.platform_info.rapl_disabled = (pi >> 3) & 1;
  rep.platform_info.ciphertext_hiding_enabled = (pi >> 4) & 1;
  rep.platform_info.alias_check_complete = (pi >> 5) & 1;
  rep.platform_info.tio_enabled = (pi >> 7) & 1;

  // Which CPU: the report's CPUID fields (v3+) when they name a known product,
  // else the caller's, else Milan's layout (shared with Genoa).
  std::optional<SnpProduct> from_cpuid;
  if (rep.cpuid_fam_id) from_cpuid = product_from_cpuid(*rep.cpuid_fam_id, *rep.cpuid_mod_id);
  if (from_cpuid) {
    if (product && *product != *from_cpuid) {
      return malformed("CPUID_FAM_ID/CPUID_MOD_ID at offset 0x188 (" + hex2(*rep.cpuid_fam_id, 2) + "/" +
                       hex2(*rep.cpuid_mod_id, 2) + ") name " + std::string(product_name(*from_cpuid)) +
                       ", not the expected " + std::string(product_name(*product)));
    }
    rep.product = *from_cpuid;
    rep.product_from_cpuid = true;
  } else {
    rep.product = product.value_or(SnpProduct::milan);
  }
  rep.current_tcb = decode_snp_tcb(current_tcb, rep.product);
  rep.reported_tcb = decode_snp_tcb(reported_tcb, rep.product);
  rep.committed_tcb = decode_snp_tcb(committed_tcb, rep.product);
  rep.launch_tcb = decode_snp_tcb(launch_tcb, rep.product);
  return rep;
}

nlohmann::json tcb_json(const SnpTcb& t) {
  nlohmann::json j = {{"raw", hex2(t.raw, 16)},
                      {"bootloader", t.bootloader},
                      {"tee", t.tee},
                      {"snp", t.snp},
                      {"microcode", t.microcode}};
  if (t.fmc) j["fmc"] = *t.fmc;
  return j;
}

}  // namespace

std::string_view product_name(SnpProduct p) {
  switch (p) {
    case SnpProduct::milan: return "Milan";
    case SnpProduct::genoa: return "Genoa";
    case SnpProduct::turin: return "Turin";
  }
  return "?";
}

std::optional<SnpProduct> product_from_name(std::string_view s) {
  std::string lower(s);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (lower == "milan") return SnpProduct::milan;
  if (lower == "genoa") return SnpProduct::genoa;
  if (lower == "turin") return SnpProduct::turin;
  return std::nullopt;
}

SnpTcb decode_snp_tcb(uint64_t raw, SnpProduct product) {
  SnpTcb t;
  t.raw = raw;
  auto byte = [raw](int i) { return static_cast<uint8_t>((raw >> (8 * i)) & 0xFF); };
  if (product == SnpProduct::turin) {
    t.fmc = byte(0);
    t.bootloader = byte(1);
    t.tee = byte(2);
    t.snp = byte(3);
    t.microcode = byte(7);
  } else {
    t.bootloader = byte(0);
    t.tee = byte(1);
    t.snp = byte(6);
    t.microcode = byte(7);
  }
  return t;
}

Result<SnpReport> parse_snp_report(ByteView data, std::optional<SnpProduct> product) {
  return parse_impl(data, product);
}

nlohmann::json snp_report_json(const SnpReport& r) {
  auto hx = [](const auto& a) { return to_hex(ByteView(a.data(), a.size())); };
  nlohmann::json j;
  j["version"] = r.version;
  j["guest_svn"] = r.guest_svn;
  j["policy"] = {{"raw", hex2(r.policy.raw, 16)},
                 {"abi_major", r.policy.abi_major},
                 {"abi_minor", r.policy.abi_minor},
                 {"smt_allowed", r.policy.smt_allowed},
                 {"migrate_ma_allowed", r.policy.migrate_ma_allowed},
                 {"debug_allowed", r.policy.debug_allowed},
                 {"single_socket_required", r.policy.single_socket_required},
                 {"cxl_allowed", r.policy.cxl_allowed},
                 {"mem_aes_256_xts", r.policy.mem_aes_256_xts},
                 {"rapl_disabled", r.policy.rapl_disabled},
                 {"ciphertext_hiding", r.policy.ciphertext_hiding},
                 {"page_swap_disabled", r.policy.page_swap_disabled}};
  j["family_id"] = hx(r.family_id);
  j["image_id"] = hx(r.image_id);
  j["vmpl"] = r.vmpl;
  j["signature_algo"] = r.signature_algo;
  j["current_tcb"] = tcb_json(r.current_tcb);
  j["platform_info"] = {{"raw", hex2(r.platform_info.raw, 16)},
                        {"smt_enabled", r.platform_info.smt_enabled},
                        {"tsme_enabled", r.platform_info.tsme_enabled},
                        {"ecc_enabled", r.platform_info.ecc_enabled},
                        {"rapl_disabled", r.platform_info.rapl_disabled},
                        {"ciphertext_hiding_enabled", r.platform_info.ciphertext_hiding_enabled},
                        {"alias_check_complete", r.platform_info.alias_check_complete},
                        {"tio_enabled", r.platform_info.tio_enabled}};
  std::string key = "reserved";
  if (r.signing_key == SnpSigningKey::vcek) key = "vcek";
  else if (r.signing_key == SnpSigningKey::vlek) key = "vlek";
  else if (r.signing_key == SnpSigningKey::none) key = "none";
  j["key_info"] = {{"raw", hex2(r.key_info, 8)},
                   {"author_key_en", r.author_key_en},
                   {"mask_chip_key", r.mask_chip_key},
                   {"signing_key", key},
                   {"signing_key_raw", r.signing_key_raw}};
  j["report_data"] = hx(r.report_data);
  j["measurement"] = hx(r.measurement);
  j["host_data"] = hx(r.host_data);
  j["id_key_digest"] = hx(r.id_key_digest);
  j["author_key_digest"] = hx(r.author_key_digest);
  j["report_id"] = hx(r.report_id);
  j["report_id_ma"] = hx(r.report_id_ma);
  j["reported_tcb"] = tcb_json(r.reported_tcb);
  if (r.cpuid_fam_id) {
    j["cpuid_fam_id"] = hex2(*r.cpuid_fam_id, 2);
    j["cpuid_mod_id"] = hex2(*r.cpuid_mod_id, 2);
    j["cpuid_step"] = hex2(*r.cpuid_step, 2);
  }
  j["chip_id"] = hx(r.chip_id);
  j["committed_tcb"] = tcb_json(r.committed_tcb);
  j["current_version"] = std::to_string(r.current_major) + "." + std::to_string(r.current_minor) + "." +
                         std::to_string(r.current_build);
  j["committed_version"] = std::to_string(r.committed_major) + "." + std::to_string(r.committed_minor) + "." +
                           std::to_string(r.committed_build);
  j["launch_tcb"] = tcb_json(r.launch_tcb);
  if (r.launch_mit_vector) j["launch_mit_vector"] = hex2(*r.launch_mit_vector, 16);
  if (r.current_mit_vector) j["current_mit_vector"] = hex2(*r.current_mit_vector, 16);
  j["signature"] = {{"r", hx(r.signature_r)}, {"s", hx(r.signature_s)}};
  j["product"] = std::string(product_name(r.product));
  j["product_from_cpuid"] = r.product_from_cpuid;
  return j;
}

}  // namespace tl::tee
