// Facts a verifier wants from a TCG event log: Secure Boot state and keys, the
// boot applications, the Linux boot (command line, kernel), and problems found
// by the hardening checks (eventlog/checks.h).
//
// Two entry points, one struct: inspect_facts(ParsedLog) is for display only;
// facts(VerifiedLog) returns VerifiedBootFacts, a type only that function can
// make, so trust decisions cannot be fed facts from an unverified log.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "crypto/digest.h"
#include "eventlog/event.h"
#include "eventlog/parsed_log.h"

namespace tl::eventlog {

class VerifiedLog;

// Where a fact came from.
struct EventRef {
  uint32_t index = 0;  // event index in the file (0 = header event)
  size_t offset = 0;   // byte offset of the event in the file
  uint32_t pcr = 0;
};

// A finding of the hardening checks or of fact extraction.
struct Problem {
  uint32_t event = 0;
  size_t offset = 0;
  uint32_t pcr = 0;
  std::string message;
};

enum class SecureBootState {
  absent,     // no SecureBoot variable measured on PCR 7 before the separator
  enabled,    // data is the single byte 1
  disabled,   // data is the single byte 0 (or empty: the variable does not exist)
  malformed,  // measured, but not decodable or not 0/1
};
const char* secure_boot_state_name(SecureBootState s);  // "enabled", …

// One EFI_SIGNATURE_DATA entry of a signature database (or an authority).
struct SignatureEntry {
  std::string type;   // "x509", "sha256", … or the SignatureType GUID when unknown
  std::string owner;  // SignatureOwner GUID
  // x509 only (empty if the certificate does not parse; see `error`):
  std::string subject, issuer, sha256_fingerprint;
  // hash types: the hash, lower-case hex; other types: the data, hex.
  std::string hex;
  std::string error;  // why the entry could not be decoded, else empty
};

struct SignatureDatabase {
  std::optional<EventRef> event;  // where it was measured; nullopt = not measured
  std::vector<SignatureEntry> entries;
  std::string error;  // the EFI_SIGNATURE_LIST decode error, else empty
};

// An EV_EFI_VARIABLE_AUTHORITY event: the db entry (or shim's vendor cert /
// MokList entry, or SbatLevel) that authorised loading an image.
struct Authority {
  EventRef event;
  std::string variable;  // UnicodeName: "db", "Shim", "MokListRT", "SbatLevel" …
  std::string vendor;    // VariableName GUID
  bool after_separator = false;
  std::optional<SignatureEntry> signature;  // when the data is a certificate
  std::string text;  // SbatLevel: the CSV text
};

// Shim's measurements of its MOK variables on PCR 14 (EV_IPL, data = the name;
// the digest is over the variable contents, which are not in the log).
struct ShimVariable {
  EventRef event;
  std::string name;  // "MokList", "MokListX", "MokListTrusted", "MokSBState" …
  std::map<crypto::HashAlg, std::string> digests;
};

struct SecureBootFacts {
  SecureBootState state = SecureBootState::absent;
  std::optional<EventRef> secure_boot_event;
  SignatureDatabase pk, kek, db, dbx;
  std::vector<Authority> authorities;
  std::optional<std::string> sbat_level;  // from the SbatLevel authority event
  std::vector<ShimVariable> shim_variables;
  bool debug_mode = false;  // "UEFI Debug Mode" EV_EFI_ACTION on PCR 7
};

struct BootApplication {
  EventRef event;
  std::map<crypto::HashAlg, std::string> digests;  // lower-case hex per bank
  std::string device_path;  // UEFI text form; empty when the event has none
  uint64_t image_length = 0;
  std::string error;  // UEFI_IMAGE_LOAD_EVENT or device path decode error
};

struct LinuxBootFacts {
  // Which boot loader measured the Linux boot: "grub", "systemd-boot" or empty.
  std::string loader;
  std::optional<std::string> kernel_cmdline;  // exactly as measured, no trailing NUL
  std::optional<std::string> kernel_path;
  std::optional<std::string> initrd_path;
  // From a kernel file name "vmlinuz-<version>" (or vmlinux-, bzImage-, kernel-).
  std::optional<std::string> kernel_version;
  std::vector<std::string> grub_commands;  // "grub_cmd: " strings, prefix removed
  std::vector<std::string> grub_files;     // PCR 9 file paths GRUB read
  bool initrd_measured_by_kernel = false;  // EV_EVENT_TAG "Linux initrd" on PCR 9
};

struct BootFacts {
  SecureBootFacts secure_boot;
  std::vector<BootApplication> boot_applications;  // PCR 4 EV_EFI_BOOT_SERVICES_APPLICATION
  LinuxBootFacts linux_boot;
  std::vector<Problem> problems;  // hardening checks + decode failures, in log order
};

// Display path: facts of an unverified log (for `tlaunch eventlog inspect`).
BootFacts inspect_facts(const ParsedLog& log);

// Facts of a verified log: only the events whose PCRs the quote covers and
// whose data their verified digests cover (eventlog/checks.h data_is_measured).
// An event whose data was forged or retyped yields no fact; it stays visible
// as a problem, since the checks still run over every verified event.
class VerifiedBootFacts {
 public:
  const BootFacts& get() const { return facts_; }
  const BootFacts* operator->() const { return &facts_; }

 private:
  explicit VerifiedBootFacts(BootFacts f) : facts_(std::move(f)) {}
  friend VerifiedBootFacts facts(const VerifiedLog& log);
  BootFacts facts_;
};

VerifiedBootFacts facts(const VerifiedLog& log);

namespace detail {
// The extraction both entry points share, over events in log order; `format`
// only serves to compute byte offsets for messages. No hardening checks.
BootFacts extract_facts(std::span<const Event> events, LogFormat format);
// Appends check_events(events) to f.problems, keeping log order.
void add_check_problems(std::span<const Event> events, BootFacts& f);
}  // namespace detail

}  // namespace tl::eventlog
