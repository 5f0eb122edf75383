#include "verify/evidence.h"

#include <initializer_list>
#include <limits>
#include <set>
#include <utility>

#include "token/base64url.h"
#include "verify/evidence_json.h"

namespace tl::verify {
namespace {

using json = nlohmann::json;


// Size limits of the binary fields (decoded bytes). Generous for the TPM
// structures they hold (TPM 2.0 Part 2 maxima), small enough to refuse junk
// before it is decoded.
constexpr size_t kMaxNonce = 64;          // TPM2B_DATA: sizeof(TPMT_HA)
constexpr size_t kMaxAttest = 2048;       // TPMS_ATTEST of a quote / certify
constexpr size_t kMaxSignature = 1024;    // TPMT_SIGNATURE (RSA-4096: 518 bytes)
constexpr size_t kMaxPublic = 1024;       // TPMT_PUBLIC (RSA-4096 with policy: ~600)
constexpr size_t kMaxVmId = 128;
constexpr size_t kMaxOsString = 128;
// uname's release is at most 64 bytes (__NEW_UTS_LEN); the margin costs nothing.
constexpr size_t kMaxKernelRelease = 256;
// Module names as the kernel spells them (MODULE_NAME_LEN is 56 on 64-bit):
// a longer or stranger name did not come from a kernel log.
constexpr size_t kMaxModuleName = 64;
constexpr size_t kMaxModuleList = 256;
// The HCL report NV index is a few KiB (2,600 bytes on Azure); a TD quote with
// its PCK chain about 5 KiB; a VCEK about 1.4 KiB.
constexpr size_t kMaxHclReport = 16 * 1024;
constexpr size_t kMaxTdQuote = 16 * 1024;
constexpr size_t kMaxVcek = 8 * 1024;

Error malformed(const std::string& path, const std::string& what) { return detail::evidence_malformed(path, what); }
Error wrong_type(const std::string& path, const char* expected, const json& got) {
  return detail::wrong_json_type(path, expected, got);
}

std::string join(const std::string& path, const std::string& member) {
  return path.empty() ? member : path + "." + member;
}

// The object must have exactly these members: the required ones, and optional
// ones at most. Unknown members are refused (a typo must not silently drop a field).
Status check_members(const json& obj, const std::string& path, std::initializer_list<const char*> required,
                     std::initializer_list<const char*> optional = {}) {
  for (const auto& [key, value] : obj.items()) {
    bool known = false;
    for (const char* r : required) known = known || key == r;
    for (const char* o : optional) known = known || key == o;
    if (!known) return malformed(join(path, key), "unknown member");
  }
  for (const char* r : required) {
    if (!obj.contains(r)) return malformed(join(path, r), "missing");
  }
  return {};
}

Result<const json*> object_at(const json& parent, const std::string& path, const char* member) {
  const json& j = parent.at(member);
  const std::string p = join(path, member);
  if (!j.is_object()) return wrong_type(p, "object", j);
  return &j;
}

Result<std::string> string_at(const json& parent, const std::string& path, const char* member,
                              size_t max_bytes, bool ascii_only) {
  const json& j = parent.at(member);
  const std::string p = join(path, member);
  if (!j.is_string()) return wrong_type(p, "string", j);
  const auto& s = j.get_ref<const std::string&>();
  if (s.empty()) return malformed(p, "empty");
  if (s.size() > max_bytes) {
    return malformed(p, std::to_string(s.size()) + " bytes, over the limit of " + std::to_string(max_bytes));
  }
  for (size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c == 0x7f || (ascii_only && c > 0x7e)) {
      return malformed(p, "character " + std::to_string(i) + " is not printable" +
                              (ascii_only ? " ASCII" : ""));
    }
  }
  return s;
}

// Only JSON integers: 1.0 or "1" are different things on the wire. (Parsed
// text stores non-negative integers as unsigned; a json built in code may hold
// them as signed.)
Result<uint32_t> u32_value(const json& j, const std::string& p, uint64_t max) {
  if (!j.is_number_integer()) return wrong_type(p, "integer", j);
  if (!j.is_number_unsigned() && j.get<int64_t>() < 0) return malformed(p, "negative");
  const auto v = j.get<uint64_t>();
  if (v > max) return malformed(p, "over " + std::to_string(max));
  return static_cast<uint32_t>(v);
}

Result<uint32_t> u32_at(const json& parent, const std::string& path, const char* member) {
  return u32_value(parent.at(member), join(path, member), std::numeric_limits<uint32_t>::max());
}

// base64url without padding (token/base64url.h), at most max_bytes once decoded.
Result<Bytes> b64u_at(const json& parent, const std::string& path, const char* member, size_t max_bytes,
                      bool allow_empty = false) {
  const json& j = parent.at(member);
  const std::string p = join(path, member);
  if (!j.is_string()) return wrong_type(p, "base64url string", j);
  const auto& s = j.get_ref<const std::string&>();
  // Refuse before decoding: 4 characters carry 3 bytes.
  const size_t max_chars = (max_bytes / 3) * 4 + ((max_bytes % 3) ? (max_bytes % 3) + 1 : 0);
  if (s.size() > max_chars) {
    return malformed(p, "over the limit of " + std::to_string(max_bytes) + " bytes (" +
                            std::to_string(s.size()) + " base64url characters)");
  }
  auto b = token::base64url_decode(s);
  if (!b) return malformed(p, "not base64url without padding: " + b.error().message);
  if (b->empty() && !allow_empty) return malformed(p, "empty");
  return std::move(*b);
}

// "0".."23", canonical decimal (no sign, no leading zeros).
Result<uint32_t> pcr_index(const std::string& key, const std::string& path) {
  const std::string p = join(path, key);
  if (key.empty() || key.size() > 2 || (key.size() == 2 && key[0] == '0')) {
    return malformed(p, "PCR index must be a decimal number 0-23");
  }
  uint32_t v = 0;
  for (char c : key) {
    if (c < '0' || c > '9') return malformed(p, "PCR index must be a decimal number 0-23");
    v = v * 10 + static_cast<uint32_t>(c - '0');
  }
  if (v >= tpm::kNumPcrs) return malformed(p, "PCR index " + key + " is out of range (0-23)");
  return v;
}

// Lower-case hex of exactly the bank's digest size (one spelling per value).
Result<Bytes> pcr_value(const json& j, const std::string& p, size_t size) {
  if (!j.is_string()) return wrong_type(p, "hex string", j);
  const auto& s = j.get_ref<const std::string&>();
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
      return malformed(p, "character " + std::to_string(i) + " is not lower-case hex");
    }
  }
  if (s.size() % 2 != 0) return malformed(p, "odd number of hex digits");
  if (s.size() != 2 * size) {
    return malformed(p, "expected " + std::to_string(size) + " bytes, got " + std::to_string(s.size() / 2));
  }
  return from_hex(s);
}

