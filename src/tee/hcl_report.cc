#include "tee/hcl_report.h"

#include <algorithm>
#include <array>
#include <utility>

#include "common/byte_reader.h"
#include "crypto/constant_time.h"
#include "crypto/digest.h"

namespace tl::tee {
namespace {

using json = nlohmann::json;

constexpr const char* kMalformed = "hcl-report-malformed";
constexpr size_t kTdReportBytes = 1024;
// REPORT_DATA inside the hardware report: SNP ATTESTATION_REPORT offset 0x50;
// TDREPORT_STRUCT after REPORTTYPE(8), reserved(8), CPUSVN(16) and the two
// 48-byte hashes of REPORTMACSTRUCT: offset 0x80.
constexpr size_t kSnpReportDataOffset = 0x50;
constexpr size_t kTdReportDataOffset = 0x80;
constexpr size_t kReportDataSize = 64;
constexpr size_t kUserDataSize = 64;
constexpr int kMaxRuntimeDepth = 16;

Error malformed(std::string message) { return Error{std::move(message), kMalformed}; }

Error at(size_t offset, const std::string& field, const std::string& what) {
  return malformed(field + " at offset " + hex_offset(offset) + ": " + what);
}

// base64url without padding (RFC 7515 §2, as JWK members are written). Strict:
// one accepted spelling per byte string. tl_tee sits below tl_token, hence its own.
Result<Bytes> b64url_decode(std::string_view s, const std::string& what) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '-') return 62;
    if (c == '_') return 63;
    return -1;
  };
  if (s.size() % 4 == 1) return malformed(what + ": base64url length " + std::to_string(s.size()) + " is impossible");
  Bytes out;
  out.reserve(s.size() * 3 / 4);
  uint32_t acc = 0;
  int bits = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    const int v = value(s[i]);
    if (v < 0) return malformed(what + ": not base64url at character " + std::to_string(i));
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<uint8_t>(acc >> bits));
      acc &= (1u << bits) - 1;
    }
  }
  if (acc != 0) return malformed(what + ": non-zero unused bits in the last base64url character");
  return out;
}

std::optional<crypto::HashAlg> hash_of(uint32_t hash_type) {
  switch (hash_type) {
    case 1: return crypto::HashAlg::sha256;
    case 2: return crypto::HashAlg::sha384;
    case 3: return crypto::HashAlg::sha512;
    default: return std::nullopt;
  }
}

std::string hash_type_name(uint32_t hash_type) {
  const auto h = hash_of(hash_type);
  return h ? std::string(crypto::hash_name(*h)) : "invalid(" + std::to_string(hash_type) + ")";
}

// One JWK of "keys". RSA only: the HCL's AK and EK are RSA-2048.
Result<HclRuntimeKey> parse_key(const json& k, size_t index) {
  const std::string path = "runtime data keys[" + std::to_string(index) + "]";
  if (!k.is_object()) return malformed(path + ": not an object");
  auto str = [&](const char* member) -> Result<std::string> {
    const auto it = k.find(member);
    if (it == k.end()) return malformed(path + "." + member + ": missing");
    if (!it->is_string()) return malformed(path + "." + member + ": not a string");
    return it->get<std::string>();
  };
  HclRuntimeKey key;
  auto kid = str("kid");
  if (!kid) return kid.take_error();
  key.kid = std::move(*kid);
  auto kty = str("kty");
  if (!kty) return kty.take_error();
  key.kty = std::move(*kty);
  if (key.kty != "RSA") return malformed(path + ".kty: \"" + key.kty + "\" is not RSA");
  if (const auto it = k.find("key_ops"); it != k.end()) {
    if (!it->is_array()) return malformed(path + ".key_ops: not an array");
    for (size_t i = 0; i < it->size(); ++i) {
      if (!(*it)[i].is_string())
        return malformed(path + ".key_ops[" + std::to_string(i) + "]: not a string");
      key.key_ops.push_back((*it)[i].get<std::string>());
    }
  }
  auto n = str("n");
  if (!n) return n.take_error();
  auto nb = b64url_decode(*n, path + ".n");
  if (!nb) return nb.take_error();
  auto e = str("e");
  if (!e) return e.take_error();
  auto eb = b64url_decode(*e, path + ".e");
  if (!eb) return eb.take_error();
  if (nb->empty() || eb->empty()) return malformed(path + ": empty modulus or exponent");
  key.n = std::move(*nb);
  key.e = std::move(*eb);
  key.jwk = k;
  return key;
}

