// Private to tl_agent_tpm: RAII for tpm2-tss resources and TSS errors as Error values.
#pragma once

#include <tss2/tss2_esys.h>

#include <string>
#include <string_view>
#include <utility>

#include "common/result.h"

namespace tl::agent::tpm::detail {

// Stable reasons (docs/agent-tpm.md).
inline constexpr const char* kReasonUnavailable = "tpm-unavailable";
inline constexpr const char* kReasonTpmError = "tpm-error";
inline constexpr const char* kReasonPolicyFailed = "tpm-policy-failed";
inline constexpr const char* kReasonKeyMismatch = "tpm-key-mismatch";
inline constexpr const char* kReasonInvalid = "tpm-invalid-argument";

// "WHAT: 0x0000099d tpm:session(1):a policy check failed" with reason
// tpm-policy-failed for policy failures, else tpm-error.
Error tss_error(std::string_view what, TSS2_RC rc);
std::string handle_hex(uint32_t handle);  // "0x81000003"
// rc without the TSS layer bits, for comparing with TPM2_RC_* values.
TSS2_RC tpm_rc_base(TSS2_RC rc);

// An ESAPI output structure, released with Esys_Free.
template <class T>
class EsysOut {
 public:
  EsysOut() = default;
  EsysOut(const EsysOut&) = delete;
  EsysOut& operator=(const EsysOut&) = delete;
  ~EsysOut() { Esys_Free(p_); }
  T** put() {
    Esys_Free(p_);
    p_ = nullptr;
    return &p_;
  }
  T* get() const { return p_; }
  T* operator->() const { return p_; }
  explicit operator bool() const { return p_ != nullptr; }

 private:
  T* p_ = nullptr;
};

// Owns an ESYS_TR: a transient object or session is flushed from the TPM, a
// persistent object or NV index (only referenced) has its ESYS_TR closed.
class Handle {
 public:
  enum class Kind { transient, reference };
  Handle() = default;
  Handle(ESYS_CONTEXT* ctx, ESYS_TR tr, Kind kind) : ctx_(ctx), tr_(tr), kind_(kind) {}
  Handle(Handle&& o) noexcept : ctx_(o.ctx_), tr_(std::exchange(o.tr_, ESYS_TR_NONE)), kind_(o.kind_) {}
  Handle& operator=(Handle&& o) noexcept {
    if (this != &o) {
      reset();
      ctx_ = o.ctx_;
      tr_ = std::exchange(o.tr_, ESYS_TR_NONE);
      kind_ = o.kind_;
    }
    return *this;
  }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  ~Handle() { reset(); }

  ESYS_TR tr() const { return tr_; }
  Kind kind() const { return kind_; }
  // Gives up ownership (e.g. after TPM2_EvictControl made the object persistent).
  ESYS_TR release() { return std::exchange(tr_, ESYS_TR_NONE); }
  void reset();

 private:
  ESYS_CONTEXT* ctx_ = nullptr;
  ESYS_TR tr_ = ESYS_TR_NONE;
  Kind kind_ = Kind::transient;
};

}  // namespace tl::agent::tpm::detail
