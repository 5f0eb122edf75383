// ReleasePolicy::parse: Azure Key Vault's release policy grammar, version
// 1.0.0 (docs/release-policy.md). A policy decides who gets a key, so it is
// checked completely when it is set, and anything the grammar does not say is
// refused with the location of the offending value rather than guessed at.
#include "policy/release_policy.h"

#include <algorithm>
#include <initializer_list>

#include "policy/release_policy_internal.h"

namespace tl::policy {

namespace detail {

using nlohmann::json;

std::string location(const std::string& path) { return path.empty() ? "(root)" : path; }

Error policy_error(const std::string& path, const std::string& what) {
  return Error{location(path) + ": " + what, kReleasePolicyInvalid};
}

std::string normalize_authority(std::string_view url) {
  std::string s(url);
  if (!s.empty() && s.back() == '/') s.pop_back();
  const size_t sep = s.find("://");
  if (sep == std::string::npos || sep == 0) return s;
  auto lower = [&](size_t from, size_t to) {
    for (size_t i = from; i < to; ++i)
      if (s[i] >= 'A' && s[i] <= 'Z') s[i] = static_cast<char>(s[i] - 'A' + 'a');
  };
  for (size_t i = 0; i < sep; ++i) {
    const char c = s[i];
    const bool scheme_char = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '+' ||
                             c == '-' || c == '.';
    if (!scheme_char) return s;  // not a scheme: compare the text as it is
  }
  lower(0, sep);
  const size_t host_begin = sep + 3;
  size_t host_end = s.find_first_of("/?#", host_begin);
  if (host_end == std::string::npos) host_end = s.size();
  // User information (before '@') is case-sensitive; only the host is not.
  const size_t at = s.rfind('@', host_end == 0 ? 0 : host_end - 1);
  lower(at != std::string::npos && at >= host_begin ? at + 1 : host_begin, host_end);
  return s;
}

std::string shown(const json& value) {
  constexpr size_t kShown = 64;
  std::string text = value.dump(-1, ' ', false, json::error_handler_t::replace);
  if (text.size() <= kShown) return text;
  size_t cut = kShown;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;  // not inside a UTF-8 sequence
  text.resize(cut);
  return text + "\xE2\x80\xA6";  // …
}

std::string kind_with_article(const json& value) {
  switch (value.type()) {
    case json::value_t::object: return "an object";
    case json::value_t::array: return "an array";
    case json::value_t::string: return "a string";
    case json::value_t::boolean: return "a boolean";
    case json::value_t::null: return "null";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
    case json::value_t::number_float: return "a number";
    default: return "a non-JSON value";
  }
}

}  // namespace detail

namespace {

using nlohmann::json;
using detail::kind_with_article;
using detail::policy_error;
using detail::shown;

constexpr std::string_view kVersion = "1.0.0";
// Limits no real policy approaches; they keep messages and audit rows bounded.
constexpr size_t kMaxAuthorityBytes = 2048;
constexpr size_t kMaxClaimPathBytes = 1024;

std::string join(const std::string& path, std::string_view name) {
  return path.empty() ? std::string(name) : path + "." + std::string(name);
}

std::string index(const std::string& path, size_t i) { return path + "[" + std::to_string(i) + "]"; }

bool is_operator(std::string_view name) {
  return std::find(detail::kReleaseOperators.begin(), detail::kReleaseOperators.end(), name) !=
         detail::kReleaseOperators.end();
}

std::string operator_list() {
  std::string out;
  for (size_t i = 0; i < detail::kReleaseOperators.size(); ++i) {
    if (i > 0) out += i + 1 == detail::kReleaseOperators.size() ? " or " : ", ";
    out += detail::kReleaseOperators[i];
  }
  return out;
}

bool has_control_or_space(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u <= 0x20 || u == 0x7f;
  });
}

bool has_control(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u < 0x20 || u == 0x7f;
  });
}

Status unknown_member(const std::string& path, const std::string& name, std::string_view hint = {}) {
  std::string what = "unknown member " + shown(json(name));
  if (!hint.empty()) what += "; " + std::string(hint);
  return policy_error(path, what);
}

Status check_authority(const json& j, const std::string& path) {
  if (!j.is_string()) return policy_error(path, "expected the issuer URL as a string, got " + kind_with_article(j));
  const auto& s = j.get_ref<const std::string&>();
  if (s.empty()) return policy_error(path, "empty; name the issuer whose tokens this entry accepts");
  if (s.size() > kMaxAuthorityBytes)
    return policy_error(path, "longer than " + std::to_string(kMaxAuthorityBytes) + " bytes");
  if (has_control_or_space(s)) return policy_error(path, "contains a space or control character");
  if (detail::normalize_authority(s).empty()) return policy_error(path, "names no issuer");
  return {};
}

