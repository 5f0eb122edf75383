// The PKCS#11 KEK: an AES-256 key that never leaves the token. The data key is
// wrapped by C_Encrypt with CKM_AES_GCM under it: SoftHSM2 (and many HSMs)
// offer CKM_AES_KEY_WRAP_PAD only through C_WrapKey of key objects, which
// would make the DEK a token-side object that must be extractable in plain;
// GCM over the DEK's bytes needs neither. Stored form:
// IV (12, random) || ciphertext || tag (16), aad "tlaunchd-dek".
#include <algorithm>
#include <filesystem>
#include <mutex>
#include <string>
#include <vector>

#include "keys/kek/kek.h"
#include "keys/kek/pkcs11_session.h"

namespace tl::keys::kek {
namespace {

using p11::rv_error;

constexpr size_t kIvSize = 12;
constexpr size_t kTagSize = 16;
constexpr unsigned long kKeyBytes = 32;
constexpr std::string_view kAad = "tlaunchd-dek";

// A token label is a 32-byte field padded with blanks (PKCS#11 v2.40 §5.8
// CK_TOKEN_INFO), not NUL-terminated.
std::string trimmed_label(const unsigned char (&field)[32]) {
  std::string s(reinterpret_cast<const char*>(field), sizeof field);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\0')) s.pop_back();
  return s;
}

ck_attribute attr(ck_attribute_type_t type, void* value, unsigned long len) {
  ck_attribute a{};
  a.type = type;
  a.value = value;
  a.value_len = len;
  return a;
}

// The slot holding the initialized token `label`, or an error listing the labels present.
Result<ck_slot_id_t> find_slot(ck_function_list& fn, const std::string& label, const std::string& module) {
  unsigned long count = 0;
  if (ck_rv_t rv = fn.C_GetSlotList(1, nullptr, &count); rv != CKR_OK) return rv_error("C_GetSlotList", rv);
  std::vector<ck_slot_id_t> slots(count);
  if (count > 0) {
    if (ck_rv_t rv = fn.C_GetSlotList(1, slots.data(), &count); rv != CKR_OK) return rv_error("C_GetSlotList", rv);
    slots.resize(count);
  }
  std::string present;
  for (ck_slot_id_t slot : slots) {
    ck_token_info info{};
    if (fn.C_GetTokenInfo(slot, &info) != CKR_OK) continue;  // removed meanwhile: not ours anyway
    if ((info.flags & CKF_TOKEN_INITIALIZED) == 0) continue;
    const std::string have = trimmed_label(info.label);
    if (have == label) return slot;
    present += (present.empty() ? "'" : ", '") + have + "'";
  }
  return Error{"PKCS#11 module " + module + " has no initialized token labelled '" + label + "'; tokens present: " +
               (present.empty() ? "none (initialize one, e.g. softhsm2-util --init-token --free --label " + label + ")"
                                : present)};
}

// Caller holds the module's lock.
Result<ck_object_handle_t> find_key(p11::Session& s, const std::string& key_label) {
  ck_object_class_t cls = CKO_SECRET_KEY;
  ck_key_type_t type = CKK_AES;
  ck_attribute tmpl[] = {
      attr(CKA_CLASS, &cls, sizeof cls),
      attr(CKA_KEY_TYPE, &type, sizeof type),
      attr(CKA_LABEL, const_cast<char*>(key_label.data()), key_label.size()),
  };
  ck_function_list& fn = s.fn();
  if (ck_rv_t rv = fn.C_FindObjectsInit(s.handle(), tmpl, std::size(tmpl)); rv != CKR_OK) {
    return rv_error("C_FindObjectsInit", rv);
  }
  ck_object_handle_t found[2] = {};
  unsigned long n = 0;
  const ck_rv_t rv = fn.C_FindObjects(s.handle(), found, std::size(found), &n);
  fn.C_FindObjectsFinal(s.handle());
  if (rv != CKR_OK) return rv_error("C_FindObjects", rv);
  if (n > 1) {
    // Which one wrapped the data key cannot be told; picking one could lock the vault out.
    return Error{"more than one AES key labelled '" + key_label +
                 "' in the token: keep the one the vault was created with, or configure a unique key label"};
  }
  if (n == 0) return ck_object_handle_t{CK_INVALID_HANDLE};
  return found[0];
}

Result<ck_object_handle_t> generate_key(p11::Session& s, const std::string& key_label) {
  ck_object_class_t cls = CKO_SECRET_KEY;
  ck_key_type_t type = CKK_AES;
  unsigned long len = kKeyBytes;
  unsigned char yes = 1;
  unsigned char no = 0;
  // A token object only the logged-in user sees, that can encrypt and decrypt
  // and never be read out (not even wrapped).
  ck_attribute tmpl[] = {
      attr(CKA_CLASS, &cls, sizeof cls),
      attr(CKA_KEY_TYPE, &type, sizeof type),
      attr(CKA_VALUE_LEN, &len, sizeof len),
      attr(CKA_LABEL, const_cast<char*>(key_label.data()), key_label.size()),
      attr(CKA_TOKEN, &yes, sizeof yes),
      attr(CKA_PRIVATE, &yes, sizeof yes),
      attr(CKA_SENSITIVE, &yes, sizeof yes),
      attr(CKA_EXTRACTABLE, &no, sizeof no),
      attr(CKA_ENCRYPT, &yes, sizeof yes),
      attr(CKA_DECRYPT, &yes, sizeof yes),
      attr(CKA_WRAP, &no, sizeof no),
      attr(CKA_UNWRAP, &no, sizeof no),
  };
  ck_mechanism mech{};
  mech.mechanism = CKM_AES_KEY_GEN;
  ck_object_handle_t key = CK_INVALID_HANDLE;
  if (ck_rv_t rv = s.fn().C_GenerateKey(s.handle(), &mech, tmpl, std::size(tmpl), &key); rv != CKR_OK) {
    return rv_error("C_GenerateKey", rv, "cannot create the AES-256 key '" + key_label + "' in the token");
  }
  return key;
}

Status check_key_size(p11::Session& s, ck_object_handle_t key, const std::string& key_label) {
  unsigned long len = 0;
  ck_attribute a = attr(CKA_VALUE_LEN, &len, sizeof len);
  if (ck_rv_t rv = s.fn().C_GetAttributeValue(s.handle(), key, &a, 1); rv != CKR_OK) {
    return rv_error("C_GetAttributeValue", rv, "reading the length of key '" + key_label + "'");
  }
  if (len != kKeyBytes) {
    return Error{"key '" + key_label + "' in the token is AES-" + std::to_string(len * 8) +
                 ", the KEK must be AES-256: configure another key label"};
  }
  return {};
}

class Pkcs11Kek final : public Kek {
 public:
  Pkcs11Kek(std::unique_ptr<p11::Session> session, ck_object_handle_t key, std::string description)
      : session_(std::move(session)), key_(key), description_(std::move(description)) {}

