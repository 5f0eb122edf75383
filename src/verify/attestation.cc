#include "verify/attestation.h"

#include <algorithm>
#include <cstdio>
#include <set>
#include <utility>

#include "eventlog/event.h"
#include "eventlog/parsed_log.h"
#include "eventlog/replay.h"
#include "eventlog/verified_log.h"
#include "tpm/quote.h"
#include "verify/pipeline_internal.h"
#include "verify/reasons.h"

namespace tl::verify {

// The one place a VerifiedAttestation is made (a friend of the class).
struct AttestationBuilder {
  static VerifiedAttestation build(std::string vm_id, tpm::VerifiedQuote quote,
                                   eventlog::VerifiedBootFacts facts,
                                   std::optional<VerifiedRuntimeKey> runtime_key, nlohmann::json claims,
                                   policy::VerifiedMeasurements measurements,
                                   std::optional<policy::BaselineMatch> baseline_match, SelfReported self_reported) {
    VerifiedAttestation a;
    a.vm_id_ = std::move(vm_id);
    a.quote_.emplace(std::move(quote));
    a.facts_.emplace(std::move(facts));
    a.runtime_key_ = std::move(runtime_key);
    a.claims_ = std::move(claims);
    a.measurements_.emplace(std::move(measurements));
    a.baseline_match_ = std::move(baseline_match);
    a.self_reported_ = std::move(self_reported);
    return a;
  }
};

namespace {

std::string bank_name(crypto::HashAlg b) { return std::string(crypto::hash_name(b)); }

bool contains(const std::vector<crypto::HashAlg>& v, crypto::HashAlg b) {
  return std::find(v.begin(), v.end(), b) != v.end();
}

// Step 1: the evidence is about the enrolled VM and its enrolled AK, and that AK
// can only have signed TPM-generated structures.
Result<tpm::PublicArea> check_identity(const Evidence& ev, const EnrolledIdentity& id) {
  if (ev.vm_id != id.vm_id) {
    return Error{"evidence vmId \"" + ev.vm_id + "\" is not the enrolled VM \"" + id.vm_id + "\"",
                 reason::kVmIdMismatch};
  }
  auto ak = tpm::parse_public_area(id.ak_public);
  if (!ak) return Error{"enrolled AK public area: " + ak.error().message, reason::kAkMalformed};
  if (ev.ak_public && *ev.ak_public != ak->marshaled) {
    return Error{"akPublic (" + std::to_string(ev.ak_public->size()) +
                     " bytes) is not the AK enrolled for this VM: the evidence comes from another TPM "
                     "or another key",
                 reason::kAkMismatch};
  }
  const tpm::ObjectAttributes& a = ak->attributes;
  if (!a.restricted || !a.sign || a.decrypt) {
    return Error{"enrolled AK is not a restricted signing key (restricted=" + std::to_string(a.restricted) +
                     " sign=" + std::to_string(a.sign) + " decrypt=" + std::to_string(a.decrypt) +
                     "): an unrestricted key signs any data, so its quotes prove nothing",
                 reason::kAkNotRestrictedSigning};
  }
  std::string missing;
  if (!a.fixed_tpm) missing += " fixedTPM";
  if (!a.fixed_parent) missing += " fixedParent";
  if (!a.sensitive_data_origin) missing += " sensitiveDataOrigin";
  if (!missing.empty()) {
    return Error{"enrolled AK lacks" + missing + ": its private key may exist outside the TPM",
                 reason::kAkAttributes};
  }
  return std::move(*ak);
}

// Step 2: which banks the evidence carries.
Status check_banks(const Evidence& ev, const AppraisalPolicy& policy) {
  for (crypto::HashAlg b : policy.required_banks) {
    if (!ev.pcrs.contains(b)) {
      std::string present;
      for (const auto& [bank, values] : ev.pcrs) present += (present.empty() ? "" : ", ") + bank_name(bank);
      return Error{"the " + bank_name(b) + " PCR bank is required but the evidence carries only " +
                       (present.empty() ? std::string("none") : present),
                   bank_name(b) + "-bank-required"};
    }
  }
  for (const auto& [bank, values] : ev.pcrs) {
    if (!contains(policy.allowed_banks, bank) && !contains(policy.required_banks, bank)) {
      return Error{"pcrs." + bank_name(bank) + ": the " + bank_name(bank) + " bank is not allowed by the policy",
                   reason::kBankNotAllowed};
    }
  }
  return {};
}

// Step 4a: every PCR the log extends must be one the quote vouches for, in a bank
// both carry. An event on an unquoted PCR could feed facts (a PCR 12 command
// line, a PCR 14 MOK state) that nothing verified, so it is refused outright.
Status check_log_pcrs_quoted(const eventlog::ParsedLog& log, const tpm::VerifiedQuote& quote,
                             std::vector<crypto::HashAlg>& shared) {
  for (crypto::HashAlg b : log.banks()) {
    const auto it = quote.pcrs().find(b);
    if (it != quote.pcrs().end() && !it->second.empty()) shared.push_back(b);
  }
  if (shared.empty()) {
    std::string banks;
    for (crypto::HashAlg b : log.banks()) banks += (banks.empty() ? "" : ", ") + bank_name(b);
    return Error{"the quote covers no bank the event log carries (log: " + banks + ")",
                 reason::kEventlogBankMismatch};
  }
  for (const eventlog::Event& e : log.events()) {
    if (e.type == eventlog::EV_NO_ACTION) continue;
    bool quoted = false;
    for (crypto::HashAlg b : shared) quoted = quoted || quote.pcrs().at(b).contains(e.pcr);
    if (!quoted) {
      return Error{"event " + std::to_string(e.index) + " (" + eventlog::event_type_name(e.type) +
                       ") extends PCR " + std::to_string(e.pcr) +
                       ", which the quote does not cover: nothing vouches for it",
                   reason::kEventlogUnquotedPcr};
    }
  }
  return {};
}

// Step 4b: the replay of every shared bank equals the quoted values.
Status check_replay(const eventlog::ParsedLog& log, const tpm::VerifiedQuote& quote,
                    const std::vector<crypto::HashAlg>& shared) {
  auto replayed = eventlog::replay(log);
  if (!replayed) return Error{"replaying the event log: " + replayed.error().message, reason::kInternal};
  for (crypto::HashAlg b : shared) {
    const auto rit = replayed->find(b);
    for (const auto& [pcr, quoted] : quote.pcrs().at(b)) {
      if (rit == replayed->end()) break;
      const auto r = rit->second.find(pcr);
      if (r == rit->second.end()) continue;  // not extended by the log (verify_log decides)
      if (r->second != quoted) {
        return Error{"bank " + bank_name(b) + " PCR " + std::to_string(pcr) + ": quoted " + to_hex(quoted) +
                         " but the event log replays to " + to_hex(r->second) +
                         ": the log is not the one that was measured",
                     reason::kEventlogReplayMismatch};
      }
    }
  }
  return {};
}

// Step 5a: every hardening-check problem on a verified event is fatal, except
// "UEFI Debug Mode", which is reported as x-ms-azurevm-bootdebug-enabled.
Status check_problems(const eventlog::BootFacts& f) {
  for (const eventlog::Problem& p : f.problems) {
    if (p.message.rfind("UEFI Debug Mode", 0) == 0) continue;
    char off[32];
    std::snprintf(off, sizeof off, "0x%zx", p.offset);
    return Error{"event " + std::to_string(p.event) + " (PCR " + std::to_string(p.pcr) + ", offset " + off +
                     "): " + p.message,
                 reason::kEventlogCheckFailed};
  }
  return {};
}

}  // namespace

Result<VerifiedAttestation> verify_attestation(const Evidence& evidence, const EnrolledIdentity& identity,
                                               ByteView expected_nonce, const AppraisalPolicy& policy) {
  auto ak = check_identity(evidence, identity);
  if (!ak) return ak.take_error();
  auto ak_key = ak->public_key();
  if (!ak_key) return Error{"enrolled AK public area: " + ak_key.error().message, reason::kAkMalformed};

  if (auto s = check_banks(evidence, policy); !s) return s.take_error();

  std::vector<tpm::PcrRequirement> required;
  if (!policy.required_pcrs.empty()) {
    for (crypto::HashAlg b : policy.required_banks) required.push_back({b, policy.required_pcrs});
  }
  auto quote = tpm::verify_quote(*ak, evidence.quote_attest, evidence.quote_signature, evidence.pcrs,
                                 expected_nonce, required);
  if (!quote) return with_reason("quote-malformed", quote.take_error());
  // The quote is bound to expected_nonce; a different "nonce" member is a confused agent.
  if (!std::equal(evidence.nonce.begin(), evidence.nonce.end(), expected_nonce.begin(), expected_nonce.end())) {
    return Error{"evidence nonce " + to_hex(evidence.nonce) + " is not the expected challenge " +
                     to_hex(expected_nonce) + " (the quote itself was made for the expected one)",
                 reason::kEvidenceNonceMismatch};
  }

  auto parsed = eventlog::ParsedLog::parse(evidence.event_log);
  if (!parsed) return Error{"eventLog: " + parsed.error().message, reason::kEventlogMalformed};
  std::vector<crypto::HashAlg> shared;
  if (auto s = check_log_pcrs_quoted(*parsed, *quote, shared); !s) return s.take_error();
  if (auto s = check_replay(*parsed, *quote, shared); !s) return s.take_error();
  auto vlog = eventlog::verify_log(std::move(*parsed), *quote);
  if (!vlog) return with_reason(reason::kEventlogReplayMismatch, vlog.take_error());

  eventlog::VerifiedBootFacts facts = eventlog::facts(*vlog);
  if (auto s = check_problems(facts.get()); !s) return s.take_error();

  // Boot integrity (docs/baselines.md): a deviation is reported, not a
  // rejection; the fleet monitor decides what it means for the VM's health.
  policy::VerifiedMeasurements measurements = policy::measure(*vlog);
  std::optional<policy::BaselineMatch> baseline_match;
  if (policy.baseline) baseline_match = policy::compare(measurements, *policy.baseline);

  std::optional<VerifiedRuntimeKey> runtime_key;
  if (evidence.runtime_key) {
    auto rk = detail::verify_runtime_key(*evidence.runtime_key, *ak, *ak_key, expected_nonce, *quote);
    if (!rk) return rk.take_error();
    runtime_key.emplace(std::move(*rk));
  } else if (policy.require_runtime_key) {
    return Error{"runtimeKey is missing and the policy requires a TPM-resident runtime key",
                 reason::kRuntimeKeyMissing};
  }

  nlohmann::json claims = detail::make_claims(detail::ClaimInputs{
      identity, *quote, facts, runtime_key, policy.secure_boot, evidence.os, evidence.client_payload,
      &evidence.kernel_modules});
  return AttestationBuilder::build(identity.vm_id, std::move(*quote), std::move(facts), std::move(runtime_key),
                                   std::move(claims), std::move(measurements), std::move(baseline_match),
                                   SelfReported{evidence.os, evidence.kernel_modules});
}

}  // namespace tl::verify
