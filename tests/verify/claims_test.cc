// The kernel debugger detection behind x-ms-azurevm-kerneldebug-enabled, and the
// default Secure Boot reference (docs/claims.md). The claims as a whole are
// checked on real evidence in attestation_swtpm_test.cc.
#include <gtest/gtest.h>

#include <set>

#include "verify/attestation.h"
#include "verify/pipeline_internal.h"

namespace tl::verify {
namespace {

using detail::kernel_debug_enabled;

TEST(KernelDebug, DebuggerOptionsAreWholeWords) {
  EXPECT_FALSE(kernel_debug_enabled(std::nullopt));
  EXPECT_FALSE(kernel_debug_enabled(std::string("/vmlinuz console=ttyS0,115200 quiet loglevel=4 panic=-1")));
  EXPECT_TRUE(kernel_debug_enabled(std::string("/vmlinuz kgdboc=ttyS0,115200 quiet")));
  EXPECT_TRUE(kernel_debug_enabled(std::string("ro kgdbwait")));
  EXPECT_TRUE(kernel_debug_enabled(std::string("ro\tkgdbdbgp=0")));
  EXPECT_TRUE(kernel_debug_enabled(std::string("  ekgdboc=kbd ")));
  // Not the option itself: a value or a longer word that merely contains it.
  EXPECT_FALSE(kernel_debug_enabled(std::string("foo=kgdboc=ttyS0")));
  EXPECT_FALSE(kernel_debug_enabled(std::string("kgdbwaitx nokgdbwait")));
  EXPECT_FALSE(kernel_debug_enabled(std::string("kgdboc")));  // without '=' the option does nothing
}

TEST(SecureBootReference, DefaultHoldsMicrosoftCasOnce) {
  const SecureBootReference r = default_secure_boot_reference();
  EXPECT_EQ(r.default_kek_fingerprints.size(), 2u);
  EXPECT_EQ(r.default_db_fingerprints.size(), 4u);
  std::set<std::string> all(r.default_kek_fingerprints.begin(), r.default_kek_fingerprints.end());
  all.insert(r.default_db_fingerprints.begin(), r.default_db_fingerprints.end());
  EXPECT_EQ(all.size(), 6u);
  for (const auto& f : all) {
    EXPECT_EQ(f.size(), 64u);
    EXPECT_EQ(f.find_first_not_of("0123456789abcdef"), std::string::npos) << f;
  }
  EXPECT_TRUE(r.required_dbx_hashes.empty());
  // The policy starts from it.
  EXPECT_EQ(AppraisalPolicy{}.secure_boot.default_db_fingerprints, r.default_db_fingerprints);
}

}  // namespace
}  // namespace tl::verify
