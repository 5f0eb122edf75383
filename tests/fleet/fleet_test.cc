// The fleet on a real SQLite file: inventory, rejections and their alerts,
// de-duplication, suppression, alert_events, recommendations, the staleness
// sweep (time is a parameter: no sleeping), the summary, and two threads
// recording at once.
#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

#include "fleet/fleet.h"
#include "store/database.h"
#include "support/cli_runner.h"

namespace tl::fleet {
namespace {

constexpr int64_t kT0 = 1795377600;  // 2026-11-22T20:00:00Z
constexpr int64_t kWindow = 3600;

VmSpec spec(const std::string& name, const std::string& group = "pool-a") {
  VmSpec s;
  s.name = name;
  s.vm_id = "vmid-" + name;
  s.group = group;
  return s;
}

Error rejection(const char* reason, const char* message = "details") { return Error{message, reason}; }

class FleetTest : public ::testing::Test {
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

  Vm must_find(const std::string& name) {
    auto vm = fleet_->find(name, kT0);
    EXPECT_TRUE(vm.ok() && vm->has_value());
    return vm.ok() && vm->has_value() ? **vm : Vm{};
  }

  std::vector<Alert> open_alerts(const std::optional<std::string>& vm = {}) {
    AlertQuery q;
    q.vm = vm;
    q.limit = 1000;
    auto page = fleet_->alerts(q);
    EXPECT_TRUE(page.ok()) << page.error().message;
    return page.ok() ? page->items : std::vector<Alert>{};
  }

  // (event, alert id) of every row of alert_events, in order.
  std::vector<std::pair<std::string, int64_t>> events() {
    std::vector<std::pair<std::string, int64_t>> out;
    auto db = store::Database::open(path_);
    EXPECT_TRUE(db.ok());
    auto st = db->prepare("SELECT event, alert_id, body FROM alert_events ORDER BY id");
    EXPECT_TRUE(st.ok());
    while (true) {
      auto row = st->step();
      EXPECT_TRUE(row.ok());
      if (!row.ok() || !*row) break;
      auto body = nlohmann::json::parse(*st->column_text(2));
      EXPECT_EQ(body["id"], *st->column_int64(1));  // the body is the Alert as the API shows it
      out.emplace_back(*st->column_text(0), *st->column_int64(1));
    }
    return out;
  }

  test::TempDir dir_;
  std::filesystem::path path_;
  std::unique_ptr<Fleet> fleet_;
};

TEST_F(FleetTest, RegisterFindListRemove) {
  const Vm vm = must_register(spec("web-01"));
  EXPECT_EQ(vm.status.health, Health::pending);
  EXPECT_EQ(vm.registered_at, kT0);
  EXPECT_FALSE(vm.ek_name.has_value());
  EXPECT_TRUE(vm.recommendations.empty());

  auto dup = fleet_->register_vm(spec("web-01"), kT0);
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(dup.error().reason, "vm-exists");
  VmSpec same_id = spec("web-02");
  same_id.vm_id = "vmid-web-01";
  auto dup_id = fleet_->register_vm(same_id, kT0);
  ASSERT_FALSE(dup_id.ok());
  EXPECT_EQ(dup_id.error().reason, "vm-exists");
  EXPECT_NE(dup_id.error().message.find("web-01"), std::string::npos);
  VmSpec bad = spec("web 03");
  EXPECT_EQ(fleet_->register_vm(bad, kT0).error().reason, "vm-invalid");

  auto by_id = fleet_->find_by_vm_id("vmid-web-01", kT0);
  ASSERT_TRUE(by_id.ok() && by_id->has_value());
  EXPECT_EQ((*by_id)->spec.name, "web-01");
  auto missing = fleet_->find("nope", kT0);
  ASSERT_TRUE(missing.ok());
  EXPECT_FALSE(missing->has_value());

  for (int i = 2; i <= 5; ++i) must_register(spec("web-0" + std::to_string(i), i % 2 ? "pool-a" : "pool-b"));
  VmQuery q;
  q.limit = 2;
  auto p1 = fleet_->list(q, kT0);
  ASSERT_TRUE(p1.ok());
  ASSERT_EQ(p1->items.size(), 2u);
  EXPECT_EQ(p1->items[0].spec.name, "web-01");
  ASSERT_TRUE(p1->next_after.has_value());
  q.after = p1->next_after;
  auto p2 = fleet_->list(q, kT0);
  ASSERT_TRUE(p2.ok());
  EXPECT_EQ(p2->items[0].spec.name, "web-03");
  q = VmQuery{};
  q.group = "pool-b";
  auto pb = fleet_->list(q, kT0);
  ASSERT_TRUE(pb.ok());
  ASSERT_EQ(pb->items.size(), 2u);
  EXPECT_FALSE(pb->next_after.has_value());
  q = VmQuery{};
  q.health = Health::healthy;
  EXPECT_TRUE(fleet_->list(q, kT0)->items.empty());
  q.limit = 0;
  EXPECT_EQ(fleet_->list(q, kT0).error().reason, "vm-invalid");

  ASSERT_TRUE(fleet_->remove("web-02", kT0).ok());
  EXPECT_FALSE(fleet_->find("web-02", kT0)->has_value());
  EXPECT_EQ(fleet_->remove("web-02", kT0).error().reason, "vm-not-found");
}

TEST_F(FleetTest, UpdateProfileRecomputesRecommendations) {
  must_register(spec("web-01"));
  VmPatch patch;
  patch.profile = SecurityProfile{SecurityType::trusted_launch, false, true};
  auto vm = fleet_->update_vm("web-01", patch, kT0 + 1);
  ASSERT_TRUE(vm.ok()) << vm.error().message;
  ASSERT_EQ(vm->recommendations.size(), 1u);
  EXPECT_EQ(vm->recommendations[0].kind, "enable-secure-boot");

  patch.profile = SecurityProfile{SecurityType::trusted_launch, true, false};
  vm = fleet_->update_vm("web-01", patch, kT0 + 2);
  ASSERT_EQ(vm->recommendations.size(), 1u);
  EXPECT_EQ(vm->recommendations[0].kind, "enable-vtpm");

  VmPatch agent;
  agent.profile = SecurityProfile{};
  agent.agent_installed = false;
  vm = fleet_->update_vm("web-01", agent, kT0 + 3);
  ASSERT_EQ(vm->recommendations.size(), 1u);
  EXPECT_EQ(vm->recommendations[0].kind, "install-agent");

  auto page = fleet_->recommendations(std::nullopt, 10, std::nullopt);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->items.size(), 1u);
  EXPECT_EQ(page->items[0].vm, "web-01");
  EXPECT_EQ(page->items[0].rec.kind, "install-agent");

