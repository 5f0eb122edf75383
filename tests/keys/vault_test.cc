// The vault on a real SQLite file with a real file KEK: versions and bare-name
// resolution, Key Vault's exportable / policy rules, soft delete, paging,
// material checks, reopening with the same and another KEK, the raw-file
// secrecy of key material, and concurrent creates.
#include "keys/vault.h"
#include "keys/access.h"

#include <algorithm>
#include <atomic>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "store/database.h"
#include "support/cli_runner.h"
#include "support/test_support.h"
#include "token/base64url.h"

namespace tl::keys {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

constexpr int64_t kT0 = 1795377600;  // 2026-11-22T20:00:00Z
constexpr int64_t kDay = 86400;

constexpr const char* kPolicy =
    R"({"version":"1.0.0","anyOf":[{"authority":"https://attest.example","allOf":[)"
    R"({"claim":"secureboot","equals":true}]}]})";
constexpr const char* kOtherPolicy =
    R"({"version":"1.0.0","anyOf":[{"authority":"https://attest.example","allOf":[)"
    R"({"claim":"x-ms-attestation-type","equals":"tpm"}]}]})";

ReleasePolicyDoc policy_doc(const char* text = kPolicy, bool immutable = false) {
  auto p = policy::ReleasePolicy::parse(text);
  EXPECT_TRUE(p) << p.error().message;
  return ReleasePolicyDoc{std::move(*p), immutable};
}

crypto::KeySpec ec256() { return crypto::KeySpec{crypto::KeyKind::ec, 256, crypto::Curve::p256}; }
crypto::KeySpec rsa2048() { return crypto::KeySpec{crypto::KeyKind::rsa, 2048, crypto::Curve::p256}; }
crypto::KeySpec oct256() { return crypto::KeySpec{crypto::KeyKind::oct, 256, crypto::Curve::p256}; }

NewKey plain(crypto::KeySpec spec = ec256()) {
  NewKey k;
  k.spec = spec;
  return k;
}

NewKey exportable(crypto::KeySpec spec = ec256(), bool immutable = false) {
  NewKey k = plain(spec);
  k.exportable = true;
  k.release_policy = policy_doc(kPolicy, immutable);
  return k;
}

bool is_version_id(const std::string& v) {
  return v.size() == 32 && std::all_of(v.begin(), v.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

class VaultTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = dir_.path() / "tlaunchd.db";
    auto kek = kek::open_file_kek(dir_.path() / "kek", true);
    ASSERT_TRUE(kek) << kek.error().message;
    kek_ = std::move(*kek);
    open_vault();
  }

  void open_vault() {
    vault_.reset();
    auto v = Vault::open(db_, *kek_);
    ASSERT_TRUE(v) << v.error().message;
    vault_ = std::move(*v);
  }

  KeyVersion must_create(const std::string& name, const NewKey& k = plain(), int64_t now = kT0) {
    auto v = vault_->create(name, k, now);
    EXPECT_TRUE(v) << v.error().message;
    return v ? *v : KeyVersion{};
  }

  void sql(const std::string& text) {
    auto db = store::Database::open(db_);
    ASSERT_TRUE(db);
    ASSERT_TRUE(db->exec(text)) << text;
  }

  test::TempDir dir_;
  fs::path db_;
  std::unique_ptr<kek::Kek> kek_;
  std::unique_ptr<Vault> vault_;
};

#define EXPECT_REASON(expr, slug)                                              \
  do {                                                                         \
    auto r_ = (expr);                                                          \
    ASSERT_FALSE(r_.ok()) << #expr << " succeeded, expected " << (slug);      \
    EXPECT_EQ(r_.error().reason, (slug)) << r_.error().message;                \
  } while (0)

// ---- Names and versions ---------------------------------------------------------

TEST_F(VaultTest, KeyNamesFollowKeyVaultsRule) {
  must_create(std::string(127, 'a'));
  must_create("Az-09-x");
  for (const std::string& bad : {std::string(), std::string(128, 'a'), std::string("a_b"), std::string("a.b"),
                                std::string("a b"), std::string("a/b"), std::string("caf\xc3\xa9"),
                                std::string("a\0b", 3)}) {
    EXPECT_REASON(vault_->create(bad, plain(), kT0), "key-invalid");
    EXPECT_REASON(vault_->get(bad), "key-invalid");
  }
}

TEST_F(VaultTest, EachCreateAddsAVersionAndTheBareNameIsTheNewestEnabledOne) {
  const KeyVersion v1 = must_create("app", plain(), kT0);
  const KeyVersion v2 = must_create("app", plain(), kT0 + 1);
  const KeyVersion v3 = must_create("app", plain(), kT0 + 2);
  for (const auto* v : {&v1, &v2, &v3}) EXPECT_TRUE(is_version_id(v->version)) << v->version;
  EXPECT_EQ((std::set<std::string>{v1.version, v2.version, v3.version}).size(), 3u);

  auto all = vault_->versions("app");
  ASSERT_TRUE(all);
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ((*all)[0].version, v1.version);  // oldest first
  EXPECT_EQ((*all)[2].version, v3.version);

  EXPECT_EQ(vault_->get("app")->version, v3.version);
  KeyUpdate off;
  off.enabled = false;
  ASSERT_TRUE(vault_->update("app", v3.version, off, kT0 + 3));
  EXPECT_EQ(vault_->get("app")->version, v2.version);
  ASSERT_TRUE(vault_->update("app", v2.version, off, kT0 + 3));
  ASSERT_TRUE(vault_->update("app", v1.version, off, kT0 + 3));
  EXPECT_REASON(vault_->get("app"), "key-disabled");
  // An exact version is still shown (so it can be enabled again).
  auto exact = vault_->get("app", v1.version);
  ASSERT_TRUE(exact);
  EXPECT_FALSE(exact->attributes.enabled);

  EXPECT_REASON(vault_->get("app", std::string(32, '0')), "key-version-not-found");
  EXPECT_REASON(vault_->get("nothing"), "key-not-found");
  EXPECT_REASON(vault_->versions("nothing"), "key-not-found");
}

TEST_F(VaultTest, AVersionShowsWhatWasAskedForAndThePublicKey) {
  NewKey k = plain(rsa2048());
  k.key_ops = {"sign", "verify"};
  k.not_before = kT0 - 10;
  k.expires = kT0 + kDay;
  k.tags = {{"team", "payments"}, {"env", ""}};
  const KeyVersion v = must_create("rsa", k, kT0);
  EXPECT_EQ(v.name, "rsa");
  EXPECT_EQ(v.spec, rsa2048());
  EXPECT_EQ(v.key_ops, (std::vector<std::string>{"sign", "verify"}));
  EXPECT_EQ(v.attributes.not_before, kT0 - 10);
  EXPECT_EQ(v.attributes.expires, kT0 + kDay);
  EXPECT_EQ(v.attributes.created, kT0);
  EXPECT_EQ(v.attributes.updated, kT0);
  EXPECT_TRUE(v.attributes.enabled);
  EXPECT_FALSE(v.attributes.exportable);
  EXPECT_FALSE(v.release_policy);
  EXPECT_EQ(v.public_jwk.value("kty", ""), "RSA");
  EXPECT_TRUE(v.public_jwk.contains("n"));
  EXPECT_FALSE(v.public_jwk.contains("d"));

  // Read back from the store, the same.
  auto back = vault_->get("rsa", v.version);
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(back->spec, v.spec);
  EXPECT_EQ(back->key_ops, v.key_ops);
  EXPECT_EQ(back->attributes.not_before, v.attributes.not_before);
  EXPECT_EQ(back->attributes.expires, v.attributes.expires);
  EXPECT_EQ(back->tags, v.tags);
  EXPECT_EQ(back->public_jwk, v.public_jwk);
}

TEST_F(VaultTest, KeyOpsDefaultToTheKindsAndOthersAreRefusedByName) {
  EXPECT_EQ(must_create("r", plain(rsa2048())).key_ops, crypto::supported_key_ops(crypto::KeyKind::rsa));
  EXPECT_EQ(must_create("e", plain(ec256())).key_ops, crypto::supported_key_ops(crypto::KeyKind::ec));
  EXPECT_EQ(must_create("o", plain(oct256())).key_ops, crypto::supported_key_ops(crypto::KeyKind::oct));

  NewKey k = plain(ec256());
  k.key_ops = {"sign", "encrypt"};
  auto r = vault_->create("e2", k, kT0);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().reason, "key-invalid");
  EXPECT_THAT(r.error().message, HasSubstr("\"encrypt\""));
  k.key_ops = {"sign", "sign"};
  EXPECT_REASON(vault_->create("e2", k, kT0), "key-invalid");
  k.key_ops = {"bogus"};
  EXPECT_REASON(vault_->create("e2", k, kT0), "key-invalid");
  // Nothing was stored by the refused creates.
  EXPECT_REASON(vault_->get("e2"), "key-not-found");

