// CCEL parsing and RTMR replay on logs built here (there is no real CCEL
// vector); the expected RTMRs are computed independently with OpenSSL EVP.
#include <gtest/gtest.h>

#include <openssl/evp.h>

#include <cstring>
#include <string>

#include "tee/ccel.h"

namespace tl::tee {
namespace {

void u16(Bytes& b, uint16_t v) {
  b.push_back(static_cast<uint8_t>(v));
  b.push_back(static_cast<uint8_t>(v >> 8));
}
void u32(Bytes& b, uint32_t v) {
  for (int i = 0; i < 4; ++i) b.push_back(static_cast<uint8_t>(v >> (8 * i)));
}

Bytes evp(const EVP_MD* md, ByteView data) {
  Bytes out(EVP_MAX_MD_SIZE);
  unsigned int n = 0;
  EVP_Digest(data.data(), data.size(), out.data(), &n, md, nullptr);
  out.resize(n);
  return out;
}

struct Alg {
  uint16_t id;
  uint16_t size;
};
const Alg kSha256{0x000B, 32};
const Alg kSha384{0x000C, 48};

Bytes header(const std::vector<Alg>& algs) {
  Bytes spec;
  const char sig[] = "Spec ID Event03";
  spec.insert(spec.end(), sig, sig + 16);
  u32(spec, 0);         // platform class
  spec.push_back(0);    // minor
  spec.push_back(2);    // major
  spec.push_back(0);    // errata
  spec.push_back(2);    // uintn size
  u32(spec, static_cast<uint32_t>(algs.size()));
  for (const auto& a : algs) {
    u16(spec, a.id);
    u16(spec, a.size);
  }
  spec.push_back(0);  // vendor info size
  Bytes b;
  u32(b, 0);
  u32(b, 3);  // EV_NO_ACTION
  b.insert(b.end(), 20, 0);
  u32(b, static_cast<uint32_t>(spec.size()));
  b.insert(b.end(), spec.begin(), spec.end());
  return b;
}

// One event; digests are the hashes of `data` under each algorithm.
void event(Bytes& log, const std::vector<Alg>& algs, uint32_t mr, uint32_t type, const std::string& data) {
  u32(log, mr);
  u32(log, type);
  u32(log, static_cast<uint32_t>(algs.size()));
  for (const auto& a : algs) {
    u16(log, a.id);
    const EVP_MD* md = a.id == kSha384.id ? EVP_sha384() : EVP_sha256();
    const Bytes d = evp(md, ByteView(reinterpret_cast<const uint8_t*>(data.data()), data.size()));
    log.insert(log.end(), d.begin(), d.end());
  }
  u32(log, static_cast<uint32_t>(data.size()));
  log.insert(log.end(), data.begin(), data.end());
}

// RTMR[mr-1] = SHA-384(RTMR || SHA-384(data)), computed without the code under test.
void extend(std::array<Mr48, 4>& rtmr, uint32_t mr, const std::string& data) {
  const Bytes d = evp(EVP_sha384(), ByteView(reinterpret_cast<const uint8_t*>(data.data()), data.size()));
  Bytes buf(rtmr[mr - 1].begin(), rtmr[mr - 1].end());
  buf.insert(buf.end(), d.begin(), d.end());
  const Bytes n = evp(EVP_sha384(), buf);
  std::copy(n.begin(), n.end(), rtmr[mr - 1].begin());
}

struct Built {
  Bytes log;
  std::array<Mr48, 4> expected{};
};

Built sample(const std::vector<Alg>& algs = {kSha256, kSha384}) {
  Built b;
  b.log = header(algs);
  const std::pair<uint32_t, std::string> events[] = {
      {1, "td-hob"}, {1, "cfv"}, {2, "kernel"}, {3, "initrd"}, {2, "cmdline"}, {4, "app"}};
  for (const auto& [mr, data] : events) {
    event(b.log, algs, mr, 0x80000001, data);
    extend(b.expected, mr, data);
  }
  event(b.log, algs, 1, 3, "no action: not extended");
  return b;
}

TEST(Ccel, ReplayMatchesIndependentComputation) {
  const Built b = sample();
  auto log = parse_ccel(b.log);
  ASSERT_TRUE(log.ok()) << log.error().message;
  EXPECT_EQ(log->events.size(), 7u);
  EXPECT_EQ(log->events[0].index, 1u);
  EXPECT_EQ(log->events[2].mr_index, 2u);
  EXPECT_EQ(std::string(log->events[2].data.begin(), log->events[2].data.end()), "kernel");
  const auto rtmr = replay_rtmrs(*log);
  for (size_t i = 0; i < 4; ++i) EXPECT_EQ(to_hex(rtmr[i]), to_hex(b.expected[i])) << "RTMR" << i;
  TdQuoteBody body;
  body.rtmr = b.expected;
  EXPECT_TRUE(check_ccel_replay(*log, body).ok());
}

TEST(Ccel, Sha384OnlyAndOtherAlgorithmOrdersParse) {
  for (const auto& algs : {std::vector<Alg>{kSha384}, std::vector<Alg>{kSha384, kSha256}}) {
    const Built b = sample(algs);
    auto log = parse_ccel(b.log);
    ASSERT_TRUE(log.ok()) << log.error().message;
    const auto rtmr = replay_rtmrs(*log);
    EXPECT_EQ(to_hex(rtmr[1]), to_hex(b.expected[1]));
  }
}

TEST(Ccel, MismatchNamesTheRtmrAndBothValues) {
  const Built b = sample();
  auto log = parse_ccel(b.log);
  ASSERT_TRUE(log.ok());
  TdQuoteBody body;
  body.rtmr = b.expected;
  body.rtmr[2][7] ^= 1;
  auto s = check_ccel_replay(*log, body);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().reason, "ccel-replay-mismatch");
  EXPECT_NE(s.error().message.find("RTMR2"), std::string::npos);
  EXPECT_NE(s.error().message.find(to_hex(b.expected[2])), std::string::npos);
  EXPECT_NE(s.error().message.find(to_hex(body.rtmr[2])), std::string::npos);
}

TEST(Ccel, AcpiPaddingAccepted) {
  for (uint8_t fill : {uint8_t{0xFF}, uint8_t{0x00}}) {
    Built b = sample();
    b.log.insert(b.log.end(), 4096, fill);
    auto log = parse_ccel(b.log);
    ASSERT_TRUE(log.ok()) << log.error().message;
    EXPECT_EQ(log->events.size(), 7u);
  }
}

TEST(Ccel, TruncatedAtEveryLengthNeverParsesAsTheFullLog) {
  const Built b = sample();
  for (size_t n = 0; n < b.log.size(); ++n) {
    auto log = parse_ccel(ByteView(b.log).first(n));
    // A cut exactly between events is a shorter valid log; any other cut fails.
    if (log.ok()) {
      EXPECT_LT(log->events.size(), 7u) << n;
    } else {
      EXPECT_EQ(log.error().reason, "ccel-malformed");
    }
  }
}

TEST(Ccel, HostileHeadersAndEventsRefused) {
  const Built good = sample();
  const size_t first_event = header({kSha256, kSha384}).size();
  struct Case {
    std::string name;
    Bytes bytes;
    std::string expect;
  };
  std::vector<Case> cases;
  {
    Bytes m = good.log;
    m[4] = 1;  // header type not EV_NO_ACTION
    cases.push_back({"header type", m, "not an EV_NO_ACTION Spec ID event"});
  }
  {
    Bytes m = good.log;
    m[32] = 'X';  // signature
    cases.push_back({"signature", m, "Spec ID Event03"});
  }
  cases.push_back({"no sha384", sample({kSha256}).log, "no SHA-384 bank"});
  {
    Bytes m = good.log;
    m[first_event] = 9;  // MR index
    cases.push_back({"mr index", m, "index 9 is not a CC measurement register"});
  }
  {
    Bytes m = good.log;
    m[first_event + 8] = 5;  // digest count
    cases.push_back({"digest count", m, "digest count 5 but the header declares 2"});
  }
  {
    Bytes m = good.log;
    m[first_event + 12] = 0x04;  // SHA-1 not declared
    m[first_event + 13] = 0x00;
    cases.push_back({"unknown alg", m, "digest algorithm 4 not in the header"});
  }
  {
    Bytes m = good.log;
    const size_t esize_at = first_event + 12 + 2 + 32 + 2 + 48;
    m[esize_at + 3] = 0x7F;  // event size ~2 GB
    cases.push_back({"event size", m, "event data"});
  }
  {
    Bytes m = good.log;
    m[32 + 16 + 8] = 200;  // number of algorithms
    cases.push_back({"alg count", m, "200 algorithms"});
  }
  for (const auto& c : cases) {
    auto log = parse_ccel(c.bytes);
    ASSERT_FALSE(log.ok()) << c.name;
    EXPECT_EQ(log.error().reason, "ccel-malformed") << c.name;
    EXPECT_NE(log.error().message.find(c.expect), std::string::npos) << c.name << ": " << log.error().message;
  }
}

}  // namespace
}  // namespace tl::tee
