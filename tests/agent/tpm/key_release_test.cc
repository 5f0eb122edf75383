// The agent's unwrap of a released key in a real swtpm: key material wrapped
// exactly as tlaunchd wraps it (docs/keyvault-release.md: RSA-OAEP of a fresh
// AES-256 key to the runtime key ‖ RFC 5649 key wrap of the material, in a
// base64url key_hsm JSON) comes back out of unwrap_key_hsm for every enc;
// a ciphertext to another runtime key, with another hash, altered, or after a
// bound PCR changed fails cleanly, leaving nothing loaded in the TPM.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "agent/client/key_release.h"
#include "agent_tpm_fixture.h"
#include "crypto/key_material.h"
#include "crypto/key_wrap.h"
#include "token/base64url.h"

namespace tl::agent::tpm::testing {
namespace {

using crypto::HashAlg;

const std::vector<uint32_t> kPolicyPcrs = {0, 1, 2, 3, 4, 5, 6, 7};
constexpr ReleaseEnc kEncs[] = {ReleaseEnc::ckm_rsa_aes_key_wrap, ReleaseEnc::rsa_aes_key_wrap_256,
                                ReleaseEnc::rsa_aes_key_wrap_384};

crypto::PublicKey public_key_of(const RuntimeKey& k) {
  auto key = parse(k.public_area).public_key();
  EXPECT_TRUE(key.ok());
  return *key;
}

// What the server does for one release: a fresh AES-256 key K, RSA-OAEP(K)
// with enc's hash ‖ AES-KWP(K, material), in the key_hsm JSON, base64url.
std::string server_key_hsm(const crypto::PublicKey& runtime_key, ReleaseEnc enc, ByteView material,
                           size_t aes_key_bytes = 32) {
  auto k = crypto::random_secret(aes_key_bytes);
  EXPECT_TRUE(k.ok());
  auto head = crypto::rsa_oaep_encrypt(runtime_key, release_enc_oaep_hash(enc), k->view());
  EXPECT_TRUE(head.ok()) << head.error().message;
  // aes_kwp_wrap takes a 128/192/256-bit KEK; a 16-byte K is what a wrong server would send.
  auto tail = crypto::aes_kwp_wrap(*k, material);
  EXPECT_TRUE(tail.ok()) << tail.error().message;
  Bytes ct = *head;
  ct.insert(ct.end(), tail->begin(), tail->end());
  const nlohmann::json doc = {
      {"schema_version", "1.0"},
      {"header", {{"kid", "TpmEphemeralEncryptionKey"}, {"alg", "dir"}, {"enc", release_enc_name(enc)}}},
      {"ciphertext", token::base64url_encode(ct)},
      {"generator", "trustlaunch"}};
  const std::string text = doc.dump();
  return token::base64url_encode(ByteView(reinterpret_cast<const uint8_t*>(text.data()), text.size()));
}

KeyHsm parsed(const std::string& key_hsm) {
  auto h = parse_key_hsm(key_hsm);
  EXPECT_TRUE(h.ok()) << h.error().message;
  return h.ok() ? *h : KeyHsm{};
}

class AgentKeyRelease : public SwtpmSuite {};

TEST_F(AgentKeyRelease, ModulusOfTheRuntimeKeyBlob) {
  Tpm tpm = open();
  auto rk = tpm.create_runtime_key(bytes_of("01"), kPolicyPcrs);
  ASSERT_TRUE(rk.ok()) << rk.error().message;
  auto m = runtime_key_modulus(rk->blob);
  ASSERT_TRUE(m.ok()) << m.error().message;
  EXPECT_EQ(m->size(), 256u);
  EXPECT_EQ(to_hex(*m), to_hex(parse(rk->public_area).rsa->modulus));
  RuntimeKeyBlob broken = rk->blob;
  broken.public_blob.resize(10);
  auto bad = runtime_key_modulus(broken);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().reason, kReasonRuntimeKeyMismatch);
}

TEST_F(AgentKeyRelease, UnwrapsTheServersWrappingForEachEnc) {
  Tpm tpm = open();
  auto rk = tpm.create_runtime_key(bytes_of("02"), kPolicyPcrs);
  ASSERT_TRUE(rk.ok()) << rk.error().message;
  const crypto::PublicKey pub = public_key_of(*rk);
  // oct material (32 bytes) and an RSA key's PKCS#8 (not a multiple of 8 bytes: padding).
  auto oct = crypto::random_secret(32);
  ASSERT_TRUE(oct.ok());
  auto rsa = crypto::KeyMaterial::generate({crypto::KeyKind::rsa, 2048, crypto::Curve::p256});
  ASSERT_TRUE(rsa.ok()) << rsa.error().message;
  const crypto::SecretBytes* materials[] = {&*oct, &rsa->release_bytes()};
  for (const crypto::SecretBytes* material : materials) {
    for (ReleaseEnc enc : kEncs) {
      SCOPED_TRACE(std::string(release_enc_name(enc)) + ", " + std::to_string(material->size()) + " bytes");
      const KeyHsm hsm = parsed(server_key_hsm(pub, enc, material->view()));
      EXPECT_EQ(hsm.enc, enc);
      auto out = unwrap_key_hsm(tpm, rk->blob, hsm);
      ASSERT_TRUE(out.ok()) << out.error().message;
      EXPECT_TRUE(*out == *material);
      EXPECT_NOTHING_LOADED(tpm);
    }
  }
  // The unwrapped PKCS#8 is the very key: it parses to the same public key.
  const KeyHsm hsm = parsed(server_key_hsm(pub, ReleaseEnc::rsa_aes_key_wrap_256, rsa->release_bytes().view()));
  auto out = unwrap_key_hsm(tpm, rk->blob, hsm);
  ASSERT_TRUE(out.ok()) << out.error().message;
  auto back = crypto::KeyMaterial::import_pkcs8_der(out->view());
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->public_jwk(), rsa->public_jwk());
}