  VmPatch group;
  group.group = "a/b";
  EXPECT_EQ(fleet_->update_vm("web-01", group, kT0).error().reason, "vm-invalid");
  EXPECT_EQ(fleet_->update_vm("nope", VmPatch{}, kT0).error().reason, "vm-not-found");
}

TEST_F(FleetTest, RecommendationPagesNeverSplitAVm) {
  VmSpec s = spec("a");
  s.profile = SecurityProfile{SecurityType::trusted_launch, false, false};  // two recommendations
  must_register(s);
  s = spec("b");
  s.agent_installed = false;
  must_register(s);
  auto p1 = fleet_->recommendations(std::nullopt, 1, std::nullopt);
  ASSERT_TRUE(p1.ok());
  ASSERT_EQ(p1->items.size(), 2u);  // both of a's
  EXPECT_EQ(p1->next_after, "a");
  auto p2 = fleet_->recommendations(std::nullopt, 1, p1->next_after);
  ASSERT_TRUE(p2.ok());
  ASSERT_EQ(p2->items.size(), 1u);
  EXPECT_EQ(p2->items[0].vm, "b");
  EXPECT_FALSE(p2->next_after.has_value());
  auto vtpm = fleet_->recommendations("enable-vtpm", 10, std::nullopt);
  ASSERT_EQ(vtpm->items.size(), 1u);
  EXPECT_FALSE(fleet_->recommendations("enable-everything", 10, std::nullopt).ok());
}

TEST_F(FleetTest, RejectionNotFromVtpmAlertsWithoutTouchingStatus) {
  must_register(spec("web-01"));
  auto vm = fleet_->record_rejected("vmid-web-01", rejection("quote-signature", "bad signature"), kT0 + 10);
  ASSERT_TRUE(vm.ok()) << vm.error().message;
  ASSERT_TRUE(vm->has_value());
  EXPECT_EQ((*vm)->status.health, Health::pending);
  EXPECT_EQ((*vm)->open_alerts, 1);
  const auto alerts = open_alerts();
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].kind, "quote-not-from-vtpm");
  EXPECT_EQ(alerts[0].severity, "Medium");
  EXPECT_EQ(alerts[0].detail, "quote-signature: bad signature");
  EXPECT_EQ(alerts[0].opened_at, kT0 + 10);

  auto unknown = fleet_->record_rejected("vmid-nobody", rejection("quote-signature"), kT0);
  ASSERT_TRUE(unknown.ok());
  EXPECT_FALSE(unknown->has_value());
}

