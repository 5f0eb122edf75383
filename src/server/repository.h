// tlaunchd's persistent state (SQLite, schema in store/schema.cc): enrolled
// VMs, pending enrollments, used challenges, signing and challenge keys. One
// connection per concurrent caller from a small pool (a SQLite connection is
// single-threaded; WAL lets readers run in parallel with one writer).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/hex.h"
#include "common/result.h"
#include "store/database.h"

namespace tl::server {

struct VmRecord {
  std::string vm_id;
  Bytes ek_public;  // TPMT_PUBLIC
  Bytes ek_name;
  Bytes ak_public;  // TPMT_PUBLIC
  Bytes ak_name;
  std::optional<Bytes> ek_certificate;  // DER
  bool ek_cert_validated = false;
  bool allow_reenroll = false;
  int64_t enrolled_at = 0;
  int64_t updated_at = 0;
};

struct PendingEnrollment {
  std::string enrollment_id;
  std::string vm_id;
  Bytes ek_public;
  std::optional<Bytes> ek_certificate;
  bool ek_cert_validated = false;
  Bytes ak_public;
  Bytes secret_sha256;
  int64_t expires_at = 0;
};

struct StoredSigningKey {
  std::string kid;
  std::string alg;  // "ES256" …
  std::string private_pkcs8_pem;
  int64_t created_at = 0;
  std::optional<int64_t> retired_at;
};

struct StoredChallengeKey {
  uint8_t key_id = 0;
  Bytes material;  // ChallengeKey storage form
  int64_t created_at = 0;
  std::optional<int64_t> retired_at;
};

class Repository {
 public:
  // Opens the database (created mode 0600 if missing) and migrates it.
  static Result<std::unique_ptr<Repository>> open(const std::filesystem::path& path, unsigned connections);

  Result<std::optional<VmRecord>> find_vm(const std::string& vm_id);
  // The VM id an EK (by TPM Name) is enrolled under, if any.
  Result<std::optional<std::string>> vm_of_ek(ByteView ek_name);
  // Replaces any earlier pending enrollment of the same VM id (only the newest
  // can be activated), so unauthenticated /enroll calls cannot pile up rows per VM.
  Status put_pending(const PendingEnrollment& p);
  // Removes and returns it: an enrollment can be activated once.
  Result<std::optional<PendingEnrollment>> take_pending(const std::string& enrollment_id);
  // Inserts or updates the VM in one transaction. A VM enrolled with another EK
  // is refused (reason ek-takeover-refused) unless an operator allowed it, and
  // that permission is used up; an EK enrolled under another VM id is refused
  // (ek-already-enrolled). The same EK may bring a new AK.
  Result<VmRecord> complete_enrollment(const PendingEnrollment& p, ByteView ek_name, ByteView ak_name, int64_t now);
  // Operator action: the next enrollment of vm_id may bring another EK.
  Status allow_reenroll(const std::string& vm_id);
  // Single use: true the first time an id is consumed, false after.
  Result<bool> consume_challenge(const std::string& challenge_id_hex, int64_t expires_at);
  // Deletes expired used-challenge ids and pending enrollments.
  Status prune(int64_t now);

  Result<std::vector<StoredSigningKey>> signing_keys();
  // In one transaction: adds `k` as the active key, retires every other active
  // key (as of k.created_at) and deletes keys retired before `purge_before`.
  // Concurrent rotations leave exactly one active key.
  Status rotate_signing_key(const StoredSigningKey& k, int64_t purge_before);

  // API tokens (schema v6), kept as SHA-256 only. replace_api_token removes
  // every token of the role and adds this one, in one transaction.
  Result<bool> has_api_token(const std::string& role);
  Result<bool> api_token_known(ByteView token_sha256, const std::string& role);
  Status replace_api_token(ByteView token_sha256, const std::string& name, const std::string& role, int64_t now);

  Result<std::vector<StoredChallengeKey>> challenge_keys();
  Status add_challenge_key(const StoredChallengeKey& k);

 private:
  class Lease;
  explicit Repository(std::vector<store::Database> dbs);
  Lease lease();
  std::mutex mu_;
  std::condition_variable cv_;
  // One writer at a time inside this process: SQLite allows one anyway, and a
  // second connection waiting in SQLite's busy handler sleeps in steps of
  // milliseconds, which under load costs far more than waiting on a mutex.
  std::mutex write_mu_;
  std::vector<store::Database> free_;
};

}  // namespace tl::server