TEST_F(AgentKeyRelease, AStoredBlobUnwrapsInANewConnection) {
  Bytes stored;
  std::string key_hsm;
  const Bytes material(32, 0x42);
  {
    Tpm tpm = open();
    auto rk = tpm.create_runtime_key(bytes_of("03"), kPolicyPcrs);
    ASSERT_TRUE(rk.ok()) << rk.error().message;
    stored = encode_runtime_key_blob(rk->blob);
    key_hsm = server_key_hsm(public_key_of(*rk), ReleaseEnc::rsa_aes_key_wrap_384, material);
  }
  Tpm tpm = open();
  auto blob = decode_runtime_key_blob(stored);
  ASSERT_TRUE(blob.ok()) << blob.error().message;
  auto out = unwrap_key_hsm(tpm, *blob, parsed(key_hsm));
  ASSERT_TRUE(out.ok()) << out.error().message;
  EXPECT_EQ(to_hex(out->view()), to_hex(material));
}

TEST_F(AgentKeyRelease, ACiphertextForAnotherKeyFailsCleanly) {
  Tpm tpm = open();
  auto ours = tpm.create_runtime_key(bytes_of("04"), kPolicyPcrs);
  ASSERT_TRUE(ours.ok()) << ours.error().message;
  auto other = tpm.create_runtime_key(bytes_of("05"), kPolicyPcrs);
  ASSERT_TRUE(other.ok()) << other.error().message;
  const Bytes material(32, 0x17);
  for (ReleaseEnc enc : kEncs) {
    SCOPED_TRACE(release_enc_name(enc));
    auto out = unwrap_key_hsm(tpm, ours->blob, parsed(server_key_hsm(public_key_of(*other), enc, material)));
    ASSERT_FALSE(out.ok());
    EXPECT_EQ(out.error().reason, "tpm-error");
    EXPECT_NE(out.error().message.find("not wrapped to this runtime key"), std::string::npos) << out.error().message;
    EXPECT_NOTHING_LOADED(tpm);
  }
  // The other key does unwrap it: the failure above is the key, not the blob.
  auto good = unwrap_key_hsm(tpm, other->blob, parsed(server_key_hsm(public_key_of(*other),
                                                                      ReleaseEnc::rsa_aes_key_wrap_256, material)));
  ASSERT_TRUE(good.ok()) << good.error().message;
}

