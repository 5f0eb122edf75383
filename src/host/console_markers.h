// What the serial console says about a boot: the guest image's marker lines
// (TLAUNCH-GUEST: …) and Secure Boot refusals by OVMF, shim or grub. The
// console is written by the guest, so every line is untrusted text: the
// parser only classifies, and what it keeps is printable and bounded.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tl::host {

enum class MarkerKind {
  kReady,             // TLAUNCH-GUEST: ready kernel=K secureboot=0|1|unknown
  kNoTpm,             // TLAUNCH-GUEST: no-tpm
  kNoConfig,          // TLAUNCH-GUEST: no-config
  kAttestOk,          // TLAUNCH-GUEST: attest-ok
  kAttestFailed,      // TLAUNCH-GUEST: attest-failed: …
  kKeyReleased,       // TLAUNCH-GUEST: key-released NAME bytes=N sha256=HEX
  kKeyReleaseFailed,  // TLAUNCH-GUEST: key-release-failed NAME: …
  kOtherGuest,        // another TLAUNCH-GUEST: line (a newer image)
  kBootRefused,       // Secure Boot refused the chain, or TLAUNCH-BOOT-FAILED
};

struct Marker {
  MarkerKind kind;
  std::string line;    // the console line from the marker on, printable, ≤ 512 bytes
  std::string kernel;  // kReady
  std::string secure_boot;  // kReady: "0", "1" or "unknown"
  std::string key;     // kKeyReleased / kKeyReleaseFailed
};

// One console line (without its newline). Firmware refusal patterns and the
// image's TLAUNCH-BOOT-FAILED line count only while `before_guest` (no guest
// marker seen yet): a running guest's own messages are not its firmware's.
std::optional<Marker> parse_console_line(std::string_view line, bool before_guest);

// Splits a growing console into lines; a line longer than kMaxLine is cut
// there (the rest starts a new line) so a guest cannot grow our memory.
class ConsoleScanner {
 public:
  static constexpr size_t kMaxLine = 4096;
  std::vector<Marker> feed(std::string_view bytes);
  bool guest_seen() const { return guest_seen_; }

 private:
  std::vector<Marker> take_line();
  std::string line_;
  bool guest_seen_ = false;
};

}  // namespace tl::host
