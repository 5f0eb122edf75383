// The PKCS#11 KEK against a real SoftHSM2 token, one fresh token per test.
#include <stdlib.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "keys/kek/kek.h"
#include "keys/kek/pkcs11_session.h"
#include "support/cli_runner.h"
#include "support/test_support.h"

namespace tl::keys::kek {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr const char* kPin = "1234";
constexpr const char* kLabel = "tl-test";

Bytes text(std::string_view s) { return Bytes(s.begin(), s.end()); }

// A SoftHSM2 with its own token directory (SOFTHSM2_CONF points at it) and
// one initialized token "tl-test", user PIN 1234.
class Pkcs11KekTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const fs::path tokens = dir_.path() / "tokens";
    fs::create_directory(tokens);
    conf_ = dir_.path() / "softhsm2.conf";
    std::ofstream(conf_) << "directories.tokendir = " << tokens.string() << "\n"
                         << "objectstore.backend = file\n"
                         << "log.level = ERROR\n";
    ASSERT_EQ(::setenv("SOFTHSM2_CONF", conf_.c_str(), 1), 0);
    init_token(kLabel);
  }

  void init_token(const std::string& label) {
    const fs::path log = dir_.path() / "softhsm2-util.log";
    const std::string cmd = test::shell_quote(TL_SOFTHSM2_UTIL) + " --init-token --free --label " +
                            test::shell_quote(label) + " --pin 1234 --so-pin 5678 >" + test::shell_quote(log) +
                            " 2>&1";
    ASSERT_EQ(std::system(cmd.c_str()), 0) << test::read_text(log);
  }

  Pkcs11Options options() const {
    Pkcs11Options o;
    o.module = TL_SOFTHSM2_MODULE;
    o.token_label = kLabel;
    o.pin = kPin;
    return o;
  }

  test::TempDir dir_;
  fs::path conf_;
};

TEST_F(Pkcs11KekTest, GeneratesTheKeyOnFirstOpenAndFindsItAgain) {
  Bytes wrapped;
  Bytes sealed;
  {
    auto kek = open_pkcs11_kek(options());
    ASSERT_TRUE(kek) << kek.error().message;
    EXPECT_EQ((*kek)->kind(), "pkcs11");
    EXPECT_EQ((*kek)->description(), "pkcs11 token 'tl-test' key 'tlaunchd-kek' (libsofthsm2.so)");
    auto made = Sealer::create(**kek);
    ASSERT_TRUE(made) << made.error().message;
    // IV (12) || AES-GCM of the 32-byte DEK || tag (16)
    EXPECT_EQ(made->second.size(), 60u);
    wrapped = made->second;
    auto s = made->first.seal(text("secret material"), "key/x/1");
    ASSERT_TRUE(s);
    sealed = *s;
  }
  // A new module initialization, as at the next start; the key must be found, not made.
  Pkcs11Options again = options();
  again.create_if_missing = false;
  auto kek = open_pkcs11_kek(again);
  ASSERT_TRUE(kek) << kek.error().message;
  auto sealer = Sealer::open(**kek, wrapped);
  ASSERT_TRUE(sealer) << sealer.error().message;
  auto back = sealer->unseal(sealed, "key/x/1");
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(Bytes(back->view().begin(), back->view().end()), text("secret material"));
}

TEST_F(Pkcs11KekTest, TheGeneratedKeyIsSensitiveAndNotExtractable) {
  ASSERT_TRUE(open_pkcs11_kek(options()));
  // Look at the object through the module directly.
  auto module = p11::ModuleRef::acquire(TL_SOFTHSM2_MODULE);
  ASSERT_TRUE(module) << module.error().message;
  ck_function_list& fn = (*module)->fn();
  unsigned long n = 0;
  ASSERT_EQ(fn.C_GetSlotList(1, nullptr, &n), CKR_OK);
  std::vector<ck_slot_id_t> slots(n);
  ASSERT_EQ(fn.C_GetSlotList(1, slots.data(), &n), CKR_OK);
  std::optional<ck_slot_id_t> slot;
  for (ck_slot_id_t id : slots) {
    ck_token_info info{};
    if (fn.C_GetTokenInfo(id, &info) == CKR_OK && std::string_view(reinterpret_cast<char*>(info.label), 8) == "tl-test ") {
      slot = id;
    }
  }
  ASSERT_TRUE(slot);
  auto session = p11::Session::open(std::move(*module), *slot);
  ASSERT_TRUE(session) << session.error().message;
  ASSERT_TRUE((*session)->login(kPin, kLabel));

  std::string label = "tlaunchd-kek";
  ck_attribute find{CKA_LABEL, label.data(), label.size()};
  ASSERT_EQ(fn.C_FindObjectsInit((*session)->handle(), &find, 1), CKR_OK);
  ck_object_handle_t objs[4];
  unsigned long found = 0;
  ASSERT_EQ(fn.C_FindObjects((*session)->handle(), objs, 4, &found), CKR_OK);
  fn.C_FindObjectsFinal((*session)->handle());
  ASSERT_EQ(found, 1u);

  unsigned char sensitive = 0, extractable = 1, token = 0;
  unsigned long len = 0;
  ck_attribute attrs[] = {
      {CKA_SENSITIVE, &sensitive, sizeof sensitive},
      {CKA_EXTRACTABLE, &extractable, sizeof extractable},
      {CKA_TOKEN, &token, sizeof token},
      {CKA_VALUE_LEN, &len, sizeof len},
  };
  ASSERT_EQ(fn.C_GetAttributeValue((*session)->handle(), objs[0], attrs, 4), CKR_OK);
  EXPECT_EQ(sensitive, 1);
  EXPECT_EQ(extractable, 0);
  EXPECT_EQ(token, 1);
  EXPECT_EQ(len, 32u);
  // And its value cannot be read.
  unsigned char value[32];
  ck_attribute v{CKA_VALUE, value, sizeof value};
  EXPECT_NE(fn.C_GetAttributeValue((*session)->handle(), objs[0], &v, 1), CKR_OK);
}