TEST_F(FleetTest, RejectionAfterQuoteIsUnhealthy) {
  must_register(spec("web-01"));
  auto vm = fleet_->record_rejected("vmid-web-01",
                                    rejection("eventlog-replay-mismatch", "bank sha256 PCR 4: quoted aa but bb"),
                                    kT0 + 10);
  ASSERT_TRUE(vm.ok() && vm->has_value());
  const Vm& v = **vm;
  EXPECT_EQ(v.status.health, Health::unhealthy);
  EXPECT_EQ(v.status.boot_integrity_validated, "Invalid");
  EXPECT_EQ(v.status.error_message, "eventlog-replay-mismatch: bank sha256 PCR 4: quoted aa but bb");
  EXPECT_EQ(v.status.timestamp, kT0 + 10);
  const auto alerts = open_alerts();
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].kind, "attestation-failed");
  EXPECT_EQ(to_json(v)["attestationStatus"]["properties"]["provisioningState"], "Succeeded");
}

TEST_F(FleetTest, IgnoredRejectionsRecordNothing) {
  must_register(spec("web-01"));
  for (const char* r : {"sha256-bank-required", "bank-not-allowed", "evidence-nonce-mismatch", "challenge-expired",
                        "unavailable", "evidence-malformed"}) {
    auto vm = fleet_->record_rejected("vmid-web-01", rejection(r), kT0 + 10);
    ASSERT_TRUE(vm.ok() && vm->has_value()) << r;
    EXPECT_EQ((*vm)->status.health, Health::pending) << r;
  }
  EXPECT_TRUE(open_alerts().empty());
  EXPECT_TRUE(events().empty());
}

TEST_F(FleetTest, TransientVerifierFailureMakesTheVmUnknownWithoutAnAlert) {
  must_register(spec("web-01"));
  auto vm = fleet_->record_rejected("vmid-web-01", rejection("verifier-internal", "no SM3 in this OpenSSL"), kT0 + 10);
  ASSERT_TRUE(vm.ok() && vm->has_value());
  EXPECT_EQ((*vm)->status.health, Health::unknown);
  ASSERT_TRUE((*vm)->status.error_message);
  EXPECT_NE((*vm)->status.error_message->find("transient"), std::string::npos);
  EXPECT_NE((*vm)->status.error_message->find("no SM3"), std::string::npos);
  EXPECT_FALSE((*vm)->status.timestamp);  // nothing was validated
  EXPECT_TRUE(open_alerts().empty());
  EXPECT_TRUE(events().empty());
}

TEST_F(FleetTest, RepeatsDeduplicateWithoutNewEvents) {
  must_register(spec("web-01"));
  for (int i = 0; i < 3; ++i) {
    auto vm = fleet_->record_rejected("vmid-web-01", rejection("eventlog-check-failed", ("try " + std::to_string(i)).c_str()),
                                      kT0 + 10 + i);
    ASSERT_TRUE(vm.ok());
  }
  const auto alerts = open_alerts();
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].count, 3);
  EXPECT_EQ(alerts[0].opened_at, kT0 + 10);
  EXPECT_EQ(alerts[0].last_seen_at, kT0 + 12);
  EXPECT_EQ(alerts[0].detail, "eventlog-check-failed: try 2");
  const auto ev = events();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].first, "alert.opened");
  EXPECT_EQ(ev[0].second, alerts[0].id);
}

TEST_F(FleetTest, RemoveResolvesAlertsWithEvents) {
  must_register(spec("web-01"));
  ASSERT_TRUE(fleet_->record_rejected("vmid-web-01", rejection("quote-signature"), kT0).ok());
  ASSERT_TRUE(fleet_->record_rejected("vmid-web-01", rejection("eventlog-malformed"), kT0).ok());
  ASSERT_TRUE(fleet_->remove("web-01", kT0 + 5).ok());
  EXPECT_TRUE(open_alerts().empty());
  AlertQuery q;
  q.state = AlertQuery::State::resolved;
  auto resolved = fleet_->alerts(q);
  ASSERT_TRUE(resolved.ok());
  ASSERT_EQ(resolved->items.size(), 2u);
  EXPECT_EQ(resolved->items[0].resolved_at, kT0 + 5);
  const auto ev = events();
  ASSERT_EQ(ev.size(), 4u);
  EXPECT_EQ(ev[2].first, "alert.resolved");
  EXPECT_EQ(ev[3].first, "alert.resolved");
}

