#include "agent/settings.h"

#include <array>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <span>

#include "agent/strict_json.h"
#include "agent/suggest.h"

namespace tl::agent {
namespace {

using json = nlohmann::json;

Error at(const std::string& path, const std::string& what, const char* reason) {
  return Error{path + ": " + what, reason};
}

// A value or key as it may appear in a message: control characters replaced,
// long input cut (a hostile document must not flood the log).
std::string shown(std::string_view s) {
  constexpr size_t kShown = 64;
  std::string out;
  for (char c : s.substr(0, kShown)) {
    const auto u = static_cast<unsigned char>(c);
    out += (u < 0x20 || u == 0x7f) ? '?' : c;
  }
  if (s.size() > kShown) out += "…";
  return out;
}

std::string in_quotes(std::string_view s) { return "\"" + shown(s) + "\""; }

// Refuses any member of `obj` not in `known`, suggesting the closest known key.
Status check_keys(const json& obj, const std::string& path, std::span<const std::string_view> known) {
  for (const auto& [key, value] : obj.items()) {
    bool found = false;
    for (std::string_view k : known) found = found || key == k;
    if (found) continue;
    std::string msg = "unknown key";
    if (auto s = suggest_key(key, known)) msg += "; did you mean \"" + std::string(*s) + "\"?";
    return at(join_path(path, shown(key)), msg, "settings-unknown-key");
  }
  return {};
}

// The member `key` of `obj` if present; a present member must be an object.
Result<const json*> optional_object(const json& obj, const std::string& path, std::string_view key) {
  const auto it = obj.find(std::string(key));
  if (it == obj.end()) return static_cast<const json*>(nullptr);
  if (!it->is_object()) {
    return at(join_path(path, key), std::string("expected an object, got ") + json_kind(*it), "settings-wrong-type");
  }
  return &*it;
}

// A string member; an empty string counts as absent, as the extension's own
// settings template writes "" for values it leaves unset.
Result<std::optional<std::string>> optional_string(const json& obj, const std::string& path, std::string_view key) {
  const auto it = obj.find(std::string(key));
  if (it == obj.end()) return std::optional<std::string>{};
  if (!it->is_string()) {
    return at(join_path(path, key), std::string("expected a string, got ") + json_kind(*it), "settings-wrong-type");
  }
  const auto& s = it->get_ref<const std::string&>();
  if (s.empty()) return std::optional<std::string>{};
  if (s.size() > kMaxSettingsString) {
    return at(join_path(path, key), "string of " + std::to_string(s.size()) + " bytes is longer than " +
                                        std::to_string(kMaxSettingsString), "settings-bad-value");
  }
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) return at(join_path(path, key), "contains a control character", "settings-bad-value");
  }
  return std::optional<std::string>{s};
}

Result<std::optional<EndpointUrl>> optional_url(const json& obj, const std::string& path, std::string_view key) {
  auto s = optional_string(obj, path, key);
  if (!s) return s.take_error();
  if (!*s) return std::optional<EndpointUrl>{};
  auto url = parse_endpoint_url(**s);
  if (!url) return with_context(join_path(path, key), url.take_error());
  return std::optional<EndpointUrl>{std::move(*url)};
}

// "true"/"false" as the extension writes them, or a JSON boolean; nothing else.
Result<bool> optional_bool(const json& obj, const std::string& path, std::string_view key, bool fallback) {
  const auto it = obj.find(std::string(key));
  if (it == obj.end()) return fallback;
  if (it->is_boolean()) return it->get<bool>();
  if (!it->is_string()) {
    return at(join_path(path, key), std::string("expected \"true\" or \"false\", got ") + json_kind(*it),
              "settings-wrong-type");
  }
  const auto& s = it->get_ref<const std::string&>();
  if (s == "true") return true;
  if (s == "false") return false;
  return at(join_path(path, key), "expected \"true\" or \"false\" (lower case), got " + in_quotes(s), "settings-bad-value");
}

Error missing(const std::string& path, std::string_view key) {
  return at(join_path(path, key), "required key is missing", "settings-missing-key");
}

constexpr std::array<std::string_view, 1> kTopKeys = {"AttestationConfig"};
constexpr std::array<std::string_view, 6> kConfigKeys = {"MaaSettings",    "AscSettings",   "AzureStackSettings",
                                                         "useCustomToken", "disableAlerts", "isAzureStack"};
constexpr std::array<std::string_view, 2> kMaaKeys = {"maaEndpoint", "maaTenantName"};
constexpr std::array<std::string_view, 2> kAscKeys = {"ascReportingEndpoint", "ascReportingFrequency"};
constexpr std::array<std::string_view, 2> kStackKeys = {"clusterId", "clusterAadTenantId"};

