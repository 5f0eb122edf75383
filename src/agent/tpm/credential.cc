// TPM2_ActivateCredential: recovers a secret that tpm::make_credential protected
// for this TPM's EK and the AK's Name.
#include <algorithm>
#include <string>

#include "agent/tpm/agent_tpm.h"
#include "agent/tpm/context.h"
#include "agent/tpm/marshal.h"
#include "agent/tpm/ops.h"

namespace tl::agent::tpm {

Result<crypto::SecretBytes> Tpm::activate_credential(ByteView credential_blob, ByteView secret) {
  auto blob = detail::unmarshal_id_object(credential_blob, "credential blob (TPM2B_ID_OBJECT)");
  if (!blob) return blob.take_error();
  auto enc = detail::unmarshal_encrypted_secret(secret, "encrypted secret (TPM2B_ENCRYPTED_SECRET)");
  if (!enc) return enc.take_error();
  ESYS_CONTEXT* ctx = ctx_->esys();
  auto ak = detail::load_ak(ctx, options_, /*create_if_absent=*/false);
  if (!ak) return ak.take_error();
  auto ek = detail::load_ek(ctx, options_);
  if (!ek) return ek.take_error();
  auto session = detail::endorsement_policy_session(ctx);
  if (!session) return session.take_error();
  detail::EsysOut<TPM2B_DIGEST> cert_info;
  // AK: ADMIN role, its (empty) authValue. EK: USER role, PolicySecret(endorsement).
  const TSS2_RC rc = Esys_ActivateCredential(ctx, ak->handle.tr(), ek->handle.tr(), ESYS_TR_PASSWORD, session->tr(),
                                             ESYS_TR_NONE, &*blob, &*enc, cert_info.put());
  if (rc != TSS2_RC_SUCCESS) {
    return detail::tss_error("TPM2_ActivateCredential(AK " + detail::handle_hex(options_.ak_handle) + ", EK " +
                                 std::string(key_alg_name(options_.ek_alg)) + ")",
                             rc);
  }
  crypto::SecretBytes out(ByteView(cert_info->buffer, cert_info->size));
  std::fill(cert_info->buffer, cert_info->buffer + sizeof cert_info->buffer, uint8_t{0});
  return out;
}

}  // namespace tl::agent::tpm