TEST_F(FleetTest, SuppressionAtOpenAndForExistingAlerts) {
  must_register(spec("lab-01", "lab"));
  must_register(spec("web-01", "pool-a"));
  // An existing open alert is silenced by a new matching rule.
  ASSERT_TRUE(fleet_->record_rejected("vmid-lab-01", rejection("quote-signature"), kT0).ok());
  Suppression rule;
  rule.group = "lab";
  rule.reason = "lab VMs are rebuilt daily";
  auto added = fleet_->add_suppression(rule, kT0 + 1);
  ASSERT_TRUE(added.ok()) << added.error().message;
  auto lab_alerts = open_alerts(std::string("lab-01"));
  ASSERT_EQ(lab_alerts.size(), 1u);
  EXPECT_EQ(lab_alerts[0].suppressed_by, added->id);

  // A new alert matching the rule is born suppressed: no event, not counted.
  ASSERT_TRUE(fleet_->record_rejected("vmid-lab-01", rejection("eventlog-malformed"), kT0 + 2).ok());
  lab_alerts = open_alerts(std::string("lab-01"));
  ASSERT_EQ(lab_alerts.size(), 2u);
  EXPECT_EQ(lab_alerts[1].suppressed_by, added->id);
  EXPECT_EQ(events().size(), 1u);  // only the opening before the rule existed
  auto s = fleet_->summary();
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->alerts_medium, 0);
  EXPECT_EQ(must_find("lab-01").open_alerts, 0);

  // A rule with kind: only that kind, all given fields must match.
  Suppression kind_rule;
  kind_rule.group = "pool-a";
  kind_rule.kind = "attestation-stale";
  kind_rule.reason = "maintenance";
  ASSERT_TRUE(fleet_->add_suppression(kind_rule, kT0).ok());
  ASSERT_TRUE(fleet_->record_rejected("vmid-web-01", rejection("quote-signature"), kT0 + 3).ok());
  auto web = open_alerts(std::string("web-01"));
  ASSERT_EQ(web.size(), 1u);
  EXPECT_FALSE(web[0].suppressed_by.has_value());
  EXPECT_EQ(fleet_->summary()->alerts_medium, 1);

  auto rules = fleet_->suppressions();
  ASSERT_TRUE(rules.ok());
  ASSERT_EQ(rules->size(), 2u);
  EXPECT_EQ((*rules)[0].reason, "lab VMs are rebuilt daily");
  EXPECT_FALSE((*rules)[0].vm.has_value());

  // Removing the rule makes its open alerts live again, which receivers hear.
  const size_t before = events().size();
  ASSERT_TRUE(fleet_->remove_suppression(added->id).ok());
  EXPECT_EQ(events().size(), before + 2);
  EXPECT_EQ(fleet_->summary()->alerts_medium, 3);
  EXPECT_EQ(fleet_->remove_suppression(added->id).error().reason, "suppression-not-found");

  Suppression empty;
  empty.reason = "x";
  EXPECT_EQ(fleet_->add_suppression(empty, kT0).error().reason, "suppression-invalid");
}

TEST_F(FleetTest, SuppressedAlertsResolveSilently) {
  must_register(spec("lab-01", "lab"));
  Suppression rule;
  rule.vm = "lab-01";
  rule.reason = "known";
  ASSERT_TRUE(fleet_->add_suppression(rule, kT0).ok());
  ASSERT_TRUE(fleet_->record_rejected("vmid-lab-01", rejection("quote-signature"), kT0).ok());
  ASSERT_TRUE(fleet_->remove("lab-01", kT0 + 1).ok());
  EXPECT_TRUE(events().empty());
}

TEST_F(FleetTest, AlertQueries) {
  must_register(spec("a"));
  must_register(spec("b"));
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(fleet_->record_rejected("vmid-a", rejection("quote-signature"), kT0).ok());
  ASSERT_TRUE(fleet_->record_rejected("vmid-a", rejection("eventlog-malformed"), kT0).ok());
  ASSERT_TRUE(fleet_->record_rejected("vmid-b", rejection("eventlog-malformed"), kT0).ok());
  AlertQuery q;
  q.limit = 2;
  auto p1 = fleet_->alerts(q);
  ASSERT_TRUE(p1.ok());
  ASSERT_EQ(p1->items.size(), 2u);
  ASSERT_TRUE(p1->next_after.has_value());
  q.after = p1->next_after;
  auto p2 = fleet_->alerts(q);
  ASSERT_EQ(p2->items.size(), 1u);
  EXPECT_FALSE(p2->next_after.has_value());
  EXPECT_EQ(open_alerts(std::string("b")).size(), 1u);
  q = AlertQuery{};
  q.severity = "Low";
  EXPECT_TRUE(fleet_->alerts(q)->items.empty());
  q.severity = "Critical";
  EXPECT_EQ(fleet_->alerts(q).error().reason, "alert-query-invalid");
  q = AlertQuery{};
  q.limit = 1001;
  EXPECT_EQ(fleet_->alerts(q).error().reason, "alert-query-invalid");
}

