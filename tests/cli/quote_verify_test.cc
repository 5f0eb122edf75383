// `tlaunch quote verify` as a user runs it: the real binary ($TL_BUILD_DIR/tlaunch)
// on the recorded OVMF quote and on quotes made by swtpm + tpm2-tools.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include <nlohmann/json.hpp>

#include "common/hex.h"
#include "crypto/public_key.h"
#include "support/cli_runner.h"
#include "support/test_support.h"
#include "tpm/swtpm.h"

namespace tl::cli {
namespace {

namespace fs = std::filesystem;

struct CliRun {
  int exit_code = -1;
  std::string out;  // stdout + stderr
};

// `tlaunch quote verify ARGS` (shell text; the tests' paths need no quoting).
CliRun run(const std::string& args) {
  test::TlaunchRun r = test::run_tlaunch("quote verify " + args);
  return {r.exit_code, r.out + r.err};
}

using test::TempDir;

std::string trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  return s;
}

class QuoteVerifyCli : public ::testing::Test {
 protected:
  void SetUp() override {
    auto v = test::vector_path("ovmf-secureboot/quote.msg");
    if (v.empty()) GTEST_SKIP() << "vectors not found (set TL_SHARED_DIR)";
    dir_ = v.parent_path();
    nonce_ = trimmed(test::read_text(dir_ / "quote_nonce.txt"));
    base_ = "--ak " + (dir_ / "ak.pub").string() + " --message " + (dir_ / "quote.msg").string() +
            " --signature " + (dir_ / "quote.sig").string();
  }
  fs::path dir_;
  std::string nonce_, base_;
};

TEST_F(QuoteVerifyCli, RecordedQuoteIsValid) {
  CliRun r = run(base_ + " --pcrs " + (dir_ / "quote.pcrs").string() + " --nonce " + nonce_);
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("quote: VALID"), std::string::npos) << r.out;

  CliRun j = run(base_ + " --pcrs " + (dir_ / "quote.pcrs").string() + " --nonce " + nonce_ + " --json");
  ASSERT_EQ(j.exit_code, 0) << j.out;
  auto doc = nlohmann::json::parse(j.out);
  EXPECT_TRUE(doc["valid"].get<bool>());
  EXPECT_EQ(doc["pcrs"]["sha256"]["0"], "90040fdebcaef6fed8beec816d2a56ff8d77f91516bd053e493374c25562f11c");
  EXPECT_EQ(doc["pcrs"]["sha256"].size(), 11u);
  EXPECT_EQ(doc["attest"]["clock"]["reset_count"], 3);
  EXPECT_EQ(doc["checks"].size(), 10u);
  for (const auto& c : doc["checks"]) EXPECT_TRUE(c["ok"].get<bool>()) << c.dump();
}

TEST_F(QuoteVerifyCli, SysfsPcrsAndDerAkAlsoWork) {
  auto pem = crypto::PublicKey::from_pem(test::read_text(dir_ / "ak.pub"));
  ASSERT_TRUE(pem.ok());
  TempDir tmp;
  fs::path der = tmp.file("ak.der", pem->der_spki());
  // The guest's sysfs dump holds every PCR; require only the quoted ones.
  CliRun r = run("--ak " + der.string() + " --message " + (dir_ / "quote.msg").string() +
              " --signature " + (dir_ / "quote.sig").string() + " --pcrs " +
              (dir_ / "pcrs_guest_sysfs.txt").string() + " --require sha256:0,1,2,3,4,5,6,7 --nonce " +
              nonce_);
  EXPECT_EQ(r.exit_code, 0) << r.out;
  // Without --require, every supplied PCR must be quoted: PCR 10+ are not.
  CliRun strict = run(base_ + " --pcrs " + (dir_ / "pcrs_guest_sysfs.txt").string() + " --nonce " + nonce_);
  EXPECT_EQ(strict.exit_code, 1) << strict.out;
  EXPECT_NE(strict.out.find("quote check 'pcr_selection' failed: required sha256 PCR 10"),
            std::string::npos)
      << strict.out;
}

TEST_F(QuoteVerifyCli, OtherNonceFails) {
  std::string other = nonce_;
  other[0] = other[0] == '0' ? '1' : '0';
  CliRun r = run(base_ + " --pcrs " + (dir_ / "quote.pcrs").string() + " --nonce " + other + " --json");
  EXPECT_EQ(r.exit_code, 1) << r.out;
  auto doc = nlohmann::json::parse(r.out);
  EXPECT_FALSE(doc["valid"].get<bool>());
  EXPECT_TRUE(doc["pcrs"].empty());
  bool found = false;
  for (const auto& c : doc["checks"]) {
    if (c["name"] == "nonce") {
      found = true;
      EXPECT_FALSE(c["ok"].get<bool>());
    }
  }
  EXPECT_TRUE(found);
}

