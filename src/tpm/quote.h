// Verification of a TPM2_Quote: TPMS_ATTEST + TPMT_SIGNATURE under an attestation
// key (AK), against an expected nonce and the PCR values the caller will rely on.
//
// The checks, in order (names as in QuoteReport; docs/tpm.md explains each):
//   attest.parse     TPMS_ATTEST is well formed (no trailing bytes)
//   signature.parse  TPMT_SIGNATURE is well formed, RSASSA / RSAPSS / ECDSA
//   magic            magic == TPM_GENERATED_VALUE (0xff544347)
//   type             type == TPM_ST_ATTEST_QUOTE (0x8018)
//   nonce            extraData == expected nonce (an empty expected nonce is refused)
//   ak.attributes    only when the AK's public area is known: restricted, sign, fixedTPM
//   signature.scheme signature hash is not SHA-1; key type fits sigAlg; if the AK's
//                    public area fixes a scheme, sigAlg and hash equal it
//   signature        the signature verifies over the TPMS_ATTEST bytes under the AK
//   pcr_selection    the quote selects at least one PCR and every required PCR
//   pcr_values       a supplied value of the bank's digest size exists for every
//                    selected PCR (errors name bank and PCR)
//   pcr_digest       pcrDigest == H(values in selection order: banks as listed,
//                    PCRs ascending), H = the signature's hash (TPM 2.0 Part 3,
//                    TPM2_Quote: the digest uses the signing scheme's hash)
//
// `required` lists the PCRs the caller relies on; a quote whose selection misses
// one of them is refused (a quote over fewer PCRs must not vouch for others:
// CVE-2022-0317). An EMPTY `required` means "every PCR in supplied_pcrs" — the
// caller passed those values because it means to use them — never "anything".
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/hex.h"
#include "common/result.h"
#include "crypto/digest.h"
#include "crypto/public_key.h"
#include "tpm/attest.h"
#include "tpm/pcr.h"
#include "tpm/public_area.h"
#include "tpm/signature.h"
#include "tpm/verified_quote.h"

namespace tl::tpm {

struct PcrRequirement {
  crypto::HashAlg bank;
  std::vector<uint32_t> pcrs;
};

struct QuoteCheck {
  std::string name;    // e.g. "nonce"
  bool passed = false;
  std::string detail;  // why it passed or failed, for a person
};

// Every check that ran, with the parsed (UNVERIFIED) structures for display.
// Made by check_quote; verify_quote is check_quote + "all passed", so the CLI
// report and the library's verdict cannot disagree.
struct QuoteReport {
  std::vector<QuoteCheck> checks;
  bool malformed = false;             // TPMS_ATTEST or TPMT_SIGNATURE did not parse
  std::optional<Attest> attest;       // for display only; not verified
  std::optional<Signature> signature;
  std::optional<VerifiedQuote> verified;  // set only when every check passed

  bool ok() const { return verified.has_value(); }
  const QuoteCheck* first_failure() const;
  // "quote check 'nonce' failed: …" for the first failed check.
  std::string failure_message() const;
};

QuoteReport check_quote(const crypto::PublicKey& ak, ByteView attest, ByteView signature,
                        const PcrValues& supplied_pcrs, ByteView expected_nonce,
                        const std::vector<PcrRequirement>& required);
// With the AK's public area the AK's attributes and fixed signing scheme are checked too.
QuoteReport check_quote(const PublicArea& ak, ByteView attest, ByteView signature,
                        const PcrValues& supplied_pcrs, ByteView expected_nonce,
                        const std::vector<PcrRequirement>& required);

// The VerifiedQuote holds only the PCRs the quote selects, with the supplied values.
// The error is QuoteReport::failure_message() of the first failed check.
Result<VerifiedQuote> verify_quote(const crypto::PublicKey& ak, ByteView attest,
                                   ByteView signature, const PcrValues& supplied_pcrs,
                                   ByteView expected_nonce,
                                   const std::vector<PcrRequirement>& required);
Result<VerifiedQuote> verify_quote(const PublicArea& ak, ByteView attest, ByteView signature,
                                   const PcrValues& supplied_pcrs, ByteView expected_nonce,
                                   const std::vector<PcrRequirement>& required);

}  // namespace tl::tpm
