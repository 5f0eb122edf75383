// The fleet monitor at 1,000,000 VMs (issue 4, bench/RESULTS.md "Fleet at
// 1,000,000 VMs"): the staleness sweep and the fleet summary on a real SQLite
// file with tlaunchd's schema.
//
// The population is made once, in one transaction through the Fleet's own
// schema (tables, indexes, CHECKs), into a pristine file that later runs reuse
// ($TL_FLEET_BENCH_DIR, default $TMPDIR/tl_fleet_scale). Each benchmark works
// on a fresh copy of it. Per VM i (name vm-%07d, ordered by last validation):
//   90% Healthy, 5% Unhealthy with an open attestation-failed alert, 2% already
//   stale (Unknown, open attestation-stale alert), 1% Pending, 2% Healthy with
//   a recommendation-worthy profile; 0.1% with an untrusted-kernel-module alert.
// "1% stale": the clock is set so that the 10,000 least recently validated VMs
// are past the refresh window (those already stale are skipped, so ~9,800
// change); between iterations, outside the timing, those rows are rewritten as
// they were. "all stale": the clock is far ahead, every running VM that can
// go stale does (~980,000), measured once.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <type_traits>

#include "fleet/fleet.h"
#include "store/database.h"

namespace {

namespace fs = std::filesystem;
using tl::fleet::Fleet;

constexpr int64_t kVms = 1'000'000;
constexpr int64_t kT0 = 1795377600;  // 2026-11-22T20:00:00Z
constexpr int64_t kWindow = 8 * 3600;
constexpr int64_t kOnePercent = kVms / 100;
// Bumped whenever the population changes, so an old pristine file is rebuilt.
constexpr int kPopulationVersion = 1;

fs::path bench_dir() {
  if (const char* d = std::getenv("TL_FLEET_BENCH_DIR"); d != nullptr && *d != '\0') return d;
  return fs::temp_directory_path() / "tl_fleet_scale";
}

std::string vm_name(int64_t i) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "vm-%07lld", static_cast<long long>(i));
  return buf;
}

void die(const std::string& what, const tl::Error& e) {
  std::fprintf(stderr, "fleet_scale: %s: %s\n", what.c_str(), e.message.c_str());
  std::exit(1);
}

template <typename R>
auto must(R r, const std::string& what) {
  if (!r) die(what, r.error());
  if constexpr (!std::is_same_v<R, tl::Status>) return std::move(*r);
}

