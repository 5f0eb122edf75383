// Baseline JSON (docs/fleet-api.md "Baseline", docs/baselines.md). The reader
// is strict: it is fed by operators and by the store, and a baseline decides
// whether a fleet is healthy, so anything it does not understand is refused
// with the JSON path of the offending member.
#include <algorithm>
#include <initializer_list>
#include <limits>
#include <set>

#include "common/rfc3339.h"
#include "policy/baseline_internal.h"

namespace tl::policy {

namespace {

using nlohmann::json;

constexpr const char* kInvalid = "baseline-invalid";
// Bounds that no real baseline approaches, so one document cannot make the
// service hold or compare without limit.
constexpr size_t kMaxVariants = 256;
constexpr size_t kMaxMeasurements = 65536;
constexpr size_t kMaxTextBytes = 4096;

Error at(const std::string& path, const std::string& what) { return Error{path + ": " + what, kInvalid}; }

const char* type_name(const json& j) { return j.type_name(); }

Status only_members(const json& j, const std::string& path, std::initializer_list<const char*> allowed) {
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string& key = it.key();
    if (std::none_of(allowed.begin(), allowed.end(), [&](const char* a) { return key == a; }))
      return at(path.empty() ? key : path + "." + key, "unknown member");
  }
  return {};
}

Result<const json*> member(const json& j, const std::string& path, const char* name, bool required) {
  const auto it = j.find(name);
  if (it == j.end()) {
    if (required) return at(path.empty() ? name : path + "." + name, "required member is missing");
    return static_cast<const json*>(nullptr);
  }
  return &*it;
}

std::string join(const std::string& path, const char* name) { return path.empty() ? name : path + "." + name; }

Result<int64_t> integer(const json& j, const std::string& path, int64_t lo, int64_t hi) {
  int64_t v = 0;
  if (j.is_number_unsigned()) {
    const auto u = j.get<uint64_t>();
    if (u > static_cast<uint64_t>(hi)) return at(path, "must be at most " + std::to_string(hi));
    v = static_cast<int64_t>(u);
  } else if (j.is_number_integer()) {
    v = j.get<int64_t>();
  } else {
    return at(path, std::string("expected an integer, got ") + type_name(j));
  }
  if (v < lo || v > hi) return at(path, std::to_string(v) + " is out of range (" + std::to_string(lo) + ".." +
                                            std::to_string(hi) + ")");
  return v;
}

Result<std::string> text(const json& j, const std::string& path, bool allow_empty = true) {
  if (!j.is_string()) return at(path, std::string("expected a string, got ") + type_name(j));
  const auto& s = j.get_ref<const std::string&>();
  if (!allow_empty && s.empty()) return at(path, "must not be empty");
  if (s.size() > kMaxTextBytes) return at(path, "longer than " + std::to_string(kMaxTextBytes) + " bytes");
  return s;
}

// A SHA-256 digest: exactly 64 hex digits, stored lower-case.
Result<std::string> sha256_hex(const json& j, const std::string& path) {
  if (!j.is_string()) return at(path, std::string("expected a SHA-256 hex string, got ") + type_name(j));
  std::string s = j.get<std::string>();
  if (s.size() != 64)
    return at(path, "expected 64 hex digits (SHA-256), got " + std::to_string(s.size()) + " characters");
  for (size_t i = 0; i < s.size(); ++i) {
    char& c = s[i];
    if (c >= 'A' && c <= 'F') c = static_cast<char>(c - 'A' + 'a');
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
      return at(path, "character " + std::to_string(i) + " is not a hex digit");
  }
  return s;
}

Result<int64_t> timestamp(const json& j, const std::string& path) {
  if (!j.is_string()) return at(path, std::string("expected an RFC 3339 time string, got ") + type_name(j));
  auto t = parse_rfc3339(j.get_ref<const std::string&>());
  if (!t) return at(path, t.error().message);
  return *t;
}

// "0".."23" exactly (no sign, no leading zero, no spaces).
std::optional<uint32_t> pcr_key(const std::string& k) {
  if (k.empty() || k.size() > 2 || (k.size() == 2 && k[0] == '0')) return std::nullopt;
  uint32_t v = 0;
  for (char c : k) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<uint32_t>(c - '0');
  }
  if (v > 23) return std::nullopt;
  return v;
}