TEST_F(FleetTest, SweepMarksStaleRunningVms) {
  must_register(spec("pending"), kT0);                           // never attests
  must_register(spec("reporting"), kT0);
  must_register(spec("late"), kT0 + 1000);                       // registered later: not yet stale
  VmSpec stopped = spec("stopped");
  stopped.power_state = PowerState::stopped;
  must_register(stopped, kT0);
  // "reporting" reports (a failure after its quote verified still counts as reporting).
  ASSERT_TRUE(fleet_->record_rejected("vmid-reporting", rejection("eventlog-malformed"), kT0 + 3000).ok());

  auto n = fleet_->sweep_stale(kT0 + kWindow - 1);
  ASSERT_TRUE(n.ok()) << n.error().message;
  EXPECT_EQ(*n, 0);
  n = fleet_->sweep_stale(kT0 + kWindow + 1);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 1);  // only "pending"
  const Vm p = must_find("pending");
  EXPECT_EQ(p.status.health, Health::unknown);
  ASSERT_TRUE(p.status.error_message.has_value());
  EXPECT_NE(p.status.error_message->find("no valid attestation since registration at 2026-11-22T20:00:00Z"),
            std::string::npos);
  ASSERT_EQ(p.recommendations.size(), 1u);
  EXPECT_EQ(p.recommendations[0].kind, "install-agent");
  auto stale = open_alerts(std::string("pending"));
  ASSERT_EQ(stale.size(), 1u);
  EXPECT_EQ(stale[0].kind, "attestation-stale");
  EXPECT_EQ(stale[0].severity, "Medium");

  // Sweeping again changes nothing: already stale VMs left the index.
  EXPECT_EQ(*fleet_->sweep_stale(kT0 + kWindow + 2), 0);
  EXPECT_EQ(open_alerts(std::string("pending"))[0].count, 1);

  n = fleet_->sweep_stale(kT0 + 3000 + kWindow + 1);
  EXPECT_EQ(*n, 2);  // "late" and "reporting"; never "stopped"
  const Vm r = must_find("reporting");
  EXPECT_EQ(r.status.health, Health::unknown);
  EXPECT_NE(r.status.error_message->find("no valid attestation since 2026-11-22T20:50:00Z"), std::string::npos);
  EXPECT_TRUE(r.recommendations.empty());  // it has attested: no install-agent
  EXPECT_EQ(must_find("stopped").status.health, Health::pending);

  // Events: one per new stale alert (plus the attestation-failed opening).
  const auto ev = events();
  EXPECT_EQ(ev.size(), 4u);

  // A report resolves the stale alert (after-quote failure: still reporting).
  ASSERT_TRUE(fleet_->record_rejected("vmid-reporting", rejection("eventlog-malformed"), kT0 + 9000).ok());
  EXPECT_EQ(open_alerts(std::string("reporting")).size(), 1u);  // attestation-failed only
  EXPECT_EQ(events().back().first, "alert.resolved");
}

TEST_F(FleetTest, StartedVmGetsAWholeWindow) {
  VmSpec s = spec("vm");
  s.power_state = PowerState::stopped;
  must_register(s, kT0);
  VmPatch start;
  start.power_state = PowerState::running;
  ASSERT_TRUE(fleet_->update_vm("vm", start, kT0 + 10 * kWindow).ok());
  EXPECT_EQ(*fleet_->sweep_stale(kT0 + 10 * kWindow + 1), 0);
  EXPECT_EQ(*fleet_->sweep_stale(kT0 + 11 * kWindow + 1), 1);
  // Stopping it resolves its stale alert: staleness only concerns running VMs.
  VmPatch stop;
  stop.power_state = PowerState::stopped;
  ASSERT_TRUE(fleet_->update_vm("vm", stop, kT0 + 12 * kWindow).ok());
  EXPECT_TRUE(open_alerts().empty());
}

