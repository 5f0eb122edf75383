// The VM inventory: opening the fleet, VM rows, register / update / find /
// list / remove.
#include "fleet/internal.h"
#include "store/migrate.h"
#include "store/schema.h"

namespace tl::fleet {

using namespace detail;

Fleet::Fleet(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Fleet::~Fleet() = default;

Result<std::unique_ptr<Fleet>> Fleet::open(const std::filesystem::path& db, Options options) {
  if (options.refresh_window_seconds <= 0) {
    return Error{"the refresh window must be positive (got " + std::to_string(options.refresh_window_seconds) +
                 " s)"};
  }
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  const unsigned n = options.connections == 0 ? 1 : options.connections;
  for (unsigned i = 0; i < n; ++i) {
    auto conn = store::Database::open(db);
    if (!conn) return unavailable(with_context("database " + db.string(), conn.take_error()));
    if (i == 0) {
      // Harmless when tlaunchd's Repository migrated first: migrate is idempotent.
      auto v = store::migrate(*conn, store::tlaunchd_migrations());
      if (!v) return unavailable(with_context("database " + db.string(), v.take_error()));
    }
    impl->free.push_back(std::move(*conn));
  }
  return std::unique_ptr<Fleet>(new Fleet(std::move(impl)));
}

namespace detail {

namespace {

Result<std::optional<std::string>> opt_text(store::Statement& st, int col) {
  TL_FLEET_ASSIGN(is_null, st.column_is_null(col));
  if (is_null) return std::optional<std::string>{};
  TL_FLEET_ASSIGN(s, st.column_text(col));
  return std::optional<std::string>{std::move(s)};
}

Result<std::optional<int64_t>> opt_int(store::Statement& st, int col) {
  TL_FLEET_ASSIGN(is_null, st.column_is_null(col));
  if (is_null) return std::optional<int64_t>{};
  TL_FLEET_ASSIGN(v, st.column_int64(col));
  return std::optional<int64_t>{v};
}

Status bind_opt(store::Statement& st, int i, const std::optional<std::string>& v) {
  return v ? st.bind_text(i, *v) : st.bind_null(i);
}
Status bind_opt(store::Statement& st, int i, const std::optional<int64_t>& v) {
  return v ? st.bind_int64(i, *v) : st.bind_null(i);
}

Error corrupt(const std::string& what) { return Error{"fleet_vms: " + what + " (database edited by hand?)", "unavailable"}; }

}  // namespace

Result<VmRow> read_vm_row(store::Statement& st) {
  VmRow row;
  Vm& v = row.vm;
  TL_FLEET_ASSIGN(name, st.column_text(0));
  v.spec.name = std::move(name);
  TL_FLEET_ASSIGN(vm_id, st.column_text(1));
  v.spec.vm_id = std::move(vm_id);
  TL_FLEET_ASSIGN(rid, st.column_text(2));
  v.spec.resource_id = std::move(rid);
  TL_FLEET_ASSIGN(grp, st.column_text(3));
  v.spec.group = std::move(grp);
  TL_FLEET_ASSIGN(type, st.column_text(4));
  const auto t = security_type_from_name(type);
  if (!t) return corrupt("security_type " + type);
  v.spec.profile.security_type = *t;
  TL_FLEET_ASSIGN(sb, st.column_int64(5));
  v.spec.profile.secure_boot_enabled = sb != 0;
  TL_FLEET_ASSIGN(tpm, st.column_int64(6));
  v.spec.profile.tpm_enabled = tpm != 0;
  TL_FLEET_ASSIGN(agent, st.column_int64(7));
  v.spec.agent_installed = agent != 0;
  TL_FLEET_ASSIGN(power, st.column_text(8));
  const auto p = power_state_from_name(power);
  if (!p) return corrupt("power_state " + power);
  v.spec.power_state = *p;
  TL_FLEET_ASSIGN(ek, opt_text(st, 9));
  v.ek_name = std::move(ek);
  TL_FLEET_ASSIGN(reg, st.column_int64(10));
  v.registered_at = reg;
  TL_FLEET_ASSIGN(last, opt_int(st, 11));
  v.last_report_at = last;
  TL_FLEET_ASSIGN(sbs, st.column_text(12));
  v.status.attest_secure_boot_enabled = std::move(sbs);
  TL_FLEET_ASSIGN(cert, st.column_text(13));
  v.status.attestation_cert_validated = std::move(cert);
  TL_FLEET_ASSIGN(boot, st.column_text(14));
  v.status.boot_integrity_validated = std::move(boot);
  TL_FLEET_ASSIGN(health, st.column_text(15));
  const auto h = health_from_name(health);
  if (!h) return corrupt("health " + health);
  v.status.health = *h;
  TL_FLEET_ASSIGN(kernel, st.column_text(16));
  v.status.linux_kernel_version = std::move(kernel);
  TL_FLEET_ASSIGN(err, opt_text(st, 17));
  v.status.error_message = std::move(err);
  TL_FLEET_ASSIGN(validated, opt_int(st, 18));
  v.status.timestamp = validated;
  TL_FLEET_ASSIGN(fresh, opt_int(st, 19));
  row.fresh_since = fresh;
  return row;
}

Result<std::optional<VmRow>> load_vm(store::Database& db, const std::string& column, const std::string& value) {
  // `column` is one of our own literals ("name" / "vm_id"), never request text.
  TL_FLEET_ASSIGN(st, db.prepare(std::string("SELECT ") + kVmColumns + " FROM fleet_vms WHERE " + column + " = ?1"));
  TL_FLEET_TRY(st.bind_text(1, value));
  TL_FLEET_ASSIGN(has, st.step());
  if (!has) return std::optional<VmRow>{};
  TL_FLEET_ASSIGN(row, read_vm_row(st));
  return std::optional<VmRow>{std::move(row)};
}

Status save_vm(store::Database& db, const VmRow& row) {
  const Vm& v = row.vm;
  TL_FLEET_ASSIGN(st, db.prepare(
                          "UPDATE fleet_vms SET vm_id=?2, resource_id=?3, grp=?4, security_type=?5, secure_boot=?6, "
                          "tpm_enabled=?7, agent_installed=?8, power_state=?9, ek_name=?10, registered_at=?11, "
                          "last_report_at=?12, sb_state=?13, cert_state=?14, boot_state=?15, health=?16, "
                          "kernel_version=?17, error_message=?18, validated_at=?19, fresh_since=?20 WHERE name=?1"));
  TL_FLEET_TRY(st.bind_text(1, v.spec.name));
  TL_FLEET_TRY(st.bind_text(2, v.spec.vm_id));
  TL_FLEET_TRY(st.bind_text(3, v.spec.resource_id));
  TL_FLEET_TRY(st.bind_text(4, v.spec.group));
  TL_FLEET_TRY(st.bind_text(5, security_type_name(v.spec.profile.security_type)));
  TL_FLEET_TRY(st.bind_int64(6, v.spec.profile.secure_boot_enabled ? 1 : 0));
  TL_FLEET_TRY(st.bind_int64(7, v.spec.profile.tpm_enabled ? 1 : 0));
  TL_FLEET_TRY(st.bind_int64(8, v.spec.agent_installed ? 1 : 0));
  TL_FLEET_TRY(st.bind_text(9, power_state_name(v.spec.power_state)));
  TL_FLEET_TRY(bind_opt(st, 10, v.ek_name));
  TL_FLEET_TRY(st.bind_int64(11, v.registered_at));
  TL_FLEET_TRY(bind_opt(st, 12, v.last_report_at));
  TL_FLEET_TRY(st.bind_text(13, v.status.attest_secure_boot_enabled));
  TL_FLEET_TRY(st.bind_text(14, v.status.attestation_cert_validated));
  TL_FLEET_TRY(st.bind_text(15, v.status.boot_integrity_validated));
  TL_FLEET_TRY(st.bind_text(16, health_name(v.status.health)));
  TL_FLEET_TRY(st.bind_text(17, v.status.linux_kernel_version));
  TL_FLEET_TRY(bind_opt(st, 18, v.status.error_message));
  TL_FLEET_TRY(bind_opt(st, 19, v.status.timestamp));
  TL_FLEET_TRY(bind_opt(st, 20, row.fresh_since));
  TL_FLEET_ASSIGN(more, st.step());
  (void)more;
  return {};
}

Status load_vm_extras(store::Database& db, Vm& vm) {
  TL_FLEET_ASSIGN(recs, db.prepare("SELECT kind, title, detail FROM fleet_recommendations WHERE vm = ?1 ORDER BY kind"));
  TL_FLEET_TRY(recs.bind_text(1, vm.spec.name));
  vm.recommendations.clear();
  for (;;) {
    TL_FLEET_ASSIGN(row, recs.step());
    if (!row) break;
    Recommendation r;
    TL_FLEET_ASSIGN(kind, recs.column_text(0));
    r.kind = std::move(kind);
    TL_FLEET_ASSIGN(title, recs.column_text(1));
    r.title = std::move(title);
    TL_FLEET_ASSIGN(detail, recs.column_text(2));
    r.detail = std::move(detail);
    vm.recommendations.push_back(std::move(r));
  }
  TL_FLEET_ASSIGN(alerts, db.prepare(
                              "SELECT count(*) FROM fleet_alerts WHERE vm = ?1 AND open = 1 AND suppressed_by IS NULL"));
  TL_FLEET_TRY(alerts.bind_text(1, vm.spec.name));
  TL_FLEET_ASSIGN(row, alerts.step());
  (void)row;
  TL_FLEET_ASSIGN(n, alerts.column_int64(0));
  vm.open_alerts = n;
  return {};
}

Status store_recommendations(store::Database& db, const std::string& vm, const std::vector<Recommendation>& recs) {
  TL_FLEET_ASSIGN(del, db.prepare("DELETE FROM fleet_recommendations WHERE vm = ?1"));
  TL_FLEET_TRY(del.bind_text(1, vm));
  TL_FLEET_ASSIGN(done, del.step());
  (void)done;
  if (recs.empty()) return {};
  TL_FLEET_ASSIGN(ins, db.prepare("INSERT INTO fleet_recommendations (vm, kind, title, detail) VALUES (?1,?2,?3,?4)"));
  for (const Recommendation& r : recs) {
    TL_FLEET_TRY(ins.reset());
    TL_FLEET_TRY(ins.bind_text(1, vm));
    TL_FLEET_TRY(ins.bind_text(2, r.kind));
    TL_FLEET_TRY(ins.bind_text(3, r.title));
    TL_FLEET_TRY(ins.bind_text(4, r.detail));
    TL_FLEET_ASSIGN(more, ins.step());
    (void)more;
  }
  return {};
}

Status refresh_recommendations(store::Database& db, const VmRow& row) {
  const Vm& v = row.vm;
  return store_recommendations(
      db, v.spec.name,
      recommendations_for(v.spec.profile, v.spec.agent_installed, v.status, stale_never_reported(v)));
}

bool stale_never_reported(const Vm& vm) {
  // Unknown with no report of any outcome: the sweep's doing, unless a host
  // report of a crash made it Unknown (its message says so). A VM that
  // reported a transient failure has an agent, and one that crashed before it
  // could attest may well have one: install-agent would mislead.
  return vm.status.health == Health::unknown && !vm.status.timestamp && !vm.last_report_at &&
         !(vm.status.error_message && vm.status.error_message->find(kHostReportMarker) != std::string::npos);
}

std::optional<int64_t> fresh_since_for(const Vm& vm) {
  if (vm.spec.power_state != PowerState::running) return std::nullopt;
  return vm.status.timestamp ? *vm.status.timestamp : vm.registered_at;
}

}  // namespace detail

namespace {

Status check_spec(const VmSpec& s) {
  if (!valid_name(s.name)) return Error{"name: must be 1-64 characters of A-Z a-z 0-9 . _ -", "vm-invalid"};
  if (!valid_name(s.group)) return Error{"group: must be 1-64 characters of A-Z a-z 0-9 . _ -", "vm-invalid"};
  if (s.vm_id.empty() || s.vm_id.size() > 128) return Error{"vmId: must be 1-128 characters", "vm-invalid"};
  if (s.resource_id.size() > 512) return Error{"id: at most 512 characters", "vm-invalid"};
  return {};
}

Result<Vm> finish(store::Database& db, VmRow row) {
  TL_FLEET_TRY(load_vm_extras(db, row.vm));
  return std::move(row.vm);
}

// Health after a profile change, from the attested tri-states (which only the
// next attestation changes) and the new profile, as status_from_verified
// combines them. Unknown stays Unknown: there is nothing attested to combine.
void rederive_health(AttestationStatus& s, const SecurityProfile& profile) {
  if (s.health == Health::unknown || s.health == Health::pending) return;
  const bool attested_ok = s.attest_secure_boot_enabled == "Enabled" && s.attestation_cert_validated == "Valid" &&
                           s.boot_integrity_validated == "Valid";
  if (attested_ok && profile.tpm_enabled) {
    s.health = Health::healthy;
    s.error_message.reset();
    return;
  }
  s.health = Health::unhealthy;
  if (attested_ok) {
    s.error_message = kTpmDisabledMessage;  // the profile is the only reason
  } else if (!s.error_message || *s.error_message == kTpmDisabledMessage) {
    // The attested reason the message named (if any) was hidden behind the profile's.
    s.error_message = "the last attestation did not establish a healthy boot (attestSecureBootEnabled " +
                      s.attest_secure_boot_enabled + ", attestationCertValidated " + s.attestation_cert_validated +
                      ", bootIntegrityValidated " + s.boot_integrity_validated + ")";
  }
}

}  // namespace

Result<Vm> Fleet::register_vm(const VmSpec& spec, int64_t now) {
  TL_FLEET_TRY(check_spec(spec));
  std::lock_guard write(impl_->write_mu);
  auto db = impl_->lease();
  auto run = [&]() -> Result<Vm> {
    TL_FLEET_ASSIGN(txn, store::Transaction::begin(*db));
    TL_FLEET_ASSIGN(by_name, load_vm(*db, "name", spec.name));
    if (by_name) return Error{"a VM named " + spec.name + " is already registered", "vm-exists"};
    TL_FLEET_ASSIGN(by_id, load_vm(*db, "vm_id", spec.vm_id));
    if (by_id) {
      return Error{"vmId " + spec.vm_id + " is already registered as VM " + by_id->vm.spec.name, "vm-exists"};
    }
    VmRow row;
    row.vm.spec = spec;
    row.vm.registered_at = now;
    row.fresh_since = fresh_since_for(row.vm);
    TL_FLEET_ASSIGN(ins, db->prepare("INSERT INTO fleet_vms (name, vm_id, grp, security_type, secure_boot, "
                                     "tpm_enabled, agent_installed, power_state, registered_at) "
                                     "VALUES (?1,?2,?3,'Standard',0,0,0,'Running',?4)"));
    TL_FLEET_TRY(ins.bind_text(1, spec.name));
    TL_FLEET_TRY(ins.bind_text(2, spec.vm_id));
    TL_FLEET_TRY(ins.bind_text(3, spec.group));
    TL_FLEET_TRY(ins.bind_int64(4, now));
    TL_FLEET_ASSIGN(more, ins.step());
    (void)more;
    // One writer of every column (save_vm), so INSERT only creates the key.
    TL_FLEET_TRY(save_vm(*db, row));
    TL_FLEET_TRY(refresh_recommendations(*db, row));
    TL_FLEET_ASSIGN(vm, finish(*db, std::move(row)));
    TL_FLEET_TRY(txn.commit());
    return vm;
  };
  auto r = run();
  if (!r) return unavailable(r.take_error());
  return r;
}

Result<Vm> Fleet::update_vm(const std::string& name, const VmPatch& patch, int64_t now) {
  if (patch.group && !valid_name(*patch.group)) {
    return Error{"group: must be 1-64 characters of A-Z a-z 0-9 . _ -", "vm-invalid"};
  }
  if (patch.resource_id && patch.resource_id->size() > 512) return Error{"id: at most 512 characters", "vm-invalid"};
  std::lock_guard write(impl_->write_mu);
  auto db = impl_->lease();
  auto run = [&]() -> Result<Vm> {
    TL_FLEET_ASSIGN(txn, store::Transaction::begin(*db));
    TL_FLEET_ASSIGN(found, load_vm(*db, "name", name));
    if (!found) return Error{"no VM named " + name, "vm-not-found"};
    VmRow row = std::move(*found);
    Vm& v = row.vm;
    const bool was_running = v.spec.power_state == PowerState::running;
    const std::string old_group = v.spec.group;
    const SecurityProfile old_profile = v.spec.profile;
    if (patch.resource_id) v.spec.resource_id = *patch.resource_id;
    if (patch.group) v.spec.group = *patch.group;
    if (patch.profile) v.spec.profile = *patch.profile;
    if (patch.agent_installed) v.spec.agent_installed = *patch.agent_installed;
    if (patch.power_state) v.spec.power_state = *patch.power_state;
    if (patch.unbind_ek) v.ek_name.reset();
    const bool running = v.spec.power_state == PowerState::running;
    // The anchor is not derived from health (an Unknown VM must stay
    // sweepable): a start gives a whole refresh window from now, not an
    // immediate stale alert for the time the VM was off; a stop takes the VM
    // out of the sweep; any other PATCH keeps the anchor.
    if (!was_running && running) row.fresh_since = now;
    if (!running) row.fresh_since.reset();
    if (v.status.health != Health::pending) {
      const bool group_changed = v.spec.group != old_group;
      const bool profile_changed = v.spec.profile.security_type != old_profile.security_type ||
                                   v.spec.profile.secure_boot_enabled != old_profile.secure_boot_enabled ||
                                   v.spec.profile.tpm_enabled != old_profile.tpm_enabled;
      if (group_changed) {
        // The boot was judged against the old group's baseline, which says
        // nothing about the new group's.
        v.status.boot_integrity_validated = "Unknown";
        v.status.health = Health::unknown;
        v.status.error_message = "group changed from " + old_group + " to " + v.spec.group +
                                 ": boot integrity is judged at the next attestation";
      } else if (profile_changed) {
        rederive_health(v.status, v.spec.profile);
      }
    }
    if (v.spec.power_state == PowerState::stopped) {
      // Staleness only concerns running VMs (docs/fleet-api.md).
      TL_FLEET_TRY(resolve_alert(*db, v.spec.name, kAttestationStale, now));
    }
    TL_FLEET_TRY(save_vm(*db, row));
    TL_FLEET_TRY(refresh_recommendations(*db, row));
    TL_FLEET_ASSIGN(vm, finish(*db, std::move(row)));
    TL_FLEET_TRY(txn.commit());
    return vm;
  };
  auto r = run();
  if (!r) return unavailable(r.take_error());
  return r;
}

Result<std::optional<Vm>> Fleet::find(const std::string& name, int64_t /*now*/) {
  auto db = impl_->lease();
  auto row = load_vm(*db, "name", name);
  if (!row) return unavailable(row.take_error());
  if (!*row) return std::optional<Vm>{};
  auto vm = finish(*db, std::move(**row));
  if (!vm) return unavailable(vm.take_error());
  return std::optional<Vm>{std::move(*vm)};
}

Result<std::optional<Vm>> Fleet::find_by_vm_id(const std::string& vm_id, int64_t /*now*/) {
  auto db = impl_->lease();
  auto row = load_vm(*db, "vm_id", vm_id);
  if (!row) return unavailable(row.take_error());
  if (!*row) return std::optional<Vm>{};
  auto vm = finish(*db, std::move(**row));
  if (!vm) return unavailable(vm.take_error());
  return std::optional<Vm>{std::move(*vm)};
}

Result<Page<Vm, std::string>> Fleet::list(const VmQuery& q, int64_t /*now*/) {
  if (q.limit < 1 || q.limit > 1000) {
    return Error{"limit: must be 1-1000 (got " + std::to_string(q.limit) + ")", "vm-invalid"};
  }
  std::string sql = std::string("SELECT ") + kVmColumns + " FROM fleet_vms WHERE name > ?1";
  if (q.group) sql += " AND grp = ?2";
  if (q.health) sql += " AND health = ?3";
  sql += " ORDER BY name LIMIT ?4";
  auto db = impl_->lease();
  auto run = [&]() -> Result<Page<Vm, std::string>> {
    TL_FLEET_ASSIGN(st, db->prepare(sql));
    TL_FLEET_TRY(st.bind_text(1, q.after.value_or("")));
    if (q.group) TL_FLEET_TRY(st.bind_text(2, *q.group));
    if (q.health) TL_FLEET_TRY(st.bind_text(3, health_name(*q.health)));
    TL_FLEET_TRY(st.bind_int64(4, q.limit + 1));  // one more tells whether a next page exists
    Page<Vm, std::string> page;
    std::vector<VmRow> rows;
    for (;;) {
      TL_FLEET_ASSIGN(has, st.step());
      if (!has) break;
      TL_FLEET_ASSIGN(row, read_vm_row(st));
      rows.push_back(std::move(row));
    }
    if (rows.size() > static_cast<size_t>(q.limit)) {
      rows.pop_back();
      page.next_after = rows.back().vm.spec.name;
    }
    for (VmRow& row : rows) {
      TL_FLEET_ASSIGN(vm, finish(*db, std::move(row)));
      page.items.push_back(std::move(vm));
    }
    return page;
  };
  auto r = run();
  if (!r) return unavailable(r.take_error());
  return r;
}

Status Fleet::remove(const std::string& name, int64_t now) {
  std::lock_guard write(impl_->write_mu);
  auto db = impl_->lease();
  auto run = [&]() -> Status {
    TL_FLEET_ASSIGN(txn, store::Transaction::begin(*db));
    TL_FLEET_ASSIGN(found, load_vm(*db, "name", name));
    if (!found) return Error{"no VM named " + name, "vm-not-found"};
    TL_FLEET_TRY(resolve_all_alerts(*db, name, now));
    TL_FLEET_ASSIGN(del, db->prepare("DELETE FROM fleet_vms WHERE name = ?1"));
    TL_FLEET_TRY(del.bind_text(1, name));
    TL_FLEET_ASSIGN(more, del.step());
    (void)more;
    return txn.commit();
  };
  auto r = run();
  if (!r) return unavailable(r.take_error());
  return r;
}

}  // namespace tl::fleet
