#include "host/console_markers.h"

#include "host/json_fields.h"

namespace tl::host {

namespace {

constexpr std::string_view kGuest = "TLAUNCH-GUEST: ";
constexpr std::string_view kBootFailed = "TLAUNCH-BOOT-FAILED";

// The refusals of each Secure Boot stage (docs/host.md).
constexpr std::string_view kRefusals[] = {
    "error: bad shim signature",                     // grub: unsigned kernel
    "Verification failed: (0x1A) Security Violation",  // shim: unsigned grub
    "Access Denied",                                 // OVMF: unsigned shim
};

std::string word_after(std::string_view s, std::string_view key) {
  const auto at = s.find(key);
  if (at == std::string_view::npos) return {};
  auto v = s.substr(at + key.size());
  const auto end = v.find(' ');
  return printable(v.substr(0, end), 128);
}

}  // namespace

std::optional<Marker> parse_console_line(std::string_view line, bool before_guest) {
  while (!line.empty() && (line.back() == '\r' || line.back() == '\n')) line.remove_suffix(1);
  // grub prints this before the kernel runs; once the guest spoke, the same
  // text is only something a guest program printed (never a refusal).
  if (const auto at = line.find(kBootFailed); at != std::string_view::npos && before_guest) {
    return Marker{MarkerKind::kBootRefused, printable(line.substr(at)), {}, {}, {}};
  }
  if (const auto at = line.find(kGuest); at != std::string_view::npos) {
    const std::string_view rest = line.substr(at + kGuest.size());
    Marker m{MarkerKind::kOtherGuest, printable(line.substr(at)), {}, {}, {}};
    auto starts = [&](std::string_view p) { return rest.substr(0, p.size()) == p; };
    if (starts("ready")) {
      m.kind = MarkerKind::kReady;
      m.kernel = word_after(rest, "kernel=");
      m.secure_boot = word_after(rest, "secureboot=");
      if (m.secure_boot != "0" && m.secure_boot != "1") m.secure_boot = "unknown";
    } else if (rest == "no-tpm") {
      m.kind = MarkerKind::kNoTpm;
    } else if (rest == "no-config") {
      m.kind = MarkerKind::kNoConfig;
    } else if (rest == "attest-ok") {
      m.kind = MarkerKind::kAttestOk;
    } else if (starts("attest-failed")) {
      m.kind = MarkerKind::kAttestFailed;
    } else if (starts("key-released ")) {
      m.kind = MarkerKind::kKeyReleased;
      m.key = word_after(rest, "key-released ");
    } else if (starts("key-release-failed ")) {
      m.kind = MarkerKind::kKeyReleaseFailed;
      std::string k = word_after(rest, "key-release-failed ");
      if (!k.empty() && k.back() == ':') k.pop_back();
      m.key = k;
    }
    return m;
  }
  if (before_guest) {
    for (auto r : kRefusals) {
      if (const auto at = line.find(r); at != std::string_view::npos) {
        // Keep the whole line: OVMF's names the boot option that was refused.
        return Marker{MarkerKind::kBootRefused, printable(line), {}, {}, {}};
      }
    }
  }
  return std::nullopt;
}

std::vector<Marker> ConsoleScanner::take_line() {
  std::vector<Marker> out;
  if (auto m = parse_console_line(line_, !guest_seen_)) {
    if (m->kind != MarkerKind::kBootRefused) guest_seen_ = true;
    out.push_back(std::move(*m));
  }
  line_.clear();
  return out;
}

std::vector<Marker> ConsoleScanner::feed(std::string_view bytes) {
  std::vector<Marker> out;
  for (char c : bytes) {
    if (c == '\n' || line_.size() >= kMaxLine) {
      for (auto& m : take_line()) out.push_back(std::move(m));
      if (c == '\n') continue;
    }
    line_.push_back(c);
  }
  return out;
}

}  // namespace tl::host
