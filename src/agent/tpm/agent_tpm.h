// The TPM side of tlaunch-agent, on tpm2-tss ESAPI: the TPM's identity (EK and
// its certificate), a persisted attestation key (AK), quotes, the runtime key
// for Secure Key Release and credential activation. docs/agent-tpm.md has the
// templates, handles and error reasons.
//
// A Tpm is one ESAPI connection; it is not thread-safe (use it from one thread
// at a time). Every transient object or session an operation creates is flushed
// before the operation returns, except a LoadedRuntimeKey, which is flushed when
// it is destroyed.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/hex.h"
#include "common/result.h"
#include "crypto/digest.h"
#include "crypto/secret_bytes.h"
#include "tpm/pcr.h"

struct ESYS_CONTEXT;  // tpm2-tss

namespace tl::agent::tpm {

namespace detail {
class Context;
}

enum class KeyAlg { rsa2048, ecc_p256 };
std::string_view key_alg_name(KeyAlg alg);  // "rsa2048" | "ecc-p256"

// TCG EK Credential Profile 2.0 low-range handles, and our default AK handle.
inline constexpr uint32_t kRsaEkCertIndex = 0x01C00002;
inline constexpr uint32_t kEccEkCertIndex = 0x01C0000A;
inline constexpr uint32_t kRsaEkHandle = 0x81010001;
inline constexpr uint32_t kEccEkHandle = 0x81010002;
inline constexpr uint32_t kDefaultAkHandle = 0x81000003;

struct Options {
  KeyAlg ek_alg = KeyAlg::rsa2048;  // the EK reported, parenting the AK, activating credentials
  KeyAlg ak_alg = KeyAlg::rsa2048;  // RSASSA-SHA256 or ECDSA-SHA256
  uint32_t ak_handle = kDefaultAkHandle;  // owner persistent range 0x81000000-0x817FFFFF
  // false: ignore a persistent EK and always derive the EK from the default
  // template (the certificate is still read from NV).
  bool use_persistent_ek = true;
};

enum class EkSource { persistent, template_primary };

struct EkInfo {
  KeyAlg alg = KeyAlg::rsa2048;
  EkSource source = EkSource::template_primary;
  uint32_t handle = 0;  // the persistent handle when source == persistent, else 0
  Bytes public_area;    // TPMT_PUBLIC
  std::optional<Bytes> certificate;  // DER from the EK certificate NV index, when provisioned
};

// The DER certificate in an EK certificate NV index's contents: one DER
// SEQUENCE (definite length), after which only padding (0x00 or 0xFF bytes) may
// follow and is dropped, as some TPMs size the index larger than the certificate.
Result<Bytes> ek_certificate_from_nv(ByteView nv_contents);

struct AkInfo {
  KeyAlg alg = KeyAlg::rsa2048;
  uint32_t handle = 0;
  Bytes public_area;  // TPMT_PUBLIC
  Bytes name;         // TPM Name: u16 nameAlg || SHA-256(public_area)
  bool created = false;  // true when this call created and persisted it
};

struct Quote {
  Bytes attest;     // TPMS_ATTEST exactly as signed
  Bytes signature;  // TPMT_SIGNATURE
  tl::tpm::PcrValues pcrs;  // the values the quote covers (hash equals its pcrDigest)
  unsigned attempts = 1;    // how many read+quote rounds it took (PCRs changing meanwhile)
};

// What the agent stores to reload a runtime key later (TPM-wrapped: useless
// outside this TPM, and after TPM2_Clear).
struct RuntimeKeyBlob {
  Bytes public_blob;   // TPM2B_PUBLIC
  Bytes private_blob;  // TPM2B_PRIVATE
  std::vector<uint32_t> policy_pcrs;  // SHA-256 PCRs of its PolicyPCR, ascending
};
// A self-contained file format for a RuntimeKeyBlob (docs/agent-tpm.md), and its
// strict whole-buffer parser (errors name the field and offset).
Bytes encode_runtime_key_blob(const RuntimeKeyBlob& blob);
Result<RuntimeKeyBlob> decode_runtime_key_blob(ByteView data);

struct RuntimeKey {
  Bytes public_area;   // TPMT_PUBLIC
  Bytes certify_info;  // TPMS_ATTEST of TPM2_Certify by the AK, extraData = nonce
  Bytes signature;     // TPMT_SIGNATURE by the AK over certify_info
  std::vector<uint32_t> policy_pcrs;  // ascending
  tl::tpm::PcrMap policy_pcr_values;  // the SHA-256 values its authPolicy binds
  RuntimeKeyBlob blob;
};

// A runtime key loaded in the TPM; flushed when destroyed. Move-only.
class LoadedRuntimeKey {
 public:
  LoadedRuntimeKey(LoadedRuntimeKey&&) noexcept;
  LoadedRuntimeKey& operator=(LoadedRuntimeKey&&) noexcept;
  ~LoadedRuntimeKey();
  const std::vector<uint32_t>& policy_pcrs() const { return policy_pcrs_; }

