// Intel SGX/TDX PKI helpers for the TDX verifier: certificate chains to the
// shipped Intel SGX Root CA (with optional CRLs) and the SGX extensions of a
// PCK certificate (OID 1.2.840.113741.1.13.1). Private to src/tee.
#pragma once

#include <array>
#include <optional>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/hex.h"
#include "common/result.h"
#include "crypto/public_key.h"
#include "tee/tdx_verify.h"

namespace tl::tee::detail {

// PEM certificates (leaf first) to DER; trailing NUL bytes (the quote's
// PCK chain ends with one) are ignored. At least `min_count` certificates.
Result<std::vector<Bytes>> split_pem_chain(ByteView pem, size_t min_count, const std::string& what);

// Validates certs[0] (leaf) through certs[1..] (untrusted) up to the shipped
// Intel SGX Root CA at time `at`. CRLs (DER or PEM; empty = not given): with
// `leaf_issuer_crl` the leaf is checked for revocation, with both also the
// intermediates. Returns the leaf's public key.
Result<crypto::PublicKey> verify_intel_chain(const std::vector<Bytes>& certs, int64_t at,
                                             ByteView leaf_issuer_crl, ByteView root_ca_crl);

// The TCB of a PCK certificate, from its SGX extensions (no trust by itself).
Result<TdxPckTcb> pck_tcb_from_certificate(ByteView der);

// TCB Info and QE Identity are signed by Intel's TCB signing certificate
// (subject CN "Intel SGX TCB Signing"); chaining to the root alone would let
// any Intel-issued leaf (e.g. a PCK certificate) sign collateral. This checks
// only the leaf's name; verify_intel_chain checks its path to the root.
Status check_tcb_signing_leaf(ByteView der);
inline constexpr std::string_view kTcbSigningCn = "Intel SGX TCB Signing";

}  // namespace tl::tee::detail

namespace tl::tee::detail {

// The collateral checks of check_tdx_quote (tdx_collateral.cc): appends checks
// named "collateral.*"; `evaluation` is set when the TCB could be evaluated,
// `verified` says whether every collateral signature was checked.
void check_tdx_collateral(const TdxCollateral& collateral, const TdxQuote& quote, const TdxPckTcb& pck,
                          int64_t at, bool allow_unverified, std::vector<Check>& checks,
                          std::optional<TdxTcbEvaluation>& evaluation, bool& verified);

}  // namespace tl::tee::detail