Result<tpm::PcrValues> decode_pcrs(const json& parent) {
  auto obj = object_at(parent, "", "pcrs");
  if (!obj) return obj.take_error();
  if ((*obj)->empty()) return malformed("pcrs", "no bank");
  tpm::PcrValues out;
  for (const auto& [bank_name, bank] : (*obj)->items()) {
    const std::string bp = "pcrs." + bank_name;
    const auto alg = crypto::hash_from_name(bank_name);
    if (!alg) return malformed(bp, "unknown PCR bank (expected sha1, sha256, sha384, sha512, sm3_256)");
    if (!bank.is_object()) return wrong_type(bp, "object", bank);
    if (bank.empty()) return malformed(bp, "no PCR");
    tpm::PcrMap& m = out[*alg];
    for (const auto& [index, value] : bank.items()) {
      auto i = pcr_index(index, bp);
      if (!i) return i.take_error();
      auto v = pcr_value(value, bp + "." + index, crypto::digest_size(*alg));
      if (!v) return v.take_error();
      m.emplace(*i, std::move(*v));
    }
  }
  return out;
}

Result<RuntimeKeyEvidence> decode_runtime_key(const json& parent) {
  auto obj = object_at(parent, "", "runtimeKey");
  if (!obj) return obj.take_error();
  const json& rk = **obj;
  const std::string p = "runtimeKey";
  if (auto s = check_members(rk, p, {"public", "certifyInfo", "signature", "policyPcrs"}); !s) {
    return s.take_error();
  }
  RuntimeKeyEvidence out;
  auto pub = b64u_at(rk, p, "public", kMaxPublic);
  if (!pub) return pub.take_error();
  out.public_area = std::move(*pub);
  auto ci = b64u_at(rk, p, "certifyInfo", kMaxAttest);
  if (!ci) return ci.take_error();
  out.certify_info = std::move(*ci);
  auto sig = b64u_at(rk, p, "signature", kMaxSignature);
  if (!sig) return sig.take_error();
  out.signature = std::move(*sig);
  const json& pcrs = rk.at("policyPcrs");
  if (!pcrs.is_array()) return wrong_type(p + ".policyPcrs", "array", pcrs);
  if (pcrs.size() > tpm::kNumPcrs) return malformed(p + ".policyPcrs", "more than 24 entries");
  for (size_t i = 0; i < pcrs.size(); ++i) {
    const std::string ip = p + ".policyPcrs[" + std::to_string(i) + "]";
    auto pcr = u32_value(pcrs[i], ip, std::numeric_limits<uint32_t>::max());
    if (!pcr) return pcr.take_error();
    const uint32_t v = *pcr;
    if (v >= tpm::kNumPcrs) return malformed(ip, "PCR " + std::to_string(v) + " is out of range (0-23)");
    if (!out.policy_pcrs.empty() && v <= out.policy_pcrs.back()) {
      return malformed(ip, "PCRs must be ascending without repeats");
    }
    out.policy_pcrs.push_back(v);
  }
  return out;
}

