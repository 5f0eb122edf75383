// The persisted delivery state of each webhook (schema v5, src/store/schema.cc).
#include "fleet/webhooks_internal.h"

// Returns early with the error of a Status-returning expression.
#define TL_WEBHOOKS_CHECK(expr)        \
  do {                                 \
    if (auto st_ = (expr); !st_) {     \
      return st_.take_error();         \
    }                                  \
  } while (false)

namespace tl::fleet::webhooks {
namespace {

// Runs a statement that returns no rows.
Status run(store::Statement& st) {
  auto row = st.step();
  if (!row) return row.take_error();
  return {};
}

}  // namespace

Result<StateStore> StateStore::open(const std::filesystem::path& path) {
  store::Options options;
  // The database is tlaunchd's and is migrated at its start; a dispatcher
  // opened on a missing file is a configuration mistake, not a new database.
  options.create_if_missing = false;
  auto db = store::Database::open(path, options);
  if (!db) return with_context("webhooks: database " + path.string(), db.take_error());
  auto probe = db->prepare("SELECT url, cursor, attempts, next_attempt_at, last_error FROM webhook_targets LIMIT 0");
  if (!probe) {
    return Error{"webhooks: database " + path.string() +
                 " has no webhook tables (migrate it to schema v5 or later first): " + probe.error().message};
  }
  return StateStore(std::move(*db));
}

Status StateStore::register_targets(const std::vector<std::string>& urls) {
  // One transaction: the cursor of every new URL is the same newest event.
  auto tx = store::Transaction::begin(db_);
  if (!tx) return tx.take_error();
  Result<int64_t> newest_id = Error{};
  {
    auto newest = db_.prepare("SELECT COALESCE(MAX(id), 0) FROM alert_events");
    if (!newest) return newest.take_error();
    auto row = newest->step();
    if (!row) return row.take_error();
    newest_id = newest->column_int64(0);
    if (!newest_id) return newest_id.take_error();
  }

  auto insert = db_.prepare("INSERT OR IGNORE INTO webhook_targets (url, cursor) VALUES (?1, ?2)");
  if (!insert) return insert.take_error();
  for (const auto& url : urls) {
    TL_WEBHOOKS_CHECK(insert->reset());
    TL_WEBHOOKS_CHECK(insert->bind_text(1, url));
    TL_WEBHOOKS_CHECK(insert->bind_int64(2, *newest_id));
    TL_WEBHOOKS_CHECK(run(*insert));
  }
  return tx->commit();
}

Result<StateStore::Row> StateStore::load(const std::string& url) {
  auto st = db_.prepare("SELECT cursor, attempts, next_attempt_at, last_error FROM webhook_targets WHERE url = ?1");
  if (!st) return st.take_error();
  TL_WEBHOOKS_CHECK(st->bind_text(1, url));
  auto found = st->step();
  if (!found) return found.take_error();
  if (!*found) return Error{"webhook " + url + ": its delivery state is missing from the database"};
  Row out;
  auto cursor = st->column_int64(0);
  auto attempts = st->column_int64(1);
  auto next = st->column_int64(2);
  auto null_error = st->column_is_null(3);
  if (!cursor) return cursor.take_error();
  if (!attempts) return attempts.take_error();
  if (!next) return next.take_error();
  if (!null_error) return null_error.take_error();
  out.cursor = *cursor;
  out.attempts = static_cast<int>(*attempts);
  out.next_attempt_at_ms = *next;
  if (!*null_error) {
    auto text = st->column_text(3);
    if (!text) return text.take_error();
    out.last_error = std::move(*text);
  }
  return out;
}

Result<std::optional<Event>> StateStore::next_event(int64_t cursor) {
  auto st = db_.prepare("SELECT id, created_at, event, body FROM alert_events WHERE id > ?1 ORDER BY id LIMIT 1");
  if (!st) return st.take_error();
  TL_WEBHOOKS_CHECK(st->bind_int64(1, cursor));
  auto found = st->step();
  if (!found) return found.take_error();
  if (!*found) return std::optional<Event>{};
  auto id = st->column_int64(0);
  auto created_at = st->column_int64(1);
  auto event = st->column_text(2);
  auto body = st->column_text(3);
  if (!id) return id.take_error();
  if (!created_at) return created_at.take_error();
  if (!event) return event.take_error();
  if (!body) return body.take_error();
  return std::optional<Event>(Event{*id, *created_at, std::move(*event), std::move(*body)});
}

Status StateStore::delivered(const std::string& url, int64_t event_id) {
  auto st = db_.prepare(
      "UPDATE webhook_targets SET cursor = ?2, attempts = 0, next_attempt_at = 0, last_error = NULL "
      "WHERE url = ?1");
  if (!st) return st.take_error();
  TL_WEBHOOKS_CHECK(st->bind_text(1, url));
  TL_WEBHOOKS_CHECK(st->bind_int64(2, event_id));
  return run(*st);
}

Status StateStore::failed(const std::string& url, int attempts, int64_t next_attempt_at_ms,
                          const std::string& error) {
  auto st = db_.prepare(
      "UPDATE webhook_targets SET attempts = ?2, next_attempt_at = ?3, last_error = ?4 WHERE url = ?1");
  if (!st) return st.take_error();
  TL_WEBHOOKS_CHECK(st->bind_text(1, url));
  TL_WEBHOOKS_CHECK(st->bind_int64(2, attempts));
  TL_WEBHOOKS_CHECK(st->bind_int64(3, next_attempt_at_ms));
  TL_WEBHOOKS_CHECK(st->bind_text(4, error));
  return run(*st);
}

Status StateStore::gave_up(const std::string& url, int64_t event_id, int attempts, const std::string& error,
                           int64_t now_ms) {
  auto tx = store::Transaction::begin(db_);
  if (!tx) return tx.take_error();
  auto record = db_.prepare(
      "INSERT OR REPLACE INTO webhook_given_up (url, event_id, attempts, last_error, given_up_at) "
      "VALUES (?1, ?2, ?3, ?4, ?5)");
  if (!record) return record.take_error();
  TL_WEBHOOKS_CHECK(record->bind_text(1, url));
  TL_WEBHOOKS_CHECK(record->bind_int64(2, event_id));
  TL_WEBHOOKS_CHECK(record->bind_int64(3, attempts));
  TL_WEBHOOKS_CHECK(record->bind_text(4, error));
  TL_WEBHOOKS_CHECK(record->bind_int64(5, now_ms));
  TL_WEBHOOKS_CHECK(run(*record));
  auto move = db_.prepare(
      "UPDATE webhook_targets SET cursor = ?2, attempts = 0, next_attempt_at = 0, last_error = NULL "
      "WHERE url = ?1");
  if (!move) return move.take_error();
  TL_WEBHOOKS_CHECK(move->bind_text(1, url));
  TL_WEBHOOKS_CHECK(move->bind_int64(2, event_id));
  TL_WEBHOOKS_CHECK(run(*move));
  return tx->commit();
}

Result<int64_t> StateStore::given_up_count(const std::string& url) {
  auto st = db_.prepare("SELECT COUNT(*) FROM webhook_given_up WHERE url = ?1");
  if (!st) return st.take_error();
  TL_WEBHOOKS_CHECK(st->bind_text(1, url));
  auto row = st->step();
  if (!row) return row.take_error();
  return st->column_int64(0);
}

}  // namespace tl::fleet::webhooks
