// The audit log: one writer thread commits whatever callers queued meanwhile
// in one transaction (group commit) on a connection with synchronous=FULL, so
// an entry is on disk when record() returns and the fsync is shared by every
// caller of the batch.
#include "keys/audit.h"

#include <condition_variable>
#include <deque>
#include <future>
#include <mutex>
#include <optional>
#include <thread>

#include "keys/internal.h"

namespace tl::keys {

using namespace detail;

namespace {

struct Pending {
  AuditEntry entry;
  std::promise<Result<int64_t>> done;
};

constexpr const char* kColumns =
    "id, at, caller, operation, key_name, key_version, token_jti, token_issuer, clause, outcome, reason, detail";

// The writer owns the batch: the callers hold only futures, so nothing they
// own is touched after their result is set.
Result<std::vector<int64_t>> write_batch(store::Database& db, const std::deque<std::unique_ptr<Pending>>& batch) {
  TL_KEYS_ASSIGN(txn, store::Transaction::begin(db));
  // Prepared per batch: a statement whose last step failed keeps reporting
  // that failure on reset, and one prepare per batch costs nothing.
  TL_KEYS_ASSIGN(st, db.prepare("INSERT INTO audit_log (at, caller, operation, key_name, key_version, token_jti, "
                                "token_issuer, clause, outcome, reason, detail) "
                                "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"));
  std::vector<int64_t> ids;
  ids.reserve(batch.size());
  for (const auto& p : batch) {
    const AuditEntry& e = p->entry;
    TL_KEYS_TRY(st.reset());
    TL_KEYS_TRY(st.bind_int64(1, e.at));
    TL_KEYS_TRY(st.bind_text(2, e.caller));
    TL_KEYS_TRY(st.bind_text(3, e.operation));
    TL_KEYS_TRY(st.bind_text(4, e.key_name));
    TL_KEYS_TRY(st.bind_text(5, e.key_version));
    TL_KEYS_TRY(st.bind_text(6, e.token_jti));
    TL_KEYS_TRY(st.bind_text(7, e.token_issuer));
    TL_KEYS_TRY(st.bind_text(8, e.clause));
    TL_KEYS_TRY(st.bind_text(9, e.outcome));
    TL_KEYS_TRY(st.bind_text(10, e.reason));
    TL_KEYS_TRY(st.bind_text(11, e.detail));
    TL_KEYS_TRY(run(st));
    ids.push_back(db.last_insert_rowid());
  }
  TL_KEYS_TRY(txn.commit());
  return ids;
}

Status check_entry(const AuditEntry& e) {
  // Checked before queueing: a row the table's CHECK refuses would fail the
  // whole batch, and with it other callers' entries.
  if (e.outcome != "allowed" && e.outcome != "denied") {
    return Error{"audit entry: outcome must be \"allowed\" or \"denied\"", "internal-error"};
  }
  if (e.caller.empty() || e.operation.empty()) {
    return Error{"audit entry: caller and operation must not be empty", "internal-error"};
  }
  return {};
}

}  // namespace

struct AuditLog::Impl {
  std::filesystem::path path;
  std::unique_ptr<Pool> readers;
  std::optional<store::Database> writer;  // set by open

  std::mutex mu;
  std::condition_variable wake;
  std::deque<std::unique_ptr<Pending>> queue;
  bool stopping = false;
  std::thread thread;

