// The webhook dispatcher against real receivers: tl::http::Server on
// 127.0.0.1, a migrated SQLite database, and a clock the tests drive.
#include "fleet/webhooks.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <stdexcept>
#include <thread>

#include <nlohmann/json.hpp>

#include "common/hex.h"
#include "common/rfc3339.h"
#include "fleet/webhooks_internal.h"
#include "http/http.h"
#include "raw_socket.h"
#include "store/database.h"
#include "store/migrate.h"
#include "store/schema.h"

namespace tl::fleet {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;
using Json = nlohmann::json;

// A webhook receiver that records every request and answers 500 to the first
// `fail_next` ones.
class Receiver {
 public:
  Receiver() {
    http::Router router;
    router.add("POST", "/hook", [this](const http::Request& req) {
      std::lock_guard lock(mu_);
      requests_.push_back(req);
      cv_.notify_all();
      if (fail_next_ > 0) {
        --fail_next_;
        return http::Response{500, {{"Content-Type", "text/plain"}}, "receiver is down for maintenance"};
      }
      return http::Response{204, {}, ""};
    });
    http::ServerOptions options;
    options.threads = 2;
    options.stop_grace_ms = 500;
    auto server = http::Server::start(options, std::move(router));
    if (!server) throw std::runtime_error(server.error().message);
    server_ = std::move(*server);
  }

  std::string url() const { return "http://127.0.0.1:" + std::to_string(server_->port()) + "/hook"; }
  uint16_t port() const { return server_->port(); }
  void stop() { server_->stop(); }

  void fail_next(int n) {
    std::lock_guard lock(mu_);
    fail_next_ = n;
  }
  std::vector<http::Request> requests() const {
    std::lock_guard lock(mu_);
    return requests_;
  }
  size_t count() const { return requests().size(); }
  // Event ids in the order they arrived.
  std::vector<int64_t> ids() const {
    std::vector<int64_t> out;
    for (const auto& r : requests()) out.push_back(std::stoll(*r.header("X-Trustlaunch-Event-Id")));
    return out;
  }
  // Waits (bounded) until at least n requests have arrived.
  bool wait_for(size_t n, std::chrono::milliseconds limit = 10s) const {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, limit, [&] { return requests_.size() >= n; });
  }

 private:
  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  std::vector<http::Request> requests_;
  int fail_next_ = 0;
  std::unique_ptr<http::Server> server_;
};

class Webhooks : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (std::filesystem::temp_directory_path() / "tl-webhooks-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    db_path_ = dir_ / "tlaunchd.db";
    auto db = store::Database::open(db_path_);
    ASSERT_TRUE(db) << db.error().message;
    auto version = store::migrate(*db, store::tlaunchd_migrations());
    ASSERT_TRUE(version) << version.error().message;
    db_ = std::make_unique<store::Database>(std::move(*db));
  }
  void TearDown() override {
    db_.reset();
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  int64_t insert_event(std::string_view event, std::string_view body, int64_t created_at = 1795377662) {
    auto st = db_->prepare("INSERT INTO alert_events (created_at, event, alert_id, body) VALUES (?1, ?2, 7, ?3)");
    EXPECT_TRUE(st) << st.error().message;
    EXPECT_TRUE(st->bind_int64(1, created_at));
    EXPECT_TRUE(st->bind_text(2, event));
    EXPECT_TRUE(st->bind_text(3, body));
    auto done = st->step();
    EXPECT_TRUE(done) << done.error().message;
    return db_->last_insert_rowid();
  }
  int64_t insert_alert(int n) {
    return insert_event("alert.opened", R"({"id":7,"kind":"attestation-failed","n":)" + std::to_string(n) + "}");
  }

  WebhookOptions options(std::vector<WebhookTarget> targets) {
    WebhookOptions o;
    o.targets = std::move(targets);
    o.first_backoff = 1000ms;
    o.max_backoff = 600000ms;
    o.timeout = 2000ms;
    o.on_report = [this](const WebhookReport& r) {
      std::lock_guard lock(reports_mu_);
      reports_.push_back(r);
    };
    return o;
  }
  std::unique_ptr<WebhookDispatcher> open(WebhookOptions o) {
    auto d = WebhookDispatcher::open(db_path_, std::move(o));
    EXPECT_TRUE(d) << d.error().message;
    return d ? std::move(*d) : nullptr;
  }
  static WebhookState state_of(WebhookDispatcher& d, size_t i = 0) {
    auto s = d.state();
    EXPECT_TRUE(s) << s.error().message;
    return s && s->size() > i ? (*s)[i] : WebhookState{};
  }
  static int deliver(WebhookDispatcher& d, int64_t now_ms) {
    auto n = d.deliver_due(now_ms);
    EXPECT_TRUE(n) << n.error().message;
    return n ? *n : -1;
  }
  std::vector<WebhookReport> reports() {
    std::lock_guard lock(reports_mu_);
    return reports_;
  }

  std::filesystem::path dir_;
  std::filesystem::path db_path_;
  std::unique_ptr<store::Database> db_;
  std::mutex reports_mu_;
  std::vector<WebhookReport> reports_;
};

