// Baseline variants: from a reference log the operator vouches for, or
// learned from a verified attestation.
#include <string>

#include "eventlog/parsed_log.h"
#include "eventlog/replay.h"
#include "policy/baseline_internal.h"

namespace tl::policy {

namespace {

constexpr const char* kInvalid = "baseline-invalid";
constexpr const char* kMalformed = "eventlog-malformed";

}  // namespace

namespace detail {

Status check_pcr_list(const std::vector<uint32_t>& pcrs) {
  if (pcrs.empty()) return Error{"a baseline needs at least one PCR", kInvalid};
  for (size_t i = 0; i < pcrs.size(); ++i) {
    if (pcrs[i] > 23) return Error{"PCR " + std::to_string(pcrs[i]) + " is out of range (0..23)", kInvalid};
    if (i > 0 && pcrs[i] <= pcrs[i - 1])
      return Error{"PCRs must be ascending without repeats (PCR " + std::to_string(pcrs[i]) + " after " +
                       std::to_string(pcrs[i - 1]) + ")",
                   kInvalid};
  }
  return {};
}

Status check_variant_name(std::string_view name) {
  if (name.empty() || name.size() > 64)
    return Error{"variant name must be 1 to 64 characters, got " + std::to_string(name.size()), kInvalid};
  for (size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
                    c == '_' || c == '-';
    if (!ok) return Error{"variant name: character " + std::to_string(i) + " is not one of [A-Za-z0-9._-]", kInvalid};
  }
  return {};
}

}  // namespace detail

Result<BaselineVariant> variant_from_eventlog(ByteView log, std::string name, const std::vector<uint32_t>& pcrs,
                                              int64_t now) {
  if (auto s = detail::check_pcr_list(pcrs); !s) return s.take_error();
  if (auto s = detail::check_variant_name(name); !s) return s.take_error();
  auto parsed = eventlog::ParsedLog::parse(Bytes(log.begin(), log.end()));
  if (!parsed) return with_reason(kMalformed, with_context("event log", parsed.take_error()));
  const auto& banks = parsed->banks();
  if (std::find(banks.begin(), banks.end(), crypto::HashAlg::sha256) == banks.end())
    return Error{"the event log has no SHA-256 bank: baselines are SHA-256", kInvalid};
  auto replayed = eventlog::replay(*parsed);
  if (!replayed) return with_reason(kMalformed, with_context("replaying the event log", replayed.take_error()));
  static const tpm::PcrMap kNone;
  const auto bank = replayed->find(crypto::HashAlg::sha256);
  const tpm::PcrMap& values = bank == replayed->end() ? kNone : bank->second;

  BaselineVariant v;
  v.name = std::move(name);
  v.source = "eventlog";
  v.created_at = now;
  for (uint32_t pcr : pcrs) {
    // replay() reports PCR 0 for a StartupLocality event alone; that is not a measurement.
    const bool extended = std::any_of(parsed->events().begin(), parsed->events().end(), [&](const eventlog::Event& e) {
      return e.pcr == pcr && e.type != eventlog::EV_NO_ACTION;
    });
    const auto it = values.find(pcr);
    if (!extended || it == values.end())
      return Error{"PCR " + std::to_string(pcr) +
                       " is not extended by the event log: a baseline over it would hold only its initial value",
                   kInvalid};
    v.pcr_values.emplace(pcr, to_hex(it->second));
  }
  v.measurements = detail::measurements_of(parsed->events(), pcrs);
  return v;
}

Result<BaselineVariant> variant_from_verified(const VerifiedMeasurements& m, std::string name,
                                              const std::vector<uint32_t>& pcrs, int64_t now) {
  if (auto s = detail::check_pcr_list(pcrs); !s) return s.take_error();
  if (auto s = detail::check_variant_name(name); !s) return s.take_error();
  BaselineVariant v;
  v.name = std::move(name);
  // The caller knows the VM and appends it ("learned:<vm id>").
  v.source = "learned";
  v.created_at = now;
  for (uint32_t pcr : pcrs) {
    const auto it = m.pcrs().find(pcr);
    if (it == m.pcrs().end())
      return Error{"PCR " + std::to_string(pcr) + " is not covered by the verified SHA-256 quote and log", kInvalid};
    v.pcr_values.emplace(pcr, it->second);
  }
  for (const Measurement& x : m.events())
    if (detail::contains_pcr(pcrs, x.pcr)) v.measurements.push_back(x);
  return v;
}

}  // namespace tl::policy