Result<OsInfo> decode_os(const json& parent) {
  auto obj = object_at(parent, "", "os");
  if (!obj) return obj.take_error();
  const json& os = **obj;
  if (auto s = check_members(os, "os", {"type", "distro", "versionMajor", "versionMinor"}, {"kernelRelease"}); !s) {
    return s.take_error();
  }
  OsInfo out;
  auto type = string_at(os, "os", "type", kMaxOsString, true);
  if (!type) return type.take_error();
  if (*type != "Linux" && *type != "Windows") return malformed("os.type", "expected \"Linux\" or \"Windows\"");
  out.type = std::move(*type);
  auto distro = string_at(os, "os", "distro", kMaxOsString, false);
  if (!distro) return distro.take_error();
  out.distro = std::move(*distro);
  auto major = u32_at(os, "os", "versionMajor");
  if (!major) return major.take_error();
  out.version_major = *major;
  auto minor = u32_at(os, "os", "versionMinor");
  if (!minor) return minor.take_error();
  out.version_minor = *minor;
  // Optional: agents before kernel module reporting do not send it. Present
  // means non-empty, so "" is the one spelling of "not reported".
  if (os.contains("kernelRelease")) {
    auto release = string_at(os, "os", "kernelRelease", kMaxKernelRelease, true);
    if (!release) return release.take_error();
    out.kernel_release = std::move(*release);
  }
  return out;
}

bool module_name_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
         c == '-';
}

// An array of distinct module names ([A-Za-z0-9_.-]{1,64}), at most 256.
Result<std::vector<std::string>> module_names_at(const json& parent, const std::string& path, const char* member) {
  const json& list = parent.at(member);
  const std::string p = join(path, member);
  if (!list.is_array()) return wrong_type(p, "array", list);
  if (list.size() > kMaxModuleList) {
    return malformed(p, std::to_string(list.size()) + " entries, over the limit of " + std::to_string(kMaxModuleList));
  }
  std::vector<std::string> out;
  std::set<std::string> seen;
  for (size_t i = 0; i < list.size(); ++i) {
    const std::string ip = p + "[" + std::to_string(i) + "]";
    const json& name = list[i];
    if (!name.is_string()) return wrong_type(ip, "string", name);
    const auto& s = name.get_ref<const std::string&>();
    if (s.empty() || s.size() > kMaxModuleName) {
      return malformed(ip, "module name of " + std::to_string(s.size()) + " bytes (1-" +
                               std::to_string(kMaxModuleName) + ")");
    }
    for (size_t c = 0; c < s.size(); ++c) {
      if (!module_name_char(s[c])) {
        return malformed(ip, "character " + std::to_string(c) + " is not one of A-Z a-z 0-9 _ . -");
      }
    }
    // A repeat would make the same report spellable two ways.
    if (!seen.insert(s).second) return malformed(ip, "module \"" + s + "\" is listed twice");
    out.push_back(s);
  }
  return out;
}

Result<KernelModuleReport> decode_kernel_modules(const json& parent) {
  auto obj = object_at(parent, "", "kernelModules");
  if (!obj) return obj.take_error();
  const json& km = **obj;
  const std::string p = "kernelModules";
  if (auto s = check_members(km, p, {"taint", "unsigned", "rejected", "imaFailures"}); !s) return s.take_error();
  KernelModuleReport out;
  out.reported = true;
  const json& taint = km.at("taint");
  if (!taint.is_number_integer()) return wrong_type(p + ".taint", "integer", taint);
  if (!taint.is_number_unsigned() && taint.get<int64_t>() < 0) return malformed(p + ".taint", "negative");
  out.taint = taint.get<uint64_t>();
  auto unsigned_modules = module_names_at(km, p, "unsigned");
  if (!unsigned_modules) return unsigned_modules.take_error();
  out.unsigned_modules = std::move(*unsigned_modules);
  auto rejected = module_names_at(km, p, "rejected");
  if (!rejected) return rejected.take_error();
  out.rejected_modules = std::move(*rejected);
  auto ima = module_names_at(km, p, "imaFailures");
  if (!ima) return ima.take_error();
  out.ima_failures = std::move(*ima);
  return out;
}