  std::string kind() const override { return "pkcs11"; }
  std::string description() const override { return description_; }

  Result<Bytes> wrap(const crypto::SecretBytes& dek) override {
    if (dek.empty()) return Error{"wrapping with " + description_ + ": empty data key"};
    auto iv = crypto::random_secret(kIvSize);
    if (!iv) return with_context("wrapping with " + description_, iv.take_error());
    ck_gcm_params params = gcm_params(iv->data());
    ck_mechanism mech = gcm_mechanism(params);

    std::lock_guard lock(session_->module().mutex());
    ck_function_list& fn = session_->fn();
    if (ck_rv_t rv = fn.C_EncryptInit(session_->handle(), &mech, key_); rv != CKR_OK) {
      return with_context("wrapping with " + description_, rv_error("C_EncryptInit", rv));
    }
    auto* in = const_cast<unsigned char*>(dek.data());
    unsigned long out_len = 0;
    // Asking the size first keeps the operation active (v2.40 §5.2), as any module expects.
    if (ck_rv_t rv = fn.C_Encrypt(session_->handle(), in, dek.size(), nullptr, &out_len); rv != CKR_OK) {
      return with_context("wrapping with " + description_, rv_error("C_Encrypt", rv));
    }
    Bytes out(kIvSize + out_len);
    std::copy(iv->data(), iv->data() + kIvSize, out.begin());
    if (ck_rv_t rv = fn.C_Encrypt(session_->handle(), in, dek.size(), out.data() + kIvSize, &out_len); rv != CKR_OK) {
      return with_context("wrapping with " + description_, rv_error("C_Encrypt", rv));
    }
    if (out_len != dek.size() + kTagSize) {
      return Error{"wrapping with " + description_ + ": AES-GCM gave " + std::to_string(out_len) + " bytes for " +
                   std::to_string(dek.size()) + " (expected data + 16-byte tag)"};
    }
    out.resize(kIvSize + out_len);
    return out;
  }