TEST_F(Pkcs11KekTest, TwoKeksOnOneModuleCoexist) {
  auto a = open_pkcs11_kek(options());
  ASSERT_TRUE(a) << a.error().message;
  auto made = Sealer::create(**a);
  ASSERT_TRUE(made);
  {
    auto b = open_pkcs11_kek(options());
    ASSERT_TRUE(b) << b.error().message;
    EXPECT_TRUE(Sealer::open(**b, made->second));
  }
  // Closing b neither logged a out nor finalized the module under it.
  auto again = Sealer::open(**a, made->second);
  EXPECT_TRUE(again) << again.error().message;
}

TEST_F(Pkcs11KekTest, ConcurrentWrapsAndUnwrapsOnOneSessionDoNotInterleave) {
  // C_EncryptInit + C_Encrypt is one operation per session: without the lock,
  // threads would meet CKR_OPERATION_ACTIVE or each other's IVs.
  auto kek = open_pkcs11_kek(options());
  ASSERT_TRUE(kek) << kek.error().message;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&kek, &failures, t] {
      for (int i = 0; i < 300; ++i) {
        crypto::SecretBytes dek(Bytes(32, static_cast<uint8_t>(t * 64 + i)));
        auto w = (*kek)->wrap(dek);
        if (!w) {
          ++failures;
          continue;
        }
        auto u = (*kek)->unwrap(*w);
        if (!u || !(*u == dek)) ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
}

TEST_F(Pkcs11KekTest, WrongPinIsAClearErrorWithoutThePin) {
  Pkcs11Options o = options();
  o.pin = "wrong-pin-8311";
  auto kek = open_pkcs11_kek(o);
  ASSERT_FALSE(kek);
  const std::string& m = kek.error().message;
  EXPECT_THAT(m, HasSubstr("C_Login failed: CKR_PIN_INCORRECT"));
  EXPECT_THAT(m, HasSubstr("token 'tl-test'"));
  EXPECT_THAT(m, Not(HasSubstr("wrong-pin-8311")));
  EXPECT_THAT(m, Not(HasSubstr("8311")));
  // The right PIN still works afterwards (nothing left half-open).
  EXPECT_TRUE(open_pkcs11_kek(options()));
}

TEST_F(Pkcs11KekTest, UnknownTokenLabelListsTheTokensPresent) {
  init_token("second-token");
  Pkcs11Options o = options();
  o.token_label = "no-such-token";
  auto kek = open_pkcs11_kek(o);
  ASSERT_FALSE(kek);
  EXPECT_THAT(kek.error().message, HasSubstr("no initialized token labelled 'no-such-token'"));
  EXPECT_THAT(kek.error().message, HasSubstr("'tl-test'"));
  EXPECT_THAT(kek.error().message, HasSubstr("'second-token'"));
}

TEST_F(Pkcs11KekTest, ALabelPrefixIsNotAMatch) {
  // "tl-tes" must not match the blank-padded "tl-test" field.
  Pkcs11Options o = options();
  o.token_label = "tl-tes";
  EXPECT_FALSE(open_pkcs11_kek(o));
}

TEST_F(Pkcs11KekTest, TheSecondTokenIsFoundByItsLabel) {
  init_token("second-token");
  Pkcs11Options o = options();
  o.token_label = "second-token";
  auto kek = open_pkcs11_kek(o);
  ASSERT_TRUE(kek) << kek.error().message;
  auto made = Sealer::create(**kek);
  ASSERT_TRUE(made);
  // The key lives in "second-token": the first token's key (made now) differs.
  auto first = open_pkcs11_kek(options());
  ASSERT_TRUE(first) << first.error().message;
  auto r = Sealer::open(**first, made->second);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().reason, "kek-mismatch");
}

