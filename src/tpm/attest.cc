#include "tpm/attest.h"

#include "tpm/constants.h"
#include "tpm/internal.h"

namespace tl::tpm {

using internal::read_tpm2b;

Result<Attest> parse_attest(ByteView data) {
  ByteReader r(data);
  Attest a;
  TL_TPM_TRY(magic, r.u32_be("TPMS_ATTEST.magic"));
  a.magic = magic;
  const size_t type_at = r.offset();
  TL_TPM_TRY(type, r.u16_be("TPMS_ATTEST.type"));
  switch (type) {
    case st::kAttestNv: case st::kAttestCommandAudit: case st::kAttestSessionAudit:
    case st::kAttestCertify: case st::kAttestQuote: case st::kAttestTime:
    case st::kAttestCreation: case st::kAttestNvDigest:
      break;
    default:
      return r.error_at(type_at, "TPMS_ATTEST.type",
                        internal::hex16(type) + " is not a TPMI_ST_ATTEST value");
  }
  a.type = type;
  TL_TPM_TRY(signer, read_tpm2b(r, kMaxNameSize, "TPMS_ATTEST.qualifiedSigner"));
  a.qualified_signer.assign(signer.begin(), signer.end());
  TL_TPM_TRY(extra, read_tpm2b(r, kMaxDataSize, "TPMS_ATTEST.extraData"));
  a.extra_data.assign(extra.begin(), extra.end());
  TL_TPM_TRY(clock, r.u64_be("TPMS_ATTEST.clockInfo.clock"));
  TL_TPM_TRY(reset_count, r.u32_be("TPMS_ATTEST.clockInfo.resetCount"));
  TL_TPM_TRY(restart_count, r.u32_be("TPMS_ATTEST.clockInfo.restartCount"));
  const size_t safe_at = r.offset();
  TL_TPM_TRY(safe, r.u8("TPMS_ATTEST.clockInfo.safe"));
  if (safe > 1) {
    return r.error_at(safe_at, "TPMS_ATTEST.clockInfo.safe",
                      std::to_string(safe) + " is not a TPMI_YES_NO (0 or 1)");
  }
  a.clock_info = ClockInfo{clock, reset_count, restart_count, safe == 1};
  TL_TPM_TRY(fw, r.u64_be("TPMS_ATTEST.firmwareVersion"));
  a.firmware_version = fw;

  if (type == st::kAttestQuote) {
    TL_TPM_TRY(sel, read_pcr_selection(r));
    TL_TPM_TRY(digest, read_tpm2b(r, kMaxDigestSize, "TPMS_QUOTE_INFO.pcrDigest"));
    a.quote = QuoteInfo{std::move(sel), Bytes(digest.begin(), digest.end())};
  } else if (type == st::kAttestCertify) {
    TL_TPM_TRY(name, read_tpm2b(r, kMaxNameSize, "TPMS_CERTIFY_INFO.name"));
    TL_TPM_TRY(qname, read_tpm2b(r, kMaxNameSize, "TPMS_CERTIFY_INFO.qualifiedName"));
    a.certify = CertifyInfo{Bytes(name.begin(), name.end()), Bytes(qname.begin(), qname.end())};
  } else {
    TL_TPM_TRY(rest, r.bytes(r.remaining(), "TPMS_ATTEST.attested"));
    a.other_attested.assign(rest.begin(), rest.end());
  }
  TL_TPM_CHECK(internal::expect_end(r, "TPMS_ATTEST"));
  return a;
}

}  // namespace tl::tpm