Result<std::vector<uint32_t>> pcr_list(const json& j, const std::string& path) {
  if (!j.is_array()) return at(path, std::string("expected an array of PCR indexes, got ") + type_name(j));
  if (j.empty()) return at(path, "a baseline needs at least one PCR");
  if (j.size() > 24) return at(path, "more than 24 PCRs");
  std::vector<uint32_t> out;
  for (size_t i = 0; i < j.size(); ++i) {
    const std::string p = path + "[" + std::to_string(i) + "]";
    auto v = integer(j[i], p, 0, 23);
    if (!v) return v.take_error();
    if (!out.empty() && static_cast<uint32_t>(*v) <= out.back())
      return at(p, "PCRs must be ascending without repeats (" + std::to_string(*v) + " after " +
                       std::to_string(out.back()) + ")");
    out.push_back(static_cast<uint32_t>(*v));
  }
  return out;
}

Result<Measurement> measurement_from_json(const json& j, const std::string& path, const std::vector<uint32_t>& pcrs) {
  if (!j.is_object()) return at(path, std::string("expected an object, got ") + type_name(j));
  if (auto s = only_members(j, path, {"pcr", "event", "eventType", "component", "sha256"}); !s) return s.take_error();
  Measurement m;
  for (const char* name : {"pcr", "event", "eventType", "component", "sha256"}) {
    auto v = member(j, path, name, true);
    if (!v) return v.take_error();
  }
  auto pcr = integer(j["pcr"], join(path, "pcr"), 0, 23);
  if (!pcr) return pcr.take_error();
  if (!detail::contains_pcr(pcrs, static_cast<uint32_t>(*pcr)))
    return at(join(path, "pcr"), "PCR " + std::to_string(*pcr) + " is not one of the baseline's PCRs");
  auto event = integer(j["event"], join(path, "event"), 0, std::numeric_limits<uint32_t>::max());
  if (!event) return event.take_error();
  auto type = text(j["eventType"], join(path, "eventType"), false);
  if (!type) return type.take_error();
  auto component = text(j["component"], join(path, "component"));
  if (!component) return component.take_error();
  auto digest = sha256_hex(j["sha256"], join(path, "sha256"));
  if (!digest) return digest.take_error();
  m.pcr = static_cast<uint32_t>(*pcr);
  m.event = static_cast<uint32_t>(*event);
  m.event_type = std::move(*type);
  m.component = std::move(*component);
  m.sha256 = std::move(*digest);
  return m;
}

Result<BaselineVariant> variant_from_json(const json& j, const std::string& path, const std::vector<uint32_t>& pcrs) {
  if (!j.is_object()) return at(path, std::string("expected an object, got ") + type_name(j));
  if (auto s = only_members(j, path, {"name", "source", "createdAt", "pcrValues", "measurements"}); !s)
    return s.take_error();
  BaselineVariant v;
  auto name = member(j, path, "name", true);
  if (!name) return name.take_error();
  auto n = text(**name, join(path, "name"));
  if (!n) return n.take_error();
  if (auto s = detail::check_variant_name(*n); !s) return at(join(path, "name"), s.error().message);
  v.name = std::move(*n);

  auto source = member(j, path, "source", true);
  if (!source) return source.take_error();
  auto src = text(**source, join(path, "source"), false);
  if (!src) return src.take_error();
  v.source = std::move(*src);

  auto created = member(j, path, "createdAt", false);
  if (!created) return created.take_error();
  if (*created != nullptr) {
    auto t = timestamp(**created, join(path, "createdAt"));
    if (!t) return t.take_error();
    v.created_at = *t;
  }

  auto values = member(j, path, "pcrValues", true);
  if (!values) return values.take_error();
  const std::string vpath = join(path, "pcrValues");
  if (!(*values)->is_object()) return at(vpath, std::string("expected an object, got ") + type_name(**values));
  for (const auto& [key, value] : (*values)->items()) {
    const std::string kpath = vpath + "." + key;
    const auto pcr = pcr_key(key);
    if (!pcr) return at(kpath, "member name is not a PCR index 0..23");
    if (!detail::contains_pcr(pcrs, *pcr)) return at(kpath, "PCR " + key + " is not one of the baseline's PCRs");
    auto hex = sha256_hex(value, kpath);
    if (!hex) return hex.take_error();
    v.pcr_values.emplace(*pcr, std::move(*hex));
  }
  for (uint32_t pcr : pcrs)
    if (!v.pcr_values.contains(pcr)) return at(vpath, "no value for baseline PCR " + std::to_string(pcr));

  auto list = member(j, path, "measurements", false);
  if (!list) return list.take_error();
  if (*list != nullptr) {
    const std::string mpath = join(path, "measurements");
    if (!(*list)->is_array()) return at(mpath, std::string("expected an array, got ") + type_name(**list));
    if ((*list)->size() > kMaxMeasurements)
      return at(mpath, "more than " + std::to_string(kMaxMeasurements) + " measurements");
    v.measurements.reserve((*list)->size());
    for (size_t i = 0; i < (*list)->size(); ++i) {
      auto m = measurement_from_json((**list)[i], mpath + "[" + std::to_string(i) + "]", pcrs);
      if (!m) return m.take_error();
      v.measurements.push_back(std::move(*m));
    }
  }
  return v;
}