std::string openssl_hmac_sha256_hex(std::string_view key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  const unsigned char* r = HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
                                reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &len);
  EXPECT_NE(r, nullptr);
  return to_hex(ByteView(out, len));
}

TEST_F(Webhooks, DeliversOnceWithBodyHeadersAndSignature) {
  Receiver signed_rx, plain_rx;
  auto d = open(options({{signed_rx.url(), std::string("s3cret-webhook-key")}, {plain_rx.url(), std::nullopt}}));
  ASSERT_TRUE(d);
  const std::string alert = R"({"id":7,"kind":"attestation-failed","severity":"Medium","vm":"vm-1"})";
  const int64_t id = insert_event("alert.opened", alert, 1795377662);

  EXPECT_EQ(deliver(*d, 1'000), 2);  // one event, two webhooks
  ASSERT_EQ(signed_rx.count(), 1u);
  const http::Request req = signed_rx.requests()[0];
  EXPECT_EQ(req.method, "POST");
  EXPECT_EQ(req.path, "/hook");
  ASSERT_NE(req.header("Content-Type"), nullptr);
  EXPECT_EQ(*req.header("Content-Type"), "application/json");
  ASSERT_NE(req.header("X-Trustlaunch-Event-Id"), nullptr);
  EXPECT_EQ(*req.header("X-Trustlaunch-Event-Id"), std::to_string(id));

  const Json body = Json::parse(req.body);
  EXPECT_EQ(body.at("event"), "alert.opened");
  EXPECT_EQ(body.at("id"), id);
  EXPECT_EQ(body.at("createdAt"), "2026-11-22T20:01:02Z");
  EXPECT_EQ(body.at("alert"), Json::parse(alert));
  EXPECT_EQ(body.size(), 4u);

  // The receiver's recipe: HMAC-SHA256 over the raw body bytes, lower-case hex.
  ASSERT_NE(req.header("X-Trustlaunch-Signature"), nullptr);
  EXPECT_EQ(*req.header("X-Trustlaunch-Signature"),
            "sha256=" + openssl_hmac_sha256_hex("s3cret-webhook-key", req.body));

  ASSERT_EQ(plain_rx.count(), 1u);
  EXPECT_EQ(plain_rx.requests()[0].header("X-Trustlaunch-Signature"), nullptr);
  EXPECT_EQ(plain_rx.requests()[0].body, req.body);

  // Delivered means done: later passes send nothing more.
  EXPECT_EQ(deliver(*d, 2'000), 0);
  EXPECT_EQ(deliver(*d, 10'000'000), 0);
  EXPECT_EQ(signed_rx.count(), 1u);
  EXPECT_EQ(plain_rx.count(), 1u);
  const WebhookState s = state_of(*d);
  EXPECT_EQ(s.cursor, id);
  EXPECT_EQ(s.attempts, 0);
  EXPECT_FALSE(s.last_error.has_value());
  ASSERT_EQ(reports().size(), 2u);
  EXPECT_EQ(reports()[0].outcome, WebhookReport::Outcome::delivered);
}

TEST_F(Webhooks, RetriesWithGrowingBackoffAndNeverEarly) {
  Receiver rx;
  rx.fail_next(3);
  auto d = open(options({{rx.url(), std::nullopt}}));
  ASSERT_TRUE(d);
  const int64_t id = insert_alert(1);

  int64_t now = 5'000;
  int64_t previous_delay = 0;
  for (int failure = 1; failure <= 3; ++failure) {
    EXPECT_EQ(deliver(*d, now), 0);
    ASSERT_EQ(rx.count(), static_cast<size_t>(failure));
    const WebhookState s = state_of(*d);
    EXPECT_EQ(s.attempts, failure);
    EXPECT_EQ(s.cursor, id - 1);
    ASSERT_TRUE(s.last_error.has_value());
    EXPECT_THAT(*s.last_error, HasSubstr("HTTP 500"));
    EXPECT_THAT(*s.last_error, HasSubstr(rx.url()));
    EXPECT_THAT(*s.last_error, HasSubstr("event " + std::to_string(id)));
    EXPECT_THAT(*s.last_error, HasSubstr("down for maintenance"));

    // Equal jitter: within [cap/2, cap], cap = 1 s doubling.
    const int64_t delay = s.next_attempt_at_ms - now;
    const int64_t cap = 1000LL << (failure - 1);
    EXPECT_GE(delay, cap / 2) << "failure " << failure;
    EXPECT_LE(delay, cap) << "failure " << failure;
    EXPECT_GE(delay, previous_delay) << "back-off must not shrink";
    previous_delay = delay;

    // Not one request before the scheduled time, however often we look.
    EXPECT_EQ(deliver(*d, now + 1), 0);
    EXPECT_EQ(deliver(*d, s.next_attempt_at_ms - 1), 0);
    EXPECT_EQ(rx.count(), static_cast<size_t>(failure));
    now = s.next_attempt_at_ms;
  }
  EXPECT_EQ(deliver(*d, now), 1);
  EXPECT_EQ(rx.ids(), (std::vector<int64_t>{id, id, id, id}));
  EXPECT_EQ(state_of(*d).cursor, id);
  EXPECT_EQ(state_of(*d).attempts, 0);

  const auto r = reports();
  ASSERT_EQ(r.size(), 4u);
  EXPECT_EQ(r[0].outcome, WebhookReport::Outcome::retry_scheduled);
  EXPECT_EQ(r[2].attempt, 3);
  EXPECT_EQ(r[3].outcome, WebhookReport::Outcome::delivered);
  EXPECT_EQ(r[3].attempt, 4);
}

TEST(WebhookBackoff, DoublesCapsAndJitters) {
  using webhooks::backoff;
  EXPECT_EQ(backoff(1, 2000ms, 600000ms, 0.0), 1000ms);
  EXPECT_EQ(backoff(1, 2000ms, 600000ms, 1.0), 2000ms);
  EXPECT_EQ(backoff(2, 2000ms, 600000ms, 1.0), 4000ms);
  EXPECT_EQ(backoff(9, 2000ms, 600000ms, 1.0), 512000ms);
  EXPECT_EQ(backoff(10, 2000ms, 600000ms, 1.0), 600000ms);  // capped
  EXPECT_EQ(backoff(10, 2000ms, 600000ms, 0.0), 300000ms);  // never below half the cap
  EXPECT_EQ(backoff(1'000'000, 2000ms, 600000ms, 0.5), 450000ms);  // no overflow after many failures
}

TEST_F(Webhooks, KeepsEventOrder) {
  Receiver rx;
  auto d = open(options({{rx.url(), std::nullopt}}));
  ASSERT_TRUE(d);
  const int64_t a = insert_alert(1);
  const int64_t b = insert_event("alert.resolved", R"({"id":7})");
  const int64_t c = insert_alert(3);
  rx.fail_next(1);

  EXPECT_EQ(deliver(*d, 0), 0);
  EXPECT_EQ(rx.ids(), std::vector<int64_t>{a});  // b and c wait behind a
  EXPECT_EQ(deliver(*d, state_of(*d).next_attempt_at_ms), 3);
  EXPECT_EQ(rx.ids(), (std::vector<int64_t>{a, a, b, c}));
  EXPECT_EQ(Json::parse(rx.requests()[2].body).at("event"), "alert.resolved");
}

TEST_F(Webhooks, OneWebhookDownDoesNotHoldUpAnother) {
  Receiver down, up;
  down.fail_next(1000);
  auto d = open(options({{down.url(), std::nullopt}, {up.url(), std::nullopt}}));
  ASSERT_TRUE(d);
  const int64_t a = insert_alert(1);
  const int64_t b = insert_alert(2);

  EXPECT_EQ(deliver(*d, 0), 2);
  EXPECT_EQ(up.ids(), (std::vector<int64_t>{a, b}));
  EXPECT_EQ(down.ids(), std::vector<int64_t>{a});
  const WebhookState s_down = state_of(*d, 0);
  const WebhookState s_up = state_of(*d, 1);
  EXPECT_EQ(s_down.attempts, 1);
  EXPECT_EQ(s_down.cursor, a - 1);
  EXPECT_EQ(s_up.cursor, b);
  EXPECT_EQ(s_up.attempts, 0);

  // A new event reaches the healthy webhook at once, even while the other is backing off.
  const int64_t c = insert_alert(3);
  EXPECT_EQ(deliver(*d, 1), 1);
  EXPECT_EQ(up.ids(), (std::vector<int64_t>{a, b, c}));
  EXPECT_EQ(down.count(), 1u);
}

TEST_F(Webhooks, GivesUpAfterMaxAttemptsAndMovesOn) {
  Receiver rx;
  rx.fail_next(3);
  auto o = options({{rx.url(), std::nullopt}});
  o.max_attempts = 3;
  auto d = open(std::move(o));
  ASSERT_TRUE(d);
  const int64_t a = insert_alert(1);
  const int64_t b = insert_alert(2);

  int64_t now = 0;
  EXPECT_EQ(deliver(*d, now), 0);
  now = state_of(*d).next_attempt_at_ms;
  EXPECT_EQ(deliver(*d, now), 0);
  now = state_of(*d).next_attempt_at_ms;
  // Third failure of a: given up; the webhook goes on with b in the same pass.
  EXPECT_EQ(deliver(*d, now), 1);
  EXPECT_EQ(rx.ids(), (std::vector<int64_t>{a, a, a, b}));
  const WebhookState s = state_of(*d);
  EXPECT_EQ(s.cursor, b);
  EXPECT_EQ(s.given_up, 1);

  bool saw_give_up = false;
  for (const auto& r : reports()) {
    if (r.outcome != WebhookReport::Outcome::gave_up) continue;
    saw_give_up = true;
    EXPECT_EQ(r.event_id, a);
    EXPECT_EQ(r.attempt, 3);
    EXPECT_THAT(r.error, HasSubstr("HTTP 500"));
  }
  EXPECT_TRUE(saw_give_up);

  // The give-up is on record for operators.
  auto st = db_->prepare("SELECT url, event_id, attempts, last_error FROM webhook_given_up");
  ASSERT_TRUE(st);
  ASSERT_TRUE(*st->step());
  EXPECT_EQ(*st->column_text(0), rx.url());
  EXPECT_EQ(*st->column_int64(1), a);
  EXPECT_EQ(*st->column_int64(2), 3);
  EXPECT_THAT(*st->column_text(3), HasSubstr("HTTP 500"));
}

TEST_F(Webhooks, RestartResumesWithoutRedelivering) {
  Receiver rx;
  int64_t a = 0, b = 0, retry_at = 0;
  {
    auto d = open(options({{rx.url(), std::nullopt}}));
    ASSERT_TRUE(d);
    a = insert_alert(1);
    EXPECT_EQ(deliver(*d, 0), 1);
    b = insert_alert(2);
    rx.fail_next(1);
    EXPECT_EQ(deliver(*d, 10), 0);
    retry_at = state_of(*d).next_attempt_at_ms;
  }  // "crash": the dispatcher is gone, the database stays

  auto d = open(options({{rx.url(), std::nullopt}}));
  ASSERT_TRUE(d);
  const WebhookState s = state_of(*d);
  EXPECT_EQ(s.cursor, a);
  EXPECT_EQ(s.attempts, 1);
  EXPECT_EQ(s.next_attempt_at_ms, retry_at);
  EXPECT_EQ(deliver(*d, retry_at - 1), 0);  // the back-off survives the restart
  EXPECT_EQ(deliver(*d, retry_at), 1);
  EXPECT_EQ(rx.ids(), (std::vector<int64_t>{a, b, b}));  // a exactly once
}

TEST_F(Webhooks, NewWebhookStartsAtNewEventsAndARemovedOneLosesNothing) {
  Receiver rx, other;
  insert_alert(1);  // before the webhook exists: not sent
  auto d = open(options({{rx.url(), std::nullopt}}));
  ASSERT_TRUE(d);
  const int64_t b = insert_alert(2);
  EXPECT_EQ(deliver(*d, 0), 1);
  EXPECT_EQ(rx.ids(), std::vector<int64_t>{b});
  d.reset();

  // A run configured without rx: its state stays, and when rx is configured
  // again it is sent what it missed.
  auto without = open(options({{other.url(), std::nullopt}}));
  ASSERT_TRUE(without);
  const int64_t c = insert_alert(3);
  EXPECT_EQ(deliver(*without, 0), 1);
  without.reset();
  auto again = open(options({{rx.url(), std::nullopt}}));
  ASSERT_TRUE(again);
  EXPECT_EQ(state_of(*again).cursor, b);
  EXPECT_EQ(deliver(*again, 0), 1);
  EXPECT_EQ(rx.ids(), (std::vector<int64_t>{b, c}));
  EXPECT_EQ(other.ids(), std::vector<int64_t>{c});
}

TEST_F(Webhooks, UnreachableReceiverIsRetriedNotAnError) {
  auto gone = std::make_unique<Receiver>();
  const std::string url = gone->url();
  gone.reset();  // the listening socket is closed: connections are refused
  auto d = open(options({{url, std::nullopt}}));
  ASSERT_TRUE(d);
  const int64_t id = insert_alert(1);
  const auto started = std::chrono::steady_clock::now();
  EXPECT_EQ(deliver(*d, 0), 0);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 1500ms);  // refused, not timed out (2 s)
  const WebhookState s = state_of(*d);
  EXPECT_EQ(s.attempts, 1);
  EXPECT_GT(s.next_attempt_at_ms, 0);
  ASSERT_TRUE(s.last_error.has_value());
  EXPECT_THAT(*s.last_error, HasSubstr("event " + std::to_string(id) + " to " + url)) << *s.last_error;
}

TEST_F(Webhooks, SilentReceiverTimesOut) {
  http::test::SilentListener silent;  // accepts (backlog) and never answers
  auto o = options({{"http://127.0.0.1:" + std::to_string(silent.port()) + "/hook", std::nullopt}});
  o.timeout = 200ms;
  auto d = open(std::move(o));
  ASSERT_TRUE(d);
  insert_alert(1);
  const auto started = std::chrono::steady_clock::now();
  EXPECT_EQ(deliver(*d, 0), 0);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 2s);
  EXPECT_EQ(state_of(*d).attempts, 1);
}

TEST_F(Webhooks, BodyThatIsNotJsonIsGivenUpAtOnce) {
  Receiver rx;
  auto d = open(options({{rx.url(), std::nullopt}}));
  ASSERT_TRUE(d);
  const int64_t bad = insert_event("alert.opened", "{not json");
  const int64_t good = insert_alert(2);
  EXPECT_EQ(deliver(*d, 0), 1);
  EXPECT_EQ(rx.ids(), std::vector<int64_t>{good});
  EXPECT_EQ(state_of(*d).given_up, 1);
  ASSERT_FALSE(reports().empty());
  EXPECT_EQ(reports()[0].event_id, bad);
  EXPECT_THAT(reports()[0].error, HasSubstr("not valid JSON"));
}

TEST_F(Webhooks, WorkerDeliversAfterWakeAndStopsPromptly) {
  Receiver rx;
  rx.fail_next(1);
  auto o = options({{rx.url(), std::nullopt}});
  o.poll_interval = 60s;  // only wake() and the retry time can make it look
  o.first_backoff = 100ms;
  auto d = open(std::move(o));
  ASSERT_TRUE(d);
  d->start();
  const int64_t id = insert_alert(1);
  d->wake();
  ASSERT_TRUE(rx.wait_for(1)) << "wake() did not make the worker deliver";
  // The failure is retried at its back-off time (<= 100 ms), not at the next poll.
  ASSERT_TRUE(rx.wait_for(2, 5s)) << "the worker did not retry on its own";
  EXPECT_EQ(rx.ids(), (std::vector<int64_t>{id, id}));

  const auto started = std::chrono::steady_clock::now();
  d->stop();
  EXPECT_LT(std::chrono::steady_clock::now() - started, 1s);
  d->stop();  // idempotent
  EXPECT_EQ(deliver(*d, 0), 0);  // usable synchronously after stop
  d->start();
  const int64_t next = insert_alert(2);
  d->wake();
  ASSERT_TRUE(rx.wait_for(3));
  EXPECT_EQ(rx.ids().back(), next);
}  // the destructor stops the restarted worker

TEST_F(Webhooks, OpenRefusesBadConfiguration) {
  auto refused = [&](WebhookOptions o, std::string_view expect) {
    auto d = WebhookDispatcher::open(db_path_, std::move(o));
    ASSERT_FALSE(d) << "accepted, expected: " << expect;
    EXPECT_THAT(d.error().message, HasSubstr(std::string(expect)));
  };
  refused(options({{"ftp://127.0.0.1/x", std::nullopt}}), "http:// or https://");
  refused(options({{"http://127.0.0.1:1/a", std::nullopt}, {"http://127.0.0.1:1/a", std::nullopt}}),
          "configured twice");
  refused(options({{"http://127.0.0.1:1/a", std::string()}}), "secret is empty");
  refused(options({{"http://127.0.0.1:1/a b", std::nullopt}}), "percent-encode");
  refused(options({{"http://127.0.0.1:1/a#frag", std::nullopt}}), "fragment");
  auto o = options({});
  o.max_attempts = 0;
  refused(o, "at least 1");
  o = options({});
  o.max_backoff = 10ms;
  refused(o, "back-off");

  // A database that was never migrated.
  auto raw = store::Database::open(dir_ / "empty.db");
  ASSERT_TRUE(raw);
  auto d = WebhookDispatcher::open(dir_ / "empty.db", options({}));
  ASSERT_FALSE(d);
  EXPECT_THAT(d.error().message, HasSubstr("schema v5"));
}

TEST(WebhookUrl, SplitsOriginAndPath) {
  auto a = webhooks::split_url("https://hooks.example:8443/tl/alerts?team=ops");
  ASSERT_TRUE(a) << a.error().message;
  EXPECT_EQ(a->origin, "https://hooks.example:8443");
  EXPECT_EQ(a->path_and_query, "/tl/alerts?team=ops");
  auto b = webhooks::split_url("http://127.0.0.1:9000");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->path_and_query, "/");
  auto c = webhooks::split_url("http://127.0.0.1:9000?x=1");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->path_and_query, "/?x=1");
  EXPECT_FALSE(webhooks::split_url("http://:9000/x"));
  EXPECT_FALSE(webhooks::split_url("http://host:99999/x"));
}

TEST(WebhookPayload, Rfc3339) {
  EXPECT_EQ(format_rfc3339(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(format_rfc3339(1795377662), "2026-11-22T20:01:02Z");
}

}  // namespace
}  // namespace tl::fleet
