// Pieces of the webhook dispatcher that are pure functions, apart so tests can
// check them without a server: URL splitting, the request a webhook receives,
// and the retry schedule. Not a public header of tl_fleet.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/hex.h"
#include "common/result.h"
#include "store/database.h"

namespace tl::fleet::webhooks {

// "https://host:8443/hooks/a?x=1" → origin "https://host:8443", path "/hooks/a?x=1".
struct SplitUrl {
  std::string origin;
  std::string path_and_query;  // "/" when the URL has no path
};
// Checks the origin with http::parse_origin and the path for characters an
// HTTP request line cannot carry; errors name the URL.
Result<SplitUrl> split_url(std::string_view url);

// One row of alert_events.
struct Event {
  int64_t id = 0;
  int64_t created_at = 0;  // Unix seconds, as src/fleet records every time
  std::string event;       // "alert.opened" | "alert.resolved"
  std::string body;        // the alert's JSON
};

// The exact bytes POSTed: {"event", "id", "createdAt" (RFC 3339 UTC), "alert"}.
// Fails when the stored body is not JSON (a bug upstream: the event is given up
// on at once rather than retried forever).
Result<std::string> payload(const Event& event);

// "sha256=<lower-case hex HMAC-SHA256(secret, body)>".
Result<std::string> signature(ByteView secret, std::string_view body);


// Delay before attempt `failures + 1` after `failures` (>= 1) failed ones:
// cap = min(max, first * 2^(failures-1)), delay = cap/2 + unit * cap/2 ("equal
// jitter": never less than half the cap, so retries still spread out and never
// come in a tight loop). `unit` is uniform in [0, 1].
std::chrono::milliseconds backoff(int failures, std::chrono::milliseconds first, std::chrono::milliseconds max,
                                  double unit);

// The webhook tables of schema v5 (webhook_targets, webhook_given_up) over one
// connection. Used by one thread at a time (the dispatcher serializes passes).
class StateStore {
 public:
  struct Row {
    int64_t cursor = 0;
    int attempts = 0;
    int64_t next_attempt_at_ms = 0;
    std::optional<std::string> last_error;
  };

  static Result<StateStore> open(const std::filesystem::path& path);

  // Adds a row for each URL not seen before, its cursor at the newest event (a
  // new webhook is not sent the history). Rows of URLs no longer configured
  // stay: a webhook left out of one run's configuration must not lose events.
  Status register_targets(const std::vector<std::string>& urls);

  Result<Row> load(const std::string& url);
  // The first event after `cursor`, if any.
  Result<std::optional<Event>> next_event(int64_t cursor);
  // The cursor moves to event_id and the failure state clears.
  Status delivered(const std::string& url, int64_t event_id);
  Status failed(const std::string& url, int attempts, int64_t next_attempt_at_ms, const std::string& error);
  // Records the give-up and moves the cursor past the event, atomically.
  Status gave_up(const std::string& url, int64_t event_id, int attempts, const std::string& error,
                 int64_t now_ms);
  Result<int64_t> given_up_count(const std::string& url);

 private:
  explicit StateStore(store::Database db) : db_(std::move(db)) {}
  store::Database db_;
};

}  // namespace tl::fleet::webhooks
