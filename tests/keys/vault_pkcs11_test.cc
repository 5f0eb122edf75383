// The vault with its data key wrapped by a real SoftHSM2 token, and a vault
// made with one kind of KEK refused (kek-mismatch, naming both) with the other.
#include <stdlib.h>

#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "keys/vault.h"
#include "support/cli_runner.h"
#include "support/test_support.h"

namespace tl::keys {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

constexpr int64_t kT0 = 1795377600;

class VaultPkcs11Test : public ::testing::Test {
 protected:
  void SetUp() override {
    const fs::path tokens = dir_.path() / "tokens";
    fs::create_directory(tokens);
    const fs::path conf = dir_.path() / "softhsm2.conf";
    std::ofstream(conf) << "directories.tokendir = " << tokens.string() << "\n"
                        << "objectstore.backend = file\n"
                        << "log.level = ERROR\n";
    ASSERT_EQ(::setenv("SOFTHSM2_CONF", conf.c_str(), 1), 0);
    const fs::path log = dir_.path() / "softhsm2-util.log";
    const std::string cmd = test::shell_quote(TL_SOFTHSM2_UTIL) +
                            " --init-token --free --label tl-vault --pin 1234 --so-pin 5678 >" +
                            test::shell_quote(log) + " 2>&1";
    ASSERT_EQ(std::system(cmd.c_str()), 0) << test::read_text(log);
    db_ = dir_.path() / "tlaunchd.db";
  }

  std::unique_ptr<kek::Kek> hsm_kek() {
    kek::Pkcs11Options o;
    o.module = TL_SOFTHSM2_MODULE;
    o.token_label = "tl-vault";
    o.pin = "1234";
    auto k = kek::open_pkcs11_kek(o);
    EXPECT_TRUE(k) << k.error().message;
    return k ? std::move(*k) : nullptr;
  }

  std::unique_ptr<kek::Kek> file_kek() {
    auto k = kek::open_file_kek(dir_.path() / "kek", true);
    EXPECT_TRUE(k) << k.error().message;
    return k ? std::move(*k) : nullptr;
  }

  test::TempDir dir_;
  fs::path db_;
};

NewKey oct_key() {
  NewKey k;
  k.spec = crypto::KeySpec{crypto::KeyKind::oct, 256, crypto::Curve::p256};
  return k;
}

TEST_F(VaultPkcs11Test, AnHsmWrappedVaultKeepsItsKeysAcrossOpens) {
  std::string version;
  crypto::SecretBytes bytes;
  {
    auto kek = hsm_kek();
    ASSERT_TRUE(kek);
    auto vault = Vault::open(db_, *kek);
    ASSERT_TRUE(vault) << vault.error().message;
    auto v = (*vault)->create("k", oct_key(), kT0);
    ASSERT_TRUE(v) << v.error().message;
    version = v->version;
    auto m = (*vault)->material("k", version, kT0);
    ASSERT_TRUE(m);
    bytes = m->release_bytes();
  }
  auto kek = hsm_kek();
  ASSERT_TRUE(kek);
  auto vault = Vault::open(db_, *kek);
  ASSERT_TRUE(vault) << vault.error().message;
  auto m = (*vault)->material("k", version, kT0);
  ASSERT_TRUE(m) << m.error().message;
  EXPECT_TRUE(m->release_bytes() == bytes);
}

TEST_F(VaultPkcs11Test, AVaultMadeWithOneKindOfKekRefusesTheOther) {
  {
    auto kek = file_kek();
    ASSERT_TRUE(kek);
    ASSERT_TRUE(Vault::open(db_, *kek));
  }
  auto hsm = hsm_kek();
  ASSERT_TRUE(hsm);
  auto v = Vault::open(db_, *hsm);
  ASSERT_FALSE(v);
  EXPECT_EQ(v.error().reason, "kek-mismatch");
  EXPECT_THAT(v.error().message, HasSubstr("created with a file KEK"));
  EXPECT_THAT(v.error().message, HasSubstr("pkcs11"));

  const fs::path other = dir_.path() / "other.db";
  ASSERT_TRUE(Vault::open(other, *hsm));
  auto kek = file_kek();
  ASSERT_TRUE(kek);
  auto w = Vault::open(other, *kek);
  ASSERT_FALSE(w);
  EXPECT_EQ(w.error().reason, "kek-mismatch");
  EXPECT_THAT(w.error().message, HasSubstr("created with a pkcs11 KEK"));
  EXPECT_THAT(w.error().message, HasSubstr("file"));
}

}  // namespace
}  // namespace tl::keys
