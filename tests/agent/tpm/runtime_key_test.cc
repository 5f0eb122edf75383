// The runtime key for Secure Key Release: certified by the AK for the nonce,
// exactly the specified attributes, an authPolicy equal to PolicyPCR over the
// PCR values (computed here independently), OAEP decryption in the TPM that
// stops working when a bound PCR changes; its stored blob and hostile blobs.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "agent_tpm_fixture.h"
#include "crypto/seed_encryption.h"
#include "tpm/attest.h"
#include "tpm/constants.h"
#include "tpm/signature.h"

namespace tl::agent::tpm::testing {
namespace {

using crypto::HashAlg;

const std::vector<uint32_t> kPolicyPcrs = {0, 1, 2, 3, 4, 5, 6, 7};

// TPM2_PolicyPCR (Part 3, 23.7): policyDigest' = H(policyDigest (zeros) ||
// TPM_CC_PolicyPCR || TPML_PCR_SELECTION || H(PCR values in selection order)).
Bytes policy_pcr_digest(const std::vector<uint32_t>& pcrs, const tl::tpm::PcrMap& values) {
  Bytes concat;
  uint8_t bitmap[3] = {0, 0, 0};
  for (uint32_t p : pcrs) {
    concat.insert(concat.end(), values.at(p).begin(), values.at(p).end());
    bitmap[p / 8] = static_cast<uint8_t>(bitmap[p / 8] | (1u << (p % 8)));
  }
  const Bytes pcr_digest = *crypto::digest(HashAlg::sha256, concat);
  const uint8_t cc_and_selection[] = {0x00, 0x00, 0x01, 0x7f,  // TPM_CC_PolicyPCR
                                      0x00, 0x00, 0x00, 0x01,  // count
                                      0x00, 0x0b,              // TPM_ALG_SHA256
                                      0x03, bitmap[0], bitmap[1], bitmap[2]};
  Bytes msg(32 + sizeof cc_and_selection + pcr_digest.size(), 0);  // old policyDigest: zeros
  std::copy(std::begin(cc_and_selection), std::end(cc_and_selection), msg.begin() + 32);
  std::copy(pcr_digest.begin(), pcr_digest.end(), msg.begin() + 32 + sizeof cc_and_selection);
  return *crypto::digest(HashAlg::sha256, msg);
}

class AgentTpmRuntimeKey : public SwtpmSuite {
 protected:
  static crypto::PublicKey rsa_key(const RuntimeKey& k) {
    auto key = parse(k.public_area).public_key();
    EXPECT_TRUE(key.ok());
    return *key;
  }
};

TEST_F(AgentTpmRuntimeKey, CertifiedByTheAkWithExactAttributesAndPcrPolicy) {
  Tpm tpm = open();
  auto ak = tpm.attestation_key();
  ASSERT_TRUE(ak.ok()) << ak.error().message;
  ASSERT_TRUE(extend(tpm, 7, HashAlg::sha256, Bytes(32, 0x77)).ok());  // a non-zero bound value
  const Bytes nonce = bytes_of("a5a5a5a5000102030405060708090a0b");
  auto rk = tpm.create_runtime_key(nonce, kPolicyPcrs);
  ASSERT_TRUE(rk.ok()) << rk.error().message;
  EXPECT_NOTHING_LOADED(tpm);

  // TPMS_ATTEST of TPM2_Certify, for our nonce, signed by the AK.
  auto attest = tl::tpm::parse_attest(rk->certify_info);
  ASSERT_TRUE(attest.ok()) << attest.error().message;
  EXPECT_EQ(attest->magic, tl::tpm::kGeneratedValue);
  EXPECT_EQ(attest->type, tl::tpm::st::kAttestCertify);
  EXPECT_EQ(attest->extra_data, nonce);
  ASSERT_TRUE(attest->certify.has_value());
  auto sig = tl::tpm::parse_signature(rk->signature);
  ASSERT_TRUE(sig.ok()) << sig.error().message;
  auto ak_key = parse(ak->public_area).public_key();
  ASSERT_TRUE(ak_key.ok());
  EXPECT_TRUE(tl::tpm::verify_signature(*ak_key, rk->certify_info, *sig).ok());
  Bytes tampered = rk->certify_info;
  tampered.back() ^= 1;
  EXPECT_FALSE(tl::tpm::verify_signature(*ak_key, tampered, *sig).ok());

  // The certified Name is the Name of the public area we were given.
  const tl::tpm::PublicArea key = parse(rk->public_area);
  auto name = key.name();
  ASSERT_TRUE(name.ok());
  EXPECT_EQ(to_hex(attest->certify->name), to_hex(*name));

  // decrypt | fixedTPM | fixedParent | sensitiveDataOrigin, nothing else.
  EXPECT_EQ(key.attributes.raw, 0x00020032u);
  EXPECT_TRUE(key.attributes.decrypt);
  EXPECT_FALSE(key.attributes.sign);
  EXPECT_FALSE(key.attributes.restricted);
  EXPECT_FALSE(key.attributes.user_with_auth);
  EXPECT_EQ(key.name_alg, HashAlg::sha256);
  ASSERT_TRUE(key.rsa.has_value());
  EXPECT_EQ(key.rsa->key_bits, 2048);
  EXPECT_EQ(key.rsa->scheme.scheme, tl::tpm::alg::kNull);
  EXPECT_EQ(key.rsa->symmetric.algorithm, tl::tpm::alg::kNull);

  // authPolicy = PolicyPCR over the PCR values as they are now.
  auto now = tpm.read_pcrs(std::vector{HashAlg::sha256}, kPolicyPcrs);
  ASSERT_TRUE(now.ok());
  EXPECT_EQ(rk->policy_pcr_values, now->at(HashAlg::sha256));
  EXPECT_EQ(rk->policy_pcrs, kPolicyPcrs);
  EXPECT_EQ(to_hex(key.auth_policy), to_hex(policy_pcr_digest(kPolicyPcrs, now->at(HashAlg::sha256))));
}

TEST_F(AgentTpmRuntimeKey, OaepDecryptsInTheTpmWithEachHash) {
  Tpm tpm = open();
  auto rk = tpm.create_runtime_key(bytes_of("01"), kPolicyPcrs);
  ASSERT_TRUE(rk.ok()) << rk.error().message;
  auto loaded = tpm.load_runtime_key(rk->blob);
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  auto handles = tpm.loaded_handles();
  ASSERT_TRUE(handles.ok());
  EXPECT_EQ(handles->size(), 1u);  // the key, and nothing else
  const Bytes secret = bytes_of("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");
  for (HashAlg h : {HashAlg::sha256, HashAlg::sha384, HashAlg::sha1}) {
    auto ct = crypto::rsa_oaep_encrypt(rsa_key(*rk), h, {}, secret);
    ASSERT_TRUE(ct.ok()) << ct.error().message;
    auto pt = tpm.rsa_decrypt_oaep(*loaded, *ct, h);
    ASSERT_TRUE(pt.ok()) << crypto::hash_name(h) << ": " << pt.error().message;
    EXPECT_EQ(to_hex(pt->view()), to_hex(secret)) << crypto::hash_name(h);
  }
  // The OAEP hash is part of the padding: another hash does not decrypt it.
  auto ct = crypto::rsa_oaep_encrypt(rsa_key(*rk), HashAlg::sha1, {}, secret);
  ASSERT_TRUE(ct.ok());
  EXPECT_FALSE(tpm.rsa_decrypt_oaep(*loaded, *ct, HashAlg::sha256).ok());
  EXPECT_FALSE(tpm.rsa_decrypt_oaep(*loaded, *ct, HashAlg::sha512).ok());
  loaded = tpm.load_runtime_key(rk->blob);  // the first one is flushed by the move
  ASSERT_TRUE(loaded.ok());
  { auto gone = std::move(*loaded); }
  EXPECT_NOTHING_LOADED(tpm);
}

// The agent reuses its runtime key across attestations: a new certification
// for a new nonce, of the same key, signed by the AK, and nothing left loaded.
TEST_F(AgentTpmRuntimeKey, AnExistingKeyIsCertifiedAgainForANewNonce) {
  Tpm tpm = open();
  auto ak = tpm.attestation_key();
  ASSERT_TRUE(ak.ok()) << ak.error().message;
  auto rk = tpm.create_runtime_key(bytes_of("01"), kPolicyPcrs);
  ASSERT_TRUE(rk.ok()) << rk.error().message;
  const Bytes nonce = bytes_of("0badc0ffee");
  auto again = tpm.certify_runtime_key(rk->blob, nonce);
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_NOTHING_LOADED(tpm);
  EXPECT_EQ(again->public_area, rk->public_area);
  EXPECT_EQ(again->policy_pcrs, kPolicyPcrs);
  auto attest = tl::tpm::parse_attest(again->certify_info);
  ASSERT_TRUE(attest.ok()) << attest.error().message;
  EXPECT_EQ(attest->type, tl::tpm::st::kAttestCertify);
  EXPECT_EQ(attest->extra_data, nonce);
  ASSERT_TRUE(attest->certify.has_value());
  EXPECT_EQ(to_hex(attest->certify->name), to_hex(*parse(rk->public_area).name()));
  auto sig = tl::tpm::parse_signature(again->signature);
  ASSERT_TRUE(sig.ok());
  auto ak_key = parse(ak->public_area).public_key();
  ASSERT_TRUE(ak_key.ok());
  EXPECT_TRUE(tl::tpm::verify_signature(*ak_key, again->certify_info, *sig).ok());
  EXPECT_FALSE(tpm.certify_runtime_key(rk->blob, {}).ok());  // a nonce is required
}

TEST_F(AgentTpmRuntimeKey, StoredBlobReloadsAfterReopen) {
  Bytes stored;
  Bytes ciphertext;
  const Bytes secret = bytes_of("5ec4e7");
  {
    Tpm tpm = open();
    auto rk = tpm.create_runtime_key(bytes_of("02"), kPolicyPcrs);
    ASSERT_TRUE(rk.ok()) << rk.error().message;
    stored = encode_runtime_key_blob(rk->blob);
    auto ct = crypto::rsa_oaep_encrypt(rsa_key(*rk), HashAlg::sha256, {}, secret);
    ASSERT_TRUE(ct.ok());
    ciphertext = *ct;
  }
  Tpm tpm = open();
  auto blob = decode_runtime_key_blob(stored);
  ASSERT_TRUE(blob.ok()) << blob.error().message;
  EXPECT_EQ(blob->policy_pcrs, kPolicyPcrs);
  auto loaded = tpm.load_runtime_key(*blob);
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  auto pt = tpm.rsa_decrypt_oaep(*loaded, ciphertext);
  ASSERT_TRUE(pt.ok()) << pt.error().message;
  EXPECT_EQ(to_hex(pt->view()), to_hex(secret));
}

TEST_F(AgentTpmRuntimeKey, DecryptionFailsOnceABoundPcrChanges) {
  Tpm tpm = open();
  auto rk = tpm.create_runtime_key(bytes_of("03"), kPolicyPcrs);
  ASSERT_TRUE(rk.ok()) << rk.error().message;
  const Bytes secret(32, 0x5a);
  auto ct = crypto::rsa_oaep_encrypt(rsa_key(*rk), HashAlg::sha256, {}, secret);
  ASSERT_TRUE(ct.ok());
  auto loaded = tpm.load_runtime_key(rk->blob);
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  // A PCR outside the policy may change.
  ASSERT_TRUE(extend(tpm, 16, HashAlg::sha256, Bytes(32, 0x16)).ok());
  auto ok = tpm.rsa_decrypt_oaep(*loaded, *ct);
  ASSERT_TRUE(ok.ok()) << ok.error().message;
  EXPECT_EQ(to_hex(ok->view()), to_hex(secret));
  // A bound one may not.
  ASSERT_TRUE(extend(tpm, 4, HashAlg::sha256, Bytes(32, 0x04)).ok());
  auto refused = tpm.rsa_decrypt_oaep(*loaded, *ct);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().reason, "tpm-policy-failed") << refused.error().message;
  // Nor does reloading the key help.
  auto reloaded = tpm.load_runtime_key(rk->blob);
  ASSERT_TRUE(reloaded.ok());
  EXPECT_FALSE(tpm.rsa_decrypt_oaep(*reloaded, *ct).ok());
}

TEST_F(AgentTpmRuntimeKey, BadArgumentsAreRefused) {
  Tpm tpm = open();
  EXPECT_FALSE(tpm.create_runtime_key(bytes_of("04"), std::vector<uint32_t>{}).ok());
  EXPECT_FALSE(tpm.create_runtime_key(bytes_of("04"), std::vector<uint32_t>{0, 24}).ok());
  EXPECT_FALSE(tpm.create_runtime_key({}, kPolicyPcrs).ok());
  EXPECT_FALSE(tpm.create_runtime_key(Bytes(65, 0), kPolicyPcrs).ok());
  EXPECT_NOTHING_LOADED(tpm);
}

class AgentTpmRuntimeKeyBlob : public SwtpmSuite {
 protected:
  static Bytes stored() {
    static Bytes cached;
    if (cached.empty()) {
      Tpm tpm = open();
      auto rk = tpm.create_runtime_key(bytes_of("05"), std::vector<uint32_t>{0, 7});
      EXPECT_TRUE(rk.ok());
      if (rk) cached = encode_runtime_key_blob(rk->blob);
    }
    return cached;
  }
  static void expect_refused(const Bytes& b, const std::string& text) {
    auto r = decode_runtime_key_blob(b);
    ASSERT_FALSE(r.ok()) << "accepted; expected: " << text;
    EXPECT_EQ(r.error().reason, "tpm-invalid-argument") << r.error().message;
    EXPECT_NE(r.error().message.find(text), std::string::npos) << r.error().message;
  }
};

TEST_F(AgentTpmRuntimeKeyBlob, RoundTripsAndRefusesEveryTruncation) {
  const Bytes b = stored();
  ASSERT_FALSE(b.empty());
  auto blob = decode_runtime_key_blob(b);
  ASSERT_TRUE(blob.ok()) << blob.error().message;
  EXPECT_EQ(encode_runtime_key_blob(*blob), b);
  for (size_t n = 0; n < b.size(); ++n) {
    EXPECT_FALSE(decode_runtime_key_blob(ByteView(b).first(n)).ok()) << "accepted truncated to " << n;
  }
}

TEST_F(AgentTpmRuntimeKeyBlob, RefusesHostileHeadersAndSizes) {
  const Bytes good = stored();
  ASSERT_FALSE(good.empty());
  Bytes b = good;
  b.push_back(0);
  expect_refused(b, "trailing");
  b = good;
  b[0] = 'X';
  expect_refused(b, "magic");
  b = good;
  b[5] = 2;
  expect_refused(b, "version");
  b = good;
  b[6] = 0;
  expect_refused(b, "pcr count");
  b = good;
  b[6] = 25;
  expect_refused(b, "pcr count");
  b = good;  // PCRs 0, 7 -> 7, 0
  std::swap(b[7], b[8]);
  expect_refused(b, "ascending");
  b = good;
  b[8] = 24;
  expect_refused(b, "< 24");
  b = good;  // TPM2B_PUBLIC size larger than the rest of the blob
  b[9] = 0xff;
  b[10] = 0xff;
  expect_refused(b, "public");
  b = good;  // TPM2B_PUBLIC one byte shorter than its contents
  b[10] = static_cast<uint8_t>(b[10] - 1);
  EXPECT_FALSE(decode_runtime_key_blob(b).ok());
}

TEST_F(AgentTpmRuntimeKeyBlob, LoadRefusesABlobThatIsNotARuntimeKey) {
  Tpm tpm = open();
  auto ak = tpm.attestation_key();
  ASSERT_TRUE(ak.ok());
  auto blob = decode_runtime_key_blob(stored());
  ASSERT_TRUE(blob.ok());
  RuntimeKeyBlob wrong = *blob;
  // The AK's public area in place of the key's: a restricted signing key.
  wrong.public_blob = {static_cast<uint8_t>(ak->public_area.size() >> 8), static_cast<uint8_t>(ak->public_area.size())};
  wrong.public_blob.insert(wrong.public_blob.end(), ak->public_area.begin(), ak->public_area.end());
  auto r = tpm.load_runtime_key(wrong);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().reason, "tpm-invalid-argument");
  wrong = *blob;
  wrong.private_blob.pop_back();
  EXPECT_FALSE(tpm.load_runtime_key(wrong).ok());
  EXPECT_NOTHING_LOADED(tpm);
}

}  // namespace
}  // namespace tl::agent::tpm::testing
