// TDX quote v4/v5 and TDREPORT parsing: the vector quotes, the upstream
// mutations of go-tdx-guest, and hostile inputs.
#include <gtest/gtest.h>

#include <string>

#include "support/test_support.h"
#include "tdx_test_util.h"
#include "tee/tdx_quote.h"

namespace tl::tee {
namespace {

using namespace testutil;

Bytes load(const std::filesystem::path& p) { return tl::test::read_file(p); }

TEST(TdxQuoteParse, V5SampleIsTd15AndReserialisesExactly) {
  TL_REQUIRE_VECTOR(path, kV5Quote);
  const Bytes raw = load(path);
  auto q = parse_tdx_quote(raw);
  ASSERT_TRUE(q.ok()) << q.error().message;
  EXPECT_EQ(q->header.version, 5);
  EXPECT_EQ(q->header.tee_type, 0x81u);
  EXPECT_EQ(q->header.attestation_key_type, 2);
  EXPECT_EQ(q->body_type, TdBodyType::td15);
  EXPECT_TRUE(q->body.tee_tcb_svn2.has_value());
  EXPECT_TRUE(q->body.mr_service_td.has_value());
  EXPECT_EQ(q->signed_data.size(), 48u + 6u + 648u);
  EXPECT_EQ(q->pck_cert_data_type, 5);
  EXPECT_EQ(q->qe_auth_data.size(), 32u);
  EXPECT_EQ(q->size, raw.size());
  EXPECT_EQ(q->trailing_bytes, 0u);
  EXPECT_EQ(to_hex(q->body.tee_tcb_svn), "0b010400000000000000000000000000");
  EXPECT_EQ(serialize_tdx_quote(*q), raw);
}

TEST(TdxQuoteParse, V4TrusteeQuoteIsTd10WithTrailingBytes) {
  TL_REQUIRE_VECTOR(path, kV4Quote);
  const Bytes raw = load(path);
  auto q = parse_tdx_quote(raw);
  ASSERT_TRUE(q.ok()) << q.error().message;
  EXPECT_EQ(q->header.version, 4);
  EXPECT_EQ(q->body_type, TdBodyType::td10);
  EXPECT_FALSE(q->body.tee_tcb_svn2.has_value());
  EXPECT_EQ(q->signed_data.size(), 48u + 584u);
  const Layout l = layout(raw);
  EXPECT_EQ(q->size, l.end);
  EXPECT_EQ(q->trailing_bytes, raw.size() - l.end);
  EXPECT_GT(q->trailing_bytes, 0u);
  EXPECT_EQ(serialize_tdx_quote(*q), Bytes(raw.begin(), raw.begin() + static_cast<std::ptrdiff_t>(l.end)));
  // REPORTDATA is the last 64 bytes of the TD 1.0 body.
  EXPECT_EQ(to_hex(q->body.report_data), to_hex(ByteView(raw).subspan(48 + 584 - 64, 64)));
}

TEST(TdxQuoteParse, TrailingBytesTolerated) {
  TL_REQUIRE_VECTOR(path, kV5Quote);
  Bytes raw = load(path);
  const size_t n = raw.size();
  raw.resize(n + 100, 0xAB);
  auto q = parse_tdx_quote(raw);
  ASSERT_TRUE(q.ok()) << q.error().message;
  EXPECT_EQ(q->trailing_bytes, 100u);
  EXPECT_EQ(serialize_tdx_quote(*q).size(), n);
}

// go-tdx-guest's four mutations: each fails with its own message.
TEST(TdxQuoteParse, UpstreamMutationsFailEachWithItsOwnMessage) {
  TL_REQUIRE_VECTOR(path, kV5Quote);
  const Bytes raw = load(path);
  Bytes truncated(raw.begin(), raw.begin() + 100);
  Bytes type1 = raw;
  put_le16(type1, 48, 1);
  Bytes size999 = raw;
  put_le32(size999, 50, 999);
  Bytes type2 = raw;
  put_le16(type2, 48, 2);
  const std::pair<Bytes*, std::string> cases[] = {
      {&truncated, "raw quote size is 100 bytes, a v5 TDX quote is at least 1232 bytes"},
      {&type1, "unsupported TD quote body type 1"},
      {&size999, "TD quote body size is 999, a v5 TDX 1.5 quote body is 648 bytes"},
      {&type2, "TD quote body size is 648, a v5 TDX 1.0 quote body is 584 bytes"},
  };
  for (const auto& [bytes, message] : cases) {
    auto q = parse_tdx_quote(*bytes);
    ASSERT_FALSE(q.ok()) << message;
    EXPECT_NE(q.error().message.find(message), std::string::npos) << q.error().message;
    EXPECT_EQ(q.error().reason, "tdx-quote-malformed");
  }
}

TEST(TdxQuoteParse, TruncatedAtEveryLengthFails) {
  for (const char* v : {kV5Quote, kV4Quote}) {
    TL_REQUIRE_VECTOR(path, v);
    const Bytes raw = load(path);
    const size_t end = layout(raw).end;
    for (size_t n = 0; n < end; ++n) {
      auto q = parse_tdx_quote(ByteView(raw).first(n));
      ASSERT_FALSE(q.ok()) << v << " truncated to " << n;
      EXPECT_EQ(q.error().reason, "tdx-quote-malformed");
    }
  }
}

TEST(TdxQuoteParse, OversizedLengthFieldsNameTheField) {
  TL_REQUIRE_VECTOR(path, kV5Quote);
  const Bytes raw = load(path);
  const Layout l = layout(raw);
  struct Case {
    size_t at;
    int width;
    uint32_t value;
    std::string expect;
  };
  const Case cases[] = {
      {l.sig_len_at, 4, 0xFFFFFFF0u, "quote signature data length"},
      {l.sig_len_at, 4, le32(raw, l.sig_len_at) + 1, "quote signature data length"},
      {l.cert_size_at, 4, 0x7FFFFFFFu, "certification data size"},
      {l.cert_size_at, 4, le32(raw, l.cert_size_at) - 1, "certification data size"},
      {l.auth_size_at, 2, 0xFFFF, "QE auth data size"},
      {l.inner_size_at, 4, 0xFFFFFFFFu, "PCK certification data size"},
      {l.inner_size_at, 4, le32(raw, l.inner_size_at) - 1, "PCK certification data size"},
  };
  for (const auto& c : cases) {
    Bytes m = raw;
    if (c.width == 2) put_le16(m, c.at, static_cast<uint16_t>(c.value));
    else put_le32(m, c.at, c.value);
    auto q = parse_tdx_quote(m);
    ASSERT_FALSE(q.ok()) << c.expect;
    EXPECT_NE(q.error().message.find(c.expect), std::string::npos) << q.error().message;
  }
}

TEST(TdxQuoteParse, WrongVersionTeeTypeKeyTypeAndCertTypeRefused) {
  TL_REQUIRE_VECTOR(path, kV5Quote);
  const Bytes raw = load(path);
  const Layout l = layout(raw);
  struct Case {
    size_t at;
    int width;
    uint32_t value;
    std::string expect;
  };
  const Case cases[] = {
      {0, 2, 3, "unsupported TDX quote version 3"},
      {0, 2, 6, "unsupported TDX quote version 6"},
      {2, 2, 3, "unsupported attestation key type 3"},
      {4, 4, 0, "is not TDX (0x81)"},
      {l.cert_type_at, 2, 5, "unsupported certification data type 5"},
  };
  for (const auto& c : cases) {
    Bytes m = raw;
    if (c.width == 2) put_le16(m, c.at, static_cast<uint16_t>(c.value));
    else put_le32(m, c.at, c.value);
    auto q = parse_tdx_quote(m);
    ASSERT_FALSE(q.ok()) << c.expect;
    EXPECT_NE(q.error().message.find(c.expect), std::string::npos) << q.error().message;
  }
  // A v5 quote relabelled v4 parses its descriptor as body bytes and then
  // misreads the signature data: refused, never read out of bounds.
  Bytes v4 = raw;
  put_le16(v4, 0, 4);
  EXPECT_FALSE(parse_tdx_quote(v4).ok());
}

TEST(TdxQuoteParse, JsonNamesTheFields) {
  TL_REQUIRE_VECTOR(path, kV5Quote);
  auto q = parse_tdx_quote(load(path));
  ASSERT_TRUE(q.ok());
  const auto j = tdx_quote_json(*q);
  EXPECT_EQ(j["version"], 5);
  EXPECT_EQ(j["body_type"], 3);
  EXPECT_EQ(j["body"]["rtmr"].size(), 4u);
  EXPECT_EQ(j["body"]["mr_td"], to_hex(q->body.mr_td));
  EXPECT_EQ(j["body"]["debug"], q->body.debug());
  EXPECT_TRUE(j["body"].contains("mr_service_td"));
  EXPECT_EQ(j["qe_report"]["isv_svn"], q->qe_report.isv_svn);
}

// The TDREPORT inside Azure's HCL report (offset 32) describes the same TD as
// the quote the platform made from it.
TEST(TdReportParse, HclReportTdReportMatchesTheQuote) {
  TL_REQUIRE_VECTOR(hcl_path, kHclReport);
  TL_REQUIRE_VECTOR(quote_path, kV4Quote);
  const Bytes hcl = load(hcl_path);
  auto q = parse_tdx_quote(load(quote_path));
  ASSERT_TRUE(q.ok());
  ASSERT_GE(hcl.size(), 32 + kTdReportSize);
  auto r = parse_td_report(ByteView(hcl).subspan(32, kTdReportSize));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->report_type, 0x81);
  EXPECT_EQ(to_hex(r->report_data), to_hex(q->body.report_data));
  EXPECT_EQ(to_hex(r->mr_td), to_hex(q->body.mr_td));
  for (size_t i = 0; i < 4; ++i) EXPECT_EQ(to_hex(r->rtmr[i]), to_hex(q->body.rtmr[i])) << "RTMR" << i;
  EXPECT_EQ(to_hex(r->tee_tcb_svn), to_hex(q->body.tee_tcb_svn));
  EXPECT_EQ(to_hex(r->mr_seam), to_hex(q->body.mr_seam));
  EXPECT_EQ(r->td_attributes, q->body.td_attributes);
  EXPECT_EQ(r->xfam, q->body.xfam);
  EXPECT_EQ(to_hex(r->mr_config_id), to_hex(q->body.mr_config_id));
  EXPECT_EQ(to_hex(r->mr_owner), to_hex(q->body.mr_owner));
}

TEST(TdReportParse, WrongSizeOrTypeRefused) {
  TL_REQUIRE_VECTOR(hcl_path, kHclReport);
  const Bytes hcl = load(hcl_path);
  const ByteView report = ByteView(hcl).subspan(32, kTdReportSize);
  for (size_t n : {size_t{0}, size_t{1}, size_t{255}, kTdReportSize - 1}) {
    auto r = parse_td_report(report.first(n));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().reason, "td-report-malformed");
  }
  Bytes longer(report.begin(), report.end());
  longer.push_back(0);
  EXPECT_FALSE(parse_td_report(longer).ok());
  Bytes sgx(report.begin(), report.end());
  sgx[0] = 0x00;
  auto r = parse_td_report(sgx);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("not TDX"), std::string::npos);
}

}  // namespace
}  // namespace tl::tee
