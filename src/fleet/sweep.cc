// The staleness sweep: running VMs without a valid attestation within the
// refresh window become Unknown with an attestation-stale alert.
//
// Cost: the partial index fleet_vms_fresh_since holds only VMs that can still
// go stale, ordered by the time they were last fresh, so finding the stale
// ones is a range scan that stops at the first fresh VM. Each swept VM leaves
// the index (fresh_since = NULL), so the work is proportional to the VMs that
// change. Statements are prepared once per batch, and each batch is its own
// transaction so attestations are not held off for a whole large sweep.
#include "common/rfc3339.h"
#include "fleet/internal.h"

namespace tl::fleet {

using namespace detail;

namespace {

constexpr int kBatch = 2000;

struct Rule {
  int64_t id;
  std::optional<std::string> group, vm, kind;
  bool matches(const std::string& g, const std::string& v, const std::string& k) const {
    return (!group || *group == g) && (!vm || *vm == v) && (!kind || *kind == k);
  }
};

Result<std::vector<Rule>> load_rules(store::Database& db) {
  TL_FLEET_ASSIGN(st, db.prepare("SELECT id, grp, vm, kind FROM fleet_suppressions ORDER BY id"));
  std::vector<Rule> rules;
  for (;;) {
    TL_FLEET_ASSIGN(has, st.step());
    if (!has) break;
    Rule r;
    TL_FLEET_ASSIGN(id, st.column_int64(0));
    r.id = id;
    for (int col : {1, 2, 3}) {
      TL_FLEET_ASSIGN(is_null, st.column_is_null(col));
      if (is_null) continue;
      TL_FLEET_ASSIGN(v, st.column_text(col));
      (col == 1 ? r.group : col == 2 ? r.vm : r.kind) = std::move(v);
    }
    rules.push_back(std::move(r));
  }
  return rules;
}

// One batch; returns how many VMs it swept (0: done).
Result<int64_t> sweep_batch(store::Database& db, int64_t now, int64_t cutoff) {
  TL_FLEET_ASSIGN(txn, store::Transaction::begin(db));
  TL_FLEET_ASSIGN(rules, load_rules(db));
  TL_FLEET_ASSIGN(sel, db.prepare(std::string("SELECT ") + kVmColumns +
                                  " FROM fleet_vms WHERE fresh_since IS NOT NULL AND fresh_since < ?1 "
                                  "ORDER BY fresh_since LIMIT ?2"));
  TL_FLEET_TRY(sel.bind_int64(1, cutoff));
  TL_FLEET_TRY(sel.bind_int64(2, kBatch));
  std::vector<VmRow> rows;
  for (;;) {
    TL_FLEET_ASSIGN(has, sel.step());
    if (!has) break;
    TL_FLEET_ASSIGN(row, read_vm_row(sel));
    rows.push_back(std::move(row));
  }
  if (rows.empty()) return int64_t{0};

  TL_FLEET_ASSIGN(up_vm, db.prepare("UPDATE fleet_vms SET health = 'Unknown', error_message = ?2, fresh_since = NULL "
                                    "WHERE name = ?1"));
  // An upsert keeps "one open alert per (VM, kind)" even if one is somehow open.
  TL_FLEET_ASSIGN(ins_alert,
                  db.prepare("INSERT INTO fleet_alerts (kind, severity, title, vm, grp, open, opened_at, last_seen_at, "
                             "count, detail, deviations, suppressed_by) VALUES (?1,?2,?3,?4,?5,1,?6,?6,1,?7,'[]',?8) "
                             "ON CONFLICT (vm, kind) WHERE open = 1 DO UPDATE SET count = count + 1, "
                             "last_seen_at = excluded.last_seen_at, detail = excluded.detail "
                             "RETURNING id, count"));
  TL_FLEET_ASSIGN(ins_event, db.prepare("INSERT INTO alert_events (created_at, event, alert_id, body) "
                                        "VALUES (?1,'alert.opened',?2,?3)"));
  TL_FLEET_ASSIGN(ins_rec, db.prepare("INSERT OR REPLACE INTO fleet_recommendations (vm, kind, title, detail) "
                                      "VALUES (?1,?2,?3,?4)"));
  for (VmRow& row : rows) {
    Vm& vm = row.vm;
    const bool never = !vm.status.timestamp;
    const std::string message =
        never ? "no valid attestation since registration at " + format_rfc3339(vm.registered_at) +
                    " (refresh window exceeded): is the attestation agent installed and running?"
              : "no valid attestation since " + format_rfc3339(*vm.status.timestamp) +
                    " (refresh window exceeded): the agent stopped reporting or the VM may be compromised";
    TL_FLEET_TRY(up_vm.reset());
    TL_FLEET_TRY(up_vm.bind_text(1, vm.spec.name));
    TL_FLEET_TRY(up_vm.bind_text(2, message));
    TL_FLEET_ASSIGN(u, up_vm.step());
    (void)u;

    std::optional<int64_t> rule;
    for (const Rule& r : rules) {
      if (r.matches(vm.spec.group, vm.spec.name, kAttestationStale)) {
        rule = r.id;
        break;
      }
    }
    TL_FLEET_TRY(ins_alert.reset());
    TL_FLEET_TRY(ins_alert.bind_text(1, kAttestationStale));
    TL_FLEET_TRY(ins_alert.bind_text(2, alert_severity(kAttestationStale)));
    TL_FLEET_TRY(ins_alert.bind_text(3, alert_title(kAttestationStale)));
    TL_FLEET_TRY(ins_alert.bind_text(4, vm.spec.name));
    TL_FLEET_TRY(ins_alert.bind_text(5, vm.spec.group));
    TL_FLEET_TRY(ins_alert.bind_int64(6, now));
    TL_FLEET_TRY(ins_alert.bind_text(7, message));
    TL_FLEET_TRY(rule ? ins_alert.bind_int64(8, *rule) : ins_alert.bind_null(8));
    TL_FLEET_ASSIGN(has_id, ins_alert.step());
    if (!has_id) return Error{"INSERT … RETURNING gave no row", "unavailable"};
    TL_FLEET_ASSIGN(alert_id, ins_alert.column_int64(0));
    TL_FLEET_ASSIGN(count, ins_alert.column_int64(1));
    TL_FLEET_ASSIGN(done, ins_alert.step());  // finishes the statement
    (void)done;
    if (!rule && count == 1) {
      Alert a;
      a.id = alert_id;
      a.kind = kAttestationStale;
      a.severity = alert_severity(kAttestationStale);
      a.title = alert_title(kAttestationStale);
      a.vm = vm.spec.name;
      a.group = vm.spec.group;
      a.opened_at = a.last_seen_at = now;
      a.detail = message;
      TL_FLEET_TRY(ins_event.reset());
      TL_FLEET_TRY(ins_event.bind_int64(1, now));
      TL_FLEET_TRY(ins_event.bind_int64(2, alert_id));
      TL_FLEET_TRY(ins_event.bind_text(3, to_json(a).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)));
      TL_FLEET_ASSIGN(e, ins_event.step());
      (void)e;
    }

    // Only install-agent can appear through staleness (a VM that never
    // reported at all); the others depend on the profile, which did not change.
    vm.status.health = Health::unknown;
    vm.status.error_message = message;
    for (const Recommendation& rec :
         recommendations_for(vm.spec.profile, vm.spec.agent_installed, vm.status, stale_never_reported(vm))) {
      if (rec.kind != kRecInstallAgent) continue;
      TL_FLEET_TRY(ins_rec.reset());
      TL_FLEET_TRY(ins_rec.bind_text(1, vm.spec.name));
      TL_FLEET_TRY(ins_rec.bind_text(2, rec.kind));
      TL_FLEET_TRY(ins_rec.bind_text(3, rec.title));
      TL_FLEET_TRY(ins_rec.bind_text(4, rec.detail));
      TL_FLEET_ASSIGN(r, ins_rec.step());
      (void)r;
    }
  }
  TL_FLEET_TRY(txn.commit());
  return static_cast<int64_t>(rows.size());
}

}  // namespace

Result<int64_t> Fleet::sweep_stale(int64_t now) {
  const int64_t cutoff = now - impl_->options.refresh_window_seconds;
  int64_t total = 0;
  auto db = impl_->lease();
  for (;;) {
    Result<int64_t> n = [&] {
      std::lock_guard write(impl_->write_mu);
      return sweep_batch(*db, now, cutoff);
    }();
    if (!n) return unavailable(n.take_error());
    total += *n;
    if (*n < kBatch) return total;
  }
}

}  // namespace tl::fleet