  KeyUpdate u;
  u.key_ops = std::vector<std::string>{"verify"};
  auto updated = vault_->update("e", "", u, kT0 + 1);
  ASSERT_TRUE(updated) << updated.error().message;
  EXPECT_EQ(updated->key_ops, std::vector<std::string>{"verify"});
  u.key_ops = std::vector<std::string>{"wrapKey"};
  EXPECT_REASON(vault_->update("e", "", u, kT0 + 1), "key-invalid");
}

TEST_F(VaultTest, TagsAndValidityAreChecked) {
  NewKey k = plain();
  for (int i = 0; i < 16; ++i) k.tags["t" + std::to_string(i)] = "v";
  EXPECT_REASON(vault_->create("k", k, kT0), "key-invalid");
  k.tags = {{"t", std::string(257, 'v')}};
  EXPECT_REASON(vault_->create("k", k, kT0), "key-invalid");
  k.tags = {{std::string(513, 't'), "v"}};
  EXPECT_REASON(vault_->create("k", k, kT0), "key-invalid");
  k.tags = {};
  k.not_before = kT0 + 10;
  k.expires = kT0 + 10;
  EXPECT_REASON(vault_->create("k", k, kT0), "key-invalid");
}

// ---- Exportable and policy rules --------------------------------------------------

