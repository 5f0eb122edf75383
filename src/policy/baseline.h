// Trusted baselines (reference values) for boot integrity: what a group of VMs
// (an image / node pool) must measure, and the comparison of a verified boot
// against it (docs/baselines.md, docs/fleet-api.md "Baseline").
//
// Two inputs, two types: VerifiedMeasurements come only from an event log a
// quote verified (eventlog::VerifiedLog) and are what compare() judges;
// reference logs the operator vouches for (`tlaunch baseline create
// --from-eventlog`) become baseline variants and are never judged.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/hex.h"
#include "common/result.h"

namespace tl::eventlog {
class VerifiedLog;
}

namespace tl::policy {

// PCRs a baseline covers unless told otherwise: firmware and S-CRTM (0),
// option ROMs (2), boot applications (4), Secure Boot variables and
// authorities (7), GRUB's command line and files (8, 9). PCR 1 is left out:
// it carries per-VM data (SMBIOS, boot variables).
std::vector<uint32_t> default_baseline_pcrs();

// One measured boot component (SHA-256 bank).
struct Measurement {
  uint32_t pcr = 0;
  uint32_t event = 0;       // index of the event in its log (0 = header)
  std::string event_type;   // "EV_EFI_BOOT_SERVICES_APPLICATION", …
  // What was measured, for people: the device path of a boot application, the
  // variable name ("SecureBoot", "PK", "db", "MokListRT: <cert subject>" …),
  // "firmware blob base 0x… length 0x…", "S-CRTM version", the text of an
  // EV_IPL / EV_EFI_ACTION, … (docs/baselines.md "Components"). Printable
  // UTF-8, at most 200 characters plus "…".
  std::string component;
  std::string sha256;       // lower-case hex digest

  friend bool operator==(const Measurement&, const Measurement&) = default;
};

// Measurements of a log whose replay matched a verified quote: only
// measure(VerifiedLog) makes one.
class VerifiedMeasurements {
 public:
  // Measured events on covered PCRs that have a SHA-256 digest, in log order.
  const std::vector<Measurement>& events() const { return events_; }
  // Quoted SHA-256 value (hex) of each covered PCR.
  const std::map<uint32_t, std::string>& pcrs() const { return pcrs_; }

 private:
  VerifiedMeasurements() = default;
  friend VerifiedMeasurements measure(const eventlog::VerifiedLog& log);
  std::vector<Measurement> events_;
  std::map<uint32_t, std::string> pcrs_;
};

VerifiedMeasurements measure(const eventlog::VerifiedLog& log);

struct BaselineVariant {
  std::string name;    // [A-Za-z0-9._-]{1,64}
  std::string source;  // "eventlog" | "learned:<vm id>"
  int64_t created_at = 0;
  std::map<uint32_t, std::string> pcr_values;  // baseline PCR → SHA-256 hex
  std::vector<Measurement> measurements;       // events on the baseline PCRs, log order
};

// One immutable version of a group's baseline.
struct Baseline {
  std::string group;
  int version = 0;  // 1, 2, … per group
  int64_t created_at = 0;
  std::vector<uint32_t> pcrs;  // ascending, each 0..23
  std::vector<BaselineVariant> variants;  // at least one
};

// A variant from a reference log file: parsed, SHA-256 bank required, replayed;
// every baseline PCR must be extended by the log (else an error naming it).
// Errors (reason "eventlog-malformed" or "baseline-invalid") say what and where.
Result<BaselineVariant> variant_from_eventlog(ByteView log, std::string name, const std::vector<uint32_t>& pcrs,
                                              int64_t now);
// A variant learned from a verified attestation (every baseline PCR must be
// covered). Its source is "learned"; the caller appends ":<vm id>".
Result<BaselineVariant> variant_from_verified(const VerifiedMeasurements& m, std::string name,
                                              const std::vector<uint32_t>& pcrs, int64_t now);

// How a verified boot differs from the closest variant.
struct Deviation {
  // "digest-mismatch" (same place, other digest), "missing" (the baseline has
  // an event the boot lacks), "unexpected" (the boot has an extra event),
  // "pcr-mismatch" (values differ though the events agree: should not happen
  // for a verified log), "pcr-not-covered" (the quote/log do not vouch for it).
  std::string kind;
  uint32_t pcr = 0;
  std::optional<uint32_t> event;  // index in the VM's log (absent for "missing", PCR-level kinds)
  std::string event_type;
  std::string component;
  std::string expected;  // SHA-256 hex, "" when none
  std::string actual;    // SHA-256 hex, "" when none
  // "PCR 4 event 23 EV_EFI_BOOT_SERVICES_APPLICATION PciRoot(0x0)/…\BOOTX64.EFI:
  //  expected sha256 80a6…, got 1f2e…"
  std::string message() const;
};

struct BaselineMatch {
  bool matched = false;
  std::string variant;  // the matching variant, or the closest one
  std::vector<Deviation> deviations;  // empty when matched; at most 32
};

// A boot matches when, for some variant, every baseline PCR is covered and its
// quoted SHA-256 value equals the variant's. Else deviations against the
// variant with the fewest mismatching PCRs (ties: the first), PCR by PCR, event
// by event in order.
BaselineMatch compare(const VerifiedMeasurements& m, const Baseline& b);

// JSON (docs/fleet-api.md "Baseline"). from_json is strict (unknown members,
// wrong types, bad hex, PCRs out of range, no variants are refused with the
// JSON path); it reads what the store wrote and what operators send.
nlohmann::json to_json(const Baseline& b);
nlohmann::json to_json(const Deviation& d);
Result<Baseline> baseline_from_json(const nlohmann::json& j);

}  // namespace tl::policy
