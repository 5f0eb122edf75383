// verify_cvm_evidence: Azure vTPM-backed confidential VM evidence, from the
// hardware report to the vTPM quote (docs/tee-hcl.md, docs/claims.md
// "Confidential VMs").
#include <algorithm>
#include <string>
#include <utility>

#include "tpm/constants.h"
#include "tpm/quote.h"
#include "verify/cvm.h"

namespace tl::verify {

namespace detail {

struct CvmVerifiedBuilder {
  static VerifiedCvmAttestation make(CvmEvidenceType type, tee::HclReport hcl, tpm::VerifiedQuote quote,
                                     std::optional<tee::VerifiedSnpReport> snp,
                                     std::optional<tee::VerifiedTdxQuote> tdx, const CvmCompliance& c,
                                     nlohmann::json tee_claims, nlohmann::json vtpm_claims) {
    VerifiedCvmAttestation v;
    v.type_ = type;
    v.hcl_ = std::move(hcl);
    v.quote_.emplace(std::move(quote));
    v.snp_ = std::move(snp);
    v.tdx_ = std::move(tdx);
    v.compliant_ = c.compliant;
    v.compliance_detail_ = c.detail;
    v.tee_claims_ = std::move(tee_claims);
    v.vtpm_claims_ = std::move(vtpm_claims);
    return v;
  }
};

}  // namespace detail

namespace {

using json = nlohmann::json;

constexpr int kMinAkBits = 2048;

Error fail(std::string message, std::string reason) { return Error{std::move(message), std::move(reason)}; }

template <size_t N>
std::string hex(const std::array<uint8_t, N>& a) {
  return to_hex(ByteView(a.data(), a.size()));
}

template <size_t N>
bool listed(const std::vector<Bytes>& references, const std::array<uint8_t, N>& value) {
  return std::any_of(references.begin(), references.end(), [&](const Bytes& r) {
    return r.size() == N && std::equal(r.begin(), r.end(), value.begin());
  });
}

void add_mismatch(std::string& out, bool equal, const char* field) {
  if (equal) return;
  if (!out.empty()) out += ", ";
  out += field;
}

// The TDREPORT in the HCL report is MACed, which only the platform can check;
// it is trusted through the signed TD quote, so every TD field both carry must
// agree (the HCL could otherwise pair one TD's runtime data with another's quote).
Status check_td_report_matches(const tee::TdReport& r, const tee::TdQuoteBody& q) {
  std::string diff;
  add_mismatch(diff, r.report_data == q.report_data, "REPORTDATA");
  add_mismatch(diff, r.mr_td == q.mr_td, "MRTD");
  for (size_t i = 0; i < 4; ++i) {
    static constexpr const char* kNames[] = {"RTMR0", "RTMR1", "RTMR2", "RTMR3"};
    add_mismatch(diff, r.rtmr[i] == q.rtmr[i], kNames[i]);
  }
  add_mismatch(diff, r.td_attributes == q.td_attributes, "TDATTRIBUTES");
  add_mismatch(diff, r.xfam == q.xfam, "XFAM");
  add_mismatch(diff, r.mr_config_id == q.mr_config_id, "MRCONFIGID");
  add_mismatch(diff, r.mr_owner == q.mr_owner, "MROWNER");
  add_mismatch(diff, r.mr_owner_config == q.mr_owner_config, "MROWNERCONFIG");
  add_mismatch(diff, r.mr_seam == q.mr_seam, "MRSEAM");
  add_mismatch(diff, r.mr_signer_seam == q.mr_signer_seam, "MRSIGNERSEAM");
  add_mismatch(diff, r.tee_tcb_svn == q.tee_tcb_svn, "TEE_TCB_SVN");
  if (!diff.empty())
    return fail("the HCL report's TDREPORT differs from the TD quote in " + diff, "hcl-tdreport-mismatch");
  return {};
}

// The vTPM AK the runtime data names: an RSA signing key of at least 2048 bits.
Result<crypto::PublicKey> hcl_ak(const tee::HclReport& hcl) {
  const tee::HclRuntimeKey* ak = hcl.ak();
  if (!ak) return fail("the HCL runtime data names no HCLAkPub key", "hcl-ak-missing");
  if (std::find(ak->key_ops.begin(), ak->key_ops.end(), "sign") == ak->key_ops.end())
    return fail("HCLAkPub: key_ops does not include \"sign\"", "hcl-ak-invalid");
  size_t first = 0;
  while (first < ak->e.size() && ak->e[first] == 0) ++first;
  if (ak->e.size() - first > 4) return fail("HCLAkPub: public exponent longer than 32 bits", "hcl-ak-invalid");
  uint32_t e = 0;
  for (size_t i = first; i < ak->e.size(); ++i) e = (e << 8) | ak->e[i];
  auto key = crypto::PublicKey::from_rsa(ak->n, e);
  if (!key) return fail("HCLAkPub: " + key.error().message, "hcl-ak-invalid");
  if (key->bits() < kMinAkBits)
    return fail("HCLAkPub: RSA-" + std::to_string(key->bits()) + " is shorter than 2048 bits", "hcl-ak-invalid");
  return std::move(*key);
}

// Azure's tpm_quote.signature is the bare RSASSA signature (as long as the
// modulus); the HCL AK is a restricted RSASSA-PKCS1-v1_5 SHA-256 signing key.
// Anything else is taken as a whole TPMT_SIGNATURE.
Bytes quote_signature(const CvmEvidence& ev, const tee::HclReport& hcl) {
  const tee::HclRuntimeKey* ak = hcl.ak();
  size_t modulus = ak ? ak->n.size() : 0;
  if (ak) {
    size_t z = 0;
    while (z < ak->n.size() && ak->n[z] == 0) ++z;
    modulus -= z;
  }
  if (modulus == 0 || ev.quote_signature.size() != modulus) return ev.quote_signature;
  Bytes t;
  t.reserve(6 + modulus);
  auto be16 = [&](uint16_t v) {
    t.push_back(static_cast<uint8_t>(v >> 8));
    t.push_back(static_cast<uint8_t>(v));
  };
  be16(tpm::alg::kRsassa);
  be16(tpm::alg::kSha256);
  be16(static_cast<uint16_t>(modulus));
  t.insert(t.end(), ev.quote_signature.begin(), ev.quote_signature.end());
  return t;
}

json vtpm_claims_of(const tee::HclReport& hcl, const tpm::VerifiedQuote& q) {
  json pcrs = json::object();
  for (const auto& [bank, values] : q.pcrs()) {
    json b = json::object();
    for (const auto& [index, value] : values) b[std::to_string(index)] = to_hex(value);
    pcrs[std::string(crypto::hash_name(bank))] = std::move(b);
  }
  json c = {{"x-tl-pcrs", std::move(pcrs)}, {"x-tl-nonce", to_hex(q.nonce())}};
  if (auto id = tee::hcl_vm_unique_id(hcl)) c["x-ms-azurevm-vmid"] = *id;
  return c;
}

// The runtime data as the report has it (keys, vm-configuration, user-data …).
json runtime_claim(const tee::HclReport& hcl) {
  return hcl.runtime_json.is_object() ? hcl.runtime_json : json::object();
}

}  // namespace

namespace detail {

CvmCompliance snp_compliance(const tee::SnpReport& r, const CvmPolicy& policy) {
  CvmCompliance c;
  const bool id_key_present =
      std::any_of(r.id_key_digest.begin(), r.id_key_digest.end(), [](uint8_t b) { return b != 0; });
  if (r.policy.debug_allowed) {
    c.detail = "the guest policy allows debugging (POLICY.DEBUG)";
  } else if (r.vmpl != 0) {
    c.detail = "the report was requested at VMPL " + std::to_string(r.vmpl) + ", not by the HCL at VMPL 0";
  } else if (!listed(policy.snp_launch_measurements, r.measurement) &&
             !(id_key_present && listed(policy.snp_id_key_digests, r.id_key_digest))) {
    c.detail = "neither the launch measurement " + hex(r.measurement) + " nor the ID key digest " +
               hex(r.id_key_digest) +
               " is a configured reference (cvm.snpLaunchMeasurements / cvm.snpIdKeyDigests): the paravisor is not "
               "identified";
  } else {
    c.compliant = true;
  }
  return c;
}

CvmCompliance tdx_compliance(const tee::TdQuoteBody& body, std::optional<tee::TdxTcbStatus> tcb_status,
                             const CvmPolicy& policy) {
  CvmCompliance c;
  if (body.debug()) {
    c.detail = "the TD is debuggable (TDATTRIBUTES.DEBUG)";
  } else if (!listed(policy.tdx_mrtds, body.mr_td)) {
    c.detail = "MRTD " + hex(body.mr_td) + " is not a configured reference (cvm.tdxMrtds): the paravisor is not identified";
  } else if (!tcb_status) {
    c.detail = "no TCB status: the quote was verified without TDX collateral";
  } else if (std::find(policy.tdx_compliant_tcb.begin(), policy.tdx_compliant_tcb.end(), *tcb_status) ==
             policy.tdx_compliant_tcb.end()) {
    c.detail = "TCB status " + std::string(tee::tcb_status_name(*tcb_status)) + " is not one accepted as compliant";
  } else {
    c.compliant = true;
  }
  return c;
}

json snp_tee_claims(const tee::SnpReport& r, const tee::HclReport& hcl, const CvmCompliance& c) {
  // SVNs are those of REPORTED_TCB: the TCB the VCEK is derived from and the
  // one the chain vouches for.
  return json{
      {"x-ms-attestation-type", "sevsnpvm"},
      {"x-ms-compliance-status", c.compliant ? kCompliant : kNotCompliant},
      {"x-ms-runtime", runtime_claim(hcl)},
      {"x-ms-sevsnpvm-authorkeydigest", hex(r.author_key_digest)},
      {"x-ms-sevsnpvm-bootloader-svn", r.reported_tcb.bootloader},
      {"x-ms-sevsnpvm-familyId", hex(r.family_id)},
      {"x-ms-sevsnpvm-guestsvn", r.guest_svn},
      {"x-ms-sevsnpvm-hostdata", hex(r.host_data)},
      {"x-ms-sevsnpvm-idkeydigest", hex(r.id_key_digest)},
      {"x-ms-sevsnpvm-imageId", hex(r.image_id)},
      {"x-ms-sevsnpvm-is-debuggable", r.policy.debug_allowed},
      {"x-ms-sevsnpvm-launchmeasurement", hex(r.measurement)},
      {"x-ms-sevsnpvm-microcode-svn", r.reported_tcb.microcode},
      {"x-ms-sevsnpvm-migration-allowed", r.policy.migrate_ma_allowed},
      {"x-ms-sevsnpvm-reportdata", hex(r.report_data)},
      {"x-ms-sevsnpvm-reportid", hex(r.report_id)},
      {"x-ms-sevsnpvm-smt-allowed", r.policy.smt_allowed},
      {"x-ms-sevsnpvm-snpfw-svn", r.reported_tcb.snp},
      {"x-ms-sevsnpvm-tee-svn", r.reported_tcb.tee},
      {"x-ms-sevsnpvm-vmpl", r.vmpl},
      {"x-tl-sevsnpvm-product", std::string(tee::product_name(r.product))},
      {"x-tl-compliance-detail", c.detail},
  };
}

json tdx_tee_claims(const tee::TdQuoteBody& body, std::optional<tee::TdxTcbStatus> tcb_status,
                    const std::vector<std::string>& advisory_ids, const std::string& fmspc,
                    const tee::HclReport& hcl, const CvmCompliance& c) {
  auto u64hex = [](uint64_t v) {
    std::array<uint8_t, 8> le{};
    for (size_t i = 0; i < 8; ++i) le[i] = static_cast<uint8_t>(v >> (8 * i));
    return hex(le);  // as the 8 bytes appear in the quote (little-endian)
  };
  json j = {
      {"x-ms-attestation-type", "tdxvm"},
      {"x-ms-compliance-status", c.compliant ? kCompliant : kNotCompliant},
      {"x-ms-runtime", runtime_claim(hcl)},
      {"x-ms-tdxvm-mrtd", hex(body.mr_td)},
      {"x-ms-tdxvm-rtmr0", hex(body.rtmr[0])},
      {"x-ms-tdxvm-rtmr1", hex(body.rtmr[1])},
      {"x-ms-tdxvm-rtmr2", hex(body.rtmr[2])},
      {"x-ms-tdxvm-rtmr3", hex(body.rtmr[3])},
      {"x-ms-tdxvm-mrseam", hex(body.mr_seam)},
      {"x-ms-tdxvm-mrsignerseam", hex(body.mr_signer_seam)},
      {"x-ms-tdxvm-mrconfigid", hex(body.mr_config_id)},
      {"x-ms-tdxvm-mrowner", hex(body.mr_owner)},
      {"x-ms-tdxvm-mrownerconfig", hex(body.mr_owner_config)},
      {"x-ms-tdxvm-td-attributes", u64hex(body.td_attributes)},
      {"x-ms-tdxvm-seam-attributes", u64hex(body.seam_attributes)},
      {"x-ms-tdxvm-xfam", u64hex(body.xfam)},
      {"x-ms-tdxvm-is-debuggable", body.debug()},
      {"x-ms-tdxvm-tee-tcb-svn", hex(body.tee_tcb_svn)},
      {"x-ms-tdxvm-reportdata", hex(body.report_data)},
      {"x-ms-tdxvm-tcb-status", tcb_status ? json(std::string(tee::tcb_status_name(*tcb_status))) : json(nullptr)},
      {"x-ms-tdxvm-advisory-ids", advisory_ids},
      {"x-ms-tdxvm-fmspc", fmspc},
      {"x-tl-compliance-detail", c.detail},
  };
  return j;
}

}  // namespace detail

Result<VerifiedCvmAttestation> verify_cvm_evidence(const CvmEvidence& ev, ByteView expected_nonce,
                                                   const CvmPolicy& policy) {
  auto hcl = tee::parse_hcl_report(ev.hcl_report);
  if (!hcl) return with_context("hcl_report", hcl.take_error());
  const bool snp = ev.type == CvmEvidenceType::az_snp_vtpm;
  if ((hcl->hardware == tee::HclHardware::snp) != snp)
    return fail(std::string("the HCL report carries a ") + (snp ? "TDREPORT" : "SEV-SNP report") + ", not the " +
                    (snp ? "SEV-SNP report" : "TDREPORT") + " " + std::string(cvm_evidence_type_name(ev.type)) +
                    " evidence needs",
                "hcl-hardware-mismatch");

  std::optional<tee::VerifiedSnpReport> snp_report;
  std::optional<tee::VerifiedTdxQuote> tdx_quote;
  if (snp) {
    // 1. The SEV-SNP report: VCEK signature, chain to AMD's root, TCB.
    if (ev.vcek.empty())
      return fail("az-snp-vtpm evidence without a VCEK certificate", "snp-vcek-missing");
    tee::SnpCertChain certs;
    certs.vcek = ev.vcek;
    tee::SnpVerifyOptions opt;
    opt.at = policy.at;
    auto v = policy.snp_verifier ? policy.snp_verifier->verify(hcl->hardware_report, certs, opt)
                                 : tee::verify_snp_report(hcl->hardware_report, certs, opt);
    if (!v) return with_context("SEV-SNP report", v.take_error());
    // 2. Only the HCL at VMPL 0 may speak for the vTPM: a report from a less
    // privileged VMPL (the guest OS) could carry any runtime data and AK.
    if (v->report().vmpl != 0)
      return fail("the SEV-SNP report was requested at VMPL " + std::to_string(v->report().vmpl) +
                      "; the HCL's report comes from VMPL 0",
                  "snp-vmpl-not-zero");
    // 3. REPORT_DATA binds the runtime data (and with it the AK).
    const auto& rd = v->report().report_data;
    if (auto c = tee::check_hcl_binding(*hcl, ByteView(rd.data(), rd.size())); !c.passed)
      return fail("SEV-SNP report data mismatch: " + c.detail, c.reason);
    snp_report.emplace(std::move(*v));
  } else {
    // 1. The TD quote: PCK chain to Intel's root, QE, signature, TCB (with collateral).
    if (ev.td_quote.empty()) return fail("az-tdx-vtpm evidence without a TD quote", "tdx-quote-missing");
    tee::TdxVerifyOptions opt;
    opt.at = policy.at;
    opt.collateral = policy.tdx_collateral;
    auto v = tee::verify_tdx_quote(ev.td_quote, opt);
    if (!v) return with_context("TD quote", v.take_error());
    // 2. REPORTDATA binds the runtime data.
    const auto& rd = v->body().report_data;
    if (auto c = tee::check_hcl_binding(*hcl, ByteView(rd.data(), rd.size())); !c.passed)
      return fail("TDX Quote report data mismatch: " + c.detail, c.reason);
    // 3. The HCL's TDREPORT is the quoted TD.
    auto td = tee::parse_td_report(hcl->hardware_report);
    if (!td) return with_context("hcl_report TDREPORT", td.take_error());
    if (auto st = check_td_report_matches(*td, v->body()); !st) return st.take_error();
    tdx_quote.emplace(std::move(*v));
  }

  // 4. Optional user-data checks (v2 SNP evidence carries the nonce there).
  if (snp && ev.version == 2) {
    if (auto c = tee::check_hcl_user_data(*hcl, expected_nonce); !c.passed)
      return fail("User-data in HCL variable data doesn't match report_data: " + c.detail, c.reason);
  }
  if (policy.expected_user_data) {
    if (auto c = tee::check_hcl_user_data(*hcl, *policy.expected_user_data); !c.passed)
      return fail("User-data in HCL variable data doesn't match the expected user data: " + c.detail, c.reason);
  }

  // 5. The vTPM quote under the AK the runtime data names: signature, nonce,
  // selection covering every supplied PCR, PCR digest.
  auto ak = hcl_ak(*hcl);
  if (!ak) return ak.take_error();
  const auto sha256 = ev.pcrs.find(crypto::HashAlg::sha256);
  if (sha256 == ev.pcrs.end() || sha256->second.empty())
    return fail("the evidence carries no SHA-256 PCR values", "evidence-malformed");
  const Bytes sig = quote_signature(ev, *hcl);
  auto quote = tpm::verify_quote(*ak, ev.quote_attest, sig, ev.pcrs, expected_nonce, {});
  if (!quote) return with_context("vTPM quote", quote.take_error());

  // 6. Claims.
  json tee_claims;
  detail::CvmCompliance compliance;
  if (snp) {
    compliance = detail::snp_compliance(snp_report->report(), policy);
    tee_claims = detail::snp_tee_claims(snp_report->report(), *hcl, compliance);
  } else {
    compliance = detail::tdx_compliance(tdx_quote->body(), tdx_quote->tcb_status(), policy);
    tee_claims = detail::tdx_tee_claims(tdx_quote->body(), tdx_quote->tcb_status(), tdx_quote->advisory_ids(),
                                        tdx_quote->fmspc(), *hcl, compliance);
  }
  json vtpm = vtpm_claims_of(*hcl, *quote);
  return detail::CvmVerifiedBuilder::make(ev.type, std::move(*hcl), std::move(*quote), std::move(snp_report),
                                          std::move(tdx_quote), compliance, std::move(tee_claims),
                                          std::move(vtpm));
}

}  // namespace tl::verify