TEST_F(VaultTest, ExportableNeedsAPolicyAndAPolicyNeedsExportable) {
  NewKey k = plain();
  k.exportable = true;
  EXPECT_REASON(vault_->create("k", k, kT0), "exportable-needs-policy");
  k = plain();
  k.release_policy = policy_doc();
  EXPECT_REASON(vault_->create("k", k, kT0), "policy-needs-exportable");

  const KeyVersion v = must_create("k", exportable());
  EXPECT_TRUE(v.attributes.exportable);
  ASSERT_TRUE(v.release_policy);
  EXPECT_EQ(v.release_policy->policy.json(), nlohmann::json::parse(kPolicy));
  auto back = vault_->get("k");
  ASSERT_TRUE(back->release_policy);
  EXPECT_EQ(back->release_policy->policy.json(), nlohmann::json::parse(kPolicy));
  EXPECT_FALSE(back->release_policy->immutable);

  // A policy cannot be put on a non-exportable key by update either.
  must_create("plain");
  KeyUpdate u;
  u.release_policy = policy_doc();
  EXPECT_REASON(vault_->update("plain", "", u, kT0), "policy-needs-exportable");
}

TEST_F(VaultTest, ExportableNeverChanges) {
  const KeyVersion e = must_create("e", exportable());
  const KeyVersion p = must_create("p");
  KeyUpdate u;
  u.exportable = false;
  EXPECT_REASON(vault_->update("e", e.version, u, kT0), "exportable-immutable");
  u.exportable = true;
  EXPECT_REASON(vault_->update("p", p.version, u, kT0), "exportable-immutable");
  // Restating the value it has is no change.
  EXPECT_TRUE(vault_->update("e", e.version, u, kT0 + 1));
  EXPECT_TRUE(vault_->get("e")->attributes.exportable);
  EXPECT_FALSE(vault_->get("p")->attributes.exportable);
}

TEST_F(VaultTest, AMutablePolicyIsReplacedAnImmutableOneNever) {
  const KeyVersion v = must_create("k", exportable());
  KeyUpdate u;
  u.release_policy = policy_doc(kOtherPolicy);
  auto changed = vault_->update("k", v.version, u, kT0 + 5);
  ASSERT_TRUE(changed) << changed.error().message;
  EXPECT_EQ(changed->attributes.updated, kT0 + 5);
  EXPECT_EQ(vault_->get("k")->release_policy->policy.json(), nlohmann::json::parse(kOtherPolicy));

  // Making it immutable is a change allowed once…
  u.release_policy = policy_doc(kOtherPolicy, true);
  ASSERT_TRUE(vault_->update("k", v.version, u, kT0 + 6));
  EXPECT_TRUE(vault_->get("k")->release_policy->immutable);
  // …after which nothing changes it: another policy, the same one, or mutable again.
  for (auto doc : {policy_doc(kPolicy, true), policy_doc(kOtherPolicy, true), policy_doc(kOtherPolicy, false)}) {
    KeyUpdate again;
    again.release_policy = doc;
    EXPECT_REASON(vault_->update("k", v.version, again, kT0 + 7), "release-policy-immutable");
  }
  auto now = vault_->get("k");
  EXPECT_EQ(now->release_policy->policy.json(), nlohmann::json::parse(kOtherPolicy));
  EXPECT_TRUE(now->release_policy->immutable);
  EXPECT_EQ(now->attributes.updated, kT0 + 6);
  // Other attributes still change.
  KeyUpdate off;
  off.enabled = false;
  EXPECT_TRUE(vault_->update("k", v.version, off, kT0 + 8));
}

TEST_F(VaultTest, ANewVersionByCreateOrImportCannotWidenWhatTheKeyPromised) {
  // Exportability of a key's versions never changes, whichever way.
  must_create("e", exportable());
  EXPECT_REASON(vault_->create("e", plain(), kT0 + 1), "exportable-immutable");
  must_create("p");
  EXPECT_REASON(vault_->create("p", exportable(), kT0 + 1), "exportable-immutable");
  auto m = crypto::KeyMaterial::generate(oct256());
  ASSERT_TRUE(m);
  EXPECT_REASON(vault_->import("p", std::move(*m), exportable(oct256()), kT0 + 1), "exportable-immutable");

  // An immutable policy: a new version must carry the same one, immutable.
  const KeyVersion v1 = must_create("locked", exportable(ec256(), /*immutable=*/true));
  NewKey wider = exportable();
  wider.release_policy = policy_doc(kOtherPolicy, true);
  EXPECT_REASON(vault_->create("locked", wider, kT0 + 2), "release-policy-immutable");
  EXPECT_REASON(vault_->create("locked", exportable(ec256(), /*immutable=*/false), kT0 + 2), "release-policy-immutable");
  auto m2 = crypto::KeyMaterial::generate(ec256());
  ASSERT_TRUE(m2);
  EXPECT_REASON(vault_->import("locked", std::move(*m2), wider, kT0 + 2), "release-policy-immutable");
  EXPECT_EQ(vault_->get("locked")->version, v1.version);  // the bare name still releases v1
  // The same policy, immutable, is a new version like rotate would make.
  auto same = vault_->create("locked", exportable(ec256(), true), kT0 + 3);
  ASSERT_TRUE(same) << same.error().message;
  EXPECT_NE(same->version, v1.version);
  auto rotated = vault_->rotate("locked", kT0 + 4);
  ASSERT_TRUE(rotated) << rotated.error().message;
  EXPECT_TRUE(rotated->attributes.exportable);
  auto released = vault_->material("locked", rotated->version, kT0 + 5);
  EXPECT_TRUE(released) << released.error().message;
}