Result<TeeEvidence> decode_tee(const json& parent) {
  auto obj = object_at(parent, "", "tee");
  if (!obj) return obj.take_error();
  const json& t = **obj;
  const std::string p = "tee";
  if (auto s = check_members(t, p, {"type", "hclReport"}, {"vcek", "tdQuote"}); !s) return s.take_error();
  TeeEvidence out;
  auto type = string_at(t, p, "type", 32, true);
  if (!type) return type.take_error();
  if (*type != "az-snp-vtpm" && *type != "az-tdx-vtpm")
    return malformed("tee.type", "expected \"az-snp-vtpm\" or \"az-tdx-vtpm\"");
  out.type = std::move(*type);
  auto hcl = b64u_at(t, p, "hclReport", kMaxHclReport);
  if (!hcl) return hcl.take_error();
  out.hcl_report = std::move(*hcl);
  if (t.contains("vcek")) {
    auto v = b64u_at(t, p, "vcek", kMaxVcek);
    if (!v) return v.take_error();
    out.vcek = std::move(*v);
  }
  if (t.contains("tdQuote")) {
    auto q = b64u_at(t, p, "tdQuote", kMaxTdQuote);
    if (!q) return q.take_error();
    out.td_quote = std::move(*q);
  }
  return out;
}

}  // namespace

Result<Evidence> decode_evidence(const json& j, const EvidenceLimits& limits) {
  if (!j.is_object()) return malformed("(document)", std::string("expected object, got ") + detail::json_kind(j));
  if (auto s = check_members(j, "", {"version", "vmId", "nonce", "quote", "pcrs", "eventLog", "os"},
                             {"akPublic", "runtimeKey", "clientPayload", "kernelModules", "tee"});
      !s) {
    return s.take_error();
  }
  Evidence e;
  auto version = u32_at(j, "", "version");
  if (!version) return version.take_error();
  if (*version != 1) return malformed("version", "unsupported version " + std::to_string(*version) + " (only 1)");
  e.protocol_version = *version;

  auto vm = string_at(j, "", "vmId", kMaxVmId, true);
  if (!vm) return vm.take_error();
  e.vm_id = std::move(*vm);

  auto nonce = b64u_at(j, "", "nonce", kMaxNonce);
  if (!nonce) return nonce.take_error();
  e.nonce = std::move(*nonce);

  auto quote = object_at(j, "", "quote");
  if (!quote) return quote.take_error();
  if (auto s = check_members(**quote, "quote", {"attest", "signature"}); !s) return s.take_error();
  auto attest = b64u_at(**quote, "quote", "attest", kMaxAttest);
  if (!attest) return attest.take_error();
  e.quote_attest = std::move(*attest);
  auto sig = b64u_at(**quote, "quote", "signature", kMaxSignature);
  if (!sig) return sig.take_error();
  e.quote_signature = std::move(*sig);

  auto pcrs = decode_pcrs(j);
  if (!pcrs) return pcrs.take_error();
  e.pcrs = std::move(*pcrs);

  auto log = b64u_at(j, "", "eventLog", limits.max_event_log_bytes);
  if (!log) return log.take_error();
  e.event_log = std::move(*log);

  if (j.contains("akPublic")) {
    auto ak = b64u_at(j, "", "akPublic", kMaxPublic);
    if (!ak) return ak.take_error();
    e.ak_public = std::move(*ak);
  }
  if (j.contains("runtimeKey")) {
    auto rk = decode_runtime_key(j);
    if (!rk) return rk.take_error();
    e.runtime_key = std::move(*rk);
  }
  if (j.contains("clientPayload")) {
    const json& cp = j.at("clientPayload");
    if (!cp.is_object()) return wrong_type("clientPayload", "object", cp);
    const size_t size = cp.dump().size();
    if (size > limits.max_client_payload_bytes) {
      return malformed("clientPayload", std::to_string(size) + " bytes serialized, over the limit of " +
                                            std::to_string(limits.max_client_payload_bytes));
    }
    e.client_payload = cp;
  }
  auto os = decode_os(j);
  if (!os) return os.take_error();
  e.os = std::move(*os);
  if (j.contains("kernelModules")) {
    auto km = decode_kernel_modules(j);
    if (!km) return km.take_error();
    e.kernel_modules = std::move(*km);
  }
  if (j.contains("tee")) {
    auto tee = decode_tee(j);
    if (!tee) return tee.take_error();
    e.tee = std::move(*tee);
  }
  return e;
}

