#include "host/image_manifest.h"

#include <nlohmann/json.hpp>
#include <set>

namespace tl::host {
namespace {

using nlohmann::json;

Error invalid(const std::string& where, const std::string& why) {
  return Error{"image manifest: " + where + ": " + why, "manifest-invalid"};
}

json file_json(const ManifestFile& f) { return json{{"path", f.path}, {"sha256", f.sha256}, {"size", f.size}}; }

// Checks that `obj` is an object with exactly `members`.
Status expect_object(const json& obj, const std::string& where, const std::set<std::string>& members) {
  if (!obj.is_object()) return invalid(where, "not an object");
  for (const auto& [k, v] : obj.items()) {
    if (members.count(k) == 0) return invalid(where, "unknown member '" + k + "'");
  }
  for (const std::string& m : members) {
    if (!obj.contains(m)) return invalid(where, "member '" + m + "' missing");
  }
  return {};
}

Result<std::string> get_string(const json& obj, const std::string& where, const std::string& key) {
  const json& v = obj.at(key);
  if (!v.is_string()) return invalid(where + "." + key, "not a string");
  std::string s = v.get<std::string>();
  if (s.empty()) return invalid(where + "." + key, "empty");
  if (s.size() > 4096) return invalid(where + "." + key, "longer than 4096 bytes");
  return s;
}

Result<std::string> get_sha256(const json& obj, const std::string& where) {
  auto s = get_string(obj, where, "sha256");
  if (!s) return s;
  if (s->size() != 64) return invalid(where + ".sha256", "not 64 hex digits");
  for (char c : *s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return invalid(where + ".sha256", "not lower-case hex");
  }
  return s;
}

Result<uint64_t> get_size(const json& obj, const std::string& where) {
  const json& v = obj.at("size");
  if (!v.is_number_unsigned()) return invalid(where + ".size", "not a non-negative integer");
  return v.get<uint64_t>();
}

Result<ManifestFile> get_file(const json& obj, const std::string& where) {
  if (Status s = expect_object(obj, where, {"path", "sha256", "size"}); !s) return s.take_error();
  ManifestFile f;
  auto path = get_string(obj, where, "path");
  if (!path) return path.take_error();
  auto sha = get_sha256(obj, where);
  if (!sha) return sha.take_error();
  auto size = get_size(obj, where);
  if (!size) return size.take_error();
  f.path = *path;
  f.sha256 = *sha;
  f.size = *size;
  return f;
}

}  // namespace

std::string manifest_to_json(const ImageManifest& m) {
  json packages = json::array();
  for (const ManifestPackage& p : m.packages) {
    packages.push_back(json{{"name", p.name}, {"version", p.version}, {"sha256", p.sha256}});
  }
  json esp = json::array();
  for (const ManifestFile& f : m.esp) esp.push_back(file_json(f));
  // ordered_json keeps this member order in the file.
  nlohmann::ordered_json out;
  out["format"] = kImageFormat;
  out["kernel"] = nlohmann::ordered_json{{"version", m.kernel_version}, {"signed", m.kernel_signed}};
  out["initrd_compression"] = m.initrd_compression;
  out["source_date_epoch"] = m.source_date_epoch;
  out["packages"] = packages;
  out["esp"] = esp;
  out["disk"] = file_json(m.disk);
  out["agent"] = file_json(m.agent);
  return out.dump(2) + "\n";
}

Result<ImageManifest> manifest_from_json(std::string_view text) {
  if (text.size() > (1u << 20)) return invalid("file", "larger than 1 MiB");
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return invalid("file", "not valid JSON");
  if (Status s = expect_object(j, "top level", {"format", "kernel", "initrd_compression", "source_date_epoch",
                                                "packages", "esp", "disk", "agent"});
      !s) {
    return s.take_error();
  }
  if (!j["format"].is_string() || j["format"].get<std::string>() != kImageFormat) {
    return invalid("format", std::string("not \"") + kImageFormat + "\"");
  }
  ImageManifest m;
  const json& k = j["kernel"];
  if (Status s = expect_object(k, "kernel", {"version", "signed"}); !s) return s.take_error();
  auto version = get_string(k, "kernel", "version");
  if (!version) return version.take_error();
  m.kernel_version = *version;
  if (!k["signed"].is_boolean()) return invalid("kernel.signed", "not a boolean");
  m.kernel_signed = k["signed"].get<bool>();
  auto comp = get_string(j, "top level", "initrd_compression");
  if (!comp) return comp.take_error();
  if (*comp != "gzip" && *comp != "none") return invalid("initrd_compression", "not \"gzip\" or \"none\"");
  m.initrd_compression = *comp;
  if (!j["source_date_epoch"].is_number_integer()) return invalid("source_date_epoch", "not an integer");
  m.source_date_epoch = j["source_date_epoch"].get<int64_t>();
  if (!j["packages"].is_array()) return invalid("packages", "not an array");
  if (j["packages"].size() > 64) return invalid("packages", "more than 64 entries");
  for (size_t i = 0; i < j["packages"].size(); ++i) {
    const std::string where = "packages[" + std::to_string(i) + "]";
    const json& p = j["packages"][i];
    if (Status s = expect_object(p, where, {"name", "version", "sha256"}); !s) return s.take_error();
    ManifestPackage pkg;
    auto name = get_string(p, where, "name");
    if (!name) return name.take_error();
    auto ver = get_string(p, where, "version");
    if (!ver) return ver.take_error();
    auto sha = get_sha256(p, where);
    if (!sha) return sha.take_error();
    m.packages.push_back(ManifestPackage{*name, *ver, *sha});
  }
  if (!j["esp"].is_array()) return invalid("esp", "not an array");
  if (j["esp"].size() > 64) return invalid("esp", "more than 64 entries");
  for (size_t i = 0; i < j["esp"].size(); ++i) {
    auto f = get_file(j["esp"][i], "esp[" + std::to_string(i) + "]");
    if (!f) return f.take_error();
    m.esp.push_back(*f);
  }
  auto disk = get_file(j["disk"], "disk");
  if (!disk) return disk.take_error();
  m.disk = *disk;
  auto agent = get_file(j["agent"], "agent");
  if (!agent) return agent.take_error();
  m.agent = *agent;
  return m;
}

}  // namespace tl::host
