// The AMD KDS client against a real HTTP server on 127.0.0.1 serving
// KDS-shaped paths (the vector VCEK and cert chain), and the offline store.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <mutex>
#include <thread>

#include "http/http.h"
#include "snp_test_util.h"
#include "tee/snp_certs.h"
#include "tee/snp_verify.h"

namespace tl::tee {
namespace {
using namespace snptest;
using namespace std::chrono_literals;

// A KDS stand-in: counts requests; can answer 429 with a Retry-After.
struct FakeKds {
  Bytes vcek_der;
  std::string cert_chain_pem;
  std::atomic<int> vcek_requests{0};
  std::atomic<int> chain_requests{0};
  std::atomic<int> rate_limit_next{0};  // answer this many requests with 429
  std::atomic<int> retry_after{1};      // seconds; 0 = no header
  std::mutex mu;
  std::string last_target;
  std::unique_ptr<http::Server> server;

  void start() {
    http::Router router;
    router.add("GET", "/vcek/v1/{product}/{hwid}", [this](const http::Request& req) {
      const bool chain = req.path_params.at("hwid") == "cert_chain";
      (chain ? chain_requests : vcek_requests)++;
      {
        std::lock_guard lock(mu);
        last_target = req.path;
        for (const auto& [k, v] : req.query) last_target += (last_target == req.path ? "?" : "&") + k + "=" + v;
      }
      if (rate_limit_next.load() > 0) {
        rate_limit_next--;
        http::Response r{429, {}, ""};
        if (retry_after.load() > 0) r.headers["Retry-After"] = std::to_string(retry_after.load());
        return r;
      }
      if (req.path_params.at("product") != "Milan") return http::Response{404, {}, ""};
      if (chain) return http::Response{200, {{"Content-Type", "application/x-pem-file"}}, cert_chain_pem};
      return http::Response{200, {{"Content-Type", "application/pkix-cert"}},
                            std::string(vcek_der.begin(), vcek_der.end())};
    });
    http::ServerOptions o;
    o.threads = 1;
    auto s = http::Server::start(o, std::move(router));
    ASSERT_TRUE(s.ok()) << s.error().message;
    server = std::move(*s);
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(server->port()); }
};

#define TL_KDS_SETUP(kds, report)                                                                  \
  TL_REQUIRE_VECTOR(dir_, "cvm/virtee-milan-report");                                              \
  FakeKds kds;                                                                                     \
  kds.vcek_der = test::read_file(dir_ / "vcek_milan.der");                                         \
  kds.cert_chain_pem = test::read_text(dir_ / "cert_chain_milan");                                 \
  kds.start();                                                                                     \
  ASSERT_TRUE(kds.server);                                                                         \
  const Bytes report##_raw = hex_file(dir_ / "report_milan.hex");                                  \
  auto report##_parsed = parse_snp_report(report##_raw, SnpProduct::milan);                        \
  ASSERT_TRUE(report##_parsed.ok());                                                               \
  const SnpReport& report = *report##_parsed

TEST(SnpKds, FetchesVcekWithTheReportsTcbAndCachesIt) {
  TL_KDS_SETUP(kds, report);
  KdsClient client(KdsOptions{kds.url(), {}, 5000ms, 3600s});
  auto vcek = client.vcek(report);
  ASSERT_TRUE(vcek.ok()) << vcek.error().message;
  EXPECT_EQ(*vcek, kds.vcek_der);
  EXPECT_EQ(kds.vcek_requests.load(), 1);
  {
    std::lock_guard lock(kds.mu);
    const SnpTcb& t = report.reported_tcb;
    EXPECT_EQ(kds.last_target, "/vcek/v1/Milan/" + to_hex(report.chip_id) + "?blSPL=" + std::to_string(t.bootloader) +
                                   "&snpSPL=" + std::to_string(t.snp) + "&teeSPL=" + std::to_string(t.tee) +
                                   "&ucodeSPL=" + std::to_string(t.microcode));  // the server sorts the query
  }
  // Second call: from the cache, no request.
  auto again = client.vcek(report);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, kds.vcek_der);
  EXPECT_EQ(kds.vcek_requests.load(), 1);
  // The chain: ASK and ARK, cached too; the whole set verifies the report.
  auto certs = client.certificates(report);
  ASSERT_TRUE(certs.ok()) << certs.error().message;
  EXPECT_EQ(kds.chain_requests.load(), 1);
  EXPECT_EQ(kds.vcek_requests.load(), 1);
  EXPECT_TRUE(client.chain(SnpProduct::milan).ok());
  EXPECT_EQ(kds.chain_requests.load(), 1);
  SnpVerifyOptions o;
  o.at = kAt;
  auto v = verify_snp_report(report_raw, *certs, o);
  EXPECT_TRUE(v.ok()) << v.error().message;
}

TEST(SnpKds, RateLimitedBacksOffWithoutContactingKdsThenRecovers) {
  TL_KDS_SETUP(kds, report);
  KdsClient client(KdsOptions{kds.url(), {}, 5000ms, 3600s});
  kds.rate_limit_next = 1;
  kds.retry_after = 1;
  auto first = client.vcek(report);
  ASSERT_FALSE(first.ok());
  EXPECT_EQ(first.error().reason, "kds-rate-limited");
  EXPECT_EQ(kds.vcek_requests.load(), 1);
  // During Retry-After: refused without a request (nothing cached yet).
  auto second = client.vcek(report);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.error().reason, "kds-rate-limited");
  auto chain = client.chain(SnpProduct::milan);
  ASSERT_FALSE(chain.ok());
  EXPECT_EQ(chain.error().reason, "kds-rate-limited");
  EXPECT_EQ(kds.vcek_requests.load(), 1);
  EXPECT_EQ(kds.chain_requests.load(), 0);
  // After the wait it asks again and succeeds.
  std::this_thread::sleep_for(1100ms);
  auto third = client.vcek(report);
  ASSERT_TRUE(third.ok()) << third.error().message;
  EXPECT_EQ(kds.vcek_requests.load(), 2);
}

TEST(SnpKds, CachedAnswersStillServedWhileRateLimited) {
  TL_KDS_SETUP(kds, report);
  KdsClient client(KdsOptions{kds.url(), {}, 5000ms, 3600s});
  ASSERT_TRUE(client.vcek(report).ok());
  kds.rate_limit_next = 1;
  auto chain = client.chain(SnpProduct::milan);  // not cached: 429
  ASSERT_FALSE(chain.ok());
  EXPECT_EQ(chain.error().reason, "kds-rate-limited");
  auto vcek = client.vcek(report);  // cached: answered
  ASSERT_TRUE(vcek.ok());
  EXPECT_EQ(kds.vcek_requests.load(), 1);
  EXPECT_EQ(kds.chain_requests.load(), 1);
}

TEST(SnpKds, NoRetryAfterDoublesItsOwnBackoff) {
  TL_KDS_SETUP(kds, report);
  KdsClient client(KdsOptions{kds.url(), {}, 5000ms, 3600s});
  kds.retry_after = 0;
  kds.rate_limit_next = 2;
  EXPECT_EQ(client.vcek(report).error().reason, "kds-rate-limited");  // waits 1 s
  std::this_thread::sleep_for(1100ms);
  EXPECT_EQ(client.vcek(report).error().reason, "kds-rate-limited");  // asked again: 429, now 2 s
  EXPECT_EQ(kds.vcek_requests.load(), 2);
  std::this_thread::sleep_for(1100ms);
  auto blocked = client.vcek(report);  // still inside the doubled wait
  ASSERT_FALSE(blocked.ok());
  EXPECT_EQ(blocked.error().reason, "kds-rate-limited");
  EXPECT_EQ(kds.vcek_requests.load(), 2);
}

TEST(SnpKds, CacheDirSurvivesANewClient) {
  TL_KDS_SETUP(kds, report);
  const auto cache = std::filesystem::temp_directory_path() /
                     ("tl-snp-kds-" + std::to_string(::getpid()) + "-" + std::to_string(kds.server->port()));
  std::filesystem::remove_all(cache);
  {
    KdsClient client(KdsOptions{kds.url(), cache, 5000ms, 3600s});
    ASSERT_TRUE(client.certificates(report).ok());
  }
  KdsClient fresh(KdsOptions{kds.url(), cache, 5000ms, 3600s});
  auto certs = fresh.certificates(report);
  ASSERT_TRUE(certs.ok()) << certs.error().message;
  EXPECT_EQ(certs->vcek, kds.vcek_der);
  EXPECT_EQ(kds.vcek_requests.load(), 1);
  EXPECT_EQ(kds.chain_requests.load(), 1);
  std::filesystem::remove_all(cache);
}

TEST(SnpKds, ErrorsAndInvalidBodies) {
  TL_KDS_SETUP(kds, report);
  KdsClient client(KdsOptions{kds.url(), {}, 5000ms, 3600s});
  auto genoa = client.chain(SnpProduct::genoa);  // the fake serves only Milan: 404
  ASSERT_FALSE(genoa.ok());
  EXPECT_EQ(genoa.error().reason, "kds-unavailable");
  kds.vcek_der = Bytes{0x30, 0x03, 0x02, 0x01};  // not a certificate
  auto bad = client.vcek(report);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().reason, "kds-response-invalid");
  // Nothing listening.
  KdsClient nowhere(KdsOptions{"http://127.0.0.1:1", {}, 2000ms, 3600s});
  auto down = nowhere.vcek(report);
  ASSERT_FALSE(down.ok());
  EXPECT_EQ(down.error().reason, "kds-unavailable");
}