// Inserts VMs [from, to) as the population describes, with their
// recommendations and alerts, in the caller's transaction.
void populate_range(tl::store::Database& db, int64_t from, int64_t to) {
  auto vm = must(db.prepare("INSERT INTO fleet_vms (name, vm_id, resource_id, grp, security_type, secure_boot, "
                            "tpm_enabled, agent_installed, power_state, ek_name, registered_at, last_report_at, "
                            "sb_state, cert_state, boot_state, health, kernel_version, error_message, validated_at, "
                            "fresh_since) VALUES (?1,?2,'',?3,'TrustedLaunch',?4,?5,?6,'Running',?7,?8,?9,?10,?11,?12,"
                            "?13,'6.1.0-27-amd64',?14,?15,?16)"),
                 "prepare vm");
  auto rec = must(db.prepare("INSERT INTO fleet_recommendations (vm, kind, title, detail) VALUES (?1,?2,?3,'bench')"),
                  "prepare rec");
  auto alert = must(db.prepare("INSERT INTO fleet_alerts (kind, severity, title, vm, grp, open, opened_at, "
                               "last_seen_at, count, detail) VALUES (?1,?2,?3,?4,?5,1,?6,?6,1,'bench')"),
                    "prepare alert");
  for (int64_t i = from; i < to; ++i) {
    const int64_t m = i % 100;
    const std::string name = vm_name(i);
    const std::string group = "pool-" + std::to_string(i % 50);
    const int64_t validated = kT0 + 1000 + i;  // VM 0 is the least recently validated
    const bool pending = m == 99, stale = m == 97 || m == 98, unhealthy = m >= 50 && m <= 54;
    const bool sb_off = m == 10, tpm_off = m == 11, no_agent = m == 12;
    must(vm.reset(), "reset");
    must(vm.bind_text(1, name), "bind");
    must(vm.bind_text(2, "id-" + name), "bind");
    must(vm.bind_text(3, group), "bind");
    must(vm.bind_int64(4, sb_off ? 0 : 1), "bind");
    must(vm.bind_int64(5, tpm_off ? 0 : 1), "bind");
    must(vm.bind_int64(6, no_agent ? 0 : 1), "bind");
    must(pending ? vm.bind_null(7) : vm.bind_text(7, "000b" + name), "bind");
    must(vm.bind_int64(8, pending ? validated : kT0), "bind");
    must(pending ? vm.bind_null(9) : vm.bind_int64(9, validated), "bind");
    must(vm.bind_text(10, pending ? "Unknown" : "Enabled"), "bind");
    must(vm.bind_text(11, pending ? "Unknown" : "Valid"), "bind");
    must(vm.bind_text(12, pending ? "Unknown" : unhealthy ? "Invalid" : "Valid"), "bind");
    const char* health = pending ? "Pending" : stale ? "Unknown" : (unhealthy || tpm_off) ? "Unhealthy" : "Healthy";
    must(vm.bind_text(13, health), "bind");
    must(unhealthy ? vm.bind_text(14, "boot integrity: PCR 4 event 23 …") : vm.bind_null(14), "bind");
    must(pending ? vm.bind_null(15) : vm.bind_int64(15, validated), "bind");
    must(stale ? vm.bind_null(16) : vm.bind_int64(16, validated), "bind");
    must(vm.step(), "insert vm");

    auto add_rec = [&](const char* kind, const char* title) {
      must(rec.reset(), "reset");
      must(rec.bind_text(1, name), "bind");
      must(rec.bind_text(2, kind), "bind");
      must(rec.bind_text(3, title), "bind");
      must(rec.step(), "insert rec");
    };
    if (sb_off) add_rec("enable-secure-boot", "Enable Secure Boot");
    if (tpm_off) add_rec("enable-vtpm", "Enable vTPM");
    if (no_agent) add_rec("install-agent", "Install the guest attestation agent");

    auto add_alert = [&](const char* kind, const char* severity, const char* title) {
      must(alert.reset(), "reset");
      must(alert.bind_text(1, kind), "bind");
      must(alert.bind_text(2, severity), "bind");
      must(alert.bind_text(3, title), "bind");
      must(alert.bind_text(4, name), "bind");
      must(alert.bind_text(5, group), "bind");
      must(alert.bind_int64(6, validated), "bind");
      must(alert.step(), "insert alert");
    };
    if (unhealthy) add_alert("attestation-failed", "Medium", "VM attestation failed");
    if (stale) add_alert("attestation-stale", "Medium", "Attestation status stale");
    if (i % 1000 == 7) add_alert("untrusted-kernel-module", "Low", "Untrusted kernel module");
  }
}

fs::path pristine() {
  const fs::path dir = bench_dir();
  const fs::path file = dir / "pristine.db";
  fs::create_directories(dir);
  if (fs::exists(file)) {
    auto db = must(tl::store::Database::open(file), "open " + file.string());
    auto st = db.prepare("SELECT version, vms FROM bench_meta");
    if (st) {
      auto row = st->step();
      if (row && *row && *st->column_int64(0) == kPopulationVersion && *st->column_int64(1) == kVms) return file;
    }
  }
  std::fprintf(stderr, "fleet_scale: populating %lld VMs into %s (once; later runs reuse it)\n",
               static_cast<long long>(kVms), file.string().c_str());
  for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(file.string() + suffix);
  {
    // The Fleet creates the schema (all migrations), exactly as tlaunchd would.
    auto fleet = must(Fleet::open(file, tl::fleet::Options{kWindow, 1}), "Fleet::open");
  }
  auto db = must(tl::store::Database::open(file), "open");
  {
    auto txn = must(tl::store::Transaction::begin(db), "begin");
    populate_range(db, 0, kVms);
    must(db.exec("CREATE TABLE bench_meta (version INTEGER, vms INTEGER)"), "meta");
    must(db.exec("INSERT INTO bench_meta VALUES (" + std::to_string(kPopulationVersion) + ", " +
                 std::to_string(kVms) + ")"),
         "meta");
    must(txn.commit(), "commit");
  }
  // Fresh statistics for the query planner, and everything in the main file.
  must(db.exec("ANALYZE"), "analyze");
  must(db.exec("PRAGMA wal_checkpoint(TRUNCATE)"), "checkpoint");
  return file;
}

