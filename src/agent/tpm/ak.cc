// The AK: a restricted signing key under the EK, persisted at options.ak_handle.
// Under the EK as tpm2_createak makes it, so verifiers that expect that layout
// (Keylime, tpm2-tools based ones) see the same thing; the AK is loaded from its
// persistent handle afterwards, so the parent only matters at creation.
#include <string>

#include "agent/tpm/ops.h"
#include "agent/tpm/templates.h"

namespace tl::agent::tpm::detail {

namespace {

// The AK found at the handle must be what we would have made: same type,
// attributes, nameAlg and signing scheme. Anything else is refused.
Status check_ak(const TPMT_PUBLIC& p, const Options& options) {
  const TPMT_PUBLIC want = ak_template(options.ak_alg).publicArea;
  std::string why;
  if (p.type != want.type) {
    why = "its type is not " + std::string(key_alg_name(options.ak_alg));
  } else if (p.objectAttributes != want.objectAttributes) {
    why = "its attributes are " + handle_hex(p.objectAttributes) + ", not " + handle_hex(want.objectAttributes);
  } else if (p.nameAlg != want.nameAlg) {
    why = "its nameAlg is not SHA-256";
  } else if (p.type == TPM2_ALG_RSA && (p.parameters.rsaDetail.scheme.scheme != TPM2_ALG_RSASSA ||
                                        p.parameters.rsaDetail.scheme.details.rsassa.hashAlg != TPM2_ALG_SHA256 ||
                                        p.parameters.rsaDetail.keyBits != 2048)) {
    why = "it is not RSA-2048 with RSASSA-SHA256";
  } else if (p.type == TPM2_ALG_ECC && (p.parameters.eccDetail.scheme.scheme != TPM2_ALG_ECDSA ||
                                        p.parameters.eccDetail.scheme.details.ecdsa.hashAlg != TPM2_ALG_SHA256 ||
                                        p.parameters.eccDetail.curveID != TPM2_ECC_NIST_P256)) {
    why = "it is not ECC P-256 with ECDSA-SHA256";
  }
  if (why.empty()) return {};
  return Error{"the key at " + handle_hex(options.ak_handle) + " is not a " +
                   std::string(key_alg_name(options.ak_alg)) + " attestation key: " + why,
               kReasonKeyMismatch};
}

Status create_and_persist(ESYS_CONTEXT* ctx, const Options& options) {
  auto ek = load_ek(ctx, options);
  if (!ek) return with_context("loading the EK to parent the AK", ek.take_error());
  const TPM2B_PUBLIC tmpl = ak_template(options.ak_alg);
  const TPM2B_SENSITIVE_CREATE sensitive{};
  const TPM2B_DATA outside{};
  const TPML_PCR_SELECTION creation_pcrs{};
  EsysOut<TPM2B_PRIVATE> priv;
  EsysOut<TPM2B_PUBLIC> pub;
  {
    // The EK's authPolicy is PolicySecret(endorsement); each use consumes it.
    auto session = endorsement_policy_session(ctx);
    if (!session) return session.take_error();
    const TSS2_RC rc = Esys_Create(ctx, ek->handle.tr(), session->tr(), ESYS_TR_NONE, ESYS_TR_NONE, &sensitive,
                                   &tmpl, &outside, &creation_pcrs, priv.put(), pub.put(), nullptr, nullptr,
                                   nullptr);
    if (rc != TSS2_RC_SUCCESS) return tss_error("TPM2_Create(AK under the EK)", rc);
  }
  ESYS_TR loaded_tr = ESYS_TR_NONE;
  {
    auto session = endorsement_policy_session(ctx);
    if (!session) return session.take_error();
    const TSS2_RC rc = Esys_Load(ctx, ek->handle.tr(), session->tr(), ESYS_TR_NONE, ESYS_TR_NONE, priv.get(),
                                 pub.get(), &loaded_tr);
    if (rc != TSS2_RC_SUCCESS) return tss_error("TPM2_Load(AK)", rc);
  }
  Handle loaded(ctx, loaded_tr, Handle::Kind::transient);
  ESYS_TR persistent_tr = ESYS_TR_NONE;
  const TSS2_RC rc = Esys_EvictControl(ctx, ESYS_TR_RH_OWNER, loaded.tr(), ESYS_TR_PASSWORD, ESYS_TR_NONE,
                                       ESYS_TR_NONE, options.ak_handle, &persistent_tr);
  if (rc != TSS2_RC_SUCCESS) {
    return tss_error("TPM2_EvictControl(AK to " + handle_hex(options.ak_handle) + ", owner auth empty)", rc);
  }
  Handle persistent(ctx, persistent_tr, Handle::Kind::reference);  // closed; the object stays
  return {};
}

}  // namespace

Result<LoadedAk> load_ak(ESYS_CONTEXT* ctx, const Options& options, bool create_if_absent) {
  // Owner persistent handles are 0x81000000-0x817FFFFF; 0x81010000-0x8101FFFF
  // is reserved for EKs (TCG Provisioning Guidance).
  if (options.ak_handle < 0x81000000u || options.ak_handle > 0x817fffffu ||
      (options.ak_handle >= 0x81010000u && options.ak_handle <= 0x8101ffffu)) {
    return Error{"AK handle " + handle_hex(options.ak_handle) +
                     " is not an owner persistent handle outside the EK range 0x81010000-0x8101ffff",
                 kReasonInvalid};
  }
  auto present = handle_present(ctx, options.ak_handle);
  if (!present) return present.take_error();
  LoadedAk ak;
  if (!*present) {
    if (!create_if_absent) {
      return Error{"no AK at " + handle_hex(options.ak_handle) + " (create it first)", kReasonKeyMismatch};
    }
    if (auto st = create_and_persist(ctx, options); !st) return st.take_error();
    ak.created = true;
  }
  auto ref = reference(ctx, options.ak_handle);
  if (!ref) return ref.take_error();
  auto pub = read_public(ctx, ref->tr(), "AK at " + handle_hex(options.ak_handle));
  if (!pub) return pub.take_error();
  if (auto st = check_ak(pub->publicArea, options); !st) return st.take_error();
  ak.handle = std::move(*ref);
  ak.pub = *pub;
  return ak;
}

}  // namespace tl::agent::tpm::detail
