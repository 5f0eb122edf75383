// The "tee" member of the agent's evidence (docs/evidence.md "tee"): what the
// agent encodes decodes to the same value, and hostile members are refused
// naming the field (tl_verify's strict decoder).
#include <gtest/gtest.h>

#include <string>

#include <nlohmann/json.hpp>

#include "token/base64url.h"
#include "verify/evidence.h"

namespace tl::verify {
namespace {

using nlohmann::json;

Evidence base() {
  Evidence e;
  e.vm_id = "vm-1";
  e.nonce = Bytes(32, 1);
  e.quote_attest = Bytes(100, 2);
  e.quote_signature = Bytes(256, 3);
  e.pcrs[crypto::HashAlg::sha256][0] = Bytes(32, 4);
  e.event_log = Bytes(10, 5);
  e.os.type = "Linux";
  e.os.distro = "Debian";
  return e;
}

TEST(TeeEvidence, RoundTripsWithAndWithoutOptionalMembers) {
  Evidence e = base();
  EXPECT_FALSE(encode_evidence(e).contains("tee"));
  auto plain = decode_evidence(encode_evidence(e));
  ASSERT_TRUE(plain.ok()) << plain.error().message;
  EXPECT_FALSE(plain->tee.has_value());

  e.tee = TeeEvidence{"az-snp-vtpm", Bytes(2600, 7), Bytes(1300, 8), std::nullopt};
  auto d = decode_evidence(encode_evidence(e));
  ASSERT_TRUE(d.ok()) << d.error().message;
  EXPECT_EQ(*d, e);
  e.tee = TeeEvidence{"az-tdx-vtpm", Bytes(2600, 7), std::nullopt, Bytes(5000, 9)};
  d = decode_evidence(encode_evidence(e));
  ASSERT_TRUE(d.ok()) << d.error().message;
  EXPECT_EQ(*d, e);
}

TEST(TeeEvidence, HostileMembersAreRefusedNamingTheField) {
  Evidence e = base();
  e.tee = TeeEvidence{"az-snp-vtpm", Bytes(64, 7), std::nullopt, std::nullopt};
  const json good = encode_evidence(e);
  auto refused = [&](const std::function<void(json&)>& edit, const std::string& text) {
    json j = good;
    edit(j);
    auto r = decode_evidence(j);
    ASSERT_FALSE(r.ok()) << "accepted: " << j["tee"].dump();
    EXPECT_EQ(r.error().reason, "evidence-malformed");
    EXPECT_NE(r.error().message.find(text), std::string::npos) << r.error().message;
  };
  refused([](json& j) { j["tee"] = "x"; }, "tee");
  refused([](json& j) { j["tee"]["extra"] = 1; }, "tee.extra");
  refused([](json& j) { j["tee"].erase("type"); }, "tee.type");
  refused([](json& j) { j["tee"].erase("hclReport"); }, "tee.hclReport");
  refused([](json& j) { j["tee"]["type"] = "sev-snp"; }, "tee.type");
  refused([](json& j) { j["tee"]["type"] = 1; }, "tee.type");
  refused([](json& j) { j["tee"]["hclReport"] = "not base64url!"; }, "tee.hclReport");
  refused([](json& j) { j["tee"]["hclReport"] = ""; }, "tee.hclReport");
  refused([](json& j) { j["tee"]["hclReport"] = std::string(30000, 'A'); }, "tee.hclReport");
  refused([](json& j) { j["tee"]["vcek"] = std::string(20000, 'A'); }, "tee.vcek");
  refused([](json& j) { j["tee"]["tdQuote"] = 5; }, "tee.tdQuote");
  refused([](json& j) { j["tee"]["vcek"] = "QUJD="; }, "tee.vcek");  // padding is not base64url
}

}  // namespace
}  // namespace tl::verify