TEST_F(FleetTest, StaleVmStoppedThenStartedGoesStaleAgain) {
  must_register(spec("vm"), kT0);
  ASSERT_EQ(*fleet_->sweep_stale(kT0 + kWindow + 1), 1);
  VmPatch stop;
  stop.power_state = PowerState::stopped;
  ASSERT_TRUE(fleet_->update_vm("vm", stop, kT0 + 2 * kWindow).ok());
  EXPECT_TRUE(open_alerts().empty());  // its stale alert resolved
  VmPatch start;
  start.power_state = PowerState::running;
  ASSERT_TRUE(fleet_->update_vm("vm", start, kT0 + 3 * kWindow).ok());
  // Still Unknown, but monitored again: a whole window from the start.
  EXPECT_EQ(*fleet_->sweep_stale(kT0 + 4 * kWindow - 1), 0);
  EXPECT_EQ(*fleet_->sweep_stale(kT0 + 4 * kWindow + 1), 1);
  const auto alerts = open_alerts(std::string("vm"));
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].kind, "attestation-stale");
}

TEST_F(FleetTest, PatchOfAnUnknownVmAfterATransientFailureKeepsItSweepable) {
  must_register(spec("vm"), kT0);
  ASSERT_TRUE(fleet_->record_rejected("vmid-vm", rejection("verifier-internal"), kT0 + 10).ok());
  ASSERT_EQ(must_find("vm").status.health, Health::unknown);
  VmPatch agent;
  agent.agent_installed = true;
  ASSERT_TRUE(fleet_->update_vm("vm", agent, kT0 + 20).ok());
  EXPECT_EQ(*fleet_->sweep_stale(kT0 + kWindow + 1), 1);  // anchored at registration: no valid attestation since
  EXPECT_EQ(open_alerts(std::string("vm")).size(), 1u);
}

TEST_F(FleetTest, TransientFailureOfANeverAttestedVmDoesNotRecommendInstallingTheAgent) {
  must_register(spec("vm"), kT0);
  auto vm = fleet_->record_rejected("vmid-vm", rejection("verifier-internal"), kT0 + 10);
  ASSERT_TRUE(vm.ok() && vm->has_value());
  EXPECT_EQ((*vm)->status.health, Health::unknown);
  EXPECT_TRUE((*vm)->recommendations.empty());  // the agent reported: it is installed
  // Swept stale later: still no install-agent, since it did report.
  ASSERT_EQ(*fleet_->sweep_stale(kT0 + kWindow + 1), 1);
  EXPECT_TRUE(must_find("vm").recommendations.empty());
  EXPECT_EQ(fleet_->summary()->rec_install_agent, 0);
}

TEST_F(FleetTest, InvalidUtf8InARejectionMessageIsRecordedAndItsEventWritten) {
  must_register(spec("vm"), kT0);
  auto vm = fleet_->record_rejected("vmid-vm", rejection("eventlog-malformed", "bad \xff\xfe bytes"), kT0 + 10);
  ASSERT_TRUE(vm.ok()) << vm.error().message;
  ASSERT_TRUE(vm->has_value());
  EXPECT_EQ((*vm)->status.health, Health::unhealthy);
  const auto alerts = open_alerts(std::string("vm"));
  ASSERT_EQ(alerts.size(), 1u);
  const auto ev = events();  // parses each body: valid JSON with U+FFFD in place of the bytes
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0], std::make_pair(std::string("alert.opened"), alerts[0].id));
}

