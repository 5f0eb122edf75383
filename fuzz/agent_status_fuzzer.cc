// Fuzzes the status and heartbeat readers. Invariants: a rejection is
// "status-malformed" with a message; whatever is accepted serializes back to
// a document that parses to the same values (the writer and the reader agree).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "agent/status.h"
#include "fuzz_support.h"

using tl::fuzz::check;

namespace {

const char* const kStatusHead = R"({"version":1,"lastAttemptTime":"2023-11-14T22:13:20Z","lastSuccessTime":null,)"
                                R"("consecutiveFailures":3,"nextAttemptTime":"2023-11-14T22:13:40Z","tokenExpiry":null,)"
                                R"("lastError":)";

bool same(const tl::agent::AgentStatus& a, const tl::agent::AgentStatus& b) {
  const bool errors_same = a.last_error.has_value() == b.last_error.has_value() &&
                           (!a.last_error || (a.last_error->time == b.last_error->time &&
                                              a.last_error->reason == b.last_error->reason &&
                                              a.last_error->message == b.last_error->message));
  return errors_same && a.last_attempt == b.last_attempt && a.last_success == b.last_success &&
         a.consecutive_failures == b.consecutive_failures && a.next_attempt == b.next_attempt &&
         a.token_expiry == b.token_expiry;
}

void check_status(std::string_view text) {
  auto s = tl::agent::parse_status(text);
  if (!s.ok()) {
    check(s.error().reason == "status-malformed" && !s.error().message.empty());
    return;
  }
  auto again = tl::agent::parse_status(tl::agent::status_to_json(*s));
  check(again.ok());
  check(same(*s, *again));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
  switch (data[0] % 3) {
    case 0:
      check_status(rest);
      break;
    case 1:
      check_status(std::string(kStatusHead) + std::string(rest) + "}");
      break;
    default: {
      auto h = tl::agent::parse_heartbeat(rest);
      if (!h.ok()) {
        check(h.error().reason == "status-malformed" && !h.error().message.empty());
        break;
      }
      auto again = tl::agent::parse_heartbeat(tl::agent::heartbeat_to_json(*h));
      check(again.ok());
      check(again->timestamp == h->timestamp && again->pid == h->pid && again->state == h->state);
      break;
    }
  }
  return 0;
}