TEST_F(VaultTest, AStoredPolicyThatNoLongerParsesIsAnErrorNotDropped) {
  const KeyVersion v = must_create("k", exportable());
  sql("UPDATE vault_key_versions SET policy_json = '{\"version\":\"2.0.0\",\"anyOf\":[]}'");
  auto r = vault_->get("k", v.version);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().reason, "internal-error");
  EXPECT_THAT(r.error().message, HasSubstr("no longer parses"));
  EXPECT_REASON(vault_->material("k", v.version, kT0), "internal-error");
}

TEST_F(VaultTest, RowsEditedIntoNonsenseAreInternalErrorsNamingTheColumn) {
  const KeyVersion v = must_create("k", exportable());
  const std::vector<std::pair<std::string, std::string>> edits = {
      {"key_ops = 'sign'", "key_ops"},
      {"key_ops = '[1]'", "key_ops"},
      {"key_ops = '{}'", "key_ops"},
      {"tags = '[]'", "tags"},
      {"tags = '{\"a\":1}'", "tag a"},
      {"tags = '{'", "tags"},
      {"public_jwk = '\"x\"'", "public_jwk"},
      {"public_jwk = ''", "public_jwk"},
      {"crv = NULL", "crv"},
      {"crv = 'P-192'", "crv"},
      {"bits = 0", "bits"},
      {"policy_json = '[]'", "release policy"},
      {"policy_json = '{\"version\":\"1.0.0\",\"anyOf\":[]}'", "release policy"},
  };
  for (const auto& [set, what] : edits) {
    auto db = store::Database::open(db_);
    ASSERT_TRUE(db);
    ASSERT_TRUE(db->exec("CREATE TABLE IF NOT EXISTS backup AS SELECT * FROM vault_key_versions WHERE 0"));
    ASSERT_TRUE(db->exec("DELETE FROM backup; INSERT INTO backup SELECT * FROM vault_key_versions"));
    ASSERT_TRUE(db->exec("UPDATE vault_key_versions SET " + set)) << set;
    for (auto r : {vault_->get("k", v.version), vault_->get("k")}) {
      ASSERT_FALSE(r) << set;
      EXPECT_EQ(r.error().reason, "internal-error") << set;
      EXPECT_THAT(r.error().message, HasSubstr(what)) << set;
    }
    EXPECT_REASON(vault_->list("", 10), "internal-error");
    EXPECT_REASON(vault_->material("k", v.version, kT0), "internal-error");
    ASSERT_TRUE(db->exec("DELETE FROM vault_key_versions; INSERT INTO vault_key_versions SELECT * FROM backup"));
    EXPECT_TRUE(vault_->get("k")) << "restored after " << set;
  }
}

TEST_F(VaultTest, UpdateChangesOnlyWhatIsSet) {
  NewKey k = plain();
  k.not_before = kT0;
  k.tags = {{"a", "1"}};
  const KeyVersion v1 = must_create("k", k);
  const KeyVersion v2 = must_create("k", k);
  KeyUpdate u;
  u.expires = std::optional<int64_t>(kT0 + kDay);
  u.not_before = std::optional<int64_t>();  // cleared
  auto r = vault_->update("k", "", u, kT0 + 9);  // no version: the newest
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->version, v2.version);
  EXPECT_FALSE(r->attributes.not_before);
  EXPECT_EQ(r->attributes.expires, kT0 + kDay);
  EXPECT_EQ(r->tags, k.tags);
  EXPECT_EQ(r->attributes.created, kT0);
  EXPECT_EQ(r->attributes.updated, kT0 + 9);
  EXPECT_EQ(vault_->get("k", v1.version)->attributes.not_before, kT0);  // the other version untouched

  KeyUpdate tags;
  tags.tags = std::map<std::string, std::string>{{"b", "2"}};
  EXPECT_EQ(vault_->update("k", v1.version, tags, kT0)->tags, (std::map<std::string, std::string>{{"b", "2"}}));
  KeyUpdate bad;
  bad.not_before = std::optional<int64_t>(kT0 + 2 * kDay);  // after exp
  EXPECT_REASON(vault_->update("k", v2.version, bad, kT0), "key-invalid");
  EXPECT_REASON(vault_->update("k", std::string(32, 'f'), tags, kT0), "key-version-not-found");
  EXPECT_REASON(vault_->update("nope", "", tags, kT0), "key-not-found");
}

