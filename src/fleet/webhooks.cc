// The webhook dispatcher: one pass (deliver_due) and the worker thread that
// runs passes. What is sent: webhooks_request.cc; what is stored: webhooks_state.cc.
#include "fleet/webhooks.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include "crypto/secret_bytes.h"
#include "fleet/webhooks_internal.h"
#include "http/http.h"

namespace tl::fleet {
namespace {

using std::chrono::milliseconds;

// A receiver's answer goes into last_error so an operator sees why it refused;
// only a short, printable prefix of it (the receiver is not trusted).
constexpr size_t kResponseExcerpt = 200;
// Responses are read only to finish the exchange; a receiver sending more is odd.
constexpr size_t kMaxResponseBytes = 1024 * 1024;
// Upper bounds that catch a unit mistake in the configuration (ms for s).
constexpr milliseconds kMaxBackoffLimit = std::chrono::hours(24 * 7);
constexpr milliseconds kMaxTimeout = std::chrono::minutes(10);

std::string excerpt(std::string_view body) {
  std::string out;
  for (const char c : body.substr(0, kResponseExcerpt)) {
    const auto u = static_cast<unsigned char>(c);
    out += (u >= 0x20 && u < 0x7f) ? c : '?';
  }
  if (body.size() > kResponseExcerpt) out += "…";
  return out;
}

std::string describe_status(int status, std::string_view body) {
  std::string out = "HTTP " + std::to_string(status);
  if (status >= 300 && status < 400) out += " (redirects are not followed: configure the final URL)";
  if (!body.empty()) out += ": " + excerpt(body);
  return out;
}

int64_t system_now_ms() {
  return std::chrono::duration_cast<milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace

struct WebhookDispatcher::Impl {
  struct Target {
    std::string url;
    webhooks::SplitUrl split;
    std::optional<crypto::SecretBytes> secret;
    std::unique_ptr<http::Client> client;  // kept for keep-alive; dropped after a transport failure
  };

  Impl(WebhookOptions o, webhooks::StateStore s) : options(std::move(o)), state(std::move(s)) {}

  WebhookOptions options;  // targets moved out into `targets`
  std::vector<Target> targets;

  std::mutex pass_mutex;  // one pass at a time: it owns `state`, the clients and `rng`
  webhooks::StateStore state;
  std::mt19937_64 rng{std::random_device{}()};  // jitter only; nothing secret
  int64_t earliest_retry_ms = 0;  // after a pass: the soonest next_attempt_at in the future (0: none)

  std::atomic<bool> stop_requested{false};  // checked between requests so stop() is not held up by a backlog
  std::mutex worker_mutex;
  std::condition_variable worker_cv;
  bool stopping = false;
  bool woken = false;
  std::thread worker;

  void report(WebhookReport r) const {
    if (options.on_report) options.on_report(r);
  }

  // One POST; Error = the message to record for the attempt (never a database failure).
  Status send(Target& target, const webhooks::Event& event, const std::string& body) {
    const std::string where = "event " + std::to_string(event.id) + " to " + target.url;
    if (!target.client) {
      http::ClientOptions co;
      co.ca_file = options.ca_file;
      co.timeout_ms = static_cast<unsigned>(options.timeout.count());
      co.keep_alive = true;
      co.max_response_bytes = kMaxResponseBytes;
      auto client = http::Client::create(target.split.origin, co);
      if (!client) return with_context(where, client.take_error());
      target.client = std::move(*client);
    }
    http::Headers headers{{"Content-Type", "application/json"},
                          {"User-Agent", "tlaunchd-webhooks"},
                          {"X-Trustlaunch-Event-Id", std::to_string(event.id)}};
    if (target.secret) {
      auto sig = webhooks::signature(target.secret->view(), body);
      if (!sig) return with_context(where, sig.take_error());
      headers["X-Trustlaunch-Signature"] = std::move(*sig);
    }
    auto response = target.client->request("POST", target.split.path_and_query, body, headers);
    if (!response) {
      target.client.reset();  // the connection is in an unknown state; start afresh next time
      return with_context(where, response.take_error());
    }
    if (response->status < 200 || response->status > 299) {
      return Error{where + ": " + describe_status(response->status, response->body)};
    }
    return {};
  }

  enum class Step { idle, delivered, failed, gave_up };

  void note_retry(int64_t at_ms) {
    if (earliest_retry_ms == 0 || at_ms < earliest_retry_ms) earliest_retry_ms = at_ms;
  }

  // Handles the next pending event of one target at now_ms.
  Result<Step> step(Target& target, int64_t now_ms) {
    auto row = state.load(target.url);
    if (!row) return row.take_error();
    if (row->next_attempt_at_ms > now_ms) {
      note_retry(row->next_attempt_at_ms);
      return Step::idle;
    }
    auto event = state.next_event(row->cursor);
    if (!event) return with_context("webhook " + target.url, event.take_error());
    if (!*event) return Step::idle;

    const int attempt = row->attempts + 1;
    auto body = webhooks::payload(**event);
    Status sent = body ? send(target, **event, *body) : Status(body.take_error());
    const bool unsendable = !body;  // retrying cannot help a body that does not encode

    if (sent) {
      if (auto st = state.delivered(target.url, (*event)->id); !st) return st.take_error();
      report({WebhookReport::Outcome::delivered, target.url, (*event)->id, attempt, {}, 0});
      return Step::delivered;
    }
    const std::string error = sent.error().message;
    if (unsendable || attempt >= options.max_attempts) {
      if (auto st = state.gave_up(target.url, (*event)->id, attempt, error, now_ms); !st) return st.take_error();
      report({WebhookReport::Outcome::gave_up, target.url, (*event)->id, attempt, error, 0});
      return Step::gave_up;
    }
    const double unit = std::uniform_real_distribution<double>(0.0, 1.0)(rng);
    const int64_t next =
        now_ms + webhooks::backoff(attempt, options.first_backoff, options.max_backoff, unit).count();
    if (auto st = state.failed(target.url, attempt, next, error); !st) return st.take_error();
    report({WebhookReport::Outcome::retry_scheduled, target.url, (*event)->id, attempt, error, next});
    note_retry(next);
    return Step::failed;
  }

  Result<int> pass(int64_t now_ms) {
    std::lock_guard lock(pass_mutex);
    earliest_retry_ms = 0;
    int delivered = 0;
    // Rounds of one event per target, so a long backlog at one webhook does not
    // delay the others; a target leaves the pass when it has nothing due.
    std::vector<Target*> active;
    for (auto& t : targets) active.push_back(&t);
    while (!active.empty() && !stop_requested.load()) {
      std::vector<Target*> still;
      for (Target* t : active) {
        if (stop_requested.load()) break;
        auto s = step(*t, now_ms);
        if (!s) return s.take_error();
        if (*s == Step::delivered) ++delivered;
        if (*s == Step::delivered || *s == Step::gave_up) still.push_back(t);
      }
      active = std::move(still);
    }
    return delivered;
  }

  void run() {
    std::unique_lock lock(worker_mutex);
    while (!stopping) {
      woken = false;
      lock.unlock();
      int64_t retry_at = 0;
      try {
        auto r = pass(system_now_ms());
        if (!r && options.on_error) options.on_error(r.error());
        std::lock_guard pass_lock(pass_mutex);
        retry_at = earliest_retry_ms;
      } catch (const std::exception& e) {  // a worker thread must not take tlaunchd down
        if (options.on_error) options.on_error(Error{std::string("webhooks: pass failed: ") + e.what()});
      }
      lock.lock();
      if (stopping || woken) continue;
      milliseconds wait = options.poll_interval;
      if (retry_at != 0) {
        wait = std::clamp(milliseconds(retry_at - system_now_ms()), milliseconds(1), wait);
      }
      worker_cv.wait_for(lock, wait, [this] { return stopping || woken; });
    }
  }
};

WebhookDispatcher::WebhookDispatcher(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

WebhookDispatcher::~WebhookDispatcher() { stop(); }

Result<std::unique_ptr<WebhookDispatcher>> WebhookDispatcher::open(const std::filesystem::path& db,
                                                                    WebhookOptions options) {
  if (options.max_attempts < 1) {
    return Error{"webhooks: max attempts must be at least 1 (got " + std::to_string(options.max_attempts) + ")"};
  }
  if (options.first_backoff <= milliseconds(0) || options.max_backoff < options.first_backoff ||
      options.max_backoff > kMaxBackoffLimit) {
    return Error{"webhooks: back-off must satisfy 0 < first (" + std::to_string(options.first_backoff.count()) +
                 " ms) <= max (" + std::to_string(options.max_backoff.count()) + " ms) <= 7 days"};
  }
  if (options.poll_interval <= milliseconds(0)) return Error{"webhooks: the poll interval must be positive"};
  if (options.timeout <= milliseconds(0) || options.timeout > kMaxTimeout) {
    return Error{"webhooks: the request timeout must be between 1 ms and 10 minutes (got " +
                 std::to_string(options.timeout.count()) + " ms)"};
  }

  std::vector<Impl::Target> targets;
  std::vector<std::string> urls;
  std::set<std::string> seen;
  for (auto& t : options.targets) {
    if (!seen.insert(t.url).second) {
      return Error{"webhook URL '" + t.url + "' is configured twice (webhooks are identified by URL)"};
    }
    auto split = webhooks::split_url(t.url);
    if (!split) return split.take_error();
    Impl::Target target{t.url, std::move(*split), std::nullopt, nullptr};
    if (t.secret) {
      if (t.secret->empty()) return Error{"webhook '" + t.url + "': the secret is empty (give one, or none)"};
      target.secret = crypto::SecretBytes(as_bytes(*t.secret));
      // Best effort: leave no second copy of the secret in the options we keep.
      std::fill(t.secret->begin(), t.secret->end(), '\0');
      t.secret.reset();
    }
    urls.push_back(t.url);
    targets.push_back(std::move(target));
  }
  options.targets.clear();

  auto state = webhooks::StateStore::open(db);
  if (!state) return state.take_error();
  if (auto st = state->register_targets(urls); !st) return with_context("webhooks: registering targets", st.take_error());

  auto impl = std::make_unique<Impl>(std::move(options), std::move(*state));
  impl->targets = std::move(targets);
  return std::unique_ptr<WebhookDispatcher>(new WebhookDispatcher(std::move(impl)));
}

void WebhookDispatcher::start() {
  std::lock_guard lock(impl_->worker_mutex);
  if (impl_->worker.joinable()) return;
  impl_->stopping = false;
  impl_->stop_requested = false;
  impl_->worker = std::thread([impl = impl_.get()] { impl->run(); });
}

void WebhookDispatcher::stop() {
  {
    std::lock_guard lock(impl_->worker_mutex);
    impl_->stopping = true;
    impl_->stop_requested = true;
  }
  impl_->worker_cv.notify_all();
  if (impl_->worker.joinable()) impl_->worker.join();
  impl_->stop_requested = false;  // direct deliver_due calls work again
}

void WebhookDispatcher::wake() {
  {
    std::lock_guard lock(impl_->worker_mutex);
    impl_->woken = true;
  }
  impl_->worker_cv.notify_all();
}

Result<int> WebhookDispatcher::deliver_due(int64_t now_ms) { return impl_->pass(now_ms); }

Result<std::vector<WebhookState>> WebhookDispatcher::state() {
  std::lock_guard lock(impl_->pass_mutex);
  std::vector<WebhookState> out;
  for (const auto& t : impl_->targets) {
    auto row = impl_->state.load(t.url);
    if (!row) return row.take_error();
    auto given_up = impl_->state.given_up_count(t.url);
    if (!given_up) return given_up.take_error();
    out.push_back(WebhookState{t.url, row->cursor, row->attempts, row->next_attempt_at_ms, row->last_error,
                               *given_up});
  }
  return out;
}

}  // namespace tl::fleet
