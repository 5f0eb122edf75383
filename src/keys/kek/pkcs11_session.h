// Private to src/keys/kek: RAII over a PKCS#11 module (dlopen, C_Initialize)
// and a logged-in session, and CK_RV codes as text.
#pragma once

// p11-kit's header in its GNU form: the default (standard) form #defines
// common words such as `value` and `count`, which would rewrite our own code.
#define CRYPTOKI_GNU 1
#include <p11-kit/pkcs11.h>

#include <cstddef>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "common/result.h"

namespace tl::keys::kek::p11 {

// "CKR_PIN_INCORRECT", or "CKR 0x…" for a code not in the table.
std::string rv_name(ck_rv_t rv);
// "<function> failed: CKR_…[: hint]". Never pass anything secret in `hint`.
Error rv_error(std::string_view function, ck_rv_t rv, std::string_view hint = {});

// A PKCS#11 library loaded and initialized. A process may initialize a module
// only once, so every user of one path shares one Module (ModuleRef counts
// them); the last one finalizes and unloads it.
class Module {
 public:
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;
  ~Module();

  ck_function_list& fn() const { return *fn_; }
  const std::string& path() const { return path_; }
  // Serializes the calls of every session on this module: a session's
  // operations (C_EncryptInit then C_Encrypt) must not interleave.
  std::mutex& mutex() { return mutex_; }

 private:
  friend class ModuleRef;
  friend class Session;
  Module(std::string path, void* handle, ck_function_list* fn, bool finalize)
      : path_(std::move(path)), handle_(handle), fn_(fn), finalize_(finalize) {}

  std::string path_;
  void* handle_;
  ck_function_list* fn_;
  bool finalize_;  // false when someone else in the process initialized it
  std::mutex mutex_;
  size_t refs_ = 0;                        // guarded by the registry's lock
  std::map<ck_slot_id_t, size_t> logins_;  // sessions logged in per slot, guarded by mutex_
};

class ModuleRef {
 public:
  // Loads (dlopen + C_GetFunctionList + C_Initialize with CKF_OS_LOCKING_OK)
  // or shares the module at `path`.
  static Result<ModuleRef> acquire(const std::string& path);
  ModuleRef(ModuleRef&& other) noexcept : m_(other.m_) { other.m_ = nullptr; }
  ModuleRef& operator=(ModuleRef&&) = delete;
  ModuleRef(const ModuleRef&) = delete;
  ModuleRef& operator=(const ModuleRef&) = delete;
  ~ModuleRef();

  Module& operator*() const { return *m_; }
  Module* operator->() const { return m_; }

 private:
  explicit ModuleRef(Module* m) : m_(m) {}
  Module* m_;
};

// An R/W session on one slot. Callers hold module().mutex() around their own
// calls through fn(); open(), login() and ~Session take it themselves.
class Session {
 public:
  static Result<std::unique_ptr<Session>> open(ModuleRef module, ck_slot_id_t slot);
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;
  // Logs out (when the last logged-in session of this slot goes) and closes.
  ~Session();

  // C_Login(CKU_USER); "already logged in" (another session of this process
  // on the same token) counts as success. Takes the module's lock.
  Status login(std::string_view pin, std::string_view token_label);

  Module& module() const { return *module_; }
  ck_function_list& fn() const { return module_->fn(); }
  ck_session_handle_t handle() const { return handle_; }

 private:
  Session(ModuleRef module, ck_slot_id_t slot, ck_session_handle_t handle)
      : module_(std::move(module)), slot_(slot), handle_(handle) {}

  ModuleRef module_;
  ck_slot_id_t slot_;
  ck_session_handle_t handle_;
  bool logged_in_ = false;
};

}  // namespace tl::keys::kek::p11
