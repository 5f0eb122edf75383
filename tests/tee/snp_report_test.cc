// SEV-SNP report parsing (real vectors and hostile inputs) and the extended
// report's certificate table.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "common/byte_reader.h"
#include "snp_test_util.h"
#include "tee/snp_certs.h"
#include "tee/snp_report.h"

namespace tl::tee {
namespace {
using namespace snptest;

#define TL_MILAN(r)                                                                            \
  TL_REQUIRE_VECTOR(milan_hex_, "cvm/virtee-milan-report/report_milan.hex");                   \
  Bytes r = hex_file(milan_hex_);                                                              \
  ASSERT_EQ(r.size(), kSnpReportSize)

void put_u32(Bytes& b, size_t off, uint32_t v) {
  for (int i = 0; i < 4; ++i) b[off + static_cast<size_t>(i)] = static_cast<uint8_t>(v >> (8 * i));
}
void put_u64(Bytes& b, size_t off, uint64_t v) {
  for (int i = 0; i < 8; ++i) b[off + static_cast<size_t>(i)] = static_cast<uint8_t>(v >> (8 * i));
}

TEST(SnpReportParse, MilanVectorFields) {
  TL_MILAN(raw);
  auto r = parse_snp_report(raw);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->version, 2u);
  EXPECT_EQ(r->signature_algo, 1u);
  auto le32 = [&](size_t o) {
    return uint32_t{raw[o]} | uint32_t{raw[o + 1]} << 8 | uint32_t{raw[o + 2]} << 16 | uint32_t{raw[o + 3]} << 24;
  };
  EXPECT_EQ(r->vmpl, le32(0x30));
  EXPECT_EQ(r->guest_svn, le32(0x04));
  EXPECT_FALSE(r->cpuid_fam_id.has_value());
  EXPECT_FALSE(r->product_from_cpuid);
  EXPECT_EQ(r->product, SnpProduct::milan);
  EXPECT_EQ(r->signing_key, SnpSigningKey::vcek);
  EXPECT_EQ(r->policy.raw, 0x30000u);
  EXPECT_TRUE(r->policy.smt_allowed);
  EXPECT_FALSE(r->policy.debug_allowed);
  EXPECT_FALSE(r->policy.migrate_ma_allowed);
  // Fields at their offsets, against the raw bytes.
  EXPECT_TRUE(std::equal(r->measurement.begin(), r->measurement.end(), raw.begin() + 0x90));
  EXPECT_TRUE(std::equal(r->chip_id.begin(), r->chip_id.end(), raw.begin() + 0x1A0));
  EXPECT_TRUE(std::equal(r->report_data.begin(), r->report_data.end(), raw.begin() + 0x50));
  EXPECT_TRUE(std::equal(r->signature_r.begin(), r->signature_r.end(), raw.begin() + 0x2A0));
  EXPECT_TRUE(std::equal(r->signature_s.begin(), r->signature_s.end(), raw.begin() + 0x2A0 + 72));
  uint64_t tcb = 0;
  for (int i = 7; i >= 0; --i) tcb = (tcb << 8) | raw[0x180 + static_cast<size_t>(i)];
  EXPECT_EQ(r->reported_tcb.raw, tcb);
  EXPECT_EQ(r->reported_tcb.bootloader, raw[0x180]);
  EXPECT_EQ(r->reported_tcb.tee, raw[0x181]);
  EXPECT_EQ(r->reported_tcb.snp, raw[0x186]);
  EXPECT_EQ(r->reported_tcb.microcode, raw[0x187]);
  EXPECT_FALSE(r->reported_tcb.fmc.has_value());
}

TEST(SnpReportParse, PolicyAndKeyInfoBits) {
  TL_MILAN(raw);
  put_u64(raw, 0x08, (1ull << 19) | (1ull << 18) | (1ull << 20) | (1ull << 21) | (1ull << 22) | (1ull << 23) |
                         (1ull << 24) | (1ull << 25) | 0x0203);
  put_u32(raw, 0x48, 0x1 | 0x2 | (1u << 2));
  put_u64(raw, 0x40, 0xBF);
  auto r = parse_snp_report(raw);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_TRUE(r->policy.debug_allowed);
  EXPECT_TRUE(r->policy.migrate_ma_allowed);
  EXPECT_TRUE(r->policy.single_socket_required);
  EXPECT_TRUE(r->policy.cxl_allowed);
  EXPECT_TRUE(r->policy.mem_aes_256_xts);
  EXPECT_TRUE(r->policy.rapl_disabled);
  EXPECT_TRUE(r->policy.ciphertext_hiding);
  EXPECT_TRUE(r->policy.page_swap_disabled);
  EXPECT_FALSE(r->policy.smt_allowed);
  EXPECT_EQ(r->policy.abi_major, 2);
  EXPECT_EQ(r->policy.abi_minor, 3);
  EXPECT_TRUE(r->author_key_en);
  EXPECT_TRUE(r->mask_chip_key);
  EXPECT_EQ(r->signing_key, SnpSigningKey::vlek);
  EXPECT_TRUE(r->platform_info.smt_enabled && r->platform_info.tsme_enabled && r->platform_info.ecc_enabled &&
              r->platform_info.rapl_disabled && r->platform_info.ciphertext_hiding_enabled &&
              r->platform_info.alias_check_complete && r->platform_info.tio_enabled);
  for (uint32_t k = 0; k < 8; ++k) {
    put_u32(raw, 0x48, k << 2);
    auto q = parse_snp_report(raw);
    ASSERT_TRUE(q.ok());
    EXPECT_EQ(q->signing_key_raw, k);
    if (k == 0) {
      EXPECT_EQ(q->signing_key, SnpSigningKey::vcek);
    } else if (k == 1) {
      EXPECT_EQ(q->signing_key, SnpSigningKey::vlek);
    } else if (k == 7) {
      EXPECT_EQ(q->signing_key, SnpSigningKey::none);
    } else {
      EXPECT_FALSE(q->signing_key.has_value()) << k;  // reserved values
    }
  }
}

TEST(SnpReportParse, ProductFromCpuidAndTurinTcbLayout) {
  TL_MILAN(raw);
  put_u32(raw, 0, 3);
  struct Case {
    uint8_t fam, mod;
    std::optional<SnpProduct> want;
  } cases[] = {{0x19, 0x01, SnpProduct::milan}, {0x19, 0x0F, SnpProduct::milan}, {0x19, 0x11, SnpProduct::genoa},
               {0x19, 0xA0, SnpProduct::genoa}, {0x19, 0xAF, SnpProduct::genoa}, {0x1A, 0x02, SnpProduct::turin},
               {0x1A, 0x11, SnpProduct::turin}, {0x19, 0x20, std::nullopt}, {0x1A, 0x12, std::nullopt},
               {0x17, 0x01, std::nullopt}};
  for (const auto& c : cases) {
    raw[0x188] = c.fam;
    raw[0x189] = c.mod;
    auto r = parse_snp_report(raw);
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(r->product_from_cpuid, c.want.has_value()) << int(c.fam) << "/" << int(c.mod);
    if (c.want) {
      EXPECT_EQ(r->product, *c.want);
    }
    EXPECT_EQ(r->cpuid_fam_id, c.fam);
  }
  // Turin: fmc, bootloader, tee, snp in bytes 0..3, microcode in byte 7.
  raw[0x188] = 0x1A;
  raw[0x189] = 0x02;
  put_u64(raw, 0x180, 0x4800000003020105ull);
  auto t = parse_snp_report(raw);
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->reported_tcb.fmc, 5);
  EXPECT_EQ(t->reported_tcb.bootloader, 1);
  EXPECT_EQ(t->reported_tcb.tee, 2);
  EXPECT_EQ(t->reported_tcb.snp, 3);
  EXPECT_EQ(t->reported_tcb.microcode, 0x48);
  // A caller that expects another product than the CPUID names is refused.
  auto bad = parse_snp_report(raw, SnpProduct::genoa);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().reason, "snp-report-malformed");
  EXPECT_NE(bad.error().message.find("CPUID"), std::string::npos);
  // A v2 report takes the caller's layout.
  put_u32(raw, 0, 2);
  raw[0x188] = raw[0x189] = raw[0x18A] = 0;
  auto v2 = parse_snp_report(raw, SnpProduct::turin);
  ASSERT_TRUE(v2.ok()) << v2.error().message;
  EXPECT_EQ(v2->product, SnpProduct::turin);
  EXPECT_EQ(v2->reported_tcb.fmc, 5);
}

