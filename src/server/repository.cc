#include "server/repository.h"

#include "store/migrate.h"
#include "store/schema.h"

namespace tl::server {

// Borrows one connection from the pool for the scope of a call.
class Repository::Lease {
 public:
  Lease(Repository* repo, store::Database db) : repo_(repo), db_(std::move(db)) {}
  Lease(Lease&&) = delete;
  ~Lease() {
    std::lock_guard lock(repo_->mu_);
    repo_->free_.push_back(std::move(db_));
    repo_->cv_.notify_one();
  }
  store::Database& operator*() { return db_; }
  store::Database* operator->() { return &db_; }

 private:
  Repository* repo_;
  store::Database db_;
};

namespace {

#define TRY_ST(expr)                 \
  do {                               \
    if (auto st_ = (expr); !st_) {   \
      return st_.take_error();       \
    }                                \
  } while (0)

#define TRY_ASSIGN(var, expr)        \
  auto var##_r = (expr);             \
  if (!var##_r) return var##_r.take_error(); \
  auto var = std::move(*var##_r)

Result<std::optional<Bytes>> nullable_blob(store::Statement& st, int col) {
  TRY_ASSIGN(is_null, st.column_is_null(col));
  if (is_null) return std::optional<Bytes>{};
  TRY_ASSIGN(b, st.column_blob(col));
  return std::optional<Bytes>{std::move(b)};
}

Result<std::optional<int64_t>> nullable_int(store::Statement& st, int col) {
  TRY_ASSIGN(is_null, st.column_is_null(col));
  if (is_null) return std::optional<int64_t>{};
  TRY_ASSIGN(v, st.column_int64(col));
  return std::optional<int64_t>{v};
}

Status bind_opt_blob(store::Statement& st, int i, const std::optional<Bytes>& b) {
  return b ? st.bind_blob(i, *b) : st.bind_null(i);
}

}  // namespace

Repository::Repository(std::vector<store::Database> dbs) : free_(std::move(dbs)) {}

Repository::Lease Repository::lease() {
  std::unique_lock lock(mu_);
  cv_.wait(lock, [&] { return !free_.empty(); });
  store::Database db = std::move(free_.back());
  free_.pop_back();
  return Lease(this, std::move(db));
}

Result<std::unique_ptr<Repository>> Repository::open(const std::filesystem::path& path, unsigned connections) {
  if (connections == 0) connections = 1;
  std::vector<store::Database> dbs;
  for (unsigned i = 0; i < connections; ++i) {
    TRY_ASSIGN(db, store::Database::open(path));
    if (i == 0) {
      auto v = store::migrate(db, store::tlaunchd_migrations());
      if (!v) return with_context("database " + path.string(), v.take_error());
    }
    dbs.push_back(std::move(db));
  }
  return std::unique_ptr<Repository>(new Repository(std::move(dbs)));
}

namespace {
constexpr const char* kVmColumns =
    "vm_id, ek_public, ek_name, ak_public, ak_name, ek_certificate, ek_cert_validated, allow_reenroll, "
    "enrolled_at, updated_at";

Result<VmRecord> read_vm(store::Statement& st) {
  VmRecord v;
  TRY_ASSIGN(id, st.column_text(0));
  v.vm_id = std::move(id);
  TRY_ASSIGN(ek, st.column_blob(1));
  v.ek_public = std::move(ek);
  TRY_ASSIGN(ekn, st.column_blob(2));
  v.ek_name = std::move(ekn);
  TRY_ASSIGN(ak, nullable_blob(st, 3));
  v.ak_public = ak.value_or(Bytes{});
  TRY_ASSIGN(akn, nullable_blob(st, 4));
  v.ak_name = akn.value_or(Bytes{});
  TRY_ASSIGN(cert, nullable_blob(st, 5));
  v.ek_certificate = std::move(cert);
  TRY_ASSIGN(valid, st.column_int64(6));
  v.ek_cert_validated = valid != 0;
  TRY_ASSIGN(allow, st.column_int64(7));
  v.allow_reenroll = allow != 0;
  TRY_ASSIGN(e, st.column_int64(8));
  v.enrolled_at = e;
  TRY_ASSIGN(u, st.column_int64(9));
  v.updated_at = u;
  return v;
}

Result<std::optional<VmRecord>> find_vm_on(store::Database& db, const std::string& vm_id) {
  TRY_ASSIGN(st, db.prepare(std::string("SELECT ") + kVmColumns + " FROM vms WHERE vm_id = ?1"));
  TRY_ST(st.bind_text(1, vm_id));
  TRY_ASSIGN(row, st.step());
  if (!row) return std::optional<VmRecord>{};
  TRY_ASSIGN(v, read_vm(st));
  return std::optional<VmRecord>{std::move(v)};
}
}  // namespace

Result<std::optional<VmRecord>> Repository::find_vm(const std::string& vm_id) {
  auto db = lease();
  return find_vm_on(*db, vm_id);
}

Result<std::optional<std::string>> Repository::vm_of_ek(ByteView ek_name) {
  auto db = lease();
  TRY_ASSIGN(st, db->prepare("SELECT vm_id FROM vms WHERE ek_name = ?1"));
  TRY_ST(st.bind_blob(1, ek_name));
  TRY_ASSIGN(row, st.step());
  if (!row) return std::optional<std::string>{};
  TRY_ASSIGN(id, st.column_text(0));
  return std::optional<std::string>{std::move(id)};
}

Status Repository::put_pending(const PendingEnrollment& p) {
  std::lock_guard write(write_mu_);
  auto db = lease();
  TRY_ASSIGN(txn, store::Transaction::begin(*db));
  TRY_ASSIGN(del, db->prepare("DELETE FROM pending_enrollments WHERE vm_id = ?1"));
  TRY_ST(del.bind_text(1, p.vm_id));
  TRY_ASSIGN(deleted, del.step());
  (void)deleted;
  TRY_ASSIGN(st, db->prepare(
                     "INSERT INTO pending_enrollments (enrollment_id, vm_id, ek_public, ek_certificate, "
                     "ek_cert_validated, ak_public, secret_sha256, expires_at) VALUES (?1,?2,?3,?4,?5,?6,?7,?8)"));
  TRY_ST(st.bind_text(1, p.enrollment_id));
  TRY_ST(st.bind_text(2, p.vm_id));
  TRY_ST(st.bind_blob(3, p.ek_public));
  TRY_ST(bind_opt_blob(st, 4, p.ek_certificate));
  TRY_ST(st.bind_int64(5, p.ek_cert_validated ? 1 : 0));
  TRY_ST(st.bind_blob(6, p.ak_public));
  TRY_ST(st.bind_blob(7, p.secret_sha256));
  TRY_ST(st.bind_int64(8, p.expires_at));
  TRY_ASSIGN(row, st.step());
  (void)row;
  return txn.commit();
}

Result<std::optional<PendingEnrollment>> Repository::take_pending(const std::string& enrollment_id) {
  std::lock_guard write(write_mu_);
  auto db = lease();
  TRY_ASSIGN(txn, store::Transaction::begin(*db));
  TRY_ASSIGN(st, db->prepare(
                     "SELECT vm_id, ek_public, ek_certificate, ek_cert_validated, ak_public, secret_sha256, "
                     "expires_at FROM pending_enrollments WHERE enrollment_id = ?1"));
  TRY_ST(st.bind_text(1, enrollment_id));
  TRY_ASSIGN(row, st.step());
  if (!row) return std::optional<PendingEnrollment>{};
  PendingEnrollment p;
  p.enrollment_id = enrollment_id;
  TRY_ASSIGN(vm, st.column_text(0));
  p.vm_id = std::move(vm);
  TRY_ASSIGN(ek, st.column_blob(1));
  p.ek_public = std::move(ek);
  TRY_ASSIGN(cert, nullable_blob(st, 2));
  p.ek_certificate = std::move(cert);
  TRY_ASSIGN(valid, st.column_int64(3));
  p.ek_cert_validated = valid != 0;
  TRY_ASSIGN(ak, st.column_blob(4));
  p.ak_public = std::move(ak);
  TRY_ASSIGN(h, st.column_blob(5));
  p.secret_sha256 = std::move(h);
  TRY_ASSIGN(exp, st.column_int64(6));
  p.expires_at = exp;
  TRY_ASSIGN(del, db->prepare("DELETE FROM pending_enrollments WHERE enrollment_id = ?1"));
  TRY_ST(del.bind_text(1, enrollment_id));
  TRY_ASSIGN(done, del.step());
  (void)done;
  TRY_ST(txn.commit());
  return std::optional<PendingEnrollment>{std::move(p)};
}

Result<VmRecord> Repository::complete_enrollment(const PendingEnrollment& p, ByteView ek_name, ByteView ak_name,
                                                 int64_t now) {
  std::lock_guard write(write_mu_);
  auto db = lease();
  TRY_ASSIGN(txn, store::Transaction::begin(*db));
  TRY_ASSIGN(existing, find_vm_on(*db, p.vm_id));
  if (existing && existing->ek_public != p.ek_public && !existing->allow_reenroll)
    return Error{"VM '" + p.vm_id + "' is enrolled with another EK; an operator must allow re-enrollment first "
                 "(tlaunchd allow-reenroll " + p.vm_id + ")",
                 "ek-takeover-refused"};
  {
    TRY_ASSIGN(other, db->prepare("SELECT vm_id FROM vms WHERE ek_name = ?1 AND vm_id <> ?2"));
    TRY_ST(other.bind_blob(1, ek_name));
    TRY_ST(other.bind_text(2, p.vm_id));
    TRY_ASSIGN(taken, other.step());
    if (taken)
      return Error{"this TPM's EK is already enrolled as another VM; one TPM attests for one VM "
                   "(delete that enrollment first)",
                   "ek-already-enrolled"};
  }
  TRY_ASSIGN(st, db->prepare(
                     "INSERT INTO vms (vm_id, ek_public, ek_name, ak_public, ak_name, ek_certificate, "
                     "ek_cert_validated, allow_reenroll, enrolled_at, updated_at) "
                     "VALUES (?1,?2,?3,?4,?5,?6,?7,0,?8,?8) "
                     "ON CONFLICT (vm_id) DO UPDATE SET ek_public = excluded.ek_public, ek_name = excluded.ek_name, "
                     "ak_public = excluded.ak_public, ak_name = excluded.ak_name, "
                     "ek_certificate = excluded.ek_certificate, ek_cert_validated = excluded.ek_cert_validated, "
                     "allow_reenroll = 0, updated_at = excluded.updated_at"));
  TRY_ST(st.bind_text(1, p.vm_id));
  TRY_ST(st.bind_blob(2, p.ek_public));
  TRY_ST(st.bind_blob(3, ek_name));
  TRY_ST(st.bind_blob(4, p.ak_public));
  TRY_ST(st.bind_blob(5, ak_name));
  TRY_ST(bind_opt_blob(st, 6, p.ek_certificate));
  TRY_ST(st.bind_int64(7, p.ek_cert_validated ? 1 : 0));
  TRY_ST(st.bind_int64(8, now));
  TRY_ASSIGN(done, st.step());
  (void)done;
  TRY_ASSIGN(after, find_vm_on(*db, p.vm_id));
  TRY_ST(txn.commit());
  if (!after) return Error{"enrollment of '" + p.vm_id + "' was not stored", "internal-error"};
  return std::move(*after);
}

Status Repository::allow_reenroll(const std::string& vm_id) {
  std::lock_guard write(write_mu_);
  auto db = lease();
  TRY_ASSIGN(st, db->prepare("UPDATE vms SET allow_reenroll = 1 WHERE vm_id = ?1"));
  TRY_ST(st.bind_text(1, vm_id));
  TRY_ASSIGN(done, st.step());
  (void)done;
  if (db->changes() != 1) return Error{"no enrolled VM '" + vm_id + "'", "vm-not-enrolled"};
  return {};
}

Result<bool> Repository::has_api_token(const std::string& role) {
  auto db = lease();
  TRY_ASSIGN(st, db->prepare("SELECT 1 FROM api_tokens WHERE role = ?1 LIMIT 1"));
  TRY_ST(st.bind_text(1, role));
  return st.step();
}

Result<bool> Repository::api_token_known(ByteView token_sha256, const std::string& role) {
  auto db = lease();
  TRY_ASSIGN(st, db->prepare("SELECT 1 FROM api_tokens WHERE token_sha256 = ?1 AND role = ?2"));
  TRY_ST(st.bind_blob(1, token_sha256));
  TRY_ST(st.bind_text(2, role));
  return st.step();
}

Status Repository::replace_api_token(ByteView token_sha256, const std::string& name, const std::string& role,
                                     int64_t now) {
  std::lock_guard write(write_mu_);
  auto db = lease();
  TRY_ASSIGN(tx, store::Transaction::begin(*db));
  TRY_ASSIGN(del, db->prepare("DELETE FROM api_tokens WHERE role = ?1 OR name = ?2"));
  TRY_ST(del.bind_text(1, role));
  TRY_ST(del.bind_text(2, name));
  TRY_ASSIGN(d, del.step());
  (void)d;
  TRY_ASSIGN(ins, db->prepare("INSERT INTO api_tokens (token_sha256, name, role, created_at) VALUES (?1, ?2, ?3, ?4)"));
  TRY_ST(ins.bind_blob(1, token_sha256));
  TRY_ST(ins.bind_text(2, name));
  TRY_ST(ins.bind_text(3, role));
  TRY_ST(ins.bind_int64(4, now));
  TRY_ASSIGN(i, ins.step());
  (void)i;
  return tx.commit();
}

Result<bool> Repository::consume_challenge(const std::string& id, int64_t expires_at) {
  std::lock_guard write(write_mu_);
  auto db = lease();
  TRY_ASSIGN(st, db->prepare("INSERT OR IGNORE INTO used_challenges (challenge_id, expires_at) VALUES (?1, ?2)"));
  TRY_ST(st.bind_text(1, id));
  TRY_ST(st.bind_int64(2, expires_at));
  TRY_ASSIGN(done, st.step());
  (void)done;
  return db->changes() == 1;
}

Status Repository::prune(int64_t now) {
  std::lock_guard write(write_mu_);
  auto db = lease();
  TRY_ASSIGN(a, db->prepare("DELETE FROM used_challenges WHERE expires_at < ?1"));
  TRY_ST(a.bind_int64(1, now));
  TRY_ASSIGN(ra, a.step());
  (void)ra;
  TRY_ASSIGN(b, db->prepare("DELETE FROM pending_enrollments WHERE expires_at < ?1"));
  TRY_ST(b.bind_int64(1, now));
  TRY_ASSIGN(rb, b.step());
  (void)rb;
  return {};
}

Result<std::vector<StoredSigningKey>> Repository::signing_keys() {
  auto db = lease();
  TRY_ASSIGN(st, db->prepare("SELECT kid, alg, private_pkcs8, created_at, retired_at FROM signing_keys "
                             "ORDER BY created_at, kid"));
  std::vector<StoredSigningKey> out;
  for (;;) {
    TRY_ASSIGN(row, st.step());
    if (!row) break;
    StoredSigningKey k;
    TRY_ASSIGN(kid, st.column_text(0));
    k.kid = std::move(kid);
    TRY_ASSIGN(alg, st.column_text(1));
    k.alg = std::move(alg);
    TRY_ASSIGN(pem, st.column_blob(2));
    k.private_pkcs8_pem.assign(pem.begin(), pem.end());
    TRY_ASSIGN(c, st.column_int64(3));
    k.created_at = c;
    TRY_ASSIGN(r, nullable_int(st, 4));
    k.retired_at = r;
    out.push_back(std::move(k));
  }
  return out;
}

Status Repository::rotate_signing_key(const StoredSigningKey& k, int64_t purge_before) {
  std::lock_guard write(write_mu_);
  auto db = lease();
  TRY_ASSIGN(txn, store::Transaction::begin(*db));
  TRY_ASSIGN(st, db->prepare("INSERT INTO signing_keys (kid, alg, private_pkcs8, created_at) VALUES (?1,?2,?3,?4)"));
  TRY_ST(st.bind_text(1, k.kid));
  TRY_ST(st.bind_text(2, k.alg));
  TRY_ST(st.bind_blob(3, ByteView(reinterpret_cast<const uint8_t*>(k.private_pkcs8_pem.data()),
                                  k.private_pkcs8_pem.size())));
  TRY_ST(st.bind_int64(4, k.created_at));
  TRY_ASSIGN(done, st.step());
  (void)done;
  TRY_ASSIGN(a, db->prepare("UPDATE signing_keys SET retired_at = ?2 WHERE kid <> ?1 AND retired_at IS NULL"));
  TRY_ST(a.bind_text(1, k.kid));
  TRY_ST(a.bind_int64(2, k.created_at));
  TRY_ASSIGN(ra, a.step());
  (void)ra;
  TRY_ASSIGN(b, db->prepare("DELETE FROM signing_keys WHERE retired_at IS NOT NULL AND retired_at < ?1"));
  TRY_ST(b.bind_int64(1, purge_before));
  TRY_ASSIGN(rb, b.step());
  (void)rb;
  return txn.commit();
}

Result<std::vector<StoredChallengeKey>> Repository::challenge_keys() {
  auto db = lease();
  TRY_ASSIGN(st, db->prepare("SELECT key_id, material, created_at, retired_at FROM challenge_keys ORDER BY created_at"));
  std::vector<StoredChallengeKey> out;
  for (;;) {
    TRY_ASSIGN(row, st.step());
    if (!row) break;
    StoredChallengeKey k;
    TRY_ASSIGN(id, st.column_int64(0));
    k.key_id = static_cast<uint8_t>(id);
    TRY_ASSIGN(m, st.column_blob(1));
    k.material = std::move(m);
    TRY_ASSIGN(c, st.column_int64(2));
    k.created_at = c;
    TRY_ASSIGN(r, nullable_int(st, 3));
    k.retired_at = r;
    out.push_back(std::move(k));
  }
  return out;
}

Status Repository::add_challenge_key(const StoredChallengeKey& k) {
  std::lock_guard write(write_mu_);
  auto db = lease();
  TRY_ASSIGN(st, db->prepare("INSERT INTO challenge_keys (key_id, material, created_at) VALUES (?1,?2,?3)"));
  TRY_ST(st.bind_int64(1, k.key_id));
  TRY_ST(st.bind_blob(2, k.material));
  TRY_ST(st.bind_int64(3, k.created_at));
  TRY_ASSIGN(done, st.step());
  (void)done;
  return {};
}

}  // namespace tl::server