// The runtime data JSON: an object with "keys" (JWKs, each kid at most once),
// optional "vm-configuration" (object) and "user-data" (string). Other members
// are kept (Azure adds some over time) and shown in x-ms-runtime.
Status parse_runtime(HclReport& r) {
  const size_t base = kHclRuntimeDataOffset;
  // Azure's document is 4 levels deep; a deeper one is refused before anything
  // (copying, dumping into a token) recurses over it.
  bool too_deep = false;
  const json::parser_callback_t depth_limit = [&too_deep](int depth, json::parse_event_t, json&) {
    if (depth >= kMaxRuntimeDepth) too_deep = true;  // depth counts from 0
    return !too_deep;
  };
  try {
    r.runtime_json = json::parse(r.runtime_data.begin(), r.runtime_data.end(), depth_limit);
  } catch (const json::parse_error& e) {
    // e.byte is 1-based within the runtime data.
    const size_t pos = e.byte > 0 ? e.byte - 1 : 0;
    return at(base + pos, "runtime data", std::string("not JSON (byte ") + std::to_string(pos) + " of the runtime data)");
  }
  if (too_deep)
    return at(base, "runtime data", "JSON nested deeper than " + std::to_string(kMaxRuntimeDepth) + " levels");
  if (!r.runtime_json.is_object()) return at(base, "runtime data", "JSON is not an object");
  const auto keys = r.runtime_json.find("keys");
  if (keys == r.runtime_json.end()) return at(base, "runtime data", "member \"keys\" missing");
  if (!keys->is_array()) return at(base, "runtime data", "member \"keys\" is not an array");
  for (size_t i = 0; i < keys->size(); ++i) {
    auto key = parse_key((*keys)[i], i);
    if (!key) return key.take_error();
    for (const auto& other : r.keys) {
      if (other.kid == key->kid)
        return malformed("runtime data keys[" + std::to_string(i) + "]: kid \"" + key->kid + "\" appears twice");
    }
    r.keys.push_back(std::move(*key));
  }
  if (const auto it = r.runtime_json.find("vm-configuration"); it != r.runtime_json.end() && !it->is_object())
    return at(base, "runtime data", "member \"vm-configuration\" is not an object");
  if (const auto it = r.runtime_json.find("user-data"); it != r.runtime_json.end() && !it->is_string())
    return at(base, "runtime data", "member \"user-data\" is not a string");
  return {};
}

}  // namespace

const HclRuntimeKey* HclReport::ak() const {
  for (const auto& k : keys)
    if (k.kid == "HCLAkPub") return &k;
  return nullptr;
}

const HclRuntimeKey* HclReport::ek() const {
  for (const auto& k : keys)
    if (k.kid == "HCLEkPub") return &k;
  return nullptr;
}