// A working copy of the pristine population.
fs::path fresh_copy() {
  const fs::path src = pristine();
  const fs::path dst = bench_dir() / "work.db";
  for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(dst.string() + suffix);
  fs::copy_file(src, dst);
  return dst;
}

int64_t max_event_id(tl::store::Database& db) {
  auto st = must(db.prepare("SELECT coalesce(max(id), 0) FROM alert_events"), "prepare");
  must(st.step(), "step");
  return must(st.column_int64(0), "column");
}

// Puts VMs [0, n) back as the population had them (outside the timing).
void restore_oldest(tl::store::Database& db, int64_t n, int64_t events_before) {
  auto txn = must(tl::store::Transaction::begin(db), "begin");
  const std::string end = vm_name(n);
  must(db.exec("DELETE FROM fleet_alerts WHERE vm < '" + end + "'"), "delete alerts");
  must(db.exec("DELETE FROM fleet_vms WHERE name < '" + end + "'"), "delete vms");  // cascades recommendations
  must(db.exec("DELETE FROM alert_events WHERE id > " + std::to_string(events_before)), "delete events");
  populate_range(db, 0, n);
  must(txn.commit(), "commit");
}

void BM_SweepOnePercentStale(benchmark::State& state) {
  const fs::path file = fresh_copy();
  auto fleet = must(Fleet::open(file, tl::fleet::Options{kWindow, 2}), "Fleet::open");
  auto db = must(tl::store::Database::open(file), "open");
  const int64_t events_before = max_event_id(db);
  // Cutoff = validated time of VM 10,000: VMs 0 … 9,999 are past the window.
  const int64_t now = kT0 + 1000 + kOnePercent + kWindow;
  int64_t swept = 0;
  for (auto _ : state) {
    swept = must(fleet->sweep_stale(now), "sweep");
    state.PauseTiming();
    restore_oldest(db, kOnePercent, events_before);
    state.ResumeTiming();
  }
  state.counters["vms"] = static_cast<double>(kVms);
  state.counters["swept"] = static_cast<double>(swept);
}

void BM_SweepAllStale(benchmark::State& state) {
  const fs::path file = fresh_copy();
  auto fleet = must(Fleet::open(file, tl::fleet::Options{kWindow, 2}), "Fleet::open");
  int64_t swept = 0;
  for (auto _ : state) swept = must(fleet->sweep_stale(kT0 + 1000 + kVms + kWindow + 1), "sweep");
  state.counters["vms"] = static_cast<double>(kVms);
  state.counters["swept"] = static_cast<double>(swept);
}

void BM_Summary(benchmark::State& state) {
  const fs::path file = fresh_copy();
  auto fleet = must(Fleet::open(file, tl::fleet::Options{kWindow, 2}), "Fleet::open");
  tl::fleet::Summary s;
  for (auto _ : state) {
    s = must(fleet->summary(), "summary");
    benchmark::DoNotOptimize(s);
  }
  if (s.vms != kVms) die("summary", tl::Error{"counted " + std::to_string(s.vms) + " VMs"});
  state.counters["vms"] = static_cast<double>(s.vms);
  state.counters["healthy"] = static_cast<double>(s.healthy);
  state.counters["alerts_medium"] = static_cast<double>(s.alerts_medium);
  state.counters["rec_install_agent"] = static_cast<double>(s.rec_install_agent);
}

// Real time (the work is SQLite's, partly I/O); seconds, since that is the target's unit.
BENCHMARK(BM_Summary)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(10);
BENCHMARK(BM_SweepOnePercentStale)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(5);
BENCHMARK(BM_SweepAllStale)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(1);

}  // namespace

BENCHMARK_MAIN();
