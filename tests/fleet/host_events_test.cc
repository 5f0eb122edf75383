// Host events (record_host_event) on a real SQLite file: the status a VM
// that did not boot or crashed gets, its alerts (raised, de-duplicated, their
// alert_events, suppression, the summary), the staleness sweep, and what is
// refused. Resolution by a later Healthy attestation: record_verified_test.cc.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "fleet/fleet.h"
#include "store/database.h"
#include "support/cli_runner.h"

namespace tl::fleet {
namespace {

constexpr int64_t kT0 = 1795377600;  // 2026-11-22T20:00:00Z
constexpr int64_t kWindow = 3600;
constexpr const char* kGrub = "grub: error: bad shim signature.";

VmSpec spec(const std::string& name, const std::string& group = "pool-a") {
  VmSpec s;
  s.name = name;
  s.vm_id = "vmid-" + name;
  s.group = group;
  return s;
}

HostEvent event(HostEventKind kind, std::string detail = kGrub, std::optional<int64_t> at = {}) {
  HostEvent e;
  e.kind = kind;
  e.detail = std::move(detail);
  e.at = at;
  return e;
}

class HostEvents : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = dir_.path() / "tlaunchd.db";
    auto f = Fleet::open(path_, Options{kWindow, 2});
    ASSERT_TRUE(f.ok()) << f.error().message;
    fleet_ = std::move(*f);
  }

  Vm must_register(const VmSpec& s, int64_t now = kT0) {
    auto vm = fleet_->register_vm(s, now);
    EXPECT_TRUE(vm.ok()) << vm.error().message;
    return vm.ok() ? *vm : Vm{};
  }
  Vm must_record(const std::string& name, const HostEvent& e, int64_t now) {
    auto vm = fleet_->record_host_event(name, e, now);
    EXPECT_TRUE(vm.ok()) << vm.error().message;
    return vm.ok() ? *vm : Vm{};
  }
  Vm must_find(const std::string& name) {
    auto vm = fleet_->find(name, kT0);
    EXPECT_TRUE(vm.ok() && vm->has_value());
    return vm.ok() && vm->has_value() ? **vm : Vm{};
  }
  std::vector<Alert> alerts(AlertQuery::State state = AlertQuery::State::open) {
    AlertQuery q;
    q.state = state;
    q.limit = 1000;
    auto page = fleet_->alerts(q);
    EXPECT_TRUE(page.ok()) << page.error().message;
    return page.ok() ? page->items : std::vector<Alert>{};
  }
  // (event, alert kind) of every alert_events row, in order.
  std::vector<std::pair<std::string, std::string>> events() {
    std::vector<std::pair<std::string, std::string>> out;
    auto db = store::Database::open(path_);
    EXPECT_TRUE(db.ok());
    auto st = db->prepare("SELECT event, body FROM alert_events ORDER BY id");
    EXPECT_TRUE(st.ok());
    while (true) {
      auto row = st->step();
      EXPECT_TRUE(row.ok());
      if (!row.ok() || !*row) break;
      auto body = nlohmann::json::parse(*st->column_text(1));
      out.emplace_back(*st->column_text(0), body["kind"].get<std::string>());
    }
    return out;
  }

  test::TempDir dir_;
  std::filesystem::path path_;
  std::unique_ptr<Fleet> fleet_;
};

TEST_F(HostEvents, BootRefusedMakesANewVmUnhealthyWithAHighAlert) {
  must_register(spec("web-01"));
  const Vm vm = must_record("web-01", event(HostEventKind::boot_refused), kT0 + 60);
  EXPECT_EQ(vm.status.health, Health::unhealthy);
  EXPECT_EQ(vm.status.boot_integrity_validated, "Invalid");
  EXPECT_EQ(vm.status.error_message,
            "the VM did not boot: Secure Boot refused its boot chain (grub: error: bad shim signature.)");
  // Not attested: the tri-states it did not set stay Unknown, and no timestamp.
  EXPECT_EQ(vm.status.attest_secure_boot_enabled, "Unknown");
  EXPECT_EQ(vm.status.attestation_cert_validated, "Unknown");
  EXPECT_FALSE(vm.status.timestamp.has_value());
  EXPECT_FALSE(vm.last_report_at.has_value());
  EXPECT_FALSE(vm.ek_name.has_value());
  EXPECT_EQ(vm.spec.power_state, PowerState::running);  // QEMU still runs, stuck in the firmware
  EXPECT_EQ(vm.open_alerts, 1);
  EXPECT_TRUE(vm.recommendations.empty());
  EXPECT_EQ(to_json(vm)["attestationStatus"]["properties"]["provisioningState"], "Succeeded");

  const auto open = alerts();
  ASSERT_EQ(open.size(), 1u);
  EXPECT_EQ(open[0].kind, "boot-refused");
  EXPECT_EQ(open[0].severity, "High");
  EXPECT_EQ(open[0].title, "VM did not boot: Secure Boot refused its boot chain");
  EXPECT_EQ(open[0].detail, kGrub);
  EXPECT_EQ(open[0].vm, "web-01");
  EXPECT_EQ(open[0].group, "pool-a");
  EXPECT_EQ(open[0].opened_at, kT0 + 60);
  EXPECT_TRUE(open[0].deviations.empty());

  auto sum = fleet_->summary();
  ASSERT_TRUE(sum.ok());
  EXPECT_EQ(sum->alerts_high, 1);
  EXPECT_EQ(sum->alerts_medium, 0);
  EXPECT_EQ(sum->unhealthy, 1);
  AlertQuery high;
  high.severity = "High";
  EXPECT_EQ(fleet_->alerts(high)->items.size(), 1u);
  const auto ev = events();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0], std::make_pair(std::string("alert.opened"), std::string("boot-refused")));
}