TEST_F(FleetTest, BaselinesBeyondTheReaderLimitsAreRefused) {
  policy::BaselineVariant v;
  v.source = "eventlog";
  v.created_at = kT0;
  v.pcr_values = {{4, std::string(64, 'a')}};
  v.measurements = {{4, 0, "EV_EFI_BOOT_SERVICES_APPLICATION", "x", std::string(64, 'c')}};
  // 256 variants is the limit; the 257th is refused and nothing is stored.
  for (int i = 0; i < 256; ++i) {
    v.name = "v" + std::to_string(i);
    auto b = fleet_->add_baseline("pool-a", v, {4}, Fleet::BaselineMode::add_variant, kT0 + i);
    ASSERT_TRUE(b.ok()) << i << ": " << b.error().message;
  }
  v.name = "one-too-many";
  auto over = fleet_->add_baseline("pool-a", v, {4}, Fleet::BaselineMode::add_variant, kT0 + 300);
  ASSERT_FALSE(over.ok());
  EXPECT_EQ(over.error().reason, "baseline-invalid");
  EXPECT_NE(over.error().message.find("at most 256 variants"), std::string::npos) << over.error().message;
  auto list = fleet_->baselines();
  ASSERT_TRUE(list.ok()) << list.error().message;
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].version, 256);
  EXPECT_EQ((*list)[0].variants.size(), 256u);

  // 65,536 measurements per variant is the limit.
  policy::BaselineVariant big = v;
  big.name = "big";
  big.measurements.assign(65537, v.measurements[0]);
  for (size_t i = 0; i < big.measurements.size(); ++i) big.measurements[i].event = static_cast<uint32_t>(i + 1);
  auto huge = fleet_->add_baseline("pool-b", big, {4}, Fleet::BaselineMode::new_version, kT0);
  ASSERT_FALSE(huge.ok());
  EXPECT_EQ(huge.error().reason, "baseline-invalid");
  EXPECT_NE(huge.error().message.find("at most 65536 measurements"), std::string::npos) << huge.error().message;
  big.measurements.resize(65536);
  auto at_limit = fleet_->add_baseline("pool-b", big, {4}, Fleet::BaselineMode::new_version, kT0);
  ASSERT_TRUE(at_limit.ok()) << at_limit.error().message;
  auto read_back = fleet_->baseline("pool-b", std::nullopt);
  ASSERT_TRUE(read_back.ok() && read_back->has_value()) << (read_back.ok() ? "" : read_back.error().message);
  EXPECT_EQ((*read_back)->variants[0].measurements.size(), 65536u);

  // Anything else the reader refuses is caught by the round trip (here a text
  // member beyond its length limit).
  policy::BaselineVariant odd = v;
  odd.name = "odd";
  odd.measurements[0].component = std::string(5000, 'x');
  auto refused = fleet_->add_baseline("pool-c", odd, {4}, Fleet::BaselineMode::new_version, kT0);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().reason, "baseline-invalid");
  EXPECT_FALSE(fleet_->baseline("pool-c", std::nullopt)->has_value());
  EXPECT_TRUE(fleet_->baselines().ok());
}

TEST_F(FleetTest, SweepIsBatched) {
  // More than one batch (2000) of stale VMs, all handled in one call.
  for (int i = 0; i < 4500; ++i) must_register(spec("vm-" + std::to_string(i)), kT0);
  auto n = fleet_->sweep_stale(kT0 + kWindow + 1);
  ASSERT_TRUE(n.ok()) << n.error().message;
  EXPECT_EQ(*n, 4500);
  auto s = fleet_->summary();
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->unknown, 4500);
  EXPECT_EQ(s->alerts_medium, 4500);
  EXPECT_EQ(s->rec_install_agent, 4500);
}

TEST_F(FleetTest, Summary) {
  VmSpec a = spec("a");
  a.profile.secure_boot_enabled = false;
  must_register(a);
  VmSpec b = spec("b");
  b.profile.tpm_enabled = false;
  must_register(b);
  must_register(spec("c"));
  ASSERT_TRUE(fleet_->record_rejected("vmid-c", rejection("runtime-key-missing"), kT0).ok());
  ASSERT_TRUE(fleet_->record_rejected("vmid-b", rejection("ak-mismatch"), kT0).ok());
  auto s = fleet_->summary();
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(s->vms, 3);
  EXPECT_EQ(s->pending, 2);
  EXPECT_EQ(s->unhealthy, 1);
  EXPECT_EQ(s->healthy, 0);
  EXPECT_EQ(s->alerts_medium, 2);
  EXPECT_EQ(s->alerts_low, 0);
  EXPECT_EQ(s->rec_enable_secure_boot, 1);
  EXPECT_EQ(s->rec_enable_vtpm, 1);
  EXPECT_EQ(s->rec_install_agent, 0);
}