TEST_F(Pkcs11KekTest, MissingModuleIsAClearError) {
  Pkcs11Options o = options();
  o.module = (dir_.path() / "libnothere.so").string();
  auto kek = open_pkcs11_kek(o);
  ASSERT_FALSE(kek);
  EXPECT_THAT(kek.error().message, HasSubstr(o.module));
  EXPECT_THAT(kek.error().message, HasSubstr("No such file"));
}

TEST_F(Pkcs11KekTest, ALibraryThatIsNotPkcs11IsRefused) {
  Pkcs11Options o = options();
  o.module = dir_.file("fake.so", text("not an ELF file")).string();
  auto kek = open_pkcs11_kek(o);
  ASSERT_FALSE(kek);
  EXPECT_THAT(kek.error().message, HasSubstr("cannot be loaded"));
}

TEST_F(Pkcs11KekTest, MissingKeyWithoutCreateIsRefused) {
  Pkcs11Options o = options();
  o.create_if_missing = false;
  auto kek = open_pkcs11_kek(o);
  ASSERT_FALSE(kek);
  EXPECT_THAT(kek.error().message, HasSubstr("no AES key labelled 'tlaunchd-kek'"));
}

TEST_F(Pkcs11KekTest, AnotherKeyLabelIsAMismatch) {
  auto a = open_pkcs11_kek(options());
  ASSERT_TRUE(a);
  auto made = Sealer::create(**a);
  ASSERT_TRUE(made);
  Pkcs11Options o = options();
  o.key_label = "another-kek";
  auto b = open_pkcs11_kek(o);
  ASSERT_TRUE(b) << b.error().message;
  auto r = Sealer::open(**b, made->second);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().reason, "kek-mismatch");
  EXPECT_THAT(r.error().message, HasSubstr("key 'another-kek'"));
}

TEST_F(Pkcs11KekTest, DamagedWrappedKeysAreAMismatch) {
  auto kek = open_pkcs11_kek(options());
  ASSERT_TRUE(kek);
  auto made = Sealer::create(**kek);
  ASSERT_TRUE(made);
  const Bytes& w = made->second;
  for (size_t i : {size_t{0}, size_t{11}, size_t{12}, size_t{30}, w.size() - 1}) {
    Bytes bad = w;
    bad[i] ^= 0x04;
    auto r = (*kek)->unwrap(bad);
    ASSERT_FALSE(r) << "byte " << i;
    EXPECT_EQ(r.error().reason, "kek-mismatch") << "byte " << i << ": " << r.error().message;
  }
  for (size_t n : {0, 12, 28, 40, 59}) {
    auto r = (*kek)->unwrap(ByteView(w.data(), n));
    ASSERT_FALSE(r) << n;
    EXPECT_EQ(r.error().reason, "kek-mismatch") << n << ": " << r.error().message;
  }
  // The session survives failed decryptions.
  EXPECT_TRUE(Sealer::open(**kek, w));
}

TEST_F(Pkcs11KekTest, HsmAndFileKeksDoNotUnwrapEachOther) {
  auto hsm = open_pkcs11_kek(options());
  ASSERT_TRUE(hsm);
  auto file = open_file_kek(dir_.path() / "kek", true);
  ASSERT_TRUE(file);

  auto by_hsm = Sealer::create(**hsm);
  ASSERT_TRUE(by_hsm);
  auto r = Sealer::open(**file, by_hsm->second);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().reason, "kek-mismatch");

  auto by_file = Sealer::create(**file);
  ASSERT_TRUE(by_file);
  auto s = Sealer::open(**hsm, by_file->second);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().reason, "kek-mismatch");
  EXPECT_THAT(s.error().message, HasSubstr("pkcs11 token 'tl-test'"));
}

TEST_F(Pkcs11KekTest, OverlongTokenLabelIsRefused) {
  Pkcs11Options o = options();
  o.token_label = std::string(33, 'x');
  auto kek = open_pkcs11_kek(o);
  ASSERT_FALSE(kek);
  EXPECT_THAT(kek.error().message, HasSubstr("longer than 32"));
}

TEST(Pkcs11RvName, NamesCommonCodesAndPrintsOthersInHex) {
  EXPECT_EQ(p11::rv_name(CKR_PIN_INCORRECT), "CKR_PIN_INCORRECT");
  EXPECT_EQ(p11::rv_name(CKR_USER_ALREADY_LOGGED_IN), "CKR_USER_ALREADY_LOGGED_IN");
  EXPECT_EQ(p11::rv_name(CKR_ENCRYPTED_DATA_INVALID), "CKR_ENCRYPTED_DATA_INVALID");
  EXPECT_EQ(p11::rv_name(0x8000abcdUL), "CKR 0x8000abcd");
  EXPECT_EQ(p11::rv_error("C_Login", CKR_PIN_LOCKED).message, "C_Login failed: CKR_PIN_LOCKED");
}

}  // namespace
}  // namespace tl::keys::kek