TEST_F(HostEvents, BootRefusedKeepsTheTimestampAndWhatWasAttested) {
  must_register(spec("web-01"));
  // A VM with a validated report (a failure after its quote verified sets
  // timestamp and lastReportAt); a Healthy one is record_verified_test.cc's.
  ASSERT_TRUE(fleet_->record_rejected("vmid-web-01", Error{"cut short", "eventlog-malformed"}, kT0 + 10).ok());
  const Vm before = must_find("web-01");
  ASSERT_EQ(before.status.timestamp, kT0 + 10);
  const Vm vm = must_record("web-01", event(HostEventKind::boot_refused), kT0 + 20);
  EXPECT_EQ(vm.status.health, Health::unhealthy);
  EXPECT_EQ(vm.status.timestamp, kT0 + 10);  // unchanged: nothing was attested
  EXPECT_EQ(vm.last_report_at, kT0 + 10);
  EXPECT_EQ(vm.status.attest_secure_boot_enabled, before.status.attest_secure_boot_enabled);
  EXPECT_EQ(vm.status.attestation_cert_validated, before.status.attestation_cert_validated);
  EXPECT_NE(vm.status.error_message->find("did not boot"), std::string::npos);
}

TEST_F(HostEvents, RepeatsDeduplicateWithoutNewEvents) {
  must_register(spec("web-01"));
  must_record("web-01", event(HostEventKind::boot_refused, "first"), kT0 + 1);
  must_record("web-01", event(HostEventKind::boot_refused, "second"), kT0 + 2);
  const Vm vm = must_record("web-01", event(HostEventKind::boot_refused, "third"), kT0 + 3);
  EXPECT_EQ(vm.status.error_message, "the VM did not boot: Secure Boot refused its boot chain (third)");
  const auto open = alerts();
  ASSERT_EQ(open.size(), 1u);
  EXPECT_EQ(open[0].count, 3);
  EXPECT_EQ(open[0].opened_at, kT0 + 1);
  EXPECT_EQ(open[0].last_seen_at, kT0 + 3);
  EXPECT_EQ(open[0].detail, "third");
  EXPECT_EQ(events().size(), 1u);
}

TEST_F(HostEvents, CrashesStopTheVmAndMakeItUnknownWithAMediumAlert) {
  must_register(spec("vm-a"));
  must_register(spec("vm-b"));
  const Vm a = must_record("vm-a", event(HostEventKind::vm_crashed, "qemu-system-x86_64 killed by signal 11"), kT0 + 5);
  EXPECT_EQ(a.spec.power_state, PowerState::stopped);
  EXPECT_EQ(a.status.health, Health::unknown);
  EXPECT_EQ(a.status.error_message,
            "the VM crashed (host report: qemu-system-x86_64 killed by signal 11): its status is unknown until it "
            "boots and attests again");
  EXPECT_EQ(a.status.boot_integrity_validated, "Unknown");
  EXPECT_FALSE(a.status.timestamp.has_value());
  // It never attested, but it crashed: no reason to think the agent is missing.
  EXPECT_TRUE(a.recommendations.empty());

  const Vm b = must_record("vm-b", event(HostEventKind::vtpm_crashed, "swtpm exited with status 1"), kT0 + 6);
  EXPECT_EQ(b.spec.power_state, PowerState::stopped);
  EXPECT_EQ(b.status.health, Health::unknown);
  EXPECT_NE(b.status.error_message->find("the VM's vTPM crashed (host report: swtpm exited with status 1)"),
            std::string::npos);

  const auto open = alerts();
  ASSERT_EQ(open.size(), 2u);
  EXPECT_EQ(open[0].kind, "vm-crashed");
  EXPECT_EQ(open[0].severity, "Medium");
  EXPECT_EQ(open[0].title, "VM crashed");
  EXPECT_EQ(open[1].kind, "vtpm-crashed");
  EXPECT_EQ(open[1].severity, "Medium");
  EXPECT_EQ(open[1].title, "VM's vTPM crashed");
  EXPECT_EQ(fleet_->summary()->alerts_medium, 2);
  EXPECT_EQ(fleet_->summary()->rec_install_agent, 0);
}

