// Secure Key Release policies in Azure Key Vault's grammar, version 1.0.0
// (docs/release-policy.md):
//
//   {"version":"1.0.0",
//    "anyOf":[{"authority":"https://issuer","allOf":[
//        {"claim":"x-ms-isolation-tee.x-ms-attestation-type","equals":"sevsnpvm"},
//        {"anyOf":[{"claim":"secureboot","equals":true}, …]} …]}]}
//
// The top-level anyOf holds one entry per authority; inside, allOf / anyOf
// nest; a condition names a dotted claim path and one operator (equals,
// notEquals, less, lessOrEquals, greater, greaterOrEquals, exists). A missing
// claim fails its condition (except `exists: false`, which asks for absence).
// Only a token whose signature, time window and issuer were verified can be
// evaluated.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result.h"
#include "token/jwt.h"

namespace tl::policy {

class ReleasePolicy {
 public:
  static constexpr size_t kMaxBytes = 64 * 1024;
  static constexpr int kMaxDepth = 16;

  // Strict: unknown members, duplicate members, a wrong type, a condition with
  // zero or two operators, an empty anyOf / allOf, a version other than
  // "1.0.0", a top-level entry without "authority" … are refused with reason
  // "release-policy-invalid" and a message starting with the location, e.g.
  // "anyOf[0].allOf[2]: \"equals\" and \"less\" both given; a condition has one operator".
  static Result<ReleasePolicy> parse(std::string_view json_text);

  // The policy as parsed (nlohmann::json keeps members sorted by name, so the
  // document's member order is not kept; array order is).
  const nlohmann::json& json() const { return json_; }
  // The authorities it names, in order, each once (an issuer repeated in the
  // form evaluate() compares is listed where it first appears).
  std::vector<std::string> authorities() const;

 private:
  explicit ReleasePolicy(nlohmann::json j) : json_(std::move(j)) {}
  nlohmann::json json_;
};

struct ReleaseDecision {
  bool allowed = false;
  // The clause that decided, as a location: allowed → the top-level entry that
  // matched ("anyOf[1]"); denied → the first failing condition of the entry
  // whose authority matched ("anyOf[0].allOf[1]"), or "anyOf" when no entry
  // names the token's issuer.
  std::string clause;
  // For people: "anyOf[0].allOf[1]: claim \"secureboot\" is false, policy requires equals true".
  std::string explanation;
};

// An authority matches the token's "iss" compared as URLs without a trailing
// slash, scheme and host case-insensitively.
ReleaseDecision evaluate(const ReleasePolicy& policy, const token::VerifiedToken& token);

}  // namespace tl::policy