Status read_maa(const json& maa, const std::string& path, Settings& out) {
  if (auto s = check_keys(maa, path, kMaaKeys); !s) return s;
  if (!maa.contains("maaEndpoint")) return missing(path, "maaEndpoint");
  auto endpoint = optional_url(maa, path, "maaEndpoint");
  if (!endpoint) return endpoint.take_error();
  if (!*endpoint) return at(join_path(path, "maaEndpoint"), "required but empty", "settings-missing-key");
  out.maa_endpoint = std::move(**endpoint);
  auto tenant = optional_string(maa, path, "maaTenantName");
  if (!tenant) return tenant.take_error();
  out.maa_tenant_name = tenant->value_or("");
  return {};
}

Status read_asc(const json& asc, const std::string& path, Settings& out) {
  if (auto s = check_keys(asc, path, kAscKeys); !s) return s;
  auto endpoint = optional_url(asc, path, "ascReportingEndpoint");
  if (!endpoint) return endpoint.take_error();
  out.asc_reporting_endpoint = std::move(*endpoint);
  auto freq = optional_string(asc, path, "ascReportingFrequency");
  if (!freq) return freq.take_error();
  if (*freq) {
    auto f = parse_frequency(**freq);
    if (!f) return with_context(join_path(path, "ascReportingFrequency"), f.take_error());
    out.reporting_frequency = *f;
  }
  return {};
}

Status read_stack(const json& stack, const std::string& path, Settings& out) {
  if (auto s = check_keys(stack, path, kStackKeys); !s) return s;
  auto cluster = optional_string(stack, path, "clusterId");
  if (!cluster) return cluster.take_error();
  out.cluster_id = cluster->value_or("");
  auto tenant = optional_string(stack, path, "clusterAadTenantId");
  if (!tenant) return tenant.take_error();
  out.cluster_aad_tenant_id = tenant->value_or("");
  return {};
}

}  // namespace

Result<Settings> parse_settings(std::string_view json_text) {
  if (json_text.size() > kMaxSettingsSize) {
    return Error{"settings are " + std::to_string(json_text.size()) + " bytes, more than " +
                     std::to_string(kMaxSettingsSize),
                 "settings-too-large"};
  }
  auto doc = parse_strict_object(json_text, "settings");
  if (!doc) return doc.take_error();
  const json& root = *doc;
  if (auto s = check_keys(root, "", kTopKeys); !s) return s.take_error();
  auto config = optional_object(root, "", "AttestationConfig");
  if (!config) return config.take_error();
  if (!*config) return missing("", "AttestationConfig");
  const json& cfg = **config;
  const std::string cpath = "AttestationConfig";
  if (auto s = check_keys(cfg, cpath, kConfigKeys); !s) return s.take_error();

  Settings out;
  auto maa = optional_object(cfg, cpath, "MaaSettings");
  if (!maa) return maa.take_error();
  if (!*maa) return missing(cpath, "MaaSettings");
  if (auto s = read_maa(**maa, join_path(cpath, "MaaSettings"), out); !s) return s.take_error();

  auto asc = optional_object(cfg, cpath, "AscSettings");
  if (!asc) return asc.take_error();
  if (*asc) {
    if (auto s = read_asc(**asc, join_path(cpath, "AscSettings"), out); !s) return s.take_error();
  }
  auto stack = optional_object(cfg, cpath, "AzureStackSettings");
  if (!stack) return stack.take_error();
  if (*stack) {
    if (auto s = read_stack(**stack, join_path(cpath, "AzureStackSettings"), out); !s) return s.take_error();
  }

  struct Flag {
    std::string_view key;
    bool* field;
  };
  for (const Flag& f : {Flag{"useCustomToken", &out.use_custom_token}, Flag{"disableAlerts", &out.disable_alerts},
                        Flag{"isAzureStack", &out.is_azure_stack}}) {
    auto b = optional_bool(cfg, cpath, f.key, false);
    if (!b) return b.take_error();
    *f.field = *b;
  }
  // An Azure Stack (Azure Local) VM reports under its cluster; without the id
  // the service could not place it, so fail here rather than at the first report.
  if (out.is_azure_stack && out.cluster_id.empty()) {
    return at(join_path(cpath, "AzureStackSettings.clusterId"), "required when isAzureStack is \"true\"",
              "settings-missing-key");
  }
  return out;
}

Result<Settings> load_settings(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Error{path.string() + ": cannot open settings file: " + std::strerror(errno), "settings-unreadable"};
  }
  std::string text;
  text.resize(kMaxSettingsSize + 1);
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  if (in.bad()) return Error{path.string() + ": cannot read settings file", "settings-unreadable"};
  text.resize(static_cast<size_t>(in.gcount()));
  auto s = parse_settings(text);
  if (!s) return with_context(path.string(), s.take_error());
  return s;
}

}  // namespace tl::agent