TEST_F(HostEvents, ACrashNeverHidesAnUnhealthyBootBehindUnknown) {
  must_register(spec("vm"));
  must_record("vm", event(HostEventKind::boot_refused), kT0 + 1);
  const Vm vm = must_record("vm", event(HostEventKind::vm_crashed, "qemu exited"), kT0 + 2);
  EXPECT_EQ(vm.status.health, Health::unhealthy);
  EXPECT_EQ(vm.status.boot_integrity_validated, "Invalid");
  EXPECT_NE(vm.status.error_message->find("did not boot"), std::string::npos);
  EXPECT_EQ(vm.spec.power_state, PowerState::stopped);
  EXPECT_EQ(vm.open_alerts, 2);  // boot-refused and vm-crashed
}

TEST_F(HostEvents, HostEventsNeverMakeAVmHealthyOrBetter) {
  // Every kind, from every health: the result is never Healthy, and never
  // Unknown/Pending when it was Unhealthy.
  const HostEventKind kinds[] = {HostEventKind::boot_refused, HostEventKind::vm_crashed,
                                 HostEventKind::vtpm_crashed};
  int n = 0;
  for (HostEventKind first : kinds) {
    for (HostEventKind second : kinds) {
      const std::string name = "vm-" + std::to_string(n++);
      must_register(spec(name));
      const Vm one = must_record(name, event(first), kT0 + 1);
      const Vm two = must_record(name, event(second), kT0 + 2);
      EXPECT_NE(one.status.health, Health::healthy);
      EXPECT_NE(two.status.health, Health::healthy);
      if (one.status.health == Health::unhealthy) {
        EXPECT_EQ(two.status.health, Health::unhealthy) << name;
      }
    }
  }
}

TEST_F(HostEvents, AVmThatDidNotBootOrCrashedLeavesTheSweepAndItsStaleAlertResolves) {
  must_register(spec("refused"), kT0);
  must_register(spec("crashed"), kT0);
  must_register(spec("quiet"), kT0);
  ASSERT_EQ(*fleet_->sweep_stale(kT0 + kWindow + 1), 3);
  ASSERT_EQ(alerts().size(), 3u);
  must_record("refused", event(HostEventKind::boot_refused), kT0 + kWindow + 10);
  must_record("crashed", event(HostEventKind::vm_crashed, "qemu exited"), kT0 + kWindow + 10);
  // Their stale alerts resolved (the host said why no attestation comes).
  for (const Alert& a : alerts()) {
    if (a.vm != "quiet") {
      EXPECT_NE(a.kind, "attestation-stale") << a.vm;
    }
  }
  // Neither goes stale again, however long it stays so; the status keeps saying why.
  EXPECT_EQ(*fleet_->sweep_stale(kT0 + 100 * kWindow), 0);
  EXPECT_NE(must_find("refused").status.error_message->find("did not boot"), std::string::npos);
  EXPECT_EQ(must_find("refused").status.health, Health::unhealthy);
  EXPECT_NE(must_find("crashed").status.error_message->find("crashed"), std::string::npos);
  // A start puts the crashed VM back under watch: a whole window from then.
  VmPatch start;
  start.power_state = PowerState::running;
  ASSERT_TRUE(fleet_->update_vm("crashed", start, kT0 + 200 * kWindow).ok());
  EXPECT_EQ(*fleet_->sweep_stale(kT0 + 201 * kWindow - 1), 0);
  EXPECT_EQ(*fleet_->sweep_stale(kT0 + 201 * kWindow + 1), 1);
  const Vm swept = must_find("crashed");
  EXPECT_EQ(swept.status.health, Health::unknown);
  EXPECT_NE(swept.status.error_message->find("no valid attestation since registration"), std::string::npos);
  // Swept without ever reporting: now install-agent is the likely fix.
  ASSERT_EQ(swept.recommendations.size(), 1u);
  EXPECT_EQ(swept.recommendations[0].kind, "install-agent");
}

