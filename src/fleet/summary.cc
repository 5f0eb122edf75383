// The fleet summary and the recommendation listing. Each count is a scan of
// one covering index (fleet_vms_health, fleet_alerts_open_severity — partial,
// open unsuppressed alerts only — and fleet_recommendations_kind), never of a
// table, so the summary stays well under a second at 1,000,000 VMs
// (bench/RESULTS.md).
#include "fleet/internal.h"

namespace tl::fleet {

using namespace detail;

Result<Summary> Fleet::summary() {
  auto db = impl_->lease();
  auto run = [&]() -> Result<Summary> {
    Summary s;
    // One read transaction: the three counts describe the same moment.
    TL_FLEET_TRY(db->exec("BEGIN"));
    struct End {
      store::Database& db;
      ~End() { (void)db.exec("COMMIT"); }
    } end{*db};
    TL_FLEET_ASSIGN(h, db->prepare("SELECT health, count(*) FROM fleet_vms GROUP BY health"));
    for (;;) {
      TL_FLEET_ASSIGN(has, h.step());
      if (!has) break;
      TL_FLEET_ASSIGN(name, h.column_text(0));
      TL_FLEET_ASSIGN(n, h.column_int64(1));
      s.vms += n;
      if (name == "Healthy") s.healthy = n;
      if (name == "Unhealthy") s.unhealthy = n;
      if (name == "Unknown") s.unknown = n;
      if (name == "Pending") s.pending = n;
    }
    TL_FLEET_ASSIGN(a, db->prepare("SELECT severity, count(*) FROM fleet_alerts WHERE open = 1 AND "
                                   "suppressed_by IS NULL GROUP BY severity"));
    for (;;) {
      TL_FLEET_ASSIGN(has, a.step());
      if (!has) break;
      TL_FLEET_ASSIGN(sev, a.column_text(0));
      TL_FLEET_ASSIGN(n, a.column_int64(1));
      if (sev == "High") s.alerts_high = n;
      if (sev == "Medium") s.alerts_medium = n;
      if (sev == "Low") s.alerts_low = n;
    }
    TL_FLEET_ASSIGN(r, db->prepare("SELECT kind, count(*) FROM fleet_recommendations GROUP BY kind"));
    for (;;) {
      TL_FLEET_ASSIGN(has, r.step());
      if (!has) break;
      TL_FLEET_ASSIGN(kind, r.column_text(0));
      TL_FLEET_ASSIGN(n, r.column_int64(1));
      if (kind == kRecEnableSecureBoot) s.rec_enable_secure_boot = n;
      if (kind == kRecEnableVtpm) s.rec_enable_vtpm = n;
      if (kind == kRecInstallAgent) s.rec_install_agent = n;
    }
    return s;
  };
  auto r = run();
  if (!r) return unavailable(r.take_error());
  return r;
}

Result<Page<Fleet::RecommendationRow, std::string>> Fleet::recommendations(std::optional<std::string> kind, int limit,
                                                                           std::optional<std::string> after) {
  if (limit < 1 || limit > 1000) {
    return Error{"limit: must be 1-1000 (got " + std::to_string(limit) + ")", "vm-invalid"};
  }
  if (kind && *kind != kRecEnableSecureBoot && *kind != kRecEnableVtpm && *kind != kRecInstallAgent) {
    return Error{"kind: must be enable-secure-boot, enable-vtpm or install-agent", "vm-invalid"};
  }
  std::string sql = "SELECT vm, kind, title, detail FROM fleet_recommendations WHERE vm > ?1";
  if (kind) sql += " AND kind = ?2";
  sql += " ORDER BY vm, kind LIMIT ?3";
  auto db = impl_->lease();
  auto run = [&]() -> Result<Page<RecommendationRow, std::string>> {
    TL_FLEET_ASSIGN(st, db->prepare(sql));
    TL_FLEET_TRY(st.bind_text(1, after.value_or("")));
    if (kind) TL_FLEET_TRY(st.bind_text(2, *kind));
    // A VM has at most three; the cursor is a VM name, so a page never splits
    // a VM's recommendations: it may run up to two rows over `limit`.
    TL_FLEET_TRY(st.bind_int64(3, limit + 3));
    std::vector<RecommendationRow> rows;
    for (;;) {
      TL_FLEET_ASSIGN(has, st.step());
      if (!has) break;
      RecommendationRow row;
      TL_FLEET_ASSIGN(vm, st.column_text(0));
      row.vm = std::move(vm);
      TL_FLEET_ASSIGN(k, st.column_text(1));
      row.rec.kind = std::move(k);
      TL_FLEET_ASSIGN(title, st.column_text(2));
      row.rec.title = std::move(title);
      TL_FLEET_ASSIGN(detail, st.column_text(3));
      row.rec.detail = std::move(detail);
      rows.push_back(std::move(row));
    }
    Page<RecommendationRow, std::string> page;
    size_t keep = std::min(rows.size(), static_cast<size_t>(limit));
    while (keep > 0 && keep < rows.size() && rows[keep].vm == rows[keep - 1].vm) ++keep;
    if (keep < rows.size()) page.next_after = rows[keep - 1].vm;
    rows.resize(keep);
    page.items = std::move(rows);
    return page;
  };
  auto r = run();
  if (!r) return unavailable(r.take_error());
  return r;
}

}  // namespace tl::fleet
