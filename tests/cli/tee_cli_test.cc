// `tlaunch snp verify`, `tlaunch tdx verify` and `tlaunch hcl inspect` as a
// user runs them: the real binary on the recorded vectors (virtee's Milan
// report, go-tdx-guest's v5 quote, Trustee's Azure TDX and SEV-SNP evidence)
// and on copies with one byte changed.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <string>

#include <nlohmann/json.hpp>

#include "common/hex.h"
#include "http/http.h"
#include "support/cli_runner.h"
#include "support/test_support.h"
#include "tee/snp_report.h"
#include "token/base64url.h"

namespace tl::cli {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using test::shell_quote;
using test::TempDir;

constexpr const char* kMilan = "cvm/virtee-milan-report/";
// go-tdx-guest verifies this quote's PCK chain at 2026-02-03 (expected.json).
constexpr const char* kTdxAt = "2026-02-03T00:00:00Z";

test::TlaunchRun run(const std::string& args) { return test::run_tlaunch(args); }

json parse_out(const test::TlaunchRun& r) {
  json j = json::parse(r.out, nullptr, false);
  EXPECT_FALSE(j.is_discarded()) << r.out << r.err;
  return j;
}

// The check of `name` in a --json answer (null when absent).
json check_named(const json& j, const std::string& name) {
  for (const auto& c : j["checks"])
    if (c.value("name", "") == name) return c;
  return nullptr;
}

bool all_ok(const json& j) {
  return !j["checks"].empty() &&
         std::all_of(j["checks"].begin(), j["checks"].end(), [](const json& c) { return c.value("ok", false); });
}

Bytes milan_report_bytes(const fs::path& hex_file) {
  std::string hex;
  for (char c : test::read_text(hex_file))
    if (!std::isspace(static_cast<unsigned char>(c))) hex += c;
  auto b = from_hex(hex);
  EXPECT_TRUE(b.ok());
  return b.ok() ? *b : Bytes{};
}

Bytes b64_any(std::string s) {
  // Trustee's v1 evidence pads its base64url (and standard base64 decodes the same way here).
  std::replace(s.begin(), s.end(), '+', '-');
  std::replace(s.begin(), s.end(), '/', '_');
  s.erase(std::remove(s.begin(), s.end(), '='), s.end());
  auto b = token::base64url_decode(s);
  EXPECT_TRUE(b.ok());
  return b.ok() ? *b : Bytes{};
}

TEST(SnpVerifyCli, MilanReportWithItsVcekAndChainIsValidAndJsonHasEveryField) {
  TL_REQUIRE_VECTOR(report, std::string(kMilan) + "report_milan.hex");
  TL_REQUIRE_VECTOR(vcek, std::string(kMilan) + "vcek_milan.der");
  TL_REQUIRE_VECTOR(chain, std::string(kMilan) + "cert_chain_milan");
  const std::string args = "snp verify --report " + shell_quote(report.string()) + " --vcek " +
                           shell_quote(vcek.string()) + " --chain " + shell_quote(chain.string());
  auto r = run(args + " --json");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  const json j = parse_out(r);
  EXPECT_EQ(j["valid"], true);
  EXPECT_TRUE(all_ok(j)) << j["checks"].dump(2);
  for (const char* c : {"signature", "chain.vcek", "tcb"}) EXPECT_TRUE(check_named(j, c).is_object()) << c;
  for (const char* f : {"version", "policy", "measurement", "report_data", "chip_id", "reported_tcb", "current_tcb",
                        "platform_info", "signature"})
    EXPECT_TRUE(j["report"].contains(f)) << f;
  EXPECT_EQ(j["report"]["version"], 2);

  // The same report as raw bytes, the shipped chain (no --chain), human output.
  TempDir dir;
  const fs::path raw = dir.file("report.bin", milan_report_bytes(report));
  r = run("snp verify --report " + shell_quote(raw.string()) + " --vcek " + shell_quote(vcek.string()) +
          " --product milan");
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("VALID"), std::string::npos);
  EXPECT_NE(r.out.find("\u2713 signature"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("\u2717"), std::string::npos) << r.out;
}

TEST(SnpVerifyCli, MutatedReportFailsNamingTheSignatureCheck) {
  TL_REQUIRE_VECTOR(report, std::string(kMilan) + "report_milan.hex");
  TL_REQUIRE_VECTOR(vcek, std::string(kMilan) + "vcek_milan.der");
  Bytes b = milan_report_bytes(report);
  ASSERT_EQ(b.size(), 1184u);
  b[21] ^= 0x80;  // upstream's mutation (expected.json): inside the signed policy word
  TempDir dir;
  const fs::path raw = dir.file("report.bin", b);
  auto r = run("snp verify --report " + shell_quote(raw.string()) + " --vcek " + shell_quote(vcek.string()) +
               " --product milan --json");
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  const json j = parse_out(r);
  EXPECT_EQ(j["valid"], false);
  const json sig = check_named(j, "signature");
  ASSERT_TRUE(sig.is_object()) << j["checks"].dump(2);
  EXPECT_EQ(sig["ok"], false);
  EXPECT_EQ(sig["reason"], "snp-signature-invalid");
  EXPECT_NE(r.err.find("signature"), std::string::npos) << r.err;

  // A VCEK with a changed byte does not chain (upstream: vcek_der[40] ^= 0xff).
  TL_REQUIRE_VECTOR(chain, std::string(kMilan) + "cert_chain_milan");
  Bytes v = test::read_file(vcek);
  v[40] ^= 0xff;
  const fs::path bad_vcek = dir.file("vcek.der", v);
  r = run("snp verify --report " + shell_quote(report.string()) + " --vcek " + shell_quote(bad_vcek.string()) +
          " --chain " + shell_quote(chain.string()));
  EXPECT_NE(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("\u2717"), std::string::npos) << r.out;
}

// Without --vcek: the certificates from an offline store, or from AMD's KDS
// (here a real HTTP server on 127.0.0.1 answering KDS's paths), cached on disk.
TEST(SnpVerifyCli, VcekFromAnOfflineStoreOrFromKds) {
  TL_REQUIRE_VECTOR(dir, "cvm/virtee-milan-report");
  const Bytes report_bytes = milan_report_bytes(dir / "report_milan.hex");
  auto report = tee::parse_snp_report(report_bytes, tee::SnpProduct::milan);
  ASSERT_TRUE(report.ok()) << report.error().message;
  TempDir tmp;
  const fs::path raw = tmp.file("report.bin", report_bytes);
  char tcb[20];
  std::snprintf(tcb, sizeof tcb, "%016llx", static_cast<unsigned long long>(report->reported_tcb.raw));

  // The store: laid out as docs/tee-snp.md says.
  const fs::path store = tmp.path() / "store";
  fs::create_directories(store / "milan/vcek");
  fs::copy_file(dir / "ark.pem", store / "milan/ark.pem");
  fs::copy_file(dir / "ask.pem", store / "milan/ask.pem");
  const std::string base = "snp verify --report " + shell_quote(raw.string()) + " --product milan";
  auto r = run(base + " --cert-store " + shell_quote(store.string()));
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;  // no VCEK for this chip and TCB yet
  EXPECT_NE(r.err.find(to_hex(report->chip_id) + "-" + tcb), std::string::npos) << r.err;
  fs::copy_file(dir / "vcek_milan.der", store / "milan/vcek" / (to_hex(report->chip_id) + "-" + tcb + ".der"));
  r = run(base + " --cert-store " + shell_quote(store.string()) + " --json");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_TRUE(all_ok(parse_out(r)));

  // KDS.
  std::atomic<int> requests{0};
  const Bytes vcek = test::read_file(dir / "vcek_milan.der");
  const std::string chain = test::read_text(dir / "cert_chain_milan");
  http::Router router;
  router.add("GET", "/vcek/v1/{product}/{hwid}", [&](const http::Request& req) {
    requests++;
    if (req.path_params.at("product") != "Milan") return http::Response{404, {}, ""};
    if (req.path_params.at("hwid") == "cert_chain") return http::Response{200, {}, chain};
    return http::Response{200, {}, std::string(vcek.begin(), vcek.end())};
  });
  http::ServerOptions o;
  o.threads = 1;
  auto server = http::Server::start(o, std::move(router));
  ASSERT_TRUE(server.ok()) << server.error().message;
  const std::string url = "http://127.0.0.1:" + std::to_string((*server)->port());
  ::setenv("XDG_CACHE_HOME", (tmp.path() / "cache").c_str(), 1);
  r = run(base + " --kds-url " + shell_quote(url) + " --json");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_TRUE(all_ok(parse_out(r)));
  const int fetched = requests.load();
  EXPECT_GE(fetched, 1);
  // A second run answers from the cache: KDS is rate limited, so it is not asked again.
  r = run(base + " --kds-url " + shell_quote(url));
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(requests.load(), fetched);
  EXPECT_TRUE(fs::exists(tmp.path() / "cache/trustlaunch/kds"));
  // A KDS that has nothing for this product: the error names the service.
  (*server).reset();
  ::setenv("XDG_CACHE_HOME", (tmp.path() / "cache2").c_str(), 1);
  r = run(base + " --kds-url " + shell_quote(url));
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_NE(r.err.find("AMD KDS"), std::string::npos) << r.err;
  ::unsetenv("XDG_CACHE_HOME");

  r = run(base);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--cert-store"), std::string::npos) << r.err;
  r = run(base + " --kds --cert-store " + shell_quote(store.string()));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("only one"), std::string::npos) << r.err;
}

