// Shared by the tl_agent_tpm tests: one real swtpm per test binary, a Tpm opened
// on it per test (swtpm serves one connection at a time), and the checks every
// test makes (nothing left loaded in the TPM).
#pragma once

#include <gtest/gtest.h>
#include <tss2/tss2_esys.h>

#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "agent/tpm/agent_tpm.h"
#include "common/hex.h"
#include "crypto/digest.h"
#include "tpm/swtpm.h"
#include "tpm/public_area.h"

namespace tl::agent::tpm::testing {

class SwtpmSuite : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto s = test::Swtpm::start();
    if (!s) {
      setup_error_ = s.error().message;
      return;
    }
    swtpm_ = std::move(*s);
  }
  static void TearDownTestSuite() {
    swtpm_.reset();
    setup_error_.reset();
  }
  void SetUp() override {
    if (setup_error_) FAIL() << "swtpm setup: " << *setup_error_;
  }

  static Tpm open(const Options& options = {}) {
    auto t = Tpm::open(swtpm_->tcti(), options);
    EXPECT_TRUE(t.ok()) << t.error().message;
    if (!t) throw std::runtime_error("cannot open the swtpm: " + t.error().message);
    return std::move(*t);
  }

  static inline std::unique_ptr<test::Swtpm> swtpm_;
  static inline std::optional<std::string> setup_error_;
};

inline std::string handles_text(const std::vector<uint32_t>& hs) {
  std::string out;
  for (uint32_t h : hs) {
    char buf[16];
    std::snprintf(buf, sizeof buf, " 0x%08x", h);
    out += buf;
  }
  return out;
}

// Nothing transient (objects, sessions) is loaded in the TPM.
#define EXPECT_NOTHING_LOADED(tpm)                                                 \
  do {                                                                             \
    auto loaded_ = (tpm).loaded_handles();                                         \
    ASSERT_TRUE(loaded_.ok()) << loaded_.error().message;                          \
    EXPECT_TRUE(loaded_->empty()) << "left loaded:" << handles_text(*loaded_);     \
  } while (0)

// TPM2_PCR_Extend of one bank with `digest`, through the Tpm's ESAPI context.
inline Status extend(Tpm& tpm, uint32_t pcr, crypto::HashAlg bank, ByteView digest) {
  TPML_DIGEST_VALUES values{};
  values.count = 1;
  values.digests[0].hashAlg = crypto::tpm_alg_id(bank);
  std::memcpy(&values.digests[0].digest, digest.data(), digest.size());
  const TSS2_RC rc = Esys_PCR_Extend(tpm.esys(), ESYS_TR_PCR0 + pcr, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE,
                                     &values);
  if (rc != TSS2_RC_SUCCESS) return Error{"Esys_PCR_Extend failed: " + std::to_string(rc)};
  return {};
}

inline tl::tpm::PublicArea parse(ByteView tpmt_public) {
  auto a = tl::tpm::parse_tpmt_public(tpmt_public);
  EXPECT_TRUE(a.ok()) << a.error().message;
  return a.ok() ? *a : tl::tpm::PublicArea{};
}

inline Bytes bytes_of(std::string_view hex) {
  auto b = from_hex(hex);
  EXPECT_TRUE(b.ok());
  return b.ok() ? *b : Bytes{};
}

}  // namespace tl::agent::tpm::testing