// Dotted path into the token's claims: "x-ms-isolation-tee.x-ms-attestation-type".
Status check_claim_path(const json& j, const std::string& path) {
  if (!j.is_string()) return policy_error(path, "expected the claim name as a string, got " + kind_with_article(j));
  const auto& s = j.get_ref<const std::string&>();
  if (s.empty()) return policy_error(path, "empty claim name");
  if (s.size() > kMaxClaimPathBytes)
    return policy_error(path, "longer than " + std::to_string(kMaxClaimPathBytes) + " bytes");
  if (has_control(s)) return policy_error(path, "contains a control character");
  if (s.front() == '.' || s.back() == '.' || s.find("..") != std::string::npos)
    return policy_error(path, shown(j) + " has an empty segment; a claim path is names joined by single dots "
                                         "(x-ms-isolation-tee.x-ms-attestation-type)");
  return {};
}

Status check_operand(std::string_view op, const json& v, const std::string& path) {
  if (op == "exists") {
    if (!v.is_boolean()) return policy_error(path, "expected true or false, got " + kind_with_article(v));
    return {};
  }
  if (op == "equals" || op == "notEquals") {
    if (!(v.is_string() || v.is_number() || v.is_boolean()))
      return policy_error(path, "expected a string, number or boolean, got " + kind_with_article(v) +
                                    " (claims are compared with scalar values only)");
    return {};
  }
  if (!v.is_number())
    return policy_error(path, "expected a number, got " + kind_with_article(v) + "; " + std::string(op) +
                                  " compares numbers only");
  return {};
}

Status check_group(const json& j, const std::string& path);

Status check_claim_condition(const json& c, const std::string& path) {
  std::vector<std::string> ops;
  for (const auto& [name, value] : c.items()) {
    if (name == "claim") continue;
    if (is_operator(name)) {
      ops.push_back(name);
      continue;
    }
    if (name == "condition" || name == "value")
      return unknown_member(path, name, "the operator is a member of its own: {\"claim\":…, \"equals\":…}");
    return unknown_member(path, name, "a claim condition has \"claim\" and one of " + operator_list());
  }
  if (ops.size() > 1) {
    // Named in the grammar's order, whatever order the document used.
    std::vector<std::string> ordered;
    for (std::string_view op : detail::kReleaseOperators)
      if (c.contains(std::string(op))) ordered.emplace_back(op);
    return policy_error(path, "\"" + ordered[0] + "\" and \"" + ordered[1] + "\" both given; a condition has one operator");
  }
  if (ops.empty()) return policy_error(path, "no operator; give one of " + operator_list());
  if (auto s = check_claim_path(c.at("claim"), join(path, "claim")); !s) return s;
  return check_operand(ops[0], c.at(ops[0]), join(path, ops[0]));
}

// One element of an allOf / anyOf: a claim condition or a nested group.
Status check_condition(const json& c, const std::string& path) {
  if (!c.is_object()) return policy_error(path, "expected a condition object, got " + kind_with_article(c));
  if (c.empty())
    return policy_error(path, "empty condition; give {\"claim\":…, <operator>:…}, {\"anyOf\":[…]} or {\"allOf\":[…]}");
  if (c.contains("authority")) return policy_error(path, "\"authority\" is only allowed in the top-level anyOf entries");
  const bool claim = c.contains("claim"), any = c.contains("anyOf"), all = c.contains("allOf");
  if (static_cast<int>(claim) + static_cast<int>(any) + static_cast<int>(all) > 1) {
    const char* first = claim ? "claim" : "allOf";
    const char* second = claim ? (all ? "allOf" : "anyOf") : "anyOf";
    return policy_error(path, std::string("\"") + first + "\" and \"" + second +
                                  "\" both given; a condition is one of a claim test, an anyOf or an allOf");
  }
  if (claim) return check_claim_condition(c, path);
  if (any || all) {
    const char* name = any ? "anyOf" : "allOf";
    for (const auto& [member, value] : c.items())
      if (member != name) return unknown_member(path, member, std::string("an ") + name + " condition has no other member");
    return check_group(c.at(name), join(path, name));
  }
  for (const auto& [member, value] : c.items())
    if (is_operator(member)) return policy_error(path, "\"claim\" is missing; a condition names the claim it tests");
  return unknown_member(path, c.begin().key(), "a condition has \"claim\", \"anyOf\" or \"allOf\"");
}