TEST(SnpVerifyCli, UsageErrors) {
  auto r = run("snp verify --help");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("usage: tlaunch snp verify"), std::string::npos);
  r = run("snp verify --vcek x");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("missing --report"), std::string::npos) << r.err;
  r = run("snp verify --report x");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--vcek"), std::string::npos) << r.err;
  r = run("snp verify --report x --vcek y --product sparc");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("sparc"), std::string::npos) << r.err;
  r = run("snp verify --report x --vcek y --chain z --product milan");
  EXPECT_EQ(r.exit_code, 2);
  r = run("snp verify --report /nonexistent/report --vcek y");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("/nonexistent/report"), std::string::npos) << r.err;
  r = run("snp verify --report x --vcek y --frobnicate");
  EXPECT_EQ(r.exit_code, 2);
  TempDir dir;
  const fs::path short_report = dir.file("short.bin", Bytes(100, 0xab));
  TL_REQUIRE_VECTOR(vcek, std::string(kMilan) + "vcek_milan.der");
  r = run("snp verify --report " + shell_quote(short_report.string()) + " --vcek " + shell_quote(vcek.string()));
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
}

TEST(TdxVerifyCli, QuotesVerifyWithoutCollateralAndJsonHasEveryField) {
  TL_REQUIRE_VECTOR(v5, "cvm/gotdx-quote-v5/quote_v5_sample.dat");
  auto r = run("tdx verify --quote " + shell_quote(v5.string()) + " --at " + kTdxAt + " --json");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  json j = parse_out(r);
  EXPECT_EQ(j["valid"], true);
  EXPECT_TRUE(all_ok(j)) << j["checks"].dump(2);
  for (const char* c : {"pck_chain", "qe_report.signature", "qe_report.binding", "signature"})
    EXPECT_TRUE(check_named(j, c).is_object()) << c;
  EXPECT_TRUE(j["tcb_status"].is_null());  // no collateral, no TCB status
  ASSERT_TRUE(j["quote"].is_object());
  EXPECT_FALSE(j["quote"].empty());

  // Azure's TD quote (v4) from Trustee's az-tdx-vtpm data; human output.
  TL_REQUIRE_VECTOR(v4, "cvm/trustee-az-tdx-vtpm/td-quote.bin");
  r = run("tdx verify --quote " + shell_quote(v4.string()) + " --at " + kTdxAt);
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("\u2713 signature"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("no --collateral"), std::string::npos) << r.out;
}