// ---- Rotate and import ------------------------------------------------------------

TEST_F(VaultTest, RotateCopiesTheNewestVersionsSettingsWithNewMaterial) {
  NewKey k = exportable(rsa2048(), /*immutable=*/true);
  k.key_ops = {"wrapKey", "unwrapKey"};
  k.tags = {{"owner", "ci"}};
  k.expires = kT0 + kDay;
  const KeyVersion v1 = must_create("k", k);
  auto v2 = vault_->rotate("k", kT0 + 100);
  ASSERT_TRUE(v2) << v2.error().message;
  EXPECT_NE(v2->version, v1.version);
  EXPECT_EQ(v2->spec, rsa2048());
  EXPECT_EQ(v2->key_ops, k.key_ops);
  EXPECT_TRUE(v2->attributes.exportable);
  ASSERT_TRUE(v2->release_policy);
  EXPECT_TRUE(v2->release_policy->immutable);
  EXPECT_EQ(v2->release_policy->policy.json(), nlohmann::json::parse(kPolicy));
  EXPECT_EQ(v2->tags, k.tags);
  EXPECT_EQ(v2->attributes.created, kT0 + 100);
  EXPECT_NE(v2->public_jwk, v1.public_jwk);
  EXPECT_EQ(vault_->get("k")->version, v2->version);

  auto m1 = vault_->material("k", v1.version, kT0 + 100);
  auto m2 = vault_->material("k", v2->version, kT0 + 100);
  ASSERT_TRUE(m1 && m2);
  EXPECT_FALSE(m1->release_bytes() == m2->release_bytes());

  EXPECT_REASON(vault_->rotate("missing", kT0), "key-not-found");
  ASSERT_TRUE(vault_->remove("k", kT0 + 200));
  EXPECT_REASON(vault_->rotate("k", kT0 + 201), "key-deleted");
}

TEST_F(VaultTest, ImportTakesTheMaterialsSpecAndGivesItBackExactly) {
  auto made = crypto::KeyMaterial::generate(crypto::KeySpec{crypto::KeyKind::ec, 384, crypto::Curve::p384});
  ASSERT_TRUE(made);
  const crypto::SecretBytes original = made->release_bytes();
  const nlohmann::json jwk = made->public_jwk();
  NewKey k = exportable(rsa2048());  // the spec is ignored: the material decides
  auto v = vault_->import("byok", std::move(*made), k, kT0);
  ASSERT_TRUE(v) << v.error().message;
  EXPECT_EQ(v->spec, (crypto::KeySpec{crypto::KeyKind::ec, 384, crypto::Curve::p384}));
  EXPECT_EQ(v->key_ops, crypto::supported_key_ops(crypto::KeyKind::ec));
  EXPECT_EQ(v->public_jwk, jwk);
  auto m = vault_->material("byok", v->version, kT0);
  ASSERT_TRUE(m) << m.error().message;
  EXPECT_TRUE(m->release_bytes() == original);

  auto again = crypto::KeyMaterial::generate(oct256());
  ASSERT_TRUE(again);
  NewKey ops = plain();
  ops.key_ops = {"sign"};  // not an oct operation
  EXPECT_REASON(vault_->import("byok2", std::move(*again), ops, kT0), "key-invalid");
}

// ---- Material ---------------------------------------------------------------------

TEST_F(VaultTest, MaterialIsRefusedWhenDisabledDeletedNotYetValidOrExpired) {
  NewKey k = plain(oct256());
  k.not_before = kT0 + 100;
  k.expires = kT0 + 200;
  const KeyVersion v = must_create("k", k);
  auto early = vault_->material("k", v.version, kT0 + 99);
  ASSERT_FALSE(early);
  EXPECT_EQ(early.error().reason, "key-disabled");
  EXPECT_THAT(early.error().message, HasSubstr("not valid before"));
  EXPECT_TRUE(vault_->material("k", v.version, kT0 + 100));
  EXPECT_TRUE(vault_->material("k", v.version, kT0 + 199));
  auto late = vault_->material("k", v.version, kT0 + 200);
  ASSERT_FALSE(late);
  EXPECT_EQ(late.error().reason, "key-disabled");
  EXPECT_THAT(late.error().message, HasSubstr("not valid after"));

  KeyUpdate off;
  off.enabled = false;
  ASSERT_TRUE(vault_->update("k", v.version, off, kT0));
  EXPECT_REASON(vault_->material("k", v.version, kT0 + 150), "key-disabled");
  off.enabled = true;
  ASSERT_TRUE(vault_->update("k", v.version, off, kT0));
  EXPECT_TRUE(vault_->material("k", v.version, kT0 + 150));

  EXPECT_REASON(vault_->material("k", "", kT0 + 150), "key-invalid");  // exact versions only
  EXPECT_REASON(vault_->material("k", std::string(32, 'a'), kT0 + 150), "key-version-not-found");
  EXPECT_REASON(vault_->material("none", v.version, kT0 + 150), "key-not-found");
  ASSERT_TRUE(vault_->remove("k", kT0 + 150));
  EXPECT_REASON(vault_->material("k", v.version, kT0 + 150), "key-deleted");
}

