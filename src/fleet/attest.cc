// Outcomes of attestations: a verified attestation sets the VM's status,
// learns a baseline when asked, opens and resolves alerts; a rejection does
// what its reason allows (status_rules.cc classify_rejection).
#include <algorithm>
#include <cctype>

#include "fleet/internal.h"
#include "verify/attestation.h"

namespace tl::fleet {

using namespace detail;

namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const std::string& s : v) out += (out.empty() ? "" : ", ") + s;
  return out;
}

// "unsigned: a, b; rejected: c; IMA appraisal failed: d" ("" when clean).
std::string module_detail(const verify::KernelModuleReport& m) {
  std::string out;
  auto add = [&](const char* label, const std::vector<std::string>& names) {
    if (names.empty()) return;
    out += (out.empty() ? "" : "; ") + std::string(label) + ": " + join(names);
  };
  add("loaded unsigned or badly signed", m.unsigned_modules);
  add("refused by the kernel", m.rejected_modules);
  add("IMA appraisal failed", m.ima_failures);
  return out;
}

// Learning makes one boot the reference for the whole group, so only a boot
// whose trust is established may become it: Secure Boot on in the attested
// boot, and a vTPM whose EK certificate validated and is the VM's bound EK
// (what attestationCertValidated "Valid" means).
bool learnable(const VerifiedFacts& f) {
  return f.secure_boot == "enabled" && f.ek_certificate_validated && f.ek_matches_binding;
}
std::string learnable_why(const VerifiedFacts& f) {
  if (!f.ek_certificate_validated) return "the VM's EK certificate does not chain to a configured CA";
  if (!f.ek_matches_binding) return "the attestation came from another EK than the one the VM is bound to";
  return "Secure Boot is not enabled in the attested boot (" + f.secure_boot + ")";
}

Result<Vm> finish(store::Database& db, VmRow row) {
  TL_FLEET_TRY(load_vm_extras(db, row.vm));
  return std::move(row.vm);
}

}  // namespace

