// Reasons of Authorities::verify failures that are not verify_jwt's own
// (token::kReasonToken*): docs/keyvault.md "Authorities", docs/errors.md.
#pragma once

namespace tl::keys::detail {

inline constexpr const char* kReasonUntrustedIssuer = "token-untrusted-issuer";
inline constexpr const char* kReasonAuthorityUnavailable = "authority-unavailable";

}  // namespace tl::keys::detail
