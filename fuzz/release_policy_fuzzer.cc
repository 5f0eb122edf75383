// Fuzzes release policies (src/policy/release_policy.h): ReleasePolicy::parse,
// then evaluate() of every accepted policy against fixed tokens that were
// signed and verified for real at start-up. The first byte picks the input's
// path:
//   '{' '[' '"' or white space   the whole input is the policy text;
//   otherwise                    the rest is spliced as raw JSON text into one
//                                place of a valid policy (first byte picks
//                                which), so every member's checks are reached
//                                without a seed corpus.
// Invariants: a refusal has reason release-policy-invalid and a located,
// valid UTF-8 message; an accepted policy names an authority, fits the size
// limit and parses back from json() to the same document; a decision is
// deterministic, names a clause inside the policy, and its explanation starts
// with that clause and is valid UTF-8.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "fuzz_support.h"
#include "policy/release_policy.h"
#include "token/jwk.h"
#include "token/jwt.h"

using tl::fuzz::check;
using json = nlohmann::json;

namespace {

constexpr int64_t kNow = 1'800'000'000;

// '@' marks where the fuzzer's bytes go.
const std::vector<std::string>& templates() {
  static const std::vector<std::string> t = [] {
    auto entry = [](const std::string& authority, const std::string& group) {
      return R"({"version":"1.0.0","anyOf":[{"authority":)" + authority + "," + group + "}]}";
    };
    const std::string iss = R"("https://tl.example")";
    auto all = [&](const std::string& conditions) { return entry(iss, R"("allOf":[)" + conditions + "]"); };
    return std::vector<std::string>{
        R"({"version":@,"anyOf":[{"authority":"https://tl.example","allOf":[{"claim":"n","equals":5}]}]})",
        R"({"version":"1.0.0","anyOf":@})",
        R"({"version":"1.0.0","anyOf":[@]})",
        entry("@", R"("allOf":[{"claim":"secureboot","equals":true}])"),
        entry(iss, R"("anyOf":@)"),
        all("@"),
        all(R"({"claim":"secureboot","equals":true},@)"),
        all(R"({"claim":@,"equals":true})"),
        all(R"({"claim":"x-ms-isolation-tee.x-ms-attestation-type","equals":@})"),
        all(R"({"claim":"n","greater":@})"),
        all(R"({"claim":"n","lessOrEquals":@})"),
        all(R"({"claim":@,"exists":true})"),
        all(R"({"claim":"tee.@","notEquals":"x"})"),
        all(R"({"claim":"n","@":5})"),
        all(R"({"anyOf":[@,{"claim":"secureboot","equals":true}]})"),
        all(R"({"allOf":[{"anyOf":[{"claim":"n","less":6},@]}]})"),
    };
  }();
  return t;
}

struct Fixture {
  std::vector<tl::token::VerifiedToken> tokens;
};

// Tokens with claims of every JSON type under the names the templates use,
// from the templates' issuer (in two spellings) and from another one.
const Fixture& fixture() {
  static const Fixture f = [] {
    auto key = tl::token::SigningKey::generate(tl::token::JwsAlg::es256);
    check(key.ok());
    tl::token::Jwks jwks;
    check(jwks.add(key->public_jwk()).ok());
    tl::token::VerifyOptions o;
    o.now = kNow;
    const json tee = {{"x-ms-attestation-type", "sevsnpvm"}, {"x-ms-compliance-status", "azure-compliant-cvm"}};
    const std::vector<json> claim_sets = {
        {{"iss", "https://tl.example"}, {"secureboot", true}, {"n", 5}, {"x-ms-isolation-tee", tee},
         {"tee", {{"x", "y"}, {"n", 1.5}, {"deep", {{"er", nullptr}}}}}, {"pcrs", {0, 7}}, {"big", UINT64_MAX},
         {"neg", -3}, {"null", nullptr}, {"s", "5"}},
        {{"iss", "HTTPS://TL.example/"}, {"secureboot", "true"}, {"n", "5"}, {"x-ms-isolation-tee", "sevsnpvm"},
         {"tee", json::array()}, {"x", "\xC3\xA9t\xC3\xA9"}},
        {{"iss", "https://other.example"}, {"secureboot", false}, {"n", 4.999}},
        {{"secureboot", true}},  // no "iss"
    };
    Fixture out;
    for (json c : claim_sets) {
      c["exp"] = kNow + 3600;
      auto jwt = tl::token::sign_jwt(*key, c);
      check(jwt.ok());
      auto v = tl::token::verify_jwt(*jwt, jwks, o);
      check(v.ok());
      out.tokens.push_back(std::move(*v));
    }
    return out;
  }();
  return f;
}

bool valid_utf8(const std::string& s) {
  try {
    (void)json(s).dump();
    return true;
  } catch (const json::exception&) {
    return false;
  }
}

// "anyOf" or "anyOf[<i>]…" with i an index of the policy's top-level anyOf.
bool clause_in_policy(const std::string& clause, const tl::policy::ReleasePolicy& p, bool entry_only) {
  if (clause == "anyOf") return !entry_only;
  if (clause.rfind("anyOf[", 0) != 0) return false;
  const size_t close = clause.find(']');
  if (close == std::string::npos || close == 6) return false;
  size_t index = 0;
  for (size_t i = 6; i < close; ++i) {
    if (clause[i] < '0' || clause[i] > '9' || index > 1'000'000) return false;
    index = index * 10 + static_cast<size_t>(clause[i] - '0');
  }
  if (index >= p.json().at("anyOf").size()) return false;
  return entry_only ? close + 1 == clause.size() : true;
}

void fuzz_policy(std::string_view text) {
  auto p = tl::policy::ReleasePolicy::parse(text);
  if (!p) {
    const auto& e = p.error();
    check(e.reason == "release-policy-invalid");
    const size_t colon = e.message.find(": ");
    check(colon != std::string::npos && colon > 0);
    check(valid_utf8(e.message));
    return;
  }
  check(text.size() <= tl::policy::ReleasePolicy::kMaxBytes);
  check(!p->authorities().empty());
  auto again = tl::policy::ReleasePolicy::parse(p->json().dump());
  check(again.ok());
  check(again->json() == p->json());
  for (const auto& token : fixture().tokens) {
    const auto d = tl::policy::evaluate(*p, token);
    check(!d.clause.empty());
    check(clause_in_policy(d.clause, *p, d.allowed));
    check(d.explanation.rfind(d.clause + ": ", 0) == 0);
    check(valid_utf8(d.explanation));
    const auto twice = tl::policy::evaluate(*p, token);
    check(twice.allowed == d.allowed && twice.clause == d.clause && twice.explanation == d.explanation);
    if (!token.claims().contains("iss")) check(!d.allowed);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string_view all(reinterpret_cast<const char*>(data), size);
  const char first = all[0];
  if (first == '{' || first == '[' || first == '"' || first == ' ' || first == '\n' || first == '\t') {
    fuzz_policy(all);
    return 0;
  }
  const std::string& t = templates()[data[0] % templates().size()];
  std::string text;
  text.reserve(t.size() + size);
  for (char c : t) {
    if (c == '@') text += all.substr(1);
    else text += c;
  }
  fuzz_policy(text);
  return 0;
}