  Result<crypto::SecretBytes> unwrap(ByteView wrapped) override {
    if (wrapped.size() <= kIvSize + kTagSize) return mismatch("it is too short to be wrapped by a PKCS#11 KEK");
    Bytes iv(wrapped.begin(), wrapped.begin() + kIvSize);
    ck_gcm_params params = gcm_params(iv.data());
    ck_mechanism mech = gcm_mechanism(params);

    std::lock_guard lock(session_->module().mutex());
    ck_function_list& fn = session_->fn();
    if (ck_rv_t rv = fn.C_DecryptInit(session_->handle(), &mech, key_); rv != CKR_OK) {
      return with_context("unwrapping with " + description_, rv_error("C_DecryptInit", rv));
    }
    auto* in = const_cast<unsigned char*>(wrapped.data() + kIvSize);
    const unsigned long in_len = wrapped.size() - kIvSize;
    unsigned long out_len = 0;
    if (ck_rv_t rv = fn.C_Decrypt(session_->handle(), in, in_len, nullptr, &out_len); rv != CKR_OK) {
      return decrypt_failed(rv);
    }
    crypto::SecretBytes out(out_len);
    if (ck_rv_t rv = fn.C_Decrypt(session_->handle(), in, in_len, out.data(), &out_len); rv != CKR_OK) {
      return decrypt_failed(rv);
    }
    if (out_len > out.size()) return Error{"unwrapping with " + description_ + ": the module overran its buffer"};
    out.truncate(out_len);
    return out;
  }

 private:
  static ck_gcm_params gcm_params(unsigned char* iv) {
    ck_gcm_params p{};
    p.iv_ptr = iv;
    p.iv_len = kIvSize;
    p.iv_bits = kIvSize * 8;
    p.aad_ptr = reinterpret_cast<unsigned char*>(const_cast<char*>(kAad.data()));
    p.aad_len = kAad.size();
    p.tag_bits = kTagSize * 8;
    return p;
  }

  static ck_mechanism gcm_mechanism(ck_gcm_params& params) {
    ck_mechanism m{};
    m.mechanism = CKM_AES_GCM;
    m.parameter = &params;
    m.parameter_len = sizeof params;
    return m;
  }

  Error mismatch(const std::string& why) const {
    return Error{"the data key does not unwrap with " + description_ + ": " + why +
                     "; it was wrapped by another KEK: configure the token and key the vault was created with",
                 "kek-mismatch"};
  }

  // A failed tag check is how another key shows: SoftHSM2 reports it as
  // CKR_ENCRYPTED_DATA_INVALID or CKR_GENERAL_ERROR, modules differ. Session
  // and device failures keep their own message (the KEK may well be right).
  Error decrypt_failed(ck_rv_t rv) const {
    switch (rv) {
      case CKR_ENCRYPTED_DATA_INVALID:
      case CKR_ENCRYPTED_DATA_LEN_RANGE:
      case CKR_GENERAL_ERROR:
      case CKR_FUNCTION_FAILED:
        return mismatch("C_Decrypt failed: " + p11::rv_name(rv));
      default:
        return with_context("unwrapping with " + description_, rv_error("C_Decrypt", rv));
    }
  }

  std::unique_ptr<p11::Session> session_;
  ck_object_handle_t key_;
  std::string description_;
};

}  // namespace

Result<std::unique_ptr<Kek>> open_pkcs11_kek(const Pkcs11Options& options) {
  if (options.token_label.empty()) return Error{"PKCS#11 KEK: no token label configured"};
  if (options.token_label.size() > 32) {
    return Error{"PKCS#11 KEK: token label '" + options.token_label + "' is longer than 32 bytes, the most a token has"};
  }
  if (options.key_label.empty()) return Error{"PKCS#11 KEK: no key label configured"};
  const std::string module_name = std::filesystem::path(options.module).filename().string();
  const std::string description =
      "pkcs11 token '" + options.token_label + "' key '" + options.key_label + "' (" + module_name + ")";

  auto module = p11::ModuleRef::acquire(options.module);
  if (!module) return module.take_error();
  Result<ck_slot_id_t> slot = Error{};
  {
    std::lock_guard lock((*module)->mutex());
    slot = find_slot((*module)->fn(), options.token_label, options.module);
  }
  if (!slot) return slot.take_error();
  auto session = p11::Session::open(std::move(*module), *slot);
  if (!session) return with_context(description, session.take_error());
  if (auto st = (*session)->login(options.pin, options.token_label); !st) {
    return with_context(description, st.take_error());
  }

  ck_object_handle_t key = CK_INVALID_HANDLE;
  {
    p11::Session& s = **session;
    std::lock_guard lock(s.module().mutex());
    auto found = find_key(s, options.key_label);
    if (!found) return with_context(description, found.take_error());
    key = *found;
    if (key == CK_INVALID_HANDLE) {
      if (!options.create_if_missing) {
        return Error{description + ": the token has no AES key labelled '" + options.key_label +
                     "': configure the key label the vault was created with (or allow creating it on a new vault)"};
      }
      auto made = generate_key(s, options.key_label);
      if (!made) return with_context(description, made.take_error());
      key = *made;
    }
    if (auto st = check_key_size(s, key, options.key_label); !st) return with_context(description, st.take_error());
  }
  return std::unique_ptr<Kek>(std::make_unique<Pkcs11Kek>(std::move(*session), key, description));
}

}  // namespace tl::keys::kek
