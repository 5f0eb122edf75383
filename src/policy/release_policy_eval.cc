// evaluate(): a parsed release policy against the claims of a verified token
// (docs/release-policy.md "Evaluation"). Every condition that cannot be
// decided as written (missing claim, a path through a non-object, values that
// do not compare) fails, and the decision names the clause and says why.
#include <compare>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "policy/release_policy.h"
#include "policy/release_policy_internal.h"

namespace tl::policy {

namespace {

using nlohmann::json;
using detail::kind_with_article;
using detail::shown;

// Explanations list alternatives; these bounds keep an audit row readable.
constexpr size_t kMaxAlternativesShown = 4;
constexpr size_t kMaxExplanationBytes = 2048;

struct Outcome {
  bool holds = false;
  std::string clause;  // where it was decided
  std::string why;     // for people, without the clause
};

std::string cut_utf8(std::string s, size_t max) {
  if (s.size() <= max) return s;
  size_t cut = max;
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
  s.resize(cut);
  return s + "\xE2\x80\xA6";  // …
}

// The claim at a dotted path. `value` is null when it is absent; `why` then
// says so ("is missing", "is missing (\"a\" is a string, not an object)").
struct Lookup {
  const json* value = nullptr;
  std::string why;
};

Lookup find_claim(const json& claims, const std::string& path) {
  const json* cur = &claims;
  size_t start = 0;
  std::string walked;
  for (;;) {
    const size_t dot = path.find('.', start);
    const std::string segment = path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (!cur->is_object()) {
      return {nullptr, "is missing (" + shown(json(walked)) + " is " + kind_with_article(*cur) + ", not an object)"};
    }
    const auto it = cur->find(segment);
    if (it == cur->end()) return {nullptr, "is missing"};
    cur = &*it;
    if (dot == std::string::npos) break;
    walked = path.substr(0, dot);
    start = dot + 1;
  }
  if (cur->is_null()) return {nullptr, "is null (treated as missing)"};
  return {cur, {}};
}

// Integers compare exactly (signed or not); anything involving a fraction
// compares as long double, which holds every int64/uint64 and double exactly.
std::partial_ordering compare_numbers(const json& a, const json& b) {
  if (a.is_number_integer() && b.is_number_integer()) {
    if (a.is_number_unsigned() && b.is_number_unsigned()) return a.get<uint64_t>() <=> b.get<uint64_t>();
    if (!a.is_number_unsigned() && !b.is_number_unsigned()) return a.get<int64_t>() <=> b.get<int64_t>();
    if (a.is_number_unsigned()) {
      const auto u = a.get<uint64_t>();
      const auto s = b.get<int64_t>();
      return std::cmp_equal(u, s) ? std::partial_ordering::equivalent
             : std::cmp_less(u, s) ? std::partial_ordering::less
                                   : std::partial_ordering::greater;
    }
    const auto s = a.get<int64_t>();
    const auto u = b.get<uint64_t>();
    return std::cmp_equal(s, u) ? std::partial_ordering::equivalent
           : std::cmp_less(s, u) ? std::partial_ordering::less
                                 : std::partial_ordering::greater;
  }
  auto as_long_double = [](const json& j) -> long double {
    if (j.is_number_unsigned()) return static_cast<long double>(j.get<uint64_t>());
    if (j.is_number_integer()) return static_cast<long double>(j.get<int64_t>());
    return static_cast<long double>(j.get<double>());
  };
  return as_long_double(a) <=> as_long_double(b);
}

// Whether two scalars are equal; nullopt when they do not compare. Strings
// compare byte for byte (case-sensitive). A string compares with a boolean or
// a number through that value's JSON text (true ↔ "true", 7 ↔ "7"), because
// Key Vault hands policies back with such values as strings.
std::optional<bool> scalars_equal(const json& claim, const json& want) {
  if (claim.is_string() && want.is_string()) return claim.get_ref<const std::string&>() == want.get_ref<const std::string&>();
  if (claim.is_number() && want.is_number()) return compare_numbers(claim, want) == 0;
  if (claim.is_boolean() && want.is_boolean()) return claim.get<bool>() == want.get<bool>();
  if (claim.is_string() && (want.is_boolean() || want.is_number()))
    return claim.get_ref<const std::string&>() == want.dump();
  if (want.is_string() && (claim.is_boolean() || claim.is_number()))
    return want.get_ref<const std::string&>() == claim.dump();
  return std::nullopt;
}

std::string requirement(const std::string& op, const json& want) { return "policy requires " + op + " " + shown(want); }

Outcome eval_claim(const json& c, const std::string& path, const json& claims) {
  std::string op;
  for (const auto& [name, value] : c.items())
    if (name != "claim") op = name;
  const json& want = c.at(op);
  const std::string& name = c.at("claim").get_ref<const std::string&>();
  const std::string subject = "claim " + shown(json(name));
  const Lookup found = find_claim(claims, name);

  if (op == "exists") {
    const bool present = found.value != nullptr;
    if (present == want.get<bool>()) return {true, path, {}};
    if (present) return {false, path, subject + " exists (" + shown(*found.value) + "), " + requirement(op, want)};
    return {false, path, subject + " " + found.why + ", " + requirement(op, want)};
  }
  if (found.value == nullptr) return {false, path, subject + " " + found.why + ", " + requirement(op, want)};
  const json& have = *found.value;
  if (have.is_array() || have.is_object())
    return {false, path, subject + " is " + kind_with_article(have) + " (" + shown(have) + "), " + requirement(op, want) +
                             "; only strings, numbers and booleans compare"};

  if (op == "equals" || op == "notEquals") {
    const auto equal = scalars_equal(have, want);
    if (!equal)
      return {false, path, subject + " is " + shown(have) + " (" + kind_with_article(have) + "), which does not compare with " +
                               shown(want) + " (" + kind_with_article(want) + "); " + requirement(op, want)};
    if (*equal == (op == "equals")) return {true, path, {}};
    return {false, path, subject + " is " + shown(have) + ", " + requirement(op, want)};
  }

  if (!have.is_number())
    return {false, path, subject + " is " + shown(have) + " (" + kind_with_article(have) + "), " + requirement(op, want) +
                             "; " + op + " compares numbers only"};
  const auto order = compare_numbers(have, want);
  const bool holds = (op == "less" && order < 0) || (op == "lessOrEquals" && order <= 0) ||
                     (op == "greater" && order > 0) || (op == "greaterOrEquals" && order >= 0);
  if (holds) return {true, path, {}};
  return {false, path, subject + " is " + shown(have) + ", " + requirement(op, want)};
}

Outcome eval_condition(const json& c, const std::string& path, const json& claims);

// allOf fails at its first failing condition (the deepest one, through nested
// allOf); anyOf fails as a whole at `owner`, listing why each alternative failed.
Outcome eval_group(const json& list, bool all, const std::string& list_path, const std::string& owner, const json& claims) {
  if (!list.is_array() || list.empty()) return {false, owner, "malformed condition list"};  // parse refuses these
  std::vector<Outcome> failures;
  for (size_t i = 0; i < list.size(); ++i) {
    Outcome o = eval_condition(list[i], list_path + "[" + std::to_string(i) + "]", claims);
    if (all && !o.holds) return o;
    if (!all && o.holds) return {true, owner, {}};
    if (!all) failures.push_back(std::move(o));
  }
  if (all) return {true, owner, {}};
  std::string why = "none of its " + std::to_string(list.size()) + " alternatives holds: ";
  for (size_t i = 0; i < failures.size() && i < kMaxAlternativesShown; ++i) {
    if (i > 0) why += "; ";
    why += failures[i].clause + ": " + failures[i].why;
  }
  if (failures.size() > kMaxAlternativesShown)
    why += "; and " + std::to_string(failures.size() - kMaxAlternativesShown) + " more";
  return {false, owner, std::move(why)};
}

Outcome eval_condition(const json& c, const std::string& path, const json& claims) {
  if (!c.is_object()) return {false, path, "malformed condition"};
  if (const auto any = c.find("anyOf"); any != c.end()) return eval_group(*any, false, path + ".anyOf", path, claims);
  if (const auto all = c.find("allOf"); all != c.end()) return eval_group(*all, true, path + ".allOf", path, claims);
  if (c.contains("claim") && c.size() == 2) return eval_claim(c, path, claims);
  return {false, path, "malformed condition"};
}

Outcome eval_entry(const json& entry, const std::string& path, const json& claims) {
  if (const auto any = entry.find("anyOf"); any != entry.end())
    return eval_group(*any, false, path + ".anyOf", path + ".anyOf", claims);
  if (const auto all = entry.find("allOf"); all != entry.end())
    return eval_group(*all, true, path + ".allOf", path + ".allOf", claims);
  return {false, path, "malformed authority entry"};
}

ReleaseDecision denied(std::string clause, const std::string& why) {
  std::string explanation = cut_utf8(clause + ": " + why, kMaxExplanationBytes);
  return ReleaseDecision{false, std::move(clause), std::move(explanation)};
}

std::string authority_list(const json& entries) {
  std::string out;
  size_t listed = 0;
  for (const auto& e : entries) {
    const auto a = e.find("authority");
    if (a == e.end()) continue;
    if (listed == 3) return out + " and " + std::to_string(entries.size() - 3) + " more entries";
    out += (listed > 0 ? ", " : "") + shown(*a);
    ++listed;
  }
  return out;
}

}  // namespace

ReleaseDecision evaluate(const ReleasePolicy& policy, const token::VerifiedToken& token) {
  const json& claims = token.claims();
  const auto entries = policy.json().find("anyOf");
  if (entries == policy.json().end() || !entries->is_array()) return denied("(root)", "malformed policy");
  const auto iss = claims.find("iss");
  if (iss == claims.end() || !iss->is_string())
    return denied("anyOf", "the token has no \"iss\" string, so no authority can match");
  const std::string issuer = detail::normalize_authority(iss->get_ref<const std::string&>());

  std::optional<ReleaseDecision> first_denial;
  for (size_t i = 0; i < entries->size(); ++i) {
    const json& entry = (*entries)[i];
    const auto authority = entry.find("authority");
    if (authority == entry.end() || !authority->is_string()) continue;
    if (detail::normalize_authority(authority->get_ref<const std::string&>()) != issuer) continue;
    const std::string path = "anyOf[" + std::to_string(i) + "]";
    const Outcome o = eval_entry(entry, path, claims);
    if (o.holds) {
      const char* how = entry.contains("allOf") ? "all of its conditions hold" : "one of its conditions holds";
      return ReleaseDecision{true, path,
                             cut_utf8(path + ": the token's issuer " + shown(*iss) + " matches " + shown(*authority) +
                                          " and " + how, kMaxExplanationBytes)};
    }
    if (!first_denial) first_denial = denied(o.clause, o.why);
  }
  if (first_denial) return std::move(*first_denial);
  return denied("anyOf", "no entry names the token's issuer " + shown(*iss) + "; the policy trusts " +
                             authority_list(*entries));
}

}  // namespace tl::policy
