#include "agent/status.h"

#include <array>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <span>

#include "common/atomic_file.h"
#include "agent/strict_json.h"
#include "agent/timestamp.h"

namespace tl::agent {
namespace {

using json = nlohmann::json;

constexpr const char* kMalformed = "status-malformed";
constexpr size_t kMaxStatusFileSize = 64 * 1024;
constexpr size_t kMaxErrorMessage = 4096;
constexpr size_t kMaxReason = 128;

Error malformed(std::string_view key, const std::string& why) { return Error{std::string(key) + ": " + why, kMalformed}; }

// Text from a file as it may be shown on a terminal: control characters
// (escape sequences!) become '?'.
std::string printable(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) c = '?';
  }
  return out;
}

json time_or_null(const std::optional<StatusTime>& t) { return t ? json(format_timestamp(*t)) : json(nullptr); }

Status check_exact_keys(const json& obj, std::span<const std::string_view> keys, const std::string& path = "") {
  for (const auto& [key, value] : obj.items()) {
    bool known = false;
    for (auto k : keys) known = known || key == k;
    if (!known) return malformed(join_path(path, printable(key.substr(0, 64))), "unknown key");
  }
  for (auto k : keys) {
    if (!obj.contains(std::string(k))) return malformed(join_path(path, k), "missing");
  }
  return {};
}

Status check_version(const json& obj) {
  const json& v = obj.at("version");
  if (!v.is_number_integer() || v.get<int64_t>() != kStatusFormatVersion) {
    return malformed("version", "expected " + std::to_string(kStatusFormatVersion) + ", got " + v.dump().substr(0, 32));
  }
  return {};
}

Result<StatusTime> time_field(const json& obj, std::string_view key, const std::string& path = "") {
  const json& v = obj.at(std::string(key));
  const std::string name = join_path(path, key);
  if (!v.is_string()) return malformed(name, std::string("expected a timestamp string, got ") + json_kind(v));
  auto t = parse_timestamp(printable(v.get_ref<const std::string&>()));
  if (!t) return malformed(name, t.error().message);
  return *t;
}

Result<std::optional<StatusTime>> optional_time(const json& obj, std::string_view key) {
  if (obj.at(std::string(key)).is_null()) return std::optional<StatusTime>{};
  auto t = time_field(obj, key);
  if (!t) return t.take_error();
  return std::optional<StatusTime>{*t};
}

Result<std::string> string_field(const json& obj, std::string_view key, std::string_view path, size_t max) {
  const json& v = obj.at(std::string(key));
  if (!v.is_string()) return malformed(join_path(std::string(path), key), std::string("expected a string, got ") + json_kind(v));
  const auto& s = v.get_ref<const std::string&>();
  if (s.size() > max) return malformed(join_path(std::string(path), key), "longer than " + std::to_string(max) + " bytes");
  return s;
}

Result<uint64_t> unsigned_field(const json& obj, std::string_view key, uint64_t max) {
  const json& v = obj.at(std::string(key));
  if (!v.is_number_integer() || (v.is_number_integer() && !v.is_number_unsigned() && v.get<int64_t>() < 0)) {
    return malformed(key, std::string("expected a non-negative integer, got ") + (v.is_number() ? v.dump().substr(0, 32) : json_kind(v)));
  }
  const uint64_t n = v.get<uint64_t>();
  if (n > max) return malformed(key, std::to_string(n) + " is larger than " + std::to_string(max));
  return n;
}

Result<std::string> read_small_file(const std::filesystem::path& path, std::string_view what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    const int err = errno;
    if (err == ENOENT) {
      return Error{path.string() + ": no " + std::string(what) +
                       " file yet: the agent has not written one (is it running, with this state directory?)",
                   "status-missing"};
    }
    return Error{path.string() + ": cannot open: " + std::strerror(err), "status-unreadable"};
  }
  std::string text(kMaxStatusFileSize + 1, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  if (in.bad()) return Error{path.string() + ": cannot read", "status-unreadable"};
  text.resize(static_cast<size_t>(in.gcount()));
  if (text.size() > kMaxStatusFileSize) {
    return Error{path.string() + ": larger than " + std::to_string(kMaxStatusFileSize) + " bytes", kMalformed};
  }
  return text;
}

// `s` as valid UTF-8 (invalid sequences become U+FFFD) of at most `max` bytes,
// cut on a character boundary, so the file stays valid JSON and its reader's
// length limit holds.
std::string utf8_prefix(const std::string& s, size_t max) {
  std::string valid = json::parse(json(s).dump(-1, ' ', false, json::error_handler_t::replace)).get<std::string>();
  if (valid.size() <= max) return valid;
  size_t cut = max;
  while (cut > 0 && (static_cast<unsigned char>(valid[cut]) & 0xC0) == 0x80) --cut;
  valid.resize(cut);
  return valid;
}