TEST(SnpReportParse, Version5MitigationVectors) {
  TL_MILAN(raw);
  put_u32(raw, 0, 5);
  put_u64(raw, 0x1F8, 0x1122);
  put_u64(raw, 0x200, 0x3344);
  auto r = parse_snp_report(raw);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->launch_mit_vector, 0x1122u);
  EXPECT_EQ(r->current_mit_vector, 0x3344u);
  // In a v4 report those bytes are reserved.
  put_u32(raw, 0, 4);
  auto v4 = parse_snp_report(raw);
  ASSERT_FALSE(v4.ok());
  EXPECT_NE(v4.error().message.find("0x1f8"), std::string::npos) << v4.error().message;
}

TEST(SnpReportParse, EveryTruncationAndWrongSizeIsRefused) {
  TL_MILAN(raw);
  for (size_t n = 0; n < kSnpReportSize; ++n) {
    auto r = parse_snp_report(ByteView(raw.data(), n));
    ASSERT_FALSE(r.ok()) << n;
    EXPECT_EQ(r.error().reason, "snp-report-malformed");
  }
  Bytes longer = raw;
  longer.push_back(0);
  auto r = parse_snp_report(longer);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("1185"), std::string::npos);
  EXPECT_FALSE(parse_snp_report(ByteView(raw.data(), 1183)).ok());
}