TEST(TdxVerifyCli, MutatedQuoteFailsNamingTheSignatureCheck) {
  TL_REQUIRE_VECTOR(v5, "cvm/gotdx-quote-v5/quote_v5_sample.dat");
  Bytes q = test::read_file(v5);
  ASSERT_GT(q.size(), 400u);
  q[48 + 2 + 4 + 200] ^= 0x01;  // inside the signed TD report body (MRTD region)
  TempDir dir;
  const fs::path bad = dir.file("quote.dat", q);
  auto r = run("tdx verify --quote " + shell_quote(bad.string()) + " --at " + kTdxAt + " --json");
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  const json j = parse_out(r);
  EXPECT_EQ(j["valid"], false);
  const json sig = check_named(j, "signature");
  ASSERT_TRUE(sig.is_object()) << j["checks"].dump(2);
  EXPECT_EQ(sig["ok"], false);
  EXPECT_EQ(sig["reason"], "tdx-signature-invalid");

  // Truncated: not a quote at all (exit 2, the parse check).
  Bytes cut(q.begin(), q.begin() + 100);
  const fs::path short_q = dir.file("short.dat", cut);
  r = run("tdx verify --quote " + shell_quote(short_q.string()) + " --json");
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_EQ(check_named(parse_out(r), "parse").value("ok", true), false);
}

TEST(TdxVerifyCli, UsageErrors) {
  auto r = run("tdx verify --help");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("usage: tlaunch tdx verify"), std::string::npos);
  r = run("tdx verify");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("missing --quote"), std::string::npos) << r.err;
  r = run("tdx verify --quote x --at yesterday");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--at"), std::string::npos) << r.err;
  r = run("tdx verify --quote x --collateral /nonexistent/collateral");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("/nonexistent/collateral"), std::string::npos) << r.err;
}

