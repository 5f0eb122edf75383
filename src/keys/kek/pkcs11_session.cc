#include "keys/kek/pkcs11_session.h"

#include <dlfcn.h>

#include <cstdio>
#include <filesystem>
#include <system_error>
#include <utility>

namespace tl::keys::kek::p11 {
namespace {

struct RvName {
  ck_rv_t rv;
  const char* name;
};

#define TL_RV(code) RvName{code, #code}
// The codes a token realistically returns to the calls made here (PKCS#11
// v2.40 §11.1); others print as hex.
constexpr RvName kRvNames[] = {
    TL_RV(CKR_OK),
    TL_RV(CKR_CANCEL),
    TL_RV(CKR_HOST_MEMORY),
    TL_RV(CKR_SLOT_ID_INVALID),
    TL_RV(CKR_GENERAL_ERROR),
    TL_RV(CKR_FUNCTION_FAILED),
    TL_RV(CKR_ARGUMENTS_BAD),
    TL_RV(CKR_NEED_TO_CREATE_THREADS),
    TL_RV(CKR_CANT_LOCK),
    TL_RV(CKR_ATTRIBUTE_READ_ONLY),
    TL_RV(CKR_ATTRIBUTE_SENSITIVE),
    TL_RV(CKR_ATTRIBUTE_TYPE_INVALID),
    TL_RV(CKR_ATTRIBUTE_VALUE_INVALID),
    TL_RV(CKR_ACTION_PROHIBITED),
    TL_RV(CKR_DATA_INVALID),
    TL_RV(CKR_DATA_LEN_RANGE),
    TL_RV(CKR_DEVICE_ERROR),
    TL_RV(CKR_DEVICE_MEMORY),
    TL_RV(CKR_DEVICE_REMOVED),
    TL_RV(CKR_ENCRYPTED_DATA_INVALID),
    TL_RV(CKR_ENCRYPTED_DATA_LEN_RANGE),
    TL_RV(CKR_FUNCTION_CANCELED),
    TL_RV(CKR_FUNCTION_NOT_SUPPORTED),
    TL_RV(CKR_KEY_HANDLE_INVALID),
    TL_RV(CKR_KEY_SIZE_RANGE),
    TL_RV(CKR_KEY_TYPE_INCONSISTENT),
    TL_RV(CKR_KEY_FUNCTION_NOT_PERMITTED),
    TL_RV(CKR_KEY_NOT_WRAPPABLE),
    TL_RV(CKR_KEY_UNEXTRACTABLE),
    TL_RV(CKR_MECHANISM_INVALID),
    TL_RV(CKR_MECHANISM_PARAM_INVALID),
    TL_RV(CKR_OBJECT_HANDLE_INVALID),
    TL_RV(CKR_OPERATION_ACTIVE),
    TL_RV(CKR_OPERATION_NOT_INITIALIZED),
    TL_RV(CKR_PIN_INCORRECT),
    TL_RV(CKR_PIN_INVALID),
    TL_RV(CKR_PIN_LEN_RANGE),
    TL_RV(CKR_PIN_EXPIRED),
    TL_RV(CKR_PIN_LOCKED),
    TL_RV(CKR_SESSION_CLOSED),
    TL_RV(CKR_SESSION_COUNT),
    TL_RV(CKR_SESSION_HANDLE_INVALID),
    TL_RV(CKR_SESSION_PARALLEL_NOT_SUPPORTED),
    TL_RV(CKR_SESSION_READ_ONLY),
    TL_RV(CKR_SESSION_EXISTS),
    TL_RV(CKR_SESSION_READ_ONLY_EXISTS),
    TL_RV(CKR_SESSION_READ_WRITE_SO_EXISTS),
    TL_RV(CKR_TEMPLATE_INCOMPLETE),
    TL_RV(CKR_TEMPLATE_INCONSISTENT),
    TL_RV(CKR_TOKEN_NOT_PRESENT),
    TL_RV(CKR_TOKEN_NOT_RECOGNIZED),
    TL_RV(CKR_TOKEN_WRITE_PROTECTED),
    TL_RV(CKR_USER_ALREADY_LOGGED_IN),
    TL_RV(CKR_USER_NOT_LOGGED_IN),
    TL_RV(CKR_USER_PIN_NOT_INITIALIZED),
    TL_RV(CKR_USER_TYPE_INVALID),
    TL_RV(CKR_USER_ANOTHER_ALREADY_LOGGED_IN),
    TL_RV(CKR_USER_TOO_MANY_TYPES),
    TL_RV(CKR_WRAPPED_KEY_INVALID),
    TL_RV(CKR_WRAPPED_KEY_LEN_RANGE),
    TL_RV(CKR_WRAPPING_KEY_HANDLE_INVALID),
    TL_RV(CKR_WRAPPING_KEY_SIZE_RANGE),
    TL_RV(CKR_WRAPPING_KEY_TYPE_INCONSISTENT),
    TL_RV(CKR_RANDOM_NO_RNG),
    TL_RV(CKR_BUFFER_TOO_SMALL),
    TL_RV(CKR_INFORMATION_SENSITIVE),
    TL_RV(CKR_CRYPTOKI_NOT_INITIALIZED),
    TL_RV(CKR_CRYPTOKI_ALREADY_INITIALIZED),
    TL_RV(CKR_MUTEX_BAD),
    TL_RV(CKR_MUTEX_NOT_LOCKED),
    TL_RV(CKR_FIPS_SELF_TEST_FAILED),
    TL_RV(CKR_LIBRARY_LOAD_FAILED),
    TL_RV(CKR_PIN_TOO_WEAK),
    TL_RV(CKR_FUNCTION_REJECTED),
};
#undef TL_RV

// The process's initialized modules, by canonical path; a Module lives while
// its refs_ > 0. One lock for lookups and for C_Initialize / C_Finalize, so a
// module is never initialized by one thread while another finalizes it.
struct Registry {
  std::mutex mutex;
  std::map<std::string, std::unique_ptr<Module>> modules;
};

Registry& registry() {
  static Registry r;
  return r;
}

// Closes a dlopen handle unless handed over.
class DlHandle {
 public:
  explicit DlHandle(void* h) : h_(h) {}
  DlHandle(const DlHandle&) = delete;
  DlHandle& operator=(const DlHandle&) = delete;
  ~DlHandle() {
    if (h_ != nullptr) ::dlclose(h_);
  }
  void* get() const { return h_; }
  void* release() { return std::exchange(h_, nullptr); }