Result<HclReport> parse_hcl_report(ByteView data) {
  if (data.size() > kHclMaxReportSize)
    return malformed("HCL report of " + std::to_string(data.size()) + " bytes exceeds " +
                     std::to_string(kHclMaxReportSize));
  ByteReader rd(data);
  HclReport r;
  // Header (32 bytes): signature, version, report size, request type, status, 3 reserved.
  auto sig = rd.u32_le("header.signature");
  if (!sig) return with_reason(kMalformed, sig.take_error());
  if (*sig != kHclSignature) {
    return at(0, "header.signature", "not \"HCLA\" (0x" + to_hex(data.subspan(0, 4)) + ")");
  }
  auto version = rd.u32_le("header.version");
  if (!version) return with_reason(kMalformed, version.take_error());
  // Versions 1 and 2 are what Azure's HCL writes (2 on newer hosts); the layout is the same.
  if (*version != 1 && *version != 2) return at(4, "header.version", std::to_string(*version) + " is not 1 or 2");
  r.version = *version;
  auto report_size = rd.u32_le("header.report_size");
  if (!report_size) return with_reason(kMalformed, report_size.take_error());
  r.report_size = *report_size;
  auto request_type = rd.u32_le("header.request_type");
  if (!request_type) return with_reason(kMalformed, request_type.take_error());
  r.request_type = *request_type;
  auto status = rd.u32_le("header.status");
  if (!status) return with_reason(kMalformed, status.take_error());
  r.status = *status;
  // A non-zero status is the HCL saying it could not produce the report.
  if (r.status != 0) return at(16, "header.status", std::to_string(r.status) + " (the HCL reported a failure)");
  for (int i = 0; i < 3; ++i) {
    const size_t off = rd.offset();
    auto reserved = rd.u32_le("header.reserved");
    if (!reserved) return with_reason(kMalformed, reserved.take_error());
    if (*reserved != 0) return at(off, "header.reserved", "not zero");
  }
  auto hw = rd.bytes(kHclHardwareReportSize, "hardware report");
  if (!hw) return with_reason(kMalformed, hw.take_error());
  // IGVM request data (20 bytes): data size, version, report type, hash type, variable data size.
  auto data_size = rd.u32_le("request data.data_size");
  if (!data_size) return with_reason(kMalformed, data_size.take_error());
  auto rd_version = rd.u32_le("request data.version");
  if (!rd_version) return with_reason(kMalformed, rd_version.take_error());
  r.runtime_data_version = *rd_version;
  if (r.runtime_data_version != 1)
    return at(kHclRequestDataOffset + 4, "request data.version", std::to_string(r.runtime_data_version) + " is not 1");
  auto report_type = rd.u32_le("request data.report_type");
  if (!report_type) return with_reason(kMalformed, report_type.take_error());
  switch (*report_type) {
    case kHclReportTypeSnp: r.hardware = HclHardware::snp; break;
    case kHclReportTypeTdx: r.hardware = HclHardware::tdx; break;
    default:
      return at(kHclRequestDataOffset + 8, "request data.report_type",
                "unknown hardware report type " + std::to_string(*report_type) + " (2 = SEV-SNP, 4 = TDX)");
  }
  auto hash_type = rd.u32_le("request data.hash_type");
  if (!hash_type) return with_reason(kMalformed, hash_type.take_error());
  if (!hash_of(*hash_type))
    return at(kHclRequestDataOffset + 12, "request data.hash_type",
              std::to_string(*hash_type) + " is not 1 (SHA-256), 2 (SHA-384) or 3 (SHA-512)");
  r.hash_type = *hash_type;
  auto var_size = rd.u32_le("request data.variable_data_size");
  if (!var_size) return with_reason(kMalformed, var_size.take_error());
  if (*var_size > rd.remaining())
    return at(kHclRequestDataOffset + 16, "request data.variable_data_size",
              std::to_string(*var_size) + " bytes but " + std::to_string(rd.remaining()) + " left");
  // The sizes must agree with each other: a report that disagrees with itself
  // about where the hashed bytes end is not one to interpret.
  if (*data_size != 20 + static_cast<uint64_t>(*var_size))
    return at(kHclRequestDataOffset, "request data.data_size",
              std::to_string(*data_size) + " != 20 + variable data size " + std::to_string(*var_size));
  if (r.report_size != kHclRuntimeDataOffset + static_cast<uint64_t>(*var_size))
    return at(8, "header.report_size",
              std::to_string(r.report_size) + " != " + std::to_string(kHclRuntimeDataOffset) +
                  " + variable data size " + std::to_string(*var_size));
  if (*var_size == 0) return at(kHclRuntimeDataOffset, "runtime data", "empty");
  auto runtime = rd.bytes(*var_size, "runtime data");
  if (!runtime) return with_reason(kMalformed, runtime.take_error());
  r.runtime_data.assign(runtime->begin(), runtime->end());
  // The NV index is larger than the report: only zeros may follow.
  while (!rd.empty()) {
    const size_t off = rd.offset();
    auto b = rd.u8("padding");
    if (!b) return with_reason(kMalformed, b.take_error());
    if (*b != 0) return at(off, "padding after the report", "non-zero byte");
  }
  if (r.hardware == HclHardware::tdx) {
    // The TDREPORT fills 1024 of the 1184 bytes; the rest must be zero.
    const auto tail = hw->subspan(kTdReportBytes);
    const auto nz = std::find_if(tail.begin(), tail.end(), [](uint8_t b) { return b != 0; });
    if (nz != tail.end())
      return at(kHclHeaderSize + kTdReportBytes + static_cast<size_t>(nz - tail.begin()), "hardware report",
                "non-zero byte after the 1024-byte TDREPORT");
    r.hardware_report.assign(hw->begin(), hw->begin() + kTdReportBytes);
  } else {
    r.hardware_report.assign(hw->begin(), hw->end());
  }
  if (auto st = parse_runtime(r); !st) return st.take_error();
  return r;
}