TEST_F(QuoteVerifyCli, WithoutPcrsTheQuoteIsNotValid) {
  CliRun r = run(base_ + " --nonce " + nonce_);
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_NE(r.out.find("no --pcrs given"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("quote check 'pcr_values' failed"), std::string::npos) << r.out;
}

TEST_F(QuoteVerifyCli, MalformedInputAndUsage) {
  TempDir tmp;
  Bytes msg = test::read_file(dir_ / "quote.msg");
  msg.pop_back();
  fs::path cut = tmp.file("cut.msg", msg);
  CliRun r = run("--ak " + (dir_ / "ak.pub").string() + " --message " + cut.string() + " --signature " +
              (dir_ / "quote.sig").string() + " --pcrs " + (dir_ / "quote.pcrs").string() +
              " --nonce " + nonce_);
  EXPECT_EQ(r.exit_code, 2) << r.out;
  EXPECT_NE(r.out.find("TPMS_QUOTE_INFO.pcrDigest.buffer at offset 0x65"), std::string::npos) << r.out;

  fs::path bad_pcrs = tmp.file("bad.pcrs", as_bytes("sha256:\n  0 : 0xZZ\n"));
  CliRun p = run(base_ + " --pcrs " + bad_pcrs.string() + " --nonce " + nonce_);
  EXPECT_EQ(p.exit_code, 2) << p.out;
  EXPECT_NE(p.out.find("line 2"), std::string::npos) << p.out;

  fs::path bad_ak = tmp.file("bad.ak", as_bytes(std::string("\x01\x02\x03", 3)));
  CliRun a = run("--ak " + bad_ak.string() + " --message " + (dir_ / "quote.msg").string() +
              " --signature " + (dir_ / "quote.sig").string() + " --nonce " + nonce_);
  EXPECT_EQ(a.exit_code, 2) << a.out;
  EXPECT_NE(a.out.find("AK is neither PEM"), std::string::npos) << a.out;

  EXPECT_EQ(run(base_).exit_code, 2);                              // no --nonce
  EXPECT_EQ(run(base_ + " --nonce zz").exit_code, 2);               // bad hex
  EXPECT_EQ(run(base_ + " --nonce " + nonce_ + " --bogus").exit_code, 2);
  EXPECT_EQ(run(base_ + " --nonce " + nonce_ + " --require sha256:99").exit_code, 2);
  EXPECT_EQ(run("--ak /nonexistent --message x --signature y --nonce 00").exit_code, 2);
  CliRun h = run("--help");
  EXPECT_EQ(h.exit_code, 0);
  EXPECT_NE(h.out.find("usage: tlaunch quote verify"), std::string::npos);
}

// One swtpm for the whole case (starting it dominates): ECC and RSA AKs made with
// tpm2_createek + tpm2_createak, AK given as TPM2B_PUBLIC and as PEM.
TEST(QuoteVerifyCliSwtpm, RealQuotes) {
  auto tpm = test::Swtpm::start();
  ASSERT_TRUE(tpm.ok()) << tpm.error().message;
  test::Swtpm& t = **tpm;
  const std::string nonce = "c0ffee0102030405";
  auto made = t.run(
      "tpm2_pcrextend 0:sha256=" + std::string(64, '1') +
      " && tpm2_createek -Q -c ek.ctx -G rsa -u ek.pub && tpm2_flushcontext -t"
      " && tpm2_createak -Q -C ek.ctx -c ecc.ctx -G ecc -g sha256 -s ecdsa -u ecc.pub -f tss"
      " && tpm2_flushcontext -t && tpm2_flushcontext -s"
      " && tpm2_createak -Q -C ek.ctx -c rsa.ctx -G rsa -g sha256 -s rsassa -u rsa.pub -f tss"
      " && tpm2_flushcontext -t && tpm2_flushcontext -s"
      " && tpm2_readpublic -Q -c rsa.ctx -f pem -o rsa.pem && tpm2_flushcontext -t"
      " && tpm2_quote -Q -c ecc.ctx -l sha256:0,1,7+sha1:0 -q " + nonce +
      " -m ecc.msg -s ecc.sig -o ecc.pcrs -g sha256 && tpm2_flushcontext -t"
      " && tpm2_quote -Q -c rsa.ctx -l sha256:0,2 -q " + nonce +
      " -m rsa.msg -s rsa.sig -o rsa.pcrs -g sha256 && tpm2_flushcontext -t"
      " && tpm2_pcrread sha256:0,2 > rsa.yaml");
  ASSERT_TRUE(made.ok()) << made.error().message;
  const fs::path d = t.dir();
  auto args = [&](const std::string& key, const std::string& ak, const std::string& pcrs) {
    return "--ak " + (d / ak).string() + " --message " + (d / (key + ".msg")).string() +
           " --signature " + (d / (key + ".sig")).string() + " --pcrs " + (d / pcrs).string();
  };
  CliRun ecc = run(args("ecc", "ecc.pub", "ecc.pcrs") + " --nonce " + nonce + " --json");
  ASSERT_EQ(ecc.exit_code, 0) << ecc.out;
  auto doc = nlohmann::json::parse(ecc.out);
  EXPECT_EQ(doc["ak"]["format"], "tpm-public");
  EXPECT_EQ(doc["signature"]["alg"], "TPM_ALG_ECDSA");
  EXPECT_EQ(doc["pcrs"]["sha1"].size(), 1u);
  EXPECT_EQ(doc["pcrs"]["sha256"].size(), 3u);

  EXPECT_EQ(run(args("rsa", "rsa.pub", "rsa.pcrs") + " --nonce " + nonce).exit_code, 0);
  EXPECT_EQ(run(args("rsa", "rsa.pem", "rsa.yaml") + " --nonce " + nonce).exit_code, 0);
  CliRun wrong_key = run(args("rsa", "ecc.pub", "rsa.pcrs") + " --nonce " + nonce);
  EXPECT_EQ(wrong_key.exit_code, 1) << wrong_key.out;
  EXPECT_NE(wrong_key.out.find("quote check 'signature.scheme' failed"), std::string::npos)
      << wrong_key.out;
  CliRun wrong_nonce = run(args("rsa", "rsa.pub", "rsa.pcrs") + " --nonce c0ffee");
  EXPECT_EQ(wrong_nonce.exit_code, 1) << wrong_nonce.out;
  // PCR values from another quote (different selection) do not match.
  CliRun wrong_pcrs = run(args("rsa", "rsa.pub", "ecc.pcrs") + " --nonce " + nonce);
  EXPECT_EQ(wrong_pcrs.exit_code, 1) << wrong_pcrs.out;
}

}  // namespace
}  // namespace tl::cli