 private:
  void* h_;
};

}  // namespace

std::string rv_name(ck_rv_t rv) {
  for (const RvName& n : kRvNames) {
    if (n.rv == rv) return n.name;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "CKR 0x%08lx", static_cast<unsigned long>(rv));
  return buf;
}

Error rv_error(std::string_view function, ck_rv_t rv, std::string_view hint) {
  std::string msg = std::string(function) + " failed: " + rv_name(rv);
  if (!hint.empty()) msg += ": " + std::string(hint);
  return Error{std::move(msg)};
}

Module::~Module() {
  if (finalize_) fn_->C_Finalize(nullptr);
  ::dlclose(handle_);
}

Result<ModuleRef> ModuleRef::acquire(const std::string& path) {
  if (path.empty()) return Error{"PKCS#11: no module configured (the path of the token's PKCS#11 library)"};
  std::error_code ec;
  const auto canonical = std::filesystem::canonical(path, ec);
  if (ec) {
    return Error{"PKCS#11 module " + path + ": " + ec.message() +
                 ": install the token's PKCS#11 library or fix the module path (SoftHSM2: "
                 "/usr/lib/softhsm/libsofthsm2.so)"};
  }
  const std::string key = canonical.string();

  Registry& reg = registry();
  std::lock_guard lock(reg.mutex);
  if (auto it = reg.modules.find(key); it != reg.modules.end()) {
    ++it->second->refs_;
    return ModuleRef(it->second.get());
  }

  ::dlerror();
  DlHandle handle(::dlopen(key.c_str(), RTLD_NOW | RTLD_LOCAL));
  if (handle.get() == nullptr) {
    const char* why = ::dlerror();
    return Error{"PKCS#11 module " + path + " cannot be loaded: " + (why != nullptr ? why : "unknown error")};
  }
  // dlsym returns a data pointer; POSIX guarantees it converts to a function pointer.
  auto get_list = reinterpret_cast<CK_C_GetFunctionList>(::dlsym(handle.get(), "C_GetFunctionList"));
  if (get_list == nullptr) {
    return Error{"PKCS#11 module " + path + " has no C_GetFunctionList: it is not a PKCS#11 library"};
  }
  ck_function_list* fn = nullptr;
  if (ck_rv_t rv = get_list(&fn); rv != CKR_OK || fn == nullptr) {
    return with_context("PKCS#11 module " + path, rv_error("C_GetFunctionList", rv));
  }
  // The module makes its own locks: this process is multi-threaded.
  ck_c_initialize_args args{};
  args.flags = CKF_OS_LOCKING_OK;
  const ck_rv_t rv = fn->C_Initialize(&args);
  if (rv != CKR_OK && rv != CKR_CRYPTOKI_ALREADY_INITIALIZED) {
    return with_context("PKCS#11 module " + path, rv_error("C_Initialize", rv));
  }
  // Already initialized by other code in this process: theirs to finalize.
  const bool finalize = rv == CKR_OK;
  std::unique_ptr<Module> m(new Module(key, handle.release(), fn, finalize));
  m->refs_ = 1;
  Module* raw = m.get();
  reg.modules.emplace(key, std::move(m));
  return ModuleRef(raw);
}

ModuleRef::~ModuleRef() {
  if (m_ == nullptr) return;
  Registry& reg = registry();
  std::lock_guard lock(reg.mutex);
  if (--m_->refs_ == 0) reg.modules.erase(m_->path());
}

Result<std::unique_ptr<Session>> Session::open(ModuleRef module, ck_slot_id_t slot) {
  ck_session_handle_t h = 0;
  {
    std::lock_guard lock(module->mutex());
    const ck_rv_t rv = module->fn().C_OpenSession(slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, nullptr, nullptr, &h);
    if (rv != CKR_OK) return rv_error("C_OpenSession", rv);
  }
  return std::unique_ptr<Session>(new Session(std::move(module), slot, h));
}

Status Session::login(std::string_view pin, std::string_view token_label) {
  std::lock_guard lock(module_->mutex());
  if (logged_in_) return {};
  // The PIN goes to the module only; it is in no message below.
  const ck_rv_t rv = fn().C_Login(handle_, CKU_USER,
                                  reinterpret_cast<unsigned char*>(const_cast<char*>(pin.data())), pin.size());
  if (rv != CKR_OK && rv != CKR_USER_ALREADY_LOGGED_IN) {
    std::string hint = "cannot log in to token '" + std::string(token_label) + "' as user";
    if (rv == CKR_PIN_INCORRECT) hint += ": the PIN is wrong (check the PIN file)";
    if (rv == CKR_PIN_LOCKED) hint += ": the PIN is locked (the token's security officer must unlock it)";
    if (rv == CKR_USER_PIN_NOT_INITIALIZED) hint += ": the token has no user PIN yet (initialize it)";
    if (rv == CKR_PIN_LEN_RANGE) hint += ": the PIN has a length the token refuses";
    return rv_error("C_Login", rv, hint);
  }
  logged_in_ = true;
  ++module_->logins_[slot_];
  return {};
}

Session::~Session() {
  std::lock_guard lock(module_->mutex());
  // Logging out ends the login of every session of this process on the token,
  // so only the last logged-in session does it.
  if (logged_in_ && --module_->logins_[slot_] == 0) {
    module_->logins_.erase(slot_);
    fn().C_Logout(handle_);
  }
  fn().C_CloseSession(handle_);
}

}  // namespace tl::keys::kek::p11
