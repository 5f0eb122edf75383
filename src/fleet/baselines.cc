// Trusted baselines per group: versions stored as policy::to_json bodies,
// learning flags, and the parsed current baseline the verifier is handed.
#include <algorithm>

#include "fleet/internal.h"

namespace tl::fleet {

using namespace detail;

namespace detail {

namespace {

Status check_pcrs(const std::vector<uint32_t>& pcrs) {
  if (pcrs.empty()) return Error{"pcrs: a baseline needs at least one PCR", "baseline-invalid"};
  for (size_t i = 0; i < pcrs.size(); ++i) {
    if (pcrs[i] > 23) return Error{"pcrs: PCR " + std::to_string(pcrs[i]) + " is not 0-23", "baseline-invalid"};
    if (i > 0 && pcrs[i] <= pcrs[i - 1]) return Error{"pcrs: must be ascending without repeats", "baseline-invalid"};
  }
  return {};
}

Status check_variant(const policy::BaselineVariant& v, const std::vector<uint32_t>& pcrs) {
  if (!valid_name(v.name)) {
    return Error{"variant: the name must be 1-64 characters of A-Z a-z 0-9 . _ -", "baseline-invalid"};
  }
  for (uint32_t pcr : pcrs) {
    if (!v.pcr_values.contains(pcr)) {
      return Error{"variant " + v.name + ": has no value for baseline PCR " + std::to_string(pcr) +
                       " (make it with the same PCR list)",
                   "baseline-invalid"};
    }
  }
  return {};
}

}  // namespace

Result<std::optional<policy::Baseline>> load_baseline(store::Database& db, const std::string& group,
                                                      std::optional<int> version) {
  TL_FLEET_ASSIGN(st, db.prepare(version ? "SELECT body FROM fleet_baselines WHERE grp = ?1 AND version = ?2"
                                         : "SELECT body FROM fleet_baselines WHERE grp = ?1 ORDER BY version DESC "
                                           "LIMIT 1"));
  TL_FLEET_TRY(st.bind_text(1, group));
  if (version) TL_FLEET_TRY(st.bind_int64(2, *version));
  TL_FLEET_ASSIGN(has, st.step());
  if (!has) return std::optional<policy::Baseline>{};
  TL_FLEET_ASSIGN(body, st.column_text(0));
  const auto j = nlohmann::json::parse(body, nullptr, false);
  auto b = policy::baseline_from_json(j);
  if (!b) {
    return Error{"stored baseline of group " + group + " does not read back: " + b.error().message, "unavailable"};
  }
  return std::optional<policy::Baseline>{std::move(*b)};
}

Result<policy::Baseline> insert_baseline(store::Database& db, const std::string& group,
                                         std::vector<policy::BaselineVariant> variants,
                                         const std::vector<uint32_t>& pcrs, int64_t now) {
  TL_FLEET_ASSIGN(st, db.prepare("SELECT coalesce(max(version), 0) FROM fleet_baselines WHERE grp = ?1"));
  TL_FLEET_TRY(st.bind_text(1, group));
  TL_FLEET_ASSIGN(has, st.step());
  (void)has;
  TL_FLEET_ASSIGN(newest, st.column_int64(0));
  policy::Baseline b;
  b.group = group;
  b.version = static_cast<int>(newest + 1);
  b.created_at = now;
  b.pcrs = pcrs;
  b.variants = std::move(variants);
  // The reader's limits, checked here with messages that say what to do; the
  // re-parse below is the backstop for every other rule of the reader.
  if (b.variants.size() > kMaxBaselineVariants) {
    return Error{"variants: a baseline version holds at most " + std::to_string(kMaxBaselineVariants) +
                     " variants (this one would have " + std::to_string(b.variants.size()) +
                     "); start afresh with mode new-version",
                 "baseline-invalid"};
  }
  for (const policy::BaselineVariant& v : b.variants) {
    if (v.measurements.size() > kMaxVariantMeasurements) {
      return Error{"variant " + v.name + ": at most " + std::to_string(kMaxVariantMeasurements) +
                       " measurements on the baseline PCRs (it has " + std::to_string(v.measurements.size()) + ")",
                   "baseline-invalid"};
    }
  }
  std::string body;
  try {
    body = policy::to_json(b).dump();
  } catch (const nlohmann::json::exception& e) {
    // Strict dump: text that is not UTF-8 would not be stored as given.
    return Error{std::string("the baseline cannot be stored as JSON: ") + e.what(), "baseline-invalid"};
  }
  // Store only what load_baseline will read back: a body it refuses would
  // break every VM of the group and baselines() for all groups.
  if (auto back = policy::baseline_from_json(nlohmann::json::parse(body, nullptr, false)); !back) {
    return Error{"the baseline would not read back: " + back.error().message, "baseline-invalid"};
  }
  TL_FLEET_ASSIGN(ins, db.prepare("INSERT INTO fleet_baselines (grp, version, created_at, body) VALUES (?1,?2,?3,?4)"));
  TL_FLEET_TRY(ins.bind_text(1, group));
  TL_FLEET_TRY(ins.bind_int64(2, b.version));
  TL_FLEET_TRY(ins.bind_int64(3, now));
  TL_FLEET_TRY(ins.bind_text(4, body));
  TL_FLEET_ASSIGN(more, ins.step());
  (void)more;
  return b;
}

Result<bool> learning_on(store::Database& db, const std::string& group) {
  TL_FLEET_ASSIGN(st, db.prepare("SELECT learning FROM fleet_baseline_groups WHERE grp = ?1"));
  TL_FLEET_TRY(st.bind_text(1, group));
  TL_FLEET_ASSIGN(has, st.step());
  if (!has) return false;
  TL_FLEET_ASSIGN(v, st.column_int64(0));
  return v != 0;
}

Status put_learning(store::Database& db, const std::string& group, bool enabled) {
  TL_FLEET_ASSIGN(st, db.prepare("INSERT INTO fleet_baseline_groups (grp, learning) VALUES (?1, ?2) "
                                 "ON CONFLICT (grp) DO UPDATE SET learning = excluded.learning"));
  TL_FLEET_TRY(st.bind_text(1, group));
  TL_FLEET_TRY(st.bind_int64(2, enabled ? 1 : 0));
  TL_FLEET_ASSIGN(more, st.step());
  (void)more;
  return {};
}

}  // namespace detail

Result<std::shared_ptr<const policy::Baseline>> Fleet::baseline_for_vm(const std::string& vm_id) {
  auto db = impl_->lease();
  auto run = [&]() -> Result<std::shared_ptr<const policy::Baseline>> {
    TL_FLEET_ASSIGN(st, db->prepare("SELECT b.grp, max(b.version) FROM fleet_vms v JOIN fleet_baselines b "
                                    "ON b.grp = v.grp WHERE v.vm_id = ?1"));
    TL_FLEET_TRY(st.bind_text(1, vm_id));
    TL_FLEET_ASSIGN(has, st.step());
    (void)has;  // an aggregate always yields one row; NULLs when nothing matched
    TL_FLEET_ASSIGN(none, st.column_is_null(0));
    if (none) return std::shared_ptr<const policy::Baseline>{};
    TL_FLEET_ASSIGN(group, st.column_text(0));
    TL_FLEET_ASSIGN(version, st.column_int64(1));
    {
      std::lock_guard lock(impl_->cache_mu);
      const auto it = impl_->baseline_cache.find(group);
      if (it != impl_->baseline_cache.end() && it->second->version == version) return it->second;
    }
    TL_FLEET_ASSIGN(b, load_baseline(*db, group, static_cast<int>(version)));
    if (!b) return std::shared_ptr<const policy::Baseline>{};
    auto shared = std::make_shared<const policy::Baseline>(std::move(*b));
    std::lock_guard lock(impl_->cache_mu);
    impl_->baseline_cache[group] = shared;
    return shared;
  };
  auto r = run();
  if (!r) return unavailable(r.take_error());
  return r;
}

Result<policy::Baseline> Fleet::add_baseline(const std::string& group, policy::BaselineVariant variant,
                                             const std::vector<uint32_t>& pcrs_in, BaselineMode mode, int64_t now) {
  if (!valid_name(group)) return Error{"group: must be 1-64 characters of A-Z a-z 0-9 . _ -", "baseline-invalid"};
  std::vector<uint32_t> pcrs = pcrs_in.empty() ? policy::default_baseline_pcrs() : pcrs_in;
  TL_FLEET_TRY(check_pcrs(pcrs));
  std::lock_guard write(impl_->write_mu);
  auto db = impl_->lease();
  auto run = [&]() -> Result<policy::Baseline> {
    TL_FLEET_ASSIGN(txn, store::Transaction::begin(*db));
    std::vector<policy::BaselineVariant> variants;
    if (mode == BaselineMode::add_variant) {
      TL_FLEET_ASSIGN(current, load_baseline(*db, group, std::nullopt));
      if (current) {
        if (!pcrs_in.empty() && pcrs != current->pcrs) {
          return Error{"pcrs: a variant added to version " + std::to_string(current->version) +
                           " must cover its PCRs; use mode new-version to change them",
                       "baseline-invalid"};
        }
        pcrs = current->pcrs;
        for (policy::BaselineVariant& v : current->variants) {
          if (v.name != variant.name) variants.push_back(std::move(v));
        }
      }
    }
    TL_FLEET_TRY(check_variant(variant, pcrs));
    variants.push_back(std::move(variant));
    TL_FLEET_ASSIGN(b, insert_baseline(*db, group, std::move(variants), pcrs, now));
    TL_FLEET_TRY(txn.commit());
    return b;
  };
  auto r = run();
  if (!r) return unavailable(r.take_error());
  return r;
}

Result<std::optional<policy::Baseline>> Fleet::baseline(const std::string& group, std::optional<int> version) {
  auto db = impl_->lease();
  auto r = load_baseline(*db, group, version);
  if (!r) return unavailable(r.take_error());
  return r;
}

Result<std::vector<Fleet::BaselineInfo>> Fleet::baselines() {
  auto db = impl_->lease();
  auto run = [&]() -> Result<std::vector<BaselineInfo>> {
    // Every group with a baseline or a learning flag, with its newest version.
    TL_FLEET_ASSIGN(st, db->prepare(
                            "SELECT g.grp, coalesce(l.learning, 0), b.version, b.created_at, b.body FROM "
                            "(SELECT grp FROM fleet_baselines UNION SELECT grp FROM fleet_baseline_groups) g "
                            "LEFT JOIN fleet_baseline_groups l ON l.grp = g.grp "
                            "LEFT JOIN fleet_baselines b ON b.grp = g.grp AND b.version = "
                            "(SELECT max(version) FROM fleet_baselines WHERE grp = g.grp) ORDER BY g.grp"));
    std::vector<BaselineInfo> out;
    for (;;) {
      TL_FLEET_ASSIGN(has, st.step());
      if (!has) break;
      BaselineInfo info;
      TL_FLEET_ASSIGN(group, st.column_text(0));
      info.group = std::move(group);
      TL_FLEET_ASSIGN(learning, st.column_int64(1));
      info.learning = learning != 0;
      TL_FLEET_ASSIGN(none, st.column_is_null(2));
      if (!none) {
        TL_FLEET_ASSIGN(version, st.column_int64(2));
        info.version = static_cast<int>(version);
        TL_FLEET_ASSIGN(created, st.column_int64(3));
        info.created_at = created;
        TL_FLEET_ASSIGN(body, st.column_text(4));
        auto b = policy::baseline_from_json(nlohmann::json::parse(body, nullptr, false));
        if (!b) return Error{"stored baseline of group " + info.group + ": " + b.error().message, "unavailable"};
        for (const policy::BaselineVariant& v : b->variants) info.variants.push_back(v.name);
      }
      out.push_back(std::move(info));
    }
    return out;
  };
  auto r = run();
  if (!r) return unavailable(r.take_error());
  return r;
}

Status Fleet::set_learning(const std::string& group, bool enabled) {
  if (!valid_name(group)) return Error{"group: must be 1-64 characters of A-Z a-z 0-9 . _ -", "baseline-invalid"};
  std::lock_guard write(impl_->write_mu);
  auto db = impl_->lease();
  auto run = [&]() -> Status {
    TL_FLEET_ASSIGN(txn, store::Transaction::begin(*db));
    TL_FLEET_TRY(put_learning(*db, group, enabled));
    return txn.commit();
  };
  auto r = run();
  if (!r) return unavailable(r.take_error());
  return r;
}

}  // namespace tl::fleet