json measurement_json(const Measurement& m) {
  return json{{"pcr", m.pcr}, {"event", m.event}, {"eventType", m.event_type}, {"component", m.component},
              {"sha256", m.sha256}};
}

}  // namespace

json to_json(const Baseline& b) {
  json variants = json::array();
  for (const BaselineVariant& v : b.variants) {
    json values = json::object();
    for (const auto& [pcr, hex] : v.pcr_values) values[std::to_string(pcr)] = hex;
    json list = json::array();
    for (const Measurement& m : v.measurements) list.push_back(measurement_json(m));
    variants.push_back(json{{"name", v.name},
                            {"source", v.source},
                            {"createdAt", format_rfc3339(v.created_at)},
                            {"pcrValues", std::move(values)},
                            {"measurements", std::move(list)}});
  }
  return json{{"group", b.group},
              {"version", b.version},
              {"createdAt", format_rfc3339(b.created_at)},
              {"pcrs", b.pcrs},
              {"variants", std::move(variants)}};
}

json to_json(const Deviation& d) {
  return json{{"kind", d.kind},
              {"pcr", d.pcr},
              {"event", d.event ? json(*d.event) : json(nullptr)},
              {"eventType", d.event_type},
              {"component", d.component},
              {"expected", d.expected},
              {"actual", d.actual},
              {"message", d.message()}};
}

Result<Baseline> baseline_from_json(const json& j) {
  if (!j.is_object()) return Error{std::string("baseline: expected a JSON object, got ") + type_name(j), kInvalid};
  // "learning" is the group's setting that GET /baselines/{group} shows beside
  // the baseline; accepted so a fetched baseline reads back, and ignored.
  if (auto s = only_members(j, "", {"group", "version", "createdAt", "learning", "pcrs", "variants"}); !s)
    return s.take_error();
  for (const char* name : {"group", "version", "pcrs", "variants"}) {
    auto v = member(j, "", name, true);
    if (!v) return v.take_error();
  }
  Baseline b;
  auto group = text(j["group"], "group");
  if (!group) return group.take_error();
  if (auto s = detail::check_variant_name(*group); !s)
    return at("group", "must be 1 to 64 of [A-Za-z0-9._-]");
  b.group = std::move(*group);
  auto version = integer(j["version"], "version", 1, std::numeric_limits<int>::max());
  if (!version) return version.take_error();
  b.version = static_cast<int>(*version);
  if (j.contains("createdAt")) {
    auto t = timestamp(j["createdAt"], "createdAt");
    if (!t) return t.take_error();
    b.created_at = *t;
  }
  if (j.contains("learning") && !j["learning"].is_boolean())
    return at("learning", std::string("expected a boolean, got ") + type_name(j["learning"]));
  auto pcrs = pcr_list(j["pcrs"], "pcrs");
  if (!pcrs) return pcrs.take_error();
  b.pcrs = std::move(*pcrs);

  const json& variants = j["variants"];
  if (!variants.is_array()) return at("variants", std::string("expected an array, got ") + type_name(variants));
  if (variants.empty()) return at("variants", "a baseline needs at least one variant");
  if (variants.size() > kMaxVariants) return at("variants", "more than " + std::to_string(kMaxVariants) + " variants");
  std::set<std::string> names;
  for (size_t i = 0; i < variants.size(); ++i) {
    const std::string path = "variants[" + std::to_string(i) + "]";
    auto v = variant_from_json(variants[i], path, b.pcrs);
    if (!v) return v.take_error();
    if (!names.insert(v->name).second) return at(path + ".name", "duplicate variant name \"" + v->name + "\"");
    b.variants.push_back(std::move(*v));
  }
  return b;
}

}  // namespace tl::policy
