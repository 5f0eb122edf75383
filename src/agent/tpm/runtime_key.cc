// The runtime key for Secure Key Release: an RSA-2048 decryption key bound to
// SHA-256 PCR values by TPM2_PolicyPCR, under a transient SRK, certified by the AK.
#include <algorithm>
#include <cstring>
#include <string>
#include <utility>

#include "agent/tpm/agent_tpm.h"
#include "agent/tpm/context.h"
#include "agent/tpm/marshal.h"
#include "agent/tpm/ops.h"
#include "agent/tpm/templates.h"

namespace tl::agent::tpm {

LoadedRuntimeKey::LoadedRuntimeKey(std::shared_ptr<detail::Context> ctx, uint32_t tr, std::vector<uint32_t> pcrs)
    : ctx_(std::move(ctx)), tr_(tr), policy_pcrs_(std::move(pcrs)) {}

LoadedRuntimeKey::LoadedRuntimeKey(LoadedRuntimeKey&& o) noexcept
    : ctx_(std::move(o.ctx_)), tr_(std::exchange(o.tr_, ESYS_TR_NONE)), policy_pcrs_(std::move(o.policy_pcrs_)) {}

LoadedRuntimeKey& LoadedRuntimeKey::operator=(LoadedRuntimeKey&& o) noexcept {
  if (this != &o) {
    release();
    ctx_ = std::move(o.ctx_);
    tr_ = std::exchange(o.tr_, ESYS_TR_NONE);
    policy_pcrs_ = std::move(o.policy_pcrs_);
  }
  return *this;
}

LoadedRuntimeKey::~LoadedRuntimeKey() { release(); }

void LoadedRuntimeKey::release() {
  if (ctx_ && tr_ != ESYS_TR_NONE) detail::Handle(ctx_->esys(), tr_, detail::Handle::Kind::transient).reset();
  tr_ = ESYS_TR_NONE;
}

namespace {

// The storage parent: created from the same template every time, so the key's
// blobs load again as long as the owner hierarchy's seed is unchanged.
Result<detail::Handle> srk(ESYS_CONTEXT* ctx) {
  return detail::create_primary(ctx, ESYS_TR_RH_OWNER, detail::srk_template(), "SRK (ECC P-256, owner hierarchy)",
                                nullptr);
}

// TPM2_Certify of a loaded key by the AK, qualifyingData = nonce: (TPMS_ATTEST, TPMT_SIGNATURE).
Result<std::pair<Bytes, Bytes>> certify(ESYS_CONTEXT* ctx, ESYS_TR key_tr, ESYS_TR ak_tr, ByteView nonce) {
  TPM2B_DATA qualifying{};
  qualifying.size = static_cast<uint16_t>(nonce.size());
  std::memcpy(qualifying.buffer, nonce.data(), nonce.size());
  const TPMT_SIG_SCHEME scheme{.scheme = TPM2_ALG_NULL, .details = {}};
  detail::EsysOut<TPM2B_ATTEST> certify_info;
  detail::EsysOut<TPMT_SIGNATURE> signature;
  // The key's ADMIN role: its authValue (empty; adminWithPolicy is clear). The AK's USER role: its authValue.
  TSS2_RC rc = Esys_Certify(ctx, key_tr, ak_tr, ESYS_TR_PASSWORD, ESYS_TR_PASSWORD, ESYS_TR_NONE, &qualifying,
                            &scheme, certify_info.put(), signature.put());
  if (rc != TSS2_RC_SUCCESS) return detail::tss_error("TPM2_Certify(runtime key, by the AK)", rc);
  auto sig = detail::marshal_signature(*signature.get());
  if (!sig) return sig.take_error();
  return std::pair<Bytes, Bytes>{Bytes(certify_info->attestationData, certify_info->attestationData + certify_info->size),
                                 std::move(*sig)};
}

Status check_nonce(ByteView nonce) {
  if (nonce.empty() || nonce.size() > sizeof(TPM2B_DATA::buffer)) {
    return Error{"the nonce must have 1 to " + std::to_string(sizeof(TPM2B_DATA::buffer)) + " bytes, not " +
                     std::to_string(nonce.size()),
                 detail::kReasonInvalid};
  }
  return {};
}

}  // namespace

Result<RuntimeKey> Tpm::create_runtime_key(ByteView nonce, std::span<const uint32_t> policy_pcrs) {
  if (auto st = check_nonce(nonce); !st) return st.take_error();
  if (auto st = detail::check_pcr_list(policy_pcrs); !st) return st.take_error();
  ESYS_CONTEXT* ctx = ctx_->esys();
  auto ak = detail::load_ak(ctx, options_, /*create_if_absent=*/true);
  if (!ak) return ak.take_error();

  const crypto::HashAlg sha256[] = {crypto::HashAlg::sha256};
  auto pcrs = detail::read_pcrs(ctx, detail::make_selection(sha256, policy_pcrs));
  if (!pcrs) return pcrs.take_error();
  RuntimeKey out;
  out.policy_pcrs.assign(policy_pcrs.begin(), policy_pcrs.end());
  out.policy_pcr_values = pcrs->values[crypto::HashAlg::sha256];
  auto policy = detail::pcr_policy_digest(ctx, policy_pcrs, out.policy_pcr_values);
  if (!policy) return policy.take_error();
  if (policy->size() != 32) return Error{"TPM2_PolicyGetDigest returned a digest that is not SHA-256", detail::kReasonTpmError};

  auto parent = srk(ctx);
  if (!parent) return parent.take_error();
  const TPM2B_PUBLIC tmpl = detail::runtime_key_template(*policy);
  const TPM2B_SENSITIVE_CREATE sensitive{};
  const TPM2B_DATA outside{};
  const TPML_PCR_SELECTION creation_pcrs{};
  detail::EsysOut<TPM2B_PRIVATE> priv;
  detail::EsysOut<TPM2B_PUBLIC> pub;
  TSS2_RC rc = Esys_Create(ctx, parent->tr(), ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, &sensitive, &tmpl,
                           &outside, &creation_pcrs, priv.put(), pub.put(), nullptr, nullptr, nullptr);
  if (rc != TSS2_RC_SUCCESS) return detail::tss_error("TPM2_Create(runtime key under the SRK)", rc);
  ESYS_TR key_tr = ESYS_TR_NONE;
  rc = Esys_Load(ctx, parent->tr(), ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, priv.get(), pub.get(), &key_tr);
  if (rc != TSS2_RC_SUCCESS) return detail::tss_error("TPM2_Load(runtime key)", rc);
  detail::Handle key(ctx, key_tr, detail::Handle::Kind::transient);
  parent->reset();

  auto certified = certify(ctx, key.tr(), ak->handle.tr(), nonce);
  if (!certified) return certified.take_error();
  auto area = detail::marshal_public_area(pub->publicArea);
  auto pub_blob = detail::marshal_public(*pub.get());
  auto priv_blob = detail::marshal_private(*priv.get());
  if (!area) return area.take_error();
  if (!pub_blob) return pub_blob.take_error();
  if (!priv_blob) return priv_blob.take_error();
  out.public_area = std::move(*area);
  out.certify_info = std::move(certified->first);
  out.signature = std::move(certified->second);
  out.blob = RuntimeKeyBlob{std::move(*pub_blob), std::move(*priv_blob), out.policy_pcrs};
  return out;
}

Result<LoadedRuntimeKey> Tpm::load_runtime_key(const RuntimeKeyBlob& blob) {
  if (auto st = detail::check_pcr_list(blob.policy_pcrs); !st) return with_context("runtime key blob", st.take_error());
  auto pub = detail::unmarshal_public(blob.public_blob, "runtime key public blob");
  if (!pub) return pub.take_error();
  auto priv = detail::unmarshal_private(blob.private_blob, "runtime key private blob");
  if (!priv) return priv.take_error();
  const TPMT_PUBLIC& p = pub->publicArea;
  if (p.type != TPM2_ALG_RSA || p.objectAttributes != detail::kRuntimeKeyAttributes || p.authPolicy.size != 32) {
    return Error{"runtime key public blob: not an RSA decryption key with the runtime key's attributes and a "
                 "SHA-256 authPolicy",
                 detail::kReasonInvalid};
  }
  ESYS_CONTEXT* ctx = ctx_->esys();
  auto parent = srk(ctx);
  if (!parent) return parent.take_error();
  ESYS_TR tr = ESYS_TR_NONE;
  const TSS2_RC rc = Esys_Load(ctx, parent->tr(), ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, &*priv, &*pub, &tr);
  if (rc != TSS2_RC_SUCCESS) return detail::tss_error("TPM2_Load(runtime key)", rc);
  return LoadedRuntimeKey(ctx_, tr, blob.policy_pcrs);
}

Result<RuntimeKey> Tpm::certify_runtime_key(const RuntimeKeyBlob& blob, ByteView nonce) {
  if (auto st = check_nonce(nonce); !st) return st.take_error();
  auto loaded = load_runtime_key(blob);
  if (!loaded) return loaded.take_error();
  ESYS_CONTEXT* ctx = ctx_->esys();
  auto ak = detail::load_ak(ctx, options_, /*create_if_absent=*/false);
  if (!ak) return ak.take_error();
  auto pub = detail::unmarshal_public(blob.public_blob, "runtime key public blob");
  if (!pub) return pub.take_error();
  auto area = detail::marshal_public_area(pub->publicArea);
  if (!area) return area.take_error();
  auto certified = certify(ctx, loaded->tr_, ak->handle.tr(), nonce);
  if (!certified) return certified.take_error();
  RuntimeKey out;
  out.public_area = std::move(*area);
  out.certify_info = std::move(certified->first);
  out.signature = std::move(certified->second);
  out.policy_pcrs = blob.policy_pcrs;
  out.blob = blob;
  return out;
}

Result<crypto::SecretBytes> Tpm::rsa_decrypt_oaep(const LoadedRuntimeKey& key, ByteView ciphertext,
                                                  crypto::HashAlg hash) {
  if (key.ctx_ != ctx_ || key.tr_ == ESYS_TR_NONE) {
    return Error{"the runtime key is not loaded in this TPM connection", detail::kReasonInvalid};
  }
  if (hash != crypto::HashAlg::sha1 && hash != crypto::HashAlg::sha256 && hash != crypto::HashAlg::sha384) {
    return Error{"OAEP hash must be sha1, sha256 or sha384, not " + std::string(crypto::hash_name(hash)),
                 detail::kReasonInvalid};
  }
  if (ciphertext.empty() || ciphertext.size() > sizeof(TPM2B_PUBLIC_KEY_RSA::buffer)) {
    return Error{"ciphertext of " + std::to_string(ciphertext.size()) + " bytes", detail::kReasonInvalid};
  }
  ESYS_CONTEXT* ctx = ctx_->esys();
  auto session = detail::pcr_policy_session(ctx, key.policy_pcrs_);
  if (!session) return session.take_error();
  TPM2B_PUBLIC_KEY_RSA in{};
  in.size = static_cast<uint16_t>(ciphertext.size());
  std::memcpy(in.buffer, ciphertext.data(), ciphertext.size());
  TPMT_RSA_DECRYPT scheme{};
  scheme.scheme = TPM2_ALG_OAEP;
  scheme.details.oaep.hashAlg = crypto::tpm_alg_id(hash);
  const TPM2B_DATA label{};
  detail::EsysOut<TPM2B_PUBLIC_KEY_RSA> message;
  const TSS2_RC rc = Esys_RSA_Decrypt(ctx, key.tr_, session->tr(), ESYS_TR_NONE, ESYS_TR_NONE, &in, &scheme, &label,
                                      message.put());
  if (rc != TSS2_RC_SUCCESS) {
    Error e = detail::tss_error("TPM2_RSA_Decrypt(runtime key, OAEP " + std::string(crypto::hash_name(hash)) + ")", rc);
    if (e.reason == detail::kReasonPolicyFailed) e.message += " (a PCR the key is bound to has changed)";
    return e;
  }
  crypto::SecretBytes out(ByteView(message->buffer, message->size));
  // The response buffer held the plaintext too.
  std::fill(message->buffer, message->buffer + sizeof message->buffer, uint8_t{0});
  return out;
}

}  // namespace tl::agent::tpm
