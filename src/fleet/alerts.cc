// Alerts (open / bump / resolve, each transition with its alert_events row in
// the same transaction), their listing, and suppression rules.
#include <iterator>

#include "fleet/internal.h"

namespace tl::fleet {

using namespace detail;

namespace detail {

bool is_alert_kind(const std::string& k) {
  for (const char* kind : kAlertKinds) {
    if (k == kind) return true;
  }
  return false;
}

std::string alert_kinds_text() {
  std::string out;
  const size_t n = std::size(kAlertKinds);
  for (size_t i = 0; i < n; ++i) out += (i == 0 ? "" : i + 1 == n ? " or " : ", ") + std::string(kAlertKinds[i]);
  return out;
}

// A VM that did not boot is the one host event that may mean an attack (an
// unsigned or tampered boot chain): High. Crashes and the other kinds: Medium,
// except untrusted modules (self-reported): Low.
const char* alert_severity(const std::string& k) {
  if (k == kBootRefused) return "High";
  return k == kUntrustedKernelModule ? "Low" : "Medium";
}

const char* alert_title(const std::string& k) {
  if (k == kAttestationFailed) return "VM attestation failed";
  if (k == kQuoteNotFromVtpm) return "Attestation quote not from the VM's vTPM";
  if (k == kAttestationStale) return "Attestation status stale";
  if (k == kBootRefused) return "VM did not boot: Secure Boot refused its boot chain";
  if (k == kVmCrashed) return "VM crashed";
  if (k == kVtpmCrashed) return "VM's vTPM crashed";
  return "Untrusted kernel module";
}

std::string deviations_to_text(const std::vector<policy::Deviation>& devs) {
  nlohmann::json a = nlohmann::json::array();
  for (const policy::Deviation& d : devs) {
    a.push_back({{"kind", d.kind},
                 {"pcr", d.pcr},
                 {"event", d.event ? nlohmann::json(*d.event) : nlohmann::json(nullptr)},
                 {"eventType", d.event_type},
                 {"component", d.component},
                 {"expected", d.expected},
                 {"actual", d.actual}});
  }
  // Deviation texts come from the VM's event log: never let invalid UTF-8 throw.
  return a.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

Result<std::vector<policy::Deviation>> deviations_from_text(const std::string& text) {
  const auto j = nlohmann::json::parse(text, nullptr, false);
  const Error bad{"fleet_alerts.deviations is not what this version wrote", "unavailable"};
  if (!j.is_array()) return bad;
  std::vector<policy::Deviation> out;
  for (const auto& e : j) {
    if (!e.is_object()) return bad;
    policy::Deviation d;
    auto str = [&](const char* k, std::string& dst) {
      const auto it = e.find(k);
      if (it == e.end() || !it->is_string()) return false;
      dst = it->get<std::string>();
      return true;
    };
    const auto pcr = e.find("pcr");
    const auto event = e.find("event");
    if (pcr == e.end() || !pcr->is_number_unsigned() || event == e.end()) return bad;
    if (!str("kind", d.kind) || !str("eventType", d.event_type) || !str("component", d.component) ||
        !str("expected", d.expected) || !str("actual", d.actual)) {
      return bad;
    }
    d.pcr = pcr->get<uint32_t>();
    if (event->is_number_unsigned()) {
      d.event = event->get<uint32_t>();
    } else if (!event->is_null()) {
      return bad;
    }
    out.push_back(std::move(d));
  }
  return out;
}

Result<Alert> read_alert(store::Statement& st) {
  Alert a;
  TL_FLEET_ASSIGN(id, st.column_int64(0));
  a.id = id;
  TL_FLEET_ASSIGN(kind, st.column_text(1));
  a.kind = std::move(kind);
  TL_FLEET_ASSIGN(sev, st.column_text(2));
  a.severity = std::move(sev);
  TL_FLEET_ASSIGN(title, st.column_text(3));
  a.title = std::move(title);
  TL_FLEET_ASSIGN(vm, st.column_text(4));
  a.vm = std::move(vm);
  TL_FLEET_ASSIGN(grp, st.column_text(5));
  a.group = std::move(grp);
  TL_FLEET_ASSIGN(open, st.column_int64(6));
  a.open = open != 0;
  TL_FLEET_ASSIGN(opened, st.column_int64(7));
  a.opened_at = opened;
  TL_FLEET_ASSIGN(seen, st.column_int64(8));
  a.last_seen_at = seen;
  TL_FLEET_ASSIGN(resolved_null, st.column_is_null(9));
  if (!resolved_null) {
    TL_FLEET_ASSIGN(resolved, st.column_int64(9));
    a.resolved_at = resolved;
  }
  TL_FLEET_ASSIGN(count, st.column_int64(10));
  a.count = count;
  TL_FLEET_ASSIGN(detail, st.column_text(11));
  a.detail = std::move(detail);
  TL_FLEET_ASSIGN(devs_text, st.column_text(12));
  TL_FLEET_ASSIGN(devs, deviations_from_text(devs_text));
  a.deviations = std::move(devs);
  TL_FLEET_ASSIGN(sup_null, st.column_is_null(13));
  if (!sup_null) {
    TL_FLEET_ASSIGN(sup, st.column_int64(13));
    a.suppressed_by = sup;
  }
  return a;
}

Status write_event(store::Database& db, const char* event, const Alert& a, int64_t now) {
  TL_FLEET_ASSIGN(st, db.prepare("INSERT INTO alert_events (created_at, event, alert_id, body) VALUES (?1,?2,?3,?4)"));
  TL_FLEET_TRY(st.bind_int64(1, now));
  TL_FLEET_TRY(st.bind_text(2, event));
  TL_FLEET_TRY(st.bind_int64(3, a.id));
  // The detail can hold rejection messages and event-log text from the VM:
  // invalid UTF-8 becomes U+FFFD rather than an exception out of record_*.
  TL_FLEET_TRY(st.bind_text(4, to_json(a).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)));
  TL_FLEET_ASSIGN(more, st.step());
  (void)more;
  return {};
}

namespace {

Result<std::optional<Alert>> open_alert(store::Database& db, const std::string& vm, const std::string& kind) {
  TL_FLEET_ASSIGN(st, db.prepare(std::string("SELECT ") + kAlertColumns +
                                 " FROM fleet_alerts WHERE vm = ?1 AND kind = ?2 AND open = 1"));
  TL_FLEET_TRY(st.bind_text(1, vm));
  TL_FLEET_TRY(st.bind_text(2, kind));
  TL_FLEET_ASSIGN(has, st.step());
  if (!has) return std::optional<Alert>{};
  TL_FLEET_ASSIGN(a, read_alert(st));
  return std::optional<Alert>{std::move(a)};
}

Result<Alert> alert_by_id(store::Database& db, int64_t id) {
  TL_FLEET_ASSIGN(st, db.prepare(std::string("SELECT ") + kAlertColumns + " FROM fleet_alerts WHERE id = ?1"));
  TL_FLEET_TRY(st.bind_int64(1, id));
  TL_FLEET_ASSIGN(has, st.step());
  if (!has) return Error{"alert " + std::to_string(id) + " vanished inside its transaction", "unavailable"};
  return read_alert(st);
}

// The first (oldest) rule matching (group, vm, kind), if any.
Result<std::optional<int64_t>> matching_rule(store::Database& db, const std::string& group, const std::string& vm,
                                             const std::string& kind, std::optional<int64_t> except = {}) {
  TL_FLEET_ASSIGN(st, db.prepare("SELECT id FROM fleet_suppressions WHERE (grp IS NULL OR grp = ?1) AND "
                                 "(vm IS NULL OR vm = ?2) AND (kind IS NULL OR kind = ?3) AND id != ?4 "
                                 "ORDER BY id LIMIT 1"));
  TL_FLEET_TRY(st.bind_text(1, group));
  TL_FLEET_TRY(st.bind_text(2, vm));
  TL_FLEET_TRY(st.bind_text(3, kind));
  TL_FLEET_TRY(st.bind_int64(4, except.value_or(-1)));
  TL_FLEET_ASSIGN(has, st.step());
  if (!has) return std::optional<int64_t>{};
  TL_FLEET_ASSIGN(id, st.column_int64(0));
  return std::optional<int64_t>{id};
}

}  // namespace

Status raise_alert(store::Database& db, const AlertInput& in, int64_t now) {
  TL_FLEET_ASSIGN(existing, open_alert(db, in.vm, in.kind));
  if (existing) {
    // A repeat: same alert, no new event (receivers already know it is open).
    TL_FLEET_ASSIGN(up, db.prepare("UPDATE fleet_alerts SET count = count + 1, last_seen_at = ?2, detail = ?3, "
                                   "deviations = ?4 WHERE id = ?1"));
    TL_FLEET_TRY(up.bind_int64(1, existing->id));
    TL_FLEET_TRY(up.bind_int64(2, now));
    TL_FLEET_TRY(up.bind_text(3, in.detail));
    TL_FLEET_TRY(up.bind_text(4, deviations_to_text(in.deviations)));
    TL_FLEET_ASSIGN(more, up.step());
    (void)more;
    return {};
  }
  TL_FLEET_ASSIGN(rule, matching_rule(db, in.group, in.vm, in.kind));
  TL_FLEET_ASSIGN(ins, db.prepare("INSERT INTO fleet_alerts (kind, severity, title, vm, grp, open, opened_at, "
                                  "last_seen_at, count, detail, deviations, suppressed_by) "
                                  "VALUES (?1,?2,?3,?4,?5,1,?6,?6,1,?7,?8,?9)"));
  TL_FLEET_TRY(ins.bind_text(1, in.kind));
  TL_FLEET_TRY(ins.bind_text(2, alert_severity(in.kind)));
  TL_FLEET_TRY(ins.bind_text(3, alert_title(in.kind)));
  TL_FLEET_TRY(ins.bind_text(4, in.vm));
  TL_FLEET_TRY(ins.bind_text(5, in.group));
  TL_FLEET_TRY(ins.bind_int64(6, now));
  TL_FLEET_TRY(ins.bind_text(7, in.detail));
  TL_FLEET_TRY(ins.bind_text(8, deviations_to_text(in.deviations)));
  TL_FLEET_TRY(rule ? ins.bind_int64(9, *rule) : ins.bind_null(9));
  TL_FLEET_ASSIGN(more, ins.step());
  (void)more;
  if (rule) return {};
  TL_FLEET_ASSIGN(a, alert_by_id(db, db.last_insert_rowid()));
  return write_event(db, "alert.opened", a, now);
}

Status resolve_alert(store::Database& db, const std::string& vm, const std::string& kind, int64_t now) {
  TL_FLEET_ASSIGN(existing, open_alert(db, vm, kind));
  if (!existing) return {};
  TL_FLEET_ASSIGN(up, db.prepare("UPDATE fleet_alerts SET open = 0, resolved_at = ?2 WHERE id = ?1"));
  TL_FLEET_TRY(up.bind_int64(1, existing->id));
  TL_FLEET_TRY(up.bind_int64(2, now));
  TL_FLEET_ASSIGN(more, up.step());
  (void)more;
  if (existing->suppressed_by) return {};
  existing->open = false;
  existing->resolved_at = now;
  return write_event(db, "alert.resolved", *existing, now);
}

Status resolve_all_alerts(store::Database& db, const std::string& vm, int64_t now) {
  for (const char* kind : kAlertKinds) {
    TL_FLEET_TRY(resolve_alert(db, vm, kind, now));
  }
  return {};
}

}  // namespace detail

Result<Page<Alert, int64_t>> Fleet::alerts(const AlertQuery& q) {
  if (q.limit < 1 || q.limit > 1000) {
    return Error{"limit: must be 1-1000 (got " + std::to_string(q.limit) + ")", "alert-query-invalid"};
  }
  if (q.severity && *q.severity != "High" && *q.severity != "Medium" && *q.severity != "Low") {
    return Error{"severity: must be High, Medium or Low", "alert-query-invalid"};
  }
  std::string sql = std::string("SELECT ") + kAlertColumns + " FROM fleet_alerts WHERE id > ?1";
  if (q.state == AlertQuery::State::open) sql += " AND open = 1";
  if (q.state == AlertQuery::State::resolved) sql += " AND open = 0";
  if (q.vm) sql += " AND vm = ?2";
  if (q.severity) sql += " AND severity = ?3";
  sql += " ORDER BY id LIMIT ?4";
  auto db = impl_->lease();
  auto run = [&]() -> Result<Page<Alert, int64_t>> {
    TL_FLEET_ASSIGN(st, db->prepare(sql));
    TL_FLEET_TRY(st.bind_int64(1, q.after.value_or(0)));
    if (q.vm) TL_FLEET_TRY(st.bind_text(2, *q.vm));
    if (q.severity) TL_FLEET_TRY(st.bind_text(3, *q.severity));
    TL_FLEET_TRY(st.bind_int64(4, q.limit + 1));
    Page<Alert, int64_t> page;
    for (;;) {
      TL_FLEET_ASSIGN(has, st.step());
      if (!has) break;
      TL_FLEET_ASSIGN(a, read_alert(st));
      page.items.push_back(std::move(a));
    }
    if (page.items.size() > static_cast<size_t>(q.limit)) {
      page.items.pop_back();
      page.next_after = page.items.back().id;
    }
    return page;
  };
  auto r = run();
  if (!r) return unavailable(r.take_error());
  return r;
}

Result<Suppression> Fleet::add_suppression(const Suppression& s, int64_t now) {
  if (!s.group && !s.vm && !s.kind) return Error{"needs at least one of group, vm, kind", "suppression-invalid"};
  if (s.group && !valid_name(*s.group)) return Error{"group: not a valid group name", "suppression-invalid"};
  if (s.vm && !valid_name(*s.vm)) return Error{"vm: not a valid VM name", "suppression-invalid"};
  if (s.kind && !is_alert_kind(*s.kind)) return Error{"kind: not an alert kind", "suppression-invalid"};
  if (s.reason.empty() || s.reason.size() > 512) return Error{"reason: 1-512 characters", "suppression-invalid"};
  std::lock_guard write(impl_->write_mu);
  auto db = impl_->lease();
  auto run = [&]() -> Result<Suppression> {
    TL_FLEET_ASSIGN(txn, store::Transaction::begin(*db));
    TL_FLEET_ASSIGN(ins, db->prepare("INSERT INTO fleet_suppressions (grp, vm, kind, reason, created_at) "
                                     "VALUES (?1,?2,?3,?4,?5)"));
    TL_FLEET_TRY(s.group ? ins.bind_text(1, *s.group) : ins.bind_null(1));
    TL_FLEET_TRY(s.vm ? ins.bind_text(2, *s.vm) : ins.bind_null(2));
    TL_FLEET_TRY(s.kind ? ins.bind_text(3, *s.kind) : ins.bind_null(3));
    TL_FLEET_TRY(ins.bind_text(4, s.reason));
    TL_FLEET_TRY(ins.bind_int64(5, now));
    TL_FLEET_ASSIGN(more, ins.step());
    (void)more;
    Suppression out = s;
    out.id = db->last_insert_rowid();
    out.created_at = now;
    // Open alerts the rule matches are silenced from now on (no event: their
    // receivers saw them open; docs/fleet.md says what that means).
    TL_FLEET_ASSIGN(up, db->prepare("UPDATE fleet_alerts SET suppressed_by = ?1 WHERE open = 1 AND "
                                    "suppressed_by IS NULL AND (?2 IS NULL OR grp = ?2) AND "
                                    "(?3 IS NULL OR vm = ?3) AND (?4 IS NULL OR kind = ?4)"));
    TL_FLEET_TRY(up.bind_int64(1, out.id));
    TL_FLEET_TRY(s.group ? up.bind_text(2, *s.group) : up.bind_null(2));
    TL_FLEET_TRY(s.vm ? up.bind_text(3, *s.vm) : up.bind_null(3));
    TL_FLEET_TRY(s.kind ? up.bind_text(4, *s.kind) : up.bind_null(4));
    TL_FLEET_ASSIGN(done, up.step());
    (void)done;
    TL_FLEET_TRY(txn.commit());
    return out;
  };
  auto r = run();
  if (!r) return unavailable(r.take_error());
  return r;
}

Result<std::vector<Suppression>> Fleet::suppressions() {
  auto db = impl_->lease();
  auto run = [&]() -> Result<std::vector<Suppression>> {
    TL_FLEET_ASSIGN(st, db->prepare("SELECT id, grp, vm, kind, reason, created_at FROM fleet_suppressions ORDER BY id"));
    std::vector<Suppression> out;
    for (;;) {
      TL_FLEET_ASSIGN(has, st.step());
      if (!has) break;
      Suppression s;
      TL_FLEET_ASSIGN(id, st.column_int64(0));
      s.id = id;
      for (int col : {1, 2, 3}) {
        TL_FLEET_ASSIGN(is_null, st.column_is_null(col));
        if (is_null) continue;
        TL_FLEET_ASSIGN(v, st.column_text(col));
        (col == 1 ? s.group : col == 2 ? s.vm : s.kind) = std::move(v);
      }
      TL_FLEET_ASSIGN(reason, st.column_text(4));
      s.reason = std::move(reason);
      TL_FLEET_ASSIGN(created, st.column_int64(5));
      s.created_at = created;
      out.push_back(std::move(s));
    }
    return out;
  };
  auto r = run();
  if (!r) return unavailable(r.take_error());
  return r;
}

Status Fleet::remove_suppression(int64_t id) {
  std::lock_guard write(impl_->write_mu);
  auto db = impl_->lease();
  auto run = [&]() -> Status {
    TL_FLEET_ASSIGN(txn, store::Transaction::begin(*db));
    TL_FLEET_ASSIGN(del, db->prepare("DELETE FROM fleet_suppressions WHERE id = ?1"));
    TL_FLEET_TRY(del.bind_int64(1, id));
    TL_FLEET_ASSIGN(more, del.step());
    (void)more;
    if (db->changes() == 0) return Error{"no suppression rule " + std::to_string(id), "suppression-not-found"};
    // Open alerts it silenced: another rule may still match; if none does the
    // alert is live again, so receivers hear of it now.
    TL_FLEET_ASSIGN(st, db->prepare(std::string("SELECT ") + kAlertColumns +
                                    " FROM fleet_alerts WHERE open = 1 AND suppressed_by = ?1"));
    TL_FLEET_TRY(st.bind_int64(1, id));
    std::vector<Alert> silenced;
    for (;;) {
      TL_FLEET_ASSIGN(has, st.step());
      if (!has) break;
      TL_FLEET_ASSIGN(a, read_alert(st));
      silenced.push_back(std::move(a));
    }
    // The deletion time is the moment the alerts become live; the rule API has
    // no clock parameter, so the alert's own last sighting stands in.
    for (Alert& a : silenced) {
      TL_FLEET_ASSIGN(rule, matching_rule(*db, a.group, a.vm, a.kind, id));
      TL_FLEET_ASSIGN(up, db->prepare("UPDATE fleet_alerts SET suppressed_by = ?2 WHERE id = ?1"));
      TL_FLEET_TRY(up.bind_int64(1, a.id));
      TL_FLEET_TRY(rule ? up.bind_int64(2, *rule) : up.bind_null(2));
      TL_FLEET_ASSIGN(done, up.step());
      (void)done;
      a.suppressed_by = rule;
      if (!rule) TL_FLEET_TRY(write_event(*db, "alert.opened", a, a.last_seen_at));
    }
    return txn.commit();
  };
  auto r = run();
  if (!r) return unavailable(r.take_error());
  return r;
}

}  // namespace tl::fleet
