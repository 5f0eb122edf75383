// Reports from a VM's host (POST /vms/{name}/host-events): the VM did not
// boot because Secure Boot refused its boot chain, or its QEMU or swtpm
// crashed. The rules are status_rules.cc's status_after_host_event and
// docs/fleet.md "Host events".
#include <algorithm>

#include "fleet/internal.h"

namespace tl::fleet {

using namespace detail;

namespace {

Status check_event(const HostEvent& e, int64_t now) {
  if (e.detail.find_first_not_of(' ') == std::string::npos) return Error{"detail: must not be empty", "vm-invalid"};
  if (e.detail.size() > kMaxHostEventDetail) {
    return Error{"detail: is " + std::to_string(e.detail.size()) + " bytes, at most " +
                     std::to_string(kMaxHostEventDetail) + " allowed",
                 "vm-invalid"};
  }
  if (e.at && *e.at <= 0) return Error{"at: must be a positive number of unix seconds", "vm-invalid"};
  if (e.at && *e.at > now + kHostEventMaxSkewSeconds) {
    return Error{"at: " + std::to_string(*e.at) + " is " + std::to_string(*e.at - now) +
                     " s ahead of tlaunchd's clock (at most " + std::to_string(kHostEventMaxSkewSeconds) +
                     " s of clock skew is accepted): check the host's clock",
                 "vm-invalid"};
  }
  return {};
}

}  // namespace

Result<Vm> Fleet::record_host_event(const std::string& name, const HostEvent& event, int64_t now) {
  TL_FLEET_TRY(check_event(event, now));
  // When it happened, never later than now (within the skew allowance the
  // host's clock may run ahead; an alert is not dated in the future).
  const int64_t when = event.at ? std::min(*event.at, now) : now;
  std::lock_guard write(impl_->write_mu);
  auto db = impl_->lease();
  auto run = [&]() -> Result<Vm> {
    TL_FLEET_ASSIGN(txn, store::Transaction::begin(*db));
    TL_FLEET_ASSIGN(found, load_vm(*db, "name", name));
    if (!found) return Error{"no VM named " + name, "vm-not-found"};
    VmRow row = std::move(*found);
    Vm& vm = row.vm;
    vm.status = status_after_host_event(vm.status, event);
    if (event.kind != HostEventKind::boot_refused) {
      // QEMU (or the swtpm it cannot run without) is gone: the VM is off
      // until its host starts it again.
      vm.spec.power_state = PowerState::stopped;
    }
    // Out of the staleness sweep, as a stopped VM is: no attestation can come
    // from a VM that did not boot or is not running, and its status already
    // says why. A verified attestation (record_verified) or a start (PATCH
    // powerState Stopped → Running) puts it back.
    row.fresh_since.reset();
    TL_FLEET_TRY(resolve_alert(*db, vm.spec.name, kAttestationStale, when));
    TL_FLEET_TRY(raise_alert(
        *db, AlertInput{host_event_alert_kind(event.kind), vm.spec.name, vm.spec.group, event.detail, {}}, when));
    TL_FLEET_TRY(save_vm(*db, row));
    TL_FLEET_TRY(refresh_recommendations(*db, row));
    TL_FLEET_TRY(load_vm_extras(*db, vm));
    TL_FLEET_TRY(txn.commit());
    return std::move(vm);
  };
  auto r = run();
  if (!r) return unavailable(r.take_error());
  return r;
}

}  // namespace tl::fleet
