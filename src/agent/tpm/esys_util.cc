#include "agent/tpm/esys_util.h"

#include <tss2/tss2_rc.h>

#include <cstdio>

namespace tl::agent::tpm::detail {

std::string handle_hex(uint32_t handle) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%08x", handle);
  return buf;
}

TSS2_RC tpm_rc_base(TSS2_RC rc) { return rc & ~TSS2_RC_LAYER_MASK; }

Error tss_error(std::string_view what, TSS2_RC rc) {
  char code[16];
  std::snprintf(code, sizeof code, "0x%08x", rc);
  const char* text = Tss2_RC_Decode(rc);
  std::string reason = kReasonTpmError;
  // Format-one session/parameter errors carry the index in bits 8-11; the
  // error number is bits 0-5 plus the format bit.
  const TSS2_RC base = tpm_rc_base(rc);
  if ((base & TPM2_RC_FMT1) != 0 && (base & 0xbf) == (TPM2_RC_POLICY_FAIL & 0xbf)) {
    reason = kReasonPolicyFailed;
  }
  return Error{std::string(what) + ": " + code + " " + (text != nullptr ? text : "unknown TSS error"),
               reason};
}

void Handle::reset() {
  if (tr_ == ESYS_TR_NONE || ctx_ == nullptr) return;
  ESYS_TR tr = std::exchange(tr_, ESYS_TR_NONE);
  // A failure here cannot be reported; the tests check that nothing stays loaded.
  if (kind_ == Kind::transient) {
    (void)Esys_FlushContext(ctx_, tr);
  } else {
    (void)Esys_TR_Close(ctx_, &tr);
  }
}

}  // namespace tl::agent::tpm::detail