Result<Bytes> hcl_hardware_report_data(const HclReport& r) {
  const size_t off = r.hardware == HclHardware::snp ? kSnpReportDataOffset : kTdReportDataOffset;
  if (r.hardware_report.size() < off + kReportDataSize)
    return malformed("hardware report of " + std::to_string(r.hardware_report.size()) + " bytes has no REPORT_DATA");
  return Bytes(r.hardware_report.begin() + static_cast<std::ptrdiff_t>(off),
               r.hardware_report.begin() + static_cast<std::ptrdiff_t>(off + kReportDataSize));
}

Check check_hcl_binding(const HclReport& r, ByteView report_data) {
  Check c{"hcl.binding", false, "", "hcl-report-data-mismatch"};
  const auto alg = hash_of(r.hash_type);
  if (!alg) {
    c.detail = "hash type " + std::to_string(r.hash_type) + " unknown";
    return c;
  }
  auto h = crypto::digest(*alg, r.runtime_data);
  if (!h) {
    c.detail = h.error().message;
    return c;
  }
  if (report_data.size() < h->size()) {
    c.detail = "REPORT_DATA has " + std::to_string(report_data.size()) + " bytes, fewer than the " +
               std::to_string(h->size()) + "-byte digest";
    return c;
  }
  const auto prefix = report_data.subspan(0, h->size());
  c.passed = crypto::constant_time_equal(*h, prefix);
  c.detail = std::string(crypto::hash_name(*alg)) + "(runtime data) " + to_hex(*h) +
             (c.passed ? " == " : " != ") + "REPORT_DATA[0:" + std::to_string(h->size()) + "] " + to_hex(prefix);
  if (c.passed) c.reason.clear();
  return c;
}

Check check_hcl_user_data(const HclReport& r, ByteView expected) {
  Check c{"hcl.user_data", false, "", "hcl-user-data-mismatch"};
  if (expected.size() > kUserDataSize) {
    c.detail = "expected user data of " + std::to_string(expected.size()) + " bytes exceeds 64";
    return c;
  }
  const auto it = r.runtime_json.find("user-data");
  if (it == r.runtime_json.end() || !it->is_string()) {
    c.detail = "the runtime data has no \"user-data\"";
    return c;
  }
  auto got = from_hex(it->get<std::string>());
  if (!got || got->size() != kUserDataSize) {
    c.detail = "\"user-data\" is not 64 bytes of hex";
    return c;
  }
  Bytes want(expected.begin(), expected.end());
  want.resize(kUserDataSize, 0);
  c.passed = crypto::constant_time_equal(*got, want);
  c.detail = "user-data in the HCL runtime data " + to_hex(*got) + (c.passed ? " == " : " doesn't match ") +
             "the report data " + to_hex(want) + " (zero-padded to 64 bytes)";
  if (c.passed) c.reason.clear();
  return c;
}

std::optional<std::string> hcl_vm_unique_id(const HclReport& r) {
  const auto cfg = r.runtime_json.find("vm-configuration");
  if (cfg == r.runtime_json.end() || !cfg->is_object()) return std::nullopt;
  const auto id = cfg->find("vmUniqueId");
  if (id == cfg->end() || !id->is_string()) return std::nullopt;
  return id->get<std::string>();
}

json hcl_report_json(const HclReport& r) {
  json keys = json::array();
  for (const auto& k : r.keys) {
    keys.push_back({{"kid", k.kid}, {"kty", k.kty}, {"key_ops", k.key_ops}, {"bits", k.n.size() * 8},
                    {"n", to_hex(k.n)}, {"e", to_hex(k.e)}});
  }
  json j = {
      {"version", r.version},
      {"report_size", r.report_size},
      {"request_type", r.request_type},
      {"status", r.status},
      {"hardware", r.hardware == HclHardware::snp ? "snp" : "tdx"},
      {"hardware_report", to_hex(r.hardware_report)},
      {"runtime_data_version", r.runtime_data_version},
      {"hash_type", hash_type_name(r.hash_type)},
      {"runtime_data_size", r.runtime_data.size()},
      {"runtime_data", r.runtime_json},
      {"keys", std::move(keys)},
  };
  if (auto rd = hcl_hardware_report_data(r)) j["report_data"] = to_hex(*rd);
  if (auto alg = hash_of(r.hash_type)) {
    if (auto h = crypto::digest(*alg, r.runtime_data)) j["runtime_data_digest"] = to_hex(*h);
  }
  return j;
}

}  // namespace tl::tee
