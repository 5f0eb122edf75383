// Secure Key Release in the VM (docs/agent.md "Key release",
// docs/keyvault-release.md): attest, ask tlaunchd to release a key to this
// VM's runtime key, verify the signed answer, and unwrap the key inside the
// TPM. The key leaves the TPM only as the AES key that unwraps the material,
// which lives in SecretBytes and is never logged.
//
// Reasons, besides those of attestation, the TPM (tpm-*, e.g.
// tpm-policy-failed after the boot state changed) and the server's problems
// (release-policy-denied, forbidden, key-not-found, …): key-reference-invalid,
// release-answer-invalid, runtime-key-mismatch (the token does not name the
// key we hold, or the answer is wrapped to another), release-unwrap-failed,
// token-* (the answer's signature, from verify_jwt), network, protocol.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "agent/client/attestation_client.h"
#include "agent/client/release_payload.h"
#include "agent/tpm/agent_tpm.h"
#include "common/result.h"
#include "crypto/secret_bytes.h"

namespace tl::agent {

inline constexpr const char* kReasonRuntimeKeyMismatch = "runtime-key-mismatch";
inline constexpr const char* kReasonUnwrapFailed = "release-unwrap-failed";

struct ReleaseOptions {
  std::string key;  // --key: NAME[/VERSION] or <endpoint>/keys/NAME[/VERSION]
  ReleaseEnc enc = ReleaseEnc::rsa_aes_key_wrap_256;
  std::optional<std::string> nonce;      // a random one when absent
  std::optional<std::string> api_token;  // the Authorization credential; else our attestation token (vm:VMID)
};

struct ReleasedKey {
  std::string kid;             // the version released: <issuer>/keys/NAME/VERSION
  std::string kty;             // "RSA", "EC" or "oct"
  nlohmann::json public_key;   // the bundle's public members (no key_hsm)
  crypto::SecretBytes material;  // PKCS#8 DER (RSA, EC) or the raw key (oct)
};

// A refused release as the server explained it: its problem's "clause" (from
// the release policy's decision on; empty otherwise).
struct ReleaseDiagnostics {
  int http_status = 0;
  std::string clause;
};

// attest() (enrolling first if needed), then POST <key>/release with our
// token as target, then: the answer's JWS verifies under tlaunchd's /certs
// with iss = our token's iss; its payload answers our request
// (parse_release_payload); key_hsm is wrapped to the runtime key our token
// names, which is the one this client holds; unwrap in the TPM. A problem
// answer is an Error "release denied: <detail>" (401/403) or "release failed:
// HTTP <status>: <detail>" with the server's reason; `diagnostics` (optional)
// gets its status and clause.
Result<ReleasedKey> release_key(AttestationClient& client, const ReleaseOptions& options,
                                ReleaseDiagnostics* diagnostics = nullptr);

// The TPM step alone: the AES key from the first modulus-length bytes of
// key_hsm's ciphertext (TPM2_RSA_Decrypt, OAEP with enc's hash, under the
// key's PCR policy), which must be 32 bytes, then RFC 5649 unwrap of the rest.
Result<crypto::SecretBytes> unwrap_key_hsm(tpm::Tpm& tpm, const tpm::RuntimeKeyBlob& runtime_key, const KeyHsm& hsm);

// The RSA modulus (big-endian, the key's full length) of a runtime key blob.
Result<Bytes> runtime_key_modulus(const tpm::RuntimeKeyBlob& runtime_key);

// An API token file (tlaunch key token create … > FILE): one token of visible
// ASCII, surrounding whitespace trimmed. The error names the path, never the contents.
Result<std::string> read_api_token(const std::filesystem::path& path);

}  // namespace tl::agent