TEST(HclInspectCli, AzureTdxHclReportParsesAndItsBindingHolds) {
  TL_REQUIRE_VECTOR(hcl, "cvm/trustee-az-tdx-vtpm/hcl-report.bin");
  auto r = run("hcl inspect " + shell_quote(hcl.string()) + " --json");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  const json j = parse_out(r);
  EXPECT_EQ(j["valid"], true);
  EXPECT_EQ(check_named(j, "hcl.binding").value("ok", false), true) << j["checks"].dump(2);
  ASSERT_TRUE(j["hcl"].is_object());
  for (const char* f : {"version", "report_size", "request_type", "status", "hardware", "runtime_data_version",
                        "hash_type", "keys"})
    EXPECT_TRUE(j["hcl"].contains(f)) << f;
  EXPECT_NE(j["hcl"].dump().find("HCLAkPub"), std::string::npos);
  EXPECT_NE(j["hcl"].dump().find("HCLEkPub"), std::string::npos);

  r = run("hcl inspect " + shell_quote(hcl.string()));
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("TDX"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("key HCLAkPub"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\u2713 hcl.binding"), std::string::npos) << r.out;
}

TEST(HclInspectCli, ChangedRuntimeDataBreaksTheBinding) {
  TL_REQUIRE_VECTOR(hcl, "cvm/trustee-az-tdx-vtpm/hcl-report.bin");
  Bytes b = test::read_file(hcl);
  ASSERT_GT(b.size(), 0x0881u);
  b[0x0880] += 1;  // upstream's mutation (expected.json): inside the runtime data
  TempDir dir;
  const fs::path bad = dir.file("hcl.bin", b);
  auto r = run("hcl inspect " + shell_quote(bad.string()) + " --json");
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  const json j = parse_out(r);
  EXPECT_EQ(j["valid"], false);
  const json c = check_named(j, "hcl.binding");
  ASSERT_TRUE(c.is_object()) << j["checks"].dump(2);
  EXPECT_EQ(c["ok"], false);
  EXPECT_EQ(c["reason"], "hcl-report-data-mismatch");
  EXPECT_NE(r.err.find("hcl.binding"), std::string::npos) << r.err;

  // Not an HCL report: the parse check fails, exit 2.
  const fs::path junk = dir.file("junk.bin", Bytes(64, 0x5a));
  r = run("hcl inspect " + shell_quote(junk.string()));
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_NE(r.out.find("\u2717 parse"), std::string::npos) << r.out;
}

TEST(HclInspectCli, SevSnpHclReportWithItsVcekVerifiesTheReportInside) {
  TL_REQUIRE_VECTOR(ev, "cvm/trustee-az-snp-vtpm-evidence/evidence-v1.json");
  const json e = json::parse(test::read_text(ev));
  const Bytes hcl_bytes = b64_any(e["hcl_report"].get<std::string>());
  ASSERT_FALSE(hcl_bytes.empty());
  const Bytes* hcl = &hcl_bytes;
  TempDir dir;
  const fs::path hcl_file = dir.file("hcl.bin", *hcl);
  const fs::path vcek = dir.file("vcek.der", b64_any(e["vcek"].get<std::string>()));
  auto r = run("hcl inspect " + shell_quote(hcl_file.string()) + " --vcek " + shell_quote(vcek.string()) + " --json");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  const json j = parse_out(r);
  EXPECT_TRUE(all_ok(j)) << j["checks"].dump(2);
  EXPECT_EQ(check_named(j, "snp.signature").value("ok", false), true);
  EXPECT_EQ(check_named(j, "hcl.binding").value("ok", false), true);
  EXPECT_TRUE(j["snp_report"].is_object());

  // One byte of the SEV-SNP report inside changed: its signature fails.
  Bytes b = *hcl;
  b[0x20 + 0x90] ^= 0x01;
  const fs::path bad = dir.file("bad.bin", b);
  r = run("hcl inspect " + shell_quote(bad.string()) + " --vcek " + shell_quote(vcek.string()) + " --json");
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_EQ(check_named(parse_out(r), "snp.signature").value("ok", true), false);
}

TEST(HclInspectCli, UsageErrors) {
  auto r = run("hcl inspect --help");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("usage: tlaunch hcl inspect"), std::string::npos);
  r = run("hcl inspect");
  EXPECT_EQ(r.exit_code, 2);
  r = run("hcl inspect a b");
  EXPECT_EQ(r.exit_code, 2);
  r = run("hcl inspect /nonexistent/hcl.bin");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("/nonexistent/hcl.bin"), std::string::npos) << r.err;
  r = run("hcl inspect x --chain y");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--chain needs --vcek"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace tl::cli