std::string age(StatusTime then, StatusTime now) {
  const auto s = std::chrono::duration_cast<std::chrono::seconds>(now - then).count();
  if (s < 0) return "in " + std::to_string(-s) + " s";
  return std::to_string(s) + " s ago";
}

std::string when(const std::optional<StatusTime>& t, StatusTime now) {
  return t ? format_timestamp(*t) + " (" + age(*t, now) + ")" : "never";
}

}  // namespace

const char* state_name(AgentState s) {
  switch (s) {
    case AgentState::kStarting: return "starting";
    case AgentState::kAttesting: return "attesting";
    case AgentState::kWaiting: return "waiting";
    case AgentState::kBackingOff: return "backing-off";
    case AgentState::kStopping: return "stopping";
  }
  return "unknown";
}

std::optional<AgentState> parse_state(std::string_view name) {
  for (AgentState s : {AgentState::kStarting, AgentState::kAttesting, AgentState::kWaiting, AgentState::kBackingOff,
                       AgentState::kStopping}) {
    if (name == state_name(s)) return s;
  }
  return std::nullopt;
}

std::string heartbeat_to_json(const Heartbeat& h) {
  json j = json::object();
  j["version"] = kStatusFormatVersion;
  j["timestamp"] = format_timestamp(h.timestamp);
  j["pid"] = h.pid;
  j["state"] = state_name(h.state);
  return j.dump(2) + "\n";
}

std::string status_to_json(const AgentStatus& s) {
  json j = json::object();
  j["version"] = kStatusFormatVersion;
  j["lastAttemptTime"] = time_or_null(s.last_attempt);
  j["lastSuccessTime"] = time_or_null(s.last_success);
  if (s.last_error) {
    // An error message may quote hostile input: keep the file valid UTF-8
    // JSON whatever bytes it holds.
    j["lastError"] = {{"time", format_timestamp(s.last_error->time)},
                      {"reason", utf8_prefix(s.last_error->reason, kMaxReason)},
                      {"message", utf8_prefix(s.last_error->message, kMaxErrorMessage)}};
  } else {
    j["lastError"] = nullptr;
  }
  j["consecutiveFailures"] = s.consecutive_failures;
  j["nextAttemptTime"] = time_or_null(s.next_attempt);
  j["tokenExpiry"] = time_or_null(s.token_expiry);
  json warnings = json::array();
  for (size_t i = 0; i < s.collection_warnings.size() && i < kMaxCollectionWarnings; ++i) {
    warnings.push_back(utf8_prefix(s.collection_warnings[i], kMaxCollectionWarningBytes));
  }
  j["collectionWarnings"] = std::move(warnings);
  return j.dump(2) + "\n";
}

Result<Heartbeat> parse_heartbeat(std::string_view json_text) {
  auto doc = parse_strict_object(json_text, "status");
  if (!doc) return with_reason(kMalformed, Error{doc.error().message});
  static constexpr std::array<std::string_view, 4> kKeys = {"version", "timestamp", "pid", "state"};
  if (auto s = check_exact_keys(*doc, kKeys); !s) return s.take_error();
  if (auto s = check_version(*doc); !s) return s.take_error();
  Heartbeat h;
  auto t = time_field(*doc, "timestamp");
  if (!t) return t.take_error();
  h.timestamp = *t;
  auto pid = unsigned_field(*doc, "pid", INT32_MAX);
  if (!pid) return pid.take_error();
  if (*pid == 0) return malformed("pid", "0 is not a process id");
  h.pid = static_cast<int64_t>(*pid);
  const json& st = doc->at("state");
  if (!st.is_string()) return malformed("state", std::string("expected a string, got ") + json_kind(st));
  auto state = parse_state(st.get_ref<const std::string&>());
  if (!state) return malformed("state", "unknown state \"" + printable(st.get<std::string>().substr(0, 32)) + "\"");
  h.state = *state;
  return h;
}