// Recursion is bounded by the reader's depth limit.
Status check_group(const json& j, const std::string& path) {
  if (!j.is_array()) return policy_error(path, "expected an array of conditions, got " + kind_with_article(j));
  if (j.empty()) return policy_error(path, "empty; at least one condition is required");
  for (size_t i = 0; i < j.size(); ++i)
    if (auto s = check_condition(j[i], index(path, i)); !s) return s;
  return {};
}

Status check_entry(const json& e, const std::string& path) {
  if (!e.is_object())
    return policy_error(path, "expected an object {\"authority\":…, \"allOf\" or \"anyOf\":[…]}, got " +
                                  kind_with_article(e));
  for (const auto& [name, value] : e.items()) {
    if (name == "authority" || name == "allOf" || name == "anyOf") continue;
    if (name == "claim" || is_operator(name))
      return policy_error(path, "a claim test cannot stand beside \"authority\"; put it inside \"allOf\" or \"anyOf\"");
    return unknown_member(path, name, "an authority entry has \"authority\" and \"allOf\" or \"anyOf\"");
  }
  if (!e.contains("authority"))
    return policy_error(path, "\"authority\" is missing; each top-level entry names the issuer (the token's \"iss\") "
                              "whose tokens it accepts");
  if (auto s = check_authority(e.at("authority"), join(path, "authority")); !s) return s;
  const bool any = e.contains("anyOf"), all = e.contains("allOf");
  if (any && all) return policy_error(path, "\"allOf\" and \"anyOf\" both given; an authority entry has one of them");
  if (!any && !all)
    return policy_error(path, "needs \"allOf\" or \"anyOf\" with the conditions this issuer's tokens must meet");
  const char* name = any ? "anyOf" : "allOf";
  return check_group(e.at(name), join(path, name));
}

Status check_policy(const json& root) {
  for (const auto& [name, value] : root.items()) {
    if (name == "version" || name == "anyOf") continue;
    if (name == "allOf" || name == "authority" || name == "claim")
      return policy_error("", "\"" + name + "\" is not allowed at the top level: a policy is {\"version\":\"1.0.0\","
                                            "\"anyOf\":[…]} with one entry per authority");
    return unknown_member("", name, "a policy has \"version\" and \"anyOf\"");
  }
  const auto version = root.find("version");
  if (version == root.end())
    return policy_error("", "\"version\" is missing; a policy starts {\"version\":\"1.0.0\",\"anyOf\":[…]}");
  if (!version->is_string())
    return policy_error("version", "expected the string \"1.0.0\", got " + kind_with_article(*version));
  if (version->get_ref<const std::string&>() != kVersion)
    return policy_error("version", shown(*version) + " is not supported; only Key Vault's grammar version \"1.0.0\" is");
  const auto entries = root.find("anyOf");
  if (entries == root.end())
    return policy_error("", "\"anyOf\" is missing; a policy lists its authorities in \"anyOf\":[{\"authority\":…}]");
  if (!entries->is_array())
    return policy_error("anyOf", "expected an array of authority entries, got " + kind_with_article(*entries));
  if (entries->empty()) return policy_error("anyOf", "empty; a policy needs at least one authority entry");
  for (size_t i = 0; i < entries->size(); ++i)
    if (auto s = check_entry((*entries)[i], index("anyOf", i)); !s) return s;
  return {};
}

}  // namespace

Result<ReleasePolicy> ReleasePolicy::parse(std::string_view json_text) {
  if (json_text.size() > kMaxBytes)
    return policy_error("", "the policy is " + std::to_string(json_text.size()) + " bytes; at most " +
                                std::to_string(kMaxBytes) + " are accepted");
  auto j = detail::read_policy_json(json_text, kMaxDepth);
  if (!j) return j.take_error();
  if (auto s = check_policy(*j); !s) return s.take_error();
  return ReleasePolicy(std::move(*j));
}

std::vector<std::string> ReleasePolicy::authorities() const {
  std::vector<std::string> out;
  std::vector<std::string> seen;  // normalised forms, so a repeated issuer is listed once
  const auto entries = json_.find("anyOf");
  if (entries == json_.end() || !entries->is_array()) return out;
  for (const auto& e : *entries) {
    const auto a = e.find("authority");
    if (a == e.end() || !a->is_string()) continue;
    std::string n = detail::normalize_authority(a->get_ref<const std::string&>());
    if (std::find(seen.begin(), seen.end(), n) != seen.end()) continue;
    seen.push_back(std::move(n));
    out.push_back(a->get<std::string>());
  }
  return out;
}

}  // namespace tl::policy
