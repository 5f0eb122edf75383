// The agent's Secure Key Release parsers without a server or a TPM: which key
// --key names (and which origins it may send our token to), the key_hsm blob,
// the release JWS payload checked against our request, the ciphertext split,
// the output forms, and the API token file. Hostile inputs throughout.
#include "agent/client/release_payload.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>
#include <string>

#include <nlohmann/json.hpp>

#include "agent/client/key_release.h"
#include "crypto/key_material.h"
#include "support/cli_runner.h"
#include "token/base64url.h"

namespace tl::agent {
namespace {

using ::testing::HasSubstr;
using json = nlohmann::json;

constexpr const char* kEndpoint = "https://attest.example.internal:8443";
constexpr const char* kIssuer = "https://attest.example.internal:8443";
const std::string kVersion = "0f3c5a6b7c8d9e0f1a2b3c4d5e6f7a8b";

std::string b64(std::string_view s) {
  return token::base64url_encode(ByteView(reinterpret_cast<const uint8_t*>(s.data()), s.size()));
}

Error key_ref_error(std::string_view text) {
  auto r = parse_key_reference(text, kEndpoint);
  if (r.ok()) return Error{"accepted: " + r->name + " / " + r->version, "none"};
  EXPECT_EQ(r.error().reason, kReasonKeyReference) << text;
  return r.error();
}

TEST(KeyReference, BareNameAndVersion) {
  auto a = parse_key_reference("app-key", kEndpoint);
  ASSERT_TRUE(a.ok()) << a.error().message;
  EXPECT_EQ(a->name, "app-key");
  EXPECT_EQ(a->version, "");
  EXPECT_EQ(a->path(), "/keys/app-key");
  auto b = parse_key_reference("app-key/" + kVersion, kEndpoint);
  ASSERT_TRUE(b.ok()) << b.error().message;
  EXPECT_EQ(b->version, kVersion);
  EXPECT_EQ(b->path(), "/keys/app-key/" + kVersion);
}

TEST(KeyReference, UrlOnTheEndpointsOrigin) {
  auto a = parse_key_reference(std::string(kEndpoint) + "/keys/app-key/" + kVersion, kEndpoint);
  ASSERT_TRUE(a.ok()) << a.error().message;
  EXPECT_EQ(a->name, "app-key");
  EXPECT_EQ(a->version, kVersion);
  // Host case and an endpoint written with a trailing slash do not matter.
  auto b = parse_key_reference("https://ATTEST.example.internal:8443/keys/k1", std::string(kEndpoint) + "/");
  ASSERT_TRUE(b.ok()) << b.error().message;
  EXPECT_EQ(b->name, "k1");
  // The default port written or not is the same origin.
  auto c = parse_key_reference("https://kv.example:443/keys/k1", "https://kv.example");
  ASSERT_TRUE(c.ok()) << c.error().message;
}

TEST(KeyReference, OtherOriginsAreRefused) {
  for (const char* url : {"https://evil.example:8443/keys/app-key", "http://attest.example.internal:8443/keys/app-key",
                          "https://attest.example.internal:8444/keys/app-key", "https://attest.example.internal/keys/a",
                          "https://attest.example.internal.evil.example:8443/keys/a"}) {
    const Error e = key_ref_error(url);
    EXPECT_THAT(e.message, HasSubstr("refused")) << url << ": " << e.message;
  }
}

TEST(KeyReference, MalformedIsRefusedNamingWhy) {
  EXPECT_THAT(key_ref_error("").message, HasSubstr("empty"));
  EXPECT_THAT(key_ref_error(std::string(3000, 'a')).message, HasSubstr("longer than 2048"));
  EXPECT_THAT(key_ref_error("app_key").message, HasSubstr("key name"));
  EXPECT_THAT(key_ref_error(std::string(128, 'a')).message, HasSubstr("key name"));
  EXPECT_THAT(key_ref_error("app-key/").message, HasSubstr("version"));
  EXPECT_THAT(key_ref_error("app-key/0F3C5A6B7C8D9E0F1A2B3C4D5E6F7A8B").message, HasSubstr("version"));
  EXPECT_THAT(key_ref_error("app-key/" + kVersion + "/release").message, HasSubstr("version"));
  EXPECT_THAT(key_ref_error("app-key/" + kVersion.substr(1)).message, HasSubstr("version"));
  EXPECT_THAT(key_ref_error("../secrets").message, HasSubstr("key name"));
  const std::string origin = kEndpoint;
  EXPECT_THAT(key_ref_error(origin).message, HasSubstr("names no key"));
  EXPECT_THAT(key_ref_error(origin + "/secrets/app-key").message, HasSubstr("/keys/NAME"));
  EXPECT_THAT(key_ref_error(origin + "/keys/").message, HasSubstr("key name"));
  EXPECT_THAT(key_ref_error(origin + "/keys/app-key?api-version=7.4").message, HasSubstr("no query"));
  EXPECT_THAT(key_ref_error(origin + "/keys/app-key#x").message, HasSubstr("no query"));
  EXPECT_THAT(key_ref_error("https://user@attest.example.internal:8443/keys/a").message, HasSubstr("credentials"));
  EXPECT_THAT(key_ref_error(origin + "/keys/app%2Dkey").message, HasSubstr("escapes"));
  EXPECT_THAT(key_ref_error("https://attest.example.internal:99999/keys/a").message, HasSubstr("port"));
  EXPECT_THAT(key_ref_error("https://attest.example.internal:8443.evil.example/keys/a").message, HasSubstr("port"));
  EXPECT_THAT(key_ref_error("ftp://attest.example.internal/keys/a").message, HasSubstr("key name"));
}

TEST(ReleaseEnc, NamesAndOaepHashes) {
  EXPECT_EQ(release_enc_from_name("CKM_RSA_AES_KEY_WRAP"), ReleaseEnc::ckm_rsa_aes_key_wrap);
  EXPECT_EQ(release_enc_from_name("RSA_AES_KEY_WRAP_256"), ReleaseEnc::rsa_aes_key_wrap_256);
  EXPECT_EQ(release_enc_from_name("RSA_AES_KEY_WRAP_384"), ReleaseEnc::rsa_aes_key_wrap_384);
  EXPECT_FALSE(release_enc_from_name("rsa_aes_key_wrap_256").has_value());
  EXPECT_FALSE(release_enc_from_name("RSA-OAEP").has_value());
  EXPECT_FALSE(release_enc_from_name("").has_value());
  EXPECT_EQ(release_enc_oaep_hash(ReleaseEnc::ckm_rsa_aes_key_wrap), crypto::HashAlg::sha1);
  EXPECT_EQ(release_enc_oaep_hash(ReleaseEnc::rsa_aes_key_wrap_256), crypto::HashAlg::sha256);
  EXPECT_EQ(release_enc_oaep_hash(ReleaseEnc::rsa_aes_key_wrap_384), crypto::HashAlg::sha384);
  for (auto e : {ReleaseEnc::ckm_rsa_aes_key_wrap, ReleaseEnc::rsa_aes_key_wrap_256, ReleaseEnc::rsa_aes_key_wrap_384}) {
    EXPECT_EQ(release_enc_from_name(release_enc_name(e)), e);
  }
}

// ---- key_hsm ----

const Bytes kCiphertext(296, 0xab);

json hsm_doc() {
  return json{{"schema_version", "1.0"},
              {"header", {{"kid", "TpmEphemeralEncryptionKey"}, {"alg", "dir"}, {"enc", "RSA_AES_KEY_WRAP_256"}}},
              {"ciphertext", token::base64url_encode(kCiphertext)},
              {"generator", "trustlaunch"}};
}

Error hsm_error(std::string_view text) {
  auto r = parse_key_hsm(text);
  if (r.ok()) return Error{"accepted", "none"};
  EXPECT_EQ(r.error().reason, kReasonReleaseAnswer);
  EXPECT_THAT(r.error().message, ::testing::StartsWith("key_hsm: "));
  return r.error();
}

std::string hsm_msg(const json& doc) { return hsm_error(b64(doc.dump())).message; }

TEST(KeyHsm, ParsesTheDocumentedBlob) {
  auto h = parse_key_hsm(b64(hsm_doc().dump()));
  ASSERT_TRUE(h.ok()) << h.error().message;
  EXPECT_EQ(h->kid, "TpmEphemeralEncryptionKey");
  EXPECT_EQ(h->enc, ReleaseEnc::rsa_aes_key_wrap_256);
  EXPECT_EQ(h->ciphertext, kCiphertext);
  // generator is optional; an empty kid is what a JWK without kid gives.
  json d = hsm_doc();
  d.erase("generator");
  d["header"]["kid"] = "";
  auto h2 = parse_key_hsm(b64(d.dump()));
  ASSERT_TRUE(h2.ok()) << h2.error().message;
  EXPECT_EQ(h2->kid, "");
}

TEST(KeyHsm, HostileEncodingsAreRefused) {
  const std::string good = b64(hsm_doc().dump());
  EXPECT_THAT(hsm_error("").message, HasSubstr("JSON"));
  EXPECT_THAT(hsm_error(good + "=").message, HasSubstr("not base64url"));
  EXPECT_THAT(hsm_error(good.substr(0, good.size() / 2)).message, ::testing::Not(HasSubstr("accepted")));
  EXPECT_THAT(hsm_error(good.substr(0, good.size() - 1)).message, ::testing::Not(HasSubstr("accepted")));
  std::string plus = good;
  plus[3] = '+';
  EXPECT_THAT(hsm_error(plus).message, HasSubstr("not base64url"));
  EXPECT_THAT(hsm_error(std::string(kMaxKeyHsmChars + 1, 'A')).message, HasSubstr("more than"));
  EXPECT_THAT(hsm_error(b64("[1,2]")).message, HasSubstr("object"));
  EXPECT_THAT(hsm_error(b64("\"x\"")).message, HasSubstr("object"));
  EXPECT_THAT(hsm_error(b64(R"({"schema_version":"1.0","schema_version":"1.0"})")).message, HasSubstr("duplicate"));
  std::string deep;
  for (int i = 0; i < 40; ++i) deep += "{\"a\":";
  deep += "1";
  for (int i = 0; i < 40; ++i) deep += "}";
  EXPECT_THAT(hsm_error(b64(deep)).message, ::testing::Not(HasSubstr("accepted")));
  EXPECT_THAT(hsm_error(b64("{\"schema_version\":\"1.\xff\"}")).message, ::testing::Not(HasSubstr("accepted")));
}

TEST(KeyHsm, EachMemberIsChecked) {
  auto with = [](const char* path, json v) {
    json d = hsm_doc();
    if (std::string(path).starts_with("header.")) {
      d["header"][std::string(path).substr(7)] = std::move(v);
    } else {
      d[path] = std::move(v);
    }
    return hsm_msg(d);
  };
  auto without = [](const char* path) {
    json d = hsm_doc();
    if (std::string(path).starts_with("header.")) {
      d["header"].erase(std::string(path).substr(7));
    } else {
      d.erase(path);
    }
    return hsm_msg(d);
  };
  EXPECT_THAT(with("schema_version", "2.0"), HasSubstr("schema_version \"2.0\" is not \"1.0\""));
  EXPECT_THAT(with("schema_version", 1.0), HasSubstr("schema_version is number"));
  EXPECT_THAT(without("schema_version"), HasSubstr("schema_version is missing"));
  EXPECT_THAT(with("header", "x"), HasSubstr("header is string"));
  EXPECT_THAT(without("header"), HasSubstr("header is missing"));
  EXPECT_THAT(with("header.alg", "RSA-OAEP"), HasSubstr("header.alg \"RSA-OAEP\" is not \"dir\""));
  EXPECT_THAT(without("header.alg"), HasSubstr("header.alg is missing"));
  EXPECT_THAT(with("header.enc", "A256KW"), HasSubstr("header.enc \"A256KW\" is not a known enc"));
  EXPECT_THAT(with("header.enc", json::array()), HasSubstr("header.enc is array"));
  EXPECT_THAT(without("header.kid"), HasSubstr("header.kid is missing"));
  EXPECT_THAT(with("header.kid", nullptr), HasSubstr("header.kid is null"));
  EXPECT_THAT(with("header.x5c", "x"), HasSubstr("header: unknown member \"x5c\""));
  EXPECT_THAT(with("extra", 1), HasSubstr("unknown member \"extra\""));
  EXPECT_THAT(with("generator", 7), HasSubstr("generator is number"));
  EXPECT_THAT(without("ciphertext"), HasSubstr("ciphertext is missing"));
  EXPECT_THAT(with("ciphertext", ""), HasSubstr("ciphertext is empty"));
  EXPECT_THAT(with("ciphertext", "a+b/"), HasSubstr("ciphertext is not base64url"));
  EXPECT_THAT(with("ciphertext", json::object()), HasSubstr("ciphertext is object"));
}

// ---- the release payload ----

ReleaseExpectation expectation(const std::string& version = "") {
  ReleaseExpectation e;
  e.issuer = kIssuer;
  e.key = KeyReference{"app-key", version};
  e.enc = ReleaseEnc::rsa_aes_key_wrap_256;
  e.nonce = "n0nce-1";
  return e;
}

json payload(const std::string& request_version = "") {
  const std::string key_url = std::string(kIssuer) + "/keys/app-key";
  return json{
      {"request",
       {{"api-version", "7.4"},
        {"enc", "RSA_AES_KEY_WRAP_256"},
        {"kid", request_version.empty() ? key_url : key_url + "/" + request_version},
        {"nonce", "n0nce-1"}}},
      {"response",
       {{"key",
         {{"key",
           {{"kid", key_url + "/" + kVersion},
            {"kty", "oct"},
            {"key_ops", {"encrypt", "decrypt", "wrapKey", "unwrapKey"}},
            {"key_hsm", b64(hsm_doc().dump())}}},
          {"attributes", {{"enabled", true}, {"exportable", true}}},
          {"release_policy", {{"data", "e30"}, {"immutable", true}}}}}}},
      {"iss", kIssuer},
      {"iat", 1763850100},
      {"jti", "0123456789abcdef0123456789abcdef"}};
}

Error payload_error(const json& claims, const ReleaseExpectation& e = expectation()) {
  auto r = parse_release_payload(claims, e);
  if (r.ok()) return Error{"accepted", "none"};
  EXPECT_EQ(r.error().reason, kReasonReleaseAnswer);
  return r.error();
}

TEST(ReleasePayload, AnswersOurRequest) {
  auto p = parse_release_payload(payload(), expectation());
  ASSERT_TRUE(p.ok()) << p.error().message;
  EXPECT_EQ(p->kid, std::string(kIssuer) + "/keys/app-key/" + kVersion);
  EXPECT_EQ(p->version, kVersion);
  EXPECT_EQ(p->kty, "oct");
  EXPECT_EQ(p->key_hsm.ciphertext, kCiphertext);
  EXPECT_FALSE(p->public_key.contains("key_hsm"));
  EXPECT_EQ(p->public_key["kty"], "oct");
  // Asking for the version: request.kid names it too.
  auto v = parse_release_payload(payload(kVersion), expectation(kVersion));
  ASSERT_TRUE(v.ok()) << v.error().message;
}

TEST(ReleasePayload, AnAnswerToAnotherRequestIsRefused) {
  json c = payload();
  c["iss"] = "https://other.example:8443";
  EXPECT_THAT(payload_error(c).message, HasSubstr("iss is not"));
  c = payload();
  c["request"]["enc"] = "CKM_RSA_AES_KEY_WRAP";
  EXPECT_THAT(payload_error(c).message, HasSubstr("request.enc \"CKM_RSA_AES_KEY_WRAP\" is not the RSA_AES_KEY_WRAP_256"));
  c = payload();
  c["request"]["nonce"] = "replayed";
  EXPECT_THAT(payload_error(c).message, HasSubstr("request.nonce is not the nonce we sent"));
  c = payload();
  c["request"].erase("nonce");
  EXPECT_THAT(payload_error(c).message, HasSubstr("request.nonce is missing"));
  ReleaseExpectation none = expectation();
  none.nonce.clear();
  EXPECT_THAT(payload_error(payload(), none).message, HasSubstr("present though we sent none"));
  c = payload();
  c["request"]["kid"] = std::string(kIssuer) + "/keys/other-key";
  EXPECT_THAT(payload_error(c).message, HasSubstr("request.kid"));
  // We asked for the bare name: a request naming a version is another request.
  EXPECT_THAT(payload_error(payload(kVersion)).message, HasSubstr("request.kid"));
  // We asked for a version: the answer must be that version.
  EXPECT_THAT(payload_error(payload(kVersion), expectation("ffffffffffffffffffffffffffffffff")).message,
              HasSubstr("request.kid"));
  c = payload("ffffffffffffffffffffffffffffffff");
  EXPECT_THAT(payload_error(c, expectation("ffffffffffffffffffffffffffffffff")).message,
              HasSubstr("does not name a version of"));
}

TEST(ReleasePayload, TheReleasedKeyMustBeAVersionOfTheKeyAsked) {
  auto with_kid = [](const std::string& kid) {
    json c = payload();
    c["response"]["key"]["key"]["kid"] = kid;
    return payload_error(c).message;
  };
  const std::string base = std::string(kIssuer) + "/keys/";
  EXPECT_THAT(with_kid(base + "other-key/" + kVersion), HasSubstr("does not name a version of"));
  EXPECT_THAT(with_kid(base + "app-key"), HasSubstr("does not name a version of"));
  EXPECT_THAT(with_kid(base + "app-key/" + kVersion + "/x"), HasSubstr("does not end in"));
  EXPECT_THAT(with_kid(base + "app-key/XYZ"), HasSubstr("does not end in"));
  EXPECT_THAT(with_kid("https://attest.example.internal:8443.evil/keys/app-key/" + kVersion),
              HasSubstr("is not a key of"));
  EXPECT_THAT(with_kid("https://evil.example/keys/app-key/" + kVersion), HasSubstr("is not a key of"));
}

TEST(ReleasePayload, MissingAndMistypedMembersAreNamed) {
  struct Case {
    std::vector<std::string> path;
    json value;  // null: remove
    std::string message;
  };
  const std::vector<Case> cases = {
      {{"request"}, nullptr, "request is missing"},
      {{"request"}, "x", "request is string, expected object"},
      {{"request", "enc"}, 5, "request.enc is number"},
      {{"request", "kid"}, nullptr, "request.kid is missing"},
      {{"response"}, nullptr, "response is missing"},
      {{"response", "key"}, json::array(), "response.key is array"},
      {{"response", "key", "key"}, nullptr, "response.key.key is missing"},
      {{"response", "key", "key", "kid"}, true, "response.key.key.kid is boolean"},
      {{"response", "key", "key", "kty"}, nullptr, "response.key.key.kty is missing"},
      {{"response", "key", "key", "kty"}, "RSA-HSM", "is not RSA, EC or oct"},
      {{"response", "key", "key", "key_hsm"}, nullptr, "response.key.key.key_hsm is missing"},
      {{"response", "key", "key", "key_hsm"}, "!!", "key_hsm: not base64url"},
      {{"iss"}, nullptr, "iss is missing"},
  };
  for (const auto& k : cases) {
    json c = payload();
    json* at = &c;
    for (size_t i = 0; i + 1 < k.path.size(); ++i) at = &(*at)[k.path[i]];
    if (k.value.is_null()) {
      at->erase(k.path.back());
    } else {
      (*at)[k.path.back()] = k.value;
    }
    EXPECT_THAT(payload_error(c).message, HasSubstr(k.message)) << k.message;
  }
  EXPECT_THAT(payload_error(json::array()).message, HasSubstr("not a JSON object"));
  EXPECT_THAT(payload_error(json("x")).message, HasSubstr("not a JSON object"));
}

TEST(ReleasePayload, KeyHsmMustUseTheEncWeAskedFor) {
  json c = payload();
  json hsm = hsm_doc();
  hsm["header"]["enc"] = "CKM_RSA_AES_KEY_WRAP";
  c["response"]["key"]["key"]["key_hsm"] = b64(hsm.dump());
  EXPECT_THAT(payload_error(c).message, HasSubstr("key_hsm header.enc CKM_RSA_AES_KEY_WRAP is not the RSA_AES_KEY_WRAP_256"));
}

// ---- ciphertext and output ----

TEST(ReleaseCiphertext, SplitsAtTheModulusLength) {
  const Bytes ct(256 + 40, 0x11);
  auto parts = split_release_ciphertext(ct, 256);
  ASSERT_TRUE(parts.ok()) << parts.error().message;
  EXPECT_EQ(parts->wrapped_aes_key.size(), 256u);
  EXPECT_EQ(parts->wrapped_material.size(), 40u);
  EXPECT_EQ(parts->wrapped_aes_key.data(), ct.data());
  EXPECT_EQ(parts->wrapped_material.data(), ct.data() + 256);
  for (size_t size : {size_t{0}, size_t{255}, size_t{256}, size_t{256 + 8}, size_t{256 + 17}, size_t{256 + 23}}) {
    auto r = split_release_ciphertext(Bytes(size, 1), 256);
    ASSERT_FALSE(r.ok()) << size;
    EXPECT_EQ(r.error().reason, kReasonReleaseAnswer);
  }
  EXPECT_FALSE(split_release_ciphertext(Bytes(40, 1), 0).ok());
}

std::string as_text(const crypto::SecretBytes& b) { return std::string(b.view().begin(), b.view().end()); }

TEST(ReleasedKeyFormat, RawAndBase64) {
  const crypto::SecretBytes foobar(ByteView(reinterpret_cast<const uint8_t*>("foobar"), 6));
  auto raw = format_released_key(foobar, "oct", KeyFormat::raw);
  ASSERT_TRUE(raw.ok());
  EXPECT_EQ(as_text(*raw), "foobar");
  // RFC 4648 §10 test vectors.
  const std::pair<const char*, const char*> vectors[] = {{"", "\n"},          {"f", "Zg==\n"},     {"fo", "Zm8=\n"},
                                                         {"foo", "Zm9v\n"},   {"foob", "Zm9vYg==\n"},
                                                         {"fooba", "Zm9vYmE=\n"}, {"foobar", "Zm9vYmFy\n"}};
  for (const auto& [in, out] : vectors) {
    const crypto::SecretBytes m(ByteView(reinterpret_cast<const uint8_t*>(in), std::strlen(in)));
    auto b = format_released_key(m, "oct", KeyFormat::base64);
    ASSERT_TRUE(b.ok());
    EXPECT_EQ(as_text(*b), out) << in;
  }
  const crypto::SecretBytes high(Bytes{0xfb, 0xff, 0xfe});
  EXPECT_EQ(as_text(*format_released_key(high, "oct", KeyFormat::base64)), "+//+\n");
  EXPECT_EQ(key_format_from_name("raw"), KeyFormat::raw);
  EXPECT_EQ(key_format_from_name("pem"), KeyFormat::pem);
  EXPECT_EQ(key_format_from_name("base64"), KeyFormat::base64);
  EXPECT_FALSE(key_format_from_name("der").has_value());
}

TEST(ReleasedKeyFormat, PemIsPkcs8ThatParsesBackToTheSameKey) {
  for (auto spec : {crypto::KeySpec{crypto::KeyKind::rsa, 2048, crypto::Curve::p256},
                    crypto::KeySpec{crypto::KeyKind::ec, 384, crypto::Curve::p384}}) {
    auto key = crypto::KeyMaterial::generate(spec);
    ASSERT_TRUE(key.ok()) << key.error().message;
    auto pem = format_released_key(key->release_bytes(), crypto::kty_name(spec.kind), KeyFormat::pem);
    ASSERT_TRUE(pem.ok()) << pem.error().message;
    const std::string text = as_text(*pem);
    EXPECT_TRUE(text.starts_with("-----BEGIN PRIVATE KEY-----\n"));
    EXPECT_TRUE(text.ends_with("\n-----END PRIVATE KEY-----\n"));
    size_t start = 0;
    while (start < text.size()) {
      const size_t nl = text.find('\n', start);
      ASSERT_NE(nl, std::string::npos);
      EXPECT_LE(nl - start, 64u);
      start = nl + 1;
    }
    auto back = crypto::KeyMaterial::import_pem(text);
    ASSERT_TRUE(back.ok()) << back.error().message;
    EXPECT_EQ(back->public_jwk(), key->public_jwk());
  }
  const crypto::SecretBytes oct(Bytes(32, 7));
  auto refused = format_released_key(oct, "oct", KeyFormat::pem);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().reason, kReasonReleaseOutput);
}

// ---- the API token file ----

TEST(ApiTokenFile, OneTokenTrimmed) {
  test::TempDir dir;
  auto ok = read_api_token(dir.file("t", as_bytes("  tlk_abcDEF-123_x\n")));
  ASSERT_TRUE(ok.ok()) << ok.error().message;
  EXPECT_EQ(*ok, "tlk_abcDEF-123_x");
  for (const char* bad : {"", " \n\t", "tlk_a tlk_b", "tlk_a\ntlk_b", "tlk_\x01"}) {
    auto r = read_api_token(dir.file("bad", as_bytes(bad)));
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_THAT(r.error().message, ::testing::Not(HasSubstr("tlk_"))) << "the error must not echo the contents";
  }
  EXPECT_FALSE(read_api_token(dir.file("big", Bytes(5000, 'a'))).ok());
  EXPECT_FALSE(read_api_token(dir.path() / "absent").ok());
  EXPECT_FALSE(read_api_token(dir.path()).ok());
}

}  // namespace
}  // namespace tl::agent