TEST(SnpStore, LoadsByProductChipIdAndTcb) {
  TL_REQUIRE_VECTOR(dir, "cvm/virtee-milan-report");
  auto report = parse_snp_report(hex_file(dir / "report_milan.hex"), SnpProduct::milan);
  ASSERT_TRUE(report.ok());
  const auto store = std::filesystem::temp_directory_path() / ("tl-snp-store-" + std::to_string(::getpid()));
  std::filesystem::remove_all(store);
  std::filesystem::create_directories(store / "milan" / "vcek");
  std::filesystem::copy_file(dir / "ark.pem", store / "milan" / "ark.pem");
  auto missing = load_snp_certs(store, *report);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().reason, "snp-certs-missing");
  EXPECT_NE(missing.error().message.find("ask.pem"), std::string::npos) << missing.error().message;
  std::filesystem::copy_file(dir / "ask.pem", store / "milan" / "ask.pem");
  char tcb[20];
  std::snprintf(tcb, sizeof tcb, "%016llx", static_cast<unsigned long long>(report->reported_tcb.raw));
  const auto vcek_path = store / "milan" / "vcek" / (to_hex(report->chip_id) + "-" + tcb + ".der");
  missing = load_snp_certs(store, *report);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find(vcek_path.filename().string()), std::string::npos);
  std::filesystem::copy_file(dir / "vcek_milan.der", vcek_path);
  auto certs = load_snp_certs(store, *report);
  ASSERT_TRUE(certs.ok()) << certs.error().message;
  EXPECT_EQ(certs->vcek, test::read_file(dir / "vcek_milan.der"));
  SnpVerifyOptions o;
  o.at = kAt;
  EXPECT_TRUE(verify_snp_report(hex_file(dir / "report_milan.hex"), *certs, o).ok());
  std::filesystem::remove_all(store);
}

}  // namespace
}  // namespace tl::tee
