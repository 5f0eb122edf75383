// Webhook delivery of alert events (docs/webhooks.md, docs/fleet-api.md
// "Webhooks"). src/fleet writes each alert transition into the alert_events
// outbox in the transaction that makes it (schema v5); this dispatcher POSTs
// those rows to every configured webhook, at least once, in event order per
// webhook, retrying failures with jittered exponential back-off.
//
// Per webhook (identified by its URL) the database keeps a cursor, the id of
// the last event that is finished with (delivered, or given up after
// max_attempts), and the attempts, next attempt time and last error of the
// event after it. The cursor moves only after a 2xx answer or a give-up, so a
// crash or restart re-sends at most the event in flight: receivers
// de-duplicate by event id. One webhook failing never holds up another.
//
// A webhook URL seen for the first time starts after the newest event that
// exists then (it is not sent the history). The state of a URL no longer
// configured is kept: if it comes back it is sent what it missed, so a run
// with a different configuration loses nothing.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"

namespace tl::fleet {

struct WebhookTarget {
  std::string url;                    // "https://host[:port]/path" or http://
  std::optional<std::string> secret;  // HMAC key for X-Trustlaunch-Signature (tlaunchd reads it from a file)
};

// What happened to one delivery attempt; reported through
// WebhookOptions::on_report (from the thread calling deliver_due).
struct WebhookReport {
  enum class Outcome { delivered, retry_scheduled, gave_up };
  Outcome outcome = Outcome::delivered;
  std::string url;
  int64_t event_id = 0;
  int attempt = 0;               // 1-based number of the attempt that just finished
  std::string error;             // why it failed (empty when delivered)
  int64_t next_attempt_at_ms = 0;  // retry_scheduled: Unix ms of the next try
};

struct WebhookOptions {
  std::vector<WebhookTarget> targets;
  int max_attempts = 20;  // per event and webhook; then the event is given up on
  std::chrono::milliseconds first_backoff{2000};   // wait after the first failure; doubles
  std::chrono::milliseconds max_backoff{600000};   // cap of the doubling (before jitter)
  std::chrono::milliseconds poll_interval{1000};   // worker: how often it looks for new events
  std::optional<std::string> ca_file;  // HTTPS: trust only these CAs (PEM); else the system store
  std::chrono::milliseconds timeout{5000};  // connect, TLS handshake, write and read, each
  // Called for every attempt (tlaunchd logs failures and give-ups); may be
  // empty. Runs inside a pass: it must not call back into the dispatcher.
  std::function<void(const WebhookReport&)> on_report;
  // Worker thread: a pass that failed on the database (the error says which
  // webhook and event); it is retried at the next poll. May be empty.
  std::function<void(const Error&)> on_error;
};

// A webhook's persisted delivery state (for tests, metrics and operators).
struct WebhookState {
  std::string url;
  int64_t cursor = 0;           // last event id finished with
  int attempts = 0;             // failed attempts at the next event
  int64_t next_attempt_at_ms = 0;  // no attempt before this (Unix ms); 0 = now
  std::optional<std::string> last_error;
  int64_t given_up = 0;         // events given up on so far
};

class WebhookDispatcher {
 public:
  // Opens its own connection to the (migrated, schema v5+) database at `db`,
  // checks every URL and the options, and registers the targets. Refuses a
  // malformed or duplicated URL, an empty secret, max_attempts < 1 and
  // non-positive intervals, naming what is wrong.
  static Result<std::unique_ptr<WebhookDispatcher>> open(const std::filesystem::path& db, WebhookOptions options);

  ~WebhookDispatcher();  // stop()
  WebhookDispatcher(const WebhookDispatcher&) = delete;
  WebhookDispatcher& operator=(const WebhookDispatcher&) = delete;

  // Starts the worker thread (a no-op when it runs): it calls deliver_due with
  // the system clock after every wake() and at least every poll_interval.
  void start();
  // Stops and joins the worker. An idle worker stops at once; one in the middle
  // of a request stops when that request ends (at most `timeout` per step).
  // Idempotent.
  void stop();
  // Tells the worker new events may be waiting (src/fleet after a commit).
  void wake();

  // One synchronous pass at time now_ms (Unix ms): for each webhook whose next
  // attempt is due, sends its pending events in order until one fails or none
  // is left. Returns how many events were delivered. HTTP and connection
  // failures are not errors (they are recorded and retried); only a database
  // failure is. Safe to call from any thread; passes are serialized.
  Result<int> deliver_due(int64_t now_ms);

  // The persisted state of every configured webhook, in configuration order.
  Result<std::vector<WebhookState>> state();

 private:
  struct Impl;
  explicit WebhookDispatcher(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace tl::fleet