Result<std::optional<Vm>> Fleet::record_verified(const verify::VerifiedAttestation& att, const std::string& ek_name_hex,
                                                 bool ek_certificate_validated, int64_t now) {
  std::lock_guard write(impl_->write_mu);
  auto db = impl_->lease();
  auto run = [&]() -> Result<std::optional<Vm>> {
    TL_FLEET_ASSIGN(txn, store::Transaction::begin(*db));
    TL_FLEET_ASSIGN(found, load_vm(*db, "vm_id", att.vm_id()));
    if (!found) return std::optional<Vm>{};
    VmRow row = std::move(*found);
    Vm& vm = row.vm;
    const std::string& group = vm.spec.group;

    // EK binding: trust on first verified attestation; afterwards only that TPM.
    const std::string ek = lower(ek_name_hex);
    bool ek_matches = true;
    if (!vm.ek_name) {
      vm.ek_name = ek;
    } else {
      ek_matches = *vm.ek_name == ek;
    }

    VerifiedFacts f;
    f.secure_boot = eventlog::secure_boot_state_name(att.facts()->secure_boot.state);
    f.ek_certificate_validated = ek_certificate_validated;
    f.ek_matches_binding = ek_matches;
    f.group = group;
    f.os_type = att.self_reported().os.type;
    f.verified_kernel_version = att.facts()->linux_boot.kernel_version;
    f.reported_kernel_release = att.self_reported().os.kernel_release;

    // The comparison the verifier made, else one made here: the service may
    // have fetched the baseline before a new one was stored, or passed none.
    std::optional<policy::BaselineMatch> match = att.baseline_match();
    std::string learning_error;
    if (!match) {
      TL_FLEET_ASSIGN(current, load_baseline(*db, group, std::nullopt));
      if (!current) {
        TL_FLEET_ASSIGN(learn, learning_on(*db, group));
        if (learn && !learnable(f)) {
          // A first baseline learned from an untrusted boot would make that
          // boot the reference for the whole group: wait for a trusted one.
          learning_error = "learning is on for group " + group + " but this attestation was not learned from: " +
                           learnable_why(f) + "; learning stays on until an attestation qualifies";
        } else if (learn) {
          // The group's first baseline is this boot (docs/fleet.md "Learning").
          const std::vector<uint32_t> pcrs = policy::default_baseline_pcrs();
          auto variant = policy::variant_from_verified(att.measurements(), "learned", pcrs, now);
          if (!variant) {
            learning_error = "learning a baseline for group " + group + " from this VM failed: " +
                             variant.error().message;
          } else {
            variant->source = "learned:" + vm.spec.vm_id;
            std::vector<policy::BaselineVariant> variants;
            variants.push_back(std::move(*variant));
            auto b = insert_baseline(*db, group, std::move(variants), pcrs, now);
            if (!b && b.error().reason != "baseline-invalid") return b.take_error();  // the database failed
            if (!b) {
              // This boot cannot be stored as a baseline (e.g. beyond the
              // reader's limits): say so and keep learning on.
              learning_error = "learning a baseline for group " + group + " from this VM failed: " +
                               b.error().message;
            } else {
              TL_FLEET_TRY(put_learning(*db, group, false));
              current = std::move(*b);
            }
          }
        }
      }
      if (current) match = policy::compare(att.measurements(), *current);
    }
    if (match) {
      f.baseline_matched = match->matched;
      if (!match->matched && !match->deviations.empty()) f.first_deviation = match->deviations.front().message();
      if (!match->matched && match->deviations.empty()) f.first_deviation = "no variant of the baseline matches";
    }

    AttestationStatus status = status_from_verified(f, vm.spec.profile, now);
    if (!learning_error.empty() && status.boot_integrity_validated == "Unknown") status.error_message = learning_error;
    vm.status = status;
    vm.last_report_at = now;
    // The VM's TPM just answered a fresh challenge: it runs, whatever a host
    // report or PATCH said before, and the staleness sweep watches it again.
    vm.spec.power_state = PowerState::running;
    row.fresh_since = fresh_since_for(vm);

    // Alerts.
    if (match && !match->matched) {
      AlertInput a{kAttestationFailed, vm.spec.name, group, *status.error_message, match->deviations};
      if (match->deviations.size() > 1) {
        a.detail += " (and " + std::to_string(match->deviations.size() - 1) + " more deviations)";
      }
      TL_FLEET_TRY(raise_alert(*db, a, now));
    }
    if (!ek_matches) {
      TL_FLEET_TRY(raise_alert(*db,
                               AlertInput{kQuoteNotFromVtpm, vm.spec.name, group,
                                          "verified attestation from EK " + ek + ", but the VM is bound to EK " +
                                              *vm.ek_name,
                                          {}},
                               now));
    }
    if (status.health == Health::healthy) {
      TL_FLEET_TRY(resolve_alert(*db, vm.spec.name, kAttestationFailed, now));
      TL_FLEET_TRY(resolve_alert(*db, vm.spec.name, kQuoteNotFromVtpm, now));
      // A refused boot chain is over only when the VM booted a trusted one:
      // a boot that got through with Secure Boot off does not close it.
      TL_FLEET_TRY(resolve_alert(*db, vm.spec.name, kBootRefused, now));
    }
    // Any verified report means the VM is reporting again, so it (and the
    // vTPM that signed the quote) runs again after a crash.
    TL_FLEET_TRY(resolve_alert(*db, vm.spec.name, kAttestationStale, now));
    TL_FLEET_TRY(resolve_alert(*db, vm.spec.name, kVmCrashed, now));
    TL_FLEET_TRY(resolve_alert(*db, vm.spec.name, kVtpmCrashed, now));

    const verify::KernelModuleReport& modules = att.self_reported().kernel_modules;
    const std::string bad_modules = module_detail(modules);
    if (!bad_modules.empty()) {
      TL_FLEET_TRY(raise_alert(*db, AlertInput{kUntrustedKernelModule, vm.spec.name, group, bad_modules, {}}, now));
    } else if (modules.reported) {
      // Only a report that says "none" clears it; an agent that did not look says nothing.
      TL_FLEET_TRY(resolve_alert(*db, vm.spec.name, kUntrustedKernelModule, now));
    }

    TL_FLEET_TRY(save_vm(*db, row));
    TL_FLEET_TRY(refresh_recommendations(*db, row));
    TL_FLEET_ASSIGN(out, finish(*db, std::move(row)));
    TL_FLEET_TRY(txn.commit());
    return std::optional<Vm>{std::move(out)};
  };
  auto r = run();
  if (!r) return unavailable(r.take_error());
  return r;
}