 private:
  friend class Tpm;
  LoadedRuntimeKey(std::shared_ptr<detail::Context> ctx, uint32_t tr, std::vector<uint32_t> pcrs);
  void release();
  std::shared_ptr<detail::Context> ctx_;
  uint32_t tr_;  // ESYS_TR
  std::vector<uint32_t> policy_pcrs_;
};

class Tpm {
 public:
  // tcti: a tpm2-tss TCTI loader string: "device:/dev/tpmrm0",
  // "swtpm:host=127.0.0.1,port=2321", "mssim:host=…,port=…". Issues
  // TPM2_Startup(CLEAR) when the TPM reports it has not been started.
  static Result<Tpm> open(std::string_view tcti, const Options& options = {});
  Tpm(Tpm&&) noexcept;
  Tpm& operator=(Tpm&&) noexcept;
  ~Tpm();

  const std::string& tcti() const;
  const Options& options() const { return options_; }

  // The EK of options().ek_alg: the persistent one when present (and allowed),
  // else a primary from the default template, flushed again.
  Result<EkInfo> endorsement_key();
  // The AK at options().ak_handle; created under the EK and persisted when the
  // handle is empty. A handle holding any other kind of key is an error.
  Result<AkInfo> attestation_key();

  // PCR values of the given banks (every PCR in `pcrs`, each < 24), read under
  // one PCR update counter.
  Result<tl::tpm::PcrValues> read_pcrs(std::span<const crypto::HashAlg> banks,
                                       std::span<const uint32_t> pcrs);
  // TPM2_Quote with the AK over `pcrs` of `banks`, extraData = nonce (1..64 bytes).
  Result<Quote> quote(ByteView nonce, std::span<const crypto::HashAlg> banks,
                      std::span<const uint32_t> pcrs);

  // A fresh RSA-2048 decryption key bound by TPM2_PolicyPCR to the current
  // values of SHA-256 `policy_pcrs`, certified by the AK with qualifyingData = nonce.
  Result<RuntimeKey> create_runtime_key(ByteView nonce, std::span<const uint32_t> policy_pcrs);
  Result<LoadedRuntimeKey> load_runtime_key(const RuntimeKeyBlob& blob);
  // A fresh TPM2_Certify (qualifyingData = nonce) of a runtime key made earlier,
  // so the key need not be created again for every attestation (RSA key
  // generation takes seconds on hardware TPMs). policy_pcr_values is left empty.
  Result<RuntimeKey> certify_runtime_key(const RuntimeKeyBlob& blob, ByteView nonce);
  // RSAES-OAEP decryption (empty label) in the TPM, under a PolicyPCR session;
  // hash: sha1, sha256 or sha384 (OAEP and MGF1). Fails with reason
  // "tpm-policy-failed" when a bound PCR has changed.
  Result<crypto::SecretBytes> rsa_decrypt_oaep(const LoadedRuntimeKey& key, ByteView ciphertext,
                                               crypto::HashAlg hash = crypto::HashAlg::sha256);

  // TPM2_ActivateCredential with the AK and the EK: credential_blob is a
  // TPM2B_ID_OBJECT, secret a TPM2B_ENCRYPTED_SECRET (both with size prefix, as
  // tpm::make_credential makes them).
  Result<crypto::SecretBytes> activate_credential(ByteView credential_blob, ByteView secret);

  // The contents of an NV index (e.g. Azure's HCL report at 0x01400001), or
  // nullopt when the index is not defined or never written. Read in chunks of
  // the TPM's TPM2_PT_NV_BUFFER_MAX with the index's own auth or the owner's
  // (both empty); an index over max_bytes is an error.
  Result<std::optional<Bytes>> read_nv(uint32_t index, size_t max_bytes = 16 * 1024);

  // Transient objects and sessions loaded in the TPM now (all of them, not just
  // ours: with a resource manager, only this connection's).
  Result<std::vector<uint32_t>> loaded_handles();

  // The ESAPI context, for tests and diagnostics. Do not flush or close the
  // handles this class manages.
  ESYS_CONTEXT* esys();

 private:
  Tpm(std::shared_ptr<detail::Context> ctx, Options options)
      : ctx_(std::move(ctx)), options_(options) {}
  std::shared_ptr<detail::Context> ctx_;
  Options options_;
};

}  // namespace tl::agent::tpm
