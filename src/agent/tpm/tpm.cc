// Tpm: the connection, the EK, the AK, PCR reads and handle listing.
#include <string>

#include "agent/tpm/agent_tpm.h"
#include "agent/tpm/context.h"
#include "agent/tpm/marshal.h"
#include "agent/tpm/ops.h"

namespace tl::agent::tpm {

std::string_view key_alg_name(KeyAlg alg) { return alg == KeyAlg::rsa2048 ? "rsa2048" : "ecc-p256"; }

Result<Tpm> Tpm::open(std::string_view tcti, const Options& options) {
  auto ctx = detail::Context::open(tcti);
  if (!ctx) return ctx.take_error();
  return Tpm(std::move(*ctx), options);
}

Tpm::Tpm(Tpm&&) noexcept = default;
Tpm& Tpm::operator=(Tpm&&) noexcept = default;
Tpm::~Tpm() = default;

const std::string& Tpm::tcti() const { return ctx_->tcti(); }
ESYS_CONTEXT* Tpm::esys() { return ctx_->esys(); }

Result<EkInfo> Tpm::endorsement_key() {
  ESYS_CONTEXT* ctx = ctx_->esys();
  auto ek = detail::load_ek(ctx, options_);
  if (!ek) return ek.take_error();
  EkInfo info;
  info.alg = options_.ek_alg;
  info.source = ek->source;
  info.handle = ek->persistent_handle;
  auto pub = detail::marshal_public_area(ek->pub.publicArea);
  if (!pub) return pub.take_error();
  info.public_area = std::move(*pub);
  ek->handle.reset();  // flush a template EK before the NV reads
  auto cert = detail::read_ek_certificate(ctx, options_.ek_alg == KeyAlg::rsa2048 ? kRsaEkCertIndex : kEccEkCertIndex);
  if (!cert) return cert.take_error();
  info.certificate = std::move(*cert);
  return info;
}

Result<AkInfo> Tpm::attestation_key() {
  auto ak = detail::load_ak(ctx_->esys(), options_, /*create_if_absent=*/true);
  if (!ak) return ak.take_error();
  AkInfo info;
  info.alg = options_.ak_alg;
  info.handle = options_.ak_handle;
  info.created = ak->created;
  auto pub = detail::marshal_public_area(ak->pub.publicArea);
  if (!pub) return pub.take_error();
  info.public_area = std::move(*pub);
  detail::EsysOut<TPM2B_NAME> name;
  const TSS2_RC rc = Esys_TR_GetName(ctx_->esys(), ak->handle.tr(), name.put());
  if (rc != TSS2_RC_SUCCESS) return detail::tss_error("reading the AK's Name", rc);
  info.name.assign(name->name, name->name + name->size);
  return info;
}

Result<tl::tpm::PcrValues> Tpm::read_pcrs(std::span<const crypto::HashAlg> banks, std::span<const uint32_t> pcrs) {
  if (auto st = detail::check_banks(banks); !st) return st.take_error();
  if (auto st = detail::check_pcr_list(pcrs); !st) return st.take_error();
  auto r = detail::read_pcrs(ctx_->esys(), detail::make_selection(banks, pcrs));
  if (!r) return r.take_error();
  return std::move(r->values);
}

Result<std::optional<Bytes>> Tpm::read_nv(uint32_t index, size_t max_bytes) {
  return detail::read_nv_index(ctx_->esys(), index, max_bytes, "NV index " + detail::handle_hex(index));
}

Result<std::vector<uint32_t>> Tpm::loaded_handles() { return detail::loaded_handles(ctx_->esys()); }

}  // namespace tl::agent::tpm