TEST_F(VaultTest, SealedMaterialIsBoundToItsRow) {
  const KeyVersion a = must_create("a");
  const KeyVersion b = must_create("b");
  // Another row's sealed blob (same kind and size) does not unseal here: the aad names key and version.
  sql("UPDATE vault_key_versions SET sealed_material = (SELECT sealed_material FROM vault_key_versions "
      "WHERE name = 'a') WHERE name = 'b'");
  auto r = vault_->material("b", b.version, kT0);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().reason, "internal-error");
  EXPECT_TRUE(vault_->material("a", a.version, kT0));
}

// ---- Soft delete ------------------------------------------------------------------

TEST_F(VaultTest, DeleteRecoverAndPurge) {
  const KeyVersion v1 = must_create("k");
  const KeyVersion v2 = must_create("k");
  auto d = vault_->remove("k", kT0 + 10);
  ASSERT_TRUE(d) << d.error().message;
  EXPECT_EQ(d->newest.version, v2.version);
  EXPECT_EQ(d->deleted_at, kT0 + 10);
  EXPECT_EQ(d->scheduled_purge_at, kT0 + 10 + 90 * kDay);

  // Every version is deleted with the key.
  EXPECT_REASON(vault_->get("k"), "key-deleted");
  EXPECT_REASON(vault_->get("k", v1.version), "key-deleted");
  EXPECT_REASON(vault_->versions("k"), "key-deleted");
  EXPECT_REASON(vault_->remove("k", kT0 + 11), "key-deleted");
  EXPECT_TRUE(vault_->list("", 10)->empty());
  auto deleted = vault_->list_deleted();
  ASSERT_TRUE(deleted);
  ASSERT_EQ(deleted->size(), 1u);
  EXPECT_EQ((*deleted)[0].newest.name, "k");
  EXPECT_EQ(vault_->get_deleted("k")->scheduled_purge_at, kT0 + 10 + 90 * kDay);

  // A deleted name cannot be created again…
  auto again = vault_->create("k", plain(), kT0 + 12);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().reason, "key-conflict");
  EXPECT_THAT(again.error().message, HasSubstr("recover"));
  EXPECT_THAT(again.error().message, HasSubstr("purge"));
  EXPECT_REASON(vault_->import("k", *crypto::KeyMaterial::generate(ec256()), plain(), kT0 + 12), "key-conflict");

  // …until it is recovered, with every version back.
  auto r = vault_->recover("k", kT0 + 13);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->version, v2.version);
  EXPECT_EQ(vault_->versions("k")->size(), 2u);
  EXPECT_TRUE(vault_->material("k", v1.version, kT0 + 13));
  EXPECT_REASON(vault_->get_deleted("k"), "key-not-found");
  EXPECT_REASON(vault_->recover("k", kT0 + 14), "key-conflict");

  // Purge: only a deleted key.
  auto p = vault_->purge("k");
  ASSERT_FALSE(p);
  EXPECT_EQ(p.error().reason, "key-conflict");
  EXPECT_THAT(p.error().message, HasSubstr("not deleted"));
  ASSERT_TRUE(vault_->remove("k", kT0 + 20));
  ASSERT_TRUE(vault_->purge("k"));
  EXPECT_REASON(vault_->get("k"), "key-not-found");
  EXPECT_REASON(vault_->get_deleted("k"), "key-not-found");
  EXPECT_REASON(vault_->purge("k"), "key-not-found");
  EXPECT_REASON(vault_->recover("k", kT0 + 21), "key-not-found");
  // The name is free again; a new key starts from one version.
  must_create("k");
  EXPECT_EQ(vault_->versions("k")->size(), 1u);
}