  void run_writer() {
    while (true) {
      std::deque<std::unique_ptr<Pending>> batch;
      {
        std::unique_lock lock(mu);
        wake.wait(lock, [&] { return stopping || !queue.empty(); });
        if (queue.empty()) return;  // stopping, and everything queued is written
        batch.swap(queue);
      }
      auto ids = write_batch(*writer, batch);
      for (size_t i = 0; i < batch.size(); ++i) {
        if (ids) {
          batch[i]->done.set_value((*ids)[i]);
        } else {
          batch[i]->done.set_value(
              unavailable(with_context("audit log " + path.string() + ": the entry was not written", Error(ids.error()))));
        }
      }
    }
  }
};

AuditLog::AuditLog(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {
  impl_->thread = std::thread([this] { impl_->run_writer(); });
}

AuditLog::~AuditLog() {
  {
    std::lock_guard lock(impl_->mu);
    impl_->stopping = true;
  }
  impl_->wake.notify_all();
  impl_->thread.join();
}

Result<std::unique_ptr<AuditLog>> AuditLog::open(const std::filesystem::path& db) {
  TL_KEYS_ASSIGN(readers, Pool::open(db, 2, ""));
  auto writer = store::Database::open(db);
  if (!writer) return unavailable(with_context("database " + db.string(), writer.take_error()));
  // Durable when record() returns: the audit trail of a release must survive
  // a power loss that the release itself may not.
  if (auto st = writer->exec("PRAGMA synchronous=FULL"); !st) {
    return unavailable(with_context("database " + db.string(), st.take_error()));
  }
  auto impl = std::make_unique<Impl>();
  impl->path = db;
  impl->readers = std::move(readers);
  impl->writer = std::move(*writer);
  return std::unique_ptr<AuditLog>(new AuditLog(std::move(impl)));
}

Result<int64_t> AuditLog::record(AuditEntry entry) {
  TL_KEYS_TRY(check_entry(entry));
  auto pending = std::make_unique<Pending>();
  pending->entry = std::move(entry);
  auto result = pending->done.get_future();
  {
    std::lock_guard lock(impl_->mu);
    if (impl_->stopping) return Error{"audit log: closing", "unavailable"};
    impl_->queue.push_back(std::move(pending));
  }
  impl_->wake.notify_one();
  return result.get();
}

namespace {

Result<AuditEntry> read_entry(store::Statement& st) {
  AuditEntry e;
  TL_KEYS_ASSIGN(id, st.column_int64(0));
  e.id = id;
  TL_KEYS_ASSIGN(at, st.column_int64(1));
  e.at = at;
  std::string* texts[] = {&e.caller, &e.operation, &e.key_name, &e.key_version, &e.token_jti,
                          &e.token_issuer, &e.clause, &e.outcome, &e.reason, &e.detail};
  for (int i = 0; i < 10; ++i) {
    TL_KEYS_ASSIGN(t, st.column_text(2 + i));
    *texts[i] = std::move(t);
  }
  return e;
}

Result<std::vector<AuditEntry>> query_on(store::Database& db, const AuditQuery& q) {
  std::vector<AuditEntry> out;
  if (q.limit == 0) return out;
  std::string sql = std::string("SELECT ") + kColumns + " FROM audit_log WHERE id > ?1";
  if (!q.key_name.empty()) sql += " AND key_name = ?2";
  if (q.outcome) sql += " AND outcome = ?3";
  sql += " ORDER BY id LIMIT ?4";
  TL_KEYS_ASSIGN(st, db.prepare(sql));
  TL_KEYS_TRY(st.bind_int64(1, q.after_id));
  if (!q.key_name.empty()) TL_KEYS_TRY(st.bind_text(2, q.key_name));
  if (q.outcome) TL_KEYS_TRY(st.bind_text(3, *q.outcome));
  TL_KEYS_TRY(st.bind_int64(4, q.limit > static_cast<size_t>(INT64_MAX) ? INT64_MAX : static_cast<int64_t>(q.limit)));
  while (true) {
    TL_KEYS_ASSIGN(row, st.step());
    if (!row) break;
    TL_KEYS_ASSIGN(e, read_entry(st));
    out.push_back(std::move(e));
  }
  return out;
}

}  // namespace

Result<std::vector<AuditEntry>> AuditLog::query(const AuditQuery& q) {
  if (q.outcome && *q.outcome != "allowed" && *q.outcome != "denied") {
    return Error{"outcome must be \"allowed\" or \"denied\"", "audit-query-invalid"};
  }
  if (q.after_id < 0) return Error{"after must not be negative", "audit-query-invalid"};
  auto db = impl_->readers->lease();
  return classified(query_on(*db, q));
}

}  // namespace tl::keys
