#include "host/vm_state.h"

#include <csignal>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <sstream>

#include "host/json_fields.h"
#include "host/vm_config.h"

namespace tl::host {

namespace {
constexpr const char* kFormat = "tlaunch-vm-state";
constexpr int kVersion = 1;
}  // namespace

const char* power_state_name(PowerState s) {
  switch (s) {
    case PowerState::kStopped: return "Stopped";
    case PowerState::kStarting: return "Starting";
    case PowerState::kRunning: return "Running";
    case PowerState::kStopping: return "Stopping";
    case PowerState::kCrashed: return "Crashed";
    case PowerState::kBootRefused: return "BootRefused";
  }
  return "Stopped";
}

std::optional<PowerState> parse_power_state(std::string_view s) {
  for (auto p : {PowerState::kStopped, PowerState::kStarting, PowerState::kRunning, PowerState::kStopping,
                 PowerState::kCrashed, PowerState::kBootRefused}) {
    if (s == power_state_name(p)) return p;
  }
  return std::nullopt;
}

bool is_active(PowerState s) {
  return s == PowerState::kStarting || s == PowerState::kRunning || s == PowerState::kStopping;
}

Result<PowerState> next_state(PowerState from, VmEvent event) {
  using P = PowerState;
  auto refuse = [&](const char* what) -> Result<PowerState> {
    return Error{std::string("cannot ") + what + " a VM that is " + power_state_name(from), "vm-state-conflict"};
  };
  switch (event) {
    case VmEvent::kStartRequested:
      if (is_active(from)) return refuse("start");
      return P::kStarting;
    case VmEvent::kQemuUp:
      if (from != P::kStarting) return refuse("mark running");
      return P::kRunning;
    case VmEvent::kStopRequested:
      if (!is_active(from)) return refuse("stop");
      return P::kStopping;
    case VmEvent::kQemuExitClean:
      if (!is_active(from)) return refuse("record the exit of");
      return P::kStopped;
    case VmEvent::kQemuExitFailed:
      if (!is_active(from)) return refuse("record the exit of");
      // A hard stop that `vm stop` asked for is still a stop.
      return from == P::kStopping ? P::kStopped : P::kCrashed;
    case VmEvent::kSwtpmDied:
      if (!is_active(from)) return refuse("record a vTPM crash of");
      return from == P::kStopping ? P::kStopped : P::kCrashed;
    case VmEvent::kBootRefused:
      if (from != P::kRunning && from != P::kStarting) return refuse("record a refused boot of");
      return P::kBootRefused;
    case VmEvent::kStartFailed:
      if (from != P::kStarting) return refuse("record a failed start of");
      return P::kCrashed;
  }
  return refuse("change");
}

std::string to_json_text(const VmState& s) {
  nlohmann::ordered_json j;
  j["format"] = kFormat;
  j["version"] = kVersion;
  j["powerState"] = power_state_name(s.power);
  j["supervisorPid"] = s.supervisor_pid;
  j["qemuPid"] = s.qemu_pid;
  j["swtpmPid"] = s.swtpm_pid;
  j["accel"] = s.accel;
  j["startedAt"] = s.started_at;
  j["stoppedAt"] = s.stopped_at;
  j["lastError"] = printable(s.last_error, 4096);
  j["lastMarker"] = printable(s.last_marker, 1024);
  j["lastMarkerAt"] = s.last_marker_at;
  // replace: a path with invalid UTF-8 must not throw.
  return j.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
}

Result<VmState> parse_vm_state(std::string_view text, const std::string& where) {
  const auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded()) return Error{where + ": not valid JSON (truncated or damaged)", "host-config-invalid"};
  auto o = StrictObject::open(j, where,
                              {"format", "version", "powerState", "supervisorPid", "qemuPid", "swtpmPid", "accel",
                               "startedAt", "stoppedAt", "lastError", "lastMarker", "lastMarkerAt"});
  if (!o) return o.take_error();
  auto format = o->str("format");
  if (!format) return format.take_error();
  if (*format != kFormat) return o->error("format", "must be \"tlaunch-vm-state\"");
  auto version = o->integer("version", kVersion, kVersion);
  if (!version) return version.take_error();
  VmState s;
  auto power = o->str("powerState");
  if (!power) return power.take_error();
  auto p = parse_power_state(*power);
  if (!p) return o->error("powerState", "must be Stopped, Starting, Running, Stopping, Crashed or BootRefused");
  s.power = *p;
  for (auto [key, out] : std::initializer_list<std::pair<const char*, int64_t*>>{
           {"supervisorPid", &s.supervisor_pid}, {"qemuPid", &s.qemu_pid}, {"swtpmPid", &s.swtpm_pid}}) {
    auto v = o->integer(key, 0, 1 << 30);
    if (!v) return v.take_error();
    *out = *v;
  }
  for (auto [key, out] : std::initializer_list<std::pair<const char*, std::string*>>{
           {"accel", &s.accel}, {"startedAt", &s.started_at}, {"stoppedAt", &s.stopped_at},
           {"lastError", &s.last_error}, {"lastMarker", &s.last_marker}, {"lastMarkerAt", &s.last_marker_at}}) {
    auto v = o->str(key);
    if (!v) return v.take_error();
    *out = std::move(*v);
  }
  if (!s.accel.empty() && s.accel != "kvm" && s.accel != "tcg") return o->error("accel", "must be kvm, tcg or empty");
  return s;
}

Status write_vm_state(const std::filesystem::path& file, const VmState& s) {
  return write_file_atomic(file, to_json_text(s));
}

Result<VmState> read_vm_state(const std::filesystem::path& file) {
  std::error_code ec;
  if (!std::filesystem::exists(file, ec)) return VmState{};
  auto text = read_text_file(file);
  if (!text) return text.take_error();
  return parse_vm_state(*text, file.string());
}

bool process_alive(int64_t pid, std::string_view program, std::string_view needle) {
  if (pid <= 0) return false;
  const std::string proc = "/proc/" + std::to_string(pid);
  std::ifstream stat(proc + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return false;
  // "pid (comm) S ...": the state letter follows the last ')'; a zombie has exited.
  const auto close = line.rfind(')');
  if (close == std::string::npos || close + 2 >= line.size() || line[close + 2] == 'Z') return false;
  std::ifstream cmd(proc + "/cmdline", std::ios::binary);
  std::string all((std::istreambuf_iterator<char>(cmd)), std::istreambuf_iterator<char>());
  const std::string argv0 = all.substr(0, all.find('\0'));
  if (argv0.find(program) == std::string::npos) return false;
  for (char& c : all)
    if (c == '\0') c = ' ';
  return needle.empty() || all.find(needle) != std::string::npos;
}

}  // namespace tl::host