TEST_F(VaultTest, PurgingAKeyRemovesTheAccessPoliciesScopedToIt) {
  auto ac = AccessControl::open(db_);
  ASSERT_TRUE(ac) << ac.error().message;
  must_create("gone");
  must_create("other");
  ASSERT_TRUE((*ac)->set_policy("vm:v-1", "gone", {Operation::release}, kT0));
  ASSERT_TRUE((*ac)->set_policy("vm:v-1", "other", {Operation::release}, kT0));
  ASSERT_TRUE((*ac)->set_policy("vm:v-1", "*", {Operation::get}, kT0));
  ASSERT_TRUE(vault_->remove("gone", kT0));
  // Deleted but recoverable: the grant stays with it.
  auto count = [&] {
    auto fresh = AccessControl::open(db_);
    EXPECT_TRUE(fresh);
    return fresh ? (*fresh)->policies()->size() : size_t{0};
  };
  EXPECT_EQ(count(), 3u);
  ASSERT_TRUE(vault_->purge("gone"));
  EXPECT_EQ(count(), 2u);
  auto fresh = AccessControl::open(db_);
  ASSERT_TRUE(fresh);
  // A new key of the purged name does not inherit the old grant.
  must_create("gone");
  EXPECT_FALSE((*fresh)->allowed("vm:v-1", Operation::release, "gone"));
  EXPECT_TRUE((*fresh)->allowed("vm:v-1", Operation::release, "other"));
  // The retention sweep does the same.
  ASSERT_TRUE((*ac)->set_policy("vm:v-1", "gone", {Operation::release}, kT0 + 1));
  ASSERT_TRUE(vault_->remove("gone", kT0 + 2));
  ASSERT_TRUE(vault_->purge_expired(kT0 + 2 + 91 * kDay));
  EXPECT_EQ(count(), 2u);
}

TEST_F(VaultTest, PurgeExpiredRemovesOnlyKeysPastTheirRetention) {
  VaultOptions o;
  o.retention_days = 7;
  vault_.reset();
  auto v = Vault::open(db_, *kek_, o);
  ASSERT_TRUE(v) << v.error().message;
  vault_ = std::move(*v);
  must_create("early");
  must_create("late");
  must_create("kept");
  ASSERT_TRUE(vault_->remove("early", kT0));
  ASSERT_TRUE(vault_->remove("late", kT0 + kDay));
  EXPECT_EQ(vault_->get_deleted("early")->scheduled_purge_at, kT0 + 7 * kDay);

  EXPECT_EQ(*vault_->purge_expired(kT0 + 7 * kDay - 1), 0u);
  // Past its scheduled purge a key is no longer recoverable, even before the sweep.
  EXPECT_REASON(vault_->recover("early", kT0 + 7 * kDay), "key-not-found");
  EXPECT_EQ(*vault_->purge_expired(kT0 + 7 * kDay), 1u);
  EXPECT_REASON(vault_->get_deleted("early"), "key-not-found");
  EXPECT_TRUE(vault_->get_deleted("late"));
  EXPECT_EQ(*vault_->purge_expired(kT0 + 8 * kDay), 1u);
  EXPECT_TRUE(vault_->list_deleted()->empty());
  EXPECT_TRUE(vault_->get("kept"));
  // Versions went with their keys (ON DELETE CASCADE).
  auto db = store::Database::open(db_);
  auto st = db->prepare("SELECT COUNT(*) FROM vault_key_versions");
  ASSERT_TRUE(*st->step());
  EXPECT_EQ(*st->column_int64(0), 1);
}

TEST_F(VaultTest, RetentionOutsideKeyVaultsRangeIsRefused) {
  for (int days : {6, 91, 0, -1}) {
    VaultOptions o;
    o.retention_days = days;
    EXPECT_FALSE(Vault::open(db_, *kek_, o)) << days;
  }
}

// ---- Listing ----------------------------------------------------------------------

TEST_F(VaultTest, ListPagesByNameOverLiveKeysNewestVersion) {
  const std::vector<std::string> names = {"k5", "k1", "k3", "k7", "k2", "k6", "k4"};
  for (const auto& n : names) must_create(n);
  const KeyVersion newest = must_create("k3");
  ASSERT_TRUE(vault_->remove("k6", kT0));

  std::vector<std::string> seen;
  std::string after;
  int pages = 0;
  while (true) {
    auto page = vault_->list(after, 2);
    ASSERT_TRUE(page) << page.error().message;
    if (page->empty()) break;
    EXPECT_LE(page->size(), 2u);
    for (const auto& v : *page) {
      seen.push_back(v.name);
      if (v.name == "k3") {
        EXPECT_EQ(v.version, newest.version);
      }
    }
    after = page->back().name;
    ++pages;
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"k1", "k2", "k3", "k4", "k5", "k7"}));
  EXPECT_EQ(pages, 3);
  EXPECT_TRUE(vault_->list("", 0)->empty());
  EXPECT_EQ(vault_->list("k4", 100)->size(), 2u);
}

// ---- The KEK ----------------------------------------------------------------------

TEST_F(VaultTest, ReopeningWithTheSameKekReadsTheMaterialAgain) {
  const KeyVersion v = must_create("k", plain(oct256()));
  auto before = vault_->material("k", v.version, kT0);
  ASSERT_TRUE(before);
  const crypto::SecretBytes bytes = before->release_bytes();
  vault_.reset();
  kek_.reset();
  auto kek = kek::open_file_kek(dir_.path() / "kek", false);
  ASSERT_TRUE(kek) << kek.error().message;
  kek_ = std::move(*kek);
  open_vault();
  auto after = vault_->material("k", v.version, kT0);
  ASSERT_TRUE(after) << after.error().message;
  EXPECT_TRUE(after->release_bytes() == bytes);
}