TEST(SnpReportParse, BadVersionsAreRefused) {
  TL_MILAN(raw);
  for (uint32_t v : {0u, 1u, 6u, 7u, 0xFFFFFFFFu}) {
    put_u32(raw, 0, v);
    auto r = parse_snp_report(raw);
    ASSERT_FALSE(r.ok()) << v;
    EXPECT_NE(r.error().message.find("VERSION"), std::string::npos);
    EXPECT_EQ(r.error().reason, "snp-report-malformed");
  }
}

TEST(SnpReportParse, NonZeroReservedBytesAreRefusedWithTheirOffset) {
  TL_MILAN(raw);
  for (size_t off : {size_t{0x4C}, size_t{0x18B}, size_t{0x19F}, size_t{0x1EB}, size_t{0x1EF}, size_t{0x1F8},
                     size_t{0x29F}}) {
    Bytes b = raw;
    b[off] = 1;
    auto r = parse_snp_report(b);
    ASSERT_FALSE(r.ok()) << std::hex << off;
    EXPECT_NE(r.error().message.find(hex_offset(off)), std::string::npos) << r.error().message;
  }
  // v2: the CPUID bytes are reserved too.
  Bytes b = raw;
  b[0x188] = 0x19;
  EXPECT_FALSE(parse_snp_report(b).ok());
}

TEST(SnpReportParse, JsonHasEveryField) {
  TL_MILAN(raw);
  auto r = parse_snp_report(raw);
  ASSERT_TRUE(r.ok());
  auto j = snp_report_json(*r);
  for (const char* k : {"version", "guest_svn", "policy", "family_id", "image_id", "vmpl", "signature_algo",
                        "current_tcb", "platform_info", "key_info", "report_data", "measurement", "host_data",
                        "id_key_digest", "author_key_digest", "report_id", "report_id_ma", "reported_tcb", "chip_id",
                        "committed_tcb", "current_version", "committed_version", "launch_tcb", "signature", "product"}) {
    EXPECT_TRUE(j.contains(k)) << k;
  }
  EXPECT_EQ(j["measurement"], to_hex(ByteView(raw.data() + 0x90, 48)));
  EXPECT_EQ(j["key_info"]["signing_key"], "vcek");
  EXPECT_EQ(j["product"], "Milan");
}

TEST(SnpReportParse, ProductNames) {
  EXPECT_EQ(product_from_name("GENOA"), SnpProduct::genoa);
  EXPECT_EQ(product_from_name("turin"), SnpProduct::turin);
  EXPECT_EQ(product_from_name("Milan"), SnpProduct::milan);
  EXPECT_FALSE(product_from_name("Rome").has_value());
  EXPECT_EQ(product_name(SnpProduct::genoa), "Genoa");
}

// ---- certificate table

const uint8_t kVcekGuid[16] = {0x63, 0xda, 0x75, 0x8d, 0xe6, 0x64, 0x45, 0x64,
                               0xad, 0xc5, 0xf4, 0xb9, 0x3b, 0xe8, 0xac, 0xcd};
const uint8_t kVlekGuid[16] = {0xa8, 0x07, 0x4b, 0xc2, 0xa2, 0x5a, 0x48, 0x3e,
                               0xaa, 0xe6, 0x39, 0xc0, 0x45, 0xa0, 0xb8, 0xa1};
const uint8_t kAskGuid[16] = {0x4a, 0xb7, 0xb3, 0x79, 0xbb, 0xac, 0x4f, 0xe4,
                              0xa0, 0x2f, 0x05, 0xae, 0xf3, 0x27, 0xc7, 0x82};
const uint8_t kArkGuid[16] = {0xc0, 0xb4, 0x06, 0xa4, 0xa8, 0x03, 0x49, 0x52,
                              0x97, 0x43, 0x3f, 0xb6, 0x01, 0x4c, 0xd0, 0xae};
const uint8_t kCrlGuid[16] = {0x92, 0xf8, 0x1b, 0xc3, 0x58, 0x11, 0x4d, 0x3d,
                              0x97, 0xff, 0xd1, 0x9f, 0x88, 0xdc, 0x67, 0xea};