Result<std::optional<Vm>> Fleet::record_rejected(const std::string& vm_id, const Error& rejection, int64_t now) {
  const RejectionClass cls = classify_rejection(rejection.reason);
  std::lock_guard write(impl_->write_mu);
  auto db = impl_->lease();
  auto run = [&]() -> Result<std::optional<Vm>> {
    TL_FLEET_ASSIGN(txn, store::Transaction::begin(*db));
    TL_FLEET_ASSIGN(found, load_vm(*db, "vm_id", vm_id));
    if (!found) return std::optional<Vm>{};
    VmRow row = std::move(*found);
    Vm& vm = row.vm;
    const std::string what = (rejection.reason.empty() ? std::string("rejected") : rejection.reason) + ": " +
                              rejection.message;
    switch (cls) {
      case RejectionClass::ignored:
        break;
      case RejectionClass::transient:
        vm.status.health = Health::unknown;
        vm.status.error_message = "the last attestation could not be validated (transient failure): " + what;
        vm.last_report_at = now;
        TL_FLEET_TRY(save_vm(*db, row));
        TL_FLEET_TRY(refresh_recommendations(*db, row));
        break;
      case RejectionClass::not_from_vtpm:
        // Anyone can send a quote; only the alert records that someone did.
        TL_FLEET_TRY(raise_alert(*db, AlertInput{kQuoteNotFromVtpm, vm.spec.name, vm.spec.group, what, {}}, now));
        break;
      case RejectionClass::after_quote:
        vm.status.health = Health::unhealthy;
        vm.status.boot_integrity_validated = "Invalid";
        vm.status.error_message = what;
        // The service validated this VM's quote now, so the VM is reporting:
        // it stays Unhealthy rather than drifting to stale.
        vm.status.timestamp = now;
        vm.last_report_at = now;
        vm.spec.power_state = PowerState::running;  // its TPM answered: it runs (see record_verified)
        row.fresh_since = fresh_since_for(vm);
        TL_FLEET_TRY(raise_alert(*db, AlertInput{kAttestationFailed, vm.spec.name, vm.spec.group, what, {}}, now));
        TL_FLEET_TRY(resolve_alert(*db, vm.spec.name, kAttestationStale, now));
        // The VM's TPM signed this quote: the VM and its vTPM run again.
        TL_FLEET_TRY(resolve_alert(*db, vm.spec.name, kVmCrashed, now));
        TL_FLEET_TRY(resolve_alert(*db, vm.spec.name, kVtpmCrashed, now));
        TL_FLEET_TRY(save_vm(*db, row));
        TL_FLEET_TRY(refresh_recommendations(*db, row));
        break;
    }
    TL_FLEET_ASSIGN(out, finish(*db, std::move(row)));
    TL_FLEET_TRY(txn.commit());
    return std::optional<Vm>{std::move(out)};
  };
  auto r = run();
  if (!r) return unavailable(r.take_error());
  return r;
}

}  // namespace tl::fleet