TEST_F(AgentKeyRelease, AnotherHashOrAlteredBytesFail) {
  Tpm tpm = open();
  auto rk = tpm.create_runtime_key(bytes_of("06"), kPolicyPcrs);
  ASSERT_TRUE(rk.ok()) << rk.error().message;
  const crypto::PublicKey pub = public_key_of(*rk);
  const Bytes material(48, 0x33);

  // Wrapped with SHA-1 OAEP, labelled as SHA-256.
  KeyHsm mislabelled = parsed(server_key_hsm(pub, ReleaseEnc::ckm_rsa_aes_key_wrap, material));
  mislabelled.enc = ReleaseEnc::rsa_aes_key_wrap_256;
  auto a = unwrap_key_hsm(tpm, rk->blob, mislabelled);
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(a.error().reason, "tpm-error");

  // The key wrap part altered: RFC 5649's integrity check, never wrong bytes.
  KeyHsm altered = parsed(server_key_hsm(pub, ReleaseEnc::rsa_aes_key_wrap_256, material));
  altered.ciphertext.back() ^= 0x01;
  auto b = unwrap_key_hsm(tpm, rk->blob, altered);
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.error().reason, kReasonUnwrapFailed);

  // The RSA part altered.
  KeyHsm head = parsed(server_key_hsm(pub, ReleaseEnc::rsa_aes_key_wrap_256, material));
  head.ciphertext[10] ^= 0x80;
  EXPECT_FALSE(unwrap_key_hsm(tpm, rk->blob, head).ok());

  // An AES-128 key where AES-256 is required.
  auto c = unwrap_key_hsm(tpm, rk->blob, parsed(server_key_hsm(pub, ReleaseEnc::rsa_aes_key_wrap_256, material, 16)));
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().reason, kReasonUnwrapFailed);
  EXPECT_NE(c.error().message.find("16 bytes"), std::string::npos) << c.error().message;

  // Truncated: only the RSA part, or a key wrap part that is not a multiple of 8.
  KeyHsm cut = parsed(server_key_hsm(pub, ReleaseEnc::rsa_aes_key_wrap_256, material));
  cut.ciphertext.resize(256);
  auto d = unwrap_key_hsm(tpm, rk->blob, cut);
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.error().reason, kReasonReleaseAnswer);
  cut = parsed(server_key_hsm(pub, ReleaseEnc::rsa_aes_key_wrap_256, material));
  cut.ciphertext.pop_back();
  auto e = unwrap_key_hsm(tpm, rk->blob, cut);
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.error().reason, kReasonReleaseAnswer);
  EXPECT_NOTHING_LOADED(tpm);
}

TEST_F(AgentKeyRelease, NoUnwrapOnceABoundPcrChanged) {
  Tpm tpm = open();
  auto rk = tpm.create_runtime_key(bytes_of("07"), kPolicyPcrs);
  ASSERT_TRUE(rk.ok()) << rk.error().message;
  const std::string key_hsm = server_key_hsm(public_key_of(*rk), ReleaseEnc::rsa_aes_key_wrap_256, Bytes(32, 9));
  ASSERT_TRUE(unwrap_key_hsm(tpm, rk->blob, parsed(key_hsm)).ok());
  ASSERT_TRUE(extend(tpm, 7, HashAlg::sha256, Bytes(32, 0x07)).ok());
  auto out = unwrap_key_hsm(tpm, rk->blob, parsed(key_hsm));
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error().reason, "tpm-policy-failed");
  EXPECT_NE(out.error().message.find("re-attest"), std::string::npos) << out.error().message;
  EXPECT_NOTHING_LOADED(tpm);
}

// release_key() checks --key before anything else: a key on another origin
// never gets our attestation token, nor even an attestation attempt (the
// endpoint here refuses connections, so an attempt would fail differently).
TEST_F(AgentKeyRelease, ReleaseRefusesAnotherOriginBeforeAttesting) {
  AgentOptions o;
  o.endpoint = "http://127.0.0.1:1";
  o.vm_id = "5e0c7d0e-8d8d-4a4e-9b1b-0c2d4c6f1a11";
  o.tcti = swtpm_->tcti();
  auto client = AttestationClient::create(o);
  ASSERT_TRUE(client.ok()) << client.error().message;
  ReleaseOptions ro;
  ro.key = "https://evil.example/keys/app-key";
  auto r = release_key(**client, ro);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().reason, kReasonKeyReference) << r.error().message;
  EXPECT_FALSE((*client)->attested_runtime_key().has_value());
  // The same origin passes that check and reaches the attestation, which cannot connect.
  ro.key = "http://127.0.0.1:1/keys/app-key";
  auto r2 = release_key(**client, ro);
  ASSERT_FALSE(r2.ok());
  EXPECT_EQ(r2.error().reason, "network") << r2.error().message;
}

}  // namespace
}  // namespace tl::agent::tpm::testing
