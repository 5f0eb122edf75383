// The stable `reason` slugs of verify_attestation / decode_evidence errors
// (docs/evidence.md, "Rejection reasons", says what each means). Clients and the
// HTTP layer match on these, never on messages.
#pragma once

namespace tl::verify::reason {

inline constexpr const char* kEvidenceMalformed = "evidence-malformed";
inline constexpr const char* kVmIdMismatch = "vm-id-mismatch";
inline constexpr const char* kAkMalformed = "ak-malformed";
inline constexpr const char* kAkMismatch = "ak-mismatch";
inline constexpr const char* kAkNotRestrictedSigning = "ak-not-restricted-signing";
inline constexpr const char* kAkAttributes = "ak-attributes";
// "<bank>-bank-required", e.g. "sha256-bank-required" (see bank_required()).
inline constexpr const char* kBankNotAllowed = "bank-not-allowed";
// Quote failures come from tpm::verify_quote as "quote-<check>" ("quote-nonce",
// "quote-pcr-selection", "quote-signature", "quote-pcr-digest", …).
inline constexpr const char* kEvidenceNonceMismatch = "evidence-nonce-mismatch";
inline constexpr const char* kEventlogMalformed = "eventlog-malformed";
inline constexpr const char* kEventlogBankMismatch = "eventlog-bank-mismatch";
inline constexpr const char* kEventlogUnquotedPcr = "eventlog-unquoted-pcr";
inline constexpr const char* kEventlogReplayMismatch = "eventlog-replay-mismatch";
inline constexpr const char* kEventlogCheckFailed = "eventlog-check-failed";
inline constexpr const char* kRuntimeKeyMissing = "runtime-key-missing";
inline constexpr const char* kRuntimeKeyCertify = "runtime-key-certify";
inline constexpr const char* kRuntimeKeyAttributes = "runtime-key-attributes";
inline constexpr const char* kRuntimeKeyPolicy = "runtime-key-policy";
inline constexpr const char* kInternal = "verifier-internal";  // a hash OpenSSL lacks, …

}  // namespace tl::verify::reason