Result<AgentStatus> parse_status(std::string_view json_text) {
  auto doc = parse_strict_object(json_text, "status");
  if (!doc) return with_reason(kMalformed, Error{doc.error().message});
  // Optional (added after format version 1 shipped), so taken out before the
  // exact-keys check of the others.
  std::vector<std::string> warnings;
  if (doc->contains("collectionWarnings")) {
    const json& w = doc->at("collectionWarnings");
    if (!w.is_array()) return malformed("collectionWarnings", std::string("expected an array, got ") + json_kind(w));
    if (w.size() > kMaxCollectionWarnings) {
      return malformed("collectionWarnings", "more than " + std::to_string(kMaxCollectionWarnings) + " entries");
    }
    for (size_t i = 0; i < w.size(); ++i) {
      const std::string path = "collectionWarnings[" + std::to_string(i) + "]";
      if (!w[i].is_string()) return malformed(path, std::string("expected a string, got ") + json_kind(w[i]));
      const auto& text = w[i].get_ref<const std::string&>();
      if (text.size() > kMaxCollectionWarningBytes) {
        return malformed(path, "longer than " + std::to_string(kMaxCollectionWarningBytes) + " bytes");
      }
      warnings.push_back(text);
    }
    doc->erase("collectionWarnings");
  }
  static constexpr std::array<std::string_view, 7> kKeys = {"version",        "lastAttemptTime",     "lastSuccessTime",
                                                            "lastError",      "consecutiveFailures", "nextAttemptTime",
                                                            "tokenExpiry"};
  if (auto s = check_exact_keys(*doc, kKeys); !s) return s.take_error();
  if (auto s = check_version(*doc); !s) return s.take_error();
  AgentStatus out;
  struct TimeKey {
    std::string_view key;
    std::optional<StatusTime>* field;
  };
  for (const TimeKey& tk : {TimeKey{"lastAttemptTime", &out.last_attempt}, TimeKey{"lastSuccessTime", &out.last_success},
                            TimeKey{"nextAttemptTime", &out.next_attempt}, TimeKey{"tokenExpiry", &out.token_expiry}}) {
    auto t = optional_time(*doc, tk.key);
    if (!t) return t.take_error();
    *tk.field = *t;
  }
  auto failures = unsigned_field(*doc, "consecutiveFailures", UINT32_MAX);
  if (!failures) return failures.take_error();
  out.consecutive_failures = static_cast<uint32_t>(*failures);

  const json& e = doc->at("lastError");
  if (!e.is_null()) {
    if (!e.is_object()) return malformed("lastError", std::string("expected an object or null, got ") + json_kind(e));
    static constexpr std::array<std::string_view, 3> kErrKeys = {"time", "reason", "message"};
    if (auto s = check_exact_keys(e, kErrKeys, "lastError"); !s) return s.take_error();
    LastError le;
    auto t = time_field(e, "time", "lastError");
    if (!t) return t.take_error();
    le.time = *t;
    auto reason = string_field(e, "reason", "lastError", kMaxReason);
    if (!reason) return reason.take_error();
    auto message = string_field(e, "message", "lastError", kMaxErrorMessage);
    if (!message) return message.take_error();
    le.reason = std::move(*reason);
    le.message = std::move(*message);
    out.last_error = std::move(le);
  }
  out.collection_warnings = std::move(warnings);
  return out;
}

Status write_heartbeat(const std::filesystem::path& path, const Heartbeat& h) {
  if (Status st = write_file_atomic(path, heartbeat_to_json(h), 0644); !st)
    return with_reason("status-write-failed", st.take_error());
  return {};
}

Status write_status(const std::filesystem::path& path, const AgentStatus& s) {
  if (Status st = write_file_atomic(path, status_to_json(s), 0644); !st)
    return with_reason("status-write-failed", st.take_error());
  return {};
}

Result<Heartbeat> read_heartbeat(const std::filesystem::path& path) {
  auto text = read_small_file(path, "heartbeat");
  if (!text) return text.take_error();
  auto h = parse_heartbeat(*text);
  if (!h) return with_context(path.string(), h.take_error());
  return h;
}

Result<AgentStatus> read_status(const std::filesystem::path& path) {
  auto text = read_small_file(path, "status");
  if (!text) return text.take_error();
  auto s = parse_status(*text);
  if (!s) return with_context(path.string(), s.take_error());
  return s;
}

Result<std::string> status_report(const std::filesystem::path& status_path,
                                  const std::filesystem::path& heartbeat_path, StatusTime now) {
  std::string out;
  auto hb = read_heartbeat(heartbeat_path);
  if (hb) {
    out += "heartbeat:            " + format_timestamp(hb->timestamp) + " (" + age(hb->timestamp, now) + "), pid " +
           std::to_string(hb->pid) + ", " + state_name(hb->state) + "\n";
  } else if (hb.error().reason == "status-missing") {
    out += "heartbeat:            none (" + hb.error().message + ")\n";
  } else {
    return hb.take_error();
  }
  auto st = read_status(status_path);
  if (!st) {
    if (st.error().reason != "status-missing") return st.take_error();
    out += "status:               none (" + st.error().message + ")\n";
    return out;
  }
  out += "last attempt:         " + when(st->last_attempt, now) + "\n";
  out += "last success:         " + when(st->last_success, now) + "\n";
  out += "consecutive failures: " + std::to_string(st->consecutive_failures) + "\n";
  if (st->last_error) {
    out += "last error:           " + format_timestamp(st->last_error->time) + " [" +
           (st->last_error->reason.empty() ? "unclassified" : printable(st->last_error->reason)) + "] " +
           printable(st->last_error->message) + "\n";
  } else {
    out += "last error:           none\n";
  }
  out += "next attempt:         " + when(st->next_attempt, now) + "\n";
  out += "token expiry:         " + when(st->token_expiry, now) + "\n";
  for (const auto& w : st->collection_warnings) out += "collection warning:   " + printable(w) + "\n";
  return out;
}

}  // namespace tl::agent
