#include "server/problem.h"

#include <map>

#include <nlohmann/json.hpp>

namespace tl::server {
namespace {

struct Kind {
  int status;
  const char* title;
};

const std::map<std::string_view, Kind>& kinds() {
  static const std::map<std::string_view, Kind> k = {
      {"request-malformed", {400, "The request is not valid"}},
      {"unsupported-media-type", {415, "The request body must be application/json"}},
      {"evidence-malformed", {400, "The evidence is not valid"}},
      {"challenge-malformed", {400, "The nonce is not a trustlaunch challenge"}},
      {"challenge-invalid", {403, "The nonce was not issued by this service for this VM"}},
      {"challenge-unknown-key", {403, "The nonce was made under an unknown or retired key"}},
      {"challenge-expired", {403, "The nonce has expired"}},
      {"challenge-replayed", {403, "The nonce was already used"}},
      {"not-found", {404, "No such resource"}},
      {"method-not-allowed", {405, "Method not allowed on this resource"}},
      {"payload-too-large", {413, "The request body is too large"}},
      {"vm-not-enrolled", {404, "The VM is not enrolled"}},
      {"enrollment-not-found", {404, "No such pending enrollment"}},
      {"enrollment-expired", {410, "The enrollment expired before activation"}},
      {"activation-failed", {403, "The credential was not activated by the enrolled TPM"}},
      {"ek-takeover-refused", {409, "The VM is enrolled with another EK"}},
      {"ek-already-enrolled", {409, "The EK is enrolled as another VM"}},
      {"ek-public-invalid", {400, "The EK public area is not a usable endorsement key"}},
      {"ek-certificate-missing", {403, "The EK has no certificate and uncertified EKs are not allowed"}},
      {"ek-certificate-untrusted", {403, "The EK certificate does not chain to a trusted CA"}},
      {"ak-public-invalid", {400, "The AK public area is not valid"}},
      {"ak-not-restricted-signing", {403, "The AK is not a restricted signing key"}},
      {"ak-attributes", {403, "The AK lacks fixedTPM, fixedParent or sensitiveDataOrigin"}},
      {"unauthorized", {401, "A valid bearer credential is required"}},
      {"forbidden", {403, "The caller may not perform this operation"}},
      {"identity-invalid", {400, "The identity is not valid"}},
      {"token-invalid", {400, "The API token request is not valid"}},
      {"token-exists", {409, "An API token with this name exists"}},
      {"token-not-found", {404, "No such API token"}},
      {"access-policy-invalid", {400, "The access policy is not valid"}},
      {"access-policy-not-found", {404, "No such access policy"}},
      {"audit-query-invalid", {400, "The audit query is not valid"}},
      {"key-invalid", {400, "The key request is not valid"}},
      {"key-not-found", {404, "No such key"}},
      {"key-version-not-found", {404, "No such key version"}},
      {"key-disabled", {403, "The key (version) is disabled or outside its validity period"}},
      {"key-deleted", {409, "The key is deleted (recover or purge it)"}},
      {"key-conflict", {409, "The key's state does not allow this"}},
      {"key-not-exportable", {403, "The key is not exportable"}},
      {"release-policy-invalid", {400, "The release policy is not valid"}},
      {"release-policy-immutable", {409, "The release policy is immutable"}},
      {"exportable-immutable", {409, "Whether a key is exportable cannot change"}},
      {"exportable-needs-policy", {400, "An exportable key needs a release policy"}},
      {"policy-needs-exportable", {400, "A release policy needs an exportable key"}},
      {"release-request-invalid", {400, "The release request is not valid"}},
      {"release-policy-denied", {403, "The attestation token does not satisfy the key's release policy"}},
      {"runtime-key-missing", {403, "No usable TPM-resident runtime key"}},
      {"runtime-key-not-callers", {403, "The attestation token is not the calling VM's"}},
      {"token-malformed", {403, "The attestation token is malformed"}},
      {"token-alg-refused", {403, "The attestation token's algorithm is refused"}},
      {"token-untrusted-issuer", {403, "The attestation token's issuer is not a trusted authority"}},
      {"token-unknown-kid", {403, "The attestation token's key id is unknown to its issuer"}},
      {"token-signature-invalid", {403, "The attestation token's signature is not valid"}},
      {"token-expired", {403, "The attestation token has expired"}},
      {"token-not-yet-valid", {403, "The attestation token is not valid yet"}},
      {"authority-unavailable", {503, "The attestation authority's keys cannot be fetched"}},
      {"kek-mismatch", {500, "The key-encryption key does not open this vault"}},
      {"integrity", {500, "Stored data failed its integrity check"}},
      {"token-issuer-mismatch", {403, "The token's issuer is not the one expected"}},
      {"token-audience-mismatch", {403, "The token's audience is not this service"}},
      {"vm-invalid", {400, "The VM description is not valid"}},
      {"vm-exists", {409, "A VM with this name or VM id is already registered"}},
      {"vm-not-found", {404, "No such registered VM"}},
      {"baseline-invalid", {400, "The baseline is not valid"}},
      {"baseline-not-found", {404, "No such baseline"}},
      {"alert-query-invalid", {400, "The alert query is not valid"}},
      {"suppression-invalid", {400, "The suppression rule is not valid"}},
      {"suppression-not-found", {404, "No such suppression rule"}},
      {"hcl-ak-mismatch", {403, "The HCL report's vTPM attestation key is not the enrolled AK"}},
      {"internal-error", {500, "Internal error"}},
      {"verifier-internal", {500, "The verifier could not run a step"}},
      {"unavailable", {503, "The service cannot serve this request now"}},
  };
  return k;
}

}  // namespace

int problem_status(std::string_view reason) {
  auto it = kinds().find(reason);
  return it == kinds().end() ? 403 : it->second.status;
}

std::string problem_title(std::string_view reason) {
  auto it = kinds().find(reason);
  return it == kinds().end() ? "Attestation rejected" : it->second.title;
}

http::Response problem(std::string_view reason, std::string_view detail) {
  nlohmann::json body = {{"type", std::string(kProblemTypePrefix) + std::string(reason)},
                         {"title", problem_title(reason)},
                         {"status", problem_status(reason)},
                         {"detail", std::string(detail)},
                         {"reason", std::string(reason)}};
  http::Response r;
  r.status = problem_status(reason);
  r.headers["Content-Type"] = "application/problem+json";
  r.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return r;
}

http::Response problem(const Error& e, std::string_view fallback_reason) {
  return problem(e.reason.empty() ? fallback_reason : std::string_view(e.reason), e.message);
}

}  // namespace tl::server
