// The agent's parsers for Secure Key Release (docs/keyvault-release.md): which
// key --key names, the release JWS payload checked against what was asked,
// the key_hsm blob, the ciphertext split, and the output forms of a released
// key. No I/O and no TPM here: key_release.h does those.
//
// Errors carry reasons: key-reference-invalid (the --key argument),
// release-answer-invalid (the server's answer is malformed or does not match
// the request), release-output-invalid (a format the key type has not).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/hex.h"
#include "common/result.h"
#include "crypto/digest.h"
#include "crypto/secret_bytes.h"

namespace tl::agent {

inline constexpr const char* kReasonKeyReference = "key-reference-invalid";
inline constexpr const char* kReasonReleaseAnswer = "release-answer-invalid";
inline constexpr const char* kReasonReleaseOutput = "release-output-invalid";

// The wrapping a release asks for: the RSA-OAEP hash of the AES key (the AES
// key wrap is always AES-256 KWP).
enum class ReleaseEnc { ckm_rsa_aes_key_wrap, rsa_aes_key_wrap_256, rsa_aes_key_wrap_384 };
std::string_view release_enc_name(ReleaseEnc enc);  // "CKM_RSA_AES_KEY_WRAP", "RSA_AES_KEY_WRAP_256", …
std::optional<ReleaseEnc> release_enc_from_name(std::string_view name);  // exact case
crypto::HashAlg release_enc_oaep_hash(ReleaseEnc enc);  // sha1, sha256, sha384

// A key of the vault: name (1-127 of A-Z a-z 0-9 -) and optional version (32
// lower-case hex digits).
struct KeyReference {
  std::string name;
  std::string version;  // empty: the newest enabled version
  std::string path() const;  // "/keys/NAME[/VERSION]"
};

// --key: "NAME[/VERSION]", or the key's URL "<origin>/keys/NAME[/VERSION]"
// whose origin (scheme, host, port) must be the endpoint's: the release sends
// our attestation token, which goes to the tlaunchd we attest with and
// nowhere else. Queries, fragments, credentials and other paths are refused.
Result<KeyReference> parse_key_reference(std::string_view text, std::string_view endpoint);

// key_hsm: base64url of {"schema_version":"1.0","header":{"kid","alg":"dir",
// "enc"},"ciphertext":"<base64url>","generator"?}. Strict: a duplicate or
// unknown member, a wrong type, another schema_version or alg, an unknown
// enc, an empty ciphertext are refused, naming the member.
struct KeyHsm {
  std::string kid;  // the runtime key's kid ("" when its JWK has none)
  ReleaseEnc enc = ReleaseEnc::rsa_aes_key_wrap_256;
  Bytes ciphertext;
};
inline constexpr size_t kMaxKeyHsmChars = 256 * 1024;
Result<KeyHsm> parse_key_hsm(std::string_view key_hsm);

// What we asked for, to check the answer against.
struct ReleaseExpectation {
  std::string issuer;  // tlaunchd's iss (no trailing '/')
  KeyReference key;
  ReleaseEnc enc = ReleaseEnc::rsa_aes_key_wrap_256;
  std::string nonce;
};

// A release JWS payload (verified claims) that answers our request.
struct ReleasePayload {
  std::string kid;      // response.key.key.kid: the version released
  std::string version;  // its version
  std::string kty;      // "RSA", "EC" or "oct"
  nlohmann::json public_key;  // response.key.key without key_hsm
  KeyHsm key_hsm;
};

// Checks, naming the member: request.enc is ours; request.nonce is ours;
// request.kid is <issuer>/keys/NAME[/VERSION] as asked; response.key.key.kid
// is <issuer>/keys/NAME/<version> (the version asked, when one was); kty is
// RSA, EC or oct; key_hsm parses and its header.enc is ours.
Result<ReleasePayload> parse_release_payload(const nlohmann::json& claims, const ReleaseExpectation& expected);

// ciphertext = RSA-OAEP part (exactly `modulus_bytes`) ‖ AES-KWP part (a
// multiple of 8 bytes, at least 16).
struct CiphertextParts {
  ByteView wrapped_aes_key;
  ByteView wrapped_material;
};
Result<CiphertextParts> split_release_ciphertext(ByteView ciphertext, size_t modulus_bytes);

// How the key is written: the bytes as released (PKCS#8 DER for RSA and EC,
// the raw key for oct), PKCS#8 PEM (RSA and EC only), or base64 (RFC 4648 §4,
// padded) of the bytes with a newline.
enum class KeyFormat { raw, pem, base64 };
std::optional<KeyFormat> key_format_from_name(std::string_view name);  // "raw", "pem", "base64"
// The output bytes, built in place (secret: no intermediate copies).
Result<crypto::SecretBytes> format_released_key(const crypto::SecretBytes& material, std::string_view kty,
                                                KeyFormat format);

}  // namespace tl::agent