TEST_F(VaultTest, AnotherKekIsAKekMismatch) {
  must_create("k");
  vault_.reset();
  auto other = kek::open_file_kek(dir_.path() / "other-kek", true);
  ASSERT_TRUE(other);
  auto v = Vault::open(db_, **other);
  ASSERT_FALSE(v);
  EXPECT_EQ(v.error().reason, "kek-mismatch");
  EXPECT_THAT(v.error().message, HasSubstr("file"));
  // The vault's data key was not replaced by the failed open.
  open_vault();
  EXPECT_TRUE(vault_->get("k"));
}

// ---- At rest ----------------------------------------------------------------------

bool contains(const Bytes& hay, ByteView needle) {
  return !needle.empty() && std::search(hay.begin(), hay.end(), needle.begin(), needle.end()) != hay.end();
}

TEST_F(VaultTest, TheStoreFilesNeverHoldKeyMaterialInTheClear) {
  std::vector<std::pair<std::string, crypto::SecretBytes>> secrets;
  std::vector<std::string> public_n;
  const std::vector<std::pair<std::string, NewKey>> keys = {
      {"rsa", exportable(rsa2048())}, {"ec", plain(ec256())}, {"oct", exportable(oct256())}};
  for (const auto& [name, k] : keys) {
    const KeyVersion v = must_create(name, k);
    auto m = vault_->material(name, v.version, kT0);
    ASSERT_TRUE(m) << m.error().message;
    secrets.emplace_back(name, m->release_bytes());
    if (v.public_jwk.contains("n")) public_n.push_back(v.public_jwk["n"].get<std::string>());
  }
  auto made = crypto::KeyMaterial::generate(rsa2048());
  ASSERT_TRUE(made);
  secrets.emplace_back("imported", made->release_bytes());
  ASSERT_TRUE(vault_->import("imported", std::move(*made), plain(), kT0));

  // The files as they are on disk now: the database and its WAL (where
  // recent commits live until a checkpoint).
  Bytes files = test::read_file(db_);
  if (fs::exists(db_.string() + "-wal")) {
    const Bytes wal = test::read_file(db_.string() + "-wal");
    files.insert(files.end(), wal.begin(), wal.end());
  }
  // The search finds what is stored in the clear: the public modulus.
  ASSERT_FALSE(public_n.empty());
  EXPECT_TRUE(contains(files, as_bytes(public_n[0])));
  for (const auto& [name, secret] : secrets) {
    ASSERT_GE(secret.size(), 32u) << name;
    EXPECT_FALSE(contains(files, secret.view())) << name << ": the whole material is in the file";
    // Nor any 16-byte piece of it (the RSA/EC PKCS#8 DER or the raw oct key).
    for (size_t off = 0; off + 16 <= secret.size(); off += 8) {
      ASSERT_FALSE(contains(files, secret.view().subspan(off, 16))) << name << ": bytes at " << off;
    }
  }
  // After a checkpoint the database file alone holds everything: still nothing.
  vault_.reset();
  {
    auto db = store::Database::open(db_);
    ASSERT_TRUE(db);
    ASSERT_TRUE(db->exec("PRAGMA wal_checkpoint(TRUNCATE)"));
  }
  const Bytes main_file = test::read_file(db_);
  EXPECT_TRUE(contains(main_file, as_bytes(public_n[0])));
  for (const auto& [name, secret] : secrets) EXPECT_FALSE(contains(main_file, secret.view())) << name;
}

// ---- Concurrency ------------------------------------------------------------------

TEST_F(VaultTest, ConcurrentCreatesFromFourThreadsAllLand) {
  constexpr int kThreads = 4, kEach = 6;
  std::vector<std::thread> threads;
  std::vector<std::vector<std::string>> made(kThreads);
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        // Half on one shared name (versions race for seq), half on the thread's own.
        const std::string name = i % 2 == 0 ? "shared" : "own-" + std::to_string(t);
        auto v = vault_->create(name, plain(), kT0 + i);
        if (!v) {
          ++failures;
          continue;
        }
        made[t].push_back(v->version);
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  auto shared = vault_->versions("shared");
  ASSERT_TRUE(shared);
  EXPECT_EQ(shared->size(), size_t{kThreads * kEach / 2});
  std::set<std::string> ids;
  for (const auto& v : *shared) ids.insert(v.version);
  EXPECT_EQ(ids.size(), shared->size());
  for (int t = 0; t < kThreads; ++t) {
    EXPECT_EQ(vault_->versions("own-" + std::to_string(t))->size(), size_t{kEach / 2});
  }
  // Every version returned to a caller is stored, and the bare name is the last one written.
  size_t total = 0;
  for (const auto& m : made) total += m.size();
  EXPECT_EQ(total, size_t{kThreads * kEach});
  EXPECT_EQ(vault_->get("shared")->version, shared->back().version);
}

}  // namespace
}  // namespace tl::keys
