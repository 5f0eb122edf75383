// Operator-visible state of the agent, like a VM extension's status: a
// heartbeat file rewritten on every loop iteration and a status file with the
// outcome of the attempts. Both are small JSON documents (docs/agent.md has
// their shapes) replaced atomically with mode 0644, so monitoring can read
// them without privileges and never sees a torn file.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace tl::agent {

using StatusTime = std::chrono::system_clock::time_point;

enum class AgentState { kStarting, kAttesting, kWaiting, kBackingOff, kStopping };

// "starting", "attesting", "waiting", "backing-off", "stopping".
const char* state_name(AgentState s);
std::optional<AgentState> parse_state(std::string_view name);

inline constexpr int kStatusFormatVersion = 1;

struct Heartbeat {
  StatusTime timestamp;  // written with whole seconds
  int64_t pid = 0;
  AgentState state = AgentState::kStarting;
};

struct LastError {
  StatusTime time;
  std::string reason;   // the error's stable slug ("" when unclassified)
  std::string message;
};

struct AgentStatus {
  std::optional<StatusTime> last_attempt;
  std::optional<StatusTime> last_success;
  std::optional<LastError> last_error;  // cleared by a success
  uint32_t consecutive_failures = 0;
  std::optional<StatusTime> next_attempt;
  std::optional<StatusTime> token_expiry;  // of the last token obtained
  // Evidence sources that exist but could not be read or parsed in the last
  // attempt (kernel log, taint, IMA list, uname): reported, never blocking.
  // Written always; optional when read (status files of older agents lack it).
  std::vector<std::string> collection_warnings;
};

inline constexpr size_t kMaxCollectionWarnings = 16;
inline constexpr size_t kMaxCollectionWarningBytes = 512;

// Serialization (one JSON object, keys in a fixed order, trailing newline).
std::string heartbeat_to_json(const Heartbeat& h);
std::string status_to_json(const AgentStatus& s);

// Strict readers: every key present (optional values as null), no unknown or
// duplicate keys, the right types, version kStatusFormatVersion. Errors name
// the key, reason "status-malformed".
Result<Heartbeat> parse_heartbeat(std::string_view json_text);
Result<AgentStatus> parse_status(std::string_view json_text);

// Atomic replacement, mode 0644 (reason "status-write-failed").
Status write_heartbeat(const std::filesystem::path& path, const Heartbeat& h);
Status write_status(const std::filesystem::path& path, const AgentStatus& s);

// A missing file is reason "status-missing" with a message that says the
// agent has not written it yet; a malformed one is "status-malformed"; both
// start with the path.
Result<Heartbeat> read_heartbeat(const std::filesystem::path& path);
Result<AgentStatus> read_status(const std::filesystem::path& path);

// The text of `tlaunch-agent status`: what both files say, with ages relative
// to `now`. A missing file is reported in the text (the agent may simply not
// have run yet); a malformed or unreadable one is an error.
Result<std::string> status_report(const std::filesystem::path& status_path,
                                  const std::filesystem::path& heartbeat_path, StatusTime now);

}  // namespace tl::agent