struct TableEntry {
  const uint8_t* guid;
  Bytes body;
};

// A table laid out as the host does: entries, terminator, then the bodies.
Bytes make_table(const std::vector<TableEntry>& entries) {
  Bytes t((entries.size() + 1) * 24, 0);
  size_t off = t.size();
  for (size_t i = 0; i < entries.size(); ++i) {
    std::copy(entries[i].guid, entries[i].guid + 16, t.begin() + static_cast<long>(i * 24));
    put_u32(t, i * 24 + 16, static_cast<uint32_t>(off));
    put_u32(t, i * 24 + 20, static_cast<uint32_t>(entries[i].body.size()));
    off += entries[i].body.size();
  }
  for (const auto& e : entries) t.insert(t.end(), e.body.begin(), e.body.end());
  return t;
}

TEST(SnpCertTable, ParsesVcekAskArkAndSkipsUnknownGuids) {
  Bytes vcek(100, 0xA1), ask(50, 0xA2), ark(60, 0xA3), crl(10, 0xA4);
  auto t = make_table({{kVcekGuid, vcek}, {kCrlGuid, crl}, {kAskGuid, ask}, {kArkGuid, ark}});
  auto c = parse_snp_cert_table(t);
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->vcek, vcek);
  EXPECT_EQ(c->ask, ask);
  EXPECT_EQ(c->ark, ark);
  // A VLEK table fills the leaf slot.
  auto v = parse_snp_cert_table(make_table({{kVlekGuid, vcek}}));
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->vcek, vcek);
  EXPECT_TRUE(v->ask.empty());
  // Only a terminator: no certificates.
  auto empty = parse_snp_cert_table(Bytes(24, 0));
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->vcek.empty());
}

TEST(SnpCertTable, RealVcekTableParses) {
  TL_REQUIRE_VECTOR(dir, "cvm/virtee-milan-report");
  const Bytes vcek = test::read_file(dir / "vcek_milan.der");
  const Bytes ask = first_der(test::read_file(dir / "ask.pem"));
  auto c = parse_snp_cert_table(make_table({{kArkGuid, first_der(test::read_file(dir / "ark.pem"))},
                                            {kAskGuid, ask},
                                            {kVcekGuid, vcek}}));
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->vcek, vcek);
  EXPECT_EQ(c->ask, ask);
}

void expect_table_error(const Bytes& t, std::string_view needle) {
  auto c = parse_snp_cert_table(t);
  ASSERT_FALSE(c.ok()) << needle;
  EXPECT_EQ(c.error().reason, "snp-cert-table-malformed");
  EXPECT_NE(c.error().message.find(needle), std::string::npos) << c.error().message;
}

TEST(SnpCertTable, HostileTablesAreRefused) {
  Bytes body(40, 0x55);
  const Bytes good = make_table({{kVcekGuid, body}, {kAskGuid, body}});
  // No terminator.
  expect_table_error(Bytes(good.begin(), good.begin() + 48), "terminating");
  expect_table_error(Bytes{}, "terminating");
  // Truncated at every length: never parses, never crashes.
  for (size_t n = 0; n < good.size(); ++n) {
    EXPECT_FALSE(parse_snp_cert_table(ByteView(good.data(), n)).ok()) << n;
  }
  // Offset past the end.
  Bytes t = good;
  put_u32(t, 16, static_cast<uint32_t>(t.size()));
  expect_table_error(t, "past the table end");
  // Huge length (offset + length overflows 32 bits).
  t = good;
  put_u32(t, 20, 0xFFFFFFFFu);
  expect_table_error(t, "past the table end");
  t = good;
  put_u32(t, 16, 0xFFFFFFF0u);
  put_u32(t, 20, 0x100u);
  expect_table_error(t, "past the table end");
  // Offset inside the entry list.
  t = good;
  put_u32(t, 16, 8);
  expect_table_error(t, "inside the entry list");
  // Overlapping certificates.
  t = good;
  put_u32(t, 24 + 16, 72 + 10);
  expect_table_error(t, "overlap");
  // Zero length.
  t = good;
  put_u32(t, 20, 0);
  expect_table_error(t, "length 0");
  // Two VCEKs; a VCEK and a VLEK.
  expect_table_error(make_table({{kVcekGuid, body}, {kVcekGuid, body}}), "second VCEK");
  expect_table_error(make_table({{kVcekGuid, body}, {kVlekGuid, body}}), "both a VCEK and a VLEK");
  // A terminator with a non-zero offset.
  t = make_table({});
  put_u32(t, 16, 5);
  expect_table_error(t, "terminating entry");
}

}  // namespace
}  // namespace tl::tee