TEST_F(HostEvents, AtDatesTheAlertAndIsBoundedByTheClock) {
  must_register(spec("vm"));
  // Earlier than now: the alert says when it happened.
  must_record("vm", event(HostEventKind::boot_refused, kGrub, kT0 - 30), kT0 + 100);
  EXPECT_EQ(alerts()[0].opened_at, kT0 - 30);
  // A little ahead (host clock skew): dated now, never in the future.
  must_record("vm", event(HostEventKind::vm_crashed, "gone", kT0 + 200 + kHostEventMaxSkewSeconds), kT0 + 200);
  for (const Alert& a : alerts()) {
    if (a.kind == "vm-crashed") {
      EXPECT_EQ(a.opened_at, kT0 + 200);
    }
  }
  // Further ahead: refused, naming the member and the clock.
  auto ahead =
      fleet_->record_host_event("vm", event(HostEventKind::vm_crashed, "x", kT0 + 201 + kHostEventMaxSkewSeconds), kT0 + 200);
  ASSERT_FALSE(ahead.ok());
  EXPECT_EQ(ahead.error().reason, "vm-invalid");
  EXPECT_NE(ahead.error().message.find("at: "), std::string::npos) << ahead.error().message;
  EXPECT_NE(ahead.error().message.find("clock"), std::string::npos) << ahead.error().message;
  auto zero = fleet_->record_host_event("vm", event(HostEventKind::vm_crashed, "x", 0), kT0);
  ASSERT_FALSE(zero.ok());
  EXPECT_EQ(zero.error().reason, "vm-invalid");
}

TEST_F(HostEvents, RefusedEventsChangeNothing) {
  must_register(spec("vm"));
  auto missing = fleet_->record_host_event("nope", event(HostEventKind::boot_refused), kT0);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().reason, "vm-not-found");
  EXPECT_NE(missing.error().message.find("nope"), std::string::npos);
  for (const std::string& detail : {std::string(), std::string("   "), std::string(kMaxHostEventDetail + 1, 'x')}) {
    auto bad = fleet_->record_host_event("vm", event(HostEventKind::boot_refused, detail), kT0);
    ASSERT_FALSE(bad.ok()) << detail.size();
    EXPECT_EQ(bad.error().reason, "vm-invalid");
    EXPECT_NE(bad.error().message.find("detail"), std::string::npos) << bad.error().message;
  }
  EXPECT_TRUE(fleet_->record_host_event("vm", event(HostEventKind::boot_refused, std::string(kMaxHostEventDetail, 'x')), kT0)
                  .ok());
  must_register(spec("other"));
  EXPECT_EQ(must_find("other").status.health, Health::pending);
  EXPECT_EQ(alerts().size(), 1u);
}

TEST_F(HostEvents, NewKindsCanBeSuppressedAndDeletingTheVmResolvesThem) {
  must_register(spec("lab-01", "lab"));
  Suppression rule;
  rule.group = "lab";
  rule.kind = "boot-refused";
  rule.reason = "lab VMs boot unsigned test kernels";
  auto added = fleet_->add_suppression(rule, kT0);
  ASSERT_TRUE(added.ok()) << added.error().message;
  must_record("lab-01", event(HostEventKind::boot_refused), kT0 + 1);
  must_record("lab-01", event(HostEventKind::vtpm_crashed, "swtpm gone"), kT0 + 2);
  auto open = alerts();
  ASSERT_EQ(open.size(), 2u);
  EXPECT_EQ(open[0].kind, "boot-refused");
  EXPECT_EQ(open[0].suppressed_by, added->id);
  EXPECT_FALSE(open[1].suppressed_by.has_value());
  EXPECT_EQ(fleet_->summary()->alerts_high, 0);  // suppressed: counted nowhere
  EXPECT_EQ(must_find("lab-01").open_alerts, 1);
  for (const char* kind : {"vm-crashed", "vtpm-crashed"}) {
    Suppression k;  // another VM's: accepted, silences nothing here
    k.vm = "elsewhere";
    k.kind = kind;
    k.reason = "crashes are paged elsewhere";
    EXPECT_TRUE(fleet_->add_suppression(k, kT0).ok()) << kind;
  }
  ASSERT_TRUE(fleet_->remove("lab-01", kT0 + 10).ok());
  EXPECT_TRUE(alerts().empty());
  EXPECT_EQ(alerts(AlertQuery::State::resolved).size(), 2u);
  // Events: only the unsuppressed vtpm-crashed opened and resolved.
  const auto ev = events();
  ASSERT_EQ(ev.size(), 2u);
  EXPECT_EQ(ev[0], std::make_pair(std::string("alert.opened"), std::string("vtpm-crashed")));
  EXPECT_EQ(ev[1], std::make_pair(std::string("alert.resolved"), std::string("vtpm-crashed")));
}

}  // namespace
}  // namespace tl::fleet