TEST_F(FleetTest, BaselinesAndLearningFlags) {
  ASSERT_TRUE(fleet_->set_learning("pool-a", true).ok());
  auto list = fleet_->baselines();
  ASSERT_TRUE(list.ok()) << list.error().message;
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].group, "pool-a");
  EXPECT_EQ((*list)[0].version, 0);
  EXPECT_TRUE((*list)[0].learning);
  EXPECT_EQ(fleet_->set_learning("a b", true).error().reason, "baseline-invalid");

  must_register(spec("web-01"));
  auto none = fleet_->baseline_for_vm("vmid-web-01");
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(*none, nullptr);

  policy::BaselineVariant v;
  v.name = "kernel-6.1";
  v.source = "eventlog";
  v.created_at = kT0;
  v.pcr_values = {{4, std::string(64, 'a')}, {7, std::string(64, 'b')}};
  v.measurements = {{4, 23, "EV_EFI_BOOT_SERVICES_APPLICATION", "\\EFI\\BOOT\\BOOTX64.EFI", std::string(64, 'c')}};
  auto b1 = fleet_->add_baseline("pool-a", v, {4, 7}, Fleet::BaselineMode::new_version, kT0);
  ASSERT_TRUE(b1.ok()) << b1.error().message;
  EXPECT_EQ(b1->version, 1);
  v.name = "kernel-6.2";
  v.pcr_values[4] = std::string(64, 'd');
  auto b2 = fleet_->add_baseline("pool-a", v, {}, Fleet::BaselineMode::add_variant, kT0 + 1);
  ASSERT_TRUE(b2.ok()) << b2.error().message;
  EXPECT_EQ(b2->version, 2);
  ASSERT_EQ(b2->variants.size(), 2u);
  EXPECT_EQ(b2->pcrs, (std::vector<uint32_t>{4, 7}));

  auto current = fleet_->baseline_for_vm("vmid-web-01");
  ASSERT_TRUE(current.ok());
  ASSERT_NE(*current, nullptr);
  EXPECT_EQ((*current)->version, 2);
  EXPECT_EQ(*fleet_->baseline_for_vm("vmid-web-01"), *current);  // cached while the version stands

  auto old = fleet_->baseline("pool-a", 1);
  ASSERT_TRUE(old.ok() && old->has_value());
  EXPECT_EQ((*old)->variants.size(), 1u);
  EXPECT_EQ((*old)->variants[0].measurements, v.measurements);
  EXPECT_FALSE(fleet_->baseline("pool-a", 9)->has_value());
  EXPECT_FALSE(fleet_->baseline("pool-z", std::nullopt)->has_value());

  // A variant lacking a baseline PCR, or other PCRs for add-variant, is refused.
  v.pcr_values.erase(7);
  EXPECT_EQ(fleet_->add_baseline("pool-a", v, {4, 7}, Fleet::BaselineMode::new_version, kT0).error().reason,
            "baseline-invalid");
  EXPECT_EQ(fleet_->add_baseline("pool-a", v, {4}, Fleet::BaselineMode::add_variant, kT0).error().reason,
            "baseline-invalid");
  EXPECT_EQ(fleet_->add_baseline("pool-a", v, {7, 4}, Fleet::BaselineMode::new_version, kT0).error().reason,
            "baseline-invalid");

  list = fleet_->baselines();
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].version, 2);
  EXPECT_EQ((*list)[0].variants, (std::vector<std::string>{"kernel-6.1", "kernel-6.2"}));
}

TEST_F(FleetTest, TwoThreadsRecording) {
  constexpr int kVms = 40, kRounds = 25;
  for (int i = 0; i < kVms; ++i) must_register(spec("vm-" + std::to_string(i)));
  auto worker = [&](const char* reason, int offset, std::vector<std::string>* errors) {
    for (int r = 0; r < kRounds; ++r) {
      for (int i = offset; i < kVms; i += 2) {
        auto vm = fleet_->record_rejected("vmid-vm-" + std::to_string(i), rejection(reason), kT0 + r);
        if (!vm.ok()) errors->push_back(vm.error().message);
      }
      auto s = fleet_->summary();
      if (!s.ok()) errors->push_back(s.error().message);
    }
  };
  std::vector<std::string> e1, e2;
  std::thread t1(worker, "eventlog-malformed", 0, &e1);
  std::thread t2(worker, "quote-signature", 1, &e2);
  t1.join();
  t2.join();
  EXPECT_TRUE(e1.empty()) << e1.front();
  EXPECT_TRUE(e2.empty()) << e2.front();
  const auto alerts = open_alerts();
  ASSERT_EQ(alerts.size(), static_cast<size_t>(kVms));
  for (const Alert& a : alerts) EXPECT_EQ(a.count, kRounds) << a.vm;
  EXPECT_EQ(events().size(), static_cast<size_t>(kVms));
  EXPECT_EQ(fleet_->summary()->unhealthy, kVms / 2);
}

TEST_F(FleetTest, ReopensExistingDatabase) {
  must_register(spec("web-01"));
  fleet_.reset();
  auto again = Fleet::open(path_, Options{kWindow, 1});
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_TRUE((*again)->find("web-01", kT0)->has_value());
  EXPECT_FALSE(Fleet::open(path_, Options{0, 1}).ok());  // a refresh window must be positive
}

}  // namespace
}  // namespace tl::fleet
