#include <string>

#include "agent/tpm/ops.h"
#include "agent/tpm/templates.h"

namespace tl::agent::tpm::detail {

Result<LoadedEk> load_ek(ESYS_CONTEXT* ctx, const Options& options) {
  const uint32_t persistent = options.ek_alg == KeyAlg::rsa2048 ? kRsaEkHandle : kEccEkHandle;
  const TPMI_ALG_PUBLIC type = options.ek_alg == KeyAlg::rsa2048 ? TPM2_ALG_RSA : TPM2_ALG_ECC;
  LoadedEk ek;
  if (options.use_persistent_ek) {
    auto present = handle_present(ctx, persistent);
    if (!present) return present.take_error();
    if (*present) {
      auto ref = reference(ctx, persistent);
      if (!ref) return ref.take_error();
      auto pub = read_public(ctx, ref->tr(), "EK at " + handle_hex(persistent));
      if (!pub) return pub.take_error();
      // The handle is reserved for the EK; anything else there is refused
      // rather than used to parent the AK or to activate credentials.
      const TPMA_OBJECT need = TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_DECRYPT | TPMA_OBJECT_FIXEDTPM;
      if (pub->publicArea.type != type || (pub->publicArea.objectAttributes & need) != need ||
          (pub->publicArea.objectAttributes & TPMA_OBJECT_SIGN_ENCRYPT) != 0) {
        return Error{"the object at " + handle_hex(persistent) + " is not a " +
                         std::string(key_alg_name(options.ek_alg)) + " restricted decryption key (an EK)",
                     kReasonKeyMismatch};
      }
      ek.handle = std::move(*ref);
      ek.source = EkSource::persistent;
      ek.persistent_handle = persistent;
      ek.pub = *pub;
      return ek;
    }
  }
  auto h = create_primary(ctx, ESYS_TR_RH_ENDORSEMENT, ek_template(options.ek_alg),
                          "EK " + std::string(key_alg_name(options.ek_alg)) + " from the default template", &ek.pub);
  if (!h) return h.take_error();
  ek.handle = std::move(*h);
  ek.source = EkSource::template_primary;
  return ek;
}

}  // namespace tl::agent::tpm::detail
