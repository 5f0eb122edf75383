// check_tdx_quote: every check that ran, in order; a VerifiedTdxQuote only when
// all passed. Check names and reasons: tdx_verify.h, docs/tee-tdx.md.
#include "tee/tdx_verify.h"

#include <chrono>

#include "crypto/digest.h"
#include "crypto/public_key.h"
#include "tee/tdx_pki.h"

namespace tl::tee {

namespace detail {
struct TdxVerifiedBuilder {
  static VerifiedTdxQuote make(TdxQuote q, std::optional<TdxTcbStatus> status, std::vector<std::string> advisories,
                               std::string fmspc, bool collateral_verified) {
    VerifiedTdxQuote v;
    v.quote_ = std::move(q);
    v.tcb_status_ = status;
    v.advisory_ids_ = std::move(advisories);
    v.fmspc_ = std::move(fmspc);
    v.collateral_verified_ = collateral_verified;
    return v;
  }
};
}  // namespace detail

namespace {

constexpr std::string_view kStatusNames[] = {"UpToDate",   "SWHardeningNeeded", "ConfigurationNeeded",
                                             "ConfigurationAndSWHardeningNeeded", "OutOfDate",
                                             "OutOfDateConfigurationNeeded",      "Revoked"};

void add(std::vector<Check>& checks, std::string name, bool passed, std::string detail, std::string reason) {
  checks.push_back(Check{std::move(name), passed, std::move(detail), passed ? std::string() : std::move(reason)});
}

bool all_passed(const std::vector<Check>& checks) {
  for (const auto& c : checks)
    if (!c.passed) return false;
  return true;
}

}  // namespace

std::string_view tcb_status_name(TdxTcbStatus s) { return kStatusNames[static_cast<size_t>(s)]; }

std::optional<TdxTcbStatus> tcb_status_from_name(std::string_view name) {
  for (size_t i = 0; i < std::size(kStatusNames); ++i)
    if (kStatusNames[i] == name) return static_cast<TdxTcbStatus>(i);
  return std::nullopt;
}

Result<TdxPckTcb> tdx_pck_tcb(const TdxQuote& quote) {
  auto certs = detail::split_pem_chain(quote.pck_cert_data, 1, "PCK certificate chain");
  if (!certs) return certs.take_error();
  return detail::pck_tcb_from_certificate(certs->front());
}

TdxQuoteCheck check_tdx_quote(ByteView quote_bytes, const TdxVerifyOptions& options) {
  TdxQuoteCheck out;
  auto& checks = out.checks;
  const int64_t at = options.at.value_or(
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count());

  auto parsed = parse_tdx_quote(quote_bytes);
  if (!parsed) {
    add(checks, "parse", false, parsed.error().message, parsed.error().reason);
    return out;
  }
  out.parsed = parsed.value();
  const TdxQuote& q = *out.parsed;
  add(checks, "parse",
      true,
      "v" + std::to_string(q.header.version) + (q.body_type == TdBodyType::td15 ? " TDX 1.5" : " TDX 1.0") +
          " body, " + std::to_string(q.size) + " bytes, " + std::to_string(q.trailing_bytes) + " trailing",
      "");

  {
    const bool ok = to_hex(q.header.qe_vendor_id) == kIntelQeVendorId;
    add(checks, "header.qe_vendor_id", ok,
        ok ? "QE vendor ID is Intel's"
           : "QE vendor ID " + to_hex(q.header.qe_vendor_id) + " is not Intel's " + std::string(kIntelQeVendorId),
        "tdx-qe-vendor-mismatch");
  }

  // PCK chain: the certification data must be a PEM chain (type 5) ending at
  // the shipped Intel SGX Root CA.
  std::optional<crypto::PublicKey> pck_key;
  std::vector<Bytes> chain;
  {
    const TdxCollateral* c = options.collateral;
    if (q.pck_cert_data_type != 5) {
      add(checks, "pck_chain", false,
          "certification data type " + std::to_string(q.pck_cert_data_type) +
              " is not a PCK certificate chain (type 5)",
          "tdx-pck-chain-invalid");
    } else if (auto certs = detail::split_pem_chain(q.pck_cert_data, 2, "PCK certificate chain"); !certs) {
      add(checks, "pck_chain", false, certs.error().message, "tdx-pck-chain-invalid");
    } else {
      chain = std::move(certs.value());
      auto key = detail::verify_intel_chain(chain, at, c ? ByteView(c->pck_crl) : ByteView(),
                                            c ? ByteView(c->root_ca_crl) : ByteView());
      if (!key) {
        add(checks, "pck_chain", false, "PCK chain to the Intel SGX Root CA: " + key.error().message,
            "tdx-pck-chain-invalid");
      } else {
        pck_key = std::move(key.value());
        add(checks, "pck_chain", true,
            std::to_string(chain.size()) + " certificates to the Intel SGX Root CA" +
                (c && !c->pck_crl.empty() ? ", CRLs applied" : ", no CRLs given"),
            "");
      }
    }
  }

  // A PCK certificate states the platform's FMSPC and TCB; a leaf without
  // them is not one, collateral or not.
  std::optional<TdxPckTcb> pck_tcb;
  std::string fmspc;
  if (!chain.empty()) {
    auto t = detail::pck_tcb_from_certificate(chain.front());
    if (t) {
      pck_tcb = t.value();
      fmspc = to_hex(pck_tcb->fmspc);
    }
    add(checks, "pck_leaf.sgx_extensions", t.ok(),
        t ? "FMSPC " + fmspc + ", PCE ID " + to_hex(pck_tcb->pce_id) + ", PCESVN " +
                std::to_string(pck_tcb->pce_svn)
          : "PCK leaf: " + t.error().message,
        "tdx-pck-leaf-invalid");
  }

  if (pck_key) {
    auto s = pck_key->verify_ecdsa(crypto::HashAlg::sha256, q.qe_report_raw,
                                   ByteView(q.qe_report_signature).first(32),
                                   ByteView(q.qe_report_signature).last(32));
    add(checks, "qe_report.signature", s.ok(),
        s.ok() ? "QE report signed by the PCK leaf" : "QE report signature: " + s.error().message,
        "tdx-qe-report-invalid");
  } else {
    add(checks, "qe_report.signature", false, "not checked: no trusted PCK key", "tdx-qe-report-invalid");
  }

  {
    // Intel's TD QE identity, shipped: without it any enclave the PCE
    // certified on the platform could sign quotes.
    const SgxReportBody& qe = q.qe_report;
    std::string why;
    const Bytes attr = *from_hex(kIntelTdQeAttributes);
    const Bytes mask = *from_hex(kIntelTdQeAttributesMask);
    bool attr_ok = true;
    for (size_t i = 0; i < 16; ++i) attr_ok = attr_ok && (qe.attributes[i] & mask[i]) == attr[i];
    if (to_hex(qe.mr_signer) != kIntelTdQeMrSigner)
      why = "QE MRSIGNER " + to_hex(qe.mr_signer) + " is not Intel's TD QE signer " + std::string(kIntelTdQeMrSigner);
    else if (qe.isv_prod_id != kIntelTdQeIsvProdId)
      why = "QE ISVPRODID " + std::to_string(qe.isv_prod_id) + " is not the TD QE's " +
            std::to_string(kIntelTdQeIsvProdId);
    else if ((qe.misc_select & kIntelTdQeMiscSelectMask) != kIntelTdQeMiscSelect)
      why = "QE MISCSELECT " + std::to_string(qe.misc_select) + " is not the TD QE's";
    else if (!attr_ok)
      why = "QE ATTRIBUTES " + to_hex(qe.attributes) + " under mask " + std::string(kIntelTdQeAttributesMask) +
            " != " + std::string(kIntelTdQeAttributes) + " (e.g. a debug QE)";
    add(checks, "qe_report.identity", why.empty(),
        why.empty() ? "QE is Intel's TD Quoting Enclave (ISVSVN " + std::to_string(qe.isv_svn) + ")" : why,
        "tdx-qe-identity-mismatch");
  }

  {
    Bytes msg(q.attestation_key.begin(), q.attestation_key.end());
    msg.insert(msg.end(), q.qe_auth_data.begin(), q.qe_auth_data.end());
    auto h = crypto::digest(crypto::HashAlg::sha256, msg);
    const ByteView rd(q.qe_report.report_data);
    bool zero_tail = true;
    for (uint8_t b : rd.subspan(32)) zero_tail = zero_tail && b == 0;
    const bool match = h.ok() && std::equal(h->begin(), h->end(), rd.begin());
    add(checks, "qe_report.binding", match && zero_tail,
        !match ? "QE report_data[0:32] " + to_hex(rd.first(32)) + " != SHA-256(attestation key || QE auth data) " +
                     (h.ok() ? to_hex(*h) : std::string("?"))
        : !zero_tail ? "QE report_data[32:64] is not zero"
                     : "QE report binds the attestation key and QE auth data",
        "tdx-qe-binding-mismatch");
  }

  {
    auto key = crypto::PublicKey::from_ec(crypto::Curve::p256, ByteView(q.attestation_key).first(32),
                                          ByteView(q.attestation_key).last(32));
    Status s = key ? key->verify_ecdsa(crypto::HashAlg::sha256, q.signed_data, ByteView(q.signature).first(32),
                                       ByteView(q.signature).last(32))
                   : Status(key.take_error());
    add(checks, "signature", s.ok(),
        s.ok() ? "header and TD body signed by the attestation key" : "quote signature: " + s.error().message,
        "tdx-signature-invalid");
  }

  if (options.expected_report_data) {
    const Bytes& want = *options.expected_report_data;
    const bool size_ok = !want.empty() && want.size() <= 64;
    const bool match = size_ok && std::equal(want.begin(), want.end(), q.body.report_data.begin());
    add(checks, "report_data", match,
        !size_ok ? "expected report data must be 1..64 bytes, got " + std::to_string(want.size())
        : match  ? "REPORTDATA starts with the expected " + std::to_string(want.size()) + " bytes"
                 : "REPORTDATA " + to_hex(ByteView(q.body.report_data).first(want.size())) + " != expected " +
                      to_hex(want),
        "tdx-report-data-mismatch");
  }

  std::optional<TdxTcbEvaluation> evaluation;
  bool collateral_verified = false;
  if (options.collateral && pck_tcb) {
    detail::check_tdx_collateral(*options.collateral, q, *pck_tcb, at, options.allow_unverified_collateral, checks,
                                 evaluation, collateral_verified);
    if (evaluation) {
      out.tcb_status = evaluation->status;
      const bool revoked = evaluation->status == TdxTcbStatus::revoked;
      add(checks, "tcb_status", !revoked,
          std::string(tcb_status_name(evaluation->status)) + " (TCB level " +
              std::string(tcb_status_name(evaluation->platform_status)) + " of " + evaluation->tcb_date +
              (evaluation->module_status ? ", TDX module " + evaluation->module_identity + " " +
                                               std::string(tcb_status_name(*evaluation->module_status))
                                         : std::string()) +
              ")" + (collateral_verified ? "" : " from UNVERIFIED collateral"),
          "tdx-tcb-revoked");
    }
  }

  if (all_passed(checks)) {
    out.verified = detail::TdxVerifiedBuilder::make(
        q, evaluation ? std::optional<TdxTcbStatus>(evaluation->status) : std::nullopt,
        evaluation ? evaluation->advisory_ids : std::vector<std::string>{}, fmspc, collateral_verified);
  }
  return out;
}

Result<VerifiedTdxQuote> verify_tdx_quote(ByteView quote, const TdxVerifyOptions& options) {
  auto r = check_tdx_quote(quote, options);
  if (r.verified) return std::move(*r.verified);
  return first_failure(r.checks);
}

}  // namespace tl::tee