Result<Evidence> decode_evidence_text(std::string_view text, const EvidenceLimits& limits) {
  // A member repeated in one object, or nesting deeper than the limit, is
  // refused while parsing: nlohmann::json would keep the last duplicate.
  std::vector<std::set<std::string>> keys;
  std::string problem;
  json::parser_callback_t cb = [&](int depth, json::parse_event_t event, json& parsed) {
    if (!problem.empty()) return false;  // stop keeping values after the first problem
    switch (event) {
      case json::parse_event_t::object_start:
        keys.emplace_back();
        [[fallthrough]];
      case json::parse_event_t::array_start:
        if (static_cast<size_t>(depth) >= limits.max_json_depth) {
          problem = "nested deeper than " + std::to_string(limits.max_json_depth) + " levels";
        }
        break;
      case json::parse_event_t::key:
        if (!keys.empty() && parsed.is_string() && !keys.back().insert(parsed.get<std::string>()).second) {
          problem = "member \"" + parsed.get<std::string>() + "\" appears twice in one object";
        }
        break;
      case json::parse_event_t::object_end:
        if (!keys.empty()) keys.pop_back();
        break;
      default:
        break;
    }
    return problem.empty();
  };
  json j = json::parse(text.begin(), text.end(), cb, /*allow_exceptions=*/false);
  if (!problem.empty()) return malformed("(document)", problem);
  if (j.is_discarded()) return malformed("(document)", "not valid JSON (or not UTF-8)");
  return decode_evidence(j, limits);
}

json encode_evidence(const Evidence& e) {
  json j = json::object();
  j["version"] = e.protocol_version;
  j["vmId"] = e.vm_id;
  j["nonce"] = token::base64url_encode(e.nonce);
  j["quote"] = {{"attest", token::base64url_encode(e.quote_attest)},
                {"signature", token::base64url_encode(e.quote_signature)}};
  json pcrs = json::object();
  for (const auto& [bank, values] : e.pcrs) {
    json b = json::object();
    for (const auto& [index, value] : values) b[std::to_string(index)] = to_hex(value);
    pcrs[std::string(crypto::hash_name(bank))] = std::move(b);
  }
  j["pcrs"] = std::move(pcrs);
  j["eventLog"] = token::base64url_encode(e.event_log);
  if (e.ak_public) j["akPublic"] = token::base64url_encode(*e.ak_public);
  if (e.runtime_key) {
    j["runtimeKey"] = {{"public", token::base64url_encode(e.runtime_key->public_area)},
                       {"certifyInfo", token::base64url_encode(e.runtime_key->certify_info)},
                       {"signature", token::base64url_encode(e.runtime_key->signature)},
                       {"policyPcrs", e.runtime_key->policy_pcrs}};
  }
  // An empty payload is the default; sending it or not decodes the same.
  if (!e.client_payload.empty()) j["clientPayload"] = e.client_payload;
  j["os"] = {{"type", e.os.type},
             {"distro", e.os.distro},
             {"versionMajor", e.os.version_major},
             {"versionMinor", e.os.version_minor}};
  if (!e.os.kernel_release.empty()) j["os"]["kernelRelease"] = e.os.kernel_release;
  if (e.kernel_modules.reported) {
    j["kernelModules"] = {{"taint", e.kernel_modules.taint},
                          {"unsigned", e.kernel_modules.unsigned_modules},
                          {"rejected", e.kernel_modules.rejected_modules},
                          {"imaFailures", e.kernel_modules.ima_failures}};
  }
  if (e.tee) {
    json t = {{"type", e.tee->type}, {"hclReport", token::base64url_encode(e.tee->hcl_report)}};
    if (e.tee->vcek) t["vcek"] = token::base64url_encode(*e.tee->vcek);
    if (e.tee->td_quote) t["tdQuote"] = token::base64url_encode(*e.tee->td_quote);
    j["tee"] = std::move(t);
  }
  return j;
}

}  // namespace tl::verify
